"""Safe file writes: one writer at a time, a temporary file beside the target, one rename.

Every output budgetlib writes (result workbooks, JSON, PDF) goes through :func:`atomic_path`:

* **serialised** — an exclusive ``flock`` on the target (or, for a new file, on its folder) is held
  for the whole write, so two ``--in-place`` runs on one workbook take turns instead of mixing;
* **atomic** — the bytes go to a temporary file in the same folder, are flushed to disk and then
  replace the target in one ``os.replace``: a crash, a kill or a full disk leaves either the old
  file or the new one, never half of one;
* **backed up** — with ``backup`` the previous file is first copied (again via a temporary file and
  a rename) to ``NAME.bak.EXT``;
* **tidy** — temporary files are named ``.~budgetlib.<pid>.<random>.<name>``; the ones a killed
  run left behind (their process no longer exists) are deleted by the next write in that folder;
* **the user's permissions** — a new file gets ``0666 & ~umask``, a replaced file keeps its mode;
* **located errors** — every failure is an :class:`OutputError` naming the file and what to do
  (locked by Excel, read-only, disk full, file-size limit, a folder in the way, another run busy);
  front ends show ``exc.message(lang)`` and exit with code 3.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..core.i18n import tr
from ..core.lang import Lang

__all__ = [
    "OutputError",
    "OutputLocked",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_bytes",
    "backup_path",
    "clean_leftovers",
    "check_target",
    "new_file_mode",
    "TEMP_PREFIX",
    "LOCK_TIMEOUT_S",
]

TEMP_PREFIX = ".~budgetlib."
"""Temporary files are ``.~budgetlib.<pid>.<random>.<target name>`` in the target's folder."""

LOCK_TIMEOUT_S = 300.0
"""How long a write waits for another budgetlib run holding the same file before giving up."""

_TEMP_RE = re.compile(r"^\.~budgetlib\.(\d+)\.[A-Za-z0-9_]+\.")


class OutputError(OSError):
    """A file could not be written. ``code`` is a catalogue code (``output.read_only``, …);
    :meth:`message` renders it, with the path, in the user's language. Nothing was changed on disk."""

    def __init__(self, code: str, path: str | Path, /, *, os_errno: int | None = None, **params: Any) -> None:
        self.code = code
        self.path = Path(path)
        self.params = {"path": str(path), **params}
        super().__init__(tr(code, Lang.EN, **self.params))
        self.errno = os_errno if os_errno is not None else _ERRNO.get(code)  # as the OSError it stands for
        self.filename = str(path)

    def message(self, lang: str | Lang = Lang.VI) -> str:
        return tr(self.code, lang, **self.params)

    @property
    def message_vi(self) -> str:
        return self.message(Lang.VI)

    @property
    def message_en(self) -> str:
        return self.message(Lang.EN)


_ERRNO = {
    "output.is_directory": errno.EISDIR,
    "output.read_only": errno.EACCES,
    "output.locked": errno.EBUSY,
    "output.busy": errno.EBUSY,
    "output.disk_full": errno.ENOSPC,
    "output.too_large": errno.EFBIG,
}

OutputLocked = OutputError
"""Former name, kept for callers that catch it: every write error is an :class:`OutputError`."""


def _classify(exc: OSError, path: Path) -> OutputError:
    """The OutputError for an OS error raised while writing ``path``."""
    if isinstance(exc, OutputError):
        return exc
    code = {
        errno.ENOSPC: "output.disk_full",
        errno.EDQUOT: "output.disk_full",
        errno.EFBIG: "output.too_large",
        errno.EROFS: "output.read_only",
        errno.EACCES: "output.read_only",
        errno.EPERM: "output.read_only",
        errno.EISDIR: "output.is_directory",
        errno.ENOTDIR: "output.not_a_folder",
        errno.ENAMETOOLONG: "output.bad_name",
        errno.EBUSY: "output.locked",
        errno.ETXTBSY: "output.locked",
    }.get(exc.errno or 0, "output.failed")
    return OutputError(code, path, os_errno=exc.errno, reason=exc.strerror or str(exc))


def new_file_mode() -> int:
    """``0666 & ~umask``: the mode the user's shell would give a new file."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def backup_path(path: str | Path) -> Path:
    """``kehoach.xlsx`` → ``kehoach.bak.xlsx`` (the user's last input bytes)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.bak{path.suffix}")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(folder: str | Path) -> list[Path]:
    """Delete the temporary files of budgetlib runs that no longer exist; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m and not _alive(int(m.group(1))):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def check_target(path: str | Path) -> None:
    """Raise :class:`OutputError` now if ``path`` obviously cannot be written (a folder, open in
    Excel, read-only); front ends call it before long work."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("output.is_directory", path)
    lock = path.with_name(f"~${path.name}")
    if lock.exists():
        raise OutputError("output.locked", path, owner=lock.name)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError("output.read_only", path, reason="read-only file")
    parent = path.parent
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError("output.read_only", path, reason="read-only folder")


_check_writable = check_target  # the name the add-in's file adapter imports


try:  # POSIX advisory locks; on Windows Excel's own lock file (~$NAME) is what we check
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]


@contextmanager
def _exclusive(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (or its folder when it does not exist yet).

    The target is replaced by a rename while we hold the lock, so a waiting run re-checks, once it
    gets the lock, that the file it locked is still the one at ``path``; if not, it locks the new one.
    """
    if _fcntl is None:  # pragma: no cover - Windows
        yield
        return
    deadline = time.monotonic() + timeout
    while True:
        target = path if path.exists() else path.parent
        try:
            fd = os.open(target, os.O_RDONLY)
        except FileNotFoundError:
            continue  # replaced between exists() and open(): look again
        except OSError as exc:
            raise _classify(exc, path) from None
        try:
            while True:
                try:
                    _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OutputError("output.busy", path, seconds=int(timeout)) from None
                    time.sleep(0.05)
            same = target == path.parent or (path.exists() and os.path.samestat(os.fstat(fd), os.stat(path)))
            if target == path.parent and path.exists():
                same = False  # the file appeared meanwhile: lock the file itself
            if same:
                try:
                    yield
                finally:
                    _fcntl.flock(fd, _fcntl.LOCK_UN)
                return
            _fcntl.flock(fd, _fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _fsync(fh: IO[Any]) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _temp_beside(path: Path) -> Path:
    token = os.urandom(6).hex()
    name = f"{TEMP_PREFIX}{os.getpid()}.{token}.{path.name}"
    if len(name.encode()) > 250:
        name = f"{TEMP_PREFIX}{os.getpid()}.{token}{path.suffix}"
    return path.with_name(name)


def _copy_atomic(src: Path, dst: Path) -> None:
    tmp = _temp_beside(dst)
    try:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            _fsync(fout)
        shutil.copymode(src, tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextmanager
def atomic_path(
    path: str | Path,
    *,
    backup: bool | Callable[[Path], bool] = False,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> Iterator[Path]:
    """Yield a temporary path to write; when the block ends without error it replaces ``path``.

    ``backup=True`` first copies an existing ``path`` to ``NAME.bak.EXT``; a callable decides (it
    gets ``path`` and is called under the lock, just before the copy). The lock on ``path`` is held
    from entry to exit, so whatever the block reads of ``path`` is what it replaces. Raises
    :class:`OutputError` for every write problem; ``path`` is then unchanged.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _classify(exc, path) from None
    check_target(path)
    with _exclusive(path, lock_timeout):
        clean_leftovers(path.parent)
        tmp = _temp_beside(path)
        try:
            try:
                tmp.touch(exist_ok=False)
            except OSError as exc:
                raise _classify(exc, path) from None
            mode = (path.stat().st_mode & 0o7777) if path.exists() else new_file_mode()
            try:
                yield tmp
                with open(tmp, "rb+") as fh:
                    _fsync(fh)
                os.chmod(tmp, mode)
                if path.exists() and (backup(path) if callable(backup) else backup):
                    _copy_atomic(path, backup_path(path))
                os.replace(tmp, path)
            except OSError as exc:
                raise _classify(exc, path) from None
        finally:
            if tmp.exists():
                tmp.unlink()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))

"""Atomic file writes: write a temporary file beside the target, then rename over it.

A crash or a locked target never leaves a half-written file, and the previous file is kept as a
backup when asked.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_write_text", "OutputLocked"]


class OutputLocked(OSError):
    """The output file is open in another program (Excel) or read-only."""

    def __init__(self, path: Path, reason: str):
        super().__init__(reason)
        self.path = path
        self.message_vi = (
            f"không ghi được {path}: tệp đang mở trong chương trình khác (Excel?) hoặc chỉ đọc. "
            "Hãy đóng tệp rồi chạy lại; dữ liệu của bạn không bị thay đổi."
        )
        self.message_en = (
            f"cannot write {path}: the file is open in another program (Excel?) or read-only. "
            "Close it and run again; your data was not changed."
        )


def _check_writable(path: Path) -> None:
    lock = path.with_name(f"~${path.name}")
    if lock.exists():
        raise OutputLocked(path, f"{path} is locked by Excel ({lock.name} exists)")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputLocked(path, f"{path} is read-only")


@contextmanager
def atomic_path(path: "str | Path", *, backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    With ``backup=True`` an existing file is first copied to ``NAME.bak.EXT``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_writable(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if backup and path.exists():
            shutil.copy2(path, path.with_name(f"{path.stem}.bak{path.suffix}"))
        try:
            os.replace(tmp, path)
        except PermissionError as exc:
            raise OutputLocked(path, str(exc)) from exc
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: "str | Path", text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")

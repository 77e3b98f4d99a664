"""Install the add-in where Excel loads add-ins at start-up (the user's XLSTART folder).

``xlwings addin install`` asks a running Excel for ``Application.StartupPath``; we compute the same
folder without starting Excel, so this also works from a plain terminal and in tests:

* Windows: ``%APPDATA%\\Microsoft\\Excel\\XLSTART``
* macOS: ``~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel``
  (plus xlwings' AppleScript helper in ``~/Library/Application Scripts/com.microsoft.Excel``, which
  RunPython needs on macOS, as ``xlwings runpython install`` does)
* Linux: Excel does not run there; we say so and where the built file is.

The add-in is always rebuilt for the Python running the install, so its ``budgetlib.conf`` sheet
points at that interpreter (override with ``interpreter=``); inside a conda environment on Windows
it also gets ``Conda Path``/``Conda Env`` (:func:`budgetlib.addin.build.conda_settings`).

Excel opens *every* file in XLSTART at start-up and keeps the add-in open (locked on Windows) while
it runs. So the add-in is built in a temporary folder outside XLSTART, copied next to XLSTART (its
parent folder, same disk) and renamed into place in one step; an add-in Excel holds open is refused
with a message before anything is copied, and no temporary file is ever left in XLSTART (leftovers
of older versions, ``.budgetlib.xlam.tmp``, are removed).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.i18n import LocalizedError, Msg
from .build import ADDIN_NAME, BuildResult, build_addin, conda_settings

__all__ = ["InstallResult", "startup_dir", "install_addin", "uninstall_addin", "NotSupported", "AddinLocked", "leftovers"]


class NotSupported(LocalizedError):
    """Excel add-ins cannot be installed on this OS (Linux); the message says what to do instead."""


class AddinLocked(LocalizedError):
    """The installed add-in is open in Excel (or read-only) and cannot be replaced or removed."""


@dataclass(frozen=True)
class InstallResult:
    path: Path
    build: BuildResult
    notes: tuple[Msg, ...] = ()
    removed_leftovers: tuple[Path, ...] = ()


def startup_dir(platform: str | None = None, *, home: Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The user's XLSTART folder for ``platform`` (default: this OS)."""
    platform = platform or sys.platform
    home = home or Path.home()
    env = os.environ if environ is None else environ
    if platform == "win32":
        appdata = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(appdata) / "Microsoft" / "Excel" / "XLSTART"
    if platform == "darwin":
        return (
            home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content.localized"
            / "Startup.localized" / "Excel"
        )
    raise NotSupported("addin.install.linux")


def leftovers(folder: Path) -> list[Path]:
    """Temporary files an install left in ``folder`` (older versions wrote ``.budgetlib.xlam.tmp``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.startswith(f".{ADDIN_NAME}") and p.name.endswith(".tmp"))


def _check_replaceable(path: Path) -> None:
    """:class:`AddinLocked` when Excel holds ``path`` open or it cannot be written."""
    owner = path.with_name(f"~${path.name}")
    if owner.exists():
        raise AddinLocked("addin.install.locked", path=str(path))
    if not path.exists():
        return
    try:
        # Excel keeps an open add-in with write sharing denied: on Windows this open fails.
        with open(path, "r+b"):
            pass
    except PermissionError:
        raise AddinLocked("addin.install.locked", path=str(path)) from None


def _put(built: Path, path: Path) -> None:
    """``built`` → ``path`` in one rename, staged next to (not inside) the target folder."""
    folder = path.parent
    stage_dir = folder.parent if os.access(folder.parent, os.W_OK) else None
    if stage_dir is None:
        # No writable parent (an unusual --dir): copy straight over; still never a temporary file here.
        try:
            shutil.copyfile(built, path)
        except PermissionError:
            raise AddinLocked("addin.install.locked", path=str(path)) from None
        return
    fd, stage_name = tempfile.mkstemp(prefix=".budgetlib-install-", suffix=".xlam", dir=stage_dir)
    os.close(fd)
    stage = Path(stage_name)
    try:
        shutil.copyfile(built, stage)
        try:
            os.replace(stage, path)
        except PermissionError:
            raise AddinLocked("addin.install.locked", path=str(path)) from None
        except OSError:
            # Another disk (EXDEV) or a filesystem without rename-over: copy, then the stage goes.
            shutil.copyfile(stage, path)
    finally:
        if stage.exists():
            stage.unlink()


def _mac_applescript(home: Path) -> Path | None:
    """Copy xlwings' AppleScript (what ``xlwings runpython install`` does); RunPython needs it on macOS."""
    import importlib.metadata

    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        return None
    version = importlib.metadata.version("xlwings")
    script = Path(spec.origin).parent / f"xlwings-{version}.applescript"
    if not script.is_file():
        return None
    dest = home / "Library" / "Application Scripts" / "com.microsoft.Excel"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(script, dest / script.name)
    return dest / script.name


def install_addin(
    *,
    target_dir: str | Path | None = None,
    interpreter: str | None = None,
    platform: str | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> InstallResult:
    """Build the add-in for ``interpreter`` (default: this Python) and put it in XLSTART.

    ``target_dir`` overrides the folder (e.g. a shared add-in folder); ``platform``, ``home`` and
    ``environ`` exist for tests. ``lang`` pins the ribbon's language (default: Excel's). Raises
    :class:`NotSupported` on Linux unless ``target_dir`` is given, :class:`AddinLocked` when the
    installed add-in is open in Excel.
    """
    platform = platform or sys.platform
    home = home or Path.home()
    env = os.environ if environ is None else environ
    folder = Path(target_dir) if target_dir is not None else startup_dir(platform, home=home, environ=env)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ADDIN_NAME
    removed = []
    for stale in leftovers(folder):
        try:
            stale.unlink()
            removed.append(stale)
        except OSError:
            pass
    _check_replaceable(path)
    python = interpreter or sys.executable
    conda = conda_settings(env) if platform == "win32" else None
    with tempfile.TemporaryDirectory(prefix="budgetlib-install-") as tmp:
        built_path = Path(tmp) / ADDIN_NAME
        if platform == "darwin":
            built = build_addin(built_path, interpreter_mac=python, lang=lang)
        elif platform == "win32":
            built = build_addin(built_path, interpreter_win=python, conda=conda, lang=lang)
        else:
            built = build_addin(built_path, interpreter=python, lang=lang)
        _put(built_path, path)
    built = BuildResult(path, built.xlwings_version, built.addin_version, built.config, built.sources)
    notes: list[Msg] = []
    if conda is not None:
        notes.append(Msg("addin.install.conda", path=conda[0], env=conda[1]))
    if platform == "darwin":
        script = _mac_applescript(home)
        if script is not None:
            notes.append(Msg("addin.install.applescript", path=str(script)))
        notes.append(Msg("addin.install.restart_mac"))
    else:
        notes.append(Msg("addin.install.restart"))
    return InstallResult(path, built, tuple(notes), tuple(removed))


def uninstall_addin(
    *, target_dir: str | Path | None = None, platform: str | None = None, home: Path | None = None
) -> Path | None:
    """Remove the installed add-in; returns its path, or None when it was not installed."""
    folder = Path(target_dir) if target_dir is not None else startup_dir(platform, home=home)
    path = folder / ADDIN_NAME
    for stale in leftovers(folder):
        stale.unlink(missing_ok=True)
    if not path.exists():
        return None
    _check_replaceable(path)
    try:
        path.unlink()
    except PermissionError:
        raise AddinLocked("addin.install.locked", path=str(path)) from None
    return path

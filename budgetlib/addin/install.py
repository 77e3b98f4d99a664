"""Install the add-in where Excel loads add-ins at start-up (the user's XLSTART folder).

``xlwings addin install`` asks a running Excel for ``Application.StartupPath``; we compute the same
folder without starting Excel, so this also works from a plain terminal and in tests:

* Windows: ``%APPDATA%\\Microsoft\\Excel\\XLSTART``
* macOS: ``~/Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel``
  (plus xlwings' AppleScript helper in ``~/Library/Application Scripts/com.microsoft.Excel``, which
  RunPython needs on macOS, as ``xlwings runpython install`` does)
* Linux: Excel does not run there; we say so and where the built file is.

The add-in is always rebuilt for the Python running the install, so its ``budgetlib.conf`` sheet
points at that interpreter (override with ``interpreter=``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .build import ADDIN_NAME, BuildResult, build_addin

__all__ = ["InstallResult", "startup_dir", "install_addin", "uninstall_addin", "NotSupported"]


class NotSupported(RuntimeError):
    """Excel add-ins cannot be installed on this OS (Linux); the message says what to do instead."""


@dataclass(frozen=True)
class InstallResult:
    path: Path
    build: BuildResult
    notes: tuple[str, ...] = ()


def startup_dir(platform: str | None = None, *, home: Path | None = None, environ: dict[str, str] | None = None) -> Path:
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
    raise NotSupported(
        "Excel không chạy trên Linux nên không cài add-in ở đây được. Hãy chạy `budgetlib addin build -o budgetlib.xlam`, "
        "chép tệp sang máy Windows/macOS có Python và budgetlib, rồi chạy `budgetlib addin install` trên máy đó "
        "(hoặc mở Excel > File > Options > Add-ins > Go… > Browse… và chọn tệp).\n"
        "Excel does not run on Linux, so there is nowhere to install the add-in. Build it with "
        "`budgetlib addin build -o budgetlib.xlam`, copy it to a Windows/macOS PC that has Python and budgetlib, and run "
        "`budgetlib addin install` there (or add it in Excel via File > Options > Add-ins > Go… > Browse…)."
    )


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
    target_dir: "str | Path | None" = None,
    interpreter: str | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> InstallResult:
    """Build the add-in for ``interpreter`` (default: this Python) straight into XLSTART.

    ``target_dir`` overrides the folder (e.g. a shared add-in folder); ``platform`` and ``home``
    exist for tests. Raises :class:`NotSupported` on Linux unless ``target_dir`` is given.
    """
    platform = platform or sys.platform
    home = home or Path.home()
    folder = Path(target_dir) if target_dir is not None else startup_dir(platform, home=home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ADDIN_NAME
    lock = folder / f"~${ADDIN_NAME}"
    if lock.exists():
        raise PermissionError(
            f"{path} đang mở trong Excel; hãy thoát Excel rồi chạy lại. / "
            f"{path} is open in Excel; quit Excel and run again."
        )
    if platform == "darwin":
        built = build_addin(path, interpreter_mac=interpreter or sys.executable)
    elif platform == "win32":
        built = build_addin(path, interpreter_win=interpreter or sys.executable)
    else:
        built = build_addin(path, interpreter=interpreter or sys.executable)
    notes: list[str] = []
    if platform == "darwin":
        script = _mac_applescript(home)
        if script is not None:
            notes.append(f"xlwings AppleScript: {script}")
        notes.append("Thoát hẳn Excel (Cmd-Q) rồi mở lại. / Quit Excel (Cmd-Q) and start it again.")
    else:
        notes.append("Khởi động lại Excel để thấy tab \"Ngân sách\". / Restart Excel to see the \"Ngân sách\" tab.")
    return InstallResult(path, built, tuple(notes))


def uninstall_addin(*, target_dir: "str | Path | None" = None, platform: str | None = None, home: Path | None = None) -> Path | None:
    """Remove the installed add-in; returns its path, or None when it was not installed."""
    folder = Path(target_dir) if target_dir is not None else startup_dir(platform, home=home)
    path = folder / ADDIN_NAME
    if not path.exists():
        return None
    path.unlink()
    return path

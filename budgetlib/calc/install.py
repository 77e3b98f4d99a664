"""Find LibreOffice, install the extension with ``unopkg`` (per user), remember which Python runs budgetlib.

``budgetlib lo install`` builds ``budgetlib.oxt`` into ``~/.budgetlib/``, runs
``unopkg add --force --suppress-license`` on it and writes the settings file
(:func:`~budgetlib.calc.paths.config_path`) with the Python that ran the command, so the extension
runs budgetlib with the same interpreter and packages. ``--shared`` installs for every user of the
machine (administrators); since the settings file is per user, a shared extension should be built
with ``--python`` (the interpreter is then written into the extension itself).

``unopkg`` refuses to install per user as root; so does this module, with a message saying what to
do instead. LibreOffice must be restarted to load a new or updated extension.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..core.i18n import LocalizedError
from .build import EXTENSION_NAME, IDENTIFIER, build_extension
from .paths import config_path, log_path, read_config, write_config

__all__ = ["Office", "InstallResult", "InstallError", "find_office", "unopkg_args", "install_extension", "uninstall_extension", "is_root"]


class InstallError(LocalizedError):
    """Installing or removing the extension failed; the message says why and what to do."""


@dataclass(frozen=True)
class Office:
    soffice: Path
    unopkg: Path | None
    program: Path


@dataclass(frozen=True)
class InstallResult:
    extension: Path
    unopkg: Path
    shared: bool
    config: Path | None
    python: str
    output: str


def is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return bool(geteuid and geteuid() == 0)


def _candidates() -> list[str]:
    found = [shutil.which(n) for n in ("soffice", "libreoffice")]
    out = [f for f in found if f]
    if sys.platform == "win32":
        for base in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)")):
            if base:
                out.append(os.path.join(base, "LibreOffice", "program", "soffice.exe"))
    elif sys.platform == "darwin":
        out.append("/Applications/LibreOffice.app/Contents/MacOS/soffice")
    else:
        out += ["/usr/lib/libreoffice/program/soffice", *sorted(glob.glob("/opt/libreoffice*/program/soffice"))]
    return out


def find_office(soffice: str | Path | None = None) -> Office | None:
    """LibreOffice's ``soffice`` and ``unopkg`` (``BUDGETLIB_SOFFICE`` or the usual places)."""
    names = [str(soffice)] if soffice else ([os.environ["BUDGETLIB_SOFFICE"]] if os.environ.get("BUDGETLIB_SOFFICE") else _candidates())
    for name in names:
        path = Path(name)
        if not path.is_file():
            continue
        real = path.resolve()
        program = real.parent
        if sys.platform == "win32":
            unopkg = next((program / n for n in ("unopkg.com", "unopkg.exe") if (program / n).is_file()), None)
        else:
            unopkg = program / "unopkg" if (program / "unopkg").is_file() else None
            if unopkg is None and shutil.which("unopkg"):
                unopkg = Path(str(shutil.which("unopkg")))
        return Office(path, unopkg, program)
    return None


def unopkg_args(
    unopkg: str | Path, action: str, *, target: str | Path | None = None, profile: str | Path | None = None, shared: bool = False
) -> list[str]:
    """The ``unopkg`` command line for ``add`` (``target`` = the .oxt), ``remove`` or ``list``.

    ``profile`` is a LibreOffice user profile folder (``-env:UserInstallation``), as tests and
    portable installations use; the default is the user's own profile."""
    args = [str(unopkg), action]
    if action == "add":
        if target is None:
            raise ValueError("unopkg add needs the extension file")
        args += ["--force", "--suppress-license", str(target)]
    elif action in ("remove", "list"):
        args.append(IDENTIFIER)
    else:
        raise ValueError(f"unknown unopkg action {action!r}")
    if shared:
        args.append("--shared")
    if profile is not None:
        args.append(f"-env:UserInstallation={Path(profile).resolve().as_uri()}")
    return args


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, check=False)


def _office(soffice: str | Path | None) -> Office:
    office = find_office(soffice)
    if office is None:
        raise InstallError("calc.install.no_office")
    if office.unopkg is None:
        raise InstallError("calc.install.no_unopkg", program=str(office.program))
    return office


def install_extension(
    *,
    python: str | None = None,
    profile: str | Path | None = None,
    shared: bool = False,
    soffice: str | Path | None = None,
    folder: str | Path | None = None,
) -> InstallResult:
    """Build the extension and install it with unopkg; record the Python for a per-user install."""
    if is_root() and not shared:
        raise InstallError("calc.install.root")
    office = _office(soffice)
    assert office.unopkg is not None
    chosen = python or sys.executable
    target = Path(folder) if folder else config_path().parent
    target.mkdir(parents=True, exist_ok=True)
    built = build_extension(target / EXTENSION_NAME, python=chosen if shared else None)
    proc = _run(unopkg_args(office.unopkg, "add", target=built.path, profile=profile, shared=shared))
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise InstallError("calc.install.unopkg_failed", status=proc.returncode, output=output or "-")
    config = None
    if not shared:
        values = read_config()
        values.update({"python": chosen, "budgetlib": __version__, "extension": str(built.path), "log": str(log_path())})
        config = write_config(values)
    return InstallResult(built.path, office.unopkg, shared, config, chosen, output)


def uninstall_extension(*, profile: str | Path | None = None, shared: bool = False, soffice: str | Path | None = None) -> str:
    """Remove the extension (unopkg remove); returns unopkg's output."""
    if is_root() and not shared:
        raise InstallError("calc.install.root")
    office = _office(soffice)
    assert office.unopkg is not None
    proc = _run(unopkg_args(office.unopkg, "remove", profile=profile, shared=shared))
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise InstallError("calc.install.unopkg_failed", status=proc.returncode, output=output or "-")
    return output

"""``budgetlib lo doctor``: what the extension will use on this machine, and what to fix.

Checks, in the order an officer's IT staff need them:

1. LibreOffice (``soffice``) and ``unopkg`` — found where, which version;
2. LibreOffice's Python — the one that runs the extension's own code (Debian/Ubuntu: the system
   ``python3`` with ``python3-uno``; Windows and macOS: the Python LibreOffice ships);
3. the Python that will run budgetlib — chosen by exactly the extension's rule (its own
   ``budgetlib_lo.bridge`` module is loaded from the extension sources to decide), and whether
   budgetlib answers there (``python -m budgetlib.calc.bridge --probe``), with its version;
4. whether the extension is installed for this user, and its version;
5. the settings file and the run log.

Every failed check comes with the fix. Nothing is changed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .._version import __version__
from ..core.i18n import tr
from .build import IDENTIFIER, source_dir
from .install import find_office, is_root, unopkg_args
from .paths import config_path, log_path, read_config

__all__ = ["Check", "diagnose", "extension_module", "office_python"]


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok`` is True, False (a problem; ``fix`` says what to do) or None
    (information only)."""

    key: str
    ok: bool | None
    detail: str
    fix: str = ""


def extension_module(name: str) -> ModuleType:
    """A module of the extension's own package (``budgetlib_lo.<name>``), loaded from its sources
    (only the stdlib-only ones: ``paths``, ``bridge``, ``runlog``, ``texts``)."""
    folder = source_dir() / "pythonpath" / "budgetlib_lo"
    package = sys.modules.get("budgetlib_lo")
    if package is None or Path(getattr(package, "__file__", "") or "").parent != folder:
        spec = importlib.util.spec_from_file_location("budgetlib_lo", folder / "__init__.py", submodule_search_locations=[str(folder)])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["budgetlib_lo"] = package
        spec.loader.exec_module(package)
        for sub in [k for k in sys.modules if k.startswith("budgetlib_lo.")]:
            del sys.modules[sub]
    return importlib.import_module(f"budgetlib_lo.{name}")


def _run(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str]:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, f"{type(exc).__name__}: {exc}"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def office_python(program: Path) -> tuple[str | None, str]:
    """``(python, version)`` LibreOffice runs extensions with, or ``(None, why not)``."""
    for name in ("python.exe", "python"):
        bundled = program / name
        if bundled.is_file():
            code, out = _run([str(bundled), "-c", "import sys, uno; print(sys.version.split()[0])"])
            return (str(bundled), out) if code == 0 else (None, out)
    if not (program / "pythonloader.py").is_file():
        return None, "pythonloader.py"
    system = "/usr/bin/python3"
    code, out = _run([system, "-c", "import sys, uno; print(sys.version.split()[0])"])
    return (system, out.splitlines()[-1] if out else "") if code == 0 else (None, out)


def _probe(argv: list[str], env: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
    code, out = _run([*argv, "-m", "budgetlib.calc.bridge", "--probe"], env=env)
    for line in out.splitlines():
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and "probe" in data:
                return data["probe"], ""
    last = [line for line in out.splitlines() if line.strip()]
    return None, (last[-1] if last else f"exit {code}")


def diagnose(*, lang: str = "vi", soffice: str | Path | None = None, profile: str | Path | None = None) -> list[Check]:
    def t(code: str, **params: Any) -> str:
        return tr(f"calc.doctor.{code}", lang, **params)

    checks: list[Check] = []
    office = find_office(soffice)
    if office is None:
        checks.append(Check("soffice", False, t("no_office"), t("fix_office")))
        program = None
    else:
        code, out = _run([str(office.soffice), "--version"])
        version = out.splitlines()[0] if code == 0 and out else "?"
        checks.append(Check("soffice", True, t("office", path=str(office.soffice), version=version)))
        if office.unopkg is None:
            checks.append(Check("unopkg", False, t("no_unopkg", program=str(office.program)), t("fix_office")))
        else:
            checks.append(Check("unopkg", True, t("unopkg", path=str(office.unopkg))))
        program = office.program
        python, detail = office_python(program)
        if python:
            checks.append(Check("office_python", True, t("office_python", path=python, version=detail)))
        else:
            checks.append(Check("office_python", False, t("no_office_python", detail=detail), t("fix_office_python")))

    bridge = extension_module("bridge")
    office_dirs = [str(program.parent), str(program)] if program is not None else []
    env = bridge.child_environment(os.environ, office_dirs)
    config = read_config()
    found = False
    for argv, origin, explicit in bridge.candidates(os.environ, config, None):
        resolved = bridge.resolve(argv, env)
        shown = " ".join(argv)
        if resolved is None:
            checks.append(Check("python", False if explicit else None, t("python_missing", python=shown, origin=str(origin))))
            if explicit:
                break
            continue
        info, why = _probe(resolved, env)
        if info is None:
            checks.append(Check("python", False if explicit else None, t("python_no_budgetlib", python=" ".join(resolved), origin=str(origin), detail=why)))
            if explicit:
                break
            continue
        same = info.get("budgetlib") == __version__
        checks.append(
            Check(
                "python",
                True,
                t("python", python=str(info.get("python")), origin=str(origin), version=str(info.get("python_version")), budgetlib=str(info.get("budgetlib"))),
            )
        )
        if not same:
            checks.append(Check("versions", False, t("version_differs", there=str(info.get("budgetlib")), here=__version__), t("fix_install")))
        found = True
        break
    if not found:
        checks.append(Check("python", False, t("no_python"), t("fix_python", config=str(config_path()))))

    if office is not None and office.unopkg is not None:
        checks.append(_installed(office.unopkg, profile, t))
    checks.append(Check("config", None, t("config", path=str(config_path()), python=str(config.get("python") or "—"))))
    checks.append(Check("log", None, t("log", path=str(log_path()))))
    return checks


def _installed(unopkg: Path, profile: str | Path | None, t: Any) -> Check:
    shared = is_root() and profile is None  # unopkg refuses per-user listing as root
    _, out = _run(unopkg_args(unopkg, "list", profile=profile, shared=shared), timeout=120)
    m = re.search(r"Identifier:\s*" + re.escape(IDENTIFIER) + r"\s*\n\s*Version:\s*(\S+)", out)
    if m is None:
        return Check("extension", False, t("not_installed"), t("fix_install"))
    version = m.group(1)
    if version != __version__:
        return Check("extension", False, t("installed_differs", version=version, here=__version__), t("fix_install"))
    return Check("extension", True, t("installed", version=version))

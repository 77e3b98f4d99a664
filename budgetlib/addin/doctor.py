"""``budgetlib addin doctor``: what the installed add-in will use, where each setting comes from, and
what to fix — the checks an officer's IT staff need when a button does nothing or fails.

The add-in's VBA is xlwings' own, so the setting it uses is the one xlwings' ``GetConfig`` finds
first, in this order (``xlwings_custom_addin.bas``): the active workbook's ``budgetlib.conf`` sheet,
the add-in's ``budgetlib.conf`` sheet, a ``budgetlib.conf`` file beside the active workbook, the
user's file (Windows ``%USERPROFILE%\\.budgetlib\\budgetlib.conf``, macOS
``~/Library/Containers/com.microsoft.Excel/Data/budgetlib.conf``), then the default. A key that is
present with an empty value still stops the search. :func:`diagnose` reads the same sources (the
active workbook only when one is named) and, unless told not to, runs the interpreter the add-in
will call — through ``conda activate`` when conda settings are in force, as xlwings does — to see
which budgetlib and xlwings it imports.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.i18n import Msg, tr
from ..core.lang import Lang
from .build import ADDIN_NAME, CONFIG_SHEET, PROJECT_NAME, RIBBON_MODULE
from .install import NotSupported, leftovers, startup_dir

__all__ = ["SUPPORTED_XLWINGS", "ConfigValue", "Finding", "Diagnosis", "diagnose", "render", "read_config_file", "xlwings_supported"]

SUPPORTED_XLWINGS = ((0, 37, 5), (0, 38, 0))
"""xlwings versions the add-in works with: ``>=0.37.5,<0.38`` (``Range.add_note`` and
``DataValidation`` are 0.37.5; the VBA module and the Python package must be the same version)."""

_PROBE = (
    "import json, sys, importlib.metadata as m\n"
    "out = {'python': sys.version.split()[0], 'executable': sys.executable}\n"
    "for name in ('budgetlib', 'xlwings'):\n"
    "    try:\n"
    "        out[name] = m.version(name)\n"
    "        __import__(name)\n"
    "    except Exception as exc:\n"
    "        out[name + '_error'] = f'{type(exc).__name__}: {exc}'\n"
    "print(json.dumps(out))\n"
)


@dataclass(frozen=True)
class ConfigValue:
    """One setting as xlwings will see it: its value and the source it comes from (a catalogue code)."""

    key: str
    value: str | bool | None
    source: str  # addin.doctor.source.*
    location: str = ""  # the file or workbook of that source


@dataclass(frozen=True)
class Finding:
    level: str  # "error" (a button will fail), "warn" (may bite), "info"
    msg: Msg


@dataclass
class Diagnosis:
    platform: str
    xlstart: Path | None
    addin: Path | None  # the installed add-in, when there is one
    addin_version: str | None = None
    addin_xlwings: str | None = None
    python: str = sys.executable
    xlwings_python: str = ""
    config: list[ConfigValue] = field(default_factory=list)
    interpreter: str = ""
    probe: dict[str, str] | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    def value(self, key: str) -> str | bool | None:
        return next((c.value for c in self.config if c.key == key), None)


def xlwings_supported(version: str) -> bool:
    parts = tuple(int(p) for p in re.findall(r"\d+", version)[:3])
    low, high = SUPPORTED_XLWINGS
    return low <= parts < high


def read_config_file(path: Path) -> dict[str, str]:
    """A ``budgetlib.conf`` file as xlwings' VBA reads it (``Input #``: ``"KEY","VALUE"`` per line),
    keys upper-cased; the first occurrence of a key wins, as in ``GetConfigFromFile``."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return out
    for row in csv.reader(text.splitlines()):
        if row and row[0].strip():
            out.setdefault(row[0].strip().upper(), row[1] if len(row) > 1 else "")
    return out


def _sheet_config(rows: list[list[Any]]) -> dict[str, str | bool]:
    """Rows of a ``budgetlib.conf`` sheet as ``GetConfigFromSheet`` reads them: A1 down to the first
    empty cell, keys upper-cased."""
    out: dict[str, str | bool] = {}
    for row in rows:
        key = row[0] if row else None
        if key in (None, ""):
            break
        value = row[1] if len(row) > 1 else None
        out.setdefault(str(key).upper(), "" if value is None else value)
    return out


def _addin_parts(path: Path) -> tuple[dict[str, str | bool], str | None, str | None]:
    """The add-in's config sheet, its ``ADDIN_VERSION`` and the version of its xlwings module."""
    from pyopenvba import ExcelFile
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(path, with_vba=False)
    try:
        rows = app.sheet(CONFIG_SHEET).rows()
    except Exception:
        rows = []
    with ExcelFile(path) as book:
        modules = book.vba_modules()
    version = re.search(r'ADDIN_VERSION As String = "([^"]*)"', modules.get(RIBBON_MODULE, ""))
    xlwings = re.search(r'XLWINGS_VERSION As String = "([^"]*)"', modules.get("xlwings", ""))
    return _sheet_config([list(r) for r in rows]), version and version.group(1), xlwings and xlwings.group(1)


def _workbook_config(path: Path) -> dict[str, str | bool]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:
        return {}
    try:
        if CONFIG_SHEET not in wb.sheetnames:
            return {}
        return _sheet_config([list(r) for r in wb[CONFIG_SHEET].iter_rows(values_only=True)])
    finally:
        wb.close()


def user_config_file(platform: str, home: Path, environ: Mapping[str, str]) -> Path:
    """The user's ``budgetlib.conf`` as xlwings' ``GetConfigFilePath`` computes it."""
    if platform == "darwin":
        return home / "Library" / "Containers" / "com.microsoft.Excel" / "Data" / f"{PROJECT_NAME}.conf"
    profile = environ.get("USERPROFILE") or str(home)
    return Path(profile) / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"


def _expand(value: str | bool | None, environ: Mapping[str, str]) -> str | bool | None:
    """``ExpandEnvironmentStrings``: ``%VAR%`` replaced (Windows semantics; unknown names stay)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"%([^%]+)%", lambda m: environ.get(m.group(1), m.group(0)), value)


def _keys(platform: str) -> list[tuple[str, str | bool]]:
    interp = "INTERPRETER_MAC" if platform == "darwin" else "INTERPRETER_WIN"
    keys: list[tuple[str, str | bool]] = [(interp, ""), ("INTERPRETER", "python")]
    if platform != "darwin":
        keys += [("CONDA PATH", ""), ("CONDA ENV", "")]
    keys += [("PYTHONPATH", ""), ("ADD_WORKBOOK_TO_PYTHONPATH", "true"), ("USE UDF SERVER", False),
             ("SHOW CONSOLE", False), ("BUDGETLIB LANG", "")]
    return keys


def _probe(interpreter: str, conda: tuple[str, str] | None, platform: str) -> dict[str, str]:
    if conda is not None and platform == "win32":
        command: list[str] | str = (
            f'"{conda[0]}\\condabin\\conda.bat" activate {conda[1]} && "{interpreter}" -c "{_PROBE_ONELINE}"'
        )
    else:
        command = [interpreter, "-c", _PROBE]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, shell=isinstance(command, str), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    line = next((ln for ln in reversed(done.stdout.splitlines()) if ln.startswith("{")), "")
    if done.returncode != 0 or not line:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    return {k: str(v) for k, v in json.loads(line).items()}


_PROBE_ONELINE = "; ".join(
    [
        "import json, sys, importlib.metadata as m",
        "print(json.dumps({'python': sys.version.split()[0], 'executable': sys.executable, "
        "'budgetlib': m.version('budgetlib'), 'xlwings': m.version('xlwings')}))",
    ]
)


def _zone_identifier(path: Path) -> bool:
    """The file carries Windows' Mark of the Web (an alternate data stream ``Zone.Identifier``)."""
    try:
        with open(f"{path}:Zone.Identifier", "rb"):
            return True
    except OSError:
        return False


def diagnose(
    *,
    platform: str | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    target_dir: Path | None = None,
    workbook: Path | None = None,
    probe: bool = True,
) -> Diagnosis:
    """Everything ``budgetlib addin doctor`` prints, as data."""
    platform = platform or sys.platform
    home = home or Path.home()
    env = os.environ if environ is None else environ
    findings: list[Finding] = []
    try:
        xlstart: Path | None = Path(target_dir) if target_dir is not None else startup_dir(platform, home=home, environ=env)
    except NotSupported:
        xlstart = None
        findings.append(Finding("info", Msg("addin.doctor.linux")))
    xlwings_py = importlib.metadata.version("xlwings")
    d = Diagnosis(platform, xlstart, None, xlwings_python=xlwings_py)
    if not xlwings_supported(xlwings_py):
        findings.append(Finding("error", Msg("addin.doctor.xlwings_unsupported", version=xlwings_py, supported=">=0.37.5,<0.38")))

    addin_sheet: dict[str, str | bool] = {}
    if xlstart is not None:
        path = xlstart / ADDIN_NAME
        for stale in leftovers(xlstart):
            findings.append(Finding("error", Msg("addin.doctor.leftover", path=str(stale))))
        if not path.is_file():
            findings.append(Finding("error", Msg("addin.doctor.not_installed", path=str(path))))
        else:
            d.addin = path
            try:
                addin_sheet, d.addin_version, d.addin_xlwings = _addin_parts(path)
            except Exception as exc:
                findings.append(Finding("error", Msg("addin.doctor.unreadable", path=str(path), error=f"{type(exc).__name__}: {exc}")))
            if (path.parent / f"~${path.name}").exists():
                findings.append(Finding("warn", Msg("addin.doctor.open_in_excel", path=str(path))))
            if platform == "win32" and _zone_identifier(path):
                findings.append(Finding("error", Msg("addin.doctor.mark_of_the_web", path=str(path))))
            if d.addin_version and d.addin_version != __version__:
                findings.append(Finding("error", Msg("addin.doctor.addin_version", addin=d.addin_version, package=__version__)))
            if d.addin_xlwings and d.addin_xlwings != xlwings_py:
                findings.append(Finding("error", Msg("addin.doctor.xlwings_version", vba=d.addin_xlwings, python=xlwings_py)))
        if platform == "darwin":
            script = home / "Library" / "Application Scripts" / "com.microsoft.Excel" / f"xlwings-{xlwings_py}.applescript"
            if not script.is_file():
                findings.append(Finding("error", Msg("addin.doctor.applescript", path=str(script))))

    # The config sources, in xlwings' order.
    sources: list[tuple[str, str, Mapping[str, str | bool]]] = []
    if workbook is not None:
        sources.append(("addin.doctor.source.workbook_sheet", str(workbook), _workbook_config(workbook)))
        if any(str(name).endswith(".py") for name in _sheet_names(workbook)):
            findings.append(Finding("error", Msg("addin.doctor.py_sheet", workbook=str(workbook))))
    if d.addin is not None:
        sources.append(("addin.doctor.source.addin_sheet", str(d.addin), addin_sheet))
    if workbook is not None:
        beside = workbook.parent / f"{PROJECT_NAME}.conf"
        sources.append(("addin.doctor.source.directory_file", str(beside), read_config_file(beside)))
    user_file = user_config_file(platform, home, env)
    sources.append(("addin.doctor.source.user_file", str(user_file), read_config_file(user_file)))
    for key, default in _keys(platform):
        found = next(((code, where, values[key]) for code, where, values in sources if key in values), None)
        if found is None:
            d.config.append(ConfigValue(key, default, "addin.doctor.source.default"))
        else:
            d.config.append(ConfigValue(key, _expand(found[2], env), found[0], found[1]))

    interp_key = "INTERPRETER_MAC" if platform == "darwin" else "INTERPRETER_WIN"
    interpreter = d.value(interp_key) or d.value("INTERPRETER") or "python"
    d.interpreter = str(interpreter)
    conda_path, conda_env = str(d.value("CONDA PATH") or ""), str(d.value("CONDA ENV") or "")
    conda = (conda_path, conda_env) if conda_path and conda_env else None
    if bool(conda_path) != bool(conda_env):
        findings.append(Finding("warn", Msg("addin.doctor.conda_half")))
    if conda is not None and platform == "win32" and not Path(conda_path, "condabin", "conda.bat").is_file():
        findings.append(Finding("error", Msg("addin.doctor.conda_missing", path=str(Path(conda_path, "condabin", "conda.bat")))))
    if str(d.value("ADD_WORKBOOK_TO_PYTHONPATH")).lower() == "true":
        findings.append(Finding("warn", Msg("addin.doctor.workbook_on_path")))
    if d.interpreter not in ("python", "pythonw") and not Path(d.interpreter).is_file():
        findings.append(Finding("error", Msg("addin.doctor.interpreter_missing", path=d.interpreter)))
    elif probe and platform == sys.platform:
        d.probe = _probe(d.interpreter, conda, platform)
        if "error" in d.probe:
            findings.append(Finding("error", Msg("addin.doctor.interpreter_failed", path=d.interpreter, error=d.probe["error"])))
        else:
            if "budgetlib_error" in d.probe or "budgetlib" not in d.probe:
                findings.append(Finding("error", Msg("addin.doctor.no_budgetlib", path=d.interpreter, error=d.probe.get("budgetlib_error", ""))))
            elif d.addin_version and d.probe["budgetlib"] != d.addin_version:
                findings.append(Finding("error", Msg("addin.doctor.interpreter_budgetlib", path=d.interpreter, found=d.probe["budgetlib"], addin=d.addin_version)))
            if "xlwings_error" in d.probe or "xlwings" not in d.probe:
                findings.append(Finding("error", Msg("addin.doctor.no_xlwings", path=d.interpreter, error=d.probe.get("xlwings_error", ""))))
            elif d.addin_xlwings and d.probe["xlwings"] != d.addin_xlwings:
                findings.append(Finding("error", Msg("addin.doctor.xlwings_version", vba=d.addin_xlwings, python=d.probe["xlwings"])))
    d.findings = findings
    return d


def _sheet_names(path: Path) -> list[str]:
    try:
        from ..io.workbook import OpenpyxlBook

        book = OpenpyxlBook(path, read_only=True)
        try:
            return book.sheet_names()
        finally:
            book.close()
    except Exception:
        return []


def render(d: Diagnosis, lang: str | Lang) -> str:
    """The report, in ``lang``."""
    def t(code: str, **params: Any) -> str:
        return tr(code, lang, **params)

    unknown = t("addin.doctor.unknown")
    lines = [t("addin.doctor.title")]
    lines.append(t("addin.doctor.platform", platform=d.platform))
    lines.append(t("addin.doctor.xlstart", path=str(d.xlstart) if d.xlstart else unknown))
    if d.addin is not None:
        lines.append(t("addin.doctor.addin", path=str(d.addin), version=d.addin_version or unknown, xlwings=d.addin_xlwings or unknown))
    else:
        lines.append(t("addin.doctor.addin_none"))
    lines.append(t("addin.doctor.package", version=__version__, python=d.python))
    lines.append(t("addin.doctor.xlwings", version=d.xlwings_python, supported=">=0.37.5,<0.38"))
    if d.probe and "error" not in d.probe:
        lines.append(t("addin.doctor.interpreter", path=d.interpreter, budgetlib=d.probe.get("budgetlib", unknown),
                       xlwings=d.probe.get("xlwings", unknown), python=d.probe.get("python", unknown)))
    else:
        lines.append(t("addin.doctor.interpreter_unprobed", path=d.interpreter))
    lines += ["", t("addin.doctor.config_title")]
    for c in d.config:
        value = t("addin.doctor.unset") if c.value in (None, "") else str(c.value)
        where = t(c.source) + (f" ({c.location})" if c.location else "")
        lines.append(t("addin.doctor.config_row", key=c.key, value=value, source=where))
    lines.append("")
    problems = [f for f in d.findings if f.level in ("error", "warn")]
    if problems:
        lines.append(t("addin.doctor.fix_title"))
        for f in d.findings:
            mark = {"error": "✗", "warn": "!", "info": "·"}[f.level]
            lines.append(f"  {mark} {f.msg.render(lang)}")
    else:
        for f in d.findings:
            lines.append(f"  · {f.msg.render(lang)}")
        lines.append(t("addin.doctor.all_good"))
    return "\n".join(lines)

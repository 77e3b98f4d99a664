"""Build ``budgetlib.xlam`` from text sources, on any OS, without Excel.

The base is the installed xlwings' own custom-add-in template (``quickstart_addin_ribbon.xlam``, what
``xlwings quickstart NAME --addin --ribbon`` copies), so the xlwings VBA module inside the add-in is
always the same version as the xlwings Python package that answers its ``RunPython`` calls. On top
of it the build

1. replaces the template's ribbon with the one generated from the button table
   (:func:`budgetlib.addin.ribbon.customui_xml`; every text through ``getLabel`` callbacks);
2. renames the template's ribbon module to ``BudgetlibRibbon`` and writes ``BudgetlibRibbon.bas``
   into it with pyOpenVBA, stamping ``ADDIN_VERSION`` with this package's version, and adds the
   generated ``BudgetlibText`` module (the ribbon's texts in Vietnamese and English);
3. sets the xlwings module's ``PROJECT_NAME`` to ``budgetlib`` and turns the template's inactive
   ``_myaddin.conf`` sheet into the active ``budgetlib.conf`` sheet. It holds only the settings
   that have a value (:func:`config_rows`): xlwings stops at the first config source that has a
   key, so an empty key here would hide the user's ``%USERPROFILE%\\.budgetlib\\budgetlib.conf``;
   ``ADD_WORKBOOK_TO_PYTHONPATH`` is pinned to ``False`` so a file named ``budgetlib.py`` next to a
   downloaded workbook is never imported in place of the package;
4. rewrites the zip with fixed timestamps, so the same sources and options give the same bytes,
   and refuses to write a file that pyOpenVBA's integrity check rejects.

The VBA project keeps the template's name, ``MyAddin``: pyOpenVBA 6.5 renames modules but offers
no verified way to rename an Excel VBA project (its project rename is for Access databases), and
editing the ``PROJECTNAME`` record by hand could leave the compiled-code cache inconsistent in a
way no tool here can check. The name shows only in the VBA editor; nothing refers to it.

The sources are read from ``excel/`` in a source checkout, else from the copies shipped in
``budgetlib/addin/resources/`` (refreshed by every build from a checkout, together with the
generated ``customUI.xml``, so the packaged copies never drift).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from .._version import __version__
from ..core.i18n import LocalizedError
from ..io.reproducible import FIXED_ZIP_TIME as _ZIP_TIME
from ..io.reproducible import repack_zip
from .ribbon import RIBBON_MODULE, TEXT_MODULE, customui_xml, text_module

__all__ = [
    "ADDIN_NAME",
    "PROJECT_NAME",
    "RIBBON_MODULE",
    "CONFIG_SHEET",
    "BuildResult",
    "build_addin",
    "config_rows",
    "default_output",
    "source_dir",
    "xlwings_template",
    "ribbon_callbacks",
    "vba_procedures",
    "default_interpreters",
    "conda_settings",
]

ADDIN_NAME = "budgetlib.xlam"
PROJECT_NAME = "budgetlib"  # xlwings reads its settings from the "<PROJECT_NAME>.conf" sheet and file
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
RIBBON_SOURCE = "customUI.xml"
VBA_SOURCE = f"{RIBBON_MODULE}.bas"
LANG_KEY = "BUDGETLIB LANG"

_TEMPLATE_RIBBON_MODULE = "RibbonMyAddin"
_TEMPLATE_CONF_SHEET = "_myaddin.conf"
_TEMPLATE_SHEET_PART = "xl/worksheets/sheet1.xml"

_HERE = Path(__file__).resolve().parent
RESOURCES = _HERE / "resources"


@dataclass(frozen=True)
class BuildResult:
    path: Path
    xlwings_version: str
    addin_version: str
    config: dict[str, str | bool] = field(default_factory=dict)
    sources: Path | None = None


def source_dir() -> Path:
    """``excel/`` of the source checkout if there is one, else the packaged copies."""
    checkout = _HERE.parent.parent / "excel"
    if (checkout / VBA_SOURCE).is_file():
        return checkout
    return RESOURCES


def default_output() -> Path:
    return RESOURCES / ADDIN_NAME


def xlwings_template() -> tuple[Path, str]:
    """Path of the installed xlwings' ribbon add-in template, and the xlwings version (no import)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise LocalizedError("addin.build.no_xlwings")
    template = Path(spec.origin).parent / "quickstart_addin_ribbon.xlam"
    if not template.is_file():
        raise LocalizedError("addin.build.no_template", path=str(template))
    return template, importlib.metadata.version("xlwings")


def default_interpreters(interpreter: str | None = None) -> dict[str, str]:
    """``Interpreter_Win``/``Interpreter_Mac`` for the config sheet.

    ``interpreter`` (default: the Python running this) goes to the key of the OS we run on; on Linux,
    where Excel does not run, both stay empty unless given (xlwings then calls ``python`` on PATH).
    """
    chosen = interpreter or (sys.executable if sys.platform in ("win32", "darwin") else "")
    out = {"Interpreter_Win": "", "Interpreter_Mac": ""}
    if sys.platform == "darwin":
        out["Interpreter_Mac"] = chosen
    elif sys.platform == "win32":
        out["Interpreter_Win"] = chosen
    elif interpreter:
        out["Interpreter_Win"] = out["Interpreter_Mac"] = interpreter
    return out


def conda_settings(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """``(Conda Path, Conda Env)`` of the conda environment this runs in, or None outside conda.

    As ``xlwings config create`` does: the base installation is ``CONDA_EXE`` without its trailing
    ``Scripts\\conda.exe`` (``bin/conda``), the environment is ``CONDA_DEFAULT_ENV``; failing those,
    both are derived from ``CONDA_PREFIX`` (``…\\envs\\NAME`` → base ``…``, env ``NAME``). xlwings'
    Windows VBA then runs ``<Conda Path>\\condabin\\conda activate <Conda Env>`` before Python, which
    puts the environment's DLLs on PATH (a conda Python started directly cannot load them).
    """
    env = os.environ if environ is None else environ
    prefix = env.get("CONDA_PREFIX", "")
    name = env.get("CONDA_DEFAULT_ENV", "")
    exe = env.get("CONDA_EXE", "")
    if not (prefix or (name and exe)):
        return None
    sep = "\\" if "\\" in (exe or prefix) else "/"
    if exe and exe.count(sep) >= 2:
        base = sep.join(exe.split(sep)[:-2])
    elif prefix:
        parts = prefix.rstrip(sep).split(sep)
        base = sep.join(parts[:-2]) if len(parts) > 2 and parts[-2].lower() == "envs" else prefix
    else:
        return None
    if not name:
        parts = prefix.rstrip(sep).split(sep)
        name = parts[-1] if len(parts) > 2 and parts[-2].lower() == "envs" else "base"
    return base, name


def config_rows(config: Mapping[str, str | bool | None]) -> list[tuple[str, str | bool]]:
    """The rows of the ``budgetlib.conf`` sheet: the keys that have a value, in a fixed order, and
    ``ADD_WORKBOOK_TO_PYTHONPATH`` = False.

    xlwings' ``GetConfigFromSheet`` reads column A from A1 down to the first empty cell, and its
    ``GetConfig`` stops at the first source that has a key (even with an empty value): so only
    keys with a value are written, one after the other."""
    order = ("Interpreter_Win", "Interpreter_Mac", "Conda Path", "Conda Env", "PYTHONPATH", LANG_KEY)
    unknown = set(config) - set(order) - {"ADD_WORKBOOK_TO_PYTHONPATH"}
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}")
    rows: list[tuple[str, str | bool]] = []
    for key in order:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            rows.append((key, value.strip()))
    rows.append(("ADD_WORKBOOK_TO_PYTHONPATH", False))
    return rows


def ribbon_callbacks(ribbon_xml: bytes | str) -> dict[str, str]:
    """``{control id: onAction}`` for every control of a ribbon XML that has an ``onAction``."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(ribbon_xml)
    return {el.get("id", ""): el.get("onAction", "") for el in root.iter() if el.get("onAction")}


def ribbon_text_callbacks(ribbon_xml: bytes | str) -> dict[str, list[str]]:
    """``{control id: [getLabel/getScreentip/getSupertip procedures]}`` of a ribbon XML."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(ribbon_xml)
    out: dict[str, list[str]] = {}
    for el in root.iter():
        names = [el.get(a, "") for a in ("getLabel", "getScreentip", "getSupertip") if el.get(a)]
        if names:
            out[el.get("id", "")] = names
    return out


def _config_parts(template_sheet: str, rows: list[tuple[str, str | bool]]) -> tuple[bytes, bytes]:
    """New sheet1.xml and sharedStrings.xml holding ``rows`` in A:B (the template's styles kept)."""
    strings: list[str] = []

    def sidx(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    cells = []
    for r, (key, value) in enumerate(rows, start=1):
        row = [f'<c r="A{r}" s="1" t="s"><v>{sidx(key)}</v></c>']
        if isinstance(value, bool):
            row.append(f'<c r="B{r}" s="1" t="b"><v>{int(value)}</v></c>')
        elif value:
            row.append(f'<c r="B{r}" s="1" t="s"><v>{sidx(value)}</v></c>')
        cells.append(f'<row r="{r}" spans="1:2">{"".join(row)}</row>')
    sheet = re.sub(r"<sheetData>.*</sheetData>", lambda _: f"<sheetData>{''.join(cells)}</sheetData>", template_sheet, flags=re.S)
    sheet = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:B{len(rows)}"', sheet)
    sheet = re.sub(r'width="14.75"', 'width="30"', sheet, count=1)  # column A shows whole key names
    sheet = re.sub(r'width="9.25"', 'width="60"', sheet, count=1)  # column B shows whole interpreter paths
    sst = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
        + "</sst>"
    )
    return sheet.encode("utf-8"), sst.encode("utf-8")


def _workbook_xml(text: str) -> bytes:
    if f'name="{_TEMPLATE_CONF_SHEET}"' not in text:
        raise RuntimeError(f"xlwings template changed: no {_TEMPLATE_CONF_SHEET} sheet in xl/workbook.xml")
    text = text.replace(f'name="{_TEMPLATE_CONF_SHEET}"', f'name="{CONFIG_SHEET}"')
    # The template remembers the folder it was saved from on its author's PC; not ours to ship.
    text = re.sub(r"<mc:AlternateContent\b.*?</mc:AlternateContent>", "", text, flags=re.S)
    return text.encode("utf-8")


def _core_xml(text: str) -> bytes:
    text = re.sub(r"<dc:title\s*/>|<dc:title>.*?</dc:title>", "<dc:title>budgetlib - Ngân sách</dc:title>", text)
    text = re.sub(r"<dc:creator>.*?</dc:creator>", "<dc:creator>budgetlib</dc:creator>", text)
    text = re.sub(r"<cp:lastModifiedBy>.*?</cp:lastModifiedBy>", "<cp:lastModifiedBy>budgetlib</cp:lastModifiedBy>", text)
    return text.encode("utf-8")


def _vba_text(text: str) -> str:
    """CRLF line endings, as the VBE stores source; VBA source must be ASCII here (code page 1252)."""
    text.encode("ascii")  # raises UnicodeEncodeError naming the offending character
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _stamp_version(bas: str, version: str) -> str:
    stamped, n = re.subn(
        r'(Public Const ADDIN_VERSION As String = )"[^"]*"', lambda m: f'{m.group(1)}"{version}"', bas
    )
    if n != 1:
        raise RuntimeError(f"{VBA_SOURCE} must declare Public Const ADDIN_VERSION As String exactly once")
    return stamped


def _set_project_name(xlwings_bas: str) -> str:
    out, n = re.subn(r'(Public Const PROJECT_NAME As String = )"[^"]*"', lambda m: f'{m.group(1)}"{PROJECT_NAME}"', xlwings_bas)
    if n != 1:
        raise RuntimeError("xlwings template changed: no PROJECT_NAME constant in its xlwings module")
    return out


def _repack(raw: bytes) -> bytes:
    return repack_zip(raw, fix_core_dates=False)


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_file() or path.read_bytes() != data:
        path.write_bytes(data)


def build_addin(
    output: str | Path | None = None,
    *,
    interpreter: str | None = None,
    interpreter_win: str | None = None,
    interpreter_mac: str | None = None,
    conda: tuple[str, str] | None = None,
    pythonpath: str | None = None,
    lang: str | None = None,
    sources: str | Path | None = None,
) -> BuildResult:
    """Build the add-in at ``output`` (default ``budgetlib/addin/resources/budgetlib.xlam``).

    ``interpreter`` is the Python the add-in will call (default: this one, for the OS we run on);
    ``interpreter_win``/``interpreter_mac`` set one OS's entry explicitly; ``conda`` is
    ``(Conda Path, Conda Env)`` (Windows; see :func:`conda_settings`); ``lang`` pins the ribbon's
    language (``"vi"``/``"en"``; default: Excel's, see :mod:`budgetlib.addin.ribbon`). Settings
    left unset are not written, so the user's ``budgetlib.conf`` file can provide them.
    """
    from pyopenvba import ExcelFile, check_file

    from ..core.lang import as_lang

    src = Path(sources) if sources is not None else source_dir()
    out = Path(output) if output is not None else default_output()
    template, xlwings_version = xlwings_template()

    ribbon = customui_xml().encode("utf-8")
    callbacks = ribbon_callbacks(ribbon)  # also proves the XML is well formed before anything is written
    bas = _vba_text(_stamp_version((src / VBA_SOURCE).read_text(encoding="utf-8"), __version__))
    texts = _vba_text(text_module())
    config: dict[str, str | bool] = dict(default_interpreters(interpreter))
    if interpreter_win is not None:
        config["Interpreter_Win"] = interpreter_win
    if interpreter_mac is not None:
        config["Interpreter_Mac"] = interpreter_mac
    if conda is not None:
        config["Conda Path"], config["Conda Env"] = conda
    if pythonpath:
        config["PYTHONPATH"] = pythonpath
    if lang:
        config[LANG_KEY] = as_lang(lang).value
    rows = config_rows({k: v for k, v in config.items() if isinstance(v, str)})

    with zipfile.ZipFile(template) as z:
        parts = {info.filename: z.read(info.filename) for info in z.infolist()}
    parts["customUI/customUI.xml"] = ribbon
    parts["xl/workbook.xml"] = _workbook_xml(parts["xl/workbook.xml"].decode("utf-8"))
    parts["docProps/core.xml"] = _core_xml(parts["docProps/core.xml"].decode("utf-8"))
    parts[_TEMPLATE_SHEET_PART], parts["xl/sharedStrings.xml"] = _config_parts(
        parts[_TEMPLATE_SHEET_PART].decode("utf-8"), rows
    )

    with tempfile.TemporaryDirectory(prefix="budgetlib-addin-") as tmp:
        stage, saved = Path(tmp) / "stage.xlam", Path(tmp) / "saved.xlam"
        with zipfile.ZipFile(stage, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
        with ExcelFile(stage) as book:
            project = book.vba_project()
            project.rename_module(_TEMPLATE_RIBBON_MODULE, RIBBON_MODULE)
            book.set_module(RIBBON_MODULE, bas)
            project.add_module(TEXT_MODULE, texts)
            book.set_module("xlwings", _set_project_name(book.get_module("xlwings")))
            book.save(saved)
        with ExcelFile(saved) as book:
            problems = book.validate()
        if problems:
            raise RuntimeError("pyOpenVBA found an inconsistent VBA project: " + "; ".join(problems))
        saved.write_bytes(_repack(saved.read_bytes()))
        report = check_file(saved)
        if not report.ok:
            raise RuntimeError(f"the built add-in fails pyOpenVBA's integrity check: {report.issues}")
        missing = _missing_procedures(saved, {**callbacks, **_flat(ribbon_text_callbacks(ribbon))})
        if missing:
            raise RuntimeError(f"ribbon callbacks name procedures that do not exist: {missing}")
        out.parent.mkdir(parents=True, exist_ok=True)
        # The finished file goes next to the output under a temporary name and is renamed over it, so
        # a reader never sees half a file; the temporary name never outlives this call.
        tmp_out = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(saved, tmp_out)
            os.replace(tmp_out, out)
        finally:
            if tmp_out.exists():
                tmp_out.unlink()

    if src.resolve() != RESOURCES.resolve() and out.resolve().parent == RESOURCES.resolve():
        # Ship the sources with the package, so an installed (non-checkout) budgetlib can rebuild,
        # and keep the readable copy of the generated ribbon in excel/ current.
        for name in (VBA_SOURCE, "HUONG_DAN.md"):
            if (src / name).is_file():
                _write_if_changed(RESOURCES / name, (src / name).read_bytes())
        _write_if_changed(RESOURCES / RIBBON_SOURCE, ribbon)
        _write_if_changed(src / RIBBON_SOURCE, ribbon)
    return BuildResult(out, xlwings_version, __version__, dict(rows), src)


def _flat(callbacks: dict[str, list[str]]) -> dict[str, str]:
    return {f"{cid}#{i}": name for cid, names in callbacks.items() for i, name in enumerate(names)}


def vba_procedures(path: str | Path) -> set[str]:
    """``Module.Procedure`` names (Sub/Function, any case as written) of a workbook's VBA project."""
    from pyopenvba import ExcelFile

    names: set[str] = set()
    # Private procedures cannot be ribbon callbacks, so they are left out.
    pattern = re.compile(r"^[ \t]*(?:Public\s+)?(?:Static\s+)?(?:Sub|Function)\s+(\w+)", re.I | re.M)
    with ExcelFile(path) as book:
        for module, source in book.vba_modules().items():
            names.update(f"{module}.{proc}" for proc in pattern.findall(source))
    return names


def _missing_procedures(path: Path, callbacks: dict[str, str]) -> dict[str, str]:
    procs = {p.casefold() for p in vba_procedures(path)}
    unqualified = {p.split(".", 1)[1] for p in procs}
    return {
        cid: action
        for cid, action in callbacks.items()
        if action.casefold() not in procs and action.casefold() not in unqualified
    }

"""The add-in file: built from text sources on top of xlwings' template, checked by pyOpenVBA, installed."""

from __future__ import annotations

import hashlib
import importlib.metadata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

pyopenvba = pytest.importorskip("pyopenvba")

from budgetlib import __version__  # noqa: E402
from budgetlib.addin import BUTTON_IDS  # noqa: E402
from budgetlib.addin.build import (  # noqa: E402
    ADDIN_NAME,
    RESOURCES,
    build_addin,
    ribbon_callbacks,
    source_dir,
    vba_procedures,
)
from budgetlib.addin.install import NotSupported, install_addin, startup_dir, uninstall_addin  # noqa: E402
from budgetlib.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXCEL = ROOT / "excel"
CUSTOMUI_NS = "{http://schemas.microsoft.com/office/2006/01/customui}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("addin") / ADDIN_NAME
    build_addin(out, interpreter_win=r"C:\Python311\python.exe", interpreter_mac="/usr/local/bin/python3")
    return out


def _conf_sheet(path: Path) -> dict[str, object]:
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(path, with_vba=False)
    rows = app.sheet("budgetlib.conf").rows()
    return {r[0]: (r[1] if len(r) > 1 else None) for r in rows if r and r[0]}


def test_integrity_check_accepts_the_built_addin(built: Path) -> None:
    report = pyopenvba.check_file(built)
    assert report.ok, report.issues
    assert report.complete
    with pyopenvba.ExcelFile(built) as book:
        assert book.validate() == []


def test_ribbon_is_well_formed_and_every_onaction_exists(built: Path) -> None:
    with zipfile.ZipFile(built) as z:
        ribbon = z.read("customUI/customUI.xml")
        rels = z.read("_rels/.rels").decode()
    root = ET.fromstring(ribbon)  # raises if not well formed
    assert "customUI/customUI.xml" in rels and "ui/extensibility" in rels
    tab = root.find(f"{CUSTOMUI_NS}ribbon/{CUSTOMUI_NS}tabs/{CUSTOMUI_NS}tab")
    assert tab is not None and tab.get("label") == "Ngân sách"
    groups = [g.get("label") for g in tab.findall(f"{CUSTOMUI_NS}group")]
    assert groups == ["Dữ liệu", "Phân bổ", "Báo cáo", "Trợ giúp"]
    callbacks = ribbon_callbacks(ribbon)
    procedures = {p.casefold() for p in vba_procedures(built)}
    assert callbacks, "no buttons"
    for control, action in callbacks.items():
        assert action.casefold() in procedures, f"{control}: onAction {action!r} is not a public VBA procedure"
    # one callback for every button, as the issue asks
    assert set(callbacks.values()) == {"BudgetlibRibbon.OnButton"}


def test_ribbon_buttons_match_the_python_dispatch_table() -> None:
    callbacks = ribbon_callbacks((EXCEL / "customUI.xml").read_bytes())
    assert tuple(callbacks) == BUTTON_IDS


def test_every_button_has_english_screentip_and_supertip() -> None:
    root = ET.fromstring((EXCEL / "customUI.xml").read_bytes())
    for el in root.iter(f"{CUSTOMUI_NS}button"):
        assert el.get("label") and el.get("screentip") and el.get("supertip"), el.get("id")
        assert el.get("screentip").isascii() and el.get("supertip").replace("Lỗi", "").isascii()


def test_vba_is_written_from_the_bas_source_and_stamped(built: Path) -> None:
    with pyopenvba.ExcelFile(built) as book:
        modules = book.vba_modules()
    assert "RibbonMyAddin" not in modules
    ribbon = modules["BudgetlibRibbon"].replace("\r\n", "\n")
    source = (EXCEL / "BudgetlibRibbon.bas").read_text(encoding="utf-8")
    assert ribbon == source.replace('ADDIN_VERSION As String = "0.0.0"', f'ADDIN_VERSION As String = "{__version__}"')
    assert source.isascii()
    # the add-in carries the VBA of the installed xlwings, renamed to this project
    xlwings_vba = modules["xlwings"]
    assert f'XLWINGS_VERSION As String = "{importlib.metadata.version("xlwings")}"' in xlwings_vba
    assert 'PROJECT_NAME As String = "budgetlib"' in xlwings_vba


def test_config_sheet_points_at_the_interpreter(built: Path) -> None:
    conf = _conf_sheet(built)
    assert conf["Interpreter_Win"] == r"C:\Python311\python.exe"
    assert conf["Interpreter_Mac"] == "/usr/local/bin/python3"
    assert conf["Use UDF Server"] is False
    with zipfile.ZipFile(built) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert 'name="budgetlib.conf"' in workbook and "felix" not in workbook.lower()


def test_build_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlam", tmp_path / "b.xlam"
    build_addin(a, interpreter="python")
    build_addin(b, interpreter="python")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_packaged_sources_match_excel_folder() -> None:
    """`budgetlib addin build` (default output) copies excel/ into the package; they must not drift."""
    assert source_dir() == EXCEL
    for name in ("customUI.xml", "BudgetlibRibbon.bas", "HUONG_DAN.md"):
        packaged = RESOURCES / name
        if packaged.exists():
            assert packaged.read_bytes() == (EXCEL / name).read_bytes(), f"rebuild: {name} is stale in resources/"


def test_cli_build(tmp_path: Path, capsys) -> None:
    out = tmp_path / "x" / "NganSach.xlam"
    assert main(["addin", "build", "-o", str(out), "--interpreter-win", "C:/py/python.exe"]) == 0
    assert pyopenvba.check_file(out).ok
    assert _conf_sheet(out)["Interpreter_Win"] == "C:/py/python.exe"


# --- install ---------------------------------------------------------------------------------


def test_startup_dirs(tmp_path: Path) -> None:
    assert startup_dir("win32", home=tmp_path, environ={"APPDATA": str(tmp_path / "Roaming")}) == (
        tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    )
    assert startup_dir("darwin", home=tmp_path).parts[-4:] == (
        "UBF8T346G9.Office", "User Content.localized", "Startup.localized", "Excel"
    )
    with pytest.raises(NotSupported, match="Linux"):
        startup_dir("linux", home=tmp_path)


def test_install_windows_points_at_the_interpreter(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    result = install_addin(platform="win32", home=tmp_path, interpreter=r"C:\venv\Scripts\python.exe")
    assert result.path == tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / ADDIN_NAME
    assert pyopenvba.check_file(result.path).ok
    assert _conf_sheet(result.path)["Interpreter_Win"] == r"C:\venv\Scripts\python.exe"
    assert uninstall_addin(platform="win32", home=tmp_path) == result.path
    assert not result.path.exists()


def test_install_macos_copies_the_applescript(tmp_path: Path) -> None:
    result = install_addin(platform="darwin", home=tmp_path, interpreter="/opt/py/bin/python3")
    assert "Startup.localized" in str(result.path)
    assert _conf_sheet(result.path)["Interpreter_Mac"] == "/opt/py/bin/python3"
    scripts = list((tmp_path / "Library" / "Application Scripts" / "com.microsoft.Excel").glob("xlwings-*.applescript"))
    assert [s.name for s in scripts] == [f"xlwings-{importlib.metadata.version('xlwings')}.applescript"]


def test_install_on_linux_explains(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["addin", "install"]) == 3
    err = capsys.readouterr().err
    assert "Linux" in err and "budgetlib addin build" in err


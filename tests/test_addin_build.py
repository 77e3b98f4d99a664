"""The add-in file: built from text sources on top of xlwings' template, checked by pyOpenVBA, installed
without ever leaving a file Excel would open by mistake, refused clearly when Excel holds it open."""

from __future__ import annotations

import hashlib
import importlib.metadata
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pyopenvba
import pytest

from budgetlib import __version__
from budgetlib.addin import BUTTON_IDS
from budgetlib.addin.build import (
    ADDIN_NAME,
    RESOURCES,
    build_addin,
    conda_settings,
    config_rows,
    ribbon_callbacks,
    source_dir,
    vba_procedures,
)
from budgetlib.addin.install import AddinLocked, NotSupported, install_addin, startup_dir, uninstall_addin
from budgetlib.addin.ribbon import customui_xml
from budgetlib.cli import main

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
    assert tab is not None and tab.get("getLabel") == "BudgetlibRibbon.GetLabel" and tab.get("label") is None
    groups = [g.get("id") for g in tab.findall(f"{CUSTOMUI_NS}group")]
    assert groups == ["grpData", "grpAllocate", "grpCycle", "grpReport", "grpStore", "grpHelp"]
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


def test_every_text_of_the_ribbon_comes_from_a_callback() -> None:
    root = ET.fromstring(customui_xml())
    for el in root.iter(f"{CUSTOMUI_NS}button"):
        assert not ({"label", "screentip", "supertip"} & set(el.attrib)), el.get("id")
        assert el.get("getLabel") and el.get("getScreentip") and el.get("getSupertip"), el.get("id")


def test_vba_is_written_from_the_bas_source_and_stamped(built: Path) -> None:
    with pyopenvba.ExcelFile(built) as book:
        modules = book.vba_modules()
    assert "RibbonMyAddin" not in modules
    ribbon = modules["BudgetlibRibbon"].replace("\r\n", "\n")
    source = (EXCEL / "BudgetlibRibbon.bas").read_text(encoding="utf-8")
    assert ribbon == source.replace('ADDIN_VERSION As String = "0.0.0"', f'ADDIN_VERSION As String = "{__version__}"')
    assert source.isascii() and modules["BudgetlibText"].isascii()
    assert "ChrW(7893)" in modules["BudgetlibText"]  # "ổ" of "Sổ mới"
    # the add-in carries the VBA of the installed xlwings, renamed to this project
    xlwings_vba = modules["xlwings"]
    assert f'XLWINGS_VERSION As String = "{importlib.metadata.version("xlwings")}"' in xlwings_vba
    assert 'PROJECT_NAME As String = "budgetlib"' in xlwings_vba


def test_config_sheet_points_at_the_interpreter(built: Path) -> None:
    conf = _conf_sheet(built)
    assert conf == {
        "Interpreter_Win": r"C:\Python311\python.exe",
        "Interpreter_Mac": "/usr/local/bin/python3",
        "ADD_WORKBOOK_TO_PYTHONPATH": False,
    }
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
        assert (RESOURCES / name).read_bytes() == (EXCEL / name).read_bytes(), f"run `budgetlib addin build`: {name} is stale in resources/"
    assert (EXCEL / "customUI.xml").read_text(encoding="utf-8") == customui_xml(), "run `budgetlib addin build`: excel/customUI.xml is stale"


def test_the_packaged_addin_is_current() -> None:
    """The .xlam shipped in the package carries this version and the current sources."""
    from pyopenvba import ExcelFile

    shipped = RESOURCES / ADDIN_NAME
    with ExcelFile(shipped) as book:
        modules = book.vba_modules()
    assert f'ADDIN_VERSION As String = "{__version__}"' in modules["BudgetlibRibbon"]
    from budgetlib.addin.ribbon import text_module

    assert modules["BudgetlibText"].replace("\r\n", "\n") == text_module().replace("\r\n", "\n"), "run `budgetlib addin build`"
    with zipfile.ZipFile(shipped) as z:
        assert z.read("customUI/customUI.xml").decode("utf-8") == customui_xml(), "run `budgetlib addin build`"


def test_only_settings_with_a_value_are_written() -> None:
    rows = config_rows({"Interpreter_Win": "C:/py/python.exe", "Interpreter_Mac": "", "Conda Path": "  ", "PYTHONPATH": None})
    assert rows == [("Interpreter_Win", "C:/py/python.exe"), ("ADD_WORKBOOK_TO_PYTHONPATH", False)]
    with pytest.raises(ValueError):
        config_rows({"Interpreter": "x"})


def test_conda_settings_come_from_the_activated_environment() -> None:
    env = {"CONDA_PREFIX": r"C:\Users\an\miniconda3\envs\ngansach", "CONDA_DEFAULT_ENV": "ngansach",
           "CONDA_EXE": r"C:\Users\an\miniconda3\Scripts\conda.exe"}
    assert conda_settings(env) == (r"C:\Users\an\miniconda3", "ngansach")
    assert conda_settings({"CONDA_PREFIX": r"C:\Users\an\miniconda3\envs\ngansach"}) == (r"C:\Users\an\miniconda3", "ngansach")
    assert conda_settings({"CONDA_PREFIX": "/opt/conda", "CONDA_DEFAULT_ENV": "base"}) == ("/opt/conda", "base")
    assert conda_settings({}) is None


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


def test_install_windows_points_at_the_interpreter(tmp_path: Path) -> None:
    env = {"APPDATA": str(tmp_path / "Roaming")}
    result = install_addin(platform="win32", home=tmp_path, environ=env, interpreter=r"C:\venv\Scripts\python.exe")
    xlstart = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    assert result.path == xlstart / ADDIN_NAME
    assert pyopenvba.check_file(result.path).ok
    assert _conf_sheet(result.path) == {"Interpreter_Win": r"C:\venv\Scripts\python.exe", "ADD_WORKBOOK_TO_PYTHONPATH": False}
    assert sorted(p.name for p in xlstart.iterdir()) == [ADDIN_NAME]  # nothing else for Excel to open
    assert not list(xlstart.parent.glob(".budgetlib-install-*"))
    assert uninstall_addin(target_dir=xlstart) == result.path
    assert not result.path.exists()


def test_install_in_a_conda_environment_writes_conda_settings(tmp_path: Path) -> None:
    env = {"APPDATA": str(tmp_path / "Roaming"), "CONDA_PREFIX": r"C:\mc\envs\ns", "CONDA_DEFAULT_ENV": "ns", "CONDA_EXE": r"C:\mc\Scripts\conda.exe"}
    result = install_addin(platform="win32", home=tmp_path, environ=env, interpreter=r"C:\mc\envs\ns\python.exe")
    assert _conf_sheet(result.path) == {
        "Interpreter_Win": r"C:\mc\envs\ns\python.exe", "Conda Path": r"C:\mc", "Conda Env": "ns", "ADD_WORKBOOK_TO_PYTHONPATH": False,
    }
    assert any(n.code == "addin.install.conda" for n in result.notes)


def test_install_refuses_while_excel_holds_the_addin(tmp_path: Path, monkeypatch) -> None:
    xlstart = tmp_path / "XLSTART"
    first = install_addin(target_dir=xlstart, interpreter="python")
    before = first.path.read_bytes()
    # What Excel does to an open add-in on Windows, mocked: the rename over it is refused.
    import os

    real_replace = os.replace

    def locked(src: Any, dst: Any) -> None:
        if Path(dst) == first.path:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", locked)
    with pytest.raises(AddinLocked) as caught:
        install_addin(target_dir=xlstart, interpreter="other-python")
    monkeypatch.undo()
    assert "thoát hẳn Excel" in caught.value.message("vi") and "Quit Excel" in caught.value.message("en")
    assert first.path.read_bytes() == before
    assert sorted(p.name for p in xlstart.iterdir()) == [ADDIN_NAME]
    assert not list(tmp_path.glob(".budgetlib-install-*"))
    # Excel's owner file (~$budgetlib.xlam) also means "open": refused before anything is built.
    (xlstart / f"~${ADDIN_NAME}").write_bytes(b"x")
    with pytest.raises(AddinLocked):
        install_addin(target_dir=xlstart, interpreter="python")
    with pytest.raises(AddinLocked):
        uninstall_addin(target_dir=xlstart)
    assert first.path.exists()


def test_install_removes_what_older_versions_left_in_xlstart(tmp_path: Path, capsys) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    (xlstart / f".{ADDIN_NAME}.tmp").write_bytes(b"half a file")
    assert main(["addin", "install", "--dir", str(xlstart), "--interpreter", "python"]) == 0
    assert sorted(p.name for p in xlstart.iterdir()) == [ADDIN_NAME]
    assert ".budgetlib.xlam.tmp" in capsys.readouterr().out


def test_cli_install_refusal_is_a_message_not_a_traceback(tmp_path: Path, capsys) -> None:
    xlstart = tmp_path / "XLSTART"
    xlstart.mkdir()
    (xlstart / f"~${ADDIN_NAME}").write_bytes(b"x")
    assert main(["addin", "install", "--dir", str(xlstart), "--lang", "en"]) == 3
    err = capsys.readouterr().err
    assert "Quit Excel completely" in err and "Traceback" not in err


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
    assert main(["addin", "install", "--lang", "en"]) == 3
    assert "Excel does not run on Linux" in capsys.readouterr().err


"""Clicking the ribbon headlessly: pyOpenVBA's VBA interpreter runs the built add-in's callbacks.

*Every* module of the built ``.xlam`` is loaded, xlwings' own VBA module included; the only change
to the add-in's code is that xlwings' ``RunPython`` is intercepted (it would start a Python process),
and the only change to xlwings' module text is dropping comments after ``#Const``/``#If`` directives,
which real VBA accepts and pyOpenVBA 6.5 rejects. A click is the ribbon's ``onAction`` procedure
called with an ``IRibbonControl`` whose ``Id`` is the button's, as Excel passes it; the ribbon's
texts come from its ``getLabel``/``getScreentip``/``getSupertip`` callbacks.
"""

from __future__ import annotations

import importlib.metadata
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from budgetlib import __version__
from budgetlib.addin import BUTTON_IDS, BUTTONS, GROUPS, python_command
from budgetlib.addin.build import ADDIN_NAME, build_addin, ribbon_callbacks
from budgetlib.addin.buttons import TAB_ID
from budgetlib.addin.ribbon import customui_xml, ribbon_texts

from .addin_standin import VbaSession, strip_directive_comments

XLWINGS = importlib.metadata.version("xlwings")
CONTROL_IDS = Path(__file__).parent / "data" / "excel_control_ids.txt"
VIETNAMESE, ENGLISH_US = 1066, 1033


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ribbon") / ADDIN_NAME
    build_addin(out, interpreter="python")
    return out


@pytest.fixture(scope="module")
def ribbon(addin: Path):
    session = VbaSession(addin)
    yield session
    session.close()


def test_every_module_of_the_addin_loads_including_xlwings(ribbon: VbaSession, addin: Path) -> None:
    from pyopenvba import ExcelFile

    with ExcelFile(addin) as f:
        names = [m.name for m in f.vba_project().modules]
    assert ribbon.loaded == names
    assert {"xlwings", "BudgetlibRibbon", "BudgetlibText", "Dictionary", "ThisWorkbook"} <= set(names)
    assert ribbon.stripped >= 1  # the '#Const App = "Microsoft Excel" 'Adjust…' line


def test_the_directive_workaround_is_still_needed_and_only_touches_directives(addin: Path) -> None:
    """If pyOpenVBA accepts the comment one day, this fails: drop the workaround then."""
    from pyopenvba import ExcelFile
    from pyopenvba.apps.excel import ExcelApplication
    from pyopenvba.exceptions import VBACompileError

    with ExcelFile(addin) as f:
        source = f.vba_modules()["xlwings"]
    with pytest.raises(VBACompileError, match="directive"):
        ExcelApplication().add_module(source, name="xlwings")
    fixed, changed = strip_directive_comments(source)
    before, after = source.replace("\r\n", "\n").split("\n"), fixed.split("\r\n")
    differ = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(differ) == changed and all(re.match(r"\s*#", a) and "'" in a and "'" not in b for a, b in differ)


@pytest.mark.parametrize("button_id", BUTTON_IDS)
def test_click_passes_the_exact_python_command(ribbon: VbaSession, button_id: str) -> None:
    command = ribbon.click(button_id)
    assert command == python_command(button_id, addin=__version__, xlwings=XLWINGS, lang="vi")
    assert command == (
        f"import budgetlib.addin as a; a.on_button('{button_id}', addin='{__version__}', xlwings='{XLWINGS}', lang='vi')"
    )


def test_one_click_one_runpython(ribbon: VbaSession) -> None:
    before = ribbon.excel.evaluate("Calls")
    ribbon.click("btnValidate")
    assert ribbon.excel.evaluate("Calls") == before + 1


def test_every_control_gets_its_texts_from_the_catalogue(ribbon: VbaSession) -> None:
    texts = ribbon_texts("vi")
    assert ribbon.text(TAB_ID) == texts[f"{TAB_ID}.label"] == "Ngân sách"
    for group in GROUPS:
        assert ribbon.text(group.id) == texts[f"{group.id}.label"]
    for b in BUTTONS:
        assert [ribbon.text(b.id, k) for k in range(3)] == [texts[f"{b.id}.{k}"] for k in ("label", "screentip", "supertip")]
    assert ribbon.text("btnNew") == "Sổ mới"


def test_an_english_excel_gets_an_english_ribbon_and_english_messages(addin: Path) -> None:
    session = VbaSession(addin, ui_language=ENGLISH_US)
    try:
        assert session.text(TAB_ID) == "Budget" and session.text("btnAllocate") == "Allocate"
        assert session.text("btnVersion", 2) == ribbon_texts("en")["btnVersion.supertip"]
        assert session.click("btnAllocate").endswith("lang='en')")
    finally:
        session.close()


def test_the_language_setting_of_the_addin_wins_over_excels(tmp_path: Path) -> None:
    """``budgetlib addin install --ribbon-lang vi`` for a Vietnamese officer on an English Excel."""
    out = tmp_path / ADDIN_NAME
    build_addin(out, interpreter="python", lang="vi")
    session = VbaSession(out, ui_language=ENGLISH_US)
    try:
        assert session.text(TAB_ID) == "Ngân sách" and session.click("btnNew").endswith("lang='vi')")
    finally:
        session.close()


def test_every_ribbon_control_has_a_callback(ribbon: VbaSession) -> None:
    assert tuple(ribbon.callbacks) == BUTTON_IDS
    assert set(ribbon.callbacks.values()) == {"BudgetlibRibbon.OnButton"}
    assert set(ribbon.text_callbacks) == {TAB_ID, *(g.id for g in GROUPS), *BUTTON_IDS}


def test_with_no_workbook_open_a_blank_one_becomes_the_caller(addin: Path) -> None:
    """xlwings passes ActiveWorkbook to Python; with none open (Excel just started) the callback adds one."""
    session = VbaSession(addin)
    try:
        app = session.excel
        app.application.workbooks_.books[:] = [b for b in app.application.workbooks_.books if b.vba_get("Name") != ADDIN_NAME]
        app.application.activate_book(None)
        assert app.evaluate("ActiveWorkbook Is Nothing") is True
        assert session.click("btnNew").startswith("import budgetlib.addin as a; a.on_button('btnNew'")
        assert app.evaluate("ActiveWorkbook Is Nothing") is False
    finally:
        session.close()


def _control_ids() -> set[str]:
    return {line.strip() for line in CONTROL_IDS.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}


def test_every_icon_is_an_excel_control_id() -> None:
    ids = _control_ids()
    assert len(ids) > 1000 and "ViewSideBySide" in ids
    assert "WindowSideBySide" not in ids and "Info" not in ids  # the old icons: a Word id and none at all
    root = ET.fromstring(customui_xml())
    images = {el.get("id"): el.get("imageMso") for el in root.iter() if el.get("imageMso")}
    assert set(images) == set(BUTTON_IDS)
    assert not {cid: img for cid, img in images.items() if img not in ids}


def test_the_built_ribbon_is_the_generated_one(addin: Path) -> None:
    with zipfile.ZipFile(addin) as z:
        assert z.read("customUI/customUI.xml").decode("utf-8") == customui_xml()
    assert tuple(ribbon_callbacks(customui_xml())) == BUTTON_IDS

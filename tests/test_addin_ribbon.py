"""Clicking the ribbon headlessly: pyOpenVBA's VBA interpreter runs the built add-in's callbacks.

The add-in's own modules are loaded from the built ``.xlam``; only xlwings' module is swapped for a
stub that captures what ``RunPython`` receives (the real one talks to a Python process through a
DLL or AppleScript). A click is the ribbon's ``onAction`` procedure called with a control whose
``Id`` is the button's id, exactly what Excel passes.
"""

from __future__ import annotations

import importlib.metadata
import re
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("pyopenvba")

from pyopenvba import ExcelFile  # noqa: E402
from pyopenvba.apps.excel import ExcelApplication  # noqa: E402
from pyopenvba.interpreter._objects import VBAObject  # noqa: E402
from pyopenvba.vba import VBAModuleKind  # noqa: E402

from budgetlib import __version__  # noqa: E402
from budgetlib.addin import BUTTON_IDS, python_command  # noqa: E402
from budgetlib.addin.build import ADDIN_NAME, build_addin, ribbon_callbacks  # noqa: E402

RUNPYTHON_STUB = '''
Public Const XLWINGS_VERSION As String = "{version}"
Public Captured As String
Public Calls As Long

' Stands in for xlwings' RunPython: remember the command instead of starting Python.
Public Function RunPython(PythonCommand As String)
    Captured = PythonCommand
    Calls = Calls + 1
End Function
'''

FAKE_CONTROL = '''
' IRibbonControl as Excel passes it to an onAction callback.
Public Id As String
Public Tag As String
'''

HARNESS = '''
Public Function Click(ByVal callback As String, ByVal controlId As String) As String
    Dim control As New FakeRibbonControl
    control.Id = controlId
    Captured = ""
    Application.Run callback, control
    Click = Captured
End Function
'''


class Ribbon:
    """The built add-in loaded in pyOpenVBA's in-memory Excel, with RunPython captured."""

    def __init__(self, path: Path):
        self.app = ExcelApplication.open(path, with_vba=False)
        with ExcelFile(path) as f:
            modules = [(m.name, m.kind, m.source) for m in f.vba_project().modules]
        xlwings_source = next(src for name, _, src in modules if name == "xlwings")
        self.xlwings_vba = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', xlwings_source).group(1)
        self.loaded = []
        for name, kind, source in modules:
            if name == "xlwings":
                continue
            how = "standard" if kind is VBAModuleKind.standard else "class"
            if how == "class" and isinstance(self.app.interpreter.host.global_object(name.lower()), VBAObject):
                how = "document"
            self.app.add_module(source, name=name, kind=how)
            self.loaded.append(name)
        self.app.add_module(RUNPYTHON_STUB.format(version=self.xlwings_vba), name="xlwings")
        self.app.add_module(FAKE_CONTROL, name="FakeRibbonControl", kind="class")
        self.app.add_module(HARNESS, name="RibbonHarness")
        with zipfile.ZipFile(path) as z:
            self.callbacks = ribbon_callbacks(z.read("customUI/customUI.xml"))

    def click(self, control_id: str) -> str:
        return self.app.run("Click", self.callbacks[control_id], control_id)


@pytest.fixture(scope="module")
def ribbon(tmp_path_factory) -> Ribbon:
    out = tmp_path_factory.mktemp("ribbon") / ADDIN_NAME
    build_addin(out, interpreter="python")
    return Ribbon(out)


def test_the_addins_own_modules_load(ribbon: Ribbon) -> None:
    assert "BudgetlibRibbon" in ribbon.loaded
    assert ribbon.xlwings_vba == importlib.metadata.version("xlwings")


@pytest.mark.parametrize("button_id", BUTTON_IDS)
def test_click_passes_the_exact_python_command(ribbon: Ribbon, button_id: str) -> None:
    command = ribbon.click(button_id)
    assert command == python_command(button_id, addin=__version__, xlwings=ribbon.xlwings_vba)
    assert command == (
        f"import budgetlib.addin as a; a.on_button('{button_id}', addin='{__version__}', "
        f"xlwings='{importlib.metadata.version('xlwings')}')"
    )


def test_one_click_one_runpython(ribbon: Ribbon) -> None:
    before = ribbon.app.evaluate("Calls")
    ribbon.click("btnValidate")
    assert ribbon.app.evaluate("Calls") == before + 1


def test_every_ribbon_control_has_a_callback(ribbon: Ribbon) -> None:
    assert tuple(ribbon.callbacks) == BUTTON_IDS


def test_with_no_workbook_open_a_blank_one_becomes_the_caller(tmp_path) -> None:
    """xlwings passes ActiveWorkbook to Python; with none open (Excel just started) the callback adds one."""
    out = tmp_path / ADDIN_NAME
    build_addin(out, interpreter="python")
    ribbon = Ribbon(out)
    ribbon.app.application.workbooks_.books.clear()
    ribbon.app.application.activate_book(None)
    assert ribbon.app.evaluate("ActiveWorkbook Is Nothing") is True
    assert ribbon.click("btnNew").startswith("import budgetlib.addin as a; a.on_button('btnNew'")
    assert len(ribbon.app.workbooks()) == 1

"""The stand-in is xlwings' Windows backend itself, and behaves like Excel where the add-in depends on it.

These tests pin down what :mod:`tests.addin_standin` is: the method sets are derived from
``_xlwindows.py``/``_xlmac.py`` with ``ast``; the re-hosted classes are those of the source (nothing
added, nothing overridden), subclass ``xlwings.base_classes``, and raise ``NotImplementedError`` for
what the Windows backend lacks; and the object model under them parses values as Excel does.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
import xlwings
from xlwings import base_classes

from budgetlib.io.grid import SheetSpec

from .addin_standin import DROPPED, MAC_MEMBERS, WINDOWS_MEMBERS, WINDOWS_SOURCE, StandIn, com_error


@pytest.fixture
def excel():
    with StandIn() as s:
        yield s


def test_method_sets_come_from_the_backends_source() -> None:
    # Spot checks against the source text: what the backends implement, and famous gaps.
    assert {"raw_value", "raw_value=", "number_format=", "add_note", "column_width="} <= WINDOWS_MEMBERS["Range"]
    assert "freeze_panes" not in WINDOWS_MEMBERS["Sheet"]  # Office.js only
    assert "freeze_panes" not in MAC_MEMBERS["Sheet"]
    assert {"add", "__call__", "__len__"} <= WINDOWS_MEMBERS["Sheets"]
    # Collection's members are inherited inside _xlwindows.py (class Tables(Collection, base_classes.Tables)).
    assert {"__call__", "__iter__", "add"} <= WINDOWS_MEMBERS["Tables"]


def test_the_rehosted_classes_are_the_sources_classes(excel: StandIn) -> None:
    tree = ast.parse(WINDOWS_SOURCE.read_text(encoding="utf-8"))
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    for name in sorted(n for n in classes & set(dir(excel.backend)) if not n.startswith("_")):
        cls = getattr(excel.backend, name)
        own = {k for k, v in vars(cls).items() if not k.startswith("__") or k in ("__call__", "__len__", "__iter__", "__contains__", "__init__")}
        source_members = {m.rstrip("=") for m in WINDOWS_MEMBERS[name]}
        own -= {"_abc_impl", "_TYPE_FROM_XL", "_TYPE_TO_XL", "_OPERATOR_FROM_XL", "_OPERATOR_TO_XL", "_ALERT_STYLE_FROM_XL"}
        extra = {k for k in own if k not in source_members and not k.startswith("_")}
        assert not extra, f"{name} has members _xlwindows.py does not define: {extra}"
        base = getattr(base_classes, name, None)
        if base is not None:
            assert issubclass(cls, base), name


def test_what_the_windows_backend_lacks_raises_not_implemented(excel: StandIn) -> None:
    book = excel.new()
    sheet = book.sheets[0]
    with pytest.raises(NotImplementedError):
        sheet.freeze_panes  # noqa: B018 - the access itself raises, as in Excel
    with pytest.raises(NotImplementedError):
        book.json()


def test_only_windows_plumbing_is_dropped() -> None:
    tree = ast.parse(WINDOWS_SOURCE.read_text(encoding="utf-8"))
    dropped = [ast.unparse(n) for n in tree.body if any(ast.unparse(n).startswith(p) for p in DROPPED)]
    # Imports, the chdir dance around them, and the ole32/pythoncom DLL bindings; nothing else.
    for text in dropped:
        assert isinstance(ast.parse(text).body[0], (ast.Import, ast.ImportFrom, ast.Try, ast.If, ast.Assign, ast.Expr)), text
        assert not text.startswith(("class ", "def ")), text
    for prefix in DROPPED:
        assert any(t.startswith(prefix) for t in dropped), f"{prefix!r} no longer in _xlwindows.py: review DROPPED"


def test_values_are_parsed_as_excel_parses_them(excel: StandIn) -> None:
    """COM's Range.Value takes text as typed: this is why the add-in quotes every string."""
    sheet = excel.new().sheets[0]
    sheet.range("A1:D1").value = [["=1+2", "303", "'303", "'=1+2"]]
    assert sheet.range("A1:D1").value == [3, 303, "303", "=1+2"]
    assert sheet.range("A1").formula == "=1+2" and sheet.range("D1").formula == "=1+2"
    assert sheet.range("D1").api.HasFormula is False and sheet.range("D1").api.PrefixCharacter == "'"


def test_a_member_excel_lacks_is_an_error_and_one_pyopenvba_lacks_is_named(excel: StandIn) -> None:
    from pyopenvba.exceptions import VBAUnsupportedError

    sheet = excel.new().sheets[0]
    with pytest.raises(VBAUnsupportedError, match="real member"):
        sheet.api.Tab  # noqa: B018 - Excel has it, pyOpenVBA does not model it
    with pytest.raises(AttributeError, match="no member"):
        sheet.api.FreezePanez  # noqa: B018 - a typo: Excel has no such member


def test_a_failed_com_call_is_a_com_error(excel: StandIn) -> None:
    book = excel.new()
    assert len(book.sheets) == 1
    with pytest.raises(com_error):
        book.sheets[0].delete()  # Excel refuses to delete a workbook's last sheet


def test_message_boxes_are_recorded(excel: StandIn) -> None:
    book = excel.new()
    assert book.app.alert("Xin chào", title="budgetlib", mode="critical") == "ok"
    prompt, title, style = excel.alerts[-1]
    assert (prompt, title) == ("Xin chào", "budgetlib") and style & 0x30


def test_old_freeze_panes_code_fails_and_the_adapter_works(excel: StandIn) -> None:
    """The issue's finding: ``sheet.freeze_panes.freeze_at`` is what every writing button did."""
    from budgetlib.addin import native
    from budgetlib.addin.xlbook import XlwingsBook

    book = excel.new()
    sheet = book.sheets[0]
    with pytest.raises(NotImplementedError):
        sheet.freeze_panes.freeze_at("B4")
    native.freeze_panes(sheet, "B4")
    window = book.api.Windows(1)
    assert (window.FreezePanes, window.SplitRow, window.SplitColumn) == (True, 3, 1)
    # And through the adapter: written, frozen, marked, no NotImplementedError anywhere.
    report = XlwingsBook(book).write_sheets([SheetSpec("Tổng hợp", [["Tiêu đề"], [None], ["Mã", "Tiền"], ["303", 5]], freeze="B4")])
    assert report.written == ["Tổng hợp"] and not [w for w in report.warnings if "frozen" in w]
    assert book.sheets["Tổng hợp"].api.Name == "Tổng hợp"


def test_the_mock_caller_is_xlwings_own(excel: StandIn) -> None:
    book = excel.caller(excel.new())
    assert xlwings.Book.caller() == book
    excel.clear_caller()
    with pytest.raises(Exception):  # noqa: B017 - outside Excel there is no caller at all
        xlwings.Book.caller()


def test_recorded_members_name_the_backend(excel: StandIn) -> None:
    excel.new().sheets[0].range("A1").value = 1
    assert ("Range", "raw_value=") in excel.used
    assert all(name.rstrip("=") in {m.rstrip("=") for m in WINDOWS_MEMBERS[cls]} for cls, name in excel.used)


def _members(obj: Any) -> set[str]:
    return {name for name, _ in inspect.getmembers(type(obj))}


def test_source_paths_exist() -> None:
    assert Path(WINDOWS_SOURCE).is_file()

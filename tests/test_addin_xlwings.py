"""The xlwings adapter (:class:`budgetlib.addin.xlbook.XlwingsBook`) against the stand-in for Excel.

The stand-in (:mod:`tests.addin_standin`) is xlwings' own Windows backend running on pyOpenVBA's
Excel object model, so what these tests see is what the Windows backend would do in Excel: every
call the adapter makes goes through ``xlwings.main`` and ``_xlwindows.py``, and whatever the Windows
backend lacks raises ``NotImplementedError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xlwings

from budgetlib.addin import dispatch
from budgetlib.addin.dispatch import EXIT_CRASH, EXIT_OK, EXIT_USAGE
from budgetlib.addin.errors import WriteFailed
from budgetlib.addin.xlbook import XlwingsBook, excel_cell_value, normalise_read
from budgetlib.io.grid import RESULT_MARKER_NAME, Formula, SheetSpec, TableSpec
from budgetlib.io.workbook import write_plan_workbook

from .addin_standin import MAC_MEMBERS, StandIn
from .conftest import tiny_plan_data

# What pyOpenVBA does not model: the only cosmetic steps allowed to fail in the stand-in.
STANDIN_GAPS = (
    "Worksheet.Tab is a real member",
    "Worksheet.ChartObjects is a real member",
    "a validation list read from another sheet",
)


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(tmp_path / "addin.log"))


@pytest.fixture
def excel():
    with StandIn() as s:
        yield s


@pytest.fixture(scope="module")
def plan_xlsx(tmp_path_factory) -> Path:
    """A small valid plan (two districts, two tasks, two years) as the template workbook."""
    from budgetlib.planning.validation import load_plan_data

    return write_plan_workbook(load_plan_data(tiny_plan_data()), tmp_path_factory.mktemp("plan") / "kehoach.xlsx")


def _names(book: xlwings.Book) -> list[str]:
    return [s.name for s in book.sheets]


def _spec(name: str, rows: list[list[Any]], **kw: Any) -> SheetSpec:
    return SheetSpec(name, rows, **kw)


def test_grid_is_the_used_range_with_its_origin(excel: StandIn) -> None:
    book = excel.new()
    sheet = book.sheets[0]
    sheet.range((3, 2), (4, 3)).value = [["Mã", "Dân số"], ["'303", 96111]]
    grid = XlwingsBook(book).grid(sheet.name)
    assert (grid.origin_row, grid.origin_col) == (3, 2)
    assert grid.value(1, 0) == "303" and grid.value(1, 1) == 96111 and isinstance(grid.value(1, 1), int)
    assert grid.address(1, 1) == f"{sheet.name}!C4"
    assert normalise_read(2.5) == 2.5 and normalise_read("") is None


def test_every_string_reaches_excel_as_text_and_only_formulas_as_formulas(excel: StandIn) -> None:
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "+1+2", "-A1", "@SUM(A1)", "303", "1/2", "TRUE", "#N/A", "'quoted"]
    book = excel.new()
    XlwingsBook(book).write_sheets([_spec("Kết quả", [hostile, [Formula("=SUM(C2:D2)"), None, 1, 2]])])
    sheet = book.sheets["Kết quả"]
    assert sheet.range((1, 1), (1, len(hostile))).value == hostile  # exactly the characters, as text
    for c in range(1, len(hostile) + 1):
        assert sheet.range((1, c)).api.HasFormula is False, hostile[c - 1]
    assert sheet.range("A2").api.HasFormula is True and sheet.range("A2").value == 3
    assert excel_cell_value(Formula("=A1")) == "=A1" and excel_cell_value("=A1") == "'=A1"


def test_result_sheets_are_marked_and_only_marked_sheets_are_replaced(excel: StandIn) -> None:
    book = excel.new()
    xb = XlwingsBook(book)
    xb.write_sheets([_spec("Nhật ký", [["lần 1"]], tables=[])])
    assert xb.sheet_marks()["Nhật ký"] is True
    assert any(str(n.name).endswith("!" + RESULT_MARKER_NAME) for n in book.sheets["Nhật ký"].names)
    xb.write_sheets([_spec("Nhật ký", [["lần 2"]])])
    assert book.sheets["Nhật ký"].range("A1").value == "lần 2" and _names(book).count("Nhật ký") == 1
    user = book.sheets.add("Tổng hợp")
    user.range("A1").value = "của tôi"
    with pytest.raises(ValueError, match="not a budgetlib result"):
        xb.write_sheets([_spec("Tổng hợp", [["kết quả"]])])
    assert book.sheets["Tổng hợp"].range("A1").value == "của tôi"


def test_a_users_sheet_with_a_result_name_is_left_alone(excel: StandIn, plan_xlsx: Path) -> None:
    book = excel.open(plan_xlsx)
    mine = book.sheets.add("Tổng hợp", after=book.sheets[len(book.sheets) - 1])
    mine.range("A1").value = "ghi chép của tôi"
    out = dispatch("btnAllocate", XlwingsBook(book))
    assert out.exit_code == EXIT_OK, excel.alerts[-1][0]
    assert book.sheets["Tổng hợp"].range("A1").value == "ghi chép của tôi"
    assert out.renamed == {"Tổng hợp": "Tổng hợp (2)"} and "Tổng hợp (2)" in out.written
    assert "«Tổng hợp (2)»" in excel.alerts[-1][0]
    # The next run reuses our "Tổng hợp (2)" (it is marked) and still leaves the user's alone.
    again = dispatch("btnAllocate", XlwingsBook(book))
    assert again.renamed == {"Tổng hợp": "Tổng hợp (2)"} and _names(book).count("Tổng hợp (2)") == 1
    assert book.sheets["Tổng hợp"].range("A1").value == "ghi chép của tôi"


def test_a_table_name_a_users_sheet_has_is_not_taken(excel: StandIn) -> None:
    book = excel.new()
    sheet = book.sheets[0]
    sheet.range("A1:B2").value = [["a", "b"], [1, 2]]
    sheet.tables.add(source=sheet.range("A1:B2"), name="KQ_NhatKy")
    out = dispatch("btnValidate", XlwingsBook(book))  # an empty workbook: errors + log sheets
    assert out.exit_code == 1
    tables = {t.name: s.name for s in book.sheets for t in s.tables}
    assert tables["KQ_NhatKy"] == sheet.name and tables.get("KQ_NhatKy_2") == "Nhật ký"


def test_a_failure_while_drawing_is_rolled_back_and_says_so(excel: StandIn, monkeypatch) -> None:
    book = excel.new()
    xb = XlwingsBook(book)
    xb.write_sheets([_spec("Nhật ký", [["cũ"], ["x", "y"]], tables=[TableSpec("KQ_NhatKy", "A2:B2")])])
    before = (_names(book), {t.name for s in book.sheets for t in s.tables})
    calls: list[str] = []
    real = __import__("budgetlib.addin.xlbook", fromlist=["draw_sheet"]).draw_sheet

    def flaky(sheet: Any, spec: SheetSpec, warnings: Any = None) -> None:
        calls.append(spec.name)
        if len(calls) == 2:
            raise RuntimeError("Excel is busy")
        real(sheet, spec, warnings)

    monkeypatch.setattr("budgetlib.addin.xlbook.draw_sheet", flaky)
    with pytest.raises(WriteFailed) as caught:
        xb.write_sheets([_spec("Phân bổ", [["a"]]), _spec("Nhật ký", [["mới"]])])
    assert caught.value.report.rolled_back is True and caught.value.report.leftovers == []
    assert (_names(book), {t.name for s in book.sheets for t in s.tables}) == before
    assert book.sheets["Nhật ký"].range("A1").value == "cũ" and xb.sheet_marks()["Nhật ký"]
    assert book.app.screen_updating is True


def test_a_failure_after_the_point_of_no_return_is_reported_exactly(excel: StandIn, plan_xlsx: Path, monkeypatch) -> None:
    book = excel.open(plan_xlsx)
    assert dispatch("btnAllocate", XlwingsBook(book)).exit_code == EXIT_OK
    # The last step deletes the old result sheets. A failure there (mocked: Excel refusing a delete)
    # leaves the new sheets in place and an old one under its temporary name.
    real = xlwings.main.Sheet.delete
    seen: list[str] = []

    def refuse_second(self: Any) -> None:
        seen.append(self.name)
        if len(seen) == 2:
            raise RuntimeError("Excel refused to delete the sheet")
        real(self)

    monkeypatch.setattr(xlwings.main.Sheet, "delete", refuse_second)
    out = dispatch("btnAllocate", XlwingsBook(book))
    monkeypatch.undo()
    assert out.exit_code == EXIT_CRASH
    text = excel.alerts[-1][0]
    assert "giữa chừng" in text and "Đã ghi:" in text and "«~blold" in text and "không lưu" in text
    assert "trả về đúng như trước" not in text
    assert any(n.startswith("~blold") for n in _names(book)) and "Phân bổ" in _names(book)


def test_the_rollback_message_claims_only_what_was_checked(excel: StandIn, plan_xlsx: Path, monkeypatch) -> None:
    book = excel.open(plan_xlsx)
    before = _names(book)

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("the table could not be created")

    monkeypatch.setattr(xlwings.main.Tables, "add", boom)
    out = dispatch("btnAllocate", XlwingsBook(book))
    assert out.exit_code == EXIT_CRASH and _names(book) == before
    text = excel.alerts[-1][0]
    assert "trả về đúng như trước khi bấm nút (đã kiểm tra)" in text and "the table could not be created" in text


def test_a_protected_workbook_is_refused_before_any_work(excel: StandIn, plan_xlsx: Path, monkeypatch) -> None:
    book = excel.open(plan_xlsx)
    book.api.Protect("", True)
    before = _names(book)
    called: list[Any] = []
    monkeypatch.setattr("budgetlib.pipeline.run_allocate", lambda *a, **k: called.append(a))
    out = dispatch("btnAllocate", XlwingsBook(book), lang="en")
    assert out.exit_code == EXIT_USAGE and not called and _names(book) == before
    assert "Protect Workbook" in excel.alerts[-1][0] and "nothing was written" in excel.alerts[-1][0]


def test_new_book_holds_exactly_the_template(excel: StandIn) -> None:
    from budgetlib.io.workbook import template_sheets

    caller = excel.new()
    out = dispatch("btnNew", XlwingsBook(caller))
    assert out.exit_code == EXIT_OK
    new = excel.app.books[len(excel.app.books) - 1]
    assert _names(new) == [s.name for s in template_sheets(lang="vi")]  # no blank "Sheet1" left
    # Dropdowns with literal lists are drawn (pyOpenVBA cannot hold lists read from another sheet).
    literal = [(spec.name, v) for spec in template_sheets(lang="vi") for v in spec.validations if v.values]
    drawn = [str(new.sheets[name].range(v.ref.split(":")[0]).api.Validation.Formula1) for name, v in literal[:4]]
    assert drawn and all("," in f for f in drawn), drawn


def test_a_new_book_that_fails_is_closed_unsaved(excel: StandIn, monkeypatch) -> None:
    caller = excel.new()
    count = len(excel.app.books)

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr("budgetlib.addin.xlbook.draw_sheet", boom)
    out = dispatch("btnNew", XlwingsBook(caller))
    assert out.exit_code == EXIT_CRASH and len(excel.app.books) == count
    assert "out of memory" in excel.alerts[-1][0]


def test_allocate_uses_only_what_both_backends_implement(excel: StandIn, plan_xlsx: Path, caplog) -> None:
    book = excel.open(plan_xlsx)
    with caplog.at_level("WARNING", logger="budgetlib.addin"):
        out = dispatch("btnAllocate", XlwingsBook(book))
    assert out.exit_code == EXIT_OK
    # Cosmetic steps may only fail where pyOpenVBA lacks an Excel member — never for an xlwings gap.
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("could not draw")]
    assert not [f for f in failures if "NotImplementedError" in f], failures
    assert all(any(gap in f for gap in STANDIN_GAPS) for f in failures), failures
    missing_on_mac = sorted((cls, m) for cls, m in excel.used if m not in MAC_MEMBERS.get(cls, set()) and m.rstrip("=") not in MAC_MEMBERS.get(cls, set()))
    assert not missing_on_mac, f"xlwings' macOS backend lacks: {missing_on_mac}"
    assert book.app.status_bar in (False, "", None) and book.app.screen_updating is True


def test_frozen_panes_are_set_on_every_sheet_that_asks(excel: StandIn, plan_xlsx: Path) -> None:
    book = excel.open(plan_xlsx)
    out = dispatch("btnAllocate", XlwingsBook(book))
    window = book.api.Windows(1)
    for name, (rows, cols) in {"Phân bổ": (3, 0), "Năm 2021": (3, 2)}.items():
        assert name in out.written
        book.sheets[name].activate()
        assert (window.FreezePanes, window.SplitRow, window.SplitColumn) == (True, rows, cols), name

"""Acceptance: every button's whole path — the VBA callback, the Python command it hands to RunPython,
``on_button``, the result sheets — against the stand-in for Excel, giving the same sheets as the CLI.

The built add-in is clicked in pyOpenVBA's VBA interpreter (all its modules, xlwings' own included;
only ``RunPython`` intercepted); the command it produces runs in this process with the workbook that
was active as ``xw.Book.caller()``; the sheets are written by xlwings' own Windows backend into
pyOpenVBA's Excel, saved, and compared cell by cell (value, formula or not, number format, bold),
with tables, frozen panes and markers, against what ``budgetlib allocate`` writes for the same plan
(the Hải Phòng 2011–2015 plan).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from budgetlib.addin.build import ADDIN_NAME, build_addin
from budgetlib.addin.xlbook import XlwingsBook
from budgetlib.io import load_plan
from budgetlib.io.workbook import write_plan_workbook

from .addin_standin import MAC_MEMBERS, VbaSession

ROOT = Path(__file__).resolve().parent.parent
HAIPHONG = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"
RUN_TIME_LABELS = {"Thời điểm chạy (UTC)", "Run time (UTC)", "Mã kiểm tra SHA-256 đầu vào", "Input SHA-256", "Tệp đầu vào", "Input file"}


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(tmp_path / "addin.log"))


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("addin") / ADDIN_NAME
    build_addin(out, interpreter="python")
    return out


@pytest.fixture(scope="module")
def plan_xlsx(tmp_path_factory) -> Path:
    return write_plan_workbook(load_plan(HAIPHONG), tmp_path_factory.mktemp("plan") / "haiphong.xlsx")


@pytest.fixture(scope="module")
def cli_allocate(plan_xlsx: Path, tmp_path_factory) -> Path:
    from budgetlib.cli import main

    folder = tmp_path_factory.mktemp("cli")
    src = shutil.copyfile(plan_xlsx, folder / plan_xlsx.name)
    out = folder / "ket_qua.xlsx"
    assert main(["allocate", str(src), "-o", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="module")
def tiny_xlsx(tmp_path_factory) -> Path:
    from budgetlib.planning.validation import load_plan_data

    from .conftest import tiny_plan_data

    return write_plan_workbook(load_plan_data(tiny_plan_data()), tmp_path_factory.mktemp("tiny") / "kehoach.xlsx")


@pytest.fixture(scope="module")
def excel(addin: Path):
    """One Excel with the add-in loaded for the module; each test opens its own workbook in it."""
    s = VbaSession(addin)
    yield s
    s.close()


@pytest.fixture
def session(excel: VbaSession, tiny_xlsx: Path, tmp_path: Path) -> VbaSession:
    excel.open(shutil.copyfile(tiny_xlsx, tmp_path / tiny_xlsx.name))
    return excel


def _press(session: VbaSession, button_id: str) -> None:
    command = session.click(button_id)
    assert f"a.on_button('{button_id}'" in command
    session.run_command(command)


def _cells(ws: Any) -> list[tuple[str, Any, bool, str, bool]]:
    """(cell, value, is formula, number format, bold) of every non-empty cell; run-specific rows masked."""
    out = []
    for row in ws.iter_rows():
        label = row[0].value if row else None
        for c in row:
            if c.value is None or c.value == "":
                continue
            value = "<run>" if label in RUN_TIME_LABELS and c.column > 1 else c.value
            out.append((c.coordinate, value, c.data_type == "f", c.number_format, bool(c.font and c.font.b)))
    return out


def _assert_same_results(ours: Path, theirs: Path, sheets: list[str]) -> None:
    a, b = openpyxl.load_workbook(ours), openpyxl.load_workbook(theirs)
    for name in sheets:
        assert name in a.sheetnames and name in b.sheetnames, name
        assert _cells(a[name]) == _cells(b[name]), name
        assert sorted(a[name].tables) == sorted(b[name].tables), name
        assert a[name].freeze_panes == b[name].freeze_panes, name


def _cells_of(session: VbaSession, book: Any, path: Path, sheet: str) -> list[Any]:
    return _cells(openpyxl.load_workbook(session.standin.save(book, path))[sheet])


def _cli_cells(session: VbaSession, out: Path, what: str, sheet: str) -> list[Any]:
    """The sheet as the CLI's writer draws the same pipeline result for the workbook on disk."""
    from budgetlib.io.workbook import OpenpyxlBook, write_result_workbook
    from budgetlib.pipeline import compare_policies, run_validate, sha256_file

    assert session.workbook_path is not None
    book = OpenpyxlBook(session.workbook_path)
    checked = run_validate(book, source_name=session.workbook_path.name, input_sha256=sha256_file(session.workbook_path))
    book.close()
    specs = checked.sheets if what == "validate" else compare_policies(checked.plan, ("proportional", "min_deviation"))
    write_result_workbook(specs, out, source=session.workbook_path)
    return _cells(openpyxl.load_workbook(out)[sheet])


def _result_names(path: Path) -> list[str]:
    from budgetlib.addin.filebook import marked_sheets

    marked = marked_sheets(path)
    return [n for n in openpyxl.load_workbook(path, read_only=True).sheetnames if n in marked]


def test_allocate_from_the_ribbon_writes_what_the_cli_writes(excel: VbaSession, plan_xlsx: Path, cli_allocate: Path, tmp_path: Path) -> None:
    session = excel
    session.open(shutil.copyfile(plan_xlsx, tmp_path / plan_xlsx.name))
    _press(session, "btnAllocate")
    prompt = session.standin.alerts[-1][0]
    assert prompt.startswith("Đã phân bổ 22.500.000.000 đ"), prompt
    book = session.active_book()
    saved = session.standin.save(book, tmp_path / "addin.xlsx")
    ours = [n for n, marked in XlwingsBook(book).sheet_marks().items() if marked]
    inputs = openpyxl.load_workbook(session.workbook_path, read_only=True).sheetnames
    theirs = [n for n in openpyxl.load_workbook(cli_allocate, read_only=True).sheetnames if n not in inputs]
    assert _result_names(saved) == ours == theirs == ["Phân bổ", "Năm 2011", "Năm 2012", "Năm 2013", "Năm 2014", "Năm 2015", "Tổng hợp", "Chỉ tiêu đạt", "Giải thích", "Nhật ký"]
    _assert_same_results(saved, cli_allocate, ours)
    # Input sheets are untouched: the same cells as the plan workbook the officer opened.
    plan, after = openpyxl.load_workbook(session.workbook_path), openpyxl.load_workbook(saved)
    for name in plan.sheetnames:
        assert _cells(after[name]) == _cells(plan[name]), name
    # Everything the Windows backend was asked for, xlwings' macOS backend has too.
    missing = sorted((cls, m) for cls, m in session.standin.used if m not in MAC_MEMBERS.get(cls, set()))
    assert not missing, missing


def test_validate_compare_refresh_from_the_ribbon(session: VbaSession, tmp_path: Path) -> None:
    book = session.active_book()
    xb = XlwingsBook(book)

    def ours() -> list[str]:
        return [n for n, marked in xb.sheet_marks().items() if marked]

    _press(session, "btnValidate")
    assert ours() == ["Nhật ký"] and session.standin.alerts[-1][0].startswith("Kế hoạch hợp lệ.")
    assert _cells_of(session, book, tmp_path / "v.xlsx", "Nhật ký") == _cli_cells(session, tmp_path / "cli_v.xlsx", "validate", "Nhật ký")
    _press(session, "btnRefresh")  # nothing to refresh yet
    assert "«Phân bổ»" in session.standin.alerts[-1][0] and ours() == ["Nhật ký"]
    _press(session, "btnCompare")
    assert "So sánh" in ours() and "Phân bổ" not in ours()
    assert _cells_of(session, book, tmp_path / "c.xlsx", "So sánh") == _cli_cells(session, tmp_path / "cli_c.xlsx", "compare", "So sánh")
    compare = book.sheets["So sánh"].used_range.options(ndim=2).value
    assert any("Theo tỷ lệ nhu cầu" in str(v) or "proportional" in str(v) for row in compare for v in row)
    _press(session, "btnAllocate")
    assert {"Phân bổ", "Năm 2021", "Tổng hợp", "Nhật ký"} <= set(ours()) and "So sánh" not in ours()
    # Change an input and refresh: the report follows the inputs (a district's population).
    before = book.sheets["Tổng hợp"].used_range.options(ndim=2).value
    units = book.sheets["Địa bàn"]
    units.range("E4").value = units.range("E4").value * 3
    _press(session, "btnRefresh")
    assert "Đã làm mới" in session.standin.alerts[-1][0]
    assert book.sheets["Tổng hợp"].used_range.options(ndim=2).value != before


def test_new_workbook_from_the_ribbon_is_the_cli_template(session: VbaSession, tmp_path: Path) -> None:
    from budgetlib.cli import main

    count = len(session.standin.app.books)
    _press(session, "btnNew")
    assert len(session.standin.app.books) == count + 1
    new = session.standin.app.books[count]
    assert main(["template", str(tmp_path / "cli.xlsx")]) == 0
    cli = openpyxl.load_workbook(tmp_path / "cli.xlsx")
    assert [s.name for s in new.sheets] == cli.sheetnames  # no leftover blank sheet
    for ws in cli.worksheets:  # (pyOpenVBA cannot save notes on rows with wrapped text: compared in memory)
        theirs = [[c.value for c in row] for row in ws.iter_rows()]
        ours = new.sheets[ws.title].range((1, 1), (ws.max_row, ws.max_column)).options(ndim=2).value
        assert [[None if v == "" else v for v in row] for row in ours] == [[None if v == "" else v for v in row] for row in theirs], ws.title


@pytest.mark.parametrize("button_id", ["btnLog", "btnGuide", "btnVersion"])
def test_the_other_buttons_from_the_ribbon(session: VbaSession, button_id: str, monkeypatch) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(XlwingsBook, "open_path", lambda self, p: opened.append(p))  # the OS's file opener
    sheets = [s.name for s in session.active_book().sheets]
    _press(session, button_id)
    assert [s.name for s in session.active_book().sheets] == sheets
    if button_id == "btnVersion":
        assert "Các phiên bản khớp nhau." in session.standin.alerts[-1][0]
    else:
        assert len(opened) == 1 and opened[0].exists()


def test_names_that_look_like_formulas_stay_text_all_the_way(excel: VbaSession, tmp_path: Path) -> None:
    """Issue 10: a unit or task named "=HYPERLINK(…)" must never become a live formula."""
    from budgetlib.planning.validation import load_plan_data

    from .conftest import tiny_plan_data

    hostile = ['=HYPERLINK("http://evil.example","bấm")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)"]
    data = tiny_plan_data()
    data["units"][0]["name"], data["units"][1]["name"] = hostile[0], hostile[1]
    data["tasks"][0]["name"], data["tasks"][1]["name"] = hostile[2], hostile[3]
    path = write_plan_workbook(load_plan_data(data), tmp_path / "hostile.xlsx")
    excel.open(path)
    _press(excel, "btnAllocate")
    assert excel.standin.alerts[-1][0].startswith("Đã phân bổ"), excel.standin.alerts[-1][0]
    saved = openpyxl.load_workbook(excel.standin.save(excel.active_book(), tmp_path / "out.xlsx"))
    ours = re.compile(r"=(SUM\([A-Z]+\d+:[A-Z]+\d+\)|[A-Z]+\d+-[A-Z]+\d+|IF\([A-Z]+\d+=0,\"\",[A-Z]+\d+/[A-Z]+\d+\))")
    formulas = [c.value for ws in saved.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas and all(ours.fullmatch(f) for f in formulas), [f for f in formulas if not ours.fullmatch(f)][:5]
    texts = {c.value for ws in saved.worksheets for row in ws.iter_rows() for c in row if c.data_type == "s"}
    assert set(hostile) <= texts

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
from budgetlib.io.workbook import OpenpyxlBook, write_plan_workbook

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
            out.append((c.coordinate, value, c.data_type == "f", _same_format(c.number_format), bool(c.font and c.font.b)))
    return out


def _same_format(code: str) -> str:
    """A number format as it means: Excel writes a literal ``-``, ``(``, ``)`` or space escaped in the
    file (``yyyy\\-mm\\-dd``), openpyxl as given (``yyyy-mm-dd``); both show the same."""
    return re.sub(r"\\([-() ])", r"\1", code)


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
    from budgetlib.pipeline import run_scenarios, run_validate, sha256_file

    assert session.workbook_path is not None
    book = OpenpyxlBook(session.workbook_path)
    checked = run_validate(book, source_name=session.workbook_path.name, input_sha256=sha256_file(session.workbook_path))
    # A plan without a Kịch bản sheet: the comparison of the allocation methods, as the ribbon asks for it.
    specs = checked.sheets if what == "validate" else run_scenarios(book, fallback_policies=("proportional", "max_min")).sheets
    book.close()
    write_result_workbook(specs, out, source=session.workbook_path)
    return _cells(openpyxl.load_workbook(out)[sheet])


def _live_cells(book: Any, sheet: str) -> list[tuple[str, Any, bool, str, bool]]:
    """:func:`_cells` of a sheet of the live workbook, read through xlwings (the Windows backend)."""
    ws = book.sheets[sheet]
    used = ws.used_range
    values = used.options(ndim=2).value
    formulas = used.options(ndim=2).formula
    out = []
    for r, row in enumerate(values):
        label = row[0] if row else None
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            cell = ws.range((used.row + r, used.column + c))
            formula = formulas[r][c]
            is_formula = isinstance(formula, str) and formula.startswith("=")
            shown = "<run>" if label in RUN_TIME_LABELS and c > 0 else (formula if is_formula else value)
            if isinstance(shown, float) and shown.is_integer() and not is_formula:
                shown = int(shown)
            out.append((cell.address.replace("$", ""), shown, is_formula, _same_format(cell.number_format), bool(cell.font.bold)))
    return out


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
    assert _result_names(saved) == ours == theirs == ["Phân bổ", "Năm 2011", "Năm 2012", "Năm 2013", "Năm 2014", "Năm 2015", "Tổng hợp", "Chỉ tiêu đạt", "Phụ lục", "Giải thích", "Nhật ký"]
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
    assert "So sánh kịch bản" in ours() and "Phân bổ" not in ours()
    for sheet in ("So sánh kịch bản", "KB theo địa bàn"):
        assert _cells_of(session, book, tmp_path / "c.xlsx", sheet) == _cli_cells(session, tmp_path / "cli_c.xlsx", "compare", sheet)
    _press(session, "btnAllocate")
    assert {"Phân bổ", "Năm 2021", "Tổng hợp", "Nhật ký"} <= set(ours()) and "So sánh kịch bản" not in ours()
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


# ---------------------------------------------------------------------------------------------
# The buttons shared with the Calc menu (budgetlib.pipeline.desktop), clicked on the ribbon


@pytest.fixture(autouse=True)
def _store_env(monkeypatch) -> None:
    monkeypatch.delenv("BUDGETLIB_STORE", raising=False)
    monkeypatch.setenv("BUDGETLIB_USER", "Nguyễn Thị Lan")


def _ours(session: VbaSession) -> list[str]:
    return [n for n, marked in XlwingsBook(session.active_book()).sheet_marks().items() if marked]


def test_compare_from_the_ribbon_writes_what_budgetlib_scenarios_writes(excel: VbaSession, tmp_path: Path) -> None:
    from budgetlib.cli import main

    plan = ROOT / "examples" / "tanchau_2022" / "plan.xlsx"  # a plan with a Kịch bản sheet
    session = excel
    session.open(shutil.copyfile(plan, tmp_path / "tanchau.xlsx"))
    _press(session, "btnCompare")
    prompt = session.standin.alerts[-1][0]
    assert prompt.startswith("Đã so sánh «Kế hoạch gốc» với 1 phương án: «Không có kinh phí tỉnh».\nĐã ghi 6 trang: «So sánh kịch bản»"), prompt
    saved = session.standin.save(session.active_book(), tmp_path / "addin.xlsx")
    cli = tmp_path / "cli" / "tanchau_kich_ban.xlsx"
    cli.parent.mkdir()
    assert main(["scenarios", str(shutil.copyfile(plan, tmp_path / "cli" / "tanchau.xlsx")), "-o", str(cli), "-q"]) == 0
    names = openpyxl.load_workbook(cli, read_only=True).sheetnames
    assert _ours(session) == names == ["So sánh kịch bản", "KB theo địa bàn", "KB theo nhiệm vụ", "KB theo năm", "KB theo nguồn", "KB chỉ tiêu"]
    _assert_same_results(saved, cli, names)


def test_save_version_and_history_from_the_ribbon_then_allocate_cites_it(excel: VbaSession, tiny_xlsx: Path, tmp_path: Path) -> None:
    from budgetlib.cli import main

    session = excel
    folder = tmp_path / "so"
    folder.mkdir()
    session.open(shutil.copyfile(tiny_xlsx, folder / tiny_xlsx.name))
    store = folder / "budgetlib-store.sqlite"
    _press(session, "btnSaveVersion")
    prompt = session.standin.alerts[-1][0]
    assert prompt.startswith("Đã lưu phiên bản T@1 (Dự thảo), mã kiểm tra ") and f"Kho phiên bản: {store} (cạnh sổ)." in prompt, prompt
    assert _ours(session) == ["Lịch sử phiên bản", "Phiên bản"] and store.is_file()
    _press(session, "btnAllocate")
    prompt = session.standin.alerts[-1][0]
    assert "Nhật ký ghi phiên bản T@1 · " in prompt, prompt
    log = session.active_book().sheets["Nhật ký"].used_range.options(ndim=2).value
    assert any(row[0] == "Phiên bản kế hoạch trong kho" and str(row[1]).startswith("T@1 · ") for row in log)
    assert "Lịch sử phiên bản" not in _ours(session)  # Phân bổ leaves exactly its own results, as the CLI
    _press(session, "btnHistory")
    assert session.standin.alerts[-1][0].startswith("Kho có 1 phiên bản của kế hoạch T (1 sự kiện); mới nhất là T@1 (Dự thảo).")
    assert {"Phân bổ", "Lịch sử phiên bản", "Phiên bản"} <= set(_ours(session))  # the history leaves the allocation alone
    saved = session.standin.save(session.active_book(), tmp_path / "addin.xlsx")  # (Save As: the workbook moves)
    cli = tmp_path / "lich_su.xlsx"
    assert main(["store", "history", "T", "--store", str(store), "--xlsx", str(cli)]) == 0
    _assert_same_results(saved, cli, ["Lịch sử phiên bản", "Phiên bản"])


@pytest.fixture(scope="module")
def cycle_xlsx(tmp_path_factory) -> Path:
    """The Hải Phòng plan workbook holding its own Thực hiện sheets, reported up to mid-2013."""
    from budgetlib.cycle import original_state
    from budgetlib.io.workbook.actuals import actuals_sheets
    from budgetlib.model.actuals import Actuals, Period

    folder = ROOT / "examples" / "haiphong_2011_2015_cycle"
    plan = load_plan(folder / "plan.json")
    doc = Actuals.from_json((folder / "actuals.json").read_text(encoding="utf-8")).up_to(Period(2013, 1))
    return write_plan_workbook(plan, tmp_path_factory.mktemp("cycle") / "ke_hoach.xlsx", extra=actuals_sheets(plan, original_state(plan), actuals=doc))


def test_progress_from_the_ribbon_writes_what_budgetlib_progress_writes(excel: VbaSession, cycle_xlsx: Path, tmp_path: Path) -> None:
    from budgetlib.cli import main

    session = excel
    session.open(shutil.copyfile(cycle_xlsx, tmp_path / cycle_xlsx.name))
    _press(session, "btnProgress")
    prompt = session.standin.alerts[-1][0]
    assert prompt.startswith("Tiến độ thực hiện 6 tháng đầu năm 2013: đã giải ngân "), prompt
    book = session.active_book()
    ours = _ours(session)
    folder = tmp_path / "cli"
    folder.mkdir()
    src = shutil.copyfile(cycle_xlsx, folder / cycle_xlsx.name)
    out = folder / "tien_do.xlsx"
    assert main(["progress", str(src), "--period", "2013H1", "-o", str(out), "-q"]) == 0
    from budgetlib.core.i18n import tr
    from budgetlib.pipeline import run_progress

    p = run_progress(OpenpyxlBook(src), "2013H1").progress
    assert p is not None and prompt.startswith(tr("desktop.progress.done", "vi", period=p.period.label(), allocated=int(p.total_allocated),
                                                  disbursed=int(p.total_disbursed), rate=p.total_disbursed / p.total_allocated,
                                                  flags=len(p.flags)))
    names = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert ours == names == ["Tiến độ", "Tiến độ nhiệm vụ", "Tiến độ chỉ tiêu", "Báo cáo 6 tháng", "Nhật ký"]
    # (pyOpenVBA cannot save notes on rows of wrapped text, which these sheets have: compared in the live workbook.)
    cli = openpyxl.load_workbook(out)
    compared = 0
    for name in names:
        live = _live_cells(book, name)
        assert live == _cells(cli[name]), name
        assert sorted(t.name for t in book.sheets[name].tables) == sorted(cli[name].tables), name
        compared += len(live)
    assert compared > 300


def test_pdf_from_the_ribbon_goes_beside_the_workbook(excel: VbaSession, tiny_xlsx: Path, tmp_path: Path) -> None:
    from budgetlib.cli import main

    session = excel
    path = shutil.copyfile(tiny_xlsx, tmp_path / "ke_hoach.xlsx")
    session.open(path)
    before = [s.name for s in session.active_book().sheets]
    _press(session, "btnPdf")
    pdf = tmp_path / "ke_hoach_bao_cao.pdf"
    assert session.standin.alerts[-1][0].startswith(f"Đã xuất báo cáo PDF: {pdf}") and pdf.is_file()
    assert [s.name for s in session.active_book().sheets] == before  # a clean run writes no sheet
    cli = tmp_path / "cli" / "ke_hoach.xlsx"
    cli.parent.mkdir()
    shutil.copyfile(tiny_xlsx, cli)
    assert main(["report", str(cli), "--pdf", str(tmp_path / "cli" / "so.pdf")]) == 0
    assert pdf.read_bytes() == (tmp_path / "cli" / "so.pdf").read_bytes()
    _press(session, "btnPdf")
    assert session.standin.alerts[-1][0].startswith(f"Báo cáo không đổi so với tệp đã có: {pdf}")

"""The Calc extension in real LibreOffice: built, installed with unopkg, every command dispatched by
its menu URL into a live document, the results checked against the CLI and against Python's sums.

One headless ``soffice`` for the module (fresh profile, the built ``budgetlib.oxt`` installed with
``unopkg add``), driven over a UNO socket by ``libreoffice/devtools/unodriver.py`` running in
LibreOffice's own Python. Dialogs return at once in headless LibreOffice; the extension logs
every dialog it shows (``DIALOG {json}`` in the run log) before showing it, and the tests read that.

Skipped, saying what to install, only when LibreOffice is absent (and then failed in CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from budgetlib.io.grid import RESULT_MARKER_NAME, Formula
from budgetlib.io.workbook import OpenpyxlBook, read_workbook
from budgetlib.io.workbook.results import read_allocation_records
from budgetlib.pipeline import run_allocate

from .conftest import EXAMPLES, ROOT, in_ci

sys.path.insert(0, str(ROOT / "libreoffice" / "devtools"))
import office as lo

EXAMPLE = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"
INPUT_SHEETS = ["Hướng dẫn", "Chương trình", "Nguồn kinh phí", "Nhiệm vụ", "Cơ quan", "Phân công", "Địa bàn", "Chỉ tiêu",
                "Dự toán", "Chính sách phân bổ", "Báo cáo", "Giả định"]
URL = "org.budgetlib.calc:"


class Calc:
    """The running office, the run log, and a place for files."""

    def __init__(self, office: lo.Office, tmp: Path, log: Path, config: Path):
        self.office = office
        self.tmp = tmp
        self.log = log
        self.config = config
        self.n = 0

    def call(self, op, **kw):
        return self.office.call(op, **kw)

    def copy_example(self, name: str = "plan.xlsx") -> Path:
        self.n += 1
        folder = self.tmp / f"case{self.n}"
        folder.mkdir()
        dest = folder / name
        shutil.copyfile(EXAMPLE, dest)
        return dest

    def open(self, path: Path) -> int:
        return self.call("open", path=str(path))["doc"]

    def click(self, doc: int, command: str) -> list[dict]:
        """Dispatch a command as the menu does; the dialogs it showed."""
        start = self.log.stat().st_size if self.log.exists() else 0
        self.call("dispatch", doc=doc, url=URL + command)
        return self.dialogs(start)

    def dialogs(self, start: int = 0) -> list[dict]:
        text = self.log.read_bytes()[start:].decode("utf-8")
        return [json.loads(line.split(" DIALOG ", 1)[1]) for line in text.splitlines() if " DIALOG " in line]

    def sheets(self, doc: int) -> list[dict]:
        return self.call("sheets", doc=doc)

    def read(self, doc: int, sheet: str, detail: bool = False) -> dict:
        return self.call("read", doc=doc, sheet=sheet, detail=detail)

    def ui_language(self, locale: str) -> None:
        self.call("config", path="/org.openoffice.Setup/L10N", name="ooLocale", value=locale)


@pytest.fixture(scope="module")
def calc(tmp_path_factory):
    if lo.soffice_path() is None:
        if in_ci():
            pytest.fail("LibreOffice is required in CI: see .ci/run")
        pytest.skip("LibreOffice is not installed (Debian/Ubuntu: apt install libreoffice-calc-nogui python3-uno)")
    if lo.uno_python() is None:
        pytest.fail("LibreOffice is installed but Python-UNO is not (Debian/Ubuntu: apt install python3-uno)")
    from budgetlib.calc.build import build_extension

    tmp = tmp_path_factory.mktemp("calc_live")
    oxt = build_extension(tmp / "budgetlib.oxt").path
    config = tmp / "libreoffice.json"
    config.write_text(json.dumps({"python": sys.executable}), encoding="utf-8")
    log = tmp / "libreoffice.log"
    pythonpath = os.pathsep.join([str(ROOT), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])])
    env = {"BUDGETLIB_LO_CONFIG": str(config), "BUDGETLIB_LO_LOG": str(log), "PYTHONPATH": pythonpath,
           "BUDGETLIB_PYTHON": None, "BUDGETLIB_LANG": None}
    with lo.Office(tmp, oxt, env=env) as office:
        c = Calc(office, tmp, log, config)
        c.ui_language("vi")
        yield c


def _cli_result(plan: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "budgetlib", "allocate", str(plan), "-o", str(out), "-q"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return out


def _same(live, cli) -> bool:
    if cli is None or cli == "":
        return live in ("", None)
    if isinstance(cli, bool):
        return live == (1.0 if cli else 0.0)
    if isinstance(cli, (int, float)):
        return isinstance(live, float) and live == float(cli)
    return live == cli


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def allocated(calc):
    """Hải Phòng allocated once in the live document (kept open for the checks below)."""
    path = calc.copy_example()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    doc = calc.open(path)
    inputs = {name: calc.read(doc, name)["formulas"] for name in INPUT_SHEETS}
    dialogs = calc.click(doc, "btnAllocate")
    return {"doc": doc, "path": path, "sha": before, "inputs": inputs, "dialogs": dialogs}


def test_allocate_writes_the_cli_result_sheets(calc, allocated, tmp_path):
    doc = allocated["doc"]
    cli_plan = tmp_path / "plan.xlsx"
    shutil.copyfile(EXAMPLE, cli_plan)
    cli = load_workbook(_cli_result(cli_plan, tmp_path / "ket_qua.xlsx"))
    sheets = calc.sheets(doc)
    assert [s["name"] for s in sheets] == cli.sheetnames
    assert [s["name"] for s in sheets if not s["marked"]] == INPUT_SHEETS
    results = [s["name"] for s in sheets if s["marked"]]
    assert results[0] == "Phân bổ" and results[-1] == "Nhật ký" and len(results) == 11  # with the Phụ lục annex
    for name in results:
        live = calc.read(doc, name)
        ws = cli[name]
        for row in ws.iter_rows():
            for cell in row:
                r, c = cell.row - 1, cell.column - 1
                got_formula = live["formulas"][r][c] if r < len(live["formulas"]) and c < len(live["formulas"][r]) else ""
                got = live["values"][r][c] if r < len(live["values"]) and c < len(live["values"][r]) else ""
                if cell.data_type == "f":
                    assert got_formula.startswith("="), (name, cell.coordinate, got_formula)
                    continue
                if name == "Nhật ký" and ws.cell(cell.row, 1).value in ("Thời điểm chạy (UTC)",):
                    continue  # the one cell that depends on when it ran
                assert _same(got, cell.value), (name, cell.coordinate, got, cell.value)
    dialog = allocated["dialogs"][-1]
    assert dialog["severity"] == "info" and dialog["text"].startswith("Đã phân bổ 22.500.000.000 đ; đã ghi 11 trang: «Phân bổ»")


def test_formulas_recalculated_by_calc_equal_python_sums(calc, allocated):
    doc = allocated["doc"]
    outcome = run_allocate(read_workbook(EXAMPLE))
    a = outcome.allocation
    per = a.amounts.sum(axis=3)  # units × tasks × years
    checked = 0
    for spec in outcome.sheets:
        live = calc.read(doc, spec.name)
        formulas = [(r, c) for r, row in enumerate(spec.rows) for c, v in enumerate(row) if isinstance(v, Formula)]
        for r, c in formulas:
            assert live["formulas"][r][c].startswith("="), (spec.name, r, c)
            checked += 1
        if spec.name.startswith("Năm "):
            yi = list(a.years).index(int(spec.name.split()[1]))
            total_row = 3 + len(a.units)
            values = live["values"]
            assert values[total_row][0] == "Tổng cộng"
            assert [values[total_row][2 + t] for t in range(len(a.tasks))] == [float(x) for x in per[:, :, yi].sum(axis=0)]
            assert [values[3 + u][2 + len(a.tasks)] for u in range(len(a.units))] == [float(x) for x in per[:, :, yi].sum(axis=1)]
            assert values[total_row][2 + len(a.tasks)] == float(per[:, :, yi].sum())
    summary = calc.read(doc, "Tổng hợp")["values"]
    total = next(row for row in summary if row and row[0] == "Tổng cộng")
    assert total[2] == float(a.total) == 22_500_000_000.0
    assert checked > 50


def test_the_print_layout_is_drawn(calc, allocated):
    """The result sheets print as the CLI's workbook does: a page style of their own (paper,
    orientation, fit to one page wide, header and footer with the page number), repeated header
    rows, print area, merged and bold cells, row heights; wrapped rows fit their text."""
    # The run the click made: the saved file's name and checksum are in its run log (a wider sheet).
    outcome = run_allocate(read_workbook(EXAMPLE), source_name=allocated["path"].name, input_sha256=allocated["sha"])
    doc = allocated["doc"]
    for spec in outcome.sheets:
        page = spec.page
        assert page is not None, spec.name
        cells = [m.split(":")[0] for m in spec.merges[:3]] + [ref for ref, st in list(spec.styles.items())[:6] if st.bold]
        rows = sorted(spec.row_heights)[:4]
        live = calc.call("layout", doc=doc, sheet=spec.name, cells=cells, rows=rows)
        assert live["page_style"].startswith("budgetlib " + spec.name), live
        a4 = [29700, 21000] if live["landscape"] else [21000, 29700]
        assert live["landscape"] is (page.orientation == "landscape"), spec.name
        assert all(abs(got - want) <= 2 for got, want in zip(live["size"], a4)), live["size"]  # (Calc stores twips)
        assert live["scale_to_pages"] == [page.fit_width, page.fit_height]
        assert live["footer"] is not None and live["footer"][1].startswith("Trang ")
        if any(page.header):
            assert live["header"][:2] == [h.replace("&&", "&") for h in page.header[:2]]
        assert live["title_rows"] == (list(page.title_rows) if page.title_rows else None)
        c1, r1, c2, r2 = _area(page.area)
        assert live["print_areas"] == [[c1, r1, c2, r2]]
        assert all(live["merged"][m.split(":")[0]] for m in spec.merges[:3]), (spec.name, live["merged"])
        assert all(live["bold"][ref] for ref, st in list(spec.styles.items())[:6] if st.bold), spec.name
        for r in rows:
            assert abs(live["heights"][str(r)] - spec.row_heights[r] * 2540 / 72) <= 1, (spec.name, r)
    summary = calc.call("layout", doc=doc, sheet="Tổng hợp", rows=[6])  # "Quận Hồng Bàng": wrapped, one line at the final width
    assert summary["heights"]["6"] < 700


def _area(ref: str) -> tuple[int, int, int, int]:
    import re

    m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", ref)
    assert m is not None
    col = lambda s: sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(s))) - 1  # noqa: E731
    return col(m.group(1)), int(m.group(2)) - 1, col(m.group(3)), int(m.group(4)) - 1


def test_inputs_untouched_and_unsaved(calc, allocated):
    doc = allocated["doc"]
    for name, before in allocated["inputs"].items():
        assert calc.read(doc, name)["formulas"] == before, name
    state = calc.call("state", doc=doc)
    assert state["modified"] is True  # the officer decides when to save
    # The whole write is one undo step. (Undoing it needs a document view: headless LibreOffice
    # aborts on undoing a sheet insertion, so libreoffice/screenshots.py checks the undo itself.)
    assert state["undo"][-1] == "budgetlib: Phân bổ"
    assert hashlib.sha256(allocated["path"].read_bytes()).hexdigest() == allocated["sha"]


def test_save_and_reread_round_trips(calc, allocated, tmp_path):
    doc = allocated["doc"]
    saved = tmp_path / "da_luu.xlsx"
    calc.call("store", doc=doc, path=str(saved), filter="Calc MS Excel 2007 XML")
    assert read_workbook(saved) == read_workbook(EXAMPLE)
    outcome = run_allocate(read_workbook(EXAMPLE))
    a = outcome.allocation
    expected = {}
    for u, t, y, s in zip(*a.amounts.nonzero()):
        expected[(a.units[u], a.tasks[t], int(a.years[y]), a.sources[s])] = int(a.amounts[u, t, y, s])
    assert read_allocation_records(OpenpyxlBook(saved)) == expected
    wb = load_workbook(saved)
    for name in wb.sheetnames:
        marked = RESULT_MARKER_NAME in wb[name].defined_names
        assert marked == (name not in INPUT_SHEETS), name


def test_second_run_replaces_the_same_sheets(calc, allocated):
    doc = allocated["doc"]
    before = [s["name"] for s in calc.sheets(doc)]
    calc.click(doc, "btnAllocate")
    assert [s["name"] for s in calc.sheets(doc)] == before
    ranges = calc.call("state", doc=doc)["database_ranges"]
    assert not [r for r in ranges if r.startswith("budgetlib_old")]
    # The input sheets' tables survive (LibreOffice drops the database range of the sheet just
    # before a deleted one: the extension deletes sheets from the front to avoid that).
    assert {"GiaDinh", "BaoCao", "DuToan", "DiaBan"} <= set(ranges)
    assert {"KQ_PhanBo", "KQ_NhatKy"} <= set(ranges)
    charts = calc.call("charts", doc=doc)
    assert len(charts["Tổng hợp"]) == 1 and sum(len(v) for v in charts.values()) == 1
    assert " WARNING " not in calc.log.read_text(encoding="utf-8")  # every cosmetic part was drawn too


def test_a_users_sheet_with_a_result_name_is_left_alone(calc):
    doc = calc.open(calc.copy_example())
    calc.call("insert_sheet", doc=doc, name="Tổng hợp")
    calc.call("set", doc=doc, sheet="Tổng hợp", cell="A1", value="ghi chú của tôi")
    dialogs = calc.click(doc, "btnAllocate")
    names = {s["name"]: s["marked"] for s in calc.sheets(doc)}
    assert names["Tổng hợp"] is False and names["Tổng hợp (2)"] is True
    assert calc.read(doc, "Tổng hợp")["values"] == [["ghi chú của tôi"]]
    assert "«Tổng hợp (2)»" in dialogs[-1]["text"]
    calc.click(doc, "btnAllocate")  # ours is found again, not a "(3)"
    assert [s["name"] for s in calc.sheets(doc)].count("Tổng hợp (2)") == 1
    assert "Tổng hợp (3)" not in {s["name"] for s in calc.sheets(doc)}
    calc.call("close", doc=doc)


def test_user_text_is_written_as_text(calc):
    doc = calc.open(calc.copy_example())
    payload = '=HYPERLINK("http://example.invalid";"x")'
    calc.call("set", doc=doc, sheet="Địa bàn", cell="B4", value=payload)  # a unit name, typed by a user
    calc.click(doc, "btnAllocate")
    live = calc.read(doc, "Phân bổ")
    hits = [[r, c] for r, row in enumerate(live["values"]) for c, v in enumerate(row) if v == payload]
    assert hits
    assert set(calc.call("types", doc=doc, sheet="Phân bổ", cells=hits)) == {"TEXT"}
    calc.call("close", doc=doc)


def test_invalid_workbook_gives_the_error_sheet_and_a_dialog(calc):
    path = calc.copy_example()
    before = path.read_bytes()
    doc = calc.open(path)
    units = calc.read(doc, "Địa bàn")["values"]
    col = units[2].index("Dân số")  # header row 3
    ref = f"{chr(65 + col)}7"
    calc.call("set", doc=doc, sheet="Địa bàn", cell=ref, value="nhiều lắm")  # an unsaved edit
    dialogs = calc.click(doc, "btnValidate")
    assert dialogs[-1]["severity"] == "error"
    assert f"Địa bàn!{ref}" in dialogs[-1]["text"]
    marked = {s["name"]: s["marked"] for s in calc.sheets(doc)}
    assert marked["Lỗi"] is True
    errors = calc.read(doc, "Lỗi")["values"]
    assert any(row[0] == f"Địa bàn!{ref}" for row in errors)
    assert calc.read(doc, "Địa bàn")["values"][6][col] == "nhiều lắm"  # the edit is still there
    assert calc.call("state", doc=doc)["modified"] is True
    assert path.read_bytes() == before
    # Fixed and checked again: the stale error sheet goes.
    calc.call("set", doc=doc, sheet="Địa bàn", cell=ref, value=96111)
    dialogs = calc.click(doc, "btnValidate")
    assert dialogs[-1]["severity"] == "info" and dialogs[-1]["text"].startswith("Kế hoạch hợp lệ.")
    assert "Lỗi" not in {s["name"] for s in calc.sheets(doc)}
    calc.call("close", doc=doc)


def test_english_ui_gives_english_sheets_and_dialogs(calc):
    calc.ui_language("en-US")
    try:
        doc = calc.open(calc.copy_example())
        dialogs = calc.click(doc, "btnProgress")
        assert dialogs[-1]["severity"] == "warning" and dialogs[-1]["text"].startswith("The workbook “plan.xlsx” has no “Actuals”")
        calc.call("set", doc=doc, sheet="Dự toán", cell="E4", value="nhiều lắm")
        dialogs = calc.click(doc, "btnValidate")
        names = {s["name"] for s in calc.sheets(doc)}
        assert "Errors" in names and "Run log" in names, (names, dialogs)
        assert dialogs[-1]["severity"] == "error" and dialogs[-1]["text"].startswith("The plan has")
        assert "Dự toán!E4" in dialogs[-1]["text"]
        assert dialogs[-1]["title"] == "budgetlib – Budget"
        calc.call("close", doc=doc)
    finally:
        calc.ui_language("vi")


def _same_as_cli_sheets(calc: Calc, doc: int, cli_xlsx: Path, names: list[str]) -> int:
    """Every cell of the CLI's workbook equals the live document's (formulas: both are formulas;
    date-times: Calc's serial day number); returns how many cells were compared."""
    from datetime import datetime

    cli = load_workbook(cli_xlsx)
    compared = 0
    for name in names:
        live = calc.read(doc, name)
        ws = cli[name]
        for row in ws.iter_rows():
            for cell in row:
                r, c = cell.row - 1, cell.column - 1
                got_formula = live["formulas"][r][c] if r < len(live["formulas"]) and c < len(live["formulas"][r]) else ""
                got = live["values"][r][c] if r < len(live["values"]) and c < len(live["values"][r]) else ""
                if cell.data_type == "f":
                    assert got_formula.startswith("="), (name, cell.coordinate, got_formula)
                elif name in ("Nhật ký", "Run log") and ws.cell(cell.row, 1).value in ("Thời điểm chạy (UTC)", "Run time (UTC)"):
                    continue  # the one cell that depends on when it ran
                elif isinstance(cell.value, datetime):
                    serial = (cell.value - datetime(1899, 12, 30)).total_seconds() / 86400
                    assert abs(got - serial) < 1e-6, (name, cell.coordinate, got, cell.value)
                else:
                    assert _same(got, cell.value), (name, cell.coordinate, got, cell.value)
                compared += 1
    return compared


def test_compare_is_the_scenario_comparison_of_budgetlib_scenarios(calc, tmp_path):
    from budgetlib.cli import main

    plan = EXAMPLES / "tanchau_2022" / "plan.xlsx"  # a plan with a Kịch bản sheet
    doc = calc.open(shutil.copyfile(plan, calc.tmp / "tanchau.xlsx"))
    dialogs = calc.click(doc, "btnRefresh")
    assert dialogs[-1]["text"].startswith("Sổ này chưa có trang báo cáo nào")
    dialogs = calc.click(doc, "btnCompare")
    assert dialogs[-1]["severity"] == "info", dialogs
    assert dialogs[-1]["text"].startswith("Đã so sánh «Kế hoạch gốc» với 1 phương án: «Không có kinh phí tỉnh».")
    out = tmp_path / "tanchau_kich_ban.xlsx"
    assert main(["scenarios", str(shutil.copyfile(plan, tmp_path / "tanchau.xlsx")), "-o", str(out), "-q"]) == 0
    names = load_workbook(out, read_only=True).sheetnames
    assert [s["name"] for s in calc.sheets(doc) if s["marked"]] == names
    assert _same_as_cli_sheets(calc, doc, out, names) > 100
    dialogs = calc.click(doc, "btnRefresh")
    assert dialogs[-1]["text"].startswith("Đã làm mới các trang báo cáo từ dữ liệu nhập hiện tại.")
    assert [s["name"] for s in calc.sheets(doc) if s["marked"]] == names
    calc.call("close", doc=doc)


def test_save_version_history_and_the_cited_version(calc, tmp_path):
    from budgetlib.cli import main

    path = calc.copy_example()
    store = path.parent / "budgetlib-store.sqlite"
    doc = calc.open(path)
    dialogs = calc.click(doc, "btnSaveVersion")
    assert dialogs[-1]["severity"] == "info", dialogs
    assert dialogs[-1]["text"].startswith("Đã lưu phiên bản HP-PCMD-2011-2015@1 (Dự thảo)")
    assert f"Kho phiên bản: {store} (cạnh sổ)." in dialogs[-1]["text"] and store.is_file()
    assert [s["name"] for s in calc.sheets(doc) if s["marked"]] == ["Lịch sử phiên bản", "Phiên bản"]
    cli = tmp_path / "lich_su.xlsx"
    assert main(["store", "history", "HP-PCMD-2011-2015", "--store", str(store), "--xlsx", str(cli)]) == 0
    assert _same_as_cli_sheets(calc, doc, cli, ["Lịch sử phiên bản", "Phiên bản"]) > 10
    dialogs = calc.click(doc, "btnAllocate")
    assert "Nhật ký ghi phiên bản HP-PCMD-2011-2015@1 · " in dialogs[-1]["text"]
    log = {row[0]: row[1] for row in calc.read(doc, "Nhật ký")["values"] if len(row) > 1}
    assert log["Phiên bản kế hoạch trong kho"].startswith("HP-PCMD-2011-2015@1 · ")
    assert path.read_bytes() == EXAMPLE.read_bytes()  # the officer's file is not saved behind their back
    calc.call("close", doc=doc)


@pytest.fixture(scope="module")
def cycle_xlsx(tmp_path_factory) -> Path:
    """The Hải Phòng plan workbook holding its own Thực hiện sheets, reported up to mid-2013."""
    from budgetlib.cycle import original_state
    from budgetlib.io import load_plan
    from budgetlib.io.workbook import write_plan_workbook
    from budgetlib.io.workbook.actuals import actuals_sheets
    from budgetlib.model.actuals import Actuals, Period

    folder = EXAMPLES / "haiphong_2011_2015_cycle"
    plan = load_plan(folder / "plan.json")
    doc = Actuals.from_json((folder / "actuals.json").read_text(encoding="utf-8")).up_to(Period(2013, 1))
    return write_plan_workbook(plan, tmp_path_factory.mktemp("cycle") / "ke_hoach.xlsx",
                               extra=actuals_sheets(plan, original_state(plan), actuals=doc))


def test_progress_writes_what_budgetlib_progress_writes(calc, cycle_xlsx, tmp_path):
    from budgetlib.cli import main

    calc.n += 1
    folder = calc.tmp / f"case{calc.n}"
    folder.mkdir()
    doc = calc.open(shutil.copyfile(cycle_xlsx, folder / cycle_xlsx.name))
    dialogs = calc.click(doc, "btnProgress")
    assert dialogs[-1]["severity"] == "info", dialogs
    assert dialogs[-1]["text"].startswith("Tiến độ thực hiện 6 tháng đầu năm 2013: đã giải ngân ")
    out = tmp_path / "tien_do.xlsx"
    assert main(["progress", str(shutil.copyfile(cycle_xlsx, tmp_path / cycle_xlsx.name)), "--period", "2013H1", "-o", str(out), "-q"]) == 0
    names = load_workbook(out, read_only=True).sheetnames
    assert [s["name"] for s in calc.sheets(doc) if s["marked"]] == names
    assert _same_as_cli_sheets(calc, doc, out, names) > 300
    calc.call("close", doc=doc)


def test_pdf_report_beside_the_document_is_the_clis_book(calc, tmp_path):
    from budgetlib.cli import main

    path = calc.copy_example("ke_hoach.xlsx")
    shutil.copyfile(EXAMPLES / "haiphong_2011_2015" / "boundaries.geojson", path.parent / "boundaries.geojson")
    doc = calc.open(path)
    calc.call("set", doc=doc, sheet="Chương trình", cell="A30", value="ghi chú chưa lưu")  # an unsaved edit outside the tables
    dialogs = calc.click(doc, "btnPdf")
    pdf = path.parent / "ke_hoach_bao_cao.pdf"
    assert dialogs[-1] == {"severity": "info", "title": "budgetlib – Ngân sách", "text": f"Đã xuất báo cáo PDF: {pdf}"}
    cli = tmp_path / "ke_hoach.xlsx"
    shutil.copyfile(EXAMPLE, cli)
    shutil.copyfile(EXAMPLES / "haiphong_2011_2015" / "boundaries.geojson", tmp_path / "boundaries.geojson")
    assert main(["report", str(cli), "--pdf", str(tmp_path / "so.pdf")]) == 0
    assert pdf.read_bytes() == (tmp_path / "so.pdf").read_bytes()
    assert not any(s["marked"] for s in calc.sheets(doc))  # nothing written into the document
    assert calc.call("state", doc=doc)["modified"] is True and path.read_bytes() == EXAMPLE.read_bytes()
    calc.call("close", doc=doc)


def test_new_workbook_opens_the_template(calc):
    from budgetlib.io.workbook import template_sheets

    doc = calc.open(calc.copy_example())
    before = {d["doc"] for d in calc.call("docs")}
    assert calc.click(doc, "btnNew") == []
    new = [d for d in calc.call("docs") if d["doc"] not in before]
    assert len(new) == 1
    specs = template_sheets(lang="vi")
    assert new[0]["sheets"] == [s.name for s in specs]
    assert not any(s["marked"] for s in calc.sheets(new[0]["doc"]))
    by_name = {s.name: s for s in specs}
    values = calc.read(new[0]["doc"], "Chương trình")["values"]
    for r, row in enumerate(by_name["Chương trình"].rows):
        for c, v in enumerate(row):
            assert _same(values[r][c], v), (r, c, values[r][c], v)
    assert calc.call("validation", doc=new[0]["doc"], sheet="Phân công", cell="A4") == {"type": "LIST", "formula": "$'Nhiệm vụ'.$A$4:$A$203"}
    literal = calc.call("validation", doc=new[0]["doc"], sheet="Địa bàn", cell="C4")
    assert literal["type"] == "LIST" and '"Quận"' in literal["formula"]
    assert calc.call("notes", doc=new[0]["doc"], sheet="Địa bàn") == by_name["Địa bàn"].comments
    calc.call("close", doc=new[0]["doc"])
    calc.call("close", doc=doc)


def test_version_guide_and_log(calc):
    from budgetlib import __version__

    doc = calc.open(calc.copy_example())
    dialogs = calc.click(doc, "btnVersion")
    text = dialogs[-1]["text"]
    assert f"budgetlib (gói Python): {__version__}" in text
    assert "LibreOffice: LibreOffice " in text and "Python của LibreOffice: 3." in text
    assert f"Phần mở rộng LibreOffice: {__version__}" in text and "Các phiên bản khớp nhau." in text
    start = calc.log.stat().st_size
    calc.click(doc, "btnGuide")
    calc.click(doc, "btnLog")
    tail = calc.log.read_bytes()[start:].decode("utf-8")
    assert "help/HUONG_DAN.html" in tail.replace(os.sep, "/")
    assert ("opened " + str(calc.log)) in tail or "Không mở được tệp " + str(calc.log) in tail
    calc.call("close", doc=doc)


def test_missing_python_and_missing_budgetlib_are_explained(calc, tmp_path):
    doc = calc.open(calc.copy_example())
    good = calc.config.read_text(encoding="utf-8")
    try:
        calc.config.write_text(json.dumps({"python": str(tmp_path / "khong_co" / "python")}), encoding="utf-8")
        dialogs = calc.click(doc, "btnAllocate")
        assert dialogs[-1]["severity"] == "error" and dialogs[-1]["text"].startswith("Không tìm thấy Python có cài budgetlib.")
        empty = tmp_path / "venv_trong"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(empty)], check=True, timeout=120)
        python = empty / "bin" / "python"
        calc.config.write_text(json.dumps({"python": str(python)}), encoding="utf-8")
        dialogs = calc.click(doc, "btnVersion")
        assert dialogs[-1]["severity"] == "error"
        assert f"Python {python} chạy được nhưng không dùng được budgetlib" in dialogs[-1]["text"]
        assert "Phần mở rộng LibreOffice:" in dialogs[-1]["text"]
    finally:
        calc.config.write_text(good, encoding="utf-8")
    assert not any(s["marked"] for s in calc.sheets(doc))  # nothing was written
    calc.call("close", doc=doc)


def test_progress_goes_to_the_status_bar(calc, allocated):
    text = calc.log.read_text(encoding="utf-8")
    assert "status budgetlib: đang đọc sổ …" in text
    assert "status budgetlib: đang ghi trang Phân bổ (1/11) …" in text and "status budgetlib: đang ghi trang Nhật ký (11/11) …" in text
    assert "status budgetlib: Giải bài toán phân bổ …" in text  # the allocator's step, in the UI's language


HOSTILE = '''import json, sys
request = json.loads(sys.stdin.read())
names = [s["name"] for s in request["book"]["sheets"]]
reply = json.loads(%r)
print(json.dumps({"reply": reply}))
'''


def _hostile_budgetlib(calc: Calc, tmp_path: Path, reply: dict) -> Path:
    """A stand-in for budgetlib that answers with ``reply`` (a test double, named as such: no real
    budgetlib asks for these writes; it is how the extension's own guards are exercised)."""
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE % json.dumps(reply), encoding="utf-8")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    calc.config.write_text(json.dumps({"python": str(wrapper)}), encoding="utf-8")
    return wrapper


def _spec(name: str) -> dict:
    return {"name": name, "kind": "result", "rows": [["x", 1]], "column_widths": {}, "column_formats": {}, "format_from_row": 1,
            "cell_formats": {}, "bold_rows": [], "title_rows": [], "wrap_cols": [], "comments": {}, "freeze": None,
            "tables": [], "validations": [], "chart": None, "hidden": False, "tab_color": None}


def test_a_failed_write_is_rolled_back(calc, tmp_path):
    doc = calc.open(calc.copy_example())
    calc.click(doc, "btnAllocate")
    before = calc.sheets(doc)
    summary = calc.read(doc, "Tổng hợp")["formulas"]
    good = calc.config.read_text(encoding="utf-8")
    try:
        reply = {"exit_code": 0, "message": "xong", "severity": "info", "write": [_spec("Tổng hợp"), _spec("Phân bổ"), _spec("tên[sai]")],
                 "remove": ["Nhật ký"], "new_document": None, "activate": None, "status": ""}
        _hostile_budgetlib(calc, tmp_path, reply)
        dialogs = calc.click(doc, "btnAllocate")
    finally:
        calc.config.write_text(good, encoding="utf-8")
    assert dialogs[-1]["severity"] == "error" and dialogs[-1]["text"].startswith("Không ghi được kết quả vào sổ:")
    assert "Đã khôi phục sổ như trước khi bấm" in dialogs[-1]["text"]
    assert calc.sheets(doc) == before
    assert calc.read(doc, "Tổng hợp")["formulas"] == summary
    assert not [r for r in calc.call("state", doc=doc)["database_ranges"] if r.startswith("budgetlib_old")]
    calc.call("close", doc=doc)


def test_the_extension_refuses_to_touch_an_input_sheet(calc, tmp_path):
    doc = calc.open(calc.copy_example())
    units = calc.read(doc, "Địa bàn")["formulas"]
    good = calc.config.read_text(encoding="utf-8")
    try:
        reply = {"exit_code": 0, "message": "xong", "severity": "info", "write": [_spec("Địa bàn")], "remove": ["Dự toán"],
                 "new_document": None, "activate": None, "status": ""}
        _hostile_budgetlib(calc, tmp_path, reply)
        dialogs = calc.click(doc, "btnAllocate")
    finally:
        calc.config.write_text(good, encoding="utf-8")
    assert dialogs[-1]["severity"] == "error" and "«Địa bàn» không phải trang kết quả của budgetlib" in dialogs[-1]["text"]
    assert [s["name"] for s in calc.sheets(doc)] == INPUT_SHEETS
    assert calc.read(doc, "Địa bàn")["formulas"] == units
    calc.call("close", doc=doc)

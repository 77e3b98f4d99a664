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
from budgetlib.pipeline import compare_policies, run_allocate

from .conftest import EXAMPLES, ROOT

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
        if os.environ.get("CI", "").lower() == "true":
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
    assert results[0] == "Phân bổ" and results[-1] == "Nhật ký" and len(results) == 10
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
    assert dialog["severity"] == "info" and dialog["text"].startswith("Đã phân bổ 22.500.000.000 đ; đã ghi 10 trang: «Phân bổ»")


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


def test_compare_and_refresh(calc):
    doc = calc.open(calc.copy_example())
    dialogs = calc.click(doc, "btnRefresh")
    assert dialogs[-1]["text"].startswith("Sổ này chưa có trang báo cáo nào")
    dialogs = calc.click(doc, "btnCompare")
    assert dialogs[-1]["severity"] == "info" and "«So sánh»" in dialogs[-1]["text"]
    plan = read_workbook(EXAMPLE)
    spec = compare_policies(plan, ("proportional", plan.allocation.kind.value if plan.allocation.kind.value != "proportional" else "min_deviation"))[0]
    live = calc.read(doc, "So sánh")["values"]
    for r, row in enumerate(spec.rows):
        for c, v in enumerate(row):
            if isinstance(v, int) and not isinstance(v, bool):
                assert live[r][c] == float(v), (r, c)
    dialogs = calc.click(doc, "btnRefresh")
    assert dialogs[-1]["text"].startswith("Đã làm mới")
    assert {s["name"] for s in calc.sheets(doc) if s["marked"]} == {"So sánh", "Nhật ký"}
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
    assert "status budgetlib: đang ghi trang Phân bổ (1/10) …" in text and "status budgetlib: đang ghi trang Nhật ký (10/10) …" in text


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

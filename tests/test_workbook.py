"""The planning workbook: template ↔ plan round trips, a tolerant reader, located problems, result sheets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from budgetlib import PlanInvalid
from budgetlib.core.problems import Source
from budgetlib.io import OutputLocked, load_plan, load_plan_file
from budgetlib.io.grid import DictBook, Formula, Grid, SheetSpec
from budgetlib.io.workbook import (
    CalamineBook,
    OpenpyxlBook,
    plan_sheets,
    read_plan_grids,
    read_plan_grids_with_problems,
    read_workbook,
    write_plan_workbook,
    write_result_workbook,
)
from budgetlib.io.workbook.results import is_result_sheet, read_allocation_records
from budgetlib.pipeline import compare_policies, error_sheets, run_allocate, run_validate

from .conftest import EXAMPLES, tiny_plan_data

EXAMPLE_PLANS = sorted(EXAMPLES.glob("*/plan*.json"))
HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"


def book_of(plan, lang="vi") -> DictBook:
    return DictBook({s.name: s.rows for s in plan_sheets(plan, lang=lang)})


@pytest.fixture(scope="module")
def haiphong():
    return load_plan(HAIPHONG)


@pytest.fixture(scope="module")
def haiphong_xlsx(tmp_path_factory, haiphong) -> Path:
    path = tmp_path_factory.mktemp("hp") / "kehoach.xlsx"
    write_plan_workbook(haiphong, path)
    return path


@pytest.fixture(scope="module")
def haiphong_run(haiphong_xlsx):
    book = OpenpyxlBook(haiphong_xlsx)
    return run_allocate(book, source_name=haiphong_xlsx.name)


# ---------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("path", EXAMPLE_PLANS, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_example_round_trips_through_the_sheets(path, lang):
    plan = load_plan(path)
    again, problems = read_plan_grids_with_problems(book_of(plan, lang))
    assert problems == []
    assert again == plan


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_xlsx_round_trip_with_openpyxl_and_calamine(tmp_path, haiphong, lang):
    path = tmp_path / f"plan_{lang}.xlsx"
    write_plan_workbook(haiphong, path, lang=lang)
    assert read_workbook(path) == haiphong
    assert load_plan_file(path) == haiphong
    assert read_plan_grids(CalamineBook(path)) == haiphong


def test_tiny_plan_round_trips_and_money_unit_is_honoured(tmp_path):
    data = tiny_plan_data()
    data["program"]["display_unit"] = 1000
    plan = load_plan_from(data, tmp_path)
    path = tmp_path / "tiny.xlsx"
    write_plan_workbook(plan, path)
    wb = load_workbook(path)
    ws = wb["Dự toán"]
    assert [c.value for c in ws[3]][:6] == ["Mã nhiệm vụ", "Mã cơ quan", "Năm", "Mã nguồn", "Số tiền", "Ghi chú"]
    assert ws["E4"].value == 300_000  # nghìn đồng
    assert read_workbook(path) == plan


def load_plan_from(data, tmp_path):
    import json

    p = tmp_path / "plan.json"
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return load_plan(p)


def test_template_has_tables_dropdowns_comments_and_frozen_headers(haiphong_xlsx):
    wb = load_workbook(haiphong_xlsx)
    ws = wb["Địa bàn"]
    assert set(ws.tables) == {"DiaBan"}
    assert ws.freeze_panes == "C4"
    assert ws["A3"].comment.text == "Mã đơn vị hành chính theo danh mục (ví dụ 303)."  # one language only
    dv = {str(v.sqref).split(":")[0]: v.formula1 for v in wb["Phân công"].data_validations.dataValidation}
    assert "'Nhiệm vụ'!$A$4" in dv["A4"] and "'Cơ quan'!$A$4" in dv["B4"]
    assert '"Chủ trì,Phối hợp"' == dv["C4"]
    assert wb["Dự toán"]["E4"].number_format == "#,##0"
    assert wb["Chương trình"]["A12"].value == "Đơn vị tiền" and wb["Chương trình"]["B12"].value == "triệu đồng"


# ---------------------------------------------------------------------------------------------
# A tolerant reader


def _shuffle_units(grid_rows):
    """Title rows, extra columns, reordered columns, blank rows, no diacritics."""
    header_at = next(i for i, r in enumerate(grid_rows) if r and r[0] == "Mã địa bàn")
    rows = [list(r) + [None] * (12 - len(r)) for r in grid_rows[header_at:]]
    out = [["Danh sách địa bàn (bảng do cán bộ tự làm)"], [], []]
    header = ["Ghi chu", "Ten dia ban", "Ma dia ban", *rows[0][2:]]
    out.append(header)
    for r in rows[1:]:
        out.append(["x", r[1], r[0], *r[2:]])
        out.append([])
    return out


def test_reader_tolerates_layout_changes_and_text_amounts(haiphong):
    sheets = {s.name: [list(r) for r in s.rows] for s in plan_sheets(haiphong)}
    sheets["Địa bàn"] = _shuffle_units(sheets["Địa bàn"])
    # Amounts as text in the workbook unit (triệu) or with their own unit.
    budget = sheets["Dự toán"]
    budget[3][4] = f"{budget[3][4]}"  # "448" → 448 triệu
    budget[4][4] = f"{budget[4][4] * 1_000_000:,} đ".replace(",", ".")
    # English headers on one sheet, in another order.
    sheets["Cơ quan"][2] = ["Agency name", "Agency code", "English name"]
    for row in sheets["Cơ quan"][3:]:
        row[0], row[1] = row[1], row[0]
    plan, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert problems == []
    assert plan == haiphong


def test_amount_text_with_units(haiphong):
    sheets = {s.name: [list(r) for r in s.rows] for s in plan_sheets(haiphong)}
    program = sheets["Chương trình"]
    total_row = next(r for r in program if r and r[0] == "Tổng kinh phí")
    total_row[1] = "22,5 tỷ đồng"
    plan = read_plan_grids(DictBook(sheets))
    assert plan.program.total == 22_500_000_000


# ---------------------------------------------------------------------------------------------
# Every problem, located at its cell, in one pass


def _col(ws, header: str) -> str:
    for cell in ws[3]:
        if cell.value == header:
            return cell.column_letter
    raise KeyError(header)


def test_a_dozen_mistakes_give_a_dozen_located_messages(tmp_path, haiphong_xlsx):
    path = tmp_path / "loi.xlsx"
    wb = load_workbook(haiphong_xlsx)
    expected: dict[str, str] = {}

    units = wb["Địa bàn"]
    pop = _col(units, "Dân số")
    units[f"{pop}5"] = "abc"  # 1. not a number
    expected[f"Địa bàn!{pop}5"] = "Dân số phải là số"
    units[f"{pop}6"] = -5  # 2. negative (validate_plan)
    expected[f"Địa bàn!{pop}6"] = "không âm"
    units["C7"] = "Tỉnh lỵ"  # 3. unknown kind
    expected["Địa bàn!C7"] = "Loại"
    units["A9"] = units["A8"].value  # 4. duplicate code
    expected["Địa bàn!A9"] = "bị trùng"

    budget = wb["Dự toán"]
    budget["A5"] = "XX"  # 5. unknown task
    expected["Dự toán!A5"] = "không tồn tại"
    budget["E6"] = "12,3,4 triệu"  # 6. malformed amount
    expected["Dự toán!E6"] = "Số tiền"
    budget["C7"] = 2020  # 7. year outside the period
    expected["Dự toán!C7"] = "nằm ngoài giai đoạn"

    roles = wb["Phân công"]
    # 8. a second lead for the first task (its rows start at row 4)
    roles["C5"] = "Chủ trì"
    expected["Phân công!A4"] = "đúng một cơ quan chủ trì"
    roles["B10"] = "ZZZ"  # 9. unknown agency
    expected["Phân công!B10"] = "chưa có trong danh sách"

    sources = wb["Nguồn kinh phí"]
    sources["C4"] = "Ngân hàng thế giới"  # 10. unknown source kind
    expected["Nguồn kinh phí!C4"] = "Loại nguồn"

    targets = wb["Chỉ tiêu"]
    y2015 = _col(targets, "2015")
    targets[f"{y2015}5"] = 500  # 11. above its denominator (223)
    expected[f"Chỉ tiêu!{y2015}5"] = "vượt mẫu số"

    policy = wb["Chính sách phân bổ"]
    header_row = next(r for r in range(1, policy.max_row + 1) if policy.cell(r, 1).value == "Loại ràng buộc")
    share_col = next(c for c in range(1, 30) if policy.cell(header_row, c).value == "Tỷ lệ ngân sách nhiệm vụ")
    cap_row = next(r for r in range(header_row + 1, header_row + 20) if policy.cell(r, 1).value == "Trần")
    policy.cell(cap_row, share_col).value = "một phần tư"  # 12. not a number
    expected[policy.cell(cap_row, share_col).coordinate.join(["Chính sách phân bổ!", ""])] = "phải là số"
    wb.save(path)

    with pytest.raises(PlanInvalid) as info:
        read_workbook(path)
    problems = info.value.problems
    by_location = {p.location: p for p in problems}
    missing = [loc for loc in expected if loc not in by_location]
    assert not missing, "\n".join(p.render() for p in problems)
    for loc, fragment in expected.items():
        assert fragment in by_location[loc].message("vi"), by_location[loc].render()
        assert by_location[loc].message("en")  # every message in both languages
    assert len(problems) == len(expected), "\n".join(p.render() for p in problems)
    text = info.value.problems[0].render("vi")
    assert text.startswith("Địa bàn!") or "!" in text


def test_missing_program_sheet_is_reported():
    plan, problems = read_plan_grids_with_problems(DictBook({"Sheet1": [["a"]]}))
    assert plan is None and [p.code for p in problems] == ["workbook.missing_program"]


def test_formulas_without_cached_values_are_reported(tmp_path, haiphong_xlsx):
    path = tmp_path / "formula.xlsx"
    wb = load_workbook(haiphong_xlsx)
    wb["Địa bàn"]["E4"] = "=1+1"  # openpyxl writes formulas without a cached value
    wb.save(path)
    with pytest.raises(PlanInvalid) as info:
        read_workbook(path)
    p = next(p for p in info.value.problems if p.code == "workbook.uncached_formula")
    assert p.location == "Địa bàn!E4" and "lưu lại" in p.message("vi")


# ---------------------------------------------------------------------------------------------
# Result sheets


def test_allocation_from_workbook_equals_allocation_from_json(haiphong, haiphong_run):
    assert haiphong_run.exit_code == 0
    from_json = run_allocate(haiphong)
    assert np.array_equal(from_json.allocation.amounts, haiphong_run.allocation.amounts)


def test_result_sheets_round_trip_amounts(tmp_path, haiphong_xlsx, haiphong_run):
    out = tmp_path / "ket_qua.xlsx"
    write_result_workbook(haiphong_run.sheets, out, source=haiphong_xlsx)
    expected = {(r["unit"], r["task"], r["year"], r["source"]): r["amount"] for r in haiphong_run.allocation.records()}
    assert read_allocation_records(OpenpyxlBook(out)) == expected
    assert read_allocation_records(CalamineBook(out)) == expected
    # The result workbook is still a valid plan workbook with the same plan.
    assert read_workbook(out) == haiphong_run.plan
    # Year pivots hold the amounts by unit × task.
    a = haiphong_run.allocation
    per = a.amounts.sum(axis=3)
    g = CalamineBook(out).grid("Năm 2012")
    assert g.value(2, 2) == haiphong_run.plan.task(a.tasks[0]).name  # year sheets show task names
    for u in range(len(a.units)):
        assert [int(g.value(3 + u, 2 + t)) for t in range(len(a.tasks))] == per[u, :, 1].tolist()


def test_result_sheet_names_and_determinism(haiphong_run, haiphong_xlsx):
    names = [s.name for s in haiphong_run.sheets]
    assert names == ["Phân bổ", "Năm 2011", "Năm 2012", "Năm 2013", "Năm 2014", "Năm 2015", "Tổng hợp", "Chỉ tiêu đạt", "Phụ lục", "Giải thích", "Nhật ký"]
    assert all(is_result_sheet(n) for n in names)
    again = run_allocate(OpenpyxlBook(haiphong_xlsx))
    for a, b in zip(haiphong_run.sheets, again.sheets):
        if a.name != "Nhật ký":
            assert a.rows == b.rows, a.name
    log = dict(tuple(r) for r in haiphong_run.sheets[-1].rows[3:])
    assert {"Phiên bản budgetlib", "Chính sách phân bổ", "Kết quả", "Bộ giải", "Giá trị hàm mục tiêu"} <= set(log)


def test_summary_has_baseline_difference_and_chart(haiphong_run):
    summary = next(s for s in haiphong_run.sheets if s.name == "Tổng hợp")
    assert summary.chart is not None and summary.chart.value_cols == (3, 4)
    assert summary.cell("E6") == "=C6-D6"


def test_explanation_has_answer_and_sensitivity_reports(haiphong_run):
    spec = next(s for s in haiphong_run.sheets if s.name == "Giải thích")
    firsts = [r[0] for r in spec.rows if r]
    assert "Báo cáo kết quả" in firsts and "Báo cáo độ nhạy" in firsts
    assert any(r and r[0] == "Diễn giải" for r in spec.rows)


def test_validation_errors_give_an_error_sheet(haiphong):
    sheets = {s.name: [list(r) for r in s.rows] for s in plan_sheets(haiphong)}
    sheets["Địa bàn"][4][4] = "abc"
    outcome = run_allocate(DictBook(sheets))
    assert outcome.exit_code == 1 and outcome.allocation is None
    assert [s.name for s in outcome.sheets] == ["Lỗi", "Nhật ký"]
    assert outcome.sheets[0].rows[3][0] == "Địa bàn!E5"


def test_infeasible_plan_exit_code_and_diagnosis(haiphong):
    from budgetlib.model.policy import FloorConstraint

    policy = haiphong.allocation.model_copy(
        update={"constraints": [FloorConstraint(name="Sàn quá cao", amount=10_000_000_000)]}
    )
    plan = haiphong.model_copy(update={"allocation": policy})
    outcome = run_allocate(plan)
    assert outcome.exit_code == 2
    names = [s.name for s in outcome.sheets]
    assert "Giải thích" in names and "Lỗi" in names and "Phân bổ" not in names
    assert any(p.code == "run.infeasible" for p in outcome.problems)


def test_compare_policies_side_by_side(haiphong):
    (sheet,) = compare_policies(haiphong, ["proportional", "min_deviation"])
    assert sheet.name == "So sánh"
    p, m = "Theo tỷ lệ nhu cầu", "Sát tỷ lệ nhu cầu, thỏa mọi ràng buộc"
    assert sheet.rows[2] == ["Mã địa bàn", "Tên địa bàn", p, m, f"{m} − {p}"]
    assert sheet.cell("E4") == "=D4-C4"


def test_error_sheet_lists_every_problem():
    from budgetlib import Problem

    (spec,) = error_sheets([Problem("schema.float_parsing", Source(sheet="Địa bàn", cell="D7"), {"value": "abc", "got": ""})])
    assert spec.rows[3][:2] == ["Địa bàn!D7", "phải là số"]


def test_run_validate_ok(haiphong_xlsx):
    outcome = run_validate(OpenpyxlBook(haiphong_xlsx))
    assert outcome.ok and [s.name for s in outcome.sheets] == ["Nhật ký"]


# ---------------------------------------------------------------------------------------------
# Writing never loses input


def test_in_place_keeps_inputs_and_a_backup(tmp_path, haiphong_xlsx, haiphong_run):
    path = tmp_path / "kehoach.xlsx"
    path.write_bytes(haiphong_xlsx.read_bytes())
    before = _input_values(path)
    write_result_workbook(haiphong_run.sheets, path, source=path, in_place=True)
    write_result_workbook(haiphong_run.sheets, path, source=path, in_place=True)  # twice: replaced, not duplicated
    wb = load_workbook(path)
    assert wb.sheetnames.count("Phân bổ") == 1
    assert _input_values(path) == before
    assert (tmp_path / "kehoach.bak.xlsx").exists()


def test_locked_or_read_only_output_loses_nothing(tmp_path, haiphong_xlsx, haiphong_run):
    path = tmp_path / "kehoach.xlsx"
    path.write_bytes(haiphong_xlsx.read_bytes())
    original = path.read_bytes()
    lock = tmp_path / "~$kehoach.xlsx"
    lock.write_bytes(b"")
    with pytest.raises(OutputLocked) as info:
        write_result_workbook(haiphong_run.sheets, path, source=path, in_place=True)
    assert "đang mở" in info.value.message_vi and "open in another program" in info.value.message_en
    assert path.read_bytes() == original
    lock.unlink()
    os.chmod(path, stat.S_IREAD)
    try:
        if os.access(path, os.W_OK):  # running as root: permissions are not enforced
            pytest.skip("file permissions are not enforced for this user")
        with pytest.raises(OutputLocked):
            write_result_workbook(haiphong_run.sheets, path, source=path, in_place=True)
        assert path.read_bytes() == original
    finally:
        os.chmod(path, stat.S_IREAD | stat.S_IWRITE)


def _input_values(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets if not is_result_sheet(ws.title)}


def test_grid_address_and_dictbook():
    g = Grid("Địa bàn", [["a", None], [None, 7]], origin_row=3, origin_col=2)
    assert g.address(1, 1) == "Địa bàn!C4" and g.value(1, 1) == 7 and g.value(5, 5) is None
    spec = SheetSpec("X", [[Formula("=SUM(A1:A2)"), "=HYPERLINK(1)"]])
    assert list(spec.iter_formulas()) == [("A1", "=SUM(A1:A2)")]  # only Formula values are formulas


def test_haiphong_example_workbook_matches_its_json_and_allocates():
    """examples/haiphong_2011_2015/plan.xlsx is generated by
    ``budgetlib template examples/haiphong_2011_2015/plan.xlsx --example haiphong --force``;
    regenerate it with that command when plan.json changes."""
    xlsx = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"
    assert read_workbook(xlsx) == load_plan(HAIPHONG), "regenerate plan.xlsx (see docstring)"
    outcome = run_allocate(OpenpyxlBook(xlsx))
    assert outcome.exit_code == 0 and outcome.allocation.total == 22_500_000_000


def test_every_plan_field_round_trips(tmp_path):
    """A plan that uses every model field and every constraint type survives JSON → workbook → plan."""
    from budgetlib.planning.validation import load_plan_data

    data = tiny_plan_data()
    data["schema_version"] = 1
    data["program"].update(locality="Tỉnh Thử", level="province", display_unit=1000, document="KH số 1/KH-UBND")
    data["units"][0]["parent"] = "01"
    data["units"][1]["attributes"]["border"] = 0.25
    data["tasks"][1].update(group="TT", name_en="Inspection", description="=không phải công thức", need={"terms": {"population": 0.125}, "constant": 3.5})
    data["sources"].append({"code": "XHH", "name": "Xã hội hóa", "kind": "socialization", "tasks": []})
    data["sources"].append({"code": "TW", "name": "Trung ương", "kind": "central_support", "tasks": ["TT"]})
    data["targets"][0].update(name_en="Healthy communes", unit="xã", baseline_year=2020, task="TT", lower_is_better=True)
    data["targets"][0]["values"] = {"2021": 22.5, "2022": 25}
    data["budget_lines"][0]["note"] = "ghi chú"
    data["budget_lines"][1]["amount"] = 300_000_500  # not a whole nghìn: written as text in đồng
    data["budget_lines"][0]["amount"] = 299_999_500
    data["reporting"] = [{"cadence": "quarterly", "reporter": "UBND huyện", "recipient": "Sở LĐ", "description": "Báo cáo quý", "due": "ngày 15"}]
    data["assumptions"] = [{"code": "A1", "text_vi": "Giả định một", "text_en": "Assumption one"}]
    data["allocation"] = {
        "kind": "max_outcome", "level": "district", "rounding_unit": 1000, "years": [2021, 2022], "deviation": "relative", "solver": "cbc",
        "constraints": [
            {"type": "floor", "name": "Sàn", "tasks": ["TT"], "units": ["001"], "years": [2021], "amount": 1_000_000},
            {"type": "cap", "name": "Trần", "share_of_budget": 0.75},
            {"type": "cap", "name": "Trần 2", "times_proportional": 1.5},
            {"type": "earmark", "name": "Riêng", "unit": "002", "task": "KT", "years": [2022], "amount": 5_000_000},
            {"type": "eligibility", "name": "Điều kiện", "tasks": ["KT"], "attribute": "communes", "op": ">=", "value": 5},
            {"type": "eligibility", "name": "Danh sách", "tasks": ["TT"], "units": ["001", "002"]},
            {"type": "absorption", "name": "Giải ngân", "units": ["001"], "amount": 900_000_000, "attribute": "population", "per_attribute_amount": 2000},
            {"type": "stability", "name": "Ổn định", "max_change": 0.2, "prior": [{"unit": "001", "task": "TT", "amount": 100_000_000}]},
            {"type": "target", "name": "Đạt chỉ tiêu", "target": "C1", "task": "TT", "unit_cost": 1_000_000, "required": 4.5},
        ],
        "response_curves": [
            {"task": "TT", "outcome": "người", "segments": [{"width": 1.0, "outcome_per_million": 3}, {"outcome_per_million": 1}]},
            {"task": "KT", "segments": [{"outcome_per_million": 2}]},
        ],
    }
    plan = load_plan_data(data)
    for lang in ("vi", "en"):
        again, problems = read_plan_grids_with_problems(book_of(plan, lang))
        # The two sources no budget line uses are warnings, at their cells; nothing else.
        assert {(p.code, p.location) for p in problems} == {
            ("plan.source_unused", "Nguồn kinh phí!A5" if lang == "vi" else "Funding sources!A5"),
            ("plan.source_unused", "Nguồn kinh phí!A6" if lang == "vi" else "Funding sources!A6"),
        }, problems
        assert again == plan
        path = tmp_path / f"all_{lang}.xlsx"
        write_plan_workbook(plan, path, lang=lang)
        assert read_workbook(path) == plan
        assert read_plan_grids(CalamineBook(path)) == plan


def test_infeasibility_conflicts_point_at_constraint_cells(tmp_path, haiphong_xlsx):
    wb = load_workbook(haiphong_xlsx)
    ws = wb["Chính sách phân bổ"]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Sàn")
    amount_col = 6  # "Số tiền" in the constraints table
    ws.cell(row, amount_col).value = 1_000_000  # a floor of 1 000 000 triệu per district and year
    path = tmp_path / "khong_kha_thi.xlsx"
    wb.save(path)
    outcome = run_allocate(OpenpyxlBook(path))
    assert outcome.exit_code == 2
    conflicts = [p for p in outcome.problems if p.code == "run.conflict"]
    assert conflicts and all(p.location == f"Chính sách phân bổ!A{row}" for p in conflicts)


def test_large_sheet_path_round_trips(tmp_path, haiphong, monkeypatch):
    """Sheets past FAST_ROWS rows are written as direct XML; force that path on a small plan."""
    from budgetlib.io.workbook import xlsx

    monkeypatch.setattr(xlsx, "FAST_ROWS", 5)
    monkeypatch.setattr(xlsx, "FAST_HEAD", 3)
    path = tmp_path / "fast.xlsx"
    write_plan_workbook(haiphong, path)
    assert read_workbook(path) == haiphong
    assert read_plan_grids(CalamineBook(path)) == haiphong
    wb = load_workbook(path)
    assert wb["Dự toán"]["E40"].number_format == "#,##0" and set(wb["Dự toán"].tables) == {"DuToan"}


def test_officers_own_year_sheet_is_kept(tmp_path, haiphong_xlsx, haiphong_run):
    path = tmp_path / "kehoach.xlsx"
    wb = load_workbook(haiphong_xlsx)
    wb.create_sheet("Năm 2016")["A1"] = "Kế hoạch riêng của phòng"
    wb.save(path)
    write_result_workbook(haiphong_run.sheets, path, source=path, in_place=True)
    assert load_workbook(path)["Năm 2016"]["A1"].value == "Kế hoạch riêng của phòng"


def test_pipeline_and_reader_do_not_import_openpyxl():
    import subprocess
    import sys

    code = (
        "import sys, budgetlib.pipeline as p; from budgetlib.io.grid import DictBook; "
        "p.run_validate(DictBook({})); print('openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr

"""The workbook reader: every independent problem in one run, each at its cell, nothing repeated.

The planted-mistakes tests write the Hải Phòng plan as a workbook (and as JSON), plant mistakes of
different kinds in different places, and require every one of them — at its exact cell or JSON
path, with its code — and no other problem: a field that cannot be read must neither hide a
cross-reference or reconciliation check nor produce follow-on messages.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from budgetlib import PlanInvalid
from budgetlib.core.lang import Lang
from budgetlib.io import load_plan
from budgetlib.io.grid import DictBook
from budgetlib.io.workbook import (
    OpenpyxlBook,
    plan_sheets,
    read_plan_grids,
    read_plan_grids_with_problems,
    read_workbook,
    write_plan_workbook,
)
from budgetlib.io.workbook.reader import read_plan_grids_located
from budgetlib.model.plan import Plan

from .conftest import EXAMPLES

HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"


@pytest.fixture(scope="module")
def haiphong() -> Plan:
    return load_plan(HAIPHONG)


@pytest.fixture(scope="module")
def haiphong_xlsx(tmp_path_factory, haiphong) -> Path:
    path = tmp_path_factory.mktemp("reader") / "kehoach.xlsx"
    write_plan_workbook(haiphong, path)
    return path


def header_col(ws, header: str, row: int = 3) -> str:
    for cell in ws[row]:
        if cell.value == header:
            return cell.column_letter
    raise KeyError(header)


def find_row(ws, col: int, value, start: int = 1) -> int:
    return next(r for r in range(start, ws.max_row + 1) if ws.cell(r, col).value == value)


def sheets_of(plan: Plan, lang: str = "vi") -> dict[str, list[list]]:
    return {s.name: [list(r) for r in s.rows] for s in plan_sheets(plan, lang=lang)}


def codes_at(problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in problems:
        assert p.location not in out, f"two problems at {p.location}: {out[p.location]}, {p.code}"
        out[p.location] = p.code
    return out


# ---------------------------------------------------------------------------------------------
# Every independent problem in one run


def test_twenty_planted_mistakes_all_reported_at_their_cells_in_one_run(tmp_path, haiphong_xlsx):
    wb = load_workbook(haiphong_xlsx)
    want: dict[str, str] = {}

    units = wb["Địa bàn"]
    pop = header_col(units, "Dân số")
    units[f"{pop}5"] = "abc"
    want[f"Địa bàn!{pop}5"] = "workbook.cell.not_number"
    units[f"{pop}6"] = -5
    want[f"Địa bàn!{pop}6"] = "plan.negative_attribute"
    units["C7"] = "Tỉnh lỵ"
    want["Địa bàn!C7"] = "workbook.cell.not_enum"
    units["A9"] = units["A8"].value
    want["Địa bàn!A9"] = "plan.duplicate_code"

    budget = wb["Dự toán"]
    budget["A5"] = "XX"
    want["Dự toán!A5"] = "plan.unknown_task"
    budget["E6"] = "12,3,4 triệu"  # unreadable amount: the total is still checked, as partial
    want["Dự toán!E6"] = "workbook.cell.amount"
    budget["C7"] = 2020
    want["Dự toán!C7"] = "plan.year_outside_period"
    last = budget.max_row
    want[f"Dự toán!E4:E{last}"] = "plan.total_mismatch_partial"
    program = wb["Chương trình"]
    program[f"B{find_row(program, 1, 'Tổng kinh phí')}"] = "20 tỷ đồng"
    program[f"B{find_row(program, 1, 'Cấp ban hành')}"] = "Huyện lỵ"
    want[f"Chương trình!B{find_row(program, 1, 'Cấp ban hành')}"] = "workbook.cell.not_enum"

    roles = wb["Phân công"]
    roles["C5"] = "Chủ trì"  # a second lead for TT (rows 4–9)
    want["Phân công!A4"] = "plan.task_lead"
    roles["B10"] = "ZZZ"
    want["Phân công!B10"] = "plan.unknown_agency"
    # A blank lead agency (HT) must not hide HT's wrong need formula.
    ht_lead = next(r for r in range(4, roles.max_row + 1) if roles.cell(r, 1).value == "HT" and roles.cell(r, 3).value == "Chủ trì")
    roles.cell(ht_lead, 2).value = None
    want[f"Phân công!B{ht_lead}"] = "workbook.cell.missing"
    tasks = wb["Nhiệm vụ"]
    ht = find_row(tasks, 1, "HT")
    tasks[f"{header_col(tasks, 'Công thức nhu cầu')}{ht}"] = "Dân số + + 3"
    want[f"Nhiệm vụ!{header_col(tasks, 'Công thức nhu cầu')}{ht}"] = "plan.need_formula"

    wb["Nguồn kinh phí"]["C4"] = "Ngân hàng thế giới"
    want["Nguồn kinh phí!C4"] = "workbook.cell.not_enum"
    agencies = wb["Cơ quan"]
    agencies["B6"] = None
    want["Cơ quan!B6"] = "workbook.cell.missing"

    targets = wb["Chỉ tiêu"]
    targets[f"{header_col(targets, '2015')}5"] = 500
    want[f"Chỉ tiêu!{header_col(targets, '2015')}5"] = "plan.target_above_denominator"

    policy = wb["Chính sách phân bổ"]
    policy[f"B{find_row(policy, 1, 'Phương pháp phân bổ')}"] = "Tối ưu nhất"
    want[f"Chính sách phân bổ!B{find_row(policy, 1, 'Phương pháp phân bổ')}"] = "workbook.cell.not_enum"
    header = find_row(policy, 1, "Loại ràng buộc")
    share = next(c for c in range(1, 30) if policy.cell(header, c).value == "Tỷ lệ ngân sách nhiệm vụ")
    units_col = next(c for c in range(1, 30) if policy.cell(header, c).value == "Địa bàn")
    cap = find_row(policy, 1, "Trần", header)
    policy.cell(cap, share).value = "một phần tư"
    want[f"Chính sách phân bổ!{policy.cell(cap, share).coordinate}"] = "workbook.cell.not_number"
    floor = find_row(policy, 1, "Sàn", header)
    policy.cell(floor, units_col).value = "303, 999"
    want[f"Chính sách phân bổ!{policy.cell(floor, units_col).coordinate}"] = "plan.constraint_unknown_reference"
    prior_header = find_row(policy, 1, "Tên ràng buộc", header + 1)
    policy.cell(prior_header + 1, 1).value = "Ràng buộc không có"
    policy.cell(prior_header + 1, 2).value = "303"
    policy.cell(prior_header + 1, 3).value = "TT"
    policy.cell(prior_header + 1, 4).value = 5
    want[f"Chính sách phân bổ!A{prior_header + 1}"] = "workbook.unknown_parent_row"

    reporting = wb["Báo cáo"]
    reporting.delete_cols(3)  # "Nơi nhận", a required column: one message, not one per row
    want[f"Báo cáo!A3:{reporting.cell(3, reporting.max_column).column_letter}3"] = "workbook.missing_column"

    wb["Giả định"]["C4"] = "=B4&\" (bản dịch)\""  # saved without a cached value
    want["Giả định!C4"] = "workbook.uncached_formula"
    path = tmp_path / "hai_muoi_loi.xlsx"
    wb.save(path)

    plan, problems = read_plan_grids_with_problems(OpenpyxlBook(path))
    assert plan is None
    got = codes_at(problems)
    report = "\n".join(p.render() for p in problems)
    assert got == want, report
    assert len(want) >= 20
    assert len({code.split(".")[1] for code in want.values()}) >= 12  # of different kinds
    for p in problems:  # every message renders in both languages and names what is wrong
        assert p.message(Lang.VI) and p.message(Lang.EN)
    by_loc = {p.location: p for p in problems}
    assert by_loc[f"Địa bàn!{pop}5"].message("vi") == "Dân số phải là số"
    assert "Nơi nhận" in by_loc[f"Báo cáo!A3:{reporting.cell(3, reporting.max_column).column_letter}3"].message("vi")


def _json_mistakes(data: dict) -> dict[str, str]:
    want: dict[str, str] = {}
    data["units"][1]["attributes"]["population"] = "abc"
    want["units[1].attributes.population"] = "schema.float_parsing"
    data["units"][2]["attributes"]["population"] = -5
    want["units[2].attributes.population"] = "plan.negative_attribute"
    data["units"][3]["kind"] = "Tỉnh lỵ"
    want["units[3].kind"] = "schema.enum"
    data["units"][5]["code"] = data["units"][4]["code"]
    want["units[5].code"] = "plan.duplicate_code"
    data["budget_lines"][1]["task"] = "XX"
    want["budget_lines[1].task"] = "plan.unknown_task"
    data["budget_lines"][2]["amount"] = "12,3,4 triệu"
    want["budget_lines[2].amount"] = "money.ambiguous_commas"
    data["program"]["total"] = "20 tỷ đồng"
    want["budget_lines"] = "plan.total_mismatch_partial"
    data["budget_lines"][3]["year"] = 2020
    want["budget_lines[3].year"] = "plan.year_outside_period"
    data["program"]["level"] = "tinh"  # a bad optional field: the period and total are still checked
    want["program.level"] = "schema.enum"
    data["tasks"][0]["agencies"][1]["role"] = "lead"
    want["tasks[0].agencies"] = "plan.task_lead"
    data["tasks"][1]["agencies"][0]["agency"] = "ZZZ"
    want["tasks[1].agencies[0].agency"] = "plan.unknown_agency"
    del data["tasks"][2]["agencies"][0]["agency"]
    want["tasks[2].agencies[0].agency"] = "schema.missing"
    data["tasks"][2]["need"] = "population + + 3"
    want["tasks[2].need"] = "plan.need_formula"
    data["sources"][0]["kind"] = "world_bank"
    want["sources[0].kind"] = "schema.enum"
    del data["agencies"][2]["name"]
    want["agencies[2].name"] = "schema.missing"
    data["targets"][1]["values"]["2015"] = 500
    want["targets[1].values.2015"] = "plan.target_above_denominator"
    data["allocation"]["kind"] = "best"
    want["allocation.kind"] = "schema.enum"
    data["allocation"]["constraints"][1]["share_of_budget"] = "một phần tư"
    want["allocation.constraints[1].share_of_budget"] = "schema.float_parsing"
    data["allocation"]["constraints"][0]["units"] = ["303", "999"]
    want["allocation.constraints[0].units[1]"] = "plan.constraint_unknown_reference"
    data["reporting"][0]["recipient"] = "Sở\x07 Tài chính"
    want["reporting[0].recipient"] = "plan.control_character"
    return want


def test_the_same_mistakes_in_a_json_plan_all_reported_in_one_run(tmp_path):
    data = json.loads(HAIPHONG.read_text(encoding="utf-8"))
    want = _json_mistakes(data)
    path = tmp_path / "loi.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PlanInvalid) as info:
        load_plan(path)
    got = {p.source.path: p.code for p in info.value.problems}
    assert got == want, "\n".join(p.render() for p in info.value.problems)
    assert len(info.value.problems) == len(want)


# ---------------------------------------------------------------------------------------------
# A missing column or table is one message


def _without_column(sheets: dict, sheet: str, header: str) -> dict:
    rows = sheets[sheet]
    col = rows[2].index(header)
    sheets[sheet] = [r[:col] + r[col + 1 :] if len(r) > col else r for r in rows]
    return sheets


@pytest.mark.parametrize(
    ("sheet", "header"),
    [("Dự toán", "Mã nguồn"), ("Địa bàn", "Mã địa bàn"), ("Nhiệm vụ", "Mã nhiệm vụ"), ("Phân công", "Mã cơ quan"), ("Cơ quan", "Mã cơ quan")],
)
def test_a_missing_column_is_one_message_naming_column_and_sheet(haiphong, sheet, header):
    sheets = _without_column(sheets_of(haiphong), sheet, header)
    plan, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert plan is None
    assert [p.code for p in problems] == ["workbook.missing_column"], "\n".join(p.render() for p in problems)
    (p,) = problems
    assert p.source.sheet == sheet and header in p.message("vi") and p.location.startswith(f"{sheet}!A3:")
    assert "table" in p.message("en") and header not in p.message("en")  # English names the English column


@pytest.mark.parametrize("sheet", ["Phân công", "Cơ quan", "Địa bàn", "Nguồn kinh phí"])
def test_a_missing_required_table_is_one_message(haiphong, sheet):
    sheets = sheets_of(haiphong)
    del sheets[sheet]
    plan, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert plan is None
    assert [p.code for p in problems] == ["workbook.missing_table"], "\n".join(p.render() for p in problems)


def test_optional_tables_may_be_missing(haiphong):
    sheets = sheets_of(haiphong)
    for name in ("Báo cáo", "Giả định", "Hướng dẫn"):
        del sheets[name]
    plan = read_plan_grids(DictBook(sheets))
    assert plan.reporting == [] and plan.assumptions == [] and plan.units == haiphong.units


def test_a_missing_program_row_is_one_message(haiphong):
    sheets = sheets_of(haiphong)
    sheets["Chương trình"] = [r for r in sheets["Chương trình"] if not (r and r[0] == "Cơ quan ban hành")]
    _, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert [(p.code, p.location) for p in problems] == [("workbook.missing_row", "Chương trình!A3:B3")]
    assert "Cơ quan ban hành" in problems[0].message("vi")


def test_not_a_planning_workbook():
    plan, problems = read_plan_grids_with_problems(DictBook({"Sheet1": [["a", "b"], [1, 2]]}))
    assert plan is None and [p.code for p in problems] == ["workbook.missing_program"]
    assert "budgetlib template" in problems[0].message("vi")


# ---------------------------------------------------------------------------------------------
# Need formulas and attribute columns by their labels


def test_need_formulas_use_the_column_names_of_the_units_sheet(haiphong):
    sheets = sheets_of(haiphong)
    units = sheets["Địa bàn"]
    units[2].append("Số trường học")  # the officer's own attribute column
    for i, row in enumerate(units[3:]):
        row.extend([None] * (len(units[2]) - 1 - len(row)))
        row.append(10 + i)
    tasks = sheets["Nhiệm vụ"]
    need = tasks[2].index("Công thức nhu cầu")
    tasks[3][need] = "Dân số + 50*Số xã, phường + 2*số trường học"
    plan = read_plan_grids(DictBook(sheets))
    assert plan.tasks[0].need.terms == {"population": 1.0, "communes": 50.0, "số trường học": 2.0}
    assert plan.units[0].attributes["số trường học"] == 10


def test_english_workbook_with_english_labels_reads_the_same_plan(haiphong):
    sheets = sheets_of(haiphong, "en")
    assert sheets["Tasks"][3][4].startswith("Population")  # need formulas written with English labels
    assert read_plan_grids(DictBook(sheets)) == haiphong


def test_labels_of_either_language_and_values_are_accepted(haiphong):
    sheets = sheets_of(haiphong)
    roles = sheets["Phân công"]
    roles[3][2] = "Lead"
    roles[4][2] = "support"
    sources = sheets["Nguồn kinh phí"]
    sources[3][2] = "provincial budget"
    assert read_plan_grids(DictBook(sheets)) == haiphong


def test_attribute_columns_that_are_notes_are_ignored(haiphong):
    sheets = sheets_of(haiphong)
    units = sheets["Địa bàn"]
    units[2].append("Ghi chú của phòng")
    for row in units[3:]:
        row.extend([None] * (len(units[2]) - 1 - len(row)))
        row.append("đã rà soát")
    assert read_plan_grids(DictBook(sheets)) == haiphong


# ---------------------------------------------------------------------------------------------
# Locating later findings


def test_locate_maps_constraint_paths_to_their_rows(haiphong_xlsx):
    _, problems, locate = read_plan_grids_located(OpenpyxlBook(haiphong_xlsx))
    assert problems == []
    assert locate("allocation.constraints[0]") == "Chính sách phân bổ!A14"
    assert locate("allocation.constraints[1].share_of_budget") == "Chính sách phân bổ!G15"
    assert locate("tasks[1].agencies[0].agency") == "Phân công!B10"
    assert locate("units[0].attributes.population").startswith("Địa bàn!")
    assert locate("nothing.here") is None


def test_problems_keep_the_json_path_and_cut_long_values(haiphong):
    sheets = sheets_of(haiphong)
    sheets["Dự toán"][4][4] = "x" * 100_000
    _, problems = read_plan_grids_with_problems(DictBook(sheets))
    (p,) = problems
    assert p.source.path is None or p.source.path.startswith("budget_lines")
    assert len(p.render("vi")) < 400 and len(json.dumps(p.to_dict(), ensure_ascii=False)) < 2_000


def test_reading_is_deterministic(haiphong):
    sheets = sheets_of(haiphong)
    sheets["Địa bàn"][4][4] = "abc"
    a = read_plan_grids_with_problems(DictBook(sheets))[1]
    b = read_plan_grids_with_problems(DictBook(copy.deepcopy(sheets)))[1]
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]


def test_round_trip_through_a_real_file_in_english(tmp_path, haiphong):
    path = tmp_path / "plan_en.xlsx"
    write_plan_workbook(haiphong, path, lang="en")
    assert read_workbook(path) == haiphong


# ---------------------------------------------------------------------------------------------
# The constraints table follows the constraint registry


def test_constraint_columns_come_from_the_registry():
    from budgetlib.constraints.registry import CONSTRAINT_KINDS
    from budgetlib.io.workbook.fields import ENUMS, TABLE_BY_KEY

    table = TABLE_BY_KEY["constraints"]
    columns = [f.key for f in table.fields]
    assert columns[0] == "type" and set(ENUMS["constraint_type"].values) == set(CONSTRAINT_KINDS)
    for kind in CONSTRAINT_KINDS.values():
        assert {f.key for f in kind.fields} <= set(columns)
    assert [f.key for f in table.fields if f.required] == ["type", "name"]  # the rest depends on the type


def test_a_unit_share_constraint_round_trips_and_its_share_is_required(haiphong):
    from budgetlib.constraints.unit_share import UnitShareConstraint

    policy = haiphong.allocation.model_copy(update={"constraints": [*haiphong.allocation.constraints, UnitShareConstraint(name="Không quá 30%", share=0.3)]})
    plan = haiphong.model_copy(update={"allocation": policy})
    for lang in ("vi", "en"):
        assert read_plan_grids(DictBook(sheets_of(plan, lang))) == plan
    sheets = sheets_of(plan)
    policy_rows = sheets["Chính sách phân bổ"]
    header = next(i for i, r in enumerate(policy_rows) if r and r[0] == "Loại ràng buộc")
    share = policy_rows[header].index("Tỷ trọng tối đa của một địa bàn")
    row = next(i for i, r in enumerate(policy_rows) if len(r) > 1 and r[1] == "Không quá 30%")
    assert policy_rows[row][0] == "Tỷ trọng tối đa của một địa bàn"  # the kind's own name in the dropdown
    policy_rows[row][share] = None
    _, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert [(p.code, p.location) for p in problems] == [("workbook.cell.missing", f"Chính sách phân bổ!{chr(65 + share)}{row + 1}")]
    for r in policy_rows[header:]:
        if len(r) > share:
            del r[share]
    _, problems = read_plan_grids_with_problems(DictBook(sheets))
    assert [p.code for p in problems] == ["workbook.missing_column"] and "Tỷ trọng" in problems[0].message("vi")


def test_policy_conflicts_are_located_at_their_cells_in_the_terminal_and_the_sheets(tmp_path, haiphong_xlsx):
    from budgetlib.pipeline import run_allocate

    wb = load_workbook(haiphong_xlsx)
    ws = wb["Chính sách phân bổ"]
    floor = find_row(ws, 1, "Sàn")
    ws.cell(floor, 6).value = 1_000_000  # a floor of 1 000 000 triệu per district and year
    path = tmp_path / "khong_kha_thi.xlsx"
    wb.save(path)
    outcome = run_allocate(OpenpyxlBook(path))
    assert outcome.exit_code == 2
    text = "\n".join(outcome.explanation())
    assert f"Chính sách phân bổ!A{floor}" in text and "allocation.constraints[" not in text
    explanation = next(s for s in outcome.sheets if s.name == "Giải thích")
    assert any(f"Chính sách phân bổ!A{floor}" in str(v) for row in explanation.rows for v in row)

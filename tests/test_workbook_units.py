"""A table of units from CSV or pasted cells: the Địa bàn table's columns, every problem at its line."""

from __future__ import annotations

import pytest

from budgetlib import PlanInvalid
from budgetlib.io import load_plan
from budgetlib.io.workbook import read_plan_grids
from budgetlib.io.workbook.units_table import read_units, units_from_text, with_units
from budgetlib.model.plan import UnitKind

from .conftest import EXAMPLES

CSV = """Mã địa bàn,Tên địa bàn,Loại,Mã cấp trên,Dân số,"Số xã, phường",Ghi chú
303,Quận Hồng Bàng,Quận,31,96.111,11,
304,Quận Ngô Quyền,Quận,31,abc,13,xem lại
305,Quận Lê Chân,Thị trấn lỵ,31,"219.762",15,
303,Huyện Thủy Nguyên,Huyện,31,317000,37,
306,Quận Hải An,Quận,31,-5,8,
"""


def problems_of(text: str, source: str = "units.csv"):
    with pytest.raises(PlanInvalid) as info:
        units_from_text(text, source=source)
    return info.value.problems


def test_every_problem_of_a_csv_at_its_line_in_both_languages():
    problems = problems_of(CSV)
    assert [(p.location, p.code) for p in problems] == [
        ("units.csv:3", "workbook.cell.not_number"),
        ("units.csv:4", "workbook.cell.not_enum"),
        ("units.csv:5", "plan.duplicate_code"),
        ("units.csv:6", "plan.negative_attribute"),
    ]
    assert problems[0].render("vi") == "units.csv:3: Dân số phải là số"
    assert problems[0].render("en") == "units.csv:3: Population must be a number"
    assert "(first at row 2)" in problems[2].render("en")


def test_a_clean_csv_with_english_headers_semicolons_and_labels():
    text = "Unit code;Unit name;Kind;Population;Communes;Số trường học\n303;Hồng Bàng;Urban district;96.111;11;4\n304;Ngô Quyền;Quận;1.234,5;13;2\n"
    units = units_from_text(text)
    assert [u.code for u in units] == ["303", "304"] and units[0].kind is UnitKind.QUAN
    assert units[0].attributes == {"population": 96111.0, "communes": 11.0, "Số trường học": 4.0}
    assert units[1].attributes["population"] == 1234.5


def test_cells_pasted_from_a_spreadsheet_are_tab_separated():
    pasted = "Mã địa bàn\tTên địa bàn\tLoại\tDân số\r\n303\tHồng Bàng, nội thành\tQuận\t96111\r\n"
    (unit,) = units_from_text(pasted, source="clipboard")
    assert unit.name == "Hồng Bàng, nội thành"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_files_in_utf8_with_or_without_bom_and_utf16(tmp_path, encoding):
    path = tmp_path / "diaban.csv"
    path.write_bytes("Mã địa bàn,Tên địa bàn,Loại\n303,Hồng Bàng,Quận\n".encode(encoding))
    assert [u.name for u in read_units(path)] == ["Hồng Bàng"]


def test_other_encodings_and_missing_files_are_located_messages(tmp_path):
    path = tmp_path / "cp1258.csv"
    # Windows-1258, as Excel's plain "CSV" saves on a Vietnamese Windows: "Hồng Bàng" is H ô ◌̀ ng B à ng.
    path.write_bytes(b"Unit code,Unit name,Kind\n303," + b"H\xf4\xccng B\xe0ng" + b",Urban district\n")
    with pytest.raises(PlanInvalid) as info:
        read_units(path)
    assert [p.code for p in info.value.problems] == ["file.not_utf8"] and info.value.problems[0].location == "cp1258.csv"
    with pytest.raises(PlanInvalid) as info:
        read_units(tmp_path / "missing.csv")
    assert [p.code for p in info.value.problems] == ["file.not_found"]


def test_a_table_without_header_or_required_column():
    assert [p.code for p in problems_of("303,Hồng Bàng,Quận\n")] == ["workbook.units.no_header"]
    problems = problems_of("Mã địa bàn,Tên địa bàn,Dân số\n303,Hồng Bàng,5\n")
    assert [p.code for p in problems] == ["workbook.units.missing_column"] and "Loại" in problems[0].message("vi")


def test_broken_quotes_are_a_located_message():
    problems = problems_of('Mã địa bàn,Tên địa bàn,Loại\n303,"Hồng Bàng,Quận\n')
    assert [(p.code, p.location) for p in problems] == [("workbook.units.csv_syntax", "units.csv:2")]


def test_the_units_replace_a_plans_units_and_round_trip_through_the_template():
    from budgetlib.io.grid import DictBook
    from budgetlib.io.workbook import plan_sheets

    plan = load_plan(EXAMPLES / "haiphong_2011_2015" / "plan.json")
    text = "Mã địa bàn,Tên địa bàn,Loại,Dân số,Số xã chưa lành mạnh,\"Số xã, phường\",Ven biển\n" + "\n".join(
        f"{u.code},{u.name},{u.kind.value},{int(u.attributes['population'])},{int(u.attributes['unhealthy_communes'])},{int(u.attributes['communes'])},{int(u.attributes['coastal'])}"
        for u in plan.units
    )
    units = units_from_text(text)
    again = with_units(plan, units)
    assert [u.code for u in again.units] == [u.code for u in plan.units]
    assert read_plan_grids(DictBook({s.name: s.rows for s in plan_sheets(again)})) == again

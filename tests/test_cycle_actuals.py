"""Actuals: periods, deterministic JSON, and every reader (JSON, CSV, Thực hiện sheets) reporting
every problem at once, each at its JSON path or cell."""

from __future__ import annotations

import json
import random

import pytest

from budgetlib.core.i18n import LocalizedError
from budgetlib.cycle import original_state
from budgetlib.io.actuals import read_actuals, save_actuals
from budgetlib.io.grid import DictBook
from budgetlib.io.workbook import write_sheets
from budgetlib.io.workbook.actuals import actuals_sheets, read_actuals_grids
from budgetlib.model.actuals import Actuals, Disbursement, IndicatorResult, Period
from budgetlib.planning.execution import check_actuals, check_disbursed
from budgetlib.planning.validation import load_plan_data

from .cycle_support import actuals, disbursed_share, small_plan, small_plan_data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013H1", Period(2013, 1)), ("2013-H2", Period(2013, 2)), ("H1/2013", Period(2013, 1)), ("2013 h2", Period(2013, 2)),
        ("6 tháng đầu năm 2013", Period(2013, 1)), ("6 thang cuoi nam 2013", Period(2013, 2)), ("Năm 2013", Period(2013)),
        ("2013", Period(2013)), (2013, Period(2013)), (2013.0, Period(2013)), ("first half of 2013", Period(2013, 1)),
        ("second half 2013", Period(2013, 2)), ("  2013H1 ", Period(2013, 1)),
    ],
)
def test_periods_read_as_officers_write_them(text, expected):
    assert Period.parse(text) == expected


@pytest.mark.parametrize("text", ["2013Q1", "H3 2013", "13H1", "", "tháng 6", True, 20131, "2013H1H2"])
def test_a_malformed_period_is_a_localized_error(text):
    with pytest.raises(LocalizedError) as err:
        Period.parse(text)
    assert err.value.code == "cycle.period.malformed"
    assert "2013H1" in err.value.message("vi") and "2013H1" in err.value.message("en")


def test_periods_order_by_when_they_end():
    assert Period(2013, 1) < Period(2013, 2) < Period(2013) < Period(2014, 1)
    assert Period(2013, 1).end == 2013.5 and Period(2013).end == Period(2013, 2).end == 2014.0
    assert str(Period(2013, 1)) == "2013H1" and str(Period(2013)) == "2013"
    assert Period(2013, 1).label().render("vi") == "6 tháng đầu năm 2013"
    assert Period(2013, 2).label().render("en") == "second half of 2013"


def _sample() -> Actuals:
    return Actuals(
        plan="NHO",
        title="Thử",
        illustrative=True,
        disbursements=[
            Disbursement(unit="701", task="TT", source="NS_T", period="2021H1", amount="120 triệu", forecast=250_000_000),
            Disbursement(unit="702", task="KT", source="NS_T", period="2021", amount=90_000_000, note="đủ chứng từ"),
            Disbursement(unit="701", task="TT", source="NS_T", period="2021H2", amount=100_000_000),
        ],
        results=[IndicatorResult(target="C1", unit="701", period="2021", value=8), IndicatorResult(target="C1", period="2021H1", value=21)],
    )


def test_json_is_deterministic_and_the_hash_ignores_record_order():
    a = _sample()
    shuffled = list(a.disbursements)
    random.Random(4).shuffle(shuffled)
    b = a.model_copy(update={"disbursements": shuffled, "results": list(reversed(a.results))})
    assert a.to_json() == b.to_json()
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != a.model_copy(update={"title": "khác"}).content_hash()
    assert Actuals.from_json(a.to_json()).to_json() == a.to_json()
    data = json.loads(a.to_json())
    assert data["schema"] == "budgetlib.actuals" and data["disbursements"][0]["period"] == "2021H1"


def test_json_csv_and_sheets_round_trip(tmp_path):
    plan = small_plan()
    state = original_state(plan)
    a = _sample()
    save_actuals(a, tmp_path / "a.json")
    assert read_actuals(tmp_path / "a.json", plan="NHO").actuals.to_json() == a.to_json()
    for lang in ("vi", "en"):
        sheets = actuals_sheets(plan, state, actuals=a, lang=lang)
        read = read_actuals_grids(DictBook.from_specs(sheets), plan="other")
        assert read.problems == [] and read.actuals.to_json() == a.to_json(), lang
    write_sheets(actuals_sheets(plan, state, actuals=a), tmp_path / "a.xlsx")
    read = read_actuals(tmp_path / "a.xlsx", plan="other")
    assert read.problems == [] and read.actuals.content_hash() == a.content_hash()
    (tmp_path / "g.csv").write_text("unit,task,source,period,amount\n701,TT,NS_T,2021H1,\"120.000.000\"\n702;x\n", encoding="utf-8")
    read = read_actuals(tmp_path / "g.csv", plan="NHO")
    assert [d.amount for d in read.actuals.disbursements] == [120_000_000]


def test_a_blank_template_lists_every_cell_with_an_allocation():
    plan = small_plan()
    state = original_state(plan)
    sheets = actuals_sheets(plan, state, periods=[Period(2022, 1)], lang="vi")
    assert [s.name for s in sheets] == ["Thực hiện", "Kết quả chỉ tiêu"]
    rows = [r for r in sheets[0].rows if r and r[0] in state.units]
    assert len(rows) == int((state.year(2022) > 0).sum()) and all(r[4] == "2022H1" and r[6] is None for r in rows)
    assert sum(r[5] for r in rows) == int(state.year(2022).sum())
    # A blank template reads back as no disbursement and no problem.
    read = read_actuals_grids(DictBook.from_specs(sheets), plan="NHO")
    assert read.problems == [] and read.actuals.disbursements == []


CSV_BAD = """Mã địa bàn;Mã nhiệm vụ;Mã nguồn;Kỳ báo cáo;Đã giải ngân (đồng);Ước thực hiện cả năm (đồng)
701;TT;NS_T;2021H1;-5000000;
999;TT;NS_T;2021H1;5 triệu;
701;KT;NS_T;2025;1000;
702;TT;NS_T;2021Q1;abc;
702;KT;NS_H;2021;1000;
701;TT;NS_T;2022H1;50 triệu;10 triệu
;TT;NS_T;2022H1;1;
"""


def test_bad_csv_rows_are_all_reported_at_their_cells(tmp_path):
    plan = small_plan()
    path = tmp_path / "giai_ngan.csv"
    path.write_text(CSV_BAD, encoding="utf-8")
    read = read_actuals(path, plan="NHO")
    found = [(p.location, p.code) for p in read.problems]
    assert ("giai_ngan.csv!E2", "cycle.actuals.negative") in found
    assert ("giai_ngan.csv!D5", "cycle.period.malformed") in found
    assert ("giai_ngan.csv!E5", "money.malformed") in found
    assert ("giai_ngan.csv!A8", "cycle.actuals.missing") in found
    checked = [(p.location, p.code) for p in check_actuals(plan, read.actuals, locate=read.locate)]
    assert ("giai_ngan.csv!A3", "cycle.actuals.unknown_unit") in checked
    assert ("giai_ngan.csv!D4", "cycle.actuals.period_outside") in checked
    assert ("giai_ngan.csv!C6", "cycle.actuals.source_restriction") in checked
    assert ("giai_ngan.csv!F7", "cycle.actuals.forecast_below") in checked
    for p in read.problems + check_actuals(plan, read.actuals, locate=read.locate):
        assert p.message("vi") != p.message("en")


def test_json_problems_are_located_by_path(tmp_path):
    plan = small_plan()
    path = tmp_path / "thuc_hien.json"
    path.write_text(json.dumps({
        "schema": "budgetlib.actuals", "plan": "KHAC", "extra": 1,
        "disbursements": [
            {"unit": "701", "task": "TT", "source": "NS_T", "period": "2021H1", "amount": 1000},
            {"unit": "701", "task": "TT", "source": "NS_T", "period": "2021H1", "amount": 2000},
            {"unit": "701", "task": "XX", "source": "NS_T", "period": "2021", "amount": -3},
            {"unit": "701", "task": "TT", "source": "NS_T", "period": "2021", "amount": 500, "colour": "red"},
            "not a record",
        ],
        "results": [{"target": "C9", "period": "2021", "value": 3}, {"target": "C1", "period": "2021", "value": 99}],
    }), encoding="utf-8")
    read = read_actuals(path, plan="NHO")
    found = {(p.location, p.code) for p in read.problems}
    assert ("extra", "cycle.actuals.unknown_field") in found
    assert ("disbursements[2].amount", "cycle.actuals.negative") in found
    assert ("disbursements[3].colour", "cycle.actuals.unknown_field") in found
    assert ("disbursements[4]", "cycle.actuals.json_record") in found
    checked = {(p.location, p.code) for p in check_actuals(plan, read.actuals, locate=read.locate)}
    assert ("plan", "cycle.actuals.plan_mismatch") in checked
    assert ("disbursements[1]", "cycle.actuals.duplicate") in checked
    assert ("disbursements[3].amount", "cycle.actuals.half_above_year") in checked  # 1000 + 2000 in H1 > 500 for the year
    assert ("results[0].target", "cycle.actuals.unknown_target") in checked
    assert ("results[1].value", "cycle.actuals.result_above_denominator") in checked


def test_disbursed_above_the_allocation_is_reported_per_cell_with_the_excess():
    plan = small_plan()
    state = original_state(plan)
    records = disbursed_share(state, 2021, 0.5, half=1)
    a = int(state.amounts[0, 0, 0, 0])
    records[0] = records[0].model_copy(update={"amount": a + 1})
    records.append(Disbursement(unit=records[1].unit, task=records[1].task, source=records[1].source, period=Period(2021, 2), amount=a * 10))
    doc = actuals(records)
    problems = check_disbursed(state, doc, as_of=Period(2021))
    assert [p.code for p in problems] == ["cycle.actuals.over_disbursed"] * 2
    first = problems[0]
    assert first.location == "disbursements[0].amount" and first.params["excess"] == 1 and first.params["allocated"] == a
    assert "vượt 1 đ" in first.message("vi") and "(1 VND too much)" in first.message("en")
    assert problems[1].location == f"disbursements[{len(records) - 1}].amount"  # the record that completes the year
    assert check_disbursed(state, doc, as_of=Period(2021, 1)) == problems[:1]


def test_a_unit_of_the_wrong_level_is_named_with_its_level():
    data = small_plan_data()
    data["units"].append({"code": "26001", "name": "Xã Bốn", "kind": "Xã", "parent": "701"})
    plan = load_plan_data(data)
    doc = actuals([Disbursement(unit="26001", task="TT", source="NS_T", period="2021", amount=1)])
    (p,) = check_actuals(plan, doc)
    assert p.code == "cycle.actuals.wrong_level"
    assert "xã/phường" in p.message("vi") and "quận/huyện" in p.message("vi")


def test_doctests_of_the_cycle_modules():
    import doctest
    import importlib

    for name in ["budgetlib.model.actuals"]:
        assert doctest.testmod(importlib.import_module(name)).failed == 0, name

"""Plan model and whole-plan validation: every problem at once, located, in Vietnamese and English."""

from __future__ import annotations

import json

import pytest

from budgetlib import NeedDriver, PlanInvalid, load_plan, validate_plan
from budgetlib.planning.validation import load_plan_data

from .conftest import tiny_plan_data


def test_tiny_plan_is_valid_and_reads_amount_text():
    plan = load_plan_data(tiny_plan_data())
    assert plan.program.total == 1_200_000_000
    assert plan.budget_lines[2].amount == 300_000_000
    assert plan.task("TT").need.terms == {"population": 1.0, "communes": 50.0}
    assert plan.task("TT").lead == "LD"
    assert validate_plan(plan) == []


def test_models_are_immutable():
    plan = load_plan_data(tiny_plan_data())
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="frozen"):
        plan.program.total = 5  # type: ignore[misc]


def test_several_independent_problems_reported_in_one_run():
    data = tiny_plan_data()
    data["tasks"][1]["agencies"] = [{"agency": "CA", "role": "support"}]  # no lead
    data["tasks"][0]["agencies"].append({"agency": "XX"})  # unknown agency
    data["budget_lines"][0]["year"] = 2030  # outside the period
    data["budget_lines"][1]["amount"] = 300_000_001  # totals no longer reconcile
    data["budget_lines"][3]["source"] = "NOPE"  # unknown source
    data["units"].append(dict(data["units"][0]))  # duplicate code
    data["targets"][0]["values"] = {"2022": 35}  # beyond denominator 30
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    problems = err.value.problems
    codes = {p.code for p in problems}
    assert {"plan.task_lead", "plan.unknown_agency", "plan.year_outside_period", "plan.total_mismatch_over", "plan.unknown_source", "plan.duplicate_code",
            "plan.target_above_denominator"} <= codes
    locations = {p.location for p in problems}
    assert "tasks[1].agencies" in locations
    assert "budget_lines[0].year" in locations
    assert "units[2].code" in locations
    assert "targets[0].values.2022" in locations
    mismatch = next(p for p in problems if p.code == "plan.total_mismatch_over")
    assert "1 đ" in mismatch.message("vi") and "thừa" in mismatch.message("vi")
    assert "too much" in mismatch.message("en")
    for p in problems:
        assert p.message("vi") and p.message("en")


def test_schema_errors_are_all_located():
    data = tiny_plan_data()
    data["program"]["total"] = "hai tỷ"
    data["units"][0]["kind"] = "Làng"
    data["budget_lines"][1]["amount"] = -5
    data["budget_lines"][2]["amount"] = 1.5
    data["tasks"][0]["agencies"][0]["role"] = "boss"
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    locations = [p.location for p in err.value.problems]
    assert "program.total" in locations
    assert "units[0].kind" in locations
    assert "budget_lines[1].amount" in locations
    assert "budget_lines[2].amount" in locations
    assert "tasks[0].agencies[0].role" in locations
    kind = next(p for p in err.value.problems if p.location == "units[0].kind")
    assert "một trong" in kind.message("vi")


def test_missing_need_attribute_is_reported():
    data = tiny_plan_data()
    data["tasks"][1]["need"] = "hotspots"
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    (problem,) = err.value.problems
    assert problem.location == "tasks[1].need" and "hotspots" in problem.message("vi")


def test_need_driver_parse_and_reject():
    assert NeedDriver.parse("2*population + 5000*communes + 3").formula() == "2*population + 5000*communes + 3"
    with pytest.raises(ValueError):
        NeedDriver.parse("population - communes")


def test_json_syntax_error_is_located(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"program": {,}}', encoding="utf-8")
    with pytest.raises(PlanInvalid) as err:
        load_plan(path)
    assert err.value.problems[0].location.startswith("bad.json:1:")


def test_policy_references_are_checked():
    data = tiny_plan_data()
    data["allocation"] = {
        "kind": "min_deviation",
        "constraints": [
            {"type": "earmark", "name": "Mô hình thí điểm", "unit": "999", "task": "TT", "amount": 1000},
            {"type": "floor", "name": "Sàn", "tasks": ["ZZ"], "amount": 10},
            {"type": "floor", "name": "Sàn 2", "amount": 10, "share_of_budget": 0.1},
        ],
    }
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    rendered = [p.render("vi") for p in err.value.problems]
    # The unreadable constraint does not hide the reference errors of the other two.
    assert {p.location for p in err.value.problems} == {
        "allocation.constraints[2]", "allocation.constraints[0].unit", "allocation.constraints[1].tasks[0]"
    }, rendered
    data["allocation"]["constraints"].pop()
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    assert {p.location for p in err.value.problems} == {"allocation.constraints[0].unit", "allocation.constraints[1].tasks[0]"}


def test_json_round_trip_is_byte_identical(tmp_path, haiphong_path):
    from budgetlib import plan_to_json, save_plan

    plan = load_plan(haiphong_path)
    out = tmp_path / "p.json"
    save_plan(plan, out)
    assert load_plan(out) == plan
    assert out.read_text(encoding="utf-8") == plan_to_json(load_plan(out))
    assert json.loads(out.read_text(encoding="utf-8"))["program"]["total"] == 22_500_000_000


# ---------------------------------------------------------------------------------------------
# Bad numbers and bad text are refused with a location (never accepted, never a traceback)


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (("units", 0, "attributes", "population"), float("nan"), "schema.finite_number"),
        (("units", 0, "attributes", "population"), float("inf"), "schema.finite_number"),
        (("units", 0, "attributes", "population"), 1e300, "plan.attribute_out_of_range"),
        (("program", "total"), 10**30, "money.out_of_range"),
        (("program", "total"), "1e30", "money.malformed"),
        (("budget_lines", 0, "amount"), float("nan"), "money.not_finite"),
        (("budget_lines", 0, "amount"), -(10**19), "money.out_of_range"),
        (("targets", 0, "values", "2022"), float("inf"), "schema.finite_number"),
        (("units", 0, "name"), "Quận \x07Một", "plan.control_character"),
        (("tasks", 0, "code"), "T\x00T", "plan.control_character"),
    ],
)
def test_bad_numbers_and_control_characters_are_located(path, value, code):
    data = tiny_plan_data()
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    found = {(p.code, p.location) for p in err.value.problems}
    where = ".".join(str(p) for p in path).replace(".0.", "[0].").replace(".0", "[0]")
    assert any(c == code and loc.startswith(where.split(".values")[0].split(".attributes")[0]) for c, loc in found), found


def test_two_huge_lines_never_wrap_around():
    data = tiny_plan_data()
    for line in data["budget_lines"]:
        line["amount"] = 5 * 10**16
    data["program"]["total"] = 2 * 10**17
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    (p,) = [p for p in err.value.problems if p.code == "plan.total_out_of_range"]
    assert "200.000.000.000.000.000 đ" in p.message("vi") and "-" not in p.message("vi")


def test_need_formula_accepts_column_labels():
    need = NeedDriver.parse("Dân số + 50*Số xã, phường")
    assert need.terms == {"population": 1.0, "communes": 50.0}
    assert NeedDriver.parse("population + 1,5*Ven biển").terms == {"population": 1.0, "coastal": 1.5}


def test_field_errors_do_not_hide_cross_checks():
    data = tiny_plan_data()
    data["tasks"][0]["agencies"][0]["agency"] = ""  # a blank lead agency (field error)
    data["tasks"][0]["need"] = "hotspots"  # and a need attribute no unit has (cross check)
    data["budget_lines"][0]["amount"] = "mười triệu"  # an unreadable amount (field error)
    data["budget_lines"][1]["amount"] = 900_000_000  # the readable lines alone exceed the total
    with pytest.raises(PlanInvalid) as err:
        load_plan_data(data)
    codes = {p.code: p.location for p in err.value.problems}
    assert codes["plan.control_character" if "plan.control_character" in codes else "plan.code_empty"] == "tasks[0].agencies[0].agency"
    assert codes["plan.missing_attribute"] == "tasks[0].need"
    assert codes["money.malformed"] == "budget_lines[0].amount"
    assert codes["plan.total_mismatch_partial"] == "budget_lines"
    # The task whose role could not be read is still checked; no lead is left, which is said too.
    assert codes["plan.task_lead"] == "tasks[0].agencies"


def test_warnings_do_not_stop_a_plan():
    data = tiny_plan_data()
    data["sources"].append({"code": "TW", "name": "Trung ương"})
    plan = load_plan_data(data)
    (warning,) = validate_plan(plan)
    assert warning.code == "plan.source_unused" and warning.severity == "warning" and warning.location == "sources[1]"

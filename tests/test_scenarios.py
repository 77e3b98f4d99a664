"""Scenarios: exact application to the đồng, located checks, the Kịch bản sheet, comparison, CLI."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

import budgetlib
from budgetlib import Plan, PlanInvalid, apply_scenario, load_plan, validate_plan
from budgetlib.cli import main
from budgetlib.io.grid import DictBook, Formula
from budgetlib.io.workbook import plan_sheets, read_plan_grids, read_plan_grids_with_problems
from budgetlib.model.scenario import Scenario
from budgetlib.pipeline.scenarios import run_scenarios
from budgetlib.planning.scenarios import budget_grid, parse_budget_grid, scaled_total, scenario_slug

from .conftest import EXAMPLES, tiny_plan_data

TANCHAU = EXAMPLES / "tanchau_2022" / "plan.json"
HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.json"


def tiny(**extra) -> Plan:
    data = tiny_plan_data()
    data["sources"].append({"code": "TW", "name": "Trung ương hỗ trợ", "kind": "central_support"})
    data["budget_lines"].append({"task": "KT", "agency": "CA", "year": 2022, "source": "TW", "amount": 100_000_000})
    data["program"]["total"] = 1_300_000_000
    data["allocation"] = {
        "kind": "min_deviation",
        "rounding_unit": 1000,
        "constraints": [
            {"type": "floor", "name": "Sàn 100 triệu", "amount": 100_000_000},
            {"type": "cap", "name": "Trần 70%", "share_of_budget": 0.7},
            {"type": "stability", "name": "Ổn định", "max_change": 0.5},
        ],
    }
    data.update(extra)
    return Plan.model_validate(data)


# --- applying changes ---------------------------------------------------------------------------


def test_scale_the_whole_budget_reconciles_to_the_dong():
    plan = load_plan(HAIPHONG)
    less = apply_scenario(plan, Scenario(name="−10%", changes=[{"type": "scale_budget", "factor": 0.9}]))
    assert less.program.total == less.budget_total == 20_250_000_000
    unit = plan.allocation.rounding_unit
    assert all(line.amount % unit == 0 for line in less.budget_lines)  # the lines stay in whole rounding units
    assert validate_plan(less) == []
    assert less.scenarios == [] and plan.scenarios == []  # a scenario plan carries no scenarios of its own


def test_scale_one_source_only_and_set_a_total():
    plan = tiny()
    scaled = apply_scenario(plan, Scenario(name="TW −50%", changes=[{"type": "scale_budget", "factor": 0.5, "source": "TW"}]))
    by = lambda p, s: sum(line.amount for line in p.budget_lines if line.source == s)  # noqa: E731
    assert (by(scaled, "TW"), by(scaled, "NS")) == (50_000_000, by(plan, "NS"))
    assert scaled.program.total == 1_250_000_000
    fixed = apply_scenario(plan, Scenario(name="NS 2021 = 500 triệu", changes=[{"type": "scale_budget", "total": "500 triệu", "source": "NS", "years": [2021]}]))
    assert sum(line.amount for line in fixed.budget_lines if line.year == 2021) == 500_000_000
    assert fixed.program.total == fixed.budget_total == 1_300_000_000 - 600_000_000 + 500_000_000


@given(
    amounts=st.lists(st.integers(0, 10**7), min_size=1, max_size=12),
    factor=st.decimals(min_value=0, max_value=3, places=3),
    unit=st.sampled_from([1, 1000, 1_000_000]),
)
def test_scaling_is_exact_and_proportional(amounts, factor, unit):
    data = tiny_plan_data()
    data["budget_lines"] = [{"task": "TT", "agency": "LD", "year": 2021, "source": "NS", "amount": a * unit} for a in amounts]
    data["program"]["total"] = sum(a * unit for a in amounts)
    data["allocation"] = {"rounding_unit": unit}
    plan = Plan.model_validate(data)
    out = apply_scenario(plan, Scenario(name="x", changes=[{"type": "scale_budget", "factor": float(factor)}]))
    old = plan.budget_total
    new = out.budget_total
    # the total is old × factor, half up to the unit, computed exactly (independent oracle: Fraction)
    exact = Fraction(old) * Fraction(str(float(factor)))
    assert abs(Fraction(new) - exact) <= Fraction(unit, 2)
    assert new == scaled_total(old, float(factor), unit=unit) and new % unit == 0
    assert out.program.total == new
    for before, after in zip(plan.budget_lines, out.budget_lines):
        share = Fraction(before.amount, old) * new if old else Fraction(0)
        assert abs(after.amount - share) < unit  # each line within one rounding unit of its exact share
        assert after.amount % unit == 0


def test_drop_source_policy_constraints_and_targets():
    plan = tiny()
    out = apply_scenario(plan, Scenario(name="all", changes=[
        {"type": "drop_source", "source": "TW"},
        {"type": "set_policy", "kind": "max_min", "rounding_unit": 1_000_000},
        {"type": "set_constraint", "constraint": "Sàn 100 triệu", "value": 50_000_000},
        {"type": "set_constraint", "constraint": "Trần 70%", "field": "times_proportional", "value": 1.5},
        {"type": "drop_constraint", "constraint": "Ổn định"},
        {"type": "set_target", "target": "C1", "value": 28},
    ]))
    assert {line.source for line in out.budget_lines} == {"NS"} and out.program.total == 1_200_000_000
    assert (out.allocation.kind.value, out.allocation.rounding_unit) == ("max_min", 1_000_000)
    floor, cap = out.allocation.constraints
    assert floor.amount == 50_000_000
    assert (cap.share_of_budget, cap.times_proportional) == (None, 1.5)
    assert out.targets[0].values == {2022: 28.0}


def test_a_change_that_cannot_apply_is_located():
    plan = tiny()
    bad = Scenario(name="x", changes=[{"type": "set_constraint", "constraint": "Ổn định", "field": "amount", "value": 5}])
    with pytest.raises(PlanInvalid) as exc:
        apply_scenario(plan, bad, index=0)
    assert exc.value.problems[0].location == "scenarios[0].changes[0].field"


def test_check_scenarios_reports_every_problem_at_its_path():
    plan = tiny(scenarios=[
        {"name": "Tỉnh giảm", "changes": [{"type": "scale_budget", "factor": 0.9, "source": "NOPE"}, {"type": "drop_constraint", "constraint": "Không có"}]},
        {"name": "tinh giam", "changes": [{"type": "set_target", "target": "C9", "year": 1999, "value": 1}]},
        {"name": "Nhiệm vụ lạ", "changes": [{"type": "scale_budget", "factor": 2, "tasks": ["ZZ"], "years": [2030]}]},
    ])
    where = {p.location for p in validate_plan(plan)}
    assert {
        "scenarios[0].changes[0].source", "scenarios[0].changes[1].constraint", "scenarios[1].name",
        "scenarios[1].changes[0].target", "scenarios[1].changes[0].year", "scenarios[2].changes[0].tasks", "scenarios[2].changes[0].years",
    } <= where


def test_budget_grids_and_slugs():
    assert parse_budget_grid("±10%") == [Fraction(9, 10), Fraction(11, 10)]
    assert parse_budget_grid("+-10%/5%") == [Fraction(9, 10), Fraction(19, 20), Fraction(21, 20), Fraction(11, 10)]
    assert parse_budget_grid("-20%:+20%:20%") == [Fraction(4, 5), Fraction(6, 5)]
    assert parse_budget_grid("90%;1,1") == parse_budget_grid("0.9,1.1") == [Fraction(9, 10), Fraction(11, 10)]
    assert parse_budget_grid("+10%,-5%") == [Fraction(19, 20), Fraction(11, 10)]
    for bad in ("", "abc", "±x%", "±10%/0%", "-10%:-20%:5%", "-200%"):
        with pytest.raises(ValueError):
            parse_budget_grid(bad)
    names = [s.name for s in budget_grid(parse_budget_grid("±10%/5%"))]
    assert names == ["Ngân sách −10%", "Ngân sách −5%", "Ngân sách +5%", "Ngân sách +10%"]
    assert len({scenario_slug(n) for n in names}) == 4  # file names never collide
    assert [s.name for s in budget_grid([Fraction(9, 10)], source="TW", lang="en")] == ["Source TW −10%"]


# --- the Kịch bản sheet -------------------------------------------------------------------------


ALL_CHANGES = [
    {"name": "Ngân sách −10%", "description": "Tỉnh giảm 10%", "changes": [{"type": "scale_budget", "factor": 0.9}]},
    {"name": "Trung ương không hỗ trợ", "changes": [{"type": "drop_source", "source": "TW"}, {"type": "scale_budget", "total": 250_000_000, "source": "NS", "tasks": ["TT"], "years": [2021]}]},
    {"name": "Công bằng", "changes": [{"type": "set_policy", "kind": "max_min", "deviation": "relative", "rounding_unit": 1_000_000}]},
    {"name": "Sàn thấp hơn", "changes": [{"type": "set_constraint", "constraint": "Sàn 100 triệu", "value": 50_000_000},
                                         {"type": "set_constraint", "constraint": "Trần 70%", "value": 0.6},
                                         {"type": "drop_constraint", "constraint": "Ổn định"},
                                         {"type": "set_target", "target": "C1", "year": 2022, "value": 27}]},
    {"name": "[dự thảo] như kế hoạch"},
]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_scenario_sheet_round_trips(lang):
    plan = tiny(scenarios=ALL_CHANGES)
    assert validate_plan(plan) == []
    specs = plan_sheets(plan, lang=lang)
    assert specs[-1].name == ("Kịch bản" if lang == "vi" else "Scenarios") and specs[-1].kind == "input"
    back = read_plan_grids(DictBook.from_specs(specs))
    assert back.scenarios == plan.scenarios
    assert budgetlib.plan_to_json(back) == budgetlib.plan_to_json(plan)


def test_scenario_sheet_problems_are_located_at_cells():
    plan = tiny(scenarios=ALL_CHANGES[:2])
    specs = plan_sheets(plan)
    sheet = specs[-1]
    # row 4: the first change; F is the value, C the kind
    sheet.rows[3][5] = "chín mươi phần trăm"
    sheet.rows[4][2] = "Tăng gấp đôi"
    plan2, problems = read_plan_grids_with_problems(DictBook.from_specs(specs))
    where = {p.location for p in problems}
    assert {"Kịch bản!F4", "Kịch bản!C5"} <= where
    assert plan2 is not None and plan2.scenarios == []  # scenarios with problems are left out
    # a reference the plan checks find (unknown source) is located back at its cell
    specs = plan_sheets(plan)
    specs[-1].rows[4][3] = "KHONG_CO"
    _, problems = read_plan_grids_with_problems(DictBook.from_specs(specs))
    assert [p.location for p in problems] == ["Kịch bản!D5"]


# --- comparison ---------------------------------------------------------------------------------


def test_tanchau_comparison_only_the_pilot_differs():
    outcome = run_scenarios(load_plan(TANCHAU), lang="vi")
    assert outcome.exit_code == 0
    c = outcome.comparison
    assert [r.name for r in c.results] == [None, "Không có kinh phí tỉnh"]
    diffs = {code: values[1] - values[0] for code, _, values in c.table("unit") if values[1] != values[0]}
    assert diffs == {"25516": -100_000_000}
    assert {code: values[1] - values[0] for code, _, values in c.table("task") if values[1] != values[0]} == {"MH": -100_000_000}
    met = {r.name: {t.target: t.met for t in r.attainment} for r in c.results}
    assert met == {None: {"CT1": True, "CT2": True}, "Không có kinh phí tỉnh": {"CT1": True, "CT2": False}}
    assert outcome.to_json() == run_scenarios(load_plan(TANCHAU), lang="vi").to_json()  # deterministic
    names = [s.name for s in outcome.sheets]
    assert names == ["So sánh kịch bản", "KB theo địa bàn", "KB theo nhiệm vụ", "KB theo năm", "KB theo nguồn", "KB chỉ tiêu"]
    by_unit = outcome.sheets[1]
    assert by_unit.chart is not None and by_unit.chart.value_cols == (3, 4)
    assert all(isinstance(v, Formula) for _, v in by_unit.iter_formulas())
    assert by_unit.rows[-1][2] == Formula("=SUM(C4:C15)")


def test_an_infeasible_scenario_is_reported_and_the_others_compared():
    plan = tiny(scenarios=[
        {"name": "Sàn quá cao", "changes": [{"type": "set_constraint", "constraint": "Sàn 100 triệu", "value": 900_000_000}]},
        {"name": "Theo tỷ lệ", "changes": [{"type": "set_policy", "kind": "proportional"}]},
    ])
    outcome = run_scenarios(plan, lang="en")
    assert outcome.exit_code == 2
    assert [r.status for r in outcome.comparison.results] == ["optimal", "infeasible", "optimal"]
    assert outcome.sheets[1].rows[3][3] is None  # no amounts for the infeasible scenario


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_scenarios_workbook_json_and_terminal(tmp_path, capsys):
    plan = tiny(scenarios=[*ALL_CHANGES[:1], {"name": "[dự thảo] Công bằng", "changes": [{"type": "set_policy", "kind": "max_min"}]}])
    path = tmp_path / "kh.json"
    budgetlib.save_plan(plan, path)
    out, js = tmp_path / "kh_kich_ban.xlsx", tmp_path / "kh_kich_ban.json"
    assert main(["scenarios", str(path), "-o", str(out), "--json", str(js), "--by", "unit", "--by", "year"]) == 0
    printed = capsys.readouterr().out
    assert "[dự thảo] Công bằng" in printed  # user text is never read as terminal markup
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[0] == "So sánh kịch bản"
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [s["name"] for s in data["scenarios"]] == ["Ngân sách −10%", "[dự thảo] Công bằng"]
    assert data["by"]["unit"][0]["scenarios"][0]["difference"] < 0


def test_cli_scenarios_grid_and_usage_errors(tmp_path, capsys):
    path = tmp_path / "kh.json"
    budgetlib.save_plan(tiny(), path)
    assert main(["scenarios", str(path), "--budget-grid", "±10%", "--source", "TW", "-q", "--lang", "en"]) == 0
    assert "Source TW +10%" in capsys.readouterr().out
    assert main(["scenarios", str(path)]) == 3  # no scenario and no grid
    assert "scenarios" in capsys.readouterr().err
    assert main(["scenarios", str(path), "--budget-grid", "nhiều"]) == 3
    assert main(["scenarios", str(TANCHAU), "-s", "không có"]) == 3
    assert "Không có kinh phí tỉnh" in capsys.readouterr().err  # the known names are listed
    assert main(["scenarios", str(tmp_path / "missing.json")]) == 3
    assert main(["scenarios", str(path), "-g", "±10%", "-o", str(path)]) == 3  # never overwrite the plan


# --- budget–outcome curve -----------------------------------------------------------------------


def test_curve_warm_starts_match_cold_solves_with_far_fewer_iterations():
    from budgetlib.allocator import cheapest_budget
    from budgetlib.allocator.curve import budget_outcome_curve

    plan = load_plan(HAIPHONG)
    levels = [0.3 + 0.05 * i for i in range(20)]
    warm = budget_outcome_curve(plan, levels)
    cold = budget_outcome_curve(plan, levels, warm=False)
    assert [f.key for f in warm] == ["CT2", "CT1", "CT3"]
    for w, c in zip(warm, cold):
        for pw, pc in zip(w.points, c.points):
            assert (pw.value is None) == (pc.value is None)
            if pw.value is not None:
                assert abs(pw.value - pc.value) <= 1e-6 * max(1.0, pc.value)
        values = [p.value for p in w.points if p.value is not None]
        assert values == sorted(values)  # more money never reaches less
        assert w.iterations * 5 < c.iterations  # simplex iterations, not time: deterministic
    # the plan's own level agrees with the allocator's own "what the plan's budget reaches"
    reach = {t.target: t.achievable_with_plan for t in cheapest_budget(plan).targets}
    at_plan = {f.key: next(p.value for p in f.points if abs(p.factor - 1) < 1e-12) for f in warm}
    assert at_plan == pytest.approx(reach, rel=1e-6)
    assert [p.value for p in warm[0].points[:2]] == [None, None]  # below 40% the fixed floors exceed the budget


def test_outcome_curve_of_a_max_outcome_plan():
    from budgetlib import allocate
    from budgetlib.allocator.curve import budget_outcome_curve

    data = tiny_plan_data()
    data["targets"] = []
    data["allocation"] = {"kind": "max_outcome", "response_curves": [
        {"task": "TT", "outcome": "người được tiếp cận", "segments": [{"width": 0.5, "outcome_per_million": 10}, {"outcome_per_million": 2}]},
    ]}
    plan = Plan.model_validate(data)
    (curve,) = budget_outcome_curve(plan, [0.5, 1.0, 2.0])
    assert curve.key == "outcome"
    assert curve.points[1].value == pytest.approx(allocate(plan).objective, rel=1e-6)
    assert curve.points[0].value < curve.points[1].value < curve.points[2].value


def test_cli_curve(tmp_path, capsys):
    out, js = tmp_path / "hp_curve.xlsx", tmp_path / "hp_curve.json"
    assert main(["curve", str(HAIPHONG), "--levels", "60%:100%:20%", "-o", str(out), "--json", str(js), "--lang", "en"]) == 0
    printed = capsys.readouterr().out
    assert "Cheapest budget meeting every target" in printed and "Lowest level meeting every target: 100%" in printed
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [p["factor"] for p in data["curves"][0]["points"]] == [0.6, 0.8, 1.0]
    assert data["cheapest_budget"]["status"] == "optimal"
    assert load_workbook(out, read_only=True).sheetnames == ["Budget curve"]
    charts = load_workbook(out)["Budget curve"]._charts
    assert [type(c).__name__ for c in charts] == ["LineChart"]  # a curve over budget levels, not bars
    path = tmp_path / "no_targets.json"
    data = tiny_plan_data()
    data["targets"] = []
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["curve", str(path)]) == 3
    assert main(["curve", str(HAIPHONG), "--levels", "nhiều"]) == 3


def test_without_scenarios_the_ribbon_compares_policies():
    outcome = run_scenarios(load_plan(HAIPHONG), fallback_policies=("proportional", "max_min"), lang="vi")
    assert outcome.exit_code == 0
    assert [r.label("vi") for r in outcome.comparison.results] == [
        "Kế hoạch gốc", "Phương pháp theo tỷ lệ nhu cầu", "Phương pháp công bằng (nâng mức thấp nhất)"]
    assert all(r.total == 22_500_000_000 for r in outcome.comparison.results)


def test_a_constraint_kind_added_later_can_be_changed_without_touching_scenarios():
    plan = tiny()
    data = plan.model_dump()
    data["allocation"]["constraints"].append({"type": "unit_share", "name": "Tối đa 60%", "share": 0.6})
    plan = Plan.model_validate(data)
    out = apply_scenario(plan, Scenario(name="55%", changes=[{"type": "set_constraint", "constraint": "Tối đa 60%", "value": 0.55}]))
    assert out.allocation.constraints[-1].share == 0.55
    assert validate_plan(plan.model_copy(update={"scenarios": [Scenario(name="x", changes=[
        {"type": "set_constraint", "constraint": "Tối đa 60%", "field": "amount", "value": 1}])]})) != []

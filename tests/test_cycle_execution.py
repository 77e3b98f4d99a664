"""Execution against plan, closing, carry-over, revision and the replay, on a small plan whose
numbers can be followed by hand (independent arithmetic in the tests, not the library's)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from budgetlib.cycle import carry_over, check_state, in_force, original_state, plan_budget, revise
from budgetlib.model.actuals import Disbursement, IndicatorResult, Period
from budgetlib.model.cycle import CycleState, StepKind
from budgetlib.model.plan import CarryOver, Target
from budgetlib.planning.execution import close_year, disbursed, expected_value, progress, reports_due

from .cycle_support import actuals, disbursed_share, small_plan


@pytest.fixture(scope="module")
def plan():
    return small_plan()


@pytest.fixture(scope="module")
def state(plan):
    return original_state(plan)


def test_a_year_is_the_whole_year_figure_else_the_sum_of_its_halves(plan, state):
    unit, task, source = state.units[0], "TT", "NS_T"
    doc = actuals([
        Disbursement(unit=unit, task=task, source=source, period="2021H1", amount=40),
        Disbursement(unit=unit, task=task, source=source, period="2021H2", amount=30),
        Disbursement(unit=unit, task="KT", source=source, period="2021H1", amount=10),
        Disbursement(unit=unit, task="KT", source=source, period="2021", amount=25),
    ])
    got = disbursed(state, doc, Period(2021)).amounts[0, :, 0, 0]
    assert got.tolist() == [70, 25]
    assert disbursed(state, doc, Period(2021, 1)).amounts[0, :, 0, 0].tolist() == [40, 10]


def test_closing_sends_each_source_where_the_plan_says(plan, state):
    doc = actuals(disbursed_share(state, 2021, 0.75))
    closing = close_year(plan, state, disbursed(state, doc, Period(2021)), 2021)
    assert closing.rules == (CarryOver.POOL, CarryOver.UNIT) and closing.declared == (True, True)
    assert np.all(closing.residual() == 0)
    rest = closing.allocated - closing.disbursed
    assert np.array_equal(closing.recalled[:, :, 0], rest[:, :, 0]) and not closing.carried[:, :, 0].any()
    assert np.array_equal(closing.carried[:, :, 1], rest[:, :, 1]) and not closing.recalled[:, :, 1].any()
    undeclared = small_plan(carry=(None, None))
    c2 = close_year(undeclared, state, disbursed(state, doc, Period(2021)), 2021)
    assert c2.declared == (False, False) and c2.rules == (CarryOver.POOL, CarryOver.POOL) and not c2.carried.any()


def test_the_next_year_gets_the_pool_re_split_and_each_unit_its_own_carry_over(plan, state):
    doc = actuals(disbursed_share(state, 2021, 0.6))
    res = carry_over(plan, state, doc, 2021)
    assert res.ok and res.next_year == 2022
    new = res.state
    assert check_state(plan, new) == []
    y = new.year_index(2022)
    # carried money sits on top of the new split, in its own unit, task and source
    assert np.array_equal(new.carried_in[:, :, y, :], res.closing.carried)
    assert np.all(new.amounts[:, :, y, :] >= res.closing.carried)
    # the pool (recalled city money) joins the plan's 2022 budget of the same task and source
    B = plan_budget(plan, state)[:, y, :]
    assert np.array_equal(new.amounts[:, :, y, :].sum(axis=0), B + res.closing.recalled.sum(axis=0) + res.closing.carried.sum(axis=0))
    assert np.array_equal(new.pooled_in[:, y, :], res.closing.recalled.sum(axis=0))
    # other years are untouched
    assert np.array_equal(new.amounts[:, :, [0, 2], :], state.amounts[:, :, [0, 2], :])
    assert [s.kind for s in new.steps] == [StepKind.ORIGINAL, StepKind.NEXT_YEAR] and new.steps[-1].prior == "spending"


def test_the_spending_prior_follows_what_units_spent_scaled_to_the_new_budget():
    plan = small_plan(stability=True)
    state = original_state(plan)
    records = disbursed_share(state, 2021, 0.9)
    records = [r.model_copy(update={"amount": r.amount // 3}) if r.unit == "703" else r for r in records]  # one unit spends a third
    res = carry_over(plan, state, actuals(records), 2021)
    assert res.ok and res.prior is not None
    y = state.year_index(2022)
    for t, task in enumerate(state.tasks):
        spent = res.closing.disbursed[:, t, :].sum(axis=1).astype(float)
        budget = int(plan_budget(plan, state)[t, y].sum() + res.closing.recalled[:, t, :].sum())
        prior = np.array([res.prior.get((u, task), 0) for u in state.units])
        assert prior.sum() == budget
        assert np.allclose(prior / budget, spent / spent.sum(), atol=1e-6)
        new_money = (res.state.amounts[:, t, y, :] - res.state.carried_in[:, t, y, :]).sum(axis=1)
        assert np.all(new_money <= 1.3 * prior + 1000) and np.all(new_money >= 0.7 * prior - 1000)
    none = carry_over(plan, state, actuals(records), 2021, prior="none")
    assert none.ok and none.prior is None
    alloc = carry_over(plan, state, actuals(records), 2021, prior="allocation")
    assert alloc.ok and alloc.prior is not None
    for t, task in enumerate(state.tasks):
        allocated = state.amounts[:, t, 0, :].sum(axis=1).astype(float)
        prior = np.array([alloc.prior.get((u, task), 0) for u in state.units], float)
        assert np.allclose(prior / prior.sum(), allocated / allocated.sum(), atol=1e-6)


def test_after_the_last_year_nothing_is_split(plan, state):
    doc = actuals(disbursed_share(state, 2023, 0.5))
    res = carry_over(plan, state, doc, 2023)
    assert res.next_year is None and res.state is state and np.all(res.closing.residual() == 0)


def test_a_revision_keeps_what_is_disbursed_and_follows_the_units_own_estimates(plan, state):
    h1 = disbursed_share(state, 2021, 0.4, half=1)
    a = {(d.unit, d.task, d.source): int(state.amounts[state.units.index(d.unit), state.tasks.index(d.task), 0, state.sources.index(d.source)])
         for d in h1}
    # Huyện Hai expects to spend only 60 % of KT this year.
    h1 = [d.model_copy(update={"forecast": int(0.6 * a[(d.unit, d.task, d.source)])}) if (d.unit, d.task) == ("702", "KT") else d for d in h1]
    rev = revise(plan, state, actuals(h1), Period(2021, 1))
    assert rev.ok
    assert np.all(rev.revised >= rev.disbursed)
    assert np.array_equal(rev.revised.sum(axis=0), rev.original.sum(axis=0))  # same money per task and source
    u, t = state.units.index("702"), state.tasks.index("KT")
    assert rev.revised[u, t].sum() <= rev.caps[("702", "KT")] == int(0.6 * rev.original[u, t].sum())
    others = [i for i in range(len(state.units)) if i != u]
    assert rev.revised[others, t].sum() > rev.original[others, t].sum()  # the freed money went to the others
    change = next(c for c in rev.changes if c.unit == "702")
    assert change.revised < change.original
    assert any(m.code == "cycle.revision.reason_forecast" for m in change.reasons)
    assert check_state(plan, rev.state) == [] and rev.state.steps[-1].kind is StepKind.REVISION


def test_a_revision_without_news_changes_nothing_that_stability_forbids():
    plan = small_plan(stability=True)
    state = original_state(plan)
    rev = revise(plan, state, actuals(disbursed_share(state, 2022, 0.3, half=1)), Period(2022, 1))
    assert rev.ok
    new_money = rev.revised.sum(axis=2)
    current = rev.original.sum(axis=2)
    assert np.all(np.abs(new_money - current) <= 0.3 * current + 1000)


def test_money_carried_in_stays_with_its_unit_through_a_revision(plan, state):
    res = carry_over(plan, state, actuals(disbursed_share(state, 2021, 0.5)), 2021)
    st = res.state
    y = st.year_index(2022)
    carried = st.carried_in[:, :, y, :]
    assert carried.any()
    h1 = disbursed_share(st, 2022, 0.05, half=1)
    # Huyện Một will spend on KT no more than what it has already disbursed
    h1 = [d.model_copy(update={"forecast": d.amount}) if (d.unit, d.task) == ("701", "KT") else d for d in h1]
    rev = revise(plan, st, actuals(h1), Period(2022, 1))
    assert rev.ok
    assert np.all(rev.revised >= carried)
    assert np.array_equal(rev.state.carried_in[:, :, y, :], carried)
    assert check_state(plan, rev.state) == []


def test_replay_closes_every_year_before_the_period(plan):
    state = original_state(plan)
    records = disbursed_share(state, 2021, 0.8)
    mid = carry_over(plan, state, actuals(records), 2021).state
    records += disbursed_share(mid, 2022, 0.7)
    replay = in_force(plan, actuals(records), Period(2023, 1))
    assert replay.ok and [s.closing.year for s in replay.steps] == [2021, 2022]
    assert check_state(plan, replay.state) == []
    y = replay.state.year_index(2022)
    assert np.array_equal(replay.state.amounts[:, :, y, :], mid.amounts[:, :, y, :])
    # a state that already has its 2022 split keeps it
    again = in_force(plan, actuals(records), Period(2023, 1), start=mid)
    assert [s.closing.year for s in again.steps] == [2022]
    assert np.array_equal(again.state.amounts, replay.state.amounts)


def test_replay_reports_missing_reports_and_over_disbursement(plan, state):
    records = [r for r in disbursed_share(state, 2021, 0.8) if r.unit != "703"]
    records[0] = records[0].model_copy(update={"amount": 10**12})
    replay = in_force(plan, actuals(records), Period(2022, 1))
    codes = [p.code for p in replay.problems]
    assert "cycle.actuals.over_disbursed" in codes and "cycle.replay.missing_reports" in codes
    missing = next(p for p in replay.problems if p.code == "cycle.replay.missing_reports")
    assert "Thị xã Ba" in missing.message("vi") and missing.severity == "warning"
    assert not replay.ok


def test_state_json_round_trip(plan, state):
    st = carry_over(plan, state, actuals(disbursed_share(state, 2021, 0.5)), 2021).state
    again = CycleState.from_json(st.to_json())
    assert again.to_json() == st.to_json()
    assert np.array_equal(again.carried_in, st.carried_in) and np.array_equal(again.pooled_in, st.pooled_in)
    plain = CycleState.from_json(state.allocation.to_json())  # budgetlib allocate --json output
    assert np.array_equal(plain.amounts, state.amounts) and not plain.carried_in.any()


def test_expected_level_follows_the_straight_line_from_the_baseline():
    t = Target(code="CT2", name="x", baseline=149, baseline_year=2010, values={2015: 178}, denominator=223)
    assert expected_value(t, 2011.0, first_year=2011)[0] == 149
    assert expected_value(t, 2014.0, first_year=2011)[0] == pytest.approx(149 + 29 * 3 / 5)
    assert expected_value(t, 2013.5, first_year=2011)[0] == pytest.approx(163.5)
    assert expected_value(t, 2030.0, first_year=2011)[0] == 178
    stepped = Target(code="C", name="x", baseline=0, baseline_year=2010, values={2011: 10, 2012: 30})
    assert expected_value(stepped, 2012.5, first_year=2011)[0] == pytest.approx(20)
    no_base = Target(code="C", name="x", values={2012: 100})
    assert expected_value(no_base, 2012.0, first_year=2011)[0] == pytest.approx(50)


def test_progress_rates_flags_and_indicators(plan, state):
    h1 = disbursed_share(state, 2021, 0.5, half=1)
    h1 = [d.model_copy(update={"amount": d.amount // 5}) if d.unit == "702" else d for d in h1]  # Huyện Hai is slow
    h1 = [d for d in h1 if d.unit != "703"]  # Thị xã Ba sent nothing
    results = [IndicatorResult(target="C1", unit="701", period="2021H1", value=9), IndicatorResult(target="C1", unit="702", period="2021H1", value=11)]
    p = progress(plan, state, actuals(h1, results), Period(2021, 1))
    a = state.amounts[:, :, 0, :]
    d = disbursed(state, actuals(h1), Period(2021, 1)).amounts[:, :, 0, :]
    assert p.total_allocated == int(a.sum()) and p.total_disbursed == int(d.sum())
    rates = p.rate("unit")
    assert rates[1] == pytest.approx(d[1].sum() / a[1].sum()) and rates[2] == 0
    codes = {(f.code, f.unit) for f in p.flags}
    assert ("cycle.flag.low_unit", "702") in codes and ("cycle.flag.no_report", "703") in codes and ("cycle.flag.low_unit", "701") not in codes
    (ind,) = p.indicators
    assert ind.actual == 20 and ind.units_reported == 2 and ind.units_expected == 3
    assert ind.expected == pytest.approx(20 + 6 * 0.5 / 3) and ind.status == "off_track"
    assert ind.progress == pytest.approx(0.0)


def test_the_reports_due_and_their_dates(plan):
    h1 = reports_due(plan, Period(2021, 1))
    assert [(r.rule.cadence.value, r.due) for r in h1] == [("semiannual", date(2021, 6, 20))]
    year = reports_due(plan, Period(2021))
    assert [(r.rule.cadence.value, r.due) for r in year] == [("annual", date(2021, 12, 15))]
    last = reports_due(plan, Period(2023, 2))
    assert [r.rule.cadence.value for r in last] == ["annual", "final"]
    only_semi = plan.model_copy(update={"reporting": [plan.reporting[0].model_copy(update={"due": "ngày 20 tháng 6; 20/12"})]})
    assert [r.due for r in reports_due(only_semi, Period(2022))] == [date(2022, 12, 20)]
    next_year = plan.model_copy(update={"reporting": [plan.reporting[1].model_copy(update={"due": "15/1 năm sau"})]})
    assert [r.due for r in reports_due(next_year, Period(2022))] == [date(2023, 1, 15)]
    undated = plan.model_copy(update={"reporting": [plan.reporting[1].model_copy(update={"due": ""})]})
    assert [r.due for r in reports_due(undated, Period(2022))] == [None]

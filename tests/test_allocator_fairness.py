"""Fairness of the splits (issue 11): deviations are measured from the reference share — the
need-based split over the units that can receive money — so uncoupled plans get exactly the
proportional split under every policy, and the split is symmetric and monotone in need and budget."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgetlib import (
    AbsorptionConstraint,
    AdminUnit,
    Agency,
    AllocationPolicy,
    BudgetLine,
    CapConstraint,
    EligibilityConstraint,
    FloorConstraint,
    FundingSource,
    Plan,
    Program,
    StabilityConstraint,
    Task,
    TaskRole,
)
from budgetlib.allocator import allocate
from budgetlib.allocator.testing import allocation_violations
from budgetlib.model.policy import PriorAmount

FAIR = settings(max_examples=150, deadline=None)
LP_POLICIES = ["min_deviation", "max_min", "max_outcome"]
TRIEU = 1_000_000


def plan_of(needs, budgets, constraints=(), kind="min_deviation", *, coastal=None, unit=1, curves=False):
    """Units U0… with the given need (one task T0 whose need is the attribute ``need``), one source."""
    units = [AdminUnit(code=f"U{i}", name=f"Huyện {i}", kind="Huyện", parent="P",
                       attributes={"need": float(n), "coastal": float(coastal[i] if coastal is not None else 1)})
             for i, n in enumerate(needs)]
    years = list(range(2021, 2021 + len(budgets)))
    lines = [BudgetLine(task="T0", agency="A", year=y, source="NS", amount=int(b)) for y, b in zip(years, budgets)]
    rc = [{"task": "T0", "segments": [{"width": 1.0, "outcome_per_million": 1.0}]}] if curves else []
    return Plan(
        program=Program(code="F", name="Thử", authority="UBND", first_year=years[0], last_year=years[-1], total=sum(int(b) for b in budgets)),
        units=units, agencies=[Agency(code="A", name="Sở")],
        tasks=[Task(code="T0", name="Nhiệm vụ", agencies=[TaskRole(agency="A", role="lead")], need="need")],
        sources=[FundingSource(code="NS", name="Ngân sách")], budget_lines=lines,
        allocation=AllocationPolicy(kind=kind, constraints=list(constraints), rounding_unit=unit, response_curves=rc),
    )


def amounts(a):
    return a.amounts.sum(axis=3)[:, 0, :]  # [U, Y]


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_three_districts_share_the_cut_in_proportion_to_need(kind):
    """Needs 1 000 / 500 / 1 500 triệu, 2 200 triệu in all, at least 800 triệu for B: A and C lose
    the same share of their need (56 %), not the whole cut on one of them."""
    plan = plan_of([1000, 500, 1500], [2200 * TRIEU], [FloorConstraint(name="Sàn B", units=["U1"], amount=800 * TRIEU)], kind, curves=True)
    x = amounts(allocate(plan))[:, 0]
    assert x.tolist() == [560 * TRIEU, 800 * TRIEU, 840 * TRIEU]


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_eligibility_spreads_the_money_over_the_eligible_units(kind):
    """A task for coastal districts only: the same split as proportional (not all of the freed money
    on one eligible district)."""
    needs, coastal = [300, 100, 250, 400, 50], [1, 0, 1, 0, 1]
    cons = [EligibilityConstraint(name="Chỉ ven biển", tasks=["T0"], attribute="coastal", op=">", value=0)]
    lp = amounts(allocate(plan_of(needs, [1_000 * TRIEU], cons, kind, coastal=coastal, curves=True)))
    prop = amounts(allocate(plan_of(needs, [1_000 * TRIEU], cons, "proportional", coastal=coastal)))
    assert lp.tolist() == prop.tolist()
    assert prop[:, 0].tolist() == [500 * TRIEU, 0, 416_666_667, 0, 83_333_333]


needs_st = st.lists(st.integers(0, 10_000), min_size=2, max_size=7)
budget_st = st.integers(1, 10**12)


def _bounds(draw_floor, draw_cap, n, budget):
    cons = []
    if draw_floor is not None:
        cons.append(FloorConstraint(name="Sàn", amount=int(budget * draw_floor / n)))
    if draw_cap is not None:
        cons.append(CapConstraint(name="Trần", share_of_budget=draw_cap))
    return cons


@FAIR
@given(needs=needs_st, budget=budget_st, floor=st.none() | st.floats(0, 0.9), cap=st.none() | st.floats(0.3, 1.0),
       kind=st.sampled_from(LP_POLICIES), unit=st.sampled_from([1, 1000]))
def test_uncoupled_policies_equal_proportional(needs, budget, floor, cap, kind, unit):
    cons = _bounds(floor, cap, len(needs), budget)
    prop_plan = plan_of(needs, [budget], cons, "proportional", unit=unit)
    prop = allocate(prop_plan)
    lp = allocate(plan_of(needs, [budget], cons, kind, unit=unit, curves=kind == "max_outcome"))
    # proportional keeps zero-need units at their floor; the LP policies may give them money when
    # caps leave no other way, so only a proportional solution must be found by them too
    assert lp.ok or not prop.ok
    if prop.ok and kind != "max_outcome":  # max_outcome puts money where the curve pays most
        assert np.abs(amounts(prop) - amounts(lp)).max() <= unit
        assert allocation_violations(prop_plan, lp) == []


@FAIR
@given(needs=needs_st, budget=budget_st, floor=st.none() | st.floats(0, 0.9), cap=st.none() | st.floats(0.3, 1.0),
       kind=st.sampled_from(["proportional", "min_deviation", "max_min"]), data=st.data())
def test_symmetric_need_monotone_budget_monotone(needs, budget, floor, cap, kind, data):
    cons = _bounds(floor, cap, len(needs) + 1, budget)
    # symmetry: a copy of unit 0 gets what unit 0 gets (within one rounding unit)
    twin = allocate(plan_of([*needs, needs[0]], [budget], cons, kind))
    if twin.ok:
        x = amounts(twin)[:, 0]
        assert abs(int(x[0]) - int(x[-1])) <= 1
    # need monotonicity: more need for unit 0, all else equal → not less money
    more = data.draw(st.integers(1, 5_000))
    base, bigger = allocate(plan_of(needs, [budget], cons, kind)), allocate(plan_of([needs[0] + more, *needs[1:]], [budget], cons, kind))
    if base.ok and bigger.ok:
        assert amounts(bigger)[0, 0] >= amounts(base)[0, 0] - 1
    # budget monotonicity: a larger task-year budget → no unit gets less (within one rounding unit)
    extra = data.draw(st.integers(1, 10**11))
    richer = allocate(plan_of(needs, [budget + extra], cons, kind))
    if base.ok and richer.ok and floor is None:  # floors are amounts: fixed, so the claim needs no floor
        assert (amounts(richer)[:, 0] >= amounts(base)[:, 0] - 1).all()


@FAIR
@given(needs=needs_st, budget=budget_st, kind=st.sampled_from(["proportional", "min_deviation", "max_min"]), new_need=st.integers(0, 10_000))
def test_an_ineligible_unit_changes_nobody(needs, budget, kind, new_need):
    cons = [EligibilityConstraint(name="Được hưởng", tasks=["T0"], attribute="coastal", op=">", value=0)]
    before = allocate(plan_of(needs, [budget], cons, kind))
    after = allocate(plan_of([*needs, new_need], [budget], cons, kind, coastal=[1] * len(needs) + [0]))
    assert before.ok == after.ok
    if before.ok:
        assert amounts(after)[-1, 0] == 0
        assert np.abs(amounts(after)[:-1] - amounts(before)).max() <= 1


def two_task_plan(needs, budgets, constraints, kind, *, deviation="relative", curves=False):
    """Units U0… with need attribute ``need``; tasks T0 and T1 (both need = ``need``), one year,
    budgets (T0, T1) in đồng."""
    units = [AdminUnit(code=f"U{i}", name=f"Huyện {i}", kind="Huyện", parent="P", attributes={"need": float(n)})
             for i, n in enumerate(needs)]
    tasks = [Task(code=t, name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="A", role="lead")], need="need") for t in ("T0", "T1")]
    lines = [BudgetLine(task=t, agency="A", year=2021, source="NS", amount=int(b)) for t, b in zip(("T0", "T1"), budgets)]
    rc = [{"task": "T0", "segments": [{"width": 1.0, "outcome_per_million": 1.0}]}] if curves else []
    return Plan(
        program=Program(code="F", name="Thử", authority="UBND", first_year=2021, last_year=2021, total=sum(int(b) for b in budgets)),
        units=units, agencies=[Agency(code="A", name="Sở")], tasks=tasks,
        sources=[FundingSource(code="NS", name="Ngân sách")], budget_lines=lines,
        allocation=AllocationPolicy(kind=kind, constraints=list(constraints), rounding_unit=1, response_curves=rc, deviation=deviation),
    )


def _binding(allocation, kind):
    return [r for r in allocation.constraints if r.kind == kind and r.slack is not None and abs(r.slack) <= 1_000]


@pytest.mark.parametrize("deviation", ["relative", "absolute"])
@pytest.mark.parametrize("kind", LP_POLICIES)
def test_three_districts_share_the_cut_while_stability_binds_on_another_task(kind, deviation):
    """The three-district example (needs 1 000 / 500 / 1 500 triệu, 2 200 triệu, floor 800 for B) with
    a second task whose ±10 % stability against last year's amounts binds: the fair stage is solved
    as a QP (not the closed form), and A and C still lose the same share of their need (56 %)."""
    prior = [PriorAmount(unit="U0", task="T1", amount=100 * TRIEU), PriorAmount(unit="U1", task="T1", amount=400 * TRIEU),
             PriorAmount(unit="U2", task="T1", amount=500 * TRIEU)]
    cons = [FloorConstraint(name="Sàn B", tasks=["T0"], units=["U1"], amount=800 * TRIEU),
            StabilityConstraint(name="Ổn định T1", tasks=["T1"], max_change=0.1, prior=prior)]
    a = allocate(two_task_plan([1000, 500, 1500], [2200 * TRIEU, 1000 * TRIEU], cons, kind, deviation=deviation, curves=True))
    assert a.ok, a.diagnosis
    assert _binding(a, "stability"), "the stability rows must bind, or the closed form answered"
    x = a.amounts.sum(axis=3)  # [U, T, Y]
    assert x[:, 0, 0].tolist() == [560 * TRIEU, 800 * TRIEU, 840 * TRIEU]
    t1 = x[:, 1, 0]
    assert int(t1.sum()) == 1000 * TRIEU
    assert (t1 >= [90 * TRIEU, 360 * TRIEU, 450 * TRIEU]).all() and (t1 <= [110 * TRIEU, 440 * TRIEU, 550 * TRIEU]).all()


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_cut_forced_by_binding_absorption_is_shared_in_proportion_to_need(kind):
    """Same task: district D can spend only 300 triệu (absorption binds); the money it cannot take
    is shared by A, B and C in proportion to their reference shares (relative weighting: each gets
    the same percentage more; B's reference share is its floor), so A : C = 1 000 : 1 500."""
    cons = [FloorConstraint(name="Sàn B", tasks=["T0"], units=["U1"], amount=800 * TRIEU),
            AbsorptionConstraint(name="Giải ngân D", units=["U3"], amount=300 * TRIEU)]
    a = allocate(two_task_plan([1000, 500, 1500, 1000], [3000 * TRIEU, 0], cons, kind, curves=True))
    assert a.ok, a.diagnosis
    assert _binding(a, "absorption")
    x = a.amounts.sum(axis=3)[:, 0, 0]
    ref = a.reference[:, 0, 0]
    assert ref[1] == 800 * TRIEU and ref[3] > 300 * TRIEU
    # the rounding margin (2 đồng per unit of coefficient); max_outcome's stage 2 keeps the outcome
    # to within 10⁻⁷ of its optimum (LEXI_TOLERANCES), a few hundred đồng on 3 000 triệu
    slack = 4 if kind != "max_outcome" else 300
    assert 300 * TRIEU - slack <= int(x[3]) <= 300 * TRIEU
    ratio = x[:3] / ref[:3]
    assert ratio.max() - ratio.min() <= (1e-8 if kind != "max_outcome" else 1e-6) and ratio[0] > 1.1
    assert int(x.sum()) == 3000 * TRIEU


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_twins_get_the_same_when_stability_binds(kind):
    """Two districts with identical need and identical prior amounts, ±5 % stability binding against
    priors far from the need shares: the twins receive the same (within one đồng), and the binding
    rows are reported as binding."""
    prior = [PriorAmount(unit=f"U{i}", task="T0", amount=p * TRIEU) for i, p in enumerate([900, 300, 300, 500])]
    cons = [StabilityConstraint(name="Ổn định", tasks=["T0"], max_change=0.05, prior=prior)]
    a = allocate(two_task_plan([200, 700, 700, 400], [2000 * TRIEU, 0], cons, kind, curves=True))
    assert a.ok, a.diagnosis
    assert _binding(a, "stability")
    x = a.amounts.sum(axis=3)[:, 0, 0]
    assert abs(int(x[1]) - int(x[2])) <= 1
    assert int(x.sum()) == 2000 * TRIEU


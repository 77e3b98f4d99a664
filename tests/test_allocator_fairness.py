"""Fairness of the splits (issue 11): deviations are measured from the reference share — the
need-based split over the units that can receive money — so uncoupled plans get exactly the
proportional split under every policy, and the split is symmetric and monotone in need and budget."""

from __future__ import annotations

import dataclasses

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
    UnitShareConstraint,
)
from budgetlib.allocator import allocate
from budgetlib.allocator.testing import ROUNDING_NOTES, allocation_violations
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


# -- the fairness properties on random plans, coupled ones included (issue 11) -----------------------
#
# One generated plan checks every property with two allocations. Its units are U0…U(n−1), a twin
# W of U0 (same attributes, same prior amounts, so the same constraints) and a unit E that no task
# may fund (eligibility). Its tasks are copies of one task T0 with the same constraints applied to
# each copy on its own: T1 differs only by more need for U0, T2 only by more budget in one year.
# Floors, caps, per-task unit shares and stability (against prior amounts and between years) act on
# each task separately, so the three tasks are independent blocks of one problem and compare as
# separate plans would. An absorption capacity (Σ over the tasks) couples them: then only the
# properties that do not compare tasks are checked.

FAMILY_EXAMPLES = {"proportional": 2000, "min_deviation": 2000, "max_min": 2000, "max_outcome": 2000}
"""Plans per policy in CI (derandomised): each checks every property with two or three allocations."""
ALL_POLICIES = ["proportional", *LP_POLICIES]


@st.composite
def fair_family(draw, kind):
    """Mostly feasible plans (an infeasible one only checks that E does not change the verdict, and
    costs a repair search): year budgets within the stability band of the year before, prior
    amounts that add up to the first year's budget, floors below and caps above the even split."""
    n = draw(st.integers(2, 4))
    Y = draw(st.integers(1, 3))
    unit = draw(st.sampled_from([1, 1000]))
    need = draw(st.lists(st.integers(0, 5_000), min_size=n, max_size=n))
    if not any(need):
        need[0] = 1
    bump = draw(st.integers(1, 3_000))
    delta = draw(st.none() | st.sampled_from([0.05, 0.1, 0.3, 0.5]))
    budgets = [draw(st.integers(0, 10**10))]
    for _ in range(Y - 1):
        if delta is None:
            budgets.append(draw(st.integers(0, 10**10)))
        else:
            budgets.append(int(budgets[-1] * (1 + draw(st.floats(-delta / 2, delta / 2)))))
    more_year = draw(st.integers(0, Y - 1))
    # with stability, more money in one year must stay inside the band of its neighbours
    more = draw(st.integers(1, max(1, int(budgets[more_year] * delta / 3)))) if delta is not None else draw(st.integers(1, 10**10))
    floor = draw(st.none() | st.floats(0, 0.8))
    cap = draw(st.none() | st.floats(0.35, 1.0))
    share = draw(st.none() | st.floats(0.4, 1.0))
    prior = None
    if delta is not None and draw(st.booleans()):
        weights = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
        total = sum(weights) + weights[0] or 1
        prior = [budgets[0] * w // total for w in weights]
    absorb = draw(st.none() | st.integers(10**8, 10**10))
    return dict(kind=kind, n=n, Y=Y, unit=unit, need=need, bump=bump, budgets=budgets, more_year=more_year, more=more,
                floor=floor, cap=cap, share=share, delta=delta, prior=prior, absorb=absorb)


def family_plan(f, *, with_e=True, kind=None):
    n, Y = f["n"], f["Y"]
    codes = [f"U{i}" for i in range(n)] + ["W"] + (["E"] if with_e else [])
    need = [*f["need"], f["need"][0], 2_000]
    # an absorption capacity couples the tasks: U0 and W are then twins only if T1 is T0 again
    bump = f["bump"] if f["absorb"] is None else 0
    units = [AdminUnit(code=c, name=f"Huyện {c}", kind="Huyện", parent="P",
                       attributes={"need": float(need[i]), "need1": float(need[i] + (bump if c == "U0" else 0)),
                                   "ok": 0.0 if c == "E" else 1.0})
             for i, c in enumerate(codes)]
    years = list(range(2021, 2021 + Y))
    task_need = {"T0": "need", "T1": "need1", "T2": "need"}
    lines = []
    for t in ("T0", "T1", "T2"):
        for k, (y, b) in enumerate(zip(years, f["budgets"])):
            amount = b + (f["more"] if t == "T2" and k == f["more_year"] else 0)
            lines.append(BudgetLine(task=t, agency="A", year=y, source="NS", amount=int(amount)))
    cons: list = [EligibilityConstraint(name="Được hưởng", tasks=["T0", "T1", "T2"], attribute="ok", op=">", value=0)]
    low = min((b for b in f["budgets"] if b > 0), default=0)
    if f["floor"] is not None:
        cons.append(FloorConstraint(name="Sàn", amount=int(low * f["floor"] / (n + 1))))
    if f["cap"] is not None:
        cons.append(CapConstraint(name="Trần", share_of_budget=f["cap"]))
    if f["share"] is not None:
        cons += [UnitShareConstraint(name=f"Tỷ trọng {t}", tasks=[t], share=f["share"]) for t in ("T0", "T1", "T2")]
    if f["delta"] is not None:
        prior = None
        if f["prior"] is not None:
            amounts = [*f["prior"], f["prior"][0]]
            prior = [PriorAmount(unit=c, task=t, amount=a) for t in ("T0", "T1", "T2") for c, a in zip(codes, amounts)]
        cons.append(StabilityConstraint(name="Ổn định", max_change=f["delta"], prior=prior))
    if f["absorb"] is not None:
        cons.append(AbsorptionConstraint(name="Giải ngân", amount=f["absorb"]))
    rc = [{"task": t, "segments": [{"width": 0.8, "outcome_per_million": 2.0}, {"width": 1.0, "outcome_per_million": 1.0}]}
          for t in ("T0", "T1", "T2")]
    kind = kind or f["kind"]
    total = sum(line.amount for line in lines)
    return Plan(
        program=Program(code="F", name="Thử", authority="UBND", first_year=years[0], last_year=years[-1], total=total),
        units=units, agencies=[Agency(code="A", name="Sở")],
        tasks=[Task(code=t, name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="A", role="lead")], need=task_need[t]) for t in ("T0", "T1", "T2")],
        sources=[FundingSource(code="NS", name="Ngân sách")], budget_lines=lines,
        allocation=AllocationPolicy(kind=kind, constraints=cons, rounding_unit=f["unit"], response_curves=rc if kind == "max_outcome" else []),
    )


def check_family(f):
    """Every property on one generated plan (``f`` from :func:`fair_family`)."""
    kind, n, unit = f["kind"], f["n"], f["unit"]
    plan = family_plan(f)
    a = allocate(plan)
    assert allocation_violations(plan, a) == []
    without = allocate(family_plan(f, with_e=False))
    # independence of ineligible units: E gets nothing and changes nobody's amount
    assert a.ok == without.ok
    if not a.ok:
        return
    x = a.amounts.sum(axis=3)  # [U, T, Y]; U0…U(n−1), W, E
    B = np.array([[line.amount for line in plan.budget_lines if line.task == t] for t in ("T0", "T1", "T2")])
    # "within one rounding unit": the largest-remainder split also puts the sub-unit residue
    # B mod unit on one part, and equal remainders are broken by the last bits of the weights
    tol = unit + (B % unit).max(axis=0)  # per year
    assert not x[n + 1].any()
    # max_outcome's tie-break keeps the outcome within 10⁻⁷ of its optimum (LEXI_TOLERANCES) and
    # spends that slack moving money towards the reference where the squared deviation falls most —
    # in the smallest blocks, whose χ² weights are the largest; on plans whose task-years differ 10⁷
    # times with a binding absorption cap, the interior point solves that stage only to its
    # tolerance: with and without E the splits differ by up to ~1,2·10⁻⁶ of the budget (9 376 đ in
    # 7,9 tỷ, found by this test), allowed as 10⁻⁵
    # max_min likewise keeps the coverage within 10⁻⁷ of its optimum (z found by an interior point,
    # with and without E, to ~10⁻⁸): with an absorption cap forcing 2·10⁸ đ onto zero-need units,
    # the splits differed by 50 đ in 10⁹ (hypothesis seed 22, not derandomised)
    loose = tol + {"max_outcome": int(np.ceil(1e-5 * B.sum())), "max_min": int(np.ceil(1e-6 * B.sum()))}.get(kind, 0)
    if kind != "proportional" and (f["absorb"] is not None or f["share"] is not None or f["delta"] is not None):
        loose = loose + 2 * unit  # a cell at a coupling row tightened by the rounding margin (2 units)
    # a result that reports a coupling row it could not keep after rounding (zero-need units forced
    # to take money: their χ² weights are 10⁶ times the others', and the QP is solved to ~10 đ)
    # is compared only as far as it says
    # and so is one whose fair stage the explanation says is approximate (budget lines 10⁷ apart:
    # an interior point projected onto the rows, or the L1 fallback)
    approximate = {"alloc.explain.projected", "alloc.explain.l1_fallback"}
    degraded = any(m.code in ROUNDING_NOTES | approximate for m in (*a.notes, *without.notes))
    if not degraded:
        assert (np.abs(x[: n + 1] - without.amounts.sum(axis=3)) <= loose).all()
    # symmetry: the twin W gets what U0 gets, in the tasks where they are twins
    across = f["absorb"] is not None and kind != "proportional"
    # (max_outcome's tie-break stage carries the outcome floor of stage 1: its answer is exact only
    # to the QP's optimality tolerance, 10⁻⁷ of the gradient — a few đồng in 10⁹, allowed as 10⁻⁸)
    twin_tol = tol + (np.ceil(1e-8 * B.max(axis=0)).astype(np.int64) if kind == "max_outcome" else 0)
    for t in (0, 1, 2) if f["absorb"] is not None else (0, 2):
        if not any(m.code in approximate for m in a.notes):
            assert (np.abs(x[0, t] - x[n, t]) <= twin_tol).all(), (t, x[0, t], x[n, t])
    if across or kind in ("max_min", "max_outcome"):
        # absorption: the tasks share each unit's capacity, so they are not independent copies; so
        # are they under max_min, whose lowest coverage is one number over every task, and under
        # max_outcome, whose outcome is one sum (and which promises no monotonicity in need)
        return
    years_coupled = f["delta"] is not None and f["Y"] > 1 and kind != "proportional"
    # need monotonicity: more need for U0 (T1 against T0), all else equal → not less money
    assert (x[0, 1] >= x[0, 0] - tol).all(), (x[0, 0], x[0, 1])
    # budget monotonicity: more budget in one year (T2 against T0) → no unit gets less. With
    # stability between years, more money one year moves the bands of the next, and another unit
    # may get less there: only the year with more money is compared then
    ys = [f["more_year"]] if years_coupled else list(range(f["Y"]))
    for y in ys:
        assert (x[:, 2, y] >= x[:, 0, y] - tol[y]).all(), (y, x[:, 0, y], x[:, 2, y])
    # uncoupled plans: every LP policy but max_outcome (which follows its curves) gives the proportional split
    uncoupled = f["delta"] is None and f["share"] is None
    if uncoupled and kind in ("min_deviation", "max_min"):
        prop = allocate(family_plan(f, kind="proportional"))
        if prop.ok:
            assert (np.abs(prop.amounts.sum(axis=3) - x) <= tol).all()


@pytest.mark.parametrize("kind", ALL_POLICIES)
def test_fairness_properties_on_random_plans(kind):
    @settings(max_examples=FAMILY_EXAMPLES[kind], deadline=None)
    @given(f=fair_family(kind))
    def check(f):
        check_family(f)

    check()


def test_max_outcome_takes_the_reference_share_without_a_solver_when_nothing_couples():
    """Segment widths are multiples of the reference share, so the reference maximises an uncoupled
    block's outcome (every unit on the same segment): no LP runs, and the reported outcome is the
    curve evaluated at the proportional split (width 0,8 at 2 per triệu, then 1 per triệu)."""
    needs = [300, 100, 250, 400]
    plan = plan_of(needs, [1_000 * TRIEU, 1_100 * TRIEU], kind="max_outcome", curves=False)
    rc = [{"task": "T0", "segments": [{"width": 0.8, "outcome_per_million": 2.0}, {"outcome_per_million": 1.0}]}]
    plan = plan.model_copy(update={"allocation": plan.allocation.model_copy(update={"response_curves": rc})})
    a = allocate(plan)
    prop = allocate(plan.model_copy(update={"allocation": plan.allocation.model_copy(update={"kind": "proportional", "response_curves": []})}))
    assert a.solver == "closed-form"
    assert (a.amounts == prop.amounts).all()
    # 2 100 triệu in all: 80 % of each unit's share at 2, the rest at 1
    assert a.objective == pytest.approx(0.8 * 2100 * 2 + 0.2 * 2100 * 1)


@pytest.mark.parametrize("kind", ALL_POLICIES)
def test_a_one_dong_budget_on_cells_held_at_zero_is_infeasible_beside_a_large_cap(kind):
    """Found by hypothesis (seed 11, not derandomised): last year's amounts 0 and ±5 % hold every
    cell at 0, so T2's 1-đồng budget has nowhere to go. The fair QP's answer broke those rows by the
    whole đồng, yet passed its check, which measured violations against the model's largest limit
    (an absorption cap of 10⁸ đ); rows are now measured at their own size. With and without the
    ineligible unit E, the plan is infeasible (proportional ignores stability: it splits the đồng)."""
    f = {"kind": kind, "n": 2, "Y": 1, "unit": 1, "need": [1, 1], "bump": 1, "budgets": [0], "more_year": 0, "more": 1,
         "floor": None, "cap": None, "share": None, "delta": 0.05, "prior": [0, 0], "absorb": 100_000_000}
    for with_e in (True, False):
        a = allocate(family_plan(f, with_e=with_e))
        assert a.ok == (kind == "proportional"), (with_e, a.status)
        if a.ok:
            assert int(a.amounts.sum()) == 1


def test_rounding_off_the_band_around_last_years_amounts_is_reported():
    """Two units with last year's 1 500 đ each, ±5 % (1 425–1 575 đ), 3 000 đ a task and a rounding
    unit of 1 000 đ: no split in whole thousands keeps the band. The rounding check compared only
    consecutive years of the plan, so the split 2 000 / 1 000 went out unannounced, 425 đ outside the
    band, and the independent checker did not look either. Now both do: the explanation names the
    constraint and the amount, in both languages (the amounts stay in whole thousands)."""
    from budgetlib.allocator import explain_text

    f = {"kind": "min_deviation", "n": 1, "Y": 1, "unit": 1000, "need": [1], "bump": 1, "budgets": [3000], "more_year": 0,
         "more": 0, "floor": None, "cap": None, "share": None, "delta": 0.05, "prior": [1500], "absorb": None}
    plan = family_plan(f)
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []  # reported, so not a violation
    x = a.amounts.sum(axis=3)[:2, :, 0]  # U0 and W, every task; E is ineligible
    assert (x % 1000 == 0).all() and (x.sum(axis=0) == 3000).all()
    assert "năm đầu của «Ổn định» lệch so với số năm trước tối đa 425 đ" in explain_text(a, "vi")
    assert "the first year of “Ổn định” is off last year's amounts by at most 425 VND" in explain_text(a, "en")
    unreported = dataclasses.replace(a, notes=tuple(m for m in a.notes if m.code != "alloc.explain.rounding_prior"))
    assert any("last year 1500" in v for v in allocation_violations(plan, unreported))


def _prior_band_case(kind, n, unit, need, budget, delta, prior):
    return {"kind": kind, "n": n, "Y": 1, "unit": unit, "need": need, "bump": 1, "budgets": [budget], "more_year": 0, "more": 0,
            "floor": None, "cap": None, "share": None, "delta": delta, "prior": prior, "absorb": None}


def _held(plan, a, f):
    """Amounts [U, T] of the one year, and whether each eligible unit keeps its band around last
    year's amount (W's is U0's; E is ineligible)."""
    x = a.amounts.sum(axis=3)[:, :, 0]
    priors = np.array([*f["prior"], f["prior"][0]], float)
    eligible = x[: f["n"] + 1]
    inside = ((1 - f["delta"]) * priors[:, None] - 1e-6 <= eligible) & (eligible <= (1 + f["delta"]) * priors[:, None] + 1e-6)
    return x, bool(inside.all())


@pytest.mark.parametrize(("f", "expected"), [
    # the residue of 21 447 đ (447 đ) must fall on U1, the smallest unit, for U1 to reach its band
    # (5 224–5 774 đ); largest-remainder gives it to the largest
    (_prior_band_case("max_outcome", 2, 1000, [1, 0], 21_447, 0.05, [8138, 5499]), [8000, 5447, 8000]),
])
def test_the_band_around_last_years_amounts_is_kept_in_rounding_units_when_a_rounding_exists(f, expected):
    """Rounding that broke the ±x % band around last year's amounts was only reported; the
    roundings in multiples of the rounding unit are now searched (each amount the multiple just
    below or above its LP amount, one cell per task-year taking the sub-unit residue) — not
    amounts to the đồng, which this check does not use (a band of a small amount often holds no
    multiple: then it is still reported, as the test above shows)."""
    plan = family_plan(f)
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    x, held = _held(plan, a, f)
    assert held and not any(m.code == "alloc.explain.rounding_prior" for m in a.notes)
    assert x[: f["n"] + 1, :].T.tolist() == [expected] * 3  # every task alike
    assert (np.sort(x[: f["n"] + 1] % f["unit"], axis=0)[:-1] == 0).all()  # at most one residue per task
    # and the officer is told why some amounts are not the plain rounding of the split
    from budgetlib.allocator import explain_text

    assert "nên cách làm tròn được chọn để giữ đúng mọi ràng buộc" in explain_text(a, "vi")
    assert "so the rounding is chosen to keep every constraint" in explain_text(a, "en")


def test_a_rounding_further_than_one_unit_is_not_searched():
    """The LP leaves U0 and W at the foot of their band (61 379 đ) and U1 at 97 242 đ: no split of
    the multiples just below or above keeps every band, and 70 000 / 80 000 / 70 000 đ, which
    does, moves U1 1,7 units. Such roundings are not searched — a search that allowed them moved
    units with identical data two units apart (the fairness properties found it) — so the break
    is reported with its amount."""
    f = _prior_band_case("max_min", 2, 10_000, [3, 5], 220_000, 0.2, [76_724, 92_003])
    plan = family_plan(f)
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    assert _a_rounding_keeps_the_bands(f) and not _held(plan, a, f)[1]
    assert any(m.code == "alloc.explain.rounding_prior" for m in a.notes)


def _a_rounding_keeps_the_bands(f) -> bool:
    """The independent oracle: some split of the budget in multiples of the unit, plus its residue
    on one unit, keeps every eligible unit's band (enumerated)."""
    import itertools

    budget, unit, delta = f["budgets"][0], f["unit"], f["delta"]
    bands = [((1 - delta) * p - 1e-6, (1 + delta) * p + 1e-6) for p in [*f["prior"], f["prior"][0]]]
    k, r = divmod(budget, unit)
    for head in itertools.product(range(k + 1), repeat=len(bands) - 1):
        if sum(head) > k:
            continue
        parts = [h * unit for h in head] + [(k - sum(head)) * unit]
        for j in range(len(parts) if r else 1):
            z = list(parts)
            z[j] += r
            if all(lo <= v <= hi for v, (lo, hi) in zip(z, bands, strict=True)):
                return True
    return False


def test_the_band_is_kept_or_its_break_reported_and_only_when_it_is_broken():
    """On 120 seeded random one-year plans with last year's amounts (every policy, units of 1 000 to
    100 000 đ, ±5–30 %): the explanation reports a break of the band exactly when the allocation
    breaks it; whenever the enumerating oracle finds no split in rounding units that keeps every
    band, the break is reported; and most plans whose bands some split keeps get one (those that
    need an amount further than one unit from its LP amount do not: at most a quarter as many)."""
    import random

    rng = random.Random(2026)
    seen = {"kept": 0, "reported": 0, "reported, a far rounding exists": 0}
    for _ in range(120):
        n, unit = rng.randint(1, 3), rng.choice([1000, 10_000, 100_000])
        budget = rng.randint(1, 14) * unit + rng.choice([0, rng.randint(0, unit - 1)])
        need = [rng.randint(0, 5) for _ in range(n)]
        need[0] = need[0] or 1
        prior = [int(budget / (n + 1) * rng.uniform(0.6, 1.4)) for _ in range(n)]
        f = _prior_band_case(rng.choice(["min_deviation", "max_min", "max_outcome"]), n, unit, need, budget, rng.choice([0.05, 0.1, 0.2, 0.3]), prior)
        plan = family_plan(f)
        a = allocate(plan)
        if not a.ok:
            continue
        assert allocation_violations(plan, a) == []
        reported = any(m.code == "alloc.explain.rounding_prior" for m in a.notes)
        _x, held = _held(plan, a, f)
        assert reported != held, f
        exists = _a_rounding_keeps_the_bands(f)
        if not exists:
            assert reported, f
        seen["kept" if not reported else "reported, a far rounding exists" if exists else "reported"] += 1
    assert seen["kept"] >= 10 and seen["reported"] >= 10, seen  # both sides are exercised
    assert seen["reported, a far rounding exists"] <= seen["kept"] // 4, seen


def test_a_rounding_searched_in_whole_dong_is_said():
    """Three units, 3 000 then 3 100 đ, ±5 % between the years, rounding unit 1 000 đ: rounding each
    year on its own breaks the band, so the roundings are searched in whole đồng — and the
    explanation now says that amounts are not all in whole thousands."""
    from budgetlib.allocator import explain_text

    f = {"kind": "min_deviation", "n": 2, "Y": 2, "unit": 1000, "need": [1, 1], "bump": 1, "budgets": [3000, 3100], "more_year": 0,
         "more": 0, "floor": None, "cap": None, "share": None, "delta": 0.05, "prior": None, "absorb": None}
    plan = family_plan(f)
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    assert (a.amounts % 1000 != 0).any()
    assert "nên" in explain_text(a, "vi") and "ô được làm tròn đến từng đồng" in explain_text(a, "vi")
    assert "cells are rounded to whole VND instead" in explain_text(a, "en")


def test_an_ineligible_unit_does_not_move_max_outcome_on_blocks_ten_million_apart():
    """Found by hypothesis (seed 44): T0–T2 have 1 đ in 2021 and 11,6 million đ in 2022, a 37,5 %
    cap binds U2. With the ineligible unit E, HiGHS's QP stopped 10⁻⁴ off the 1-đồng rows (its
    tolerances are absolute), the answer went to Clarabel and left U2 15 953 đ below its cap. Now
    fixed columns are substituted out and HiGHS is run again on the rescaled model, where every
    block is of unit size: both plans get HiGHS's exact optimum."""
    f = {"kind": "max_outcome", "n": 3, "Y": 2, "unit": 1, "need": [0, 1, 2], "bump": 1, "budgets": [1, 11_614_645], "more_year": 0,
         "more": 2, "floor": None, "cap": 0.375, "share": None, "delta": None, "prior": None, "absorb": None}
    a, b = allocate(family_plan(f)), allocate(family_plan(f, with_e=False))
    gap = np.abs(a.amounts.sum(axis=3)[:4] - b.amounts.sum(axis=3)).max()
    assert gap <= 1e-5 * sum(line.amount for line in family_plan(f).budget_lines), gap


@pytest.mark.xfail(strict=True, reason="known: rounding is not budget-monotone when caps cross a multiple of the rounding unit")
def test_known_rounding_paradox_a_larger_budget_can_cost_a_unit_two_rounding_units():
    """Found by hypothesis (not derandomised), not fixed: U0 and W capped at 44,5 % of the budget,
    U1 without need takes the rest. T0 has 743 000 đ, T2 77 đ more; the caps (330 965 and 330 999 đ)
    round to 330 000 and, within 1 đ of the real cap, 331 000 đ, so U1 gets 83 000 đ from T0 and
    81 077 đ from T2 — 1 923 đ less from a larger budget, beyond one rounding unit (the Alabama paradox
    of the largest-remainder rounding, here across two units at once). Strict: passes the day the
    rounding becomes budget-monotone, and then this test must be turned into a property."""
    f = {"kind": "min_deviation", "n": 2, "Y": 1, "unit": 1000, "need": [1, 0], "bump": 1, "budgets": [743000], "more_year": 0,
         "more": 77, "floor": None, "cap": 0.4454439416598899, "share": None, "delta": None, "prior": None, "absorb": None}
    x = allocate(family_plan(f)).amounts.sum(axis=3)[:, :, 0]
    assert x[1, 2] >= x[1, 0] - 1000 - 77, (x[1, 0], x[1, 2])

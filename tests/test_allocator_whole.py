"""Whole-number targets (issue 11): a target counted in communes or pilot models funds whole items.

Each unit counts only the items its money pays for in full; when the continuous optimum falls
short, whole counts are rounded up where the fraction is largest (or chosen by a MIP when caps
block that) and the policy is solved again; attainment and explanations show whole numbers."""

from __future__ import annotations

import numpy as np
import pytest

from budgetlib import (
    AdminUnit,
    Agency,
    AllocationPolicy,
    BudgetLine,
    CapConstraint,
    FundingSource,
    Plan,
    Program,
    Target,
    TargetConstraint,
    Task,
    TaskRole,
    load_plan_file,
)
from budgetlib.allocator import allocate
from budgetlib.allocator.testing import allocation_violations

from .conftest import EXAMPLES

LP_POLICIES = ["min_deviation", "max_min", "max_outcome"]
COST = 100_000_000


def plan_of(needs, rooms, budget, constraints, kind="min_deviation", curves=False):
    """One task T0 (need = the attribute ``need``), one year; unit i can still convert ``rooms[i]``
    communes (``communes`` − ``healthy_communes``)."""
    units = [AdminUnit(code=f"U{i}", name=f"Huyện {i}", kind="Huyện", parent="P",
                       attributes={"need": float(n), "communes": float(r), "healthy_communes": 0.0})
             for i, (n, r) in enumerate(zip(needs, rooms))]
    rc = [{"task": "T0", "segments": [{"width": 1.0, "outcome_per_million": 1.0}]}] if curves else []
    return Plan(
        program=Program(code="W", name="Thử", authority="UBND", first_year=2021, last_year=2021, total=budget),
        units=units, agencies=[Agency(code="A", name="Sở")],
        tasks=[Task(code="T0", name="Nhiệm vụ", agencies=[TaskRole(agency="A", role="lead")], need="need")],
        sources=[FundingSource(code="NS", name="Ngân sách")],
        budget_lines=[BudgetLine(task="T0", agency="A", year=2021, source="NS", amount=budget)],
        targets=[Target(code="CT", name="Xã lành mạnh", unit="xã", baseline=0, values={2021: 1}, task="T0")],
        allocation=AllocationPolicy(kind=kind, constraints=list(constraints), rounding_unit=1_000_000, response_curves=rc),
    )


def target(required, integer=True):
    return TargetConstraint(name="Chỉ tiêu xã", target="CT", task="T0", unit_cost=COST, required=required, integer=integer)


def whole_items(a, plan):
    x = a.amounts.sum(axis=(2, 3))[:, 0]
    rooms = np.array([u.attributes["communes"] for u in plan.units])
    return np.minimum(rooms, x // COST)


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_a_short_whole_target_is_rounded_up_where_the_fraction_is_largest(kind):
    # reference: U0 250, U1 260, U2 490 triệu → 2,5 + 2,6 + 4,9 = 10 communes, but only 2 + 2 + 4 whole
    plan = plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(9)], kind, curves=kind == "max_outcome")
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    items = whole_items(a, plan)
    assert items.sum() >= 9
    att = a.attainment[0]
    assert att.whole and att.met and att.funded == items.sum() and float(att.funded).is_integer()
    if kind != "max_outcome":  # max_outcome's curve is flat here: any split of the outcome is optimal
        # the largest fraction (U2: 0,9 of a commune) is rounded up; U1 (0,6) is next in line
        assert items.tolist() == [2, 2, 5]
        note = att.note("vi")
        assert "Huyện 2" in note and "phần lẻ lớn nhất" in note and ",9" not in note.split("Phương án")[0]
        assert "Huyện 2" in att.note("en") and "largest fractions" in att.note("en")


def test_the_whole_count_is_what_the_money_pays_for_in_full_even_when_nothing_changes():
    plan = plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(8)])
    a = allocate(plan)
    att = a.attainment[0]
    assert att.met and att.funded == 8 and att.whole
    assert "cộng cả phần lẻ thì được 10" in att.note("vi") and "fractions added: 10" in att.note("en")
    continuous = allocate(plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(8, integer=False)]))
    assert np.array_equal(a.amounts, continuous.amounts)  # the whole count changes nothing here
    assert continuous.attainment[0].funded == 10 and not continuous.attainment[0].whole


def test_a_cap_that_blocks_the_largest_fraction_sends_the_choice_to_the_mip():
    # U2 has the largest fraction (0,9) but a cap keeps it below 5 communes' worth: the MIP rounds U1 up
    cap = CapConstraint(name="Trần Huyện 2", units=["U2"], amount=495_000_000)
    plan = plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(9), cap])
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    items = whole_items(a, plan)
    assert items.sum() == 9 and items[1] == 3 and items[2] == 4
    note = a.attainment[0].note("vi")
    assert "quy hoạch nguyên" in note and "Huyện 1" in note
    assert "integer programming" in a.attainment[0].note("en")


def test_a_whole_target_the_caps_cannot_reach_is_diagnosed_with_its_caps():
    # in fractions 2,8 + 2,8 + 5 = 10,6 ≥ 10 communes fit under the caps; in whole communes only 9
    caps = [CapConstraint(name=f"Trần Huyện {u}", units=[f"U{u}"], amount=280_000_000) for u in (0, 1)]
    plan = plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(10), *caps])
    a = allocate(plan)
    assert not a.ok
    conflict = a.diagnosis.conflicts[0]
    assert conflict.kind == "target" and {"Trần Huyện 0", "Trần Huyện 1"} <= set(conflict.names)
    assert allocate(plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(10, integer=False), *caps])).ok


def test_a_fractional_requirement_is_rounded_up_to_whole_items():
    plan = plan_of([250, 260, 490], [5, 5, 5], 1_000_000_000, [target(8.2)])
    a = allocate(plan)
    assert a.attainment[0].required == 9 and whole_items(a, plan).sum() >= 9


def test_haiphong_counts_healthy_communes_in_whole_numbers():
    plan = load_plan_file(EXAMPLES / "haiphong_2011_2015" / "plan.json")
    ct2 = next(c for c in plan.allocation.constraints if isinstance(c, TargetConstraint) and c.target == "CT2")
    assert ct2.integer
    a = allocate(plan)
    att = next(t for t in a.attainment if t.target == "CT2")
    assert att.whole and att.met and float(att.funded).is_integer() and float(att.required) == 29
    xp = a.tasks.index("XP")
    funding = a.amounts[:, xp].sum(axis=(1, 2))
    rooms = np.array([max(u.attributes["communes"] - u.attributes["healthy_communes"], 0.0)
                      for u in (next(v for v in plan.units if v.code == c) for c in a.units)])
    assert att.funded == np.minimum(np.floor(rooms), funding // ct2.unit_cost).sum()
    assert f"trọn vẹn cho {int(att.funded)} " in att.note("vi")


def test_haiphong_with_a_higher_whole_target_funds_whole_communes():
    plan = load_plan_file(EXAMPLES / "haiphong_2011_2015" / "plan.json")
    cons = [c.model_copy(update={"required": 40}) if isinstance(c, TargetConstraint) and c.target == "CT2" else c
            for c in plan.allocation.constraints]
    plan = plan.model_copy(update={"allocation": plan.allocation.model_copy(update={"constraints": cons})})
    a = allocate(plan)
    assert a.ok and allocation_violations(plan, a) == []
    att = next(t for t in a.attainment if t.target == "CT2")
    assert att.met and att.funded == 40
    assert "được tính lại" in att.note("vi")


@pytest.mark.parametrize("kind", LP_POLICIES)
def test_a_whole_item_on_a_unit_without_need_is_paid_in_full_after_rounding(kind):
    """U1 has no need (reference share 0) but the target needs its commune: its amount is forced
    to the item's cost, 100 000 123 đ, which rounds to a million below it unless the forcing row
    keeps the rounding margin (random plan 89 983 of the stress test, max_min)."""
    cost = 100_000_123
    c = TargetConstraint(name="Chỉ tiêu xã", target="CT", task="T0", unit_cost=cost, required=2, integer=True)
    plan = plan_of([10, 0], [1, 1], 300_000_000, [c], kind, curves=kind == "max_outcome")
    a = allocate(plan)
    assert a.status.value == "optimal"
    x = a.amounts.sum(axis=(2, 3))[:, 0]
    assert (x >= cost).all(), x
    assert int(x.sum()) == 300_000_000
    assert allocation_violations(plan, a) == []

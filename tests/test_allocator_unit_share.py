"""The unit-share constraint kind (one module, budgetlib/constraints/unit_share.py): no unit receives
more than a share of a year's total across tasks."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from budgetlib import PlanInvalid
from budgetlib.allocator import allocate, assert_allocation_conserves, cheapest_budget, explain_text
from budgetlib.constraints import CONSTRAINT_KINDS
from budgetlib.model.policy import AllocationPolicy, UnitShareConstraint
from budgetlib.model.result import ConstraintKind

from .test_allocator_support import make_plan


def _plan(seed: int, share: float, kind: str = "min_deviation", U: int = 6, **selector):
    plan = make_plan(seed, U=U, T=3, Y=2)
    cons = [c for c in plan.allocation.constraints if c.type != "cap"]  # leave the share as the only cap
    cons.append(UnitShareConstraint(name="Không quá một tỷ trọng", share=share, **selector))
    return plan.model_copy(update={"allocation": AllocationPolicy(kind=kind, constraints=cons)})


def _year_shares(plan, a):
    """Each unit's share of each year's total over all tasks, from the amounts alone."""
    per_unit_year = a.amounts.sum(axis=(1, 3))  # [U, Y]
    totals = np.zeros(len(a.years))
    for line in plan.budget_lines:
        totals[a.years.index(line.year)] += line.amount
    return per_unit_year / totals[None, :]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["min_deviation", "max_min"])
def test_no_unit_above_its_share_of_the_year(seed, kind):
    free = allocate(_plan(seed, 1.0, kind))
    biggest = float(_year_shares(_plan(seed, 1.0, kind), free).max())
    share = round(max(biggest * 0.8, 1 / 6 + 0.02), 4)  # binds, and 6 units can still take the total
    plan = _plan(seed, share, kind)
    a = allocate(plan)
    assert a.ok, a.explanation("en")
    assert_allocation_conserves(plan, a)
    assert _year_shares(plan, a).max() <= share + 1e-9
    rows = [c for c in a.constraints if c.kind is ConstraintKind.UNIT_SHARE]
    assert rows and rows[0].name == "Không quá một tỷ trọng"
    if biggest > share:
        assert any(r.binding for r in rows)


def test_selected_units_and_tasks_only():
    plan = _plan(3, 0.2, units=["U0", "U1"], tasks=["T0", "T1"])
    a = allocate(plan)
    assert a.ok
    x = a.amounts.sum(axis=3)  # [U, T, Y]
    totals = np.zeros(len(a.years))
    for line in plan.budget_lines:
        if line.task in ("T0", "T1"):
            totals[a.years.index(line.year)] += line.amount
    assert (x[:2, :2].sum(axis=1) <= 0.2 * totals + 1e-6).all()


def test_too_small_a_share_is_a_located_precheck():
    plan = _plan(1, 0.1, U=6)  # 6 units × 10 % < 100 %
    a = allocate(plan)
    assert not a.ok and a.diagnosis.method == "precheck"
    c = a.diagnosis.conflicts[0]
    assert c.kind is ConstraintKind.UNIT_SHARE and c.locations == (f"allocation.constraints[{len(plan.allocation.constraints) - 1}]",)
    assert "10%" in c.message("vi") and "10%" in c.message("en") and c.amounts["shortfall"] > 0


def test_proportional_says_it_does_not_apply_it():
    a = allocate(_plan(2, 0.2, "proportional"))
    assert a.ok
    assert any("Không quá một tỷ trọng" in line and "không áp dụng" in line for line in a.explanation("vi"))


def test_cheapest_budget_keeps_the_share():
    cb = cheapest_budget(_plan(4, 0.3))
    assert cb.ok


def test_declared_once_model_checks_fields():
    kind = CONSTRAINT_KINDS["unit_share"]
    assert kind.model is UnitShareConstraint and kind.coupling
    assert [f.key for f in kind.fields] == ["name", "share", "tasks", "units", "years"]
    assert all(f.header.render("vi") and f.help.render("en") for f in kind.fields)
    with pytest.raises(ValidationError):
        UnitShareConstraint(name="x", share=1.5)
    with pytest.raises(ValidationError):
        UnitShareConstraint(name="x", share=float("nan"))


def test_unknown_unit_is_a_located_problem():
    with pytest.raises(PlanInvalid) as err:
        allocate(_plan(0, 0.5, units=["KHONG_CO"]))
    assert [p.location for p in err.value.problems] == [f"allocation.constraints[{1}].units[0]"]


def test_round_trip_through_json(tmp_path):
    from budgetlib import load_plan, save_plan

    plan = _plan(5, 0.4)
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    again = load_plan(path)
    assert again.allocation == plan.allocation
    assert "Không quá một tỷ trọng" in explain_text(allocate(again))

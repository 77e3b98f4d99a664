"""Diagnoses are true (issue 11): every conflicting set the allocator reports for an infeasible plan
is infeasible on its own and (for the LP diagnoses) feasible without any one member — checked by
re-running budgetlib on the subsets — and every member is located."""

from __future__ import annotations

import pytest

from budgetlib.allocator import allocate
from budgetlib.allocator.testing import random_plan
from budgetlib.model.result import ConstraintKind


def _only(plan, indices):
    constraints = [c for i, c in enumerate(plan.allocation.constraints) if i in indices]
    return plan.model_copy(update={"allocation": plan.allocation.model_copy(update={"constraints": constraints})})


def _index(location):
    return int(location[len("allocation.constraints["):-1])


@pytest.mark.parametrize("seed", range(120))
def test_reported_sets_are_infeasible_minimal_and_located(seed):
    plan = random_plan(5000 + seed, "min_deviation")
    a = allocate(plan)
    if a.ok:
        return
    d = a.diagnosis
    for c in d.conflicts:
        assert c.locations and all(c.locations), c.message("en")
        assert len(c.names) == len(c.locations)
    if d.method == "precheck":
        # each finding alone (its named constraints, the plan's budgets) is infeasible
        for c in d.conflicts:
            members = {_index(loc) for loc in c.locations if loc.startswith("allocation.constraints[")}
            assert not allocate(_only(plan, members)).ok, c.message("en")
        return
    members = {_index(c.locations[0]) for c in d.conflicts if c.kind is not ConstraintKind.BUDGET}
    assert not allocate(_only(plan, members)).ok  # the set alone is infeasible
    assert all(c.kind is not ConstraintKind.BUDGET for c in d.conflicts)  # budgets are data, always kept
    for m in members:  # and minimal: without any one member it is feasible
        assert allocate(_only(plan, members - {m})).ok, (m, d.summary("en"))

"""Domain assertions shipped with the package (like ``linopy.testing``), for tests of every front end."""

from __future__ import annotations

import operator

import numpy as np

from ..model.plan import Plan
from ..model.policy import CapConstraint, EarmarkConstraint, EligibilityConstraint, FloorConstraint
from ..model.result import Allocation

__all__ = ["assert_allocation_conserves"]

_OPS = {">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt}


def assert_allocation_conserves(plan: Plan, allocation: Allocation, *, check_bounds: bool = True) -> None:
    """Assert that an optimal allocation spends each (task, year, source) budget exactly, in whole đồng,
    with no negative amount; and (``check_bounds``) that earmarks, eligibility, amount floors and
    caps of the policy hold. Infeasible allocations must be all zero and carry a diagnosis.
    """
    a = allocation
    assert a.amounts.dtype == np.int64, f"amounts must be int64, got {a.amounts.dtype}"
    if not a.ok:
        assert a.diagnosis is not None and a.diagnosis.conflicts, "an infeasible allocation must carry a diagnosis"
        assert not a.amounts.any(), "an infeasible allocation must not allocate money"
        return
    assert (a.amounts >= 0).all(), "negative amount in allocation"
    ti = {t: i for i, t in enumerate(a.tasks)}
    yi = {y: i for i, y in enumerate(a.years)}
    si = {s: i for i, s in enumerate(a.sources)}
    expected = np.zeros((len(a.tasks), len(a.years), len(a.sources)), np.int64)
    for line in plan.budget_lines:
        if line.task in ti and line.year in yi and line.source in si:
            expected[ti[line.task], yi[line.year], si[line.source]] += line.amount
    got = a.amounts.sum(axis=0)
    bad = np.argwhere(got != expected)
    if bad.size:
        t, y, s = bad[0]
        raise AssertionError(
            f"task {a.tasks[t]} year {a.years[y]} source {a.sources[s]}: allocated {int(got[t, y, s])} đ, "
            f"budget {int(expected[t, y, s])} đ ({int(got[t, y, s] - expected[t, y, s]):+d} đ); {len(bad)} cell(s) differ"
        )
    if not check_bounds:
        return
    policy = plan.allocation
    if policy is None or a.policy != str(policy.kind):
        return
    x = a.amounts.sum(axis=3)  # [U, T, Y]
    ui = {u: i for i, u in enumerate(a.units)}
    funded = expected.sum(axis=2) > 0
    ineligible: set[tuple[str, str]] = set()  # (unit, task) excluded by an eligibility constraint
    for c in policy.constraints:
        if isinstance(c, EligibilityConstraint):
            for code in a.units:
                unit = plan.unit(code)
                ok = c.units is None or code in c.units
                if c.attribute is not None:
                    ok = ok and _OPS[c.op](float(unit.attributes.get(c.attribute, 0.0)), c.value)
                if not ok:
                    ineligible.update((code, t) for t in c.tasks)
    for code, t in sorted(ineligible):
        if t in ti:
            assert not x[ui[code], ti[t]].any(), f"eligibility: {code} got money for {t}"
    for c in policy.constraints:
        if isinstance(c, EarmarkConstraint):
            for y in c.years or a.years:
                if y in yi:
                    got_v = int(x[ui[c.unit], ti[c.task], yi[y]])
                    assert got_v == c.amount, f"earmark “{c.name}”: {c.unit}/{c.task}/{y} got {got_v} đ, expected {c.amount} đ"
        elif isinstance(c, (FloorConstraint, CapConstraint)) and c.amount is not None:
            for t in c.tasks or a.tasks:
                for y in c.years or a.years:
                    if y not in yi or not funded[ti[t], yi[y]]:
                        continue
                    for code in c.units or a.units:
                        v = int(x[ui[code], ti[t], yi[y]])
                        if isinstance(c, FloorConstraint):
                            # eligibility takes precedence over floors (docs/allocation.md)
                            assert v >= c.amount or (code, t) in ineligible, f"floor “{c.name}”: {code}/{t}/{y} got {v} đ < {c.amount} đ"
                        else:
                            assert v <= c.amount, f"cap “{c.name}”: {code}/{t}/{y} got {v} đ > {c.amount} đ"

"""Re-split one year of a plan under its own policy, the other years held at their amounts in force.

A revision and a next-year split both solve the plan's allocation problem for a single year ``y``
with a new budget per task and source (the money still to be decided), extra per-cell floors
(what is already disbursed) and caps (a unit's own full-year estimate), and a stability prior. The
plan's constraints keep their meaning:

* a **target** constraint that counts spending over several years is kept exact: the other years'
  amounts in force already fund ``c_other[u] = min(capacity[u] − baseline[u], F[u] / unit_cost)``
  items in unit ``u`` (``F`` = their amount for the target's task), so the year's problem raises each
  unit's baseline by ``c_other[u]`` and asks for ``required − Σ c_other`` more. This is the same set of
  feasible allocations as the multi-year constraint with the other years fixed;
* a **stability** constraint compares the year with the given prior (the allocator's first-year
  rule) instead of the previous year's variable;
* floors, caps, earmarks, eligibility and absorption limits apply to the year as they are.

The result is the allocator's :class:`~budgetlib.model.result.Allocation` for the year (explanation,
binding constraints, diagnosis when infeasible), on the plan's unit, task and source axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.money import ApportionError, apportion
from ..model.cycle import CycleState
from ..model.plan import BudgetLine, Plan, Program, Target
from ..model.policy import (
    AllocationPolicy,
    CapConstraint,
    FloorConstraint,
    PriorAmount,
    StabilityConstraint,
    TargetConstraint,
)
from ..model.result import Allocation

__all__ = ["CellBound", "resplit", "split_with_floors", "target_required"]


@dataclass(frozen=True)
class CellBound:
    """A per-cell bound added for one re-split: ``x[unit, task, year] ≥ amount`` (floor) or ``≤`` (cap)."""

    unit: str
    task: str
    amount: int
    name: str


def target_required(c: TargetConstraint, target: Target | None, baseline_units: float) -> float:
    """What a target constraint requires: ``required``, else the target's last value minus its
    baseline (the plan's baseline, else the units' baseline attribute summed) — as the allocator reads it."""
    if c.required is not None:
        return float(c.required)
    if target is None or not target.values:
        return 0.0
    last = target.values[max(target.values)]
    base = target.baseline if target.baseline is not None else baseline_units
    return max(0.0, float(last) - float(base))


def split_with_floors(rows: np.ndarray, cols: np.ndarray, floors: np.ndarray, unit: int = 1) -> np.ndarray:
    """Integer matrix ``m[u, s] ≥ floors[u, s]`` with row sums ``rows`` and column sums ``cols``.

    The floors are taken first; what remains of each source is apportioned over the units' remaining
    amounts in source order, the last source taking the rest (as the allocator splits sources), so
    both margins hold to the đồng. Needs Σrows = Σcols, rows ≥ Σ_s floors and cols ≥ Σ_u floors.
    """
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    floors = np.asarray(floors, np.int64)
    rem = rows - floors.sum(axis=1)
    left = cols - floors.sum(axis=0)
    if int(rows.sum()) != int(cols.sum()) or np.any(rem < 0) or np.any(left < 0):
        raise ValueError("split_with_floors: margins and floors are inconsistent")
    m = floors.copy()
    srcs = np.flatnonzero(left > 0)
    for s in srcs[:-1]:
        col = None
        for step in (unit, 1):
            try:
                col = apportion(int(left[s]), rem.astype(float), unit=step, upper=rem)
                break
            except ApportionError:
                continue
        if col is None:  # pragma: no cover - Σrem ≥ left[s] always holds
            raise AssertionError("source split failed")
        m[:, s] += col
        rem -= col
    if srcs.size:
        m[:, srcs[-1]] += rem
    return m


def _lines(plan: Plan, year: int, budget: np.ndarray, tasks: Sequence[str], sources: Sequence[str]) -> list[BudgetLine]:
    """Budget lines for ``year`` with amounts ``budget[t, s]``, keeping the plan's agencies (a task-source
    funded through several agencies is apportioned over them by their planned amounts)."""
    lead = {t.code: t.lead for t in plan.tasks}
    out: list[BudgetLine] = []
    for t, task in enumerate(tasks):
        for s, source in enumerate(sources):
            amount = int(budget[t, s])
            if amount <= 0:
                continue
            planned = [ln for ln in plan.budget_lines if ln.task == task and ln.source == source and ln.year == year]
            if not planned:
                planned = [ln for ln in plan.budget_lines if ln.task == task and ln.source == source]
            agencies: dict[str, int] = {}
            for ln in planned:
                agencies[ln.agency] = agencies.get(ln.agency, 0) + ln.amount
            if not agencies:
                agencies = {lead.get(task) or (plan.agencies[0].code if plan.agencies else task): 1}
            names = list(agencies)
            weights = [float(agencies[a]) for a in names]
            parts = apportion(amount, weights) if sum(weights) > 0 else apportion(amount, [1.0] * len(names))
            for agency, part in zip(names, parts):
                if part > 0:
                    out.append(BudgetLine(task=task, agency=agency, year=year, source=source, amount=int(part)))
    return out


def resplit(
    plan: Plan,
    state: CycleState,
    year: int,
    budget: np.ndarray,
    *,
    floors: Sequence[CellBound] = (),
    caps: Sequence[CellBound] = (),
    prior: Mapping[tuple[str, str], int] | None = None,
    policy: AllocationPolicy | None = None,
) -> Allocation:
    """Allocate ``budget[t, s]`` (đồng) of ``year`` across the plan's units under its policy.

    ``prior`` maps (unit, task) to the amount stability constraints compare with (``None``: the plan's
    stability constraints are dropped); the other years' amounts come from ``state``, and pay for a
    target's items alongside this year's money (``TargetConstraint.committed``).
    """
    from ..allocator import allocate
    from ..allocator.allocate import resolve_policy

    base = resolve_policy(plan, policy)
    units = [u for u in plan.units if u.code in set(state.units)]
    unit_pos = {u: i for i, u in enumerate(state.units)}
    task_pos = {t: i for i, t in enumerate(state.tasks)}
    all_years = list(base.years if base.years is not None else plan.program.years)
    constraints: list = []
    for c in base.constraints:
        if isinstance(c, StabilityConstraint):
            if prior is None:
                continue
            items = [PriorAmount(unit=u, task=t, amount=int(a)) for (u, t), a in sorted(prior.items()) if a > 0]
            constraints.append(c.model_copy(update={"prior": items or None}))
        elif isinstance(c, TargetConstraint):
            years = list(c.years) if c.years is not None else all_years
            if year not in years or c.task not in task_pos:
                continue
            others = [state.year_index(yr) for yr in years if yr != year and yr in state.years]
            funded = state.amounts[:, task_pos[c.task], others, :].sum(axis=(1, 2)) if others else np.zeros(len(state.units), np.int64)
            # the other years' money pays for items alongside this year's (whole items for an
            # integer target: a commune funded 0,6 by earlier years and 0,4 now counts once)
            committed = {u.code: int(funded[unit_pos[u.code]]) for u in units if funded[unit_pos[u.code]] > 0}
            constraints.append(c.model_copy(update={"years": [year], "committed": committed or None}))
        else:
            constraints.append(c)
    constraints += [
        FloorConstraint(name=b.name, units=[b.unit], tasks=[b.task], years=[year], amount=int(b.amount)) for b in floors if b.amount > 0
    ]
    constraints += [CapConstraint(name=b.name, units=[b.unit], tasks=[b.task], years=[year], amount=int(b.amount)) for b in caps]
    lines = _lines(plan, year, budget, state.tasks, state.sources)
    total = sum(ln.amount for ln in lines)
    program: Program = plan.program.model_copy(update={"total": total})
    derived = plan.model_copy(update={"budget_lines": lines, "program": program})
    chosen = AllocationPolicy.model_validate(
        {**{name: getattr(base, name) for name in AllocationPolicy.model_fields}, "constraints": constraints, "years": None}
    )
    derived = derived.model_copy(update={"allocation": chosen})
    result = allocate(derived, chosen, years=[year])
    if result.units != state.units or result.tasks != state.tasks or result.sources != state.sources:
        raise AssertionError("re-split changed the allocation axes")
    return result

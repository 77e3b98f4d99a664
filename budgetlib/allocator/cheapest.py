"""The cheapest budget that meets every target, floor and earmark (or how far the plan's budget falls short).

Each task keeps its year profile: its budget is ``k_t · B[t, y]`` with one multiplier ``k_t ≥ 0``
per task. The LP minimises ``Σ_t k_t · B_t`` under every constraint of the policy (bounds given as
amounts stay fixed; bounds relative to the budget — ``share_of_budget``, ``times_proportional`` —
scale with ``k_t``). See docs/allocation.md §"Cheapest budget".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..constraints.target import TargetSpec, target_rows
from ..core.i18n import Msg
from ..core.lang import Lang
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.result import AllocationStatus, Diagnosis
from ._data import build_data
from ._diagnose import diagnose_lp
from ._lp import solve_highspy
from ._model import Builder
from ._whole import solve_whole, whole_max
from .allocate import _check, resolve_policy

__all__ = ["CheapestBudget", "TargetCost", "cheapest_budget"]


@dataclass(frozen=True)
class TargetCost:
    """One target: what the plan's own budget can reach, and what the cheapest budget gives its task."""

    target: str
    name: str
    constraint: str
    task: str
    required: float
    achievable_with_plan: float | None  # max reachable with the plan's budget (None: plan infeasible)
    shortfall: float  # required − achievable (0 when met)
    met: bool
    plan_budget: int  # the task's budget in the plan over the allocation years
    minimum_budget: int  # the task's budget in the cheapest solution


@dataclass(frozen=True)
class CheapestBudget:
    plan_code: str
    status: AllocationStatus
    total: int  # minimum total budget, integer đồng (rounded up to the policy's rounding unit per task-year)
    plan_total: int
    by_task: dict[str, int]
    plan_by_task: dict[str, int]
    multipliers: dict[str, float]
    by_task_year: dict[str, dict[int, int]]
    targets: tuple[TargetCost, ...]
    diagnosis: Diagnosis | None = None
    notes: tuple[Msg, ...] = ()

    def explanation(self, lang: str | Lang) -> list[str]:
        """The explanation in ``lang``, one sentence per line."""
        return [m.render(lang) for m in self.notes]

    @property
    def ok(self) -> bool:
        return self.status is AllocationStatus.OPTIMAL

    @property
    def difference(self) -> int:
        """Minimum total − plan total (negative: the plan's budget is more than the targets need)."""
        return self.total - self.plan_total


def _ceil_to(v: float, unit: int) -> int:
    return math.ceil(max(v, 0.0) / unit - 1e-9) * unit


def cheapest_budget(plan: Plan, policy: AllocationPolicy | None = None) -> CheapestBudget:
    """Minimum total budget meeting every TargetConstraint, floor and earmark, keeping year profiles.

    Also reports, per target, the most the plan's own budget can reach and the shortfall.
    Never raises for infeasibility (e.g. a target above total capacity): returns a diagnosis.
    """
    policy = resolve_policy(plan, policy)
    _check(plan, policy)
    d = build_data(plan, policy, None)
    _T, Y, _U = d.shape
    unit = policy.rounding_unit
    plan_by_task = {t.code: int(d.B3[i].sum()) for i, t in enumerate(d.tasks) if d.B3[i].sum() > 0}
    targets = tuple(_target_with_plan_budget(d, i) for i in range(len(d.targets)))

    b = Builder(d, lo=d.lo_amt.ravel(), hi=d.hi_amt.ravel())
    b.common(scaled=True)
    lp, lay = b.done()
    sol = solve_highspy(lp)
    whole = [lay.c[i] for i, ts in enumerate(d.targets) if ts.whole]
    if sol.status == "optimal" and whole:  # whole items cost whole unit costs: the MIP's budget
        got = solve_whole(lp, np.concatenate(whole))
        if got is not None:
            sol = dataclasses.replace(sol, col_value=got)
    if sol.status != "optimal":
        diag = diagnose_lp(d, lp)
        return CheapestBudget(d.plan.program.code, AllocationStatus.INFEASIBLE, 0, sum(plan_by_task.values()), {}, plan_by_task, {}, {},
                              targets, diag, (diag.msg,))
    assert sol.col_value is not None
    mult = {d.tasks[t].code: float(f"{sol.col_value[c]:.9g}") for t, c in sorted(lay.k.items())}
    by_ty = {d.tasks[t].code: {d.years[y]: _ceil_to(sol.col_value[c] * d.B[t, y], unit) for y in range(Y) if d.B[t, y] > 0}
             for t, c in sorted(lay.k.items())}
    by_task = {k: sum(v.values()) for k, v in by_ty.items()}
    total = sum(by_task.values())
    targets = tuple(
        TargetCost(**{**tc.__dict__, "minimum_budget": by_task.get(tc.task, 0)}) for tc in targets
    )
    plan_total = sum(plan_by_task.values())
    notes = [Msg("alloc.cheapest.summary", total=total, plan_total=plan_total)]
    for tc in targets:
        if tc.achievable_with_plan is None:
            notes.append(Msg("alloc.cheapest.target_conflict", name=tc.name))
            continue
        short = "" if tc.met else Msg("alloc.cheapest.short", short=tc.shortfall)
        notes.append(Msg("alloc.cheapest.target", name=tc.name, required=tc.required, task=tc.task, plan_budget=tc.plan_budget,
                         achievable=tc.achievable_with_plan, short=short, minimum=tc.minimum_budget))
    return CheapestBudget(d.plan.program.code, AllocationStatus.OPTIMAL, total, plan_total, by_task, plan_by_task, mult, by_ty,
                          targets, None, tuple(notes))


def _target_with_plan_budget(d, i: int) -> TargetCost:
    """max Σ c[u] for target i with the plan's fixed budgets and every non-target constraint."""
    ts = d.targets[i]
    b = Builder(d)
    b.budget()
    b.constraint_rows(only=lambda r: not isinstance(r.spec, TargetSpec))
    cols = target_rows(b, ts, i, with_required=False)
    b.lp.cost[-1][:] = -1.0  # the c columns of this target are the last block
    assert b.lp.cost[-1].size == cols.size
    lp, _lay = b.done()
    sol = solve_highspy(lp)
    ys = np.asarray(ts.years, np.int64)
    plan_budget = int(d.B3[ts.task][ys].sum()) if ys.size else 0
    name = ts.target.name if ts.target else ts.constraint.name
    if sol.status != "optimal":
        return TargetCost(ts.constraint.target, name, ts.constraint.name, d.tasks[ts.task].code, ts.required, None, ts.required, False, plan_budget, 0)
    ach = float(f"{-sol.objective:.9g}")
    if ts.whole:  # whole items: the most a MIP funds in full
        ach = whole_max(lp, cols, ach)
    short = max(0.0, ts.required - ach)
    short = 0.0 if short <= 1e-7 * max(1.0, ts.required) else float(f"{short:.9g}")
    return TargetCost(ts.constraint.target, name, ts.constraint.name, d.tasks[ts.task].code, ts.required, ach, short, short == 0.0, plan_budget, 0)

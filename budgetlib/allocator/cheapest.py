"""The cheapest budget that meets every target, floor and earmark (or how far the plan's budget falls short).

Each task keeps its year profile: its budget is ``k_t · B[t, y]`` with one multiplier ``k_t ≥ 0``
per task. The LP minimises ``Σ_t k_t · B_t`` under every constraint of the policy (bounds given as
amounts stay fixed; bounds relative to the budget — ``share_of_budget``, ``times_proportional`` —
scale with ``k_t``). See docs/allocation.md §"Cheapest budget".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.money import format_amount
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.result import AllocationStatus, Diagnosis
from ._data import build_data
from ._diagnose import diagnose_lp
from ._lp import solve_highspy
from ._model import Builder
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
    explanation_vi: tuple[str, ...] = ()
    explanation_en: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is AllocationStatus.OPTIMAL

    @property
    def difference(self) -> int:
        """Minimum total − plan total (negative: the plan's budget is more than the targets need)."""
        return self.total - self.plan_total


def _ceil_to(v: float, unit: int) -> int:
    return int(math.ceil(max(v, 0.0) / unit - 1e-9)) * unit


def cheapest_budget(plan: Plan, policy: AllocationPolicy | None = None) -> CheapestBudget:
    """Minimum total budget meeting every TargetConstraint, floor and earmark, keeping year profiles.

    Also reports, per target, the most the plan's own budget can reach and the shortfall.
    Never raises for infeasibility (e.g. a target above total capacity): returns a diagnosis.
    """
    policy = resolve_policy(plan, policy)
    _check(plan, policy)
    d = build_data(plan, policy, None)
    T, Y, U = d.shape
    unit = policy.rounding_unit
    plan_by_task = {t.code: int(d.B3[i].sum()) for i, t in enumerate(d.tasks) if d.B3[i].sum() > 0}
    targets = tuple(_target_with_plan_budget(d, i) for i in range(len(d.targets)))

    b = Builder(d, "x", lo=d.lo_amt.ravel(), hi=d.hi_amt.ravel())
    b.common(scaled=True)
    lp, lay = b.done()
    sol = solve_highspy(lp)
    if sol.status != "optimal":
        diag = diagnose_lp(d, lp)
        return CheapestBudget(d.plan.program.code, AllocationStatus.INFEASIBLE, 0, sum(plan_by_task.values()), {}, plan_by_task, {}, {},
                              targets, diag, (diag.summary_vi,), (diag.summary_en,))
    mult = {d.tasks[t].code: float(f"{sol.col_value[c]:.9g}") for t, c in sorted(lay.k.items())}
    by_ty = {d.tasks[t].code: {d.years[y]: _ceil_to(sol.col_value[c] * d.B[t, y], unit) for y in range(Y) if d.B[t, y] > 0}
             for t, c in sorted(lay.k.items())}
    by_task = {k: sum(v.values()) for k, v in by_ty.items()}
    total = sum(by_task.values())
    targets = tuple(
        TargetCost(**{**tc.__dict__, "minimum_budget": by_task.get(tc.task, 0)}) for tc in targets
    )
    plan_total = sum(plan_by_task.values())
    vi = [f"Ngân sách tối thiểu để đạt mọi chỉ tiêu, mức sàn và kinh phí bố trí riêng (giữ cơ cấu theo năm của từng nhiệm vụ): "
          f"{format_amount(total)}; kế hoạch bố trí {format_amount(plan_total)}."]
    en = [f"Minimum budget meeting every target, floor and earmark (keeping each task's year profile): "
          f"{format_amount(total, lang='en')}; the plan provides {format_amount(plan_total, lang='en')}."]
    for tc in targets:
        if tc.achievable_with_plan is None:
            vi.append(f"Chỉ tiêu «{tc.name}»: với ngân sách kế hoạch, các ràng buộc khác đã mâu thuẫn.")
            en.append(f"Target “{tc.name}”: with the plan's budget the other constraints already conflict.")
            continue
        vi.append(f"Chỉ tiêu «{tc.name}»: cần {tc.required:g}, ngân sách kế hoạch của nhiệm vụ {tc.task} ({format_amount(tc.plan_budget)}) "
                  f"đạt tối đa {tc.achievable_with_plan:.4g}" + ("" if tc.met else f", thiếu {tc.shortfall:.4g}")
                  + f"; mức tối thiểu cho nhiệm vụ: {format_amount(tc.minimum_budget)}.")
        en.append(f"Target “{tc.name}”: needs {tc.required:g}; the plan's {tc.task} budget ({format_amount(tc.plan_budget, lang='en')}) "
                  f"reaches at most {tc.achievable_with_plan:.4g}" + ("" if tc.met else f", short by {tc.shortfall:.4g}")
                  + f"; minimum for the task: {format_amount(tc.minimum_budget, lang='en')}.")
    return CheapestBudget(d.plan.program.code, AllocationStatus.OPTIMAL, total, plan_total, by_task, plan_by_task, mult, by_ty,
                          targets, None, tuple(vi), tuple(en))


def _target_with_plan_budget(d, i: int) -> TargetCost:
    """max Σ c[u] for target i with the plan's fixed budgets and every non-target constraint."""
    ts = d.targets[i]
    b = Builder(d, "x")
    b.budget()
    b.absorption()
    b.stability()
    b.targets(with_required=False, only=i)
    b.lp.cost[-1][:] = -1.0  # the c columns of this target are the last block
    lp, lay = b.done()
    sol = solve_highspy(lp)
    ys = np.asarray(ts.years, np.int64)
    plan_budget = int(d.B3[ts.task][ys].sum()) if ys.size else 0
    name = ts.target.name if ts.target else ts.constraint.name
    if sol.status != "optimal":
        return TargetCost(ts.constraint.target, name, ts.constraint.name, d.tasks[ts.task].code, ts.required, None, ts.required, False, plan_budget, 0)
    ach = float(f"{-sol.objective:.9g}")
    short = max(0.0, ts.required - ach)
    short = 0.0 if short <= 1e-7 * max(1.0, ts.required) else float(f"{short:.9g}")
    return TargetCost(ts.constraint.target, name, ts.constraint.name, d.tasks[ts.task].code, ts.required, ach, short, short == 0.0, plan_budget, 0)

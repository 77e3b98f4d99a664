"""Budget–outcome curves with warm starts (the batch helper's hook into the allocator).

For budget levels ``f`` (the whole budget, or one source, × f), the most each costed target can
reach and — for plans with response curves — the most outcome, each an LP over the same
constraints as the allocation (budgets, floors, caps, earmarks, eligibility, absorption,
stability; the targets' *requirements* are left out, since reaching them is what the curve shows).

Only bounds change between levels: the budget rows' right-hand sides, and the column bounds that
depend on the budget (shares of the budget, multiples of the proportional share, response-curve
segment widths). So each LP family is handed to HiGHS once and, level after level in increasing
order, only its bounds are changed (``changeColsBounds`` / ``changeRowsBounds``) and the dual
simplex restarts from the previous optimal basis — a few pivots per level instead of a solve from
scratch. If a level's model differs in structure (a task-year without budget at f = 0), that level
is solved cold. ``warm=False`` solves every level from scratch (the comparison the tests and the
benchmark make). Values are the LP's (before rounding to đồng).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..constraints.target import TargetSpec, target_rows
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.scenario import ScaleBudget, Scenario
from ._data import build_data
from ._lp import LP, _highs_lp, new_highs
from ._model import Builder
from ._whole import whole_max
from .allocate import _check, resolve_policy

__all__ = ["CurvePoint", "CurveFamily", "budget_outcome_curve"]


@dataclass(frozen=True)
class CurvePoint:
    """One budget level: ``value`` is the LP optimum (items of a target, or outcome units), ``None`` when
    the other constraints conflict at this level (e.g. fixed floors above the budget)."""

    factor: float
    budget: int
    value: float | None
    iterations: int


@dataclass
class CurveFamily:
    """One curve: ``key`` is ``"outcome"`` or a target code; ``required`` the target's requirement."""

    key: str
    name: str
    required: float | None
    points: list[CurvePoint] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        return sum(p.iterations for p in self.points)


def _scaled(plan: Plan, factor: float, source: str | None) -> Plan:
    from ..planning.scenarios import apply_scenario

    if factor == 1:
        return plan
    return apply_scenario(plan, Scenario(name="curve", changes=[ScaleBudget(factor=factor, source=source)]))


def _not_target(r: Any) -> bool:
    return not isinstance(r.spec, TargetSpec)


def _families(d: Any) -> list[tuple[str, str, float | None, bool, Callable[[Any], LP]]]:
    """(key, name, required, counted in whole items, build(data) → LP to minimise) for the outcome
    and each costed target."""
    out: list[tuple[str, str, float | None, bool, Callable[[Any], LP]]] = []
    if d.policy.response_curves:
        def outcome(dd: Any) -> LP:
            b = Builder(dd)
            b.budget()
            b.constraint_rows(only=_not_target)
            for i, ts in enumerate(dd.targets):  # targets fund items but are not required here
                target_rows(b, ts, i, with_required=False)
            b.outcome(sign=-1.0)
            return b.done()[0]

        out.append(("outcome", "", None, False, outcome))
    for i, ts in enumerate(d.targets):
        def target(dd: Any, i: int = i) -> LP:
            b = Builder(dd)
            b.budget()
            b.constraint_rows(only=_not_target)
            target_rows(b, dd.targets[i], i, with_required=False)
            b.lp.cost[-1][:] = -1.0  # maximise Σ c of this target (its columns are the last block)
            return b.done()[0]

        name = ts.target.name if ts.target is not None else ts.constraint.name
        out.append((ts.constraint.target, name, float(ts.required), ts.whole, target))
    return out


class _Warm:
    """One HiGHS instance kept across levels; bounds are replaced, the basis is kept."""

    def __init__(self, warm: bool) -> None:
        import highspy

        self.hs = highspy
        self.warm = warm
        self.h: Any = None
        self.matrix: tuple[Any, ...] | None = None

    def solve(self, lp: LP) -> tuple[float | None, int]:
        hs = self.hs
        model = _highs_lp(lp, dedupe=True)
        matrix = (lp.n_rows, lp.n_cols, np.asarray(model.a_matrix_.start_).tobytes(), np.asarray(model.a_matrix_.index_).tobytes(),
                  np.asarray(model.a_matrix_.value_).tobytes(), np.asarray(model.col_cost_).tobytes())
        if self.warm and self.h is not None and matrix == self.matrix:
            n, m = lp.n_cols, lp.n_rows
            if n:
                self.h.changeColsBounds(n, np.arange(n, dtype=np.int32), np.asarray(model.col_lower_, float), np.asarray(model.col_upper_, float))
            if m:
                self.h.changeRowsBounds(m, np.arange(m, dtype=np.int32), np.asarray(model.row_lower_, float), np.asarray(model.row_upper_, float))
        else:
            self.h = new_highs()  # silent: no banner on the terminal
            self.h.setOptionValue("random_seed", 0)
            self.h.passModel(model)
            self.matrix = matrix
        before = self.h.getInfo().simplex_iteration_count if self.warm else 0
        self.h.run()
        info = self.h.getInfo()
        iterations = max(0, int(info.simplex_iteration_count) - (int(before) if self.warm and before > 0 else 0))
        if self.h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return None, iterations
        return float(-info.objective_function_value), iterations


def budget_outcome_curve(
    plan: Plan,
    factors: Sequence[float | Fraction],
    *,
    source: str | None = None,
    policy: AllocationPolicy | None = None,
    warm: bool = True,
) -> list[CurveFamily]:
    """The outcome (response curves) and each costed target's most reachable items at each budget level.

    ``factors`` multiply the whole budget (or ``source``'s lines); the points come back in increasing
    order of factor. Raises :class:`~budgetlib.core.problems.PlanInvalid` for an invalid plan.
    """
    policy = resolve_policy(plan, policy)
    _check(plan, policy)
    levels = sorted({float(f) for f in factors})
    datas = []
    for f in levels:
        scaled = _scaled(plan, f, source)
        datas.append((f, scaled.budget_total, build_data(scaled, policy, None)))
    if not datas:
        return []
    families = []
    for key, name, required, whole, build in _families(datas[0][2]):
        fam = CurveFamily(key, name, required)
        solver = _Warm(warm)
        for f, budget, d in datas:
            lp = build(d)
            value, iterations = solver.solve(lp)
            if value is not None and whole:
                value = whole_max(lp, np.arange(lp.n_cols - lp.cost[-1].size, lp.n_cols), value)
            if value is not None:
                value = float(f"{value:.9g}") + 0.0
            fam.points.append(CurvePoint(f, int(budget), value, iterations))
        families.append(fam)
    return families

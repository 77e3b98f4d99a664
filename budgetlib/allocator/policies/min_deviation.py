"""min_deviation — as close to the reference share as every constraint allows, with a unique optimum.

Minimise ½ Σ ω·(x − r)² over all bounds and coupling constraints (r the reference share; ω = 1/r,
the χ² distance, for ``deviation="relative"``; ω = 1 for ``"absolute"``): strictly convex, so the
split is unique, symmetric, and a change forced by a constraint is shared in proportion to the
reference shares (relative) or in equal amounts (absolute). When no coupling row binds at r, r
itself is the optimum and no solver runs (docs/allocation.md).
"""

from __future__ import annotations

from ...core.i18n import Msg
from ...model.policy import PolicyKind
from .._data import Data
from .._model import equivalent_deviation
from .base import (
    Outcome,
    PolicyType,
    Solved,
    check_optimal,
    fair_builder,
    fair_scale,
    infeasible,
    reference_if_feasible,
    relative,
    run,
)

__all__ = ["POLICY"]


class MinDeviation(PolicyType):
    kind = PolicyKind.MIN_DEVIATION
    fields = ("deviation",)
    objective_in_money = True

    def objective(self, d: Data) -> Msg | None:
        return Msg("alloc.objective.deviation_relative" if relative(d) else "alloc.objective.deviation_absolute")

    def solve(self, d: Data, backend: str) -> Outcome:
        ref = reference_if_feasible(d)
        if ref is not None:  # no coupling constraint binds: the reference share is the optimum
            return ref, None
        lp, lay = fair_builder(d).done()
        sol = run(d, lp, backend)
        if sol.status == "infeasible":
            return infeasible(d)
        check_optimal(sol)
        assert sol.col_value is not None
        x = lay.x_value(sol.col_value)
        value = equivalent_deviation(d, x, relative(d))
        return x, Solved(x, value, sol, lay, lp, sol, lay, lp, 1, fair_scale(d, value))


POLICY = MinDeviation()

"""min_deviation — as close to the need-based shares as every constraint allows.

Minimise Σ ω·|x − p| over all bounds and coupling constraints (ω = 1, or 1/p for
``deviation="relative"``), written without per-cell rows as x = p + d⁺ − d⁻ (docs/allocation.md).
"""

from __future__ import annotations

from ...core.i18n import Msg
from ...model.policy import PolicyKind
from .._data import Data
from .base import (
    Outcome,
    PolicyType,
    Solved,
    check_optimal,
    dev_builder,
    infeasible,
    reference_if_feasible,
    relative,
    run,
)

__all__ = ["POLICY"]


class MinDeviation(PolicyType):
    kind = PolicyKind.MIN_DEVIATION
    fields = ("deviation",)

    def objective(self, d: Data) -> Msg | None:
        return Msg("alloc.objective.deviation_relative" if relative(d) else "alloc.objective.deviation_absolute")

    def in_money(self, d: Data) -> bool:
        return not relative(d)

    def solve(self, d: Data, backend: str) -> Outcome:
        ref = reference_if_feasible(d)
        if ref is not None:  # no coupling constraint binds: the reference share is the optimum
            return ref, None
        lp, lay = dev_builder(d).done()
        sol = run(d, lp, backend)
        if sol.status == "infeasible":
            return infeasible(d)
        check_optimal(sol)
        assert sol.col_value is not None
        scale = 1.0 if relative(d) else d.M
        x = lay.x_value(sol.col_value)
        return x, Solved(x, sol.objective * scale, sol, lay, lp, sol, lay, lp, 1, scale)


POLICY = MinDeviation()

"""max_outcome — efficiency: maximise Σ outcome of the concave response curves, then (stage 2) the
fair split among the allocations that keep that outcome: the unique minimiser of the squared
deviation from the reference share — so ties between units (equal slopes) are shared in proportion
to need, and tasks without a curve are split as close to need as the constraints allow."""

from __future__ import annotations

from ...core.i18n import Msg
from ...model.policy import PolicyKind
from .._data import Data
from .._model import Builder, outcome_group
from .base import (
    LEXI_TOLERANCES,
    Outcome,
    PolicyType,
    Solved,
    check_optimal,
    infeasible,
    reference_if_feasible,
    relative,
    run,
    run_pooled,
)

__all__ = ["POLICY"]


class MaxOutcome(PolicyType):
    kind = PolicyKind.MAX_OUTCOME
    fields = ("deviation", "response_curves")

    def objective(self, d: Data) -> Msg | None:
        return Msg("alloc.objective.outcome", outcomes=[c.outcome or c.task for c in d.policy.response_curves])

    def solve(self, d: Data, backend: str) -> Outcome:
        ref = reference_if_feasible(d)
        if ref is not None:
            # segment widths are multiples of the reference share, so r maximises the outcome of
            # every block on its own (all units on the same segment, the same marginal outcome);
            # when it keeps every coupling row it is stage 1's optimum and, at deviation 0, stage 2's
            return ref, None
        b = Builder(d)
        b.common()
        b.outcome(sign=-1.0)
        lp1, lay1 = b.done()
        carry: dict = {}  # the rows stage 1 found binding, for stage 2's pooled models
        # tasks without a curve cannot change the outcome: stage 1 leaves them to stage 2
        s1 = run_pooled(d, lp1, lay1, backend, [outcome_group(d)], carry=carry, objective_parts_only=True)
        if s1.status == "infeasible":
            return infeasible(d)
        check_optimal(s1)
        assert s1.col_value is not None
        best = -s1.objective
        for tol in LEXI_TOLERANCES:
            b2 = Builder(d)
            b2.common()
            b2.outcome(sign=0.0)
            b2.outcome_floor(best - tol * max(1.0, abs(best)))
            b2.fair_objective(relative(d))
            lp2, lay2 = b2.done()
            s2 = run_pooled(d, lp2, lay2, backend, [outcome_group(d)], ranging=False, carry=carry)
            if s2.status == "optimal" and s2.col_value is not None:
                x = lay2.x_value(s2.col_value)
                return x, Solved(x, best, s2, lay2, lp2, s1, lay1, lp1, -1, 1.0)
        if s1.partial:  # stage 2 failed: stage 1 on the whole model decides (infeasible, or its own split)
            s1 = run(d, lp1, backend)
            if s1.status == "infeasible":
                return infeasible(d)
            check_optimal(s1)
        assert s1.col_value is not None
        x = lay1.x_value(s1.col_value)
        return x, Solved(x, best, s1, lay1, lp1, s1, lay1, lp1, -1, 1.0)


POLICY = MaxOutcome()

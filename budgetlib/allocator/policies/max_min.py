"""max_min — equity: raise the lowest coverage x/p over covered cells, then (stage 2) the
min-deviation split among the allocations that keep that coverage (lexicographic).

Large models find the coverage by bisection over warm-started min-deviation solves
(:mod:`budgetlib.allocator._maxmin`).
"""

from __future__ import annotations

import numpy as np

from ...core.i18n import Msg
from ...model.policy import PolicyKind
from .. import _maxmin
from .._data import Data
from .._model import Builder, covered_cells
from .base import (
    LEXI_TOLERANCES,
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


class MaxMin(PolicyType):
    kind = PolicyKind.MAX_MIN
    fields = ("deviation",)

    def objective(self, d: Data) -> Msg | None:
        return Msg("alloc.objective.coverage")

    def solve(self, d: Data, backend: str) -> Outcome:
        ref = reference_if_feasible(d)
        if ref is not None:  # every covered cell at its reference share: coverage 1, deviation 0
            return ref, None
        if d.policy.solver == "highs" and backend != "pulp" and covered_cells(d).size >= _maxmin.BISECTION_MIN_CELLS:
            found = _maxmin.maxmin_bisection(d, relative=relative(d))
            if found is None:
                return infeasible(d)
            z, final, lay, lp = found
            check_optimal(final)
            assert final.col_value is not None
            x = lay.x_value(final.col_value)
            return x, Solved(x, z, final, lay, lp, None, None, None, -1, 1.0)
        b = Builder(d, "x")
        b.common()
        b.maxmin_rows()
        lp1, lay1 = b.done()
        s1 = run(d, lp1, backend, ipm=True)  # simplex stalls on the degenerate max-min stage of large models
        if s1.status == "infeasible":
            return infeasible(d)
        check_optimal(s1)
        assert s1.col_value is not None
        z = -s1.objective
        covered = covered_cells(d)
        for tol in LEXI_TOLERANCES:
            zf = max(0.0, z - tol * max(1.0, abs(z)))
            lo = d.lo.ravel().copy()
            lo[covered] = np.minimum(np.maximum(lo[covered], zf * d.ref.ravel()[covered]), d.hi.ravel()[covered])
            lp2, lay2 = dev_builder(d, lo).done()
            s2 = run(d, lp2, backend, ranging=False)
            if s2.status == "optimal" and s2.col_value is not None:
                x = lay2.x_value(s2.col_value)
                return x, Solved(x, z, s2, lay2, lp2, s1, lay1, lp1, -1, 1.0)
        x = lay1.x_value(s1.col_value)
        return x, Solved(x, z, s1, lay1, lp1, s1, lay1, lp1, -1, 1.0)


POLICY = MaxMin()

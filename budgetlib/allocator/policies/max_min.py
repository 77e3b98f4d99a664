"""max_min — equity: raise the lowest coverage x/r over covered cells, then (stage 2) the fair
split among the allocations that keep that coverage: the unique minimiser of the squared deviation
from the reference share (lexicographic).

Large models find the coverage by bisection over warm-started feasibility solves
(:mod:`budgetlib.allocator._maxmin`).
"""

from __future__ import annotations

import numpy as np

from ...core.i18n import Msg
from ...model.policy import PolicyKind
from .. import _maxmin
from .._data import Data
from .._lp import LP, Solution
from .._model import Builder, Layout, covered_cells, maxmin_group
from .._reduce import solve_pooled
from .base import (
    LEXI_TOLERANCES,
    Outcome,
    PolicyType,
    Solved,
    check_optimal,
    fair_builder,
    infeasible,
    interior_point,
    interior_vertex,
    reference_if_feasible,
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
        s1: Solution | None = None
        lay1: Layout | None = None
        lp1: LP | None = None
        large = d.policy.solver == "highs" and backend != "pulp"
        n_covered = covered_cells(d).size
        if large and n_covered >= _maxmin.POOLED_MIN_CELLS:
            # the stage-1 LP on pooled models (untouched cells at equal coverage), with duals
            lp1, lay1 = _coverage_model(d)
            got = solve_pooled(lp1, lay1.pM, [maxmin_group(d)], interior_vertex, explore=interior_point)
            if got is not None and got.status == "optimal":
                s1 = got
        if s1 is not None:
            z = -s1.objective
        elif large and n_covered >= _maxmin.BISECTION_MIN_CELLS:
            s1 = lay1 = lp1 = None
            found = _maxmin.maxmin_bisection(d)
            if found is None:
                return infeasible(d)
            z = found
        else:
            if lp1 is None or lay1 is None:
                lp1, lay1 = _coverage_model(d)
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
            lp2, lay2 = fair_builder(d, lo).done()
            s2 = run(d, lp2, backend, ranging=False)
            if s2.status == "optimal" and s2.col_value is not None:
                x = lay2.x_value(s2.col_value)
                return x, Solved(x, z, s2, lay2, lp2, s1, lay1, lp1, -1, 1.0)
        if s1 is None or lay1 is None or lp1 is None:  # pragma: no cover - stage 2 at z − 10⁻³ is feasible when z is
            raise RuntimeError("max_min: the fair stage is infeasible at the coverage found by bisection")
        assert s1.col_value is not None
        x = lay1.x_value(s1.col_value)
        return x, Solved(x, z, s1, lay1, lp1, s1, lay1, lp1, -1, 1.0)


def _coverage_model(d: Data) -> tuple[LP, Layout]:
    """Stage 1: the plan's rows and max z s.t. x ≥ z·r on covered cells."""
    b = Builder(d)
    b.common()
    b.maxmin_rows()
    return b.done()


POLICY = MaxMin()

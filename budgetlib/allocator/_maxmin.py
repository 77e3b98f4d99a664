"""max_min for large models: the coverage z* by bisection over feasibility tests.

Stage 1 of max_min (max z s.t. x ≥ z·r on covered cells) is hard for an LP solver at national
scale: z touches every covered cell. But feasibility is monotone in z, and "is z feasible?" is the
model of the plan's constraints with the lower bounds of covered cells raised to max(lo, z·r) — a
change of column bounds. Each test solves the fair QP (the squared deviation from the reference
share) on those bounds by the reduced models of :mod:`._reduce` — only the rows that bind and the
cells they move, a few hundred columns on the national plan — whose infeasibility proves the whole
model's; when the reduction does not pay, HiGHS's dual simplex decides on the whole model, warm
started from the previous test. The fair stage 2 (the quadratic tie-break with x ≥ z*·r) is then
solved as on the small-model path.

Stage-1 shadow prices are not available this way; the explanation says so.
"""

from __future__ import annotations

import numpy as np

from ._data import Data
from ._lp import _highs_lp, new_highs
from ._model import covered_cells

__all__ = ["BISECTION_MIN_CELLS", "POOLED_MIN_CELLS", "maxmin_bisection"]

BISECTION_MIN_CELLS = 10_000
"""max_min models with at least this many covered cells are solved by bisection (HiGHS only): the
stage-1 LP by interior point took 15 s on 1 000 communes × 6 tasks × 5 years with binding stability."""

POOLED_MIN_CELLS = 1_500
"""max_min models with at least this many covered cells solve stage 1 on pooled models first
(:func:`budgetlib.allocator._reduce.solve_pooled`); bisection is the fallback."""

RELATIVE_TOLERANCE = 1e-7
"""Bisection stops when the bracket on z is this narrow (relative to max(1, z))."""


def maxmin_bisection(d: Data) -> float | None:
    """z*, or None when even z = 0 is infeasible."""
    import highspy

    from ._qp import QPArrays, _solve_fair_whole
    from ._reduce import solve_reduced
    from .policies.base import fair_builder

    lp, lay = fair_builder(d).done()
    qp = QPArrays.of(lp)
    base_lb = qp.lb.copy()
    whole: list = []  # HiGHS on the whole model, made when the reduction first does not pay

    _T, _Y, U = d.shape
    covered = covered_cells(d)
    funded = np.repeat((d.B > 0).ravel(), U)
    lo = np.where(funded, d.lo.ravel(), 0.0)[covered] / d.M
    hi = np.where(funded, d.hi.ravel(), 0.0)[covered] / d.M
    r = lay.pM[covered]
    cols = lay.x[covered].astype(np.int32)

    def highs_feasible(floor: np.ndarray) -> bool:
        if not whole:
            h = new_highs()
            h.setOptionValue("random_seed", 0)
            feasibility_lp = lp.with_objective(np.zeros(lp.n_cols))
            if h.passModel(_highs_lp(feasibility_lp, False)) == highspy.HighsStatus.kError:
                h.passModel(_highs_lp(feasibility_lp, True))
            whole.append(h)
        h = whole[0]
        h.changeColsBounds(cols.size, cols, floor, hi)
        h.run()
        return bool(h.getModelStatus() == highspy.HighsModelStatus.kOptimal)

    def feasible_at(z: float) -> bool:
        floor = np.minimum(np.maximum(lo, z * r), hi)
        qp.lb = base_lb.copy()
        qp.lb[cols] = floor
        got = solve_reduced(qp, _solve_fair_whole)
        if got is not None:
            return got.status == "optimal"
        return highs_feasible(floor)

    if not feasible_at(0.0):
        return None
    # Upper bound on z ignoring coupling rows: a block cannot give every covered cell z·r when
    # z·Σr exceeds its budget, and no cell can go above its cap.
    block = covered // U
    blocks, local = np.unique(block, return_inverse=True)
    budget = d.B.ravel()[blocks] / d.M
    share = np.bincount(local, weights=r, minlength=blocks.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_hi = float(min(np.min(np.where(share > 0, budget / share, np.inf)), np.min(np.where(r > 0, hi / r, np.inf))))
    z_lo = 0.0
    if np.isfinite(z_hi) and feasible_at(z_hi):
        z_lo = z_hi
    while z_hi - z_lo > RELATIVE_TOLERANCE * max(1.0, z_hi):
        mid = 0.5 * (z_lo + z_hi)
        if feasible_at(mid):
            z_lo = mid
        else:
            z_hi = mid
    return z_lo

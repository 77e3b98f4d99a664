"""max_min for large models: the coverage z* by bisection over warm-started feasibility solves.

Stage 1 of max_min (max z s.t. x ≥ z·r on covered cells) is hard for HiGHS at national scale: z
touches every covered cell. But feasibility is monotone in z, and "is z feasible?" is the model of
the plan's constraints with the lower bounds of covered cells raised to max(lo, z·r) — a change of
column bounds, which HiGHS's dual simplex re-solves from the previous basis in a fraction of the
first solve. The fair stage 2 (the quadratic tie-break with x ≥ z*·r) is then solved as on the
small-model path.

Stage-1 shadow prices are not available this way; the explanation says so.
"""

from __future__ import annotations

import numpy as np

from ._data import Data
from ._lp import _highs_lp, new_highs
from ._model import Builder, covered_cells

__all__ = ["BISECTION_MIN_CELLS", "maxmin_bisection"]

BISECTION_MIN_CELLS = 50_000
"""max_min models with at least this many covered cells are solved by bisection (HiGHS only)."""

RELATIVE_TOLERANCE = 1e-7
"""Bisection stops when the bracket on z is this narrow (relative to max(1, z))."""


def maxmin_bisection(d: Data) -> float | None:
    """z*, or None when even z = 0 is infeasible."""
    import highspy

    builder = Builder(d)
    builder.common()
    lp, lay = builder.done()

    h = new_highs()
    h.setOptionValue("random_seed", 0)
    if h.passModel(_highs_lp(lp, False)) == highspy.HighsStatus.kError:
        h.passModel(_highs_lp(lp, True))

    _T, _Y, U = d.shape
    covered = covered_cells(d)
    funded = np.repeat((d.B > 0).ravel(), U)
    lo = np.where(funded, d.lo.ravel(), 0.0)[covered] / d.M
    hi = np.where(funded, d.hi.ravel(), 0.0)[covered] / d.M
    r = lay.pM[covered]
    cols = lay.x[covered].astype(np.int32)

    def feasible_at(z: float) -> bool:
        floor = np.minimum(np.maximum(lo, z * r), hi)
        h.changeColsBounds(cols.size, cols, floor, hi)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

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

"""max_min for large models: bisection on z over warm-started min-deviation solves.

Stage 1 of max_min (max z s.t. x ≥ z·p on covered cells) is hard for HiGHS at national scale: z
touches every covered cell. But feasibility is monotone in z, and "is z feasible?" is just the
min-deviation model with the lower bounds of covered cells raised to max(lo, z·p) — a change of
column bounds, which HiGHS's dual simplex re-solves from the previous basis in a fraction of the
first solve. So z* is found by bisection, and the last feasible solve *is* stage 2 (minimum
deviation with x ≥ z·p), exactly as in ``docs/allocation.md``.

Stage-1 shadow prices are not available this way; the explanation says so.
"""

from __future__ import annotations

import numpy as np

from ._data import Data
from ._lp import LP, Solution, _highs_lp, _read_highs, new_highs
from ._model import Builder, Layout, covered_cells

__all__ = ["BISECTION_MIN_CELLS", "maxmin_bisection"]

BISECTION_MIN_CELLS = 50_000
"""max_min models with at least this many covered cells are solved by bisection (HiGHS only)."""

RELATIVE_TOLERANCE = 1e-7
"""Bisection stops when the bracket on z is this narrow (relative to max(1, z))."""


def maxmin_bisection(d: Data, *, relative: bool) -> tuple[float, Solution, Layout, LP] | None:
    """Return (z*, stage-2 solution, layout, model), or None when even z = 0 is infeasible."""
    import highspy

    builder = Builder(d, "dev")
    builder.common()
    builder.deviation_cost(relative)
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
    p = lay.pM[covered]
    cols = np.concatenate([lay.dp[covered], lay.dn[covered]]).astype(np.int32)

    def solve_at(z: float) -> bool:
        floor = np.minimum(np.maximum(lo, z * p), hi)
        lower = np.concatenate([np.maximum(floor - p, 0.0), np.maximum(p - hi, 0.0)])
        upper = np.concatenate([np.maximum(hi - p, 0.0), np.maximum(p - floor, 0.0)])
        h.changeColsBounds(cols.size, cols, lower, upper)
        h.run()
        return h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    if not solve_at(0.0):
        return None
    # Upper bound on z ignoring coupling rows: a block cannot give every covered cell z·p when
    # z·Σp exceeds its budget, and no cell can go above its cap.
    block = covered // U
    blocks, local = np.unique(block, return_inverse=True)
    budget = d.B.ravel()[blocks] / d.M
    share = np.bincount(local, weights=p, minlength=blocks.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_hi = float(min(np.min(np.where(share > 0, budget / share, np.inf)), np.min(np.where(p > 0, hi / p, np.inf))))
    z_lo = 0.0
    if np.isfinite(z_hi) and solve_at(z_hi):
        z_lo = z_hi
    while z_hi - z_lo > RELATIVE_TOLERANCE * max(1.0, z_hi):
        mid = 0.5 * (z_lo + z_hi)
        if solve_at(mid):
            z_lo = mid
        else:
            z_hi = mid
    solve_at(z_lo)  # the stage-2 solution at the best feasible z
    return z_lo, _read_highs(h, lp, ranging=False, iis=False, solver="highspy"), lay, lp

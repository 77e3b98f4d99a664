"""From LP floats to integer đồng that reconcile exactly, per task-year and per source.

Cell bounds are whole đồng already (``_data`` rounds floors up and caps down), and the pre-checks
guarantee Σ lo ≤ B ≤ Σ hi in whole đồng, so every block below has an integer solution; the
rounding never fails and never leaves a đồng unallocated, whatever the LP returned.
"""

from __future__ import annotations

import numpy as np

from ..core.money import ApportionError, apportion
from ._data import Data


def _fits(z: np.ndarray, total: int, lo: np.ndarray, hi: np.ndarray) -> bool:
    """``z`` sums to ``total`` within [lo, hi] (checked: a split is only used if it reconciles)."""
    return bool(int(z.sum()) == total and (z >= lo).all() and (z <= hi).all())


def _greedy(total: int, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integers in [lo, hi] summing to ``total`` (needs Σlo ≤ total ≤ Σhi), close to ``x``:
    start from ⌊x⌋ clipped, then move the difference through the cells with the largest remainders."""
    x = np.where(np.isfinite(x), x, 0.0)
    z = np.clip(np.floor(x), lo, hi).astype(np.int64)
    diff = int(total - z.sum())
    frac = x - np.floor(x)
    if diff > 0:
        room = hi - z
        order = np.lexsort((np.arange(z.size), -frac))  # largest remainder first, then index
        take = np.minimum(room[order], np.maximum(diff - np.concatenate([[0], np.cumsum(room[order])[:-1]]), 0))
        z[order] += take
    elif diff < 0:
        room = z - lo
        order = np.lexsort((np.arange(z.size), frac))  # smallest remainder gives back first
        need = -diff
        take = np.minimum(room[order], np.maximum(need - np.concatenate([[0], np.cumsum(room[order])[:-1]]), 0))
        z[order] -= take
    return z


def round_block(total: int, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, p: np.ndarray, unit: int) -> np.ndarray:
    """Integers summing to ``total``, close to ``x``, within [lo, hi], in whole ``unit`` where possible.

    Fixed cells (lo = hi, e.g. earmarks) keep their exact amount; the rest is apportioned by
    largest remainder with ``x`` as weights (the sub-unit residue to the largest part); if the
    bounds cannot be met in whole units, in whole đồng; as a last resort by a greedy pass that
    always succeeds when Σlo ≤ total ≤ Σhi.
    """
    n = x.size
    out = np.zeros(n, np.int64)
    lo_i = np.clip(np.ceil(np.maximum(lo, 0) - 1e-6), 0, total).astype(np.int64)
    hi_i = np.clip(np.where(np.isfinite(hi), np.floor(hi + 1e-6), float(total)), 0, total).astype(np.int64)
    hi_i = np.maximum(hi_i, lo_i)
    fixed = lo_i >= hi_i
    out[fixed] = lo_i[fixed]
    rest = int(total - out[fixed].sum())
    free = np.flatnonzero(~fixed)
    if free.size == 0:
        return out
    xf = np.clip(np.where(np.isfinite(x[free]), x[free], 0.0), lo_i[free], hi_i[free])
    # Solver noise (~10⁻⁹ of the budget) must not decide a tie between units whose amounts are equal
    # in exact arithmetic: weights are snapped to a grid of a thousandth of the rounding unit, so
    # such ties go the same way in every scenario (largest remainder breaks exact ties by position).
    grid = unit / 1000.0
    weights = np.round(xf / grid) * grid if unit > 1 else xf.copy()
    if not weights.sum() > 0:
        pf = np.where(np.isfinite(p[free]), np.maximum(p[free], 0.0), 0.0)
        weights = pf if pf.sum() > 0 else np.ones(free.size)
    if np.isfinite(weights).all() and rest >= 0:
        for u in (unit, 1):
            try:
                got = apportion(rest, weights, unit=u, lower=lo_i[free], upper=hi_i[free])
            except (ApportionError, ValueError):
                continue
            if _fits(got, rest, lo_i[free], hi_i[free]):
                out[free] = got
                return out
    out[free] = _greedy(rest, xf * (rest / xf.sum()) if xf.sum() > 0 else weights * (rest / weights.sum()), lo_i[free], hi_i[free])
    return out


def round_cells(d: Data, x: np.ndarray, unit: int) -> np.ndarray:
    """Integer amounts [T, Y, U] with Σ_u = B[t, y] exactly."""
    T, Y, U = d.shape
    x = x.reshape(T, Y, U)
    out = np.zeros((T, Y, U), np.int64)
    lo, hi = d.lo_int, d.hi_int
    for t in range(T):
        for y in range(Y):
            total = int(d.B3[t, y].sum())
            if total > 0:
                out[t, y] = round_block(total, x[t, y], lo[t, y], hi[t, y], d.ref[t, y], unit)
    return out


def _northwest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A non-negative integer matrix with row sums ``a`` and column sums ``b`` (Σa = Σb)."""
    m = np.zeros((a.size, b.size), np.int64)
    ra, rb = a.astype(np.int64).copy(), b.astype(np.int64).copy()
    i = j = 0
    while i < a.size and j < b.size:
        v = min(ra[i], rb[j])
        m[i, j] += v
        ra[i] -= v
        rb[j] -= v
        if ra[i] == 0:
            i += 1
        if j < b.size and rb[j] == 0:
            j += 1
    return m


def split_sources(a: np.ndarray, b: np.ndarray, unit: int) -> np.ndarray:
    """Matrix m[u, s] ≥ 0 with row sums ``a`` and column sums ``b`` (Σa = Σb), sources in order.

    Each source but the last is apportioned over the units' remaining amounts (capped by them);
    the last source takes what remains, so both margins hold exactly.
    """
    U, S = a.size, b.size
    m = np.zeros((U, S), np.int64)
    if int(a.sum()) != int(b.sum()):  # pragma: no cover - the rounding reconciles every block
        raise AssertionError(f"unit amounts {int(a.sum())} đ and source totals {int(b.sum())} đ differ")
    rem = a.astype(np.int64).copy()
    srcs = np.flatnonzero(b > 0)
    if srcs.size == 0:
        return m
    for s in srcs[:-1]:
        col = None
        for u in (unit, 1):
            try:
                got = apportion(int(b[s]), rem.astype(float), unit=u, upper=rem)
            except (ApportionError, ValueError):
                continue
            if _fits(got, int(b[s]), np.zeros_like(rem), rem):
                col = got
                break
        if col is None:  # every source but this one already placed: fill in reading order
            m[:, srcs] += _northwest(rem, b[srcs] - m[:, srcs].sum(axis=0))
            return m
        m[:, s] = col
        rem -= col
    m[:, srcs[-1]] = rem
    return m


def to_amounts(d: Data, cells: np.ndarray, unit: int) -> np.ndarray:
    """[T, Y, U] integers → Allocation.amounts [U, T, Y, S]."""
    T, Y, U = d.shape
    S = len(d.sources)
    out = np.zeros((U, T, Y, S), np.int64)
    for t in range(T):
        for y in range(Y):
            if d.B3[t, y].sum() > 0:
                out[:, t, y, :] = split_sources(cells[t, y], d.B3[t, y], unit)
    return out


MIP_MAX_CELLS = 20_000
"""Rounding is repaired with a MIP only up to this many cells (national models keep their margin)."""
MIP_MAX_NODES = 1_000
"""The MIP's effort limit. A count of branch-and-bound nodes, not seconds: a wall-clock limit made
the same plan round differently on a busy machine (the batch's serial and cluster runs differed).
Every search the allocator and example suites run ends within 3 nodes (2 917 MIPs, over a third
proved infeasible at the root); the ones that did not — Hải Phòng with its whole target lowered to
what the budget pays, whose search in multiples of a triệu has no answer — spent 20 000 nodes and
38–56 s each before the whole-đồng stage found a rounding in 0,03 s. With 1 000 nodes that plan
allocates in 17 s instead of 85 s (most of it HiGHS's work at the root node, which no node limit
bounds)."""
MIP_HANG_GUARD_SECONDS = 600.0
"""Only against a pathological hang; far above what the node limit takes on any model allowed here."""


def repair_mip(d: Data, x: np.ndarray, *, unit: int = 1, max_nodes: int = MIP_MAX_NODES) -> np.ndarray | None:
    """Integer amounts [T, Y, U] that satisfy every row of the model (budgets, coupling
    constraints, the first year against last year's amounts) and every cell bound, found by HiGHS
    MIP; None when no such rounding exists (or the MIP is too large or too slow).

    ``unit`` 1: whole đồng, each cell ⌊x⌋ or ⌈x⌉ of the LP amounts. ``unit`` > 1: multiples of the
    rounding unit, each cell the multiple just below or above its LP amount, except that one free
    cell per task-year also takes the block's residue (its budget less its fixed cells, modulo the
    unit), so the budget still reconciles to the đồng — the same freedom the plain rounding has,
    so units with identical data stay within one unit of each other. Fixed cells (earmarks, floors
    equal to caps) keep their amounts."""
    from ._lp import _highs_lp, solve_mip
    from ._model import Builder

    if d.n > MIP_MAX_CELLS:
        return None
    saved = d.row_margin, d.M
    d.row_margin, d.M = 0.0, 1.0  # rows in whole đồng, no rounding margin
    try:
        b = Builder(d)
        b.common()
        lp, lay = b.done()
    finally:
        d.row_margin, d.M = saved
    xs = np.where(np.isfinite(x), x, 0.0)
    integer_cols = _unit_multiples(d, lp, lay.x, xs, unit) if unit > 1 else lay.x
    if integer_cols is None:
        return None
    model = _highs_lp(lp, False)
    if unit == 1:  # the box {⌊x⌋, ⌈x⌉} as the cells' own bounds
        col_lower = np.array(model.col_lower_)
        col_upper = np.array(model.col_upper_)
        lo_c, hi_c = np.floor(xs + 1e-9), np.ceil(xs - 1e-9)
        lb_x = np.maximum(col_lower[lay.x], lo_c)
        col_upper[lay.x] = np.maximum(np.minimum(col_upper[lay.x], hi_c), lb_x)
        col_lower[lay.x] = lb_x
        col_cost = np.zeros(lp.n_cols)
        col_cost[lay.x] = 1.0 - 2.0 * (xs - lo_c)  # linear |z − x| inside the box {⌊x⌋, ⌈x⌉}
        model.col_lower_ = col_lower
        model.col_upper_ = col_upper
        model.col_cost_ = col_cost
    col = solve_mip(model, integer_cols, max_nodes=max_nodes, hang_guard_seconds=MIP_HANG_GUARD_SECONDS)
    if col is None:
        return None
    z = np.rint(col[lay.x]).astype(np.int64)
    T, Y, U = d.shape
    cells = z.reshape(T, Y, U)
    if (cells.sum(axis=2) != d.B3.sum(axis=2)).any() or (cells < 0).any():  # whole-đồng budgets, exactly
        return None
    return cells


def _unit_multiples(d: Data, lp, x_cols: np.ndarray, xs: np.ndarray, unit: int) -> np.ndarray | None:
    """Turns ``lp`` (the plan's rows in đồng) into the search for amounts in multiples of ``unit``
    nearest the LP amounts ``xs`` (least Σ |z − x|): per free cell an integer k, the multiples just
    below and above x (|z − x| < one unit); per task-year whose budget less its fixed cells is not a
    multiple, a binary b per free cell choosing the one that takes the residue r (Σ b = 1); the row
    x = unit·k + r·b, and a deviation column d ≥ |x − xs|. Returns the integer columns (k and b),
    or None when some cell has no such multiple within its bounds."""
    T, Y, U = d.shape
    lo = np.concatenate(lp.lb)[x_cols]  # the model's own cell bounds, in đồng
    hi = np.concatenate(lp.ub)[x_cols]
    free = (lo < hi).reshape(T, Y, U)
    total = d.B3.sum(axis=2).astype(np.int64)
    fixed_sum = np.rint(np.where(free, 0.0, lo.reshape(T, Y, U)).sum(axis=2)).astype(np.int64)
    residue = (total - fixed_sum) % unit
    free &= ((total > 0) & free.any(axis=2))[:, :, None]
    idx = np.flatnonzero(free.ravel())
    n = idx.size
    block = idx // U
    r = residue.ravel()[block].astype(float)  # the residue of the cell's block (taken by one cell)
    # |z − x| < one unit: the multiples just below and above x in either lattice (with the residue
    # or without); k's own box is only a loose frame
    reach = unit * (1.0 - 1e-6)
    k_lo = np.maximum(np.ceil((lo[idx] - r) / unit - 1e-9), np.floor((xs[idx] - r - reach) / unit))
    k_hi = np.minimum(np.floor(hi[idx] / unit + 1e-9), np.ceil((xs[idx] + reach) / unit))
    k_lo = np.maximum(k_lo, 0.0)
    if (k_lo > k_hi).any():
        return None
    for part in lp.cost:
        part[:] = 0.0
    k = lp.add_vars(n, k_lo, k_hi, 0.0)
    dev = lp.add_vars(n, 0.0, reach, 1.0)
    with_residue = np.flatnonzero(r > 0)
    b = lp.add_vars(with_residue.size, 0.0, 1.0, 0.0)
    # x − unit·k − r·b = 0
    rows = np.concatenate([np.arange(n), np.arange(n), with_residue])
    cols = np.concatenate([x_cols[idx], k, b])
    vals = np.concatenate([np.ones(n), np.full(n, -float(unit)), -r[with_residue]])
    lp.add_rows(np.zeros(n), np.zeros(n), rows, cols, vals, 0)
    # x − dev ≤ xs and x + dev ≥ xs
    both = np.concatenate([np.arange(n), np.arange(n)])
    lp.add_rows(np.full(n, -np.inf), xs[idx], both, np.concatenate([x_cols[idx], dev]), np.concatenate([np.ones(n), -np.ones(n)]), 0)
    lp.add_rows(xs[idx], np.full(n, np.inf), both, np.concatenate([x_cols[idx], dev]), np.ones(2 * n), 0)
    # one cell per block takes the residue
    blocks, of_block = np.unique(block[with_residue], return_inverse=True)
    lp.add_rows(np.ones(blocks.size), np.ones(blocks.size), of_block.ravel(), b, np.ones(b.size), 0)
    return np.concatenate([k, b])

"""From LP floats to integer đồng that reconcile exactly, per task-year and per source."""

from __future__ import annotations

import numpy as np

from ..core.money import ApportionError, apportion
from ._data import Data


def round_block(total: int, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, p: np.ndarray, unit: int) -> np.ndarray:
    """Integers summing to ``total``, close to ``x``, within [lo, hi] in whole ``unit`` where possible.

    Fixed cells (lo = hi, e.g. earmarks) keep their exact amount; the rest is apportioned by
    largest remainder with ``x`` as weights. Falls back to 1 đồng units if the bounds cannot be
    met in whole units (reported by the caller as a rounding note).
    """
    n = x.size
    out = np.zeros(n, np.int64)
    lo_i = np.ceil(np.maximum(lo, 0) - 1e-6).astype(np.int64)
    hi_f = np.where(np.isfinite(hi), np.floor(hi + 1e-6), float(total))
    hi_i = np.minimum(hi_f, float(total)).astype(np.int64)
    fixed = lo_i >= hi_i
    out[fixed] = lo_i[fixed]
    rest = int(total - out[fixed].sum())
    free = np.flatnonzero(~fixed)
    if free.size == 0:
        return out
    weights = np.maximum(x[free], 0.0)
    if weights.sum() <= 0:
        weights = np.maximum(p[free], 0.0) + (1.0 if np.maximum(p[free], 0).sum() <= 0 else 0.0)
    for u in (unit, 1):
        try:
            out[free] = apportion(rest, weights, unit=u, lower=lo_i[free], upper=hi_i[free])
            return out
        except ApportionError:
            continue
    out[free] = apportion(rest, weights + 1e-12)
    return out


def round_cells(d: Data, x: np.ndarray, unit: int) -> np.ndarray:
    """Integer amounts [T, Y, U] with Σ_u = B[t, y] exactly."""
    T, Y, U = d.shape
    x = x.reshape(T, Y, U)
    out = np.zeros((T, Y, U), np.int64)
    lo, hi = d.lo, d.hi
    for t in range(T):
        for y in range(Y):
            total = int(d.B3[t, y].sum())
            if total > 0:
                out[t, y] = round_block(total, x[t, y], lo[t, y], hi[t, y], d.p[t, y], unit)
    return out


def split_sources(a: np.ndarray, b: np.ndarray, unit: int) -> np.ndarray:
    """Matrix m[u, s] ≥ 0 with row sums ``a`` and column sums ``b`` (Σa = Σb), sources in order.

    Each source but the last is apportioned over the units' remaining amounts (capped by them);
    the last source takes what remains, so both margins hold exactly.
    """
    U, S = a.size, b.size
    m = np.zeros((U, S), np.int64)
    rem = a.astype(np.int64).copy()
    srcs = np.flatnonzero(b > 0)
    if srcs.size == 0:
        return m
    for s in srcs[:-1]:
        col = None
        for u in (unit, 1):
            try:
                col = apportion(int(b[s]), rem.astype(float), unit=u, upper=rem)
                break
            except ApportionError:
                continue
        if col is None:  # pragma: no cover - Σrem ≥ b[s] always holds
            raise AssertionError("source split failed")
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

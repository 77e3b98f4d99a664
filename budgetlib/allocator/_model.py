"""LP formulations of docs/allocation.md, built as numpy blocks.

Money columns are in triệu đồng (÷10⁶) so coefficients stay near 1. Two ways to write the cell
amount x[u,t,y]:

* ``form="x"``: one column per cell, bounds [lo, hi];
* ``form="dev"``: x = p + d⁺ − d⁻ with d⁺ ∈ [max(lo−p,0), max(hi−p,0)], d⁻ ∈ [max(p−hi,0), max(p−lo,0)];
  these column bounds are exactly lo ≤ x ≤ hi, so min Σ(d⁺+d⁻) needs no per-cell rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..model.result import ConstraintKind
from ._data import INF, Data, RowSpec
from ._lp import LP

TRIEU = 1e6  # reports give shadow prices per 1 triệu đồng
M = TRIEU  # đồng per LP money unit for plans of ordinary size (see money_scale)


def money_scale(B: np.ndarray) -> float:
    """đồng per LP money unit: 1 triệu đồng for ordinary plans, less for tiny ones, so that the
    largest task-year budget is at least ~10³ LP units. Amounts near HiGHS's tolerances (1e-7)
    make its answers meaningless and its IIS code crash (a plan totalling 8 đ in triệu is 8e-6)."""
    top = float(np.max(B)) if B.size else 0.0
    if top <= 0:
        return TRIEU
    return float(10 ** min(6, max(0, int(np.floor(np.log10(top))) - 3)))


@dataclass
class Layout:
    form: str
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))  # form x: column per cell
    dp: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dn: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pM: np.ndarray = field(default_factory=lambda: np.zeros(0))  # p in triệu, flat
    c: dict[int, np.ndarray] = field(default_factory=dict)  # target index → columns
    z: int | None = None
    seg: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list)  # (cells, cols, slope)
    k: dict[int, int] = field(default_factory=dict)  # scaled budgets: task → column
    row_const: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_shift: np.ndarray = field(default_factory=lambda: np.zeros(0))
    M: float = TRIEU  # đồng per LP money unit  # rounding margin per row (LP units), added back in reports

    def x_value(self, col: np.ndarray) -> np.ndarray:
        """Cell amounts in đồng (flat) from a column solution."""
        if self.form == "x":
            return col[self.x] * self.M
        return (self.pM + col[self.dp] - col[self.dn]) * self.M


class Builder:
    def __init__(self, d: Data, form: str, lo: np.ndarray | None = None, hi: np.ndarray | None = None):
        self.d = d
        self.lp = LP()
        self.lay = Layout(form)
        self.const: list[np.ndarray] = []
        self.shift: list[np.ndarray] = []  # per row: how much the rounding margin tightened it (LP units)
        self._margin = 0.0  # while adding constraint rows: d.row_margin in LP units
        M = self.M = d.M
        self.lay.M = M
        lo, hi = (d.lo.ravel() if lo is None else lo) / M, (d.hi.ravel() if hi is None else hi) / M
        _T, _Y, U = d.shape
        funded = np.repeat((d.B > 0).ravel(), U)
        # cells of task-years without budget are zero (their bounds are not applied)
        lo = np.where(funded, lo, 0.0)
        hi = np.where(funded, hi, 0.0)
        self.lay.pM = d.ref.ravel() / M  # deviations are measured from the reference share
        if form == "x":
            self.lay.x = self.lp.add_vars(d.n, lo, hi)
        else:
            p = self.lay.pM
            self.lay.dp = self.lp.add_vars(d.n, np.maximum(lo - p, 0), np.maximum(hi - p, 0))
            self.lay.dn = self.lp.add_vars(d.n, np.maximum(p - hi, 0), np.maximum(p - lo, 0))

    def xrows(self, lo, hi, rows, cells, coefs, group, elem=None, extra=None):
        """Rows over cell amounts (LP units) plus optional extra (rows, cols, vals) terms."""
        lo = np.asarray(lo, float).copy()
        hi = np.broadcast_to(np.asarray(hi, float), lo.shape).copy()
        rows, cells, coefs = np.asarray(rows), np.asarray(cells), np.asarray(coefs, float)
        const = np.zeros(lo.size)
        if self.lay.form == "x":
            r, c, v = rows, self.lay.x[cells], coefs
        else:
            r = np.concatenate([rows, rows])
            c = np.concatenate([self.lay.dp[cells], self.lay.dn[cells]])
            v = np.concatenate([coefs, -coefs])
            const = np.bincount(rows, weights=coefs * self.lay.pM[cells], minlength=lo.size)
        if extra is not None:
            r = np.concatenate([r, extra[0]])
            c = np.concatenate([c, extra[1]])
            v = np.concatenate([v, extra[2]])
        shift = np.zeros(lo.size)
        if self._margin > 0:
            # Rounding moves each cell by less than 2 rounding units: tighten the row by that much
            # per unit of |coefficient| so that the rounded amounts still satisfy it.
            shift = self._margin * np.bincount(rows, weights=np.abs(coefs), minlength=lo.size)
            ranged = lo < hi
            lo = np.where(ranged & np.isfinite(lo), lo + shift, lo)
            hi = np.where(ranged & np.isfinite(hi), hi - shift, hi)
            shift = np.where(ranged, shift, 0.0)
        self.const.append(const)
        self.shift.append(shift)
        return self.lp.add_rows(lo - const, hi - const, r, c, v, group, elem)

    def rows(self, lo, hi, rows, cols, vals, group, elem=None):
        self.const.append(np.zeros(np.asarray(lo).size))
        self.shift.append(np.zeros(np.asarray(lo).size))
        return self.lp.add_rows(lo, hi, rows, cols, vals, group, elem)

    # -- shared constraint families ---------------------------------------------------------
    def budget(self, scaled: bool = False):
        d = self.d
        T, Y, U = d.shape
        blocks = [(t, y) for t in range(T) for y in range(Y) if d.B[t, y] > 0]
        if not blocks:
            return
        bt = np.array([b[0] for b in blocks])
        by = np.array([b[1] for b in blocks])
        m = len(blocks)
        cells = ((bt * Y + by)[:, None] * U + np.arange(U)[None, :]).ravel()
        rows = np.repeat(np.arange(m), U)
        rhs = d.B[bt, by] / self.M
        groups = d.budget_group[bt, by]
        if not scaled:
            self.xrows(rhs, rhs, rows, cells, np.ones(cells.size), groups, bt * Y + by)
        else:
            for t in sorted(set(bt.tolist())):
                self.lay.k[t] = int(self.lp.add_vars(1, 0.0, INF, float(d.B[t].sum() / self.M))[0])
            kcols = np.array([self.lay.k[t] for t in bt])
            self.xrows(np.zeros(m), np.zeros(m), rows, cells, np.ones(cells.size), groups, bt * Y + by, extra=(np.arange(m), kcols, -rhs))

    def relative_bound_rows(self):
        """Scaled budgets: bounds relative to the budget become rows x ≥ r·k, x ≤ r·k."""
        d = self.d
        T, Y, U = d.shape
        for arr, src, sense in ((d.lo_rel, d.lo_rel_src, 1), (d.hi_rel, d.hi_rel_src, -1)):
            flat = arr.ravel()
            tcell = np.repeat(np.arange(T), Y * U)
            ok = (src.ravel() >= 0) & np.isfinite(flat) & np.isin(tcell, list(self.lay.k))
            cells = np.flatnonzero(ok)
            if not cells.size:
                continue
            m = cells.size
            kcols = np.array([self.lay.k[int(t)] for t in tcell[cells]])
            extra = (np.arange(m), kcols, -flat[cells] / self.M)
            lo, hi = (np.zeros(m), np.full(m, INF)) if sense > 0 else (np.full(m, -INF), np.zeros(m))
            self.xrows(lo, hi, np.arange(m), cells, np.ones(m), src.ravel()[cells], cells, extra=extra)

    def common(self, scaled: bool = False, *, only: Callable[[RowSpec], bool] | None = None):
        """Budget rows and every constraint's rows (``only``: those for which it is true)."""
        self.budget(scaled)
        if scaled:
            self.relative_bound_rows()
        self.constraint_rows(scaled, only=only)

    def constraint_rows(self, scaled: bool = False, *, only: Callable[[RowSpec], bool] | None = None):
        self._margin = self.d.row_margin / self.M
        try:
            for r in self.d.row_specs:
                if only is None or only(r):
                    r.kind.rows(self, r.constraint, r.group, r.spec, scaled=scaled)
        finally:
            self._margin = 0.0

    # -- objectives -------------------------------------------------------------------------
    def deviation_cost(self, relative: bool):
        d = self.d
        T, Y, U = d.shape
        p = self.lay.pM.reshape(T, Y, U)
        if relative:
            # 1/p; a unit with p = 0 is weighted as the smallest positive p of its task-year, and no
            # share counts below 10⁻⁶ of the block's largest (weights of 10¹¹ break the solver)
            pos = np.where(p > 0, p, np.inf)
            pmin = pos.min(axis=2, keepdims=True)
            pmin = np.where(np.isfinite(pmin), pmin, 1.0)
            floor = 1e-6 * p.max(axis=2, keepdims=True)
            weight = 1.0 / np.maximum(np.where(p > 0, p, pmin), np.where(floor > 0, floor, 1.0))
        else:
            weight = np.ones_like(p)
        weight = weight.ravel()
        cost = self.lp.cost
        # columns dp and dn are the first two blocks
        cost[0][:] = weight
        cost[1][:] = weight

    def maxmin_rows(self) -> np.ndarray:
        """Stage 1 of max_min: max z s.t. x ≥ z·p on covered cells.

        z is copied per task-year (z_b = z) so that no column is dense: a single z column with a
        coefficient in every coverage row makes interior-point factorisations dense.
        """
        d = self.d
        _T, _Y, U = d.shape
        covered = covered_cells(d)
        m = covered.size
        # no covered cell (every funded cell fixed or without need): the coverage is not defined, z = 0
        self.lay.z = int(self.lp.add_vars(1, 0.0, INF if m else 0.0, -1.0)[0])
        if m:
            block = covered // U  # t·Y + y
            blocks, local = np.unique(block, return_inverse=True)
            zb = self.lp.add_vars(blocks.size, 0.0, INF, 0.0)
            nb = blocks.size
            self.rows(np.zeros(nb), np.zeros(nb), np.concatenate([np.arange(nb), np.arange(nb)]),
                      np.concatenate([zb, np.full(nb, self.lay.z)]), np.concatenate([np.ones(nb), -np.ones(nb)]), maxmin_group(d))
            self.xrows(np.zeros(m), np.full(m, INF), np.arange(m), covered, np.ones(m), maxmin_group(d), covered,
                       extra=(np.arange(m), zb[local], -self.lay.pM[covered]))
        return covered

    def outcome(self, sign: float = -1.0):
        """Concave response curves: segments s ≤ width·p, Σ s ≤ x; cost sign·slope per triệu."""
        d = self.d
        _T, Y, U = d.shape
        curves = {c.task: c for c in d.policy.response_curves}
        for t, task in enumerate(d.tasks):
            curve = curves.get(task.code)
            if curve is None:
                continue
            cells = np.arange(t * Y * U, (t + 1) * Y * U)
            cells = cells[np.repeat(d.B[t] > 0, U)]
            if not cells.size:
                continue
            cols = []
            for seg in curve.segments:
                ub = np.full(cells.size, INF) if seg.width is None else seg.width * self.lay.pM[cells]
                col = self.lp.add_vars(cells.size, 0.0, ub, sign * seg.outcome_per_million * self.M / TRIEU)
                cols.append(col)
                self.lay.seg.append((cells, col, seg.outcome_per_million * self.M / TRIEU))
            k = len(cols)
            m = cells.size
            rows = np.tile(np.arange(m), k)
            self.xrows(np.full(m, -INF), np.zeros(m), np.arange(m), cells, -np.ones(m), outcome_group(d), cells,
                       extra=(rows, np.concatenate(cols), np.ones(m * k)))

    def outcome_floor(self, value: float):
        cols = np.concatenate([c for _, c, _ in self.lay.seg]) if self.lay.seg else np.zeros(0, np.int64)
        vals = np.concatenate([np.full(c.size, s) for _, c, s in self.lay.seg]) if self.lay.seg else np.zeros(0)
        self.rows(np.array([value]), np.array([INF]), np.zeros(cols.size, np.int64), cols, vals, outcome_group(self.d))

    def done(self) -> tuple[LP, Layout]:
        self.lay.row_const = np.concatenate(self.const) if self.const else np.zeros(0)
        self.lay.row_shift = np.concatenate(self.shift) if self.shift else np.zeros(0)
        return self.lp, self.lay


def covered_cells(d: Data) -> np.ndarray:
    """Cells in the max-min coverage ratio: reference share > 0, not fixed (earmark, ineligible, no budget)."""
    lo, hi = d.lo.ravel(), d.hi.ravel()
    _T, _Y, U = d.shape
    funded = np.repeat((d.B > 0).ravel(), U)
    return np.flatnonzero((d.ref.ravel() > 0) & funded & (hi > lo))


def maxmin_group(d: Data) -> int:
    return _special_group(d, ConstraintKind.COVERAGE)


def outcome_group(d: Data) -> int:
    return _special_group(d, ConstraintKind.OUTCOME)


def _special_group(d: Data, kind: ConstraintKind) -> int:
    from ._data import Group

    for i, g in enumerate(d.groups):
        if g.kind == kind:
            return i
    d.groups.append(Group("", kind))
    return len(d.groups) - 1

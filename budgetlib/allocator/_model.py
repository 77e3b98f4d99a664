"""LP formulations of docs/allocation.md, built as numpy blocks.

Money columns are in triệu đồng (÷10⁶) so coefficients stay near 1. Two ways to write the cell
amount x[u,t,y]:

* ``form="x"``: one column per cell, bounds [lo, hi];
* ``form="dev"``: x = p + d⁺ − d⁻ with d⁺ ∈ [max(lo−p,0), max(hi−p,0)], d⁻ ∈ [max(p−hi,0), max(p−lo,0)];
  these column bounds are exactly lo ≤ x ≤ hi, so min Σ(d⁺+d⁻) needs no per-cell rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.result import ConstraintKind
from ._data import INF, Data
from ._lp import LP

M = 1e6  # đồng per LP money unit (1 triệu đồng)


@dataclass
class Layout:
    form: str
    x: np.ndarray | None = None  # form x: column per cell
    dp: np.ndarray | None = None
    dn: np.ndarray | None = None
    pM: np.ndarray | None = None  # p in triệu, flat
    c: dict[int, np.ndarray] = field(default_factory=dict)  # target index → columns
    z: int | None = None
    seg: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list)  # (cells, cols, slope)
    k: dict[int, int] = field(default_factory=dict)  # scaled budgets: task → column
    row_const: np.ndarray | None = None

    def x_value(self, col: np.ndarray) -> np.ndarray:
        """Cell amounts in đồng (flat) from a column solution."""
        if self.form == "x":
            return col[self.x] * M
        return (self.pM + col[self.dp] - col[self.dn]) * M


class Builder:
    def __init__(self, d: Data, form: str, lo: np.ndarray | None = None, hi: np.ndarray | None = None):
        self.d = d
        self.lp = LP()
        self.lay = Layout(form)
        self.const: list[np.ndarray] = []
        lo, hi = (d.lo.ravel() if lo is None else lo) / M, (d.hi.ravel() if hi is None else hi) / M
        _T, _Y, U = d.shape
        funded = np.repeat((d.B > 0).ravel(), U)
        # cells of task-years without budget are zero (their bounds are not applied)
        lo = np.where(funded, lo, 0.0)
        hi = np.where(funded, hi, 0.0)
        self.lay.pM = d.p.ravel() / M
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
        self.const.append(const)
        return self.lp.add_rows(lo - const, hi - const, r, c, v, group, elem)

    def rows(self, lo, hi, rows, cols, vals, group, elem=None):
        self.const.append(np.zeros(np.asarray(lo).size))
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
        rhs = d.B[bt, by] / M
        groups = d.budget_group[bt, by]
        if not scaled:
            self.xrows(rhs, rhs, rows, cells, np.ones(cells.size), groups, bt * Y + by)
        else:
            for t in sorted(set(bt.tolist())):
                self.lay.k[t] = int(self.lp.add_vars(1, 0.0, INF, float(d.B[t].sum() / M))[0])
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
            extra = (np.arange(m), kcols, -flat[cells] / M)
            lo, hi = (np.zeros(m), np.full(m, INF)) if sense > 0 else (np.full(m, -INF), np.zeros(m))
            self.xrows(lo, hi, np.arange(m), cells, np.ones(m), src.ravel()[cells], cells, extra=extra)

    def absorption(self):
        d = self.d
        T, Y, U = d.shape
        for g, us, ys, cap in d.absorption:
            if not us.size or not ys.size:
                continue
            uu, yy = np.meshgrid(us, ys, indexing="ij")  # rows: (unit, year)
            uu, yy = uu.ravel(), yy.ravel()
            m = uu.size
            capr = np.repeat(cap, ys.size) / M
            tt = np.arange(T)
            rows = np.repeat(np.arange(m), T)
            cells = ((tt[None, :] * Y + yy[:, None]) * U + uu[:, None]).ravel()
            self.xrows(np.full(m, -INF), capr, rows, cells, np.ones(cells.size), g, yy * U + uu)

    def stability(self):
        d = self.d
        _T, Y, U = d.shape
        year_pos = {yr: i for i, yr in enumerate(d.years)}
        for g, ts, us, delta, prior in d.stability:
            pairs = []
            for t in ts:
                for y in range(1, Y):
                    if d.years[y] - 1 in year_pos and d.B[t, y] > 0 and d.B[t, year_pos[d.years[y] - 1]] > 0:
                        pairs.append((t, y, year_pos[d.years[y] - 1]))
            if pairs and us.size:
                pt = np.array([a[0] for a in pairs])
                py = np.array([a[1] for a in pairs])
                pp = np.array([a[2] for a in pairs])
                cur = ((pt * Y + py)[:, None] * U + us[None, :]).ravel()
                prev = ((pt * Y + pp)[:, None] * U + us[None, :]).ravel()
                m = cur.size
                rows = np.concatenate([np.arange(m), np.arange(m)])
                # x_y − (1+δ)x_{y−1} ≤ 0   and   (1−δ)x_{y−1} − x_y ≤ 0
                self.xrows(np.full(m, -INF), np.zeros(m), rows, np.concatenate([cur, prev]),
                           np.concatenate([np.ones(m), np.full(m, -(1 + delta))]), g, cur)
                self.xrows(np.full(m, -INF), np.zeros(m), rows, np.concatenate([prev, cur]),
                           np.concatenate([np.full(m, 1 - delta), -np.ones(m)]), g, cur)
            # first year against the prior amounts
            y0 = 0
            items = sorted((t, u, a) for (t, u), a in prior.items() if t in set(ts.tolist()) and u in set(us.tolist()) and d.B[t, y0] > 0)
            if items:
                cells = np.array([(t * Y + y0) * U + u for t, u, _ in items])
                amt = np.array([a for _, _, a in items]) / M
                m = cells.size
                self.xrows(np.full(m, -INF), (1 + delta) * amt, np.arange(m), cells, np.ones(m), g, cells)
                self.xrows((1 - delta) * amt, np.full(m, INF), np.arange(m), cells, np.ones(m), g, cells)

    def targets(self, with_required: bool = True, only: int | None = None):
        d = self.d
        _T, Y, U = d.shape
        for i, ts in enumerate(d.targets):
            if only is not None and i != only:
                continue
            c = self.lp.add_vars(U, 0.0, ts.capacity)
            self.lay.c[i] = c
            ys = np.asarray(ts.years, np.int64)
            # unit_cost·c[u] − Σ_y x[u,task,y] ≤ 0
            rows = np.repeat(np.arange(U), ys.size)
            cells = ((ts.task * Y + np.tile(ys, U)) * U + rows)
            self.xrows(np.full(U, -INF), np.zeros(U), rows, cells, -np.ones(cells.size), ts.unit_group, np.arange(U),
                       extra=(np.arange(U), c, np.full(U, ts.constraint.unit_cost / M)))
            if with_required:
                self.rows(np.array([ts.required]), np.array([INF]), np.zeros(U, np.int64), c, np.ones(U), ts.group)

    def common(self, scaled: bool = False):
        self.budget(scaled)
        if scaled:
            self.relative_bound_rows()
        self.absorption()
        self.stability()
        self.targets()

    # -- objectives -------------------------------------------------------------------------
    def deviation_cost(self, relative: bool):
        d = self.d
        T, Y, U = d.shape
        p = self.lay.pM.reshape(T, Y, U)
        if relative:
            # 1/p; a unit with p = 0 is weighted as the smallest positive p of its task-year
            pos = np.where(p > 0, p, np.inf)
            pmin = pos.min(axis=2, keepdims=True)
            pmin = np.where(np.isfinite(pmin), pmin, 1.0)
            weight = 1.0 / np.where(p > 0, p, pmin)
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
        self.lay.z = int(self.lp.add_vars(1, 0.0, INF, -1.0)[0])
        covered = covered_cells(d)
        m = covered.size
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
                col = self.lp.add_vars(cells.size, 0.0, ub, sign * seg.outcome_per_million)
                cols.append(col)
                self.lay.seg.append((cells, col, seg.outcome_per_million))
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
        return self.lp, self.lay


def covered_cells(d: Data) -> np.ndarray:
    """Cells in the max-min coverage ratio: p > 0, not fixed (earmark, ineligible, no budget)."""
    lo, hi = d.lo.ravel(), d.hi.ravel()
    _T, _Y, U = d.shape
    funded = np.repeat((d.B > 0).ravel(), U)
    return np.flatnonzero((d.p.ravel() > 0) & funded & (hi > lo))


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

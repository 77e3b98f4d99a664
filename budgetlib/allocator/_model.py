"""LP and QP formulations of docs/allocation.md, built as numpy blocks.

Money columns are in triệu đồng (÷10⁶) so coefficients stay near 1 (smaller units for tiny plans,
:func:`money_scale`). Each cell amount x[u,t,y] is one column with bounds [lo, hi]; the final stage
of every LP policy minimises the squared deviation from the reference share, ½ Σ ω·(x − r)² with
ω = 1/r̃ (the χ² distance) or 1 (:meth:`Builder.fair_objective`), a diagonal quadratic term on
those columns.
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
CHI2_FLOOR = 1e-6
"""In the χ² weights 1/r̃, a reference share counts as at least this fraction of the largest one of
its task-year (a cell with no reference share may still have to take money when a coupling
constraint forces it; its weight stays finite and the solver well conditioned)."""


def money_scale(B: np.ndarray) -> float:
    """đồng per LP money unit: 1 triệu đồng for ordinary plans, less for tiny ones, so that the
    largest task-year budget is at least ~10³ LP units. Amounts near HiGHS's tolerances (1e-7)
    make its answers meaningless and its IIS code crash (a plan totalling 8 đ in triệu is 8e-6)."""
    top = float(np.max(B)) if B.size else 0.0
    if top <= 0:
        return TRIEU
    return float(10 ** min(6, max(0, int(np.floor(np.log10(top))) - 3)))


def movable_cells(d: Data) -> np.ndarray:
    """Mask (flat) of the cells whose amount the optimisation decides: funded, hi > lo."""
    _T, _Y, U = d.shape
    return (d.hi.ravel() > d.lo.ravel()) & np.repeat((d.B > 0).ravel(), U)


def deviation_weights(d: Data, relative: bool) -> np.ndarray:
    """ω per cell (flat, per đồng) of the deviation Σ ω·(x − r)²: ``relative`` — the χ² weights
    1/r̃, r̃ = max(r, CHI2_FLOOR · the largest r of the task-year, the rounding unit); else 1
    (every đồng alike)."""
    T, Y, U = d.shape
    if not relative:
        return np.ones(T * Y * U)
    r = d.ref.reshape(T * Y, U)
    top = r.max(axis=1, keepdims=True) if U else np.zeros((T * Y, 1))
    # never below one rounding unit either: a task-year of 7 đ would otherwise weigh its
    # zero-need cells 10¹⁵ times a district's (no QP solver resolves that), and amounts are
    # rounded to the unit anyway
    unit = float(max(1, d.policy.rounding_unit))
    rt = np.maximum(np.maximum(r, np.where(top > 0, CHI2_FLOOR * top, 1.0)), unit)
    return (1.0 / rt).ravel()


def deviation_size(d: Data, relative: bool) -> float:
    """K in the equivalent deviation √(K·Σ ω(x − r)²): the total reference share of the movable
    cells (``relative``) or their number — so that the measure is the total deviation in đồng when
    every movable cell deviates by the same share (or the same amount)."""
    mov = movable_cells(d)
    return float(d.ref.ravel()[mov].sum()) if relative else float(mov.sum())


def equivalent_deviation(d: Data, x: np.ndarray, relative: bool) -> float:
    """√(K·Σ ω(x − r)²) in đồng over the movable cells (docs/allocation.md, "min_deviation")."""
    mov = movable_cells(d)
    dev = (np.asarray(x, float) - d.ref.ravel())[mov]
    s = float((dev * dev * deviation_weights(d, relative)[mov]).sum())
    return float(np.sqrt(max(0.0, deviation_size(d, relative) * s)))


@dataclass
class Layout:
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))  # one column per cell
    pM: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the reference share in LP units, flat
    c: dict[int, np.ndarray] = field(default_factory=dict)  # target index → columns
    z: int | None = None
    seg: list[tuple[np.ndarray, np.ndarray, float]] = field(default_factory=list)  # (cells, cols, slope)
    k: dict[int, int] = field(default_factory=dict)  # scaled budgets: task → column
    row_shift: np.ndarray = field(default_factory=lambda: np.zeros(0))  # rounding margin per row (LP units), added back in reports
    M: float = TRIEU  # đồng per LP money unit

    def x_value(self, col: np.ndarray) -> np.ndarray:
        """Cell amounts in đồng (flat) from a column solution."""
        return col[self.x] * self.M


class Builder:
    def __init__(self, d: Data, lo: np.ndarray | None = None, hi: np.ndarray | None = None):
        self.d = d
        self.lp = LP()
        self.lay = Layout()
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
        self.lay.x = self.lp.add_vars(d.n, lo, hi)

    def xrows(self, lo, hi, rows, cells, coefs, group, elem=None, extra=None, forcing=None):
        """Rows over cell amounts (LP units) plus optional extra (rows, cols, vals) terms;
        ``forcing`` marks rows that force money onto their cells whatever the reference share
        (tightened by the rounding margin like the rows over cells with a share)."""
        lo = np.asarray(lo, float).copy()
        hi = np.broadcast_to(np.asarray(hi, float), lo.shape).copy()
        rows, cells, coefs = np.asarray(rows), np.asarray(cells), np.asarray(coefs, float)
        r, c, v = rows, self.lay.x[cells], coefs
        if extra is not None:
            r = np.concatenate([r, extra[0]])
            c = np.concatenate([c, extra[1]])
            v = np.concatenate([v, extra[2]])
        shift = np.zeros(lo.size)
        if self._margin > 0:
            # Rounding moves each cell by less than 2 rounding units: tighten the row by that much
            # per unit of |coefficient| so that the rounded amounts still satisfy it. Cells without
            # a reference share stay 0 unless a constraint forces money onto them, and 0 rounds to
            # 0: a row over such cells only is not tightened (a tightened "x_y ≥ 0,7·x_{y−1}" or
            # "funding ≥ cost·c" would otherwise force money onto a unit that needs none).
            shift = self._margin * np.bincount(rows, weights=np.abs(coefs), minlength=lo.size)
            ranged = (lo < hi) & (np.bincount(rows, weights=(self.lay.pM[cells] > 0) & (coefs != 0), minlength=lo.size) > 0)
            if forcing is not None:
                ranged |= (lo < hi) & np.asarray(forcing, bool)
            lo = np.where(ranged & np.isfinite(lo), lo + shift, lo)
            hi = np.where(ranged & np.isfinite(hi), hi - shift, hi)
            shift = np.where(ranged, shift, 0.0)
        self.shift.append(shift)
        return self.lp.add_rows(lo, hi, r, c, v, group, elem)

    def rows(self, lo, hi, rows, cols, vals, group, elem=None):
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
    def fair_objective(self, relative: bool) -> None:
        """Objective ½ Σ ω·(x − r)² over the cell columns (LP units), ω = 1/r̃ (``relative``: the
        χ² distance from the reference share r) or 1: strictly convex in every cell that can move,
        so the optimum is unique; written as ½·ω·x² − ω·r·x, i.e. up to the constant ½ Σ ω·r²."""
        w = deviation_weights(self.d, relative) * (self.M if relative else 1.0)  # per LP unit
        self.lp.quad[0][:] = w  # the cell columns are the first block
        self.lp.cost[0][:] = -w * self.lay.pM

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
        self.lay.row_shift = np.concatenate(self.shift) if self.shift else np.zeros(0)
        return self.lp, self.lay


def reference_outcome(d: Data) -> float:
    """Σ outcome of the response curves at the reference share r. Segment widths are multiples of
    r, so at x = r every unit with a share is on the same segment of its curve: the marginal
    outcome is equal across units and r is a maximum of the uncoupled outcome (docs/allocation.md,
    "max_outcome")."""
    curves = {c.task: c for c in d.policy.response_curves}
    total = 0.0
    for t, task in enumerate(d.tasks):
        curve = curves.get(task.code)
        if curve is None:
            continue
        r = d.ref[t][d.B[t] > 0].ravel()
        filled = np.zeros_like(r)
        for seg in curve.segments:
            room = np.full_like(r, np.inf) if seg.width is None else seg.width * r
            amount = np.clip(r - filled, 0.0, room)
            total += seg.outcome_per_million * float(amount.sum()) / TRIEU
            filled = filled + amount
    return total


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

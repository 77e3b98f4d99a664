"""Large plans solved on the part of them that the constraints actually move: the fair QP
(:func:`solve_reduced`), the LP stages and curve tie-breaks (:func:`solve_pooled`, below), and a
model whose tasks share no row, part by part (:func:`solve_by_parts`).

At national size the fair stage has 3·10⁵ cells and 10⁵–10⁶ coupling rows (±30 % stability
between years, against last year), yet at the optimum almost every row is slack and almost every
cell sits where the budget row alone puts it: on the national benchmark with binding stability,
about 2 % of the cells touch an active row. Two exact reductions exploit that:

* **Rows and bounds are added as they bind** (a cutting-plane loop): the model starts with the
  equality rows (budgets) and the rows and bounds that the unconstrained minimiser v₀ (the
  reference share) breaks; the rows and bounds the answer breaks are added and the reduced model
  solved again. Leaving a constraint out relaxes the problem, so an answer that keeps every left-out
  constraint is the optimum of the whole model, and a reduced model that is infeasible proves the
  whole one is.
* **Cells in no active row or bound are aggregated** per equality row: with only the row Σ aⱼvⱼ = X
  on them, min Σ ½qⱼ(vⱼ − v₀ⱼ)² is ½(X − X₀)²/W with X₀ = Σ aⱼv₀ⱼ, W = Σ aⱼ²/qⱼ, attained at
  vⱼ = v₀ⱼ + aⱼ(X − X₀)/(qⱼW) — one column per budget row instead of ten thousand.

The reduced model is solved by the ordinary fair-stage path (HiGHS's exact QP when small, else
Clarabel, both polished), and the answer is accepted only when the optimality conditions of the
*whole* model verify (:func:`~budgetlib.allocator._qp.kkt_violation`) — else the caller solves the
whole model. The reduction changes how the optimum is found, not which one: the fair QP's optimum
is unique.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._lp import LP, Solution

if TYPE_CHECKING:
    from ._qp import QPArrays

__all__ = ["solve_reduced", "solve_pooled", "solve_by_parts", "MAX_ROUNDS", "MAX_SHARE"]

MAX_ROUNDS = 30
"""Cutting-plane rounds before the whole model is solved instead (each adds every broken constraint)."""
MAX_SHARE = 0.5
"""The reduction is abandoned when the reduced model has this share of the whole model's free columns."""
NEAR = 0.01
"""While an LP stage explores, a left-out row whose slack is within this share of its bound joins."""
SMALL_ROW = 64
"""Rows over at most this many columns join the pooled model with the cells they hold."""
EXPLORED_PRIMAL = 1e-8
EXPLORED_DUAL = 1e-6
"""An interior-point answer of an LP stage is kept when it keeps every row and bound to this share
of the model's scale, and its optimality conditions to this relative precision."""
PRIMAL = 1e-10
"""A left-out row or bound counts as kept when broken by at most this share of the model's scale
(the tolerance of the final check)."""


def solve_reduced(qp: QPArrays, inner: Callable[[LP], Solution], *, max_share: float | None = None) -> Solution | None:
    """The optimum of ``qp`` found on reduced models solved by ``inner``; an infeasible Solution
    when a reduced model (a relaxation) is infeasible; None when the reduction does not pay (a
    reduced model with more than ``max_share`` of the free columns, default :data:`MAX_SHARE`) or
    its answer does not verify (the caller solves the whole model)."""
    from ._qp import kkt_violation

    A = qp.A.tocsr()
    fixed = qp.lb >= qp.ub
    free = np.flatnonzero(~fixed)
    if free.size == 0:
        return None
    quadratic = qp.quad > 0
    v0 = np.where(quadratic, -qp.cost / np.where(quadratic, qp.quad, 1.0), 0.0)
    v0[fixed] = qp.lb[fixed]
    scale = qp.scale()
    tol = PRIMAL * scale
    eq = qp.rlo == qp.rhi
    # linear columns (target counts, curve segments) have no v₀: always in the model, with their
    # rows and bounds
    linear = ~quadratic & ~fixed
    Acsc = A.tocsc()
    active_row = eq.copy()
    if linear.any():
        lin_rows = np.unique(Acsc[:, np.flatnonzero(linear)].indices)
        active_row[lin_rows] = True
    active_lb = linear.copy()
    active_ub = linear.copy()
    eq_rows = np.flatnonzero(eq)
    A_eq = Acsc[eq_rows, :].tocsc()
    eq_count = np.diff(A_eq.indptr)
    # the (first) equality row of each column and its coefficient, for aggregation
    first = np.minimum(A_eq.indptr[:-1], max(0, A_eq.indices.size - 1))
    eq_of = np.where(eq_count > 0, A_eq.indices[first] if A_eq.indices.size else 0, -1)
    eq_coef = np.where(eq_count > 0, A_eq.data[first] if A_eq.data.size else 0.0, 0.0)
    v = v0.copy()
    for _round in range(MAX_ROUNDS):
        act = A @ v
        broken_row = ~active_row & ((act < qp.rlo - tol) | (act > qp.rhi + tol))
        broken_lb = ~active_lb & ~fixed & (v < qp.lb - tol)
        broken_ub = ~active_ub & ~fixed & (v > qp.ub + tol)
        if _round and not (broken_row.any() or broken_lb.any() or broken_ub.any()):
            break
        active_row |= broken_row
        active_lb |= broken_lb
        active_ub |= broken_ub
        got = _solve_round(qp, A, inner, v0, fixed, active_row, active_lb, active_ub, eq, eq_rows, eq_count, eq_of, eq_coef,
                           MAX_SHARE if max_share is None else max_share)
        if got is None or isinstance(got, Solution):
            return got
        v, row_dual, solver, version = got
    else:
        return None
    v = np.clip(v, qp.lb, qp.ub)
    primal, dual = kkt_violation(qp, v, row_dual, own_size=False)
    if primal > PRIMAL or dual > 1e-7:
        return None
    return qp.optimum(v, row_dual, solver=solver, version=version)


def _solve_round(qp, A, inner, v0, fixed, active_row, active_lb, active_ub, eq, eq_rows, eq_count, eq_of, eq_coef, max_share):
    """One reduced model: (v, row duals, solver, version) of the whole model's columns, an
    infeasible Solution, or None (the reduction does not pay, or the inner solver failed)."""
    m, n = A.shape
    rows = np.flatnonzero(active_row)
    A_rows = A[rows, :]
    own = np.zeros(n, bool)  # columns modelled one by one
    ineq_part = A_rows[~eq[rows], :]
    own[np.unique(ineq_part.indices)] = True
    own |= active_lb | active_ub | (eq_count >= 2) | (~(qp.quad > 0))
    own &= ~fixed
    n_free = int((~fixed).sum())
    if own.sum() > max_share * n_free:
        return None
    pooled = np.flatnonzero(~own & ~fixed & (eq_count == 1))
    alone = np.flatnonzero(~own & ~fixed & (eq_count == 0))  # in no active row: at v₀ (checked next round)
    # aggregated columns, one per equality row: X with curvature 1/W, minimiser X₀
    r_of = eq_of[pooled]
    a = eq_coef[pooled]
    q = qp.quad[pooled]
    n_eq = eq_rows.size
    W = np.bincount(r_of, weights=a * a / q, minlength=n_eq)
    X0 = np.bincount(r_of, weights=a * v0[pooled], minlength=n_eq)
    groups = np.flatnonzero(W > 0)
    cols = np.flatnonzero(own)
    # fixed columns (and the pooled ones, through X) leave the rows: their values shift the bounds
    base = np.zeros(n)
    base[fixed] = qp.lb[fixed]
    shift = A_rows @ base
    reduced = LP()
    reduced.add_vars(cols.size, np.where(active_lb[cols], qp.lb[cols], -np.inf), np.where(active_ub[cols], qp.ub[cols], np.inf),
                     qp.cost[cols], qp.quad[cols])
    x_cols = reduced.add_vars(groups.size, -np.inf, np.inf, -X0[groups] / W[groups], 1.0 / W[groups])
    sub = A_rows[:, cols].tocoo()
    position = np.full(m, -1, np.int64)
    position[rows] = np.arange(rows.size)
    reduced.add_rows(qp.rlo[rows] - shift, qp.rhi[rows] - shift, np.concatenate([sub.row, position[eq_rows[groups]]]),
                     np.concatenate([sub.col, x_cols]), np.concatenate([sub.data, np.ones(groups.size)]), 0)
    sol = inner(reduced)
    if sol.status == "infeasible":
        return Solution("infeasible", solver=sol.solver, version=sol.version)
    if sol.status != "optimal" or sol.col_value is None or sol.row_dual is None:
        return None
    value = np.asarray(sol.col_value, float)
    v = v0.copy()
    v[cols] = value[: cols.size]
    X = np.zeros(n_eq)
    X[groups] = value[cols.size:]
    v[pooled] = v0[pooled] + a * (X[r_of] - X0[r_of]) / (q * np.where(W[r_of] > 0, W[r_of], 1.0))
    v[alone] = v0[alone]
    row_dual = np.zeros(m)
    row_dual[rows] = np.asarray(sol.row_dual, float)
    return v, row_dual, sol.solver, sol.version


# -- pooling at equal coverage (LP stages, response curves) --------------------------------------

COVERAGE_KAPPA_TOLERANCE = 1e-9
"""Cells pool only when their χ² curvatures agree to this relative precision (qⱼ·rⱼ equal)."""


def solve_pooled(lp: LP, share: np.ndarray, local_groups: list[int], inner: Callable[[LP], Solution], *,
                 segments: Sequence[tuple[np.ndarray, np.ndarray, float]] = (), explore: Callable[[LP], Solution] | None = None,
                 carry: dict | None = None, objective_parts_only: bool = False) -> Solution | None:
    """The optimum of ``lp`` — an LP over the plan's cells (the first ``share.size`` columns), or
    the χ² fair QP, with optional per-cell rows (response-curve segment rows, max_min coverage rows:
    ``local_groups`` with the cell as row element) — found on reduced models whose untouched cells
    are pooled **at equal coverage** (xⱼ = rⱼ·X/R, r the reference share): each curve is the same
    concave function of coverage for every cell of a block (segment widths are multiples of r) and
    the χ² term is rⱼ·(x/r − 1)², so by Jensen's inequality equal coverage is optimal for pooled
    cells, and the pooled model is a relaxation whose optimum, once it keeps every left-out
    constraint, is the whole model's. ``segments``: the curve segments' (cells, columns, slope), as
    in the layout. ``explore``: a solver for the rounds that look for the binding rows (an LP's
    interior point, central on a degenerate optimal face, breaks far fewer left-out rows than a
    vertex that wanders from one end of the face to the other); ``inner`` then gives the exact
    answer. ``carry``: the rows and cells found binding by an earlier stage over the same leading
    rows (max_outcome's tie-break after its outcome stage), taken in from the start and updated.
    ``objective_parts_only``: the parts of the model that share no row with a column of the
    objective (tasks without a response curve in max_outcome's outcome stage) are left at the
    reference share, their rows unchecked and their multipliers 0 (the Solution says ``partial``):
    they cannot change the optimum, and the stage that follows solves them. The answer is accepted only when the optimality conditions of the whole model verify; None: solve
    the whole model."""
    import scipy.sparse as sp

    from ._qp import QPArrays, kkt_violation

    qp = QPArrays.of(lp)
    A = qp.A.tocsr()
    m, n = A.shape
    n_cells = share.size
    partial = False
    if objective_parts_only:
        qp, partial = _freeze_parts_without_objective(qp, share)
    fixed = qp.lb >= qp.ub
    if (~fixed).sum() == 0:
        return None
    scale = qp.scale()
    tol = PRIMAL * scale
    group, elem = lp.row_group, lp.row_elem
    local = np.isin(group, np.asarray(local_groups, np.int64)) & (elem >= 0) & (elem < n_cells)
    eq = (qp.rlo == qp.rhi) & ~local
    homogeneous = ((qp.rlo == 0) | (qp.rlo == -np.inf)) & ((qp.rhi == 0) | (qp.rhi == np.inf))
    row_cell = np.where(local, elem, -1)
    Acsc = A.tocsc()
    col_of_entry = np.repeat(np.arange(n), np.diff(Acsc.indptr))
    row_of_entry = Acsc.indices
    # a segment column belongs to its cell
    owner = np.full(n, -1, np.int64)
    owner[:n_cells] = np.arange(n_cells)
    for seg_cells, seg_columns, _slope in segments:
        owner[seg_columns] = seg_cells
    # each column's rows outside its cell's local rows
    nonlocal_entry = ~local[row_of_entry]
    eq_entry = eq[row_of_entry]
    eq_count = np.bincount(col_of_entry[eq_entry], minlength=n)
    ineq_entry = nonlocal_entry & ~eq_entry
    # rows of the model that hold columns other than cells and their segments (the z link, the
    # outcome floor, target rows) are always in the model, and so are their columns
    other_col = owner < 0
    always_row = np.zeros(m, bool)
    always_row[row_of_entry[nonlocal_entry & other_col[col_of_entry]]] = True
    # and so are the rows of the per-cell groups that are not per cell (the outcome floor: Σ slope·s,
    # one coefficient per segment kind, so exact on pooled segments)
    always_row |= eq | (np.isin(group, np.asarray(local_groups, np.int64)) & ~local)
    cell_first_eq = np.full(n, -1, np.int64)
    cell_eq_coef = np.zeros(n)
    sel = eq_entry & (col_of_entry < n_cells)
    cell_first_eq[col_of_entry[sel][::-1]] = row_of_entry[sel][::-1]
    cell_eq_coef[col_of_entry[sel][::-1]] = Acsc.data[sel][::-1]
    # poolable cells: free, a reference share, one budget row, χ² or no objective, homogeneous local rows
    q, c = qp.quad[:n_cells], qp.cost[:n_cells]
    kappa = q * share
    objective_ok = ((q == 0) & (c == 0)) | ((q > 0) & (np.abs(c + kappa) <= 1e-12 * np.maximum(np.abs(c), 1e-300)))
    bad_local = np.zeros(n_cells, bool)
    bad_local[row_cell[local & ~homogeneous]] = True
    # a segment column elsewhere than its cell's local rows and the always-present rows breaks pooling
    seg_entry = (owner[col_of_entry] >= 0) & (col_of_entry >= n_cells)
    stray = seg_entry & nonlocal_entry & ~always_row[row_of_entry]
    bad_local[owner[col_of_entry[stray]]] = True
    poolable = (~fixed[:n_cells]) & (share > 0) & (eq_count[:n_cells] == 1) & objective_ok & ~bad_local
    seg_cols = np.flatnonzero((owner >= 0) & (np.arange(n) >= n_cells))
    # segment columns are told apart by their cost and width per unit of share (one per curve segment)
    seg_key = np.zeros(n)
    if seg_cols.size:
        own_share = share[owner[seg_cols]]
        width = np.where(np.isfinite(qp.ub[seg_cols]), qp.ub[seg_cols] / np.where(own_share > 0, own_share, 1.0), np.inf)
        seg_key[seg_cols] = _codes(np.round(qp.cost[seg_cols], 12), np.round(width, 12))
        if (qp.lb[seg_cols] != 0).any():
            return None
    active_row = always_row.copy()
    fixed_cell = fixed[:n_cells]
    own_cell = ~poolable & ~fixed_cell
    n_free_cells = max(1, int((~fixed_cell).sum()))
    base = np.zeros(n)  # fixed columns leave the reduced rows: their values shift the bounds
    base[fixed] = qp.lb[fixed]
    shift = A @ base
    v = base.copy()
    v[:n_cells] = np.where(fixed[:n_cells], v[:n_cells], np.clip(share, qp.lb[:n_cells], qp.ub[:n_cells]))
    lazy_rows = ~always_row & ~local
    small_row = np.diff(A.indptr) <= SMALL_ROW
    # an LP's vertex wanders over a degenerate optimal face and breaks the neighbouring rows of a
    # cell next round: LP stages take a cell's small rows in with it; a QP's optimum is unique
    # and moves little when a row is added
    closure = not lp.quadratic
    y = np.zeros(m)
    sol: Solution | None = None
    if carry:
        k = min(m, carry["rows"].size)
        active_row[:k] |= carry["rows"][:k] & lazy_rows[:k]
        own_cell |= carry["own"]

    def keep_state() -> None:
        if carry is not None:
            carry["rows"], carry["own"] = active_row.copy(), own_cell.copy()

    # the closure below: each row's cells through its inequality entries, and each cell's small
    # left-out rows
    cell_entry = col_of_entry < n_cells
    pick = ineq_entry & cell_entry
    cells_of_row = sp.csr_matrix((np.ones(int(pick.sum()), bool), (row_of_entry[pick], col_of_entry[pick])), shape=(m, n_cells))
    pick = cell_entry & lazy_rows[row_of_entry] & small_row[row_of_entry]
    small_rows_of_cell = sp.csr_matrix((np.ones(int(pick.sum()), bool), (col_of_entry[pick], row_of_entry[pick])), shape=(n_cells, m))
    expanded_row = np.zeros(m, bool)
    grown_cell = np.zeros(n_cells, bool)
    exploring = explore is not None
    for _round in range(MAX_ROUNDS):
        act = A @ v
        # while exploring, rows within NEAR of their bound come in too: the next interior point
        # moves by about that much
        near_tol = tol + (NEAR * np.maximum(np.abs(np.where(np.isfinite(qp.rlo), qp.rlo, 0.0)), np.abs(np.where(np.isfinite(qp.rhi), qp.rhi, 0.0)))
                          if exploring else 0.0)
        broken = lazy_rows & ~active_row & ((act < qp.rlo - tol) | (act > qp.rhi + tol))
        if exploring and _round:
            broken |= lazy_rows & ~active_row & ((act < qp.rlo + near_tol) | (act > qp.rhi - near_tol))
        broken_cell = ~own_cell & ~fixed_cell & ((v[:n_cells] < qp.lb[:n_cells] - tol) | (v[:n_cells] > qp.ub[:n_cells] + tol))
        if _round and not (broken.any() or broken_cell.any()):
            if not exploring:
                break
            v = np.clip(v, qp.lb, qp.ub)
            primal, dual = kkt_violation(qp, v, y, own_size=False)
            assert sol is not None  # a round has run
            if primal <= EXPLORED_PRIMAL and dual <= EXPLORED_DUAL:
                # The interior point of the last pooled model keeps every left-out row, with room
                # (NEAR), to HiGHS's tolerances: its value is the optimum's to the interior point's
                # gap (10⁻⁸), and the stage that follows keeps it within 10⁻⁷ anyway. A vertex found
                # from here (simplex or crossover) costs more than every round before it on the
                # national plan (23 s of dual simplex on max_min's degenerate stage 1) and wanders
                # over the optimal face to where left-out rows break.
                keep_state()
                return qp.optimum(v, y, solver=sol.solver + "-ipm", version=sol.version, partial=partial)
            exploring = False  # the binding rows are found: the exact answer on them
        active_row |= broken
        own_cell |= broken_cell
        # cells in an active row other than their budget row are modelled one by one, and with
        # them every small row they are in (a unit's stability chain over the years): a cell
        # taken in is seldom right with only the row that broke, and each round costs a solve
        # (incremental: only rows not expanded before and cells not grown before are looked at —
        # both sets only grow, so the result is that of rescanning every entry each time)
        for _closure in range(8 if closure else 1):
            fresh_rows = np.flatnonzero(active_row & ~expanded_row)
            expanded_row[fresh_rows] = True
            own_cell[cells_of_row[fresh_rows].indices] = True
            fresh_cells = np.flatnonzero(own_cell & ~grown_cell)
            grown_cell[fresh_cells] = True
            grow = small_rows_of_cell[fresh_cells].indices
            grow = grow[~active_row[grow]]
            if not grow.size:
                break
            active_row[grow] = True
        own_cell &= ~fixed_cell
        if own_cell.sum() > MAX_SHARE * n_free_cells:
            return None
        pooled = np.flatnonzero(~own_cell & ~fixed_cell)
        # pools: one per (budget row, its coefficient, χ² curvature)
        if pooled.size:
            kap = kappa[pooled]
            pool = _codes(cell_first_eq[pooled], cell_eq_coef[pooled], np.round(kap / np.maximum(np.abs(kap).max(), 1e-300) / COVERAGE_KAPPA_TOLERANCE))
        else:
            pool = np.zeros(0, np.int64)
        n_pool = int(pool.max()) + 1 if pool.size else 0
        R = np.bincount(pool, weights=share[pooled], minlength=n_pool)
        pool_of_cell = np.full(n_cells, -1, np.int64)
        pool_of_cell[pooled] = pool
        # reduced columns: own columns one by one, then X per pool, then S per (pool, segment kind)
        col_pool = np.full(n, -1, np.int64)
        col_pool[:n_cells] = pool_of_cell
        col_pool[seg_cols] = pool_of_cell[owner[seg_cols]]
        keep = ~fixed & (col_pool < 0)
        own_cols = np.flatnonzero(keep)
        pooled_seg = seg_cols[col_pool[seg_cols] >= 0]
        seg_slot = _codes(col_pool[pooled_seg], seg_key[pooled_seg])
        n_slots = int(seg_slot.max()) + 1 if seg_slot.size else 0
        n_red = own_cols.size + n_pool + n_slots
        if n_red > MAX_SHARE * n:  # pools of single cells (curvatures that differ: absolute weighting)
            return None
        P_rows = np.concatenate([own_cols, pooled, pooled_seg])
        P_cols = np.concatenate([np.arange(own_cols.size), own_cols.size + pool, own_cols.size + n_pool + seg_slot])
        P_vals = np.concatenate([np.ones(own_cols.size), share[pooled] / R[pool], share[owner[pooled_seg]] / R[pool_of_cell[owner[pooled_seg]]]])
        Pcol = sp.csr_matrix((P_vals, (P_rows, P_cols)), shape=(n, n_red))
        # reduced rows: active rows one by one, local rows of own cells one by one, local rows of
        # pooled cells summed per (pool, row group)
        own_local = local & (row_cell >= 0) & own_cell[np.maximum(row_cell, 0)]
        pooled_local = np.flatnonzero(local & ~own_local)
        single = np.flatnonzero(active_row | own_local)
        agg = _codes(pool_of_cell[row_cell[pooled_local]], group[pooled_local], np.isfinite(qp.rlo[pooled_local]))
        n_agg = int(agg.max()) + 1 if agg.size else 0
        m_red = single.size + n_agg
        Prow = sp.csr_matrix((np.ones(single.size + pooled_local.size), (np.concatenate([np.arange(single.size), single.size + agg]),
                              np.concatenate([single, pooled_local]))), shape=(m_red, m))
        A_red = (Prow @ A @ Pcol).tocoo()
        lo_red = np.concatenate([(qp.rlo - shift)[single], np.zeros(n_agg)])
        hi_red = np.concatenate([(qp.rhi - shift)[single], np.zeros(n_agg)])
        if n_agg:
            first_member = np.zeros(n_agg, np.int64)
            first_member[agg[::-1]] = pooled_local[::-1]
            lo_red[single.size:] = np.where(np.isfinite(qp.rlo[first_member]), 0.0, -np.inf)
            hi_red[single.size:] = np.where(np.isfinite(qp.rhi[first_member]), 0.0, np.inf)
        PT = Pcol.T.tocsr()
        lb_red = np.full(n_red, -np.inf)
        ub_red = np.full(n_red, np.inf)
        lb_red[: own_cols.size] = qp.lb[own_cols]
        ub_red[: own_cols.size] = qp.ub[own_cols]
        if n_slots:
            lb_red[own_cols.size + n_pool:] = 0.0
            ub_red[own_cols.size + n_pool:] = np.bincount(seg_slot, weights=qp.ub[pooled_seg], minlength=n_slots)
        reduced = LP()
        reduced.add_vars(n_red, lb_red, ub_red, PT @ qp.cost, (PT.multiply(PT)) @ qp.quad)
        reduced.add_rows(lo_red, hi_red, A_red.row, A_red.col, A_red.data, 0)
        sol = (explore if exploring and explore is not None else inner)(reduced)
        if sol.status == "infeasible":
            return Solution("infeasible", solver=sol.solver, version=sol.version)
        if sol.status != "optimal" or sol.col_value is None or sol.row_dual is None:
            return None
        v = Pcol @ np.asarray(sol.col_value, float) + base
        y = Prow.T @ np.asarray(sol.row_dual, float)
    else:
        return None
    assert sol is not None
    v = np.clip(v, qp.lb, qp.ub)
    primal, dual = kkt_violation(qp, v, y, own_size=False)
    if primal > PRIMAL or dual > 1e-7:
        return None
    keep_state()
    return qp.optimum(v, y, solver=sol.solver, version=sol.version, partial=partial)


def _codes(*keys: np.ndarray) -> np.ndarray:
    """Dense codes 0..k−1 of the distinct tuples of ``keys`` (equal-length 1-D arrays), in the
    order of the sorted tuples (deterministic)."""
    if not keys or keys[0].size == 0:
        return np.zeros(0, np.int64)
    code = np.zeros(keys[0].size, np.int64)
    radix = 1  # the number of codes ``code`` can take: re-densified only when the next would overflow
    for key in keys:
        _, inv = np.unique(key, return_inverse=True)
        k = int(inv.max()) + 1
        if radix * k >= 2**62:
            _, code = np.unique(code, return_inverse=True)
            code, radix = code.ravel(), int(code.max()) + 1
        code = code * k + inv.ravel()
        radix *= k
    _, code = np.unique(code, return_inverse=True)
    return code.ravel()


def _parts(A, free: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The connected parts of a model — columns linked through the rows they share, over the free
    columns: (part of each row, part of each free column in order, rows without a free column)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    m = A.shape[0]
    Af = A[:, np.flatnonzero(free)].tocsr()
    _count, label = connected_components(sp.bmat([[None, Af], [Af.T, None]]).tocsr(), directed=False)
    return label[:m], label[m:], np.diff(Af.indptr) == 0


def _freeze_parts_without_objective(qp: QPArrays, share: np.ndarray) -> tuple[QPArrays, bool]:
    """``qp`` with every connected part (columns linked by rows) that has no objective term fixed:
    cells at the reference share, other columns at their lower bound (or 0), and the part's rows
    unbounded. Whether anything was frozen."""
    from ._qp import QPArrays

    A = qp.A.tocsr()
    m, n = A.shape
    free = qp.lb < qp.ub
    if not free.any() or m == 0:
        return qp, False
    row_label, col_label, idle = _parts(A, free)
    cols = np.flatnonzero(free)
    has_objective = np.zeros(max(row_label.max(initial=0), col_label.max(initial=0)) + 1, bool)
    has_objective[col_label[(qp.cost[cols] != 0) | (qp.quad[cols] > 0)]] = True
    frozen = cols[~has_objective[col_label]]
    if not frozen.size:
        return qp, False
    # a row with only fixed columns is its own part, without objective: checked as before
    ignored = ~has_objective[row_label] & ~idle
    value = np.zeros(n)
    value[: share.size] = share
    value = np.clip(value, np.where(np.isfinite(qp.lb), qp.lb, 0.0), qp.ub)
    lb, ub = qp.lb.copy(), qp.ub.copy()
    lb[frozen] = ub[frozen] = value[frozen]
    rlo, rhi = qp.rlo.copy(), qp.rhi.copy()
    rlo[ignored], rhi[ignored] = -np.inf, np.inf
    return QPArrays(qp.A, lb, ub, rlo, rhi, qp.quad, qp.cost), True


_SOLVER_RANK = ("highspy-l1", "clarabel-projected", "clarabel", "highspy-qp")
"""When parts of a model are solved by different routes, the name that says most about the answer
(an approximate route first: the explanation reads it)."""


def solve_by_parts(lp: LP, share: np.ndarray, local_groups: list[int], inner: Callable[[LP], Solution], *,
                   segments: Sequence[tuple[np.ndarray, np.ndarray, float]] = (), carry: dict | None = None) -> Solution | None:
    """The fair QP ``lp`` solved part by part, when its columns fall into parts that share no row
    (tasks not coupled to one another): a part with curve segments on pooled models
    (:func:`solve_pooled`), one without on reduced models (:func:`solve_reduced`), else whole —
    each part's model is a fraction of the whole one. None when the model is one part, or the
    merged answer does not verify on the whole model (the caller solves it otherwise)."""
    from ._qp import QPArrays, kkt_violation

    qp = QPArrays.of(lp)
    A = qp.A.tocsr()
    m, n = A.shape
    n_cells = share.size
    fixed = qp.lb >= qp.ub
    free_cols = np.flatnonzero(~fixed)
    if free_cols.size == 0 or m == 0:
        return None
    # rows without a free column (idle) hold or not whatever the parts do
    row_label, col_label, idle = _parts(A, ~fixed)
    parts = np.unique(col_label)
    if parts.size <= 1:
        return None
    base = np.zeros(n)
    base[fixed] = qp.lb[fixed]
    shift = A @ base
    tol = PRIMAL * qp.scale()
    if ((shift < qp.rlo - tol) | (shift > qp.rhi + tol))[idle].any():
        return None
    group, elem = lp.row_group, lp.row_elem
    local_group = np.isin(group, np.asarray(local_groups, np.int64))
    v = base.copy()
    y = np.zeros(m)
    solvers: list[tuple[str, str]] = []
    for part in parts:
        cols = free_cols[col_label == part]
        order = np.concatenate([cols[cols < n_cells], cols[cols >= n_cells]])
        n_part_cells = int((cols < n_cells).sum())
        position = np.full(n, -1, np.int64)
        position[order] = np.arange(order.size)
        rows = np.flatnonzero((row_label == part) & ~idle)
        block = A[rows][:, order].tocoo()
        sub = LP()
        sub.add_vars(order.size, qp.lb[order], qp.ub[order], qp.cost[order], qp.quad[order])
        sub_elem = np.where(local_group[rows] & (elem[rows] >= 0) & (elem[rows] < n_cells), position[np.clip(elem[rows], 0, n - 1)], -1)
        sub.add_rows(qp.rlo[rows] - shift[rows], qp.rhi[rows] - shift[rows], block.row, block.col, block.data, group[rows], sub_elem)
        linear = (qp.quad[order] == 0).any()
        got: Solution | None
        if linear:
            part_segments = []
            for seg_cells, seg_cols, slope in segments:
                inside = position[seg_cols] >= 0
                if inside.any():
                    part_segments.append((position[seg_cells[inside]], position[seg_cols[inside]], slope))
            part_carry = None
            if carry:
                rows_known = np.zeros(m, bool)
                k = min(m, carry["rows"].size)
                rows_known[:k] = carry["rows"][:k]
                part_carry = {"rows": rows_known[rows], "own": carry["own"][order[:n_part_cells]]}
            got = solve_pooled(sub, share[order[:n_part_cells]], local_groups, inner, segments=part_segments, carry=part_carry)
        else:
            got = solve_reduced(QPArrays.of(sub), inner)
        if got is None:
            got = inner(sub)
        if got.status == "infeasible":
            return Solution("infeasible", solver=got.solver, version=got.version)
        if got.status != "optimal" or got.col_value is None or got.row_dual is None:
            return None
        v[order] = np.asarray(got.col_value, float)
        y[rows] = np.asarray(got.row_dual, float)
        solvers.append((got.solver, got.version))
    v = np.clip(v, qp.lb, qp.ub)
    primal, dual = kkt_violation(qp, v, y, own_size=False)
    if primal > PRIMAL or dual > 1e-7:
        return None
    solver, version = next(((name, ver) for rank in _SOLVER_RANK for name, ver in solvers if name == rank), solvers[0])
    return qp.optimum(v, y, solver=solver, version=version)

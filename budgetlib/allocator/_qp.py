"""Quadratic programs: the same numpy blocks as :mod:`._lp`, solved by Clarabel and polished to
an exact vertex of their active set.

The allocator's final stage minimises a separable, strictly convex quadratic (the squared deviation
from the reference share, ``docs/allocation.md``) over the polyhedron of the plan's constraints.
HiGHS solves QPs with an active-set method that took minutes on models of 10⁴ cells; Clarabel, an
interior-point solver for conic programs, takes a fraction of a second there.

Clarabel solves ``min ½ vᵀPv + qᵀv`` s.t. ``Av + s = b``, ``s ∈ K``. The model is translated as:

* columns fixed by their bounds (lb = ub: earmarks, ineligible and unfunded cells) are substituted
  out — they only shift row bounds;
* equality rows go to the zero cone; each finite side of any other row and each finite column bound
  becomes one row of the non-negative cone (``a·v ≤ hi``, ``−a·v ≤ −lo``).

An interior-point answer is accurate to about 10⁻⁸ of the budget — tens of đồng on a plan of a few
tỷ, which would show when amounts are rounded to the đồng. So the answer is **polished**
(:func:`polish`): the constraints it leaves active are made equalities, the other ones dropped, and
the optimality conditions of that equality-constrained QP — a sparse linear system — are solved
directly; primal-dual active-set steps correct the active set until the result is feasible and
its multipliers have the right signs (the optimality conditions of the QP, checked), else the
interior-point answer stands.

Duals are returned in HiGHS's convention, so reports read them the same way: ``row_dual[i]`` and
``col_dual[j]`` are the derivative of the optimal objective with respect to the active bound of the
row or column (negative when raising that bound lowers the objective); ``col_dual`` is the reduced
gradient ∇f − Aᵀy. There is no ranging: the optimum of a QP moves continuously with a bound, and
ranges would need a parametric analysis per row (``row_up``/``row_dn`` stay None).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._lp import LP, Solution

__all__ = ["solve_fair_qp", "solve_qp", "solve_l1", "clarabel_version", "polish", "kkt_violation"]

TOLERANCE = 1e-9
"""Clarabel's relative feasibility and gap tolerances."""
POLISH_STEPS = 12
"""Primal-dual active-set corrections tried when polishing."""


def clarabel_version() -> str:
    import clarabel

    return str(getattr(clarabel, "__version__", ""))


@dataclass
class QPArrays:
    """A QP ``min ½ Σ quad·v² + cost·v`` s.t. ``rlo ≤ A v ≤ rhi``, ``lb ≤ v ≤ ub`` as arrays."""

    A: Any  # scipy.sparse CSR, m × n
    lb: np.ndarray
    ub: np.ndarray
    rlo: np.ndarray
    rhi: np.ndarray
    quad: np.ndarray
    cost: np.ndarray

    @classmethod
    def of(cls, lp: LP) -> QPArrays:
        import scipy.sparse as sp

        lb, ub, cost, rlo, rhi, start, idx, val = lp.arrays(dedupe=True)
        A = sp.csr_matrix((val, idx, start), shape=(lp.n_rows, lp.n_cols))
        return cls(A, lb, ub, rlo, rhi, lp.quad_array(), cost)

    def objective(self, v: np.ndarray) -> float:
        return float(0.5 * self.quad @ (v * v) + self.cost @ v)

    def optimum(self, v: np.ndarray, row_dual: np.ndarray, *, solver: str, version: str, partial: bool = False) -> Solution:
        """The optimal Solution at ``v`` with multipliers ``row_dual`` (the column duals derived)."""
        col_dual = self.quad * v + self.cost - self.A.T @ row_dual
        return Solution("optimal", self.objective(v), v, col_dual, self.A @ v, row_dual, None, None,
                        solver=solver, version=version, partial=partial)

    @functools.cached_property
    def abs_A(self) -> Any:
        """|A|, entry by entry: each row's size at a point (:func:`kkt_violation`, checked several
        times on one model)."""
        return abs(self.A)

    def scale(self) -> float:
        finite = np.concatenate([np.abs(self.rlo[np.isfinite(self.rlo)]), np.abs(self.rhi[np.isfinite(self.rhi)]),
                                 np.abs(self.lb[np.isfinite(self.lb)]), np.abs(self.ub[np.isfinite(self.ub)])])
        return float(max(1.0, finite.max())) if finite.size else 1.0


@dataclass
class _Scaled:
    """A QP moved to its unconstrained minimiser and rescaled: v = v0 + D·u, rows divided by R,
    objective divided by c (see :func:`solve_qp`)."""

    sq: QPArrays
    v0: np.ndarray
    D: np.ndarray
    R: np.ndarray
    c: float


def _scaled(qp: QPArrays) -> _Scaled:
    big = qp.scale()
    v0 = np.where(qp.quad > 0, -qp.cost / np.where(qp.quad > 0, qp.quad, 1.0), 0.0)
    act0 = qp.A @ v0
    # S: how far the constraints push the quadratic columns from v₀ — the largest violation at v₀
    # of a bound of such a column or of a row that has one (a row of linear columns only, such as
    # max_outcome's outcome floor, says nothing about the deviations: its segments start at 0)
    isq = qp.quad > 0
    rq = (abs(qp.A) @ isq.astype(float)) > 0 if isq.any() else np.ones(qp.A.shape[0], bool)
    cq = isq if isq.any() else np.ones(qp.quad.size, bool)
    viol = max(float(np.max((qp.rlo - act0)[rq], initial=0.0)), float(np.max((act0 - qp.rhi)[rq], initial=0.0)),
               float(np.max((qp.lb - v0)[cq], initial=0.0)), float(np.max((v0 - qp.ub)[cq], initial=0.0)))
    S = viol if viol > 1e-12 * big else max(1e-12 * big, 1e-12)
    # Each quadratic column is scaled by its own D_j = S·√(q̄/quad_j) (q̄ the median curvature of
    # the columns that can move), so that every one has the same curvature c = q̄·S²: the χ²
    # weights 1/r span 10⁷ between a commune's cell of a few đồng and a district's of tỷ, and one
    # common scale left the interior-point method blind to the flat ones. Linear columns (target
    # counts, response-curve segments) keep D = S. A fixed column (unfunded or ineligible, whose χ²
    # weight may be huge) never sets a scale.
    free = qp.lb < qp.ub
    quad_free = qp.quad[free & (qp.quad > 0)]
    lin = np.where(qp.quad > 0, 0.0, qp.cost)
    # a linear column is scaled by its own range when it has one (a segment of width·r, a target
    # count up to the room for progress), else by S
    span = qp.ub - qp.lb
    D_lin = np.where(np.isfinite(span) & (span > S), span, S)
    if quad_free.size:
        qbar = float(np.median(quad_free))
        D = np.where(qp.quad > 0, S * np.sqrt(qbar / np.where(qp.quad > 0, qp.quad, 1.0)), D_lin)
        c = qbar * S * S
    else:
        D = D_lin
        c = float(np.max((np.abs(lin) * D)[free], initial=0.0)) or 1.0
    # objective = c·(½ Σ quad·D²/c·u² + lin·D/c·u) + constant (lin = 0 on quadratic columns);
    # each row divided by R_i = max(S, its largest |coefficient|·D): unit-sized rows
    import scipy.sparse as sp

    AD = (qp.A @ sp.diags(D)).tocsr()
    big_coef = abs(AD).max(axis=1).toarray().ravel() if AD.shape[0] and AD.shape[1] else np.zeros(AD.shape[0])
    R = np.maximum(S, big_coef)
    As = (sp.diags(1.0 / R) @ AD).tocsr()
    sq = QPArrays(As, (qp.lb - v0) / D, (qp.ub - v0) / D, (qp.rlo - act0) / R, (qp.rhi - act0) / R,
                  qp.quad * D * D / c, lin * D / c)
    return _Scaled(sq, v0, D, R, c)


def solve_qp(lp: LP, *, tol: float = TOLERANCE) -> Solution:
    """Minimise ``½ Σ quad·v² + cost·v`` over the rows and bounds of ``lp``: Clarabel on the model
    recentred and rescaled (below), then :func:`polish`.

    The objective's curvature is tiny next to its linear term (deviations of a few đồng on
    allocations of tỷ), which an interior-point method cannot resolve. So the columns are moved
    to their unconstrained minimiser (v = v₀ + D·u, v₀ = −cost/quad: the reference share for cell
    columns, 0 for linear columns), which removes the linear term of every quadratic column, and
    scaled from S, the largest violation at v₀ of a row or bound that involves a quadratic column —
    about the size of the deviations the constraints force — so that budgets of 10¹⁵ đồng and of
    10 đồng look alike to the solver (per-column D and per-row scales below). An answer that does
    not verify is replaced, on small models, by HiGHS's exact active-set QP."""
    qp = QPArrays.of(lp)
    version = clarabel_version()
    big = qp.scale()
    if (qp.lb > qp.ub + 1e-12 * big).any() or (qp.rlo > qp.rhi + 1e-12 * big).any():
        return Solution("infeasible", solver="clarabel", version=version)
    scaled = _scaled(qp)
    sq, v0, D, R, c = scaled.sq, scaled.v0, scaled.D, scaled.R, scaled.c
    got = _clarabel(sq, tol)
    if isinstance(got, str):
        return Solution(got, solver="clarabel", version=version)
    u, y, cd = got
    polished = polish(sq, u, y, cd)
    if polished is not None:
        u, y = polished
    if kkt_violation(sq, u, y)[1] > 1e-7 and lp.n_cols <= HIGHS_QP_MAX_COLUMNS:
        # not verified optimal (blocks of very different sizes: the interior-point tolerances are
        # relative to the largest, and a slightly infeasible answer can even score better): on a
        # small model, HiGHS's exact active-set QP when it reports an optimum that is feasible
        exact = solve_qp_highs(lp, iteration_limit=HIGHS_QP_CHECK_ITERATIONS)
        if exact.status == "optimal" and exact.col_value is not None:
            ve = np.asarray(exact.col_value, float)
            no_rows = np.zeros(qp.A.shape[0])
            if kkt_violation(qp, ve, no_rows)[0] <= 1e-10:
                # HiGHS's "optimal" is not proof either (random plan 7 127: 15 % above the optimum,
                # its reduced gradient off by the objective's scale): when Clarabel's point holds
                # every row too, the lower objective wins
                vc = np.clip(v0 + u * D, qp.lb, qp.ub)
                if kkt_violation(qp, vc, no_rows)[0] > 1e-10 or qp.objective(ve) <= qp.objective(vc):
                    return exact
    if kkt_violation(sq, u, y)[0] > 1e-7:  # an unconverged interior point that polishing could not make feasible
        return Solution("error: Clarabel did not converge", solver="clarabel", version=version)
    v = v0 + u * D
    # keep exact bounds exact (the shift and scale round off the last bits)
    v = np.clip(v, qp.lb, qp.ub)
    solver = "clarabel"
    violation = kkt_violation(qp, v, np.zeros(qp.A.shape[0]))[0]
    if violation > 1e-7:
        # feasible only in the scaled model (rows divided by large R_i hide the violation: random
        # plan 1588 funded 11 of 17 communes). A small miss is projected onto the rows — the
        # feasible point nearest the answer in the weighted L1 distance, a vertex within about the
        # violation of it — a large one goes back to the caller's rescue
        projected = solve_l1(lp, anchor=v) if violation <= PROJECT_MAX_VIOLATION else None
        if projected is None or projected.col_value is None or projected.status != "optimal":
            return Solution("error: Clarabel's answer breaks a row of the model", solver="clarabel", version=version)
        v = np.clip(np.asarray(projected.col_value, float), qp.lb, qp.ub)
        if kkt_violation(qp, v, np.zeros(qp.A.shape[0]))[0] > 1e-10:
            return Solution("error: Clarabel's answer breaks a row of the model", solver="clarabel", version=version)
        solver = "clarabel-projected"  # said in the explanation: within about the violation of the fair optimum
    return qp.optimum(v, y * (c / R), solver=solver, version=version)


def _clarabel(qp: QPArrays, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | str:
    """(v, row duals, column-bound duals) from Clarabel, or a status string (infeasible, error)."""
    import clarabel
    import scipy.sparse as sp

    A, lb, ub = qp.A, qp.lb, qp.ub
    m, n = A.shape
    fixed = lb >= ub
    free = np.flatnonzero(~fixed)
    v = np.zeros(n)
    v[fixed] = lb[fixed]
    shift = A[:, np.flatnonzero(fixed)] @ v[fixed] if fixed.any() else np.zeros(m)
    lo_r, hi_r = qp.rlo - shift, qp.rhi - shift
    row_dual = np.zeros(m)
    col_dual = np.zeros(n)
    k = free.size
    if k == 0:  # every column fixed: the rows either hold or not
        tol_r = 1e-9 * np.maximum(1.0, np.abs(shift))
        if ((lo_r > tol_r) | (hi_r < -tol_r)).any():
            return "infeasible"
        return v, row_dual, col_dual
    Af = A[:, free].tocsr()
    eq = lo_r == hi_r
    up = ~eq & np.isfinite(hi_r)
    dn = ~eq & np.isfinite(lo_r)
    lbf, ubf = lb[free], ub[free]
    cu, cl = np.flatnonzero(np.isfinite(ubf)), np.flatnonzero(np.isfinite(lbf))
    eye = sp.identity(k, format="csr")
    rhs = np.concatenate([hi_r[eq], hi_r[up], -lo_r[dn], ubf[cu], -lbf[cl]])
    Ac = sp.vstack([Af[eq], Af[up], -Af[dn], eye[cu], -eye[cl]]).tocsc() if rhs.size else sp.csc_matrix((0, k))
    n_eq = int(eq.sum())
    cones = []
    if n_eq:
        cones.append(clarabel.ZeroConeT(n_eq))
    if rhs.size - n_eq:
        cones.append(clarabel.NonnegativeConeT(rhs.size - n_eq))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_feas = tol
    settings.tol_gap_abs = tol
    settings.tol_gap_rel = tol
    settings.max_iter = 200
    result = clarabel.DefaultSolver(sp.diags(qp.quad[free]).tocsc(), qp.cost[free], Ac, rhs, cones, settings).solve()
    status = str(result.status)
    if status in ("PrimalInfeasible", "AlmostPrimalInfeasible"):
        return "infeasible"
    if status not in ("Solved", "AlmostSolved", "InsufficientProgress", "MaxIterations"):
        return f"error: Clarabel {status}"
    # InsufficientProgress / MaxIterations: the point is kept for polishing; the caller accepts it
    # only if the polished point satisfies every row and bound (checked in solve_qp)
    v[free] = np.asarray(result.x, float)
    z = np.asarray(result.z, float)
    # duals in HiGHS's convention: d(objective)/d(active bound)
    pos = 0
    for mask, sign in ((eq, -1.0), (up, -1.0), (dn, 1.0)):
        cnt = int(mask.sum())
        row_dual[mask] += sign * z[pos: pos + cnt]
        pos += cnt
    zu, zl = z[pos: pos + cu.size], z[pos + cu.size:]
    col_dual[free[cu]] -= zu
    col_dual[free[cl]] += zl
    return v, row_dual, col_dual


def kkt_violation(qp: QPArrays, v: np.ndarray, row_dual: np.ndarray, *, own_size: bool = True) -> tuple[float, float]:
    """(primal, dual) violation of the optimality conditions, relative to the model's scale:
    rows and bounds hold; each row's multiplier has the sign of its active side (zero if the row
    is slack); the reduced gradient ∇f − Aᵀy pushes every column against its active bound.

    ``own_size``: each row and bound is measured at its own size (its limit, or its terms' when they
    are larger), at most the model's — right for a solver's answer on its own model: against the
    model's largest limit alone, a 1-đồng budget spent on cells whose stability band is [0, 0]
    passed for feasible beside an absorption cap of 10⁸ đ. False: at the model's scale, the measure
    the reduced models' rounds test left-out rows with (:mod:`budgetlib.allocator._reduce`); their
    final check measured per row refused answers the rounds had accepted — a row broken by 1,1·10⁻⁶
    of its size, 4,3·10⁻¹¹ of the model's, sent a 30 000-commune plan to the whole model (4 → 130 s)."""
    s = qp.scale()
    act = qp.A @ v
    if own_size:
        terms = qp.abs_A @ np.abs(v)
        row_size = np.minimum(s, np.maximum.reduce([np.ones_like(act), np.where(np.isfinite(qp.rlo), np.abs(qp.rlo), 0.0),
                                                    np.where(np.isfinite(qp.rhi), np.abs(qp.rhi), 0.0), terms]))
        col_size = np.minimum(s, np.maximum.reduce([np.ones_like(v), np.where(np.isfinite(qp.lb), np.abs(qp.lb), 0.0),
                                                    np.where(np.isfinite(qp.ub), np.abs(qp.ub), 0.0), np.abs(v)]))
    else:
        row_size, col_size = np.full_like(act, s), np.full_like(v, s)
    primal = max(float(np.max((qp.rlo - act) / row_size, initial=0.0)), float(np.max((act - qp.rhi) / row_size, initial=0.0)),
                 float(np.max((qp.lb - v) / col_size, initial=0.0)), float(np.max((v - qp.ub) / col_size, initial=0.0)))
    near = 1e-7 * s
    at_lo = act <= qp.rlo + near
    at_hi = act >= qp.rhi - near
    # HiGHS convention: a binding upper side has row_dual ≤ 0, a binding lower side ≥ 0
    bad = np.where(at_lo & at_hi, 0.0, np.where(at_hi, np.maximum(row_dual, 0.0), np.where(at_lo, np.maximum(-row_dual, 0.0), np.abs(row_dual))))
    g = qp.quad * v + qp.cost - qp.A.T @ row_dual
    c_lo = v <= qp.lb + near
    c_hi = v >= qp.ub - near
    badc = np.where(c_lo & c_hi, 0.0, np.where(c_hi, np.maximum(g, 0.0), np.where(c_lo, np.maximum(-g, 0.0), np.abs(g))))
    gs = max(1.0, float(np.max(np.abs(qp.cost), initial=0.0)), float(np.max(np.abs(qp.quad * v), initial=0.0)))
    dual = max(float(np.max(bad, initial=0.0)), float(np.max(badc, initial=0.0))) / gs
    return primal, dual


def polish(qp: QPArrays, v: np.ndarray, row_dual: np.ndarray, col_dual: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact optimum of the active set that the approximate answer ``v`` (with its duals) points
    to, corrected by primal-dual active-set steps; None when no step verifies (keep ``v``).

    Active set: a row side or column bound whose multiplier exceeds its slack. The equality-
    constrained QP over it is one sparse symmetric system (its optimality conditions); a side whose
    multiplier comes out with the wrong sign is released, a violated side is added, until the
    conditions hold or :data:`POLISH_STEPS` corrections fail.
    """
    A, lb, ub, rlo, rhi = qp.A, qp.lb, qp.ub, qp.rlo, qp.rhi
    s = qp.scale()
    act = A @ v
    # +1: upper side active, −1: lower side, 0: free (rows); the same for column bounds
    eq = rlo == rhi
    row_side = np.where(eq, 1, np.where(-row_dual > np.maximum(rhi - act, 0.0), 1, np.where(row_dual > np.maximum(act - rlo, 0.0), -1, 0)))
    row_side = np.where(eq | np.isfinite(np.where(row_side > 0, rhi, np.where(row_side < 0, rlo, 0.0))), row_side, 0)
    fixed = lb >= ub
    col_side = np.where(fixed, 1, np.where(-col_dual > np.maximum(ub - v, 0.0), 1, np.where(col_dual > np.maximum(v - lb, 0.0), -1, 0)))
    col_side = np.where(fixed | np.isfinite(np.where(col_side > 0, ub, np.where(col_side < 0, lb, 0.0))), col_side, 0)
    best: tuple[np.ndarray, np.ndarray] | None = None
    best_f = np.inf
    base = qp.objective(v)
    for _ in range(POLISH_STEPS):
        got = _solve_active(qp, row_side, col_side, v)
        if got is None:
            return best
        v2, y2 = got
        primal, dual = kkt_violation(qp, v2, y2)
        f2 = qp.objective(v2)
        if primal <= 1e-10 and dual <= 1e-7 and f2 <= base + 1e-9 * max(1.0, abs(base)):
            return v2, y2
        if primal <= 1e-10 and dual > 1e-7:
            y3 = _signed_multipliers(qp, v2, row_side, col_side)
            if y3 is not None and kkt_violation(qp, v2, y3)[1] <= 1e-7:
                return v2, y3
        if primal <= 1e-10 and f2 <= base + 1e-7 * max(1.0, abs(base)) and (best is None or f2 < best_f):
            # feasible and no worse than the interior-point answer (so, by strong convexity, at
            # least as close to the optimum): a degenerate active set (a cell bound and a row on the
            # same cell both active) splits the multipliers arbitrarily, so its duals fail the sign
            # check; keep this point with the interior-point duals
            best, best_f = (v2, row_dual), f2
        # primal-dual active-set step: release wrong-signed sides, add violated ones
        a2 = A @ v2
        g = qp.quad * v2 + qp.cost - A.T @ y2
        new_row = row_side.copy()
        new_row[(row_side > 0) & ~eq & (y2 > 0)] = 0
        new_row[(row_side < 0) & ~eq & (y2 < 0)] = 0
        new_row[a2 > rhi + 1e-12 * s] = 1
        new_row[a2 < rlo - 1e-12 * s] = -1
        new_col = col_side.copy()
        new_col[(col_side > 0) & ~fixed & (g > 0)] = 0
        new_col[(col_side < 0) & ~fixed & (g < 0)] = 0
        new_col[v2 > ub + 1e-12 * s] = 1
        new_col[v2 < lb - 1e-12 * s] = -1
        if (new_row == row_side).all() and (new_col == col_side).all():
            return best
        row_side, col_side = new_row, new_col
    return best


def _signed_multipliers(qp: QPArrays, v: np.ndarray, row_side: np.ndarray, col_side: np.ndarray) -> np.ndarray | None:
    """Row multipliers with the signs of their active sides that satisfy the optimality conditions
    at ``v``, when the active set is degenerate (a cell bound and a row on the same cell, or more
    active sides than free directions): the equality-constrained system then splits the multipliers
    arbitrarily, and a split with the right signs is found by bounded least squares
    ∇f = Aᵀ_R y + g_C (y ≤ 0 on upper sides, ≥ 0 on lower sides, free on equalities; the same for
    the reduced costs g of columns at a bound). None if the system is too large or has no such
    split."""
    import scipy.sparse as sp
    from scipy.optimize import lsq_linear

    m, n = qp.A.shape
    R = np.flatnonzero(row_side != 0)
    C = np.flatnonzero(col_side != 0)
    if R.size + C.size > DEGENERATE_MAX_SIDES or R.size + C.size == 0:
        return None
    eq = qp.rlo[R] == qp.rhi[R]
    fixed = qp.lb[C] >= qp.ub[C]
    M = sp.hstack([qp.A[R].T, sp.identity(n, format="csr")[C].T]).tocsr()
    lo = np.concatenate([np.where(eq, -np.inf, np.where(row_side[R] > 0, -np.inf, 0.0)),
                         np.where(fixed, -np.inf, np.where(col_side[C] > 0, -np.inf, 0.0))])
    hi = np.concatenate([np.where(eq, np.inf, np.where(row_side[R] > 0, 0.0, np.inf)),
                         np.where(fixed, np.inf, np.where(col_side[C] > 0, 0.0, np.inf))])
    grad = qp.quad * v + qp.cost
    try:
        if M.shape[0] * M.shape[1] <= DENSE_MULTIPLIER_CELLS:  # small: exact, dense, ~100× faster than trf+lsmr here
            got = lsq_linear(M.toarray(), grad, bounds=(lo, hi), method="bvls", tol=1e-14, max_iter=2000)
        else:
            got = lsq_linear(M, grad, bounds=(lo, hi), method="trf", tol=1e-14, lsmr_tol="auto", max_iter=200)
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - a degenerate system scipy rejects
        return None
    y = np.zeros(m)
    y[R] = got.x[:R.size]
    return y


DEGENERATE_MAX_SIDES = 20_000
"""Bounded least squares for degenerate multipliers only up to this many active sides."""
DENSE_MULTIPLIER_CELLS = 250_000
"""Up to this many matrix entries (columns × active sides) the bounded least squares is solved
densely by BVLS (an exact active-set method)."""


def _solve_active(qp: QPArrays, row_side: np.ndarray, col_side: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Solve min ½ Σ quad·v² + cost·v with the active row sides and column bounds as equalities:
    [P_FF  A_RFᵀ; A_RF  0] [v_F; y] = [−q_F; t_R − A_R,B v_B] (F free columns, B at a bound, R
    active rows), by a sparse LU with a tiny regularisation and iterative refinement. Linear
    columns (no quadratic term: target counts, response-curve segments) are often free to move
    along a face of the optimum; a tiny proximal term ties them to ``anchor`` (the interior-point
    answer) so that the system is regular. Returns (v, row duals in HiGHS's convention) or None
    when the system is singular."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    A = qp.A
    m, n = A.shape
    v = np.zeros(n)
    at = col_side != 0
    v[col_side > 0] = qp.ub[col_side > 0]
    v[col_side < 0] = qp.lb[col_side < 0]
    F = np.flatnonzero(~at)
    R = np.flatnonzero(row_side != 0)
    t = np.where(row_side[R] > 0, qp.rhi[R], qp.rlo[R])
    AR = A[R]
    ARF = AR[:, F].tocsc()
    rhs_r = t - AR[:, np.flatnonzero(at)] @ v[at] if at.any() else t
    pF = qp.quad[F]
    nF, nR = F.size, R.size
    if nF == 0:
        if nR and np.abs(rhs_r).max() > 1e-9 * qp.scale():
            return None
        return v, np.zeros(m)
    top = max(1.0, float(pF.max(initial=0.0)))
    prox = np.where(pF > 0, 0.0, 1e-9 * top)
    qF = qp.cost[F] - prox * anchor[F]
    eps = 1e-13 * top
    K = sp.bmat([[sp.diags(pF + prox + eps), ARF.T], [ARF, sp.diags(np.full(nR, -eps))]], format="csc")
    K0 = sp.bmat([[sp.diags(pF + prox), ARF.T], [ARF, None]], format="csc") if nR else sp.diags(pF + prox).tocsc()
    b = np.concatenate([-qF, rhs_r])
    try:
        lu = spla.splu(K)
    except RuntimeError:  # exactly singular
        return None
    sol = lu.solve(b)
    for _ in range(3):  # iterative refinement against the unregularised system
        res = b - K0 @ sol
        if not np.isfinite(res).all():
            return None
        sol = sol + lu.solve(res)
    if not np.isfinite(sol).all():
        return None
    v[F] = sol[:nF]
    y = np.zeros(m)
    y[R] = -sol[nF:]  # ∇f + Aᵀλ = 0 with λ = −(d objective / d bound)
    return v, y


HIGHS_QP_MAX_COLUMNS = 3_000
"""HiGHS's active-set QP solver is the last resort only for models up to this many columns (it
took minutes on 10⁴ cells)."""


HIGHS_QP_CHECK_ITERATIONS = 20_000
"""Effort limit of HiGHS's QP when it only replaces an interior-point answer that did not verify:
a count of active-set iterations, not seconds, so that the same plan takes the same path on a busy
machine (a wall-clock limit made results depend on the load)."""
HIGHS_QP_HANG_GUARD_SECONDS = 600.0


def solve_qp_highs(lp: LP, *, iteration_limit: int | None = None, salvage: bool = False) -> Solution:
    """The same QP by HiGHS's active-set solver (exact, slow on large models)."""
    import highspy

    from ._lp import _highs_lp, _read_highs, new_highs

    h = new_highs()
    h.setOptionValue("random_seed", 0)
    if iteration_limit is not None:
        h.setOptionValue("qp_iteration_limit", int(iteration_limit))
        h.setOptionValue("time_limit", HIGHS_QP_HANG_GUARD_SECONDS)
    if h.passModel(_highs_lp(lp, True)) == highspy.HighsStatus.kError:  # pragma: no cover - a programmer error
        return Solution("error: HiGHS rejected the QP", solver="highspy-qp")
    quad = lp.quad_array()
    lb, ub = (np.concatenate(x) if x else np.zeros(0) for x in (lp.lb, lp.ub))
    quad = np.where(lb >= ub, 0.0, quad)  # a fixed column's term is a constant; its weight may be huge
    nz = np.flatnonzero(quad)
    start = np.zeros(lp.n_cols + 1, np.int32)
    np.cumsum(quad != 0, out=start[1:])
    h.passHessian(lp.n_cols, int(nz.size), highspy.HessianFormat.kTriangular, start, nz.astype(np.int32), quad[nz])
    h.run()
    got = _read_highs(h, lp, ranging=False, iis=False, solver="highspy-qp")
    sol = h.getSolution()
    if salvage and h.getModelStatus() == highspy.HighsModelStatus.kSolveError and len(sol.col_value) == lp.n_cols \
            and len(sol.row_dual) == lp.n_rows and np.isfinite(sol.col_value).all():
        # "claims optimality, but with primal infeasibilities" (HiGHS marks the point invalid but
        # keeps it): the point and its duals are kept for polishing, which usually makes them an
        # exact optimum (the caller accepts only a verified one)
        return Solution("unverified", float("nan"), np.asarray(sol.col_value, float), np.asarray(sol.col_dual, float),
                        np.asarray(sol.row_value, float), np.asarray(sol.row_dual, float), solver="highspy-qp", version=got.version)
    return got


PROJECT_MAX_VIOLATION = 1e-4
"""An interior-point answer that misses a row by at most this share of the model's scale is
projected onto the rows; a larger miss is not an answer."""


def solve_l1(lp: LP, *, anchor: np.ndarray | None = None) -> Solution:
    """The last resort for a fair stage no QP solver resolves (budgets 10¹⁰ apart in one model: a
    year of 7 đ beside one of 300 tỷ): HiGHS's simplex on the weighted L1 version of the same
    objective, min Σ quad_j·|v_j − v₀_j| + the linear costs (v₀ = −cost/quad, the reference share),
    over the same rows and bounds. Feasible whenever the rows are, and exact, but its optimum may
    not be unique; ``solver`` says ``highspy-l1`` so the explanation can say so. With ``anchor``
    (a point), the feasible point nearest it in the same distance (a projection)."""
    from ._lp import solve_highspy

    quad = lp.quad_array()
    cost = np.concatenate(lp.cost) if lp.cost else np.zeros(0)
    q = np.flatnonzero(quad > 0)
    v0 = -cost[q] / quad[q] if anchor is None else np.asarray(anchor, float)[q]
    l1 = lp.with_objective(np.where(quad > 0, 0.0, cost))
    k = q.size
    if k:
        e = l1.add_vars(k, 0.0, np.inf, quad[q])
        # e ≥ v − v₀ and e ≥ v₀ − v
        rows = np.concatenate([np.arange(k), np.arange(k), np.arange(k, 2 * k), np.arange(k, 2 * k)])
        cols = np.concatenate([e, q, e, q])
        vals = np.concatenate([np.ones(k), -np.ones(k), np.ones(k), np.ones(k)])
        l1.add_rows(np.concatenate([-v0, v0]), np.full(2 * k, np.inf), rows, cols, vals, -1)
    sol = solve_highspy(l1)
    if sol.status != "optimal" or sol.col_value is None:
        return Solution(sol.status, solver="highspy-l1", version=sol.version)
    n, m = lp.n_cols, lp.n_rows
    v = np.asarray(sol.col_value, float)[:n]
    cut = lambda a, size: None if a is None else np.asarray(a, float)[:size]  # noqa: E731
    return Solution("optimal", float(0.5 * quad @ (v * v) + cost @ v), v, cut(sol.col_dual, n), cut(sol.row_value, m),
                    cut(sol.row_dual, m), None, None, solver="highspy-l1", version=sol.version)


HIGHS_QP_FIRST_COLUMNS = 1_500
"""Up to this many columns the fair stage is solved by HiGHS's exact active-set QP first: on the
models of an ordinary provincial plan it is faster than the interior point (118 against 327 ms on
Hải Phòng's 495 columns, 2,7 against 17 ms on Quảng Bình's 96) and exact on every block, where an
interior-point answer is accurate only relative to the largest budget (a year of 143 đ beside one
of 70 triệu came out 11 đ off)."""


REDUCE_MIN_COLUMNS = HIGHS_QP_FIRST_COLUMNS
"""Fair stages with more columns than this are first solved on reduced models (:mod:`._reduce`);
the models of an ordinary provincial plan are solved whole, as before."""


def solve_fair_qp(lp: LP) -> Solution:
    """The fair stage: HiGHS's exact QP on small models (iteration-bounded; kept only when it
    reports an optimum that satisfies every row and bound); on large ones, the reduced models of
    :mod:`._reduce` (the rows that bind and the cells they move), else Clarabel with polishing on
    the whole model."""
    from ._reduce import solve_reduced

    if lp.n_cols > REDUCE_MIN_COLUMNS:
        got = solve_reduced(QPArrays.of(lp), _solve_fair_whole)
        if got is not None:
            return got
        return _solve_fair_whole(lp)
    whole = _solve_fair_whole(lp)
    qp = QPArrays.of(lp)
    if whole.status != "optimal" or whole.col_value is None or whole.row_dual is None \
            or _verified(qp, np.asarray(whole.col_value, float), np.asarray(whole.row_dual, float)):
        return whole
    # Not verified optimal: HiGHS's QP reported an optimum whose reduced gradient is off by the
    # objective's own scale (random plan 7 127: a task-year of 300 tỷ beside ones of millions, flat
    # χ² weights of 10⁻⁹ beside response-curve segments; 15 % above the optimum), and Clarabel
    # did not converge. The reduced models (:mod:`._reduce`: the rows that bind, the cells they
    # move) are smaller and better scaled; their answer is verified on this whole model.
    reduced = solve_reduced(qp, _solve_fair_whole, max_share=np.inf)
    if reduced is not None and reduced.status == "optimal" and reduced.col_value is not None \
            and qp.objective(np.asarray(reduced.col_value, float)) <= qp.objective(np.asarray(whole.col_value, float)):
        return reduced
    return whole


def _verified(qp: QPArrays, v: np.ndarray, y: np.ndarray) -> bool:
    """The optimality conditions hold (rows and bounds to 10⁻¹⁰ of their size, multipliers to 10⁻⁷)."""
    primal, dual = kkt_violation(qp, v, y)
    return primal <= 1e-10 and dual <= 1e-7


def _solve_fair_whole(lp: LP) -> Solution:
    """The fair stage on the whole model, its fixed columns substituted out first (below)."""
    qp = QPArrays.of(lp)
    fixed = qp.lb >= qp.ub
    if not fixed.any() or fixed.all():
        return _solve_fair_free(lp)
    # Fixed columns (ineligible, unfunded, earmarked cells) only shift row bounds, but their χ²
    # weights 1/r are the model's largest (r ≈ 0): in HiGHS's Hessian they set the tolerances, and
    # with one ineligible unit added HiGHS stopped 10⁻⁴ off and the answer went to Clarabel, 15 953 đ
    # from the optimum it found without that unit (test_known_max_outcome_fair_stage_off_…). The
    # model without them is the same model for every other unit — "independence of ineligible
    # units" by construction.
    keep = np.flatnonzero(~fixed)
    base = np.where(fixed, qp.lb, 0.0)
    shift = qp.A @ base
    A_free = qp.A[:, keep].tocsr()
    live = np.diff(A_free.indptr) > 0
    s = qp.scale()
    dead_lo, dead_hi = qp.rlo[~live] - shift[~live], qp.rhi[~live] - shift[~live]
    if (dead_lo > 1e-9 * s).any() or (dead_hi < -1e-9 * s).any():
        return Solution("infeasible", solver="highspy-qp")
    rows = np.flatnonzero(live)
    sub = QPArrays(A_free[rows], qp.lb[keep], qp.ub[keep], qp.rlo[rows] - shift[rows], qp.rhi[rows] - shift[rows],
                   qp.quad[keep], qp.cost[keep])
    got = _solve_fair_free(_lp_of(sub))
    if got.status != "optimal" or got.col_value is None or got.row_dual is None:
        return got
    v = base.copy()
    v[keep] = np.asarray(got.col_value, float)
    y = np.zeros(qp.A.shape[0])
    y[rows] = np.asarray(got.row_dual, float)
    return qp.optimum(v, y, solver=got.solver, version=got.version)


def _solve_fair_free(lp: LP) -> Solution:
    if lp.n_cols <= HIGHS_QP_FIRST_COLUMNS:
        qp = QPArrays.of(lp)
        got = solve_qp_highs(lp, iteration_limit=HIGHS_QP_CHECK_ITERATIONS, salvage=True)
        if got.status in ("optimal", "unverified") and got.col_value is not None and got.row_dual is not None and got.col_dual is not None:
            # HiGHS stops within its tolerances (220 đ off on 2 200 triệu): polished to the exact
            # optimum of its active set like the interior-point answer
            polished = polish(qp, np.asarray(got.col_value, float), np.asarray(got.row_dual, float), np.asarray(got.col_dual, float))
            if polished is not None:
                v, y = polished
                v = np.clip(v, qp.lb, qp.ub)
                if _verified(qp, v, y):
                    return qp.optimum(v, y, solver="highspy-qp", version=got.version)
        scaled = _highs_on_scaled(qp)
        if scaled is not None:
            return scaled
    return solve_qp(lp)


def _lp_of(qp: QPArrays) -> LP:
    lp = LP()
    lp.add_vars(qp.quad.size, qp.lb, qp.ub, qp.cost, qp.quad)
    coo = qp.A.tocoo()
    lp.add_rows(qp.rlo, qp.rhi, coo.row, coo.col, coo.data, 0)
    return lp


def _highs_on_scaled(qp: QPArrays) -> Solution | None:
    """HiGHS's QP on the model recentred and rescaled as for Clarabel (:func:`_scaled`), polished
    there, accepted when it verifies on the original model; None otherwise. HiGHS's tolerances are
    absolute: a block whose budget is 1 đ beside one of 11,6 million đ sat inside them, its answer
    was 10⁻⁴ off the 1-đồng rows and no active-set step recovered — in the rescaled model every
    block is of unit size."""
    scaled = _scaled(qp)
    sq = scaled.sq
    got = solve_qp_highs(_lp_of(sq), iteration_limit=HIGHS_QP_CHECK_ITERATIONS, salvage=True)
    if got.status not in ("optimal", "unverified") or got.col_value is None or got.row_dual is None or got.col_dual is None:
        return None
    u, ys = np.asarray(got.col_value, float), np.asarray(got.row_dual, float)
    polished = polish(sq, u, ys, np.asarray(got.col_dual, float))
    if polished is not None:
        u, ys = polished
    v = np.clip(scaled.v0 + u * scaled.D, qp.lb, qp.ub)
    y = ys * (scaled.c / scaled.R)
    if not _verified(qp, v, y):
        return None
    return qp.optimum(v, y, solver="highspy-qp", version=got.version)

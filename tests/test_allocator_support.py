"""Support for the allocator tests (no tests here): small random plans, and an independent LP written from docs/allocation.md."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from budgetlib import (
    AbsorptionConstraint,
    AdminUnit,
    Agency,
    AllocationPolicy,
    BudgetLine,
    CapConstraint,
    EligibilityConstraint,
    FloorConstraint,
    FundingSource,
    Plan,
    Program,
    ResponseCurve,
    ResponseSegment,
    StabilityConstraint,
    Target,
    TargetConstraint,
    Task,
    TaskRole,
)

M = 1e6


def make_plan(seed: int, *, U=4, T=2, Y=2, S=2, kind="min_deviation", deviation="absolute", coupling=False, curves=False,
              eligibility=False, rounding_unit=1) -> Plan:
    rng = np.random.default_rng(seed)
    years = list(range(2021, 2021 + Y))
    units = [
        AdminUnit(code=f"U{u}", name=f"Huyện {u}", kind="Huyện", parent="P",
                  attributes={"population": float(rng.integers(1, 100)) * 1000, "communes": float(rng.integers(5, 20)),
                              "healthy_communes": float(rng.integers(0, 5)), "border": float(u % 2)})
        for u in range(U)
    ]
    tasks = [Task(code=f"T{t}", name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="A", role="lead")],
                  need={"terms": {"population": 1.0, "communes": float(rng.integers(0, 3000))}}) for t in range(T)]
    sources = [FundingSource(code=f"S{s}", name=f"Nguồn {s}") for s in range(S)]
    lines = []
    for t in range(T):
        base = rng.integers(50, 500, S)
        for y in years:
            factor = 1 + rng.uniform(-0.1, 0.1)  # mild year-to-year change, so stability can hold
            for s in range(S):
                lines.append(BudgetLine(task=f"T{t}", agency="A", year=y, source=f"S{s}", amount=int(base[s] * factor * 1_000_000) + int(rng.integers(0, 1000))))
    B = {}
    for ln in lines:
        B[(ln.task, ln.year)] = B.get((ln.task, ln.year), 0) + ln.amount
    min_b = min(B.values())
    cons = [
        FloorConstraint(name="Sàn mỗi huyện", amount=int(min_b / U * float(rng.uniform(0.1, 0.6)))),
        CapConstraint(name="Trần theo tỷ lệ ngân sách", share_of_budget=float(rng.uniform(1.3, 2.5)) / U),
    ]
    if eligibility:
        cons.append(EligibilityConstraint(name="Chỉ huyện biên giới", tasks=["T0"], attribute="border", op=">", value=0))
    targets = []
    if coupling:
        w = np.array([[t.need.terms["communes"] * u.attributes["communes"] + u.attributes["population"] for u in units] for t in tasks])
        share = w / w.sum(axis=1, keepdims=True)
        peak = max(sum(B[(f"T{t}", y)] * share[t, u] for t in range(T)) for u in range(U) for y in years)
        cons.append(AbsorptionConstraint(name="Hấp thụ", amount=int(peak * float(rng.uniform(0.85, 1.5)))))
        cons.append(StabilityConstraint(name="Ổn định", max_change=float(rng.uniform(0.2, 0.6))))
        targets.append(Target(code="CT", name="Xã lành mạnh", baseline=0, values={years[-1]: 5}, task="T0"))
        cons.append(TargetConstraint(name="Chỉ tiêu xã", target="CT", task="T0", unit_cost=int(rng.integers(5, 60)) * 1_000_000,
                                     required=float(rng.integers(1, 20))))
    rc = []
    if curves:
        rc = [ResponseCurve(task="T0", outcome="người", segments=[ResponseSegment(width=0.8, outcome_per_million=5.0),
                                                                  ResponseSegment(width=0.5, outcome_per_million=2.0),
                                                                  ResponseSegment(outcome_per_million=0.5)])]
        if T > 1:
            rc.append(ResponseCurve(task="T1", outcome="người", segments=[ResponseSegment(width=1.0, outcome_per_million=3.0)]))
    policy = AllocationPolicy(kind=kind, deviation=deviation, constraints=cons, response_curves=rc, rounding_unit=rounding_unit)
    return Plan(
        program=Program(code="TEST", name="Kế hoạch thử", authority="UBND", first_year=years[0], last_year=years[-1], total=sum(x.amount for x in lines)),
        units=units, agencies=[Agency(code="A", name="Sở")], tasks=tasks, sources=sources, targets=targets, budget_lines=lines, allocation=policy,
    )


def arrays(plan: Plan):
    """B[t,y], p[t,y,u], lo, hi, eligibility straight from the definitions in docs/allocation.md."""
    pol = plan.allocation
    units, tasks, years = plan.units, plan.tasks, plan.program.years
    U, T, Y = len(units), len(tasks), len(years)
    B = np.zeros((T, Y))
    for ln in plan.budget_lines:
        B[int(ln.task[1:]), years.index(ln.year)] += ln.amount
    w = np.array([[t.need.constant + sum(c * u.attributes[a] for a, c in t.need.terms.items()) for u in units] for t in tasks])
    p = B[:, :, None] * (w / w.sum(axis=1, keepdims=True))[:, None, :]
    lo = np.zeros((T, Y, U))
    hi = np.full((T, Y, U), np.inf)
    for c in pol.constraints:
        if isinstance(c, FloorConstraint):
            lo = np.maximum(lo, c.amount)
        elif isinstance(c, CapConstraint):
            hi = np.minimum(hi, c.share_of_budget * B[:, :, None])
        elif isinstance(c, EligibilityConstraint):
            for u, unit in enumerate(units):
                if not unit.attributes[c.attribute] > c.value:
                    hi[0, :, u] = 0.0
                    lo[0, :, u] = 0.0  # eligibility takes precedence over floors
    return B, p, lo, hi


class Oracle:
    """linprog(method="highs") on the textbook formulation; money in triệu."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.B, self.p, self.lo, self.hi = arrays(plan)
        self.ref = reference(plan)  # deviations, coverage and curve widths are relative to it
        T, Y, U = self.p.shape
        self.shape = (T, Y, U)
        self.n = T * Y * U
        self.extra = 0  # extra columns after x
        self.rows_ub, self.b_ub, self.rows_eq, self.b_eq = [], [], [], []

    def idx(self, t, y, u):
        _T, Y, U = self.shape
        return (t * Y + y) * U + u

    def base_rows(self, ncols):
        T, Y, U = self.shape
        A_eq, b_eq, A_ub, b_ub = [], [], [], []
        for t in range(T):
            for y in range(Y):
                r = np.zeros(ncols)
                for u in range(U):
                    r[self.idx(t, y, u)] = 1
                A_eq.append(r)
                b_eq.append(self.B[t, y] / M)
        pol = self.plan.allocation
        for c in pol.constraints:
            if isinstance(c, AbsorptionConstraint):
                for u in range(U):
                    for y in range(Y):
                        r = np.zeros(ncols)
                        for t in range(T):
                            r[self.idx(t, y, u)] = 1
                        A_ub.append(r)
                        b_ub.append(c.amount / M)
            elif isinstance(c, StabilityConstraint):
                d = c.max_change
                for t in range(T):
                    for u in range(U):
                        for y in range(1, Y):
                            r = np.zeros(ncols)
                            r[self.idx(t, y, u)] = 1
                            r[self.idx(t, y - 1, u)] = -(1 + d)
                            A_ub.append(r)
                            b_ub.append(0)
                            r = np.zeros(ncols)
                            r[self.idx(t, y, u)] = -1
                            r[self.idx(t, y - 1, u)] = 1 - d
                            A_ub.append(r)
                            b_ub.append(0)
        return A_eq, b_eq, A_ub, b_ub

    def target_block(self, ncols, start):
        """c[u] columns at ``start``; returns rows and bounds."""
        _T, Y, U = self.shape
        pol = self.plan.allocation
        A_ub, b_ub, bounds = [], [], []
        for c in pol.constraints:
            if isinstance(c, TargetConstraint):
                units = self.plan.units
                capa = [max(0.0, u.attributes[c.capacity_attribute] - u.attributes[c.baseline_attribute]) for u in units]
                t = int(c.task[1:])
                for u in range(U):
                    r = np.zeros(ncols)
                    r[start + u] = c.unit_cost / M
                    for y in range(Y):
                        r[self.idx(t, y, u)] = -1
                    A_ub.append(r)
                    b_ub.append(0)
                r = np.zeros(ncols)
                r[start:start + U] = -1
                A_ub.append(r)
                b_ub.append(-c.required)
                bounds = [(0, cp) for cp in capa]
        return A_ub, b_ub, bounds

    def n_target_cols(self):
        return len(self.plan.units) if any(isinstance(c, TargetConstraint) for c in self.plan.allocation.constraints) else 0

    def x_bounds(self):
        return [(lo / M, None if np.isinf(hi) else hi / M) for lo, hi in zip(self.lo.ravel(), self.hi.ravel())]

    # -- the fair final stage (docs/allocation.md): ½ Σ ω (x − r)² over the movable cells, by SLSQP --
    def weights(self, relative):
        """ω per cell, per triệu: 1/r̃ with r̃ = max(r, 10⁻⁶ × the largest r of the task-year), or 1."""
        r = self.ref / M
        if not relative:
            return np.ones(self.n)
        top = r.max(axis=2, keepdims=True)
        return (1.0 / np.maximum(r, np.where(top > 0, 1e-6 * top, 1.0))).ravel()

    def movable(self):
        return (self.hi.ravel() > self.lo.ravel()) & (np.repeat(self.B.ravel(), self.shape[2]) > 0)

    def fair(self, ncols, A_eq, b_eq, A_ub, b_ub, bounds, relative):
        """x (đồng, [T, Y, U]) minimising the fair objective over the given constraints, or None if
        they are infeasible: HiGHS's active-set QP solver (exact; the allocator uses Clarabel and its
        own polishing) on the dense textbook matrices built here."""
        import highspy

        n = self.n
        rows = np.array(list(A_eq) + list(A_ub)) if (A_eq or A_ub) else np.zeros((0, ncols))
        inf = highspy.kHighsInf
        # in deviations from the reference share (δ = x − r): the objective ½ Σ ω δ² has no linear
        # term, whose size next to the curvature would cost the solver its accuracy
        shift = np.zeros(ncols)
        shift[:n] = self.ref.ravel() / M
        moved = rows @ shift
        lo = np.concatenate([np.array(b_eq, float), np.full(len(b_ub), -np.inf)]) - moved
        hi = np.concatenate([np.array(b_eq, float), np.array(b_ub, float)]) - moved
        w = np.zeros(ncols)
        w[:n] = self.weights(relative) * self.movable()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        lb = np.array([b[0] if b[0] is not None else -np.inf for b in bounds], float) - shift
        ub = np.array([b[1] if b[1] is not None else np.inf for b in bounds], float) - shift
        fin = lambda a: np.where(np.isfinite(a), a, np.where(np.asarray(a) > 0, inf, -inf))  # noqa: E731
        h.addVars(ncols, fin(lb), fin(ub))
        for i in range(rows.shape[0]):
            nz = np.flatnonzero(rows[i])
            h.addRow(float(fin(lo[i])), float(fin(hi[i])), nz.size, nz.astype(np.int32), rows[i, nz])
        for attempt in range(2):
            # HiGHS's QP solver occasionally stops with "solve error" on a Hessian that is zero on some
            # columns (targets' counts, the coverage column); a curvature of 10⁻⁹ on them (which moves
            # the amounts by a negligible share) lets it through
            q = w if attempt == 0 else np.where(w > 0, w, 1e-9 * max(1.0, float(w.max())))
            nzq = np.flatnonzero(q)
            start = np.zeros(ncols + 1, np.int32)
            np.cumsum(q != 0, out=start[1:])
            h.passHessian(ncols, int(nzq.size), highspy.HessianFormat.kTriangular, start, nzq.astype(np.int32), q[nzq])
            h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kSolveError:
                break
        if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return None
        if status == highspy.HighsModelStatus.kOptimal:
            v = np.asarray(h.getSolution().col_value, float) + shift
        else:  # HiGHS's QP solver stops at its first iteration on about 2 % of these models: SLSQP
            v = _slsqp(rows, lo, hi, lb, ub, w) + shift
        return (v[:n] * M).reshape(self.shape)

    def equivalent_deviation(self, x, relative):
        """√(K·Σ ω(x − r)²) in đồng (K = Σ r over movable cells, or their number)."""
        mov = self.movable()
        d = (x.ravel() - self.ref.ravel())[mov]
        w = self.weights(relative)[mov] / (M if relative else 1.0)  # per đồng
        K = float(self.ref.ravel()[mov].sum()) if relative else float(mov.sum())
        return float(np.sqrt(K * float(w @ (d * d))))

    def min_deviation(self, relative=False):
        """(equivalent deviation in đồng, x) or None if infeasible."""
        n, nc = self.n, self.n_target_cols()
        ncols = n + nc
        A_eq, b_eq, A_ub, b_ub = self.base_rows(ncols)
        ta, tb, tbounds = self.target_block(ncols, n)
        A_ub += ta
        b_ub += tb
        x = self.fair(ncols, A_eq, b_eq, A_ub, b_ub, self.x_bounds() + tbounds, relative)
        if x is None:
            return None
        return self.equivalent_deviation(x, relative), x

    def max_min(self, relative=False):
        """(z*, stage-2 x) or None: z* by linprog, then the fair split with x ≥ z₁·r, z₁ = z*(1 − 10⁻⁷)."""
        n, nc = self.n, self.n_target_cols()
        ncols = n + 1 + nc
        A_eq, b_eq, A_ub, b_ub = self.base_rows(ncols)
        p = self.ref.ravel() / M
        lo, hi = self.lo.ravel(), self.hi.ravel()
        covered = [k for k in range(n) if p[k] > 0 and hi[k] > lo[k]]
        for k in covered:  # x ≥ z·p
            r = np.zeros(ncols)
            r[k] = -1
            r[n] = p[k]
            A_ub.append(r)
            b_ub.append(0)
        ta, tb, tbounds = self.target_block(ncols, n + 1)
        A_ub += ta
        b_ub += tb
        cost = np.zeros(ncols)
        cost[n] = -1
        res = linprog(cost, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                      bounds=[*self.x_bounds(), (0, None), *tbounds], method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        z = -res.fun
        z1 = max(0.0, z - 1e-7 * max(1.0, z))
        bounds = [*self.x_bounds(), (0, 0), *tbounds]
        for k in covered:
            bounds[k] = (min(max(bounds[k][0], z1 * p[k]), hi[k] / M), bounds[k][1])
        x = self.fair(ncols, A_eq, b_eq, A_ub[: len(A_ub) - len(covered) - len(ta)] + ta, b_ub[: len(b_ub) - len(covered) - len(tb)] + tb,
                      bounds, relative)
        return z, x

    def max_outcome(self):
        """(best outcome, stage-2 x) or None: linprog, then the fair split keeping outcome ≥ best(1 − 10⁻⁷)."""
        _T, Y, U = self.shape
        n, nc = self.n, self.n_target_cols()
        curves = self.plan.allocation.response_curves
        segs = []  # (cell, width·p or None, slope)
        for cv in curves:
            t = int(cv.task[1:])
            for y in range(Y):
                for u in range(U):
                    for sg in cv.segments:
                        segs.append((self.idx(t, y, u), None if sg.width is None else sg.width * self.ref[t, y, u] / M, sg.outcome_per_million))
        ncols = n + len(segs) + nc
        A_eq, b_eq, A_ub, b_ub = self.base_rows(ncols)
        for k in range(n):  # Σ s ≤ x
            r = np.zeros(ncols)
            r[k] = -1
            for j, (cell, _, _) in enumerate(segs):
                if cell == k:
                    r[n + j] = 1
            if (r[n:] != 0).any():
                A_ub.append(r)
                b_ub.append(0)
        ta, tb, tbounds = self.target_block(ncols, n + len(segs))
        A_ub += ta
        b_ub += tb
        cost = np.zeros(ncols)
        for j, (_, _, slope) in enumerate(segs):
            cost[n + j] = -slope
        bounds = self.x_bounds() + [(0, w) for _, w, _ in segs] + tbounds
        res = linprog(cost, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq, bounds=bounds, method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        best = -res.fun
        A_ub.append(cost.copy())
        b_ub.append(-(best - 1e-7 * max(1.0, best)))  # outcome ≥ best − tolerance
        x = self.fair(ncols, A_eq, b_eq, A_ub, b_ub, bounds, self.plan.allocation.deviation == "relative")
        return best, x


def _slsqp(rows, lo, hi, lb, ub, w):
    """min ½ Σ w δ² s.t. lo ≤ rows·δ ≤ hi, lb ≤ δ ≤ ub by SLSQP from a feasible point (linprog),
    restarted with the objective rescaled until it stops gaining (a convex QP: its local optimum is
    the global one)."""
    from scipy.optimize import minimize

    ncols = rows.shape[1]
    eq = lo == hi
    up, dn = ~eq & np.isfinite(hi), ~eq & np.isfinite(lo)
    A_ub = np.vstack([rows[up], -rows[dn]])
    b_ub = np.concatenate([hi[up], -lo[dn]])
    box = [(a if np.isfinite(a) else None, b if np.isfinite(b) else None) for a, b in zip(lb, ub)]
    start = linprog(np.zeros(ncols), A_ub=A_ub if b_ub.size else None, b_ub=b_ub if b_ub.size else None,
                    A_eq=rows[eq] if eq.any() else None, b_eq=lo[eq] if eq.any() else None, bounds=box, method="highs")
    assert start.status == 0, start.message
    cons = []
    if eq.any():
        cons.append({"type": "eq", "fun": lambda u: rows[eq] @ u - lo[eq], "jac": lambda u: rows[eq]})
    if b_ub.size:
        cons.append({"type": "ineq", "fun": lambda u: b_ub - A_ub @ u, "jac": lambda u: -A_ub})
    u = np.clip(start.x, lb, ub)
    for _ in range(4):
        scale = max(1e-30, 0.5 * float(w @ (u * u)))
        res = minimize(lambda u, sc=scale: 0.5 * float(w @ (u * u)) / sc, u, jac=lambda u, sc=scale: w * u / sc,
                       bounds=box, constraints=cons, method="SLSQP", options={"ftol": 1e-15, "maxiter": 300})
        if res.fun <= 1:
            u = res.x
        if res.fun > 1 - 1e-9:
            break
    return u


def reference(plan: Plan) -> np.ndarray:
    """The reference share of docs/allocation.md: each task-year water-filled over its units within
    the cell bounds (bisection), independently of the allocator."""
    B, p, lo, hi = arrays(plan)
    w = np.array([[t.need.constant + sum(c * u.attributes[k] for k, c in t.need.terms.items()) for u in plan.units] for t in plan.tasks])
    ref = p.copy()
    T, Y, _U = p.shape
    for t in range(T):
        for y in range(Y):
            if B[t, y] > 0 and lo[t, y].sum() <= B[t, y] <= np.where(w[t] > 0, hi[t, y], lo[t, y]).sum():
                ref[t, y] = water_fill(B[t, y], w[t], lo[t, y], hi[t, y])
    return ref


def water_fill(total: float, w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Brute force: bisection on λ for Σ clip(λw, lo, hi) = total (zero weights stay at lo)."""
    hi = np.where(w > 0, hi, lo)
    a, b = 0.0, 1.0
    while np.clip(b * w, lo, hi).sum() < total:
        b *= 2
    for _ in range(200):
        m = (a + b) / 2
        if np.clip(m * w, lo, hi).sum() < total:
            a = m
        else:
            b = m
    return np.clip(b * w, lo, hi)

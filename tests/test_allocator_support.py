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
        T, Y, U = self.shape
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
        T, Y, U = self.shape
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
        return [(l / M, None if np.isinf(h) else h / M) for l, h in zip(self.lo.ravel(), self.hi.ravel())]

    def min_deviation(self, relative=False):
        n, nc = self.n, self.n_target_cols()
        ncols = 2 * n + nc
        A_eq, b_eq, A_ub, b_ub = self.base_rows(ncols)
        p = self.ref.ravel() / M
        for k in range(n):  # e ≥ |x − p|
            r = np.zeros(ncols); r[k] = 1; r[n + k] = -1; A_ub.append(r); b_ub.append(p[k])
            r = np.zeros(ncols); r[k] = -1; r[n + k] = -1; A_ub.append(r); b_ub.append(-p[k])
        ta, tb, tbounds = self.target_block(ncols, 2 * n)
        A_ub += ta; b_ub += tb
        cost = np.zeros(ncols)
        if relative:  # 1/p; a cell with p = 0 is weighted as the smallest positive p of its task-year
            pb = p.reshape(self.shape)
            pmin = np.where(pb > 0, pb, np.inf).min(axis=2, keepdims=True)
            pmin = np.where(np.isfinite(pmin), pmin, 1.0)
            cost[n:2 * n] = (1 / np.where(pb > 0, pb, pmin)).ravel()
        else:
            cost[n:2 * n] = 1.0
        res = linprog(cost, A_ub=np.array(A_ub) if A_ub else None, b_ub=b_ub or None, A_eq=np.array(A_eq), b_eq=b_eq,
                      bounds=self.x_bounds() + [(0, None)] * n + tbounds, method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        return res.fun * (1 if relative else M)

    def max_min(self):
        n, nc = self.n, self.n_target_cols()
        ncols = n + 1 + nc
        A_eq, b_eq, A_ub, b_ub = self.base_rows(ncols)
        p = self.ref.ravel() / M
        lo, hi = self.lo.ravel(), self.hi.ravel()
        for k in range(n):
            if p[k] > 0 and hi[k] > lo[k]:  # x ≥ z·p
                r = np.zeros(ncols); r[k] = -1; r[n] = p[k]; A_ub.append(r); b_ub.append(0)
        ta, tb, tbounds = self.target_block(ncols, n + 1)
        A_ub += ta; b_ub += tb
        cost = np.zeros(ncols); cost[n] = -1
        res = linprog(cost, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                      bounds=self.x_bounds() + [(0, None)] + tbounds, method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        return -res.fun

    def max_outcome(self):
        T, Y, U = self.shape
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
            r = np.zeros(ncols); r[k] = -1
            for j, (cell, _, _) in enumerate(segs):
                if cell == k:
                    r[n + j] = 1
            if (r[n:] != 0).any():
                A_ub.append(r); b_ub.append(0)
        ta, tb, tbounds = self.target_block(ncols, n + len(segs))
        A_ub += ta; b_ub += tb
        cost = np.zeros(ncols)
        for j, (_, _, slope) in enumerate(segs):
            cost[n + j] = -slope
        res = linprog(cost, A_ub=np.array(A_ub), b_ub=b_ub, A_eq=np.array(A_eq), b_eq=b_eq,
                      bounds=self.x_bounds() + [(0, w) for _, w, _ in segs] + tbounds, method="highs")
        if res.status == 2:
            return None
        assert res.status == 0, res.message
        return -res.fun


def reference(plan: Plan) -> np.ndarray:
    """The reference share of docs/allocation.md: each task-year water-filled over its units within
    the cell bounds (bisection), independently of the allocator."""
    B, p, lo, hi = arrays(plan)
    w = np.array([[t.need.constant + sum(c * u.attributes[k] for k, c in t.need.terms.items()) for u in plan.units] for t in plan.tasks])
    ref = p.copy()
    T, Y, U = p.shape
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

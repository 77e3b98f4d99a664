"""Domain assertions and random plans shipped with the package (like ``linopy.testing``), for tests
of every front end and for the allocator's stress test.

:func:`assert_allocation_conserves` and :func:`allocation_violations` read only the plan and the
result (never the allocator's arrays), so they check the allocator independently.
:func:`random_plan` makes small valid plans that include the degenerate budgets of issue 10 (all
zero, 1 đ lines, totals below the rounding unit or the number of units, floors summing exactly
to the budget, huge and tiny need weights).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..model.plan import AdminUnit, Agency, BudgetLine, FundingSource, Level, Plan, Program, Target, Task, TaskRole
from ..model.policy import (
    AbsorptionConstraint,
    AllocationPolicy,
    CapConstraint,
    EarmarkConstraint,
    EligibilityConstraint,
    FloorConstraint,
    ResponseCurve,
    ResponseSegment,
    StabilityConstraint,
    TargetConstraint,
    UnitShareConstraint,
)
from ..model.result import Allocation

__all__ = ["assert_allocation_conserves", "allocation_violations", "random_plan"]

ROUNDING_NOTES = {"alloc.explain.absorption_exceeded", "alloc.unit_share.exceeded", "alloc.explain.rounding_violation",
                  "alloc.explain.rounding_prior"}
_OPS = {">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt}


def assert_allocation_conserves(plan: Plan, allocation: Allocation, *, check_bounds: bool = True) -> None:
    """Assert that an optimal allocation spends each (task, year, source) budget exactly, in whole đồng,
    with no negative amount; and (``check_bounds``) that earmarks, eligibility, amount floors and
    caps of the policy hold. Infeasible allocations must be all zero and carry a diagnosis.
    """
    a = allocation
    assert a.amounts.dtype == np.int64, f"amounts must be int64, got {a.amounts.dtype}"
    if not a.ok:
        assert a.diagnosis is not None and a.diagnosis.conflicts, "an infeasible allocation must carry a diagnosis"
        assert not a.amounts.any(), "an infeasible allocation must not allocate money"
        return
    assert (a.amounts >= 0).all(), "negative amount in allocation"
    expected = _budgets(plan, a)
    got = a.amounts.sum(axis=0)
    bad = np.argwhere(got != expected)
    if bad.size:
        t, y, s = bad[0]
        raise AssertionError(
            f"task {a.tasks[t]} year {a.years[y]} source {a.sources[s]}: allocated {int(got[t, y, s])} đ, "
            f"budget {int(expected[t, y, s])} đ ({int(got[t, y, s] - expected[t, y, s]):+d} đ); {len(bad)} cell(s) differ"
        )
    if not check_bounds:
        return
    policy = plan.allocation
    if policy is None or a.policy != str(policy.kind):
        return
    bad_bounds = [v for v in allocation_violations(plan, a, policy=policy, coupling=False)]
    assert not bad_bounds, bad_bounds[0]


def _budgets(plan: Plan, a: Allocation) -> np.ndarray:
    ti = {t: i for i, t in enumerate(a.tasks)}
    yi = {y: i for i, y in enumerate(a.years)}
    si = {s: i for i, s in enumerate(a.sources)}
    expected = np.zeros((len(a.tasks), len(a.years), len(a.sources)), np.int64)
    for line in plan.budget_lines:
        if line.task in ti and line.year in yi and line.source in si:
            expected[ti[line.task], yi[line.year], si[line.source]] += line.amount
    return expected


def _need(plan: Plan, a: Allocation) -> np.ndarray:
    """w[t, u] from the need formulas (missing attribute = 0)."""
    by_code = {u.code: u for u in plan.units}
    tasks = {t.code: t for t in plan.tasks}
    units = [by_code[code] for code in a.units]
    out = np.zeros((len(a.tasks), len(units)))
    for t, code in enumerate(a.tasks):
        task = tasks[code]
        out[t] = task.need.constant + sum(c * np.array([float(u.attributes.get(k, 0.0)) for u in units]) for k, c in task.need.terms.items())
    return out


def allocation_violations(plan: Plan, a: Allocation, *, policy: AllocationPolicy | None = None, coupling: bool = True) -> list[str]:
    """Every constraint of the policy the integer amounts break, written from the definitions in
    docs/allocation.md (not from the allocator's arrays): conservation per task-year-source,
    non-negative amounts, earmarks, eligibility, floors and caps (amount, share of budget, times the
    proportional share; floors above a cap are not checked), and with ``coupling`` the absorption,
    stability and unit-share rows. An empty list: the allocation is what the policy promises."""
    policy = policy or plan.allocation or AllocationPolicy()
    out: list[str] = []
    if not a.ok:
        if a.amounts.any():
            out.append("an infeasible allocation allocates money")
        if a.diagnosis is None or not a.diagnosis.conflicts:
            out.append("an infeasible allocation without a diagnosis")
        return out
    if a.amounts.dtype != np.int64:
        out.append(f"amounts are {a.amounts.dtype}")
    if (a.amounts < 0).any():
        out.append("negative amount")
    B3 = _budgets(plan, a)
    diff = a.amounts.sum(axis=0) - B3
    if diff.any():
        t, y, s = np.argwhere(diff)[0]
        out.append(f"{a.tasks[t]}/{a.years[y]}/{a.sources[s]}: {int(diff[t, y, s]):+d} đ against the budget")
    B = B3.sum(axis=2).astype(float)  # [T, Y]
    x = a.amounts.sum(axis=3).astype(float)  # [U, T, Y]
    U, T, Y = x.shape
    w = _need(plan, a)
    wsum = w.sum(axis=1)
    share = np.where(wsum[:, None] > 0, w / np.where(wsum > 0, wsum, 1.0)[:, None], 0.0)  # [T, U]
    p = B[None, :, :] * share.T[:, :, None]  # [U, T, Y]
    ui, ti, yi = ({c: i for i, c in enumerate(v)} for v in (a.units, a.tasks, a.years))
    by_code = {u.code: u for u in plan.units}
    units = [by_code[c] for c in a.units]

    def sel(codes: Any, index: dict) -> list[int]:
        return [index[c] for c in codes if c in index] if codes is not None else list(index.values())

    ineligible = np.zeros((U, T), bool)
    for c in policy.constraints:
        if isinstance(c, EligibilityConstraint):
            for u, unit in enumerate(units):
                ok = c.units is None or unit.code in c.units
                if c.attribute is not None:
                    ok = ok and _OPS[c.op](float(unit.attributes.get(c.attribute, 0.0)), c.value)
                if not ok:
                    for t in sel(c.tasks, ti):
                        ineligible[u, t] = True
    lo = np.zeros((U, T, Y))
    hi = np.full((U, T, Y), np.inf)
    lo_real = np.zeros((U, T, Y))
    hi_real = np.full((U, T, Y), np.inf)
    funded = B > 0
    for c in policy.constraints:
        if isinstance(c, (FloorConstraint, CapConstraint)):
            for u in sel(c.units, ui):
                for t in sel(c.tasks, ti):
                    for y in sel(c.years, yi):
                        if not funded[t, y]:
                            continue
                        v = c.amount if c.amount is not None else (c.share_of_budget * B[t, y] if c.share_of_budget is not None else c.times_proportional * p[u, t, y])
                        # a bound relative to the budget or the need share is met to within one đồng
                        whole = c.amount is not None
                        if isinstance(c, FloorConstraint):
                            if not ineligible[u, t]:
                                lo_real[u, t, y] = max(lo_real[u, t, y], float(v))
                                lo[u, t, y] = max(lo[u, t, y], float(v) if whole else np.floor(float(v) + 1e-6))
                        else:
                            hi_real[u, t, y] = min(hi_real[u, t, y], float(v))
                            hi[u, t, y] = min(hi[u, t, y], float(v) if whole else np.ceil(float(v) - 1e-6))
    for c in policy.constraints:
        if isinstance(c, EarmarkConstraint) and c.unit in ui and c.task in ti:
            for y in sel(c.years, yi):
                if x[ui[c.unit], ti[c.task], y] != c.amount:
                    out.append(f"earmark {c.name!r}: {c.unit}/{c.task}/{a.years[y]} got {int(x[ui[c.unit], ti[c.task], y])} đ, not {c.amount} đ")
    if (x[ineligible] != 0).any():
        u, t = np.argwhere(ineligible & (x != 0).any(axis=2))[0]
        out.append(f"eligibility: {a.units[u]} got money for {a.tasks[t]}")
    checked = lo_real <= hi_real  # a floor above a cap is a conflict, not a bound
    if (checked & (x < np.ceil(lo - 1e-6))).any():
        u, t, y = np.argwhere(checked & (x < np.ceil(lo - 1e-6)))[0]
        out.append(f"floor: {a.units[u]}/{a.tasks[t]}/{a.years[y]} got {int(x[u, t, y])} đ < {lo[u, t, y]:.2f} đ")
    if (checked & (x > np.floor(hi + 1e-6))).any():
        u, t, y = np.argwhere(checked & (x > np.floor(hi + 1e-6)))[0]
        out.append(f"cap: {a.units[u]}/{a.tasks[t]}/{a.years[y]} got {int(x[u, t, y])} đ > {hi[u, t, y]:.2f} đ")
    if not coupling or policy.kind == "proportional":
        return out
    # a coupling constraint that no rounding can keep is reported in the explanation: not a violation
    reported = {m.params.get("name") for m in a.notes if m.code in ROUNDING_NOTES}
    for c in policy.constraints:
        if c.name in reported:
            continue
        if isinstance(c, AbsorptionConstraint):
            for u in sel(c.units, ui):
                cap = c.amount + c.per_attribute_amount * float(units[u].attributes.get(c.attribute, 0.0) if c.attribute else 0.0)
                for y in sel(c.years, yi):
                    if x[u, :, y].sum() > cap + 1e-6:
                        out.append(f"absorption {c.name!r}: {a.units[u]}/{a.years[y]} {int(x[u, :, y].sum())} đ > {cap:.0f} đ")
        elif isinstance(c, UnitShareConstraint):
            ts = sel(c.tasks, ti)
            for y in sel(c.years, yi):
                total = B[ts, y].sum()
                for u in sel(c.units, ui):
                    if total > 0 and x[u, ts, y].sum() > c.share * total + 1e-6:
                        out.append(f"unit share {c.name!r}: {a.units[u]}/{a.years[y]} {int(x[u, ts, y].sum())} đ > {c.share * total:.0f} đ")
        elif isinstance(c, StabilityConstraint):
            d = c.max_change
            for t in sel(c.tasks, ti):
                for u in sel(c.units, ui):
                    for y in range(1, Y):
                        if a.years[y] - 1 == a.years[y - 1] and funded[t, y] and funded[t, y - 1]:
                            prev, cur = x[u, t, y - 1], x[u, t, y]
                            if cur > (1 + d) * prev + 1e-6 or cur < (1 - d) * prev - 1e-6:
                                out.append(f"stability {c.name!r}: {a.units[u]}/{a.tasks[t]} {int(prev)} → {int(cur)} đ")
            for p in c.prior or []:  # the first year against last year's amounts
                if p.unit in ui and p.task in ti and funded[ti[p.task], 0] and (c.units is None or p.unit in c.units) \
                        and (c.tasks is None or p.task in c.tasks):
                    cur = x[ui[p.unit], ti[p.task], 0]
                    if cur > (1 + d) * p.amount + 1e-6 or cur < (1 - d) * p.amount - 1e-6:
                        out.append(f"stability {c.name!r}: {p.unit}/{p.task} last year {p.amount} → {int(cur)} đ")
        elif isinstance(c, TargetConstraint) and c.task in ti:
            out += _target_violations(plan, a, c, x[:, ti[c.task], sel(c.years, yi)].sum(axis=1), units)
    return out


def _target_violations(plan: Plan, a: Allocation, c: TargetConstraint, funding: np.ndarray, units: list) -> list[str]:
    """Items the money funds per unit (whole items only for an ``integer`` target) against the
    requirement; a whole target the allocator reports as short (no split funds it) is not a
    violation when its attainment says so."""
    def attr(unit: Any, key: str) -> float:
        return float(unit.attributes.get(key, 0.0))

    room = np.array([max(attr(u, c.capacity_attribute) - attr(u, c.baseline_attribute), 0.0) for u in units])
    required = c.required
    if required is None:
        target = next((t for t in plan.targets if t.code == c.target), None)
        if target is None or not target.values:
            return []
        base = target.baseline if target.baseline is not None else sum(attr(u, c.baseline_attribute) for u in units)
        required = max(0.0, float(target.values[max(target.values)]) - float(base))
    committed = np.array([float((c.committed or {}).get(u.code, 0)) for u in units])
    items = np.minimum(np.floor(room + 1e-9) if c.integer else room, (funding + committed) / c.unit_cost)
    if c.integer:
        items, required = np.floor(items + 1e-9), float(np.ceil(required - 1e-9))
    funded = float(items.sum())
    if funded >= required - 1e-9 * max(1.0, required):
        return []
    shown = next((t for t in a.attainment if t.target == c.target), None)
    note = shown.msg.params.get("second") if shown is not None and shown.msg is not None else None
    if c.integer and shown is not None and not shown.met and getattr(note, "code", "") == "alloc.attainment.whole_failed":
        return []
    return [f"target {c.name!r}: {funded:g} items funded < {required:g} required"]


def random_plan(seed: int, kind: str = "min_deviation", *, max_units: int = 8) -> Plan:
    """A small valid plan with random constraints and, often, degenerate budgets."""
    rng = np.random.default_rng(seed)
    U = int(rng.integers(1, max_units + 1))
    T = int(rng.integers(1, 4))
    Y = int(rng.integers(1, 4))
    S = int(rng.integers(1, 3))
    years = list(range(2021, 2021 + Y))
    scale = float(rng.choice([0.0, 1e-9, 1e-3, 1.0, 1e3, 1e9, 1e12]))
    units = []
    for u in range(U):
        attrs = {"population": float(rng.integers(0, 3) * rng.random() * 1e5), "communes": float(rng.integers(0, 20)),
                 "healthy_communes": float(rng.integers(0, 5)), "coastal": float(rng.random() < 0.5), "weight": float(rng.random() * scale)}
        units.append(AdminUnit(code=f"U{u}", name=f"Huyện {u}", kind="Huyện", parent="P", attributes=attrs))
    tasks = []
    for t in range(T):
        terms = {"population": 1.0} if rng.random() < 0.6 else {"weight": 1.0}
        if rng.random() < 0.3:
            terms["communes"] = float(rng.integers(0, 1000))
        constant = float(rng.choice([0.0, 0.0, 1.0, 1e-6]))
        tasks.append(Task(code=f"T{t}", name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="A", role="lead")], need={"constant": constant, "terms": terms}))
    sources = [FundingSource(code=f"S{s}", name=f"Nguồn {s}") for s in range(S)]
    budget_kind = rng.choice(["normal", "tiny", "zero", "one", "below_units", "huge", "mixed"])
    lines = []
    for t in range(T):
        for y in years:
            for s in range(S):
                if budget_kind == "normal":
                    amount = int(rng.integers(1, 10**4)) * 10**int(rng.integers(3, 8))
                elif budget_kind == "tiny":
                    amount = int(rng.integers(0, 10))
                elif budget_kind == "zero":
                    amount = 0
                elif budget_kind == "one":
                    amount = 1
                elif budget_kind == "below_units":
                    amount = int(rng.integers(0, max(1, U)))
                elif budget_kind == "huge":
                    amount = int(rng.integers(1, 10**6)) * 10**int(rng.integers(6, 10))
                else:
                    amount = int(rng.choice([0, 1, 7, 999, 10**6, 123_456_789, 3 * 10**11]))
                lines.append(BudgetLine(task=f"T{t}", agency="A", year=y, source=f"S{s}", amount=amount))
    B: dict[tuple[int, int], int] = {}
    for ln in lines:
        key = (int(ln.task[1:]), ln.year)
        B[key] = B.get(key, 0) + ln.amount
    min_b = min(B.values())
    cons: list[Any] = []

    def some(codes: list[str]) -> list[str] | None:
        if rng.random() < 0.6:
            return None
        return [c for c in codes if rng.random() < 0.6] or codes[:1]

    unit_codes, task_codes = [u.code for u in units], [t.code for t in tasks]
    for _ in range(int(rng.integers(0, 5))):
        pick = rng.choice(["floor", "cap", "earmark", "eligibility", "absorption", "stability", "target", "unit_share", "exact_floor"])
        name = f"{pick} {len(cons)}"
        if pick in ("floor", "cap"):
            how = rng.choice(["amount", "share", "times"])
            model = FloorConstraint if pick == "floor" else CapConstraint
            if how == "amount":
                cons.append(model(name=name, tasks=some(task_codes), amount=int(min_b / max(U, 1) * rng.uniform(0.1, 1.5))))
            elif how == "share":
                cons.append(model(name=name, tasks=some(task_codes), share_of_budget=float(rng.uniform(0.0, 1.0) if pick == "floor" else rng.uniform(0.1, 1.5))))
            else:
                cons.append(model(name=name, tasks=some(task_codes), times_proportional=float(rng.choice([0.5, 1.0, 1.0, 2.0]))))
        elif pick == "exact_floor":  # floors summing exactly to the budget of the smallest task-year
            cons.append(FloorConstraint(name=name, amount=min_b // max(U, 1)))
        elif pick == "earmark":
            t, y = int(rng.integers(0, T)), years[int(rng.integers(0, Y))]
            cons.append(EarmarkConstraint(name=name, unit=unit_codes[int(rng.integers(0, U))], task=task_codes[t], years=[y],
                                          amount=int(B[(t, y)] * rng.uniform(0, 0.6))))
        elif pick == "eligibility":
            cons.append(EligibilityConstraint(name=name, tasks=[task_codes[int(rng.integers(0, T))]], attribute="coastal", op=">", value=0))
        elif pick == "absorption":
            peak = max(sum(B[(t, y)] for t in range(T)) for y in years)
            cons.append(AbsorptionConstraint(name=name, amount=int(peak / max(U, 1) * rng.uniform(0.5, 3.0))))
        elif pick == "stability":
            prior = None
            if rng.random() < 0.3:
                prior = [{"unit": unit_codes[u], "task": task_codes[0], "amount": int(B[(0, years[0])] / U * rng.uniform(0.5, 1.5))} for u in range(U)]
            cons.append(StabilityConstraint(name=name, max_change=float(rng.choice([0.05, 0.3, 0.6, 2.0])), prior=prior))
        elif pick == "unit_share":
            cons.append(UnitShareConstraint(name=name, share=float(min(1.0, rng.uniform(0.8, 3.0) / U))))
        elif pick == "target" and "CT" not in [c.target for c in cons if isinstance(c, TargetConstraint)]:
            cons.append(TargetConstraint(name=name, target="CT", task=task_codes[0], unit_cost=int(rng.integers(1, 10**8)),
                                         required=float(rng.integers(0, 20)), integer=bool(seed % 2)))
    targets = [Target(code="CT", name="Xã lành mạnh", baseline=0, values={years[-1]: 5}, task="T0")]
    curves = [ResponseCurve(task=task_codes[0], outcome="người", segments=[ResponseSegment(width=0.8, outcome_per_million=5.0),
                                                                           ResponseSegment(outcome_per_million=1.0)])]
    policy = AllocationPolicy(kind=kind, deviation=rng.choice(["absolute", "relative"]), constraints=cons,
                              response_curves=curves if kind == "max_outcome" else [],
                              rounding_unit=int(rng.choice([1, 1, 1000, 10**6])), level=Level.DISTRICT.value)
    return Plan(
        program=Program(code="STRESS", name="Kế hoạch thử", authority="UBND", first_year=years[0], last_year=years[-1],
                        total=sum(ln.amount for ln in lines)),
        units=units, agencies=[Agency(code="A", name="Sở")], tasks=tasks, sources=sources, targets=targets,
        budget_lines=lines, allocation=policy,
    )

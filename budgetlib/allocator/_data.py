"""From a plan and a policy to arrays: budgets B, needs w, proportional shares p, bounds with provenance.

Cells are indexed ``k = (t·Y + y)·U + u`` so that each task-year block is contiguous. Money is
float đồng here; the LP layer rescales to triệu đồng.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..model.plan import Level, Plan, Target
from ..model.policy import (
    AbsorptionConstraint,
    AllocationPolicy,
    CapConstraint,
    EarmarkConstraint,
    EligibilityConstraint,
    FloorConstraint,
    StabilityConstraint,
    TargetConstraint,
)
from ..model.result import ConstraintKind, Named

INF = float("inf")
_OPS = {">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt}


@dataclass
class Group:
    """A named family of LP rows or bounds, as the user declared it (or a task-year budget)."""

    name: str
    kind: ConstraintKind
    constraint: object | None = None
    task: int | None = None
    year: int | None = None


@dataclass
class TargetSpec:
    group: int  # the Σc ≥ required row
    unit_group: int  # the per-unit funding rows
    constraint: TargetConstraint
    target: Target | None
    task: int
    years: list[int]  # year indices
    capacity: np.ndarray  # capacity − baseline per unit, ≥ 0
    required: float
    year_label: int | None


@dataclass
class Data:
    plan: Plan
    policy: AllocationPolicy
    units: list
    tasks: list
    years: list[int]
    sources: list
    B3: np.ndarray  # [T, Y, S] int64
    B: np.ndarray  # [T, Y] float
    w: np.ndarray  # [T, U]
    p: np.ndarray  # [T, Y, U]
    lo_amt: np.ndarray  # [T, Y, U] bounds in đồng, "amount" kind (fixed when the budget scales)
    lo_rel: np.ndarray  # bounds relative to the budget (share_of_budget, times_proportional) at k = 1
    hi_amt: np.ndarray
    hi_rel: np.ndarray
    lo_amt_src: np.ndarray
    lo_rel_src: np.ndarray
    hi_amt_src: np.ndarray
    hi_rel_src: np.ndarray
    groups: list[Group] = field(default_factory=list)
    absorption: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    stability: list[tuple[int, np.ndarray, np.ndarray, float, dict]] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    budget_group: np.ndarray | None = None  # [T, Y] group ids

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.tasks), len(self.years), len(self.units)

    @property
    def n(self) -> int:
        T, Y, U = self.shape
        return T * Y * U

    @property
    def lo(self) -> np.ndarray:
        return np.maximum(self.lo_amt, self.lo_rel)

    @property
    def hi(self) -> np.ndarray:
        return np.minimum(self.hi_amt, self.hi_rel)

    @property
    def lo_src(self) -> np.ndarray:
        return np.where(self.lo_rel > self.lo_amt, self.lo_rel_src, self.lo_amt_src)

    @property
    def hi_src(self) -> np.ndarray:
        return np.where(self.hi_rel < self.hi_amt, self.hi_rel_src, self.hi_amt_src)

    @cached_property
    def unit_names(self) -> dict[str, str]:
        return {u.code: u.name for u in self.units}

    @cached_property
    def task_names(self) -> dict[str, str]:
        return {t.code: t.name for t in self.tasks}

    @cached_property
    def task_labels(self) -> dict[str, Named]:
        """Task names as messages: the English name (``name_en``) in English output when the plan gives one."""
        return {t.code: Named(t.name, t.name_en) for t in self.tasks}

    def unit_name(self, u: int) -> str:
        return self.units[u].name

    def task_name(self, t: int) -> str:
        return self.tasks[t].name


def _need(task, units) -> np.ndarray:
    w = np.full(len(units), float(task.need.constant))
    for attr, coef in task.need.terms.items():
        w += coef * np.array([float(u.attributes.get(attr, 0.0)) for u in units])
    return w


def _select(codes: list[str] | None, universe: list[str]) -> np.ndarray:
    if codes is None:
        return np.arange(len(universe))
    wanted = set(codes)
    return np.array([i for i, c in enumerate(universe) if c in wanted], dtype=np.int64)


def _select_years(years: list[int] | None, universe: list[int]) -> np.ndarray:
    return _select(None if years is None else [str(y) for y in years], [str(y) for y in universe])


def target_required(c: TargetConstraint, target: Target | None, baseline_units: float) -> float:
    """``required`` if given, else the target's last value minus its baseline (the plan's, else Σ units)."""
    if c.required is not None:
        return float(c.required)
    if target is None or not target.values:
        return 0.0
    last = target.values[max(target.values)]
    base = target.baseline if target.baseline is not None else baseline_units
    return max(0.0, float(last) - float(base))


def build_data(plan: Plan, policy: AllocationPolicy, years: list[int] | None) -> Data:
    level = Level.COMMUNE if policy.level == "commune" else Level.DISTRICT
    units = plan.units_at(level)
    tasks = list(plan.tasks)
    years = list(years if years is not None else (policy.years if policy.years is not None else plan.program.years))
    sources = list(plan.sources)
    T, Y, U, S = len(tasks), len(years), len(units), len(sources)
    ti = {t.code: i for i, t in enumerate(tasks)}
    yi = {y: i for i, y in enumerate(years)}
    si = {s.code: i for i, s in enumerate(sources)}
    B3 = np.zeros((T, Y, S), np.int64)
    for line in plan.budget_lines:
        if line.task in ti and line.year in yi and line.source in si:
            B3[ti[line.task], yi[line.year], si[line.source]] += line.amount
    B = B3.sum(axis=2).astype(float)
    w = np.array([_need(t, units) for t in tasks]).reshape(T, U)
    wsum = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(wsum[:, None] > 0, w / np.where(wsum[:, None] > 0, wsum[:, None], 1.0), 0.0)
    p = B[:, :, None] * share[:, None, :]

    shape = (T, Y, U)
    d = Data(
        plan, policy, units, tasks, years, sources, B3, B, w, p,
        np.zeros(shape), np.zeros(shape), np.full(shape, INF), np.full(shape, INF),
        np.full(shape, -1), np.full(shape, -1), np.full(shape, -1), np.full(shape, -1),
    )
    d.budget_group = np.zeros((T, Y), np.int64)
    for t in range(T):
        for y in range(Y):
            d.budget_group[t, y] = len(d.groups)
            d.groups.append(Group(f"{tasks[t].name} {years[y]}", ConstraintKind.BUDGET, None, t, y))
    unit_codes = [u.code for u in units]
    task_codes = [t.code for t in tasks]
    funded = B > 0  # [T, Y]

    def put(arr, src, mask, values, g, better):
        # keep the tighter bound (max for floors, min for caps) and remember which constraint set it
        cur = arr[mask]
        new = np.broadcast_to(values, arr.shape)[mask]
        take = better(new, cur)
        cur_src = src[mask]
        arr[mask] = np.where(take, new, cur)
        src[mask] = np.where(take, g, cur_src)

    ineligible = np.zeros(shape, bool)
    for c in policy.constraints:
        g = len(d.groups)
        if isinstance(c, (FloorConstraint, CapConstraint)):
            d.groups.append(Group(c.name, ConstraintKind.FLOOR if isinstance(c, FloorConstraint) else ConstraintKind.CAP, c))
            mask = np.zeros(shape, bool)
            mask[np.ix_(_select(c.tasks, task_codes), _select_years(c.years, years), _select(c.units, unit_codes))] = True
            mask &= funded[:, :, None]
            if c.amount is not None:
                values, rel = np.full(shape, float(c.amount)), False
            elif c.share_of_budget is not None:
                values, rel = np.broadcast_to(c.share_of_budget * B[:, :, None], shape), True
            else:
                values, rel = c.times_proportional * p, True
            if isinstance(c, FloorConstraint):
                arr, src = (d.lo_rel, d.lo_rel_src) if rel else (d.lo_amt, d.lo_amt_src)
                put(arr, src, mask, values, g, np.greater)
            else:
                arr, src = (d.hi_rel, d.hi_rel_src) if rel else (d.hi_amt, d.hi_amt_src)
                put(arr, src, mask, values, g, np.less)
        elif isinstance(c, EarmarkConstraint):
            d.groups.append(Group(c.name, ConstraintKind.EARMARK, c))
            mask = np.zeros(shape, bool)
            mask[np.ix_(_select([c.task], task_codes), _select_years(c.years, years), _select([c.unit], unit_codes))] = True
            put(d.lo_amt, d.lo_amt_src, mask, float(c.amount), g, np.greater)
            put(d.hi_amt, d.hi_amt_src, mask, float(c.amount), g, np.less)
        elif isinstance(c, EligibilityConstraint):
            d.groups.append(Group(c.name, ConstraintKind.ELIGIBILITY, c))
            ok = np.ones(U, bool)
            if c.units is not None:
                ok &= np.isin(unit_codes, c.units)
            if c.attribute is not None:
                ok &= np.array([_OPS[c.op](float(u.attributes.get(c.attribute, 0.0)), c.value) for u in units], bool)
            mask = np.zeros(shape, bool)
            mask[np.ix_(_select(c.tasks, task_codes), np.arange(Y), np.flatnonzero(~ok))] = True
            put(d.hi_amt, d.hi_amt_src, mask, 0.0, g, np.less)
            ineligible |= mask
        elif isinstance(c, AbsorptionConstraint):
            d.groups.append(Group(c.name, ConstraintKind.ABSORPTION, c))
            us = _select(c.units, unit_codes)
            ys = _select_years(c.years, years)
            attr = np.array([float(units[u].attributes.get(c.attribute, 0.0)) if c.attribute else 0.0 for u in us])
            cap = float(c.amount) + float(c.per_attribute_amount) * attr
            d.absorption.append((g, us, ys, cap))
        elif isinstance(c, StabilityConstraint):
            d.groups.append(Group(c.name, ConstraintKind.STABILITY, c))
            prior = {}
            for pa in c.prior or []:
                if pa.unit in unit_codes and pa.task in task_codes:
                    prior[(task_codes.index(pa.task), unit_codes.index(pa.unit))] = float(pa.amount)
            d.stability.append((g, _select(c.tasks, task_codes), _select(c.units, unit_codes), float(c.max_change), prior))
        elif isinstance(c, TargetConstraint):
            d.groups.append(Group(c.name, ConstraintKind.TARGET, c))
            d.groups.append(Group(c.name, ConstraintKind.TARGET_UNIT, c))
            target = next((t for t in plan.targets if t.code == c.target), None)
            capa = np.array([float(u.attributes.get(c.capacity_attribute, 0.0)) for u in units])
            base = np.array([float(u.attributes.get(c.baseline_attribute, 0.0)) for u in units])
            ys = [int(i) for i in _select_years(c.years, years)]
            year_label = years[ys[-1]] if ys else None
            if target is not None and target.values:
                year_label = max(target.values)
            d.targets.append(
                TargetSpec(g, g + 1, c, target, ti[c.task], ys, np.maximum(capa - base, 0.0), target_required(c, target, float(base.sum())), year_label)
            )
    # Eligibility takes precedence over floors (a floor for "every unit" means every eligible unit);
    # an earmark on an ineligible unit stays a conflict.
    for arr, src in ((d.lo_amt, d.lo_amt_src), (d.lo_rel, d.lo_rel_src)):
        kinds = np.array([d.groups[g].kind if g >= 0 else "" for g in range(-1, len(d.groups))])[src + 1]
        clear = ineligible & (kinds == "floor")
        arr[clear] = 0.0
        src[clear] = -1
    return d

"""Target (chỉ tiêu có chi phí): an indicator target that costs money (e.g. newly healthy communes).

A unit converts c[u] ≤ capacity[u] − baseline[u] items at ``unit_cost`` each, funded by its
allocation of ``task`` over ``years``: unit_cost·c[u] ≤ Σ_y x[u,task,y]; Σ_u c[u] ≥ ``required``
(default: the target's last value minus its baseline).

``integer``: the target counts whole things (communes, pilot models): c[u] is a whole number, a
unit counts only the items its allocation funds in full, and ``required`` is rounded up. The LP
stages solve the continuous relaxation; :mod:`budgetlib.allocator._whole` then fixes whole counts
(docs/allocation.md, "Whole-number targets").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ..core.i18n import Msg
from ..core.problems import Problem, Source, json_path
from ..model.result import Conflict, ConstraintKind
from ..model.types import Code, Money, Text
from .base import (
    INF,
    NAME,
    TASK,
    YEARS,
    ConstraintModel,
    ConstraintType,
    PlanRefs,
    WorkbookField,
    attribute_values,
    select_years,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data
    from ..allocator._model import Builder
    from ..model.plan import Target

__all__ = ["TargetConstraint", "TargetSpec", "KIND", "target_required", "target_rows"]

WHOLE_TOLERANCE = 1e-9
"""An item counts as funded in full when its money falls short by less than this fraction of its
unit cost (LP amounts carry solver noise; rounded amounts are whole đồng)."""


class TargetConstraint(ConstraintModel):
    """An indicator target that costs money (e.g. newly healthy communes).

    A unit converts c[u] ≤ capacity[u] − baseline[u] items at ``unit_cost`` each, funded by its
    allocation of ``task`` over ``years``: unit_cost·c[u] ≤ Σ_y x[u,task,y]. The total must reach
    ``required`` (default: the target's last value minus its baseline).
    """

    type: Literal["target"] = "target"
    name: Text
    target: Code
    task: Code
    unit_cost: Money = Field(gt=0)
    capacity_attribute: str = "communes"
    baseline_attribute: str = "healthy_communes"
    years: list[int] | None = None
    required: float | None = Field(None, ge=0, allow_inf_nan=False)
    integer: bool = False
    committed: dict[Code, Money] | None = None
    """đồng per unit already committed to this target outside the allocated years (the yearly
    re-split passes the other years' amounts): it pays for items alongside the new money."""


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
    whole: bool = False  # counted in whole items
    lower: np.ndarray | None = None  # whole items each unit must fund (set by the whole-number stage)
    committed: np.ndarray | None = None  # đồng per unit committed outside the allocated years

    def items(self, funding: np.ndarray) -> np.ndarray:
        """Items per unit that ``funding`` (đồng per unit over the target's years) and the committed
        money pay for, fractions included."""
        money = np.asarray(funding, float) + (0.0 if self.committed is None else self.committed)
        return np.minimum(self.capacity, money / self.constraint.unit_cost)

    def funded(self, funding: np.ndarray) -> np.ndarray:
        """The items that count: whole ones only when the target is ``integer``, else fractions."""
        items = self.items(funding)
        return np.floor(items + WHOLE_TOLERANCE) if self.whole else items


def target_required(c: TargetConstraint, target: Target | None, baseline_units: float) -> float:
    """``required`` if given, else the target's last value minus its baseline (the plan's, else Σ units)."""
    if c.required is not None:
        return float(c.required)
    if target is None or not target.values:
        return 0.0
    last = target.values[max(target.values)]
    base = target.baseline if target.baseline is not None else baseline_units
    return max(0.0, float(last) - float(base))


def target_rows(b: Builder, ts: TargetSpec, index: int, *, with_required: bool = True) -> np.ndarray:
    """The c[u] columns (returned), the funding rows and (``with_required``) Σc ≥ required."""
    d = b.d
    _T, Y, U = d.shape
    cols = b.lp.add_vars(U, 0.0 if ts.lower is None else ts.lower, ts.capacity)
    b.lay.c[index] = cols
    ys = np.asarray(ts.years, np.int64)
    # unit_cost·c[u] − Σ_y x[u,task,y] ≤ committed[u] for the units that can progress (c[u] = 0 elsewhere)
    us = np.flatnonzero(ts.capacity > 0)
    m = us.size
    rows = np.repeat(np.arange(m), ys.size)
    cells = (ts.task * Y + np.tile(ys, m)) * U + us[rows]
    hi = np.zeros(m) if ts.committed is None else ts.committed[us] / b.d.M
    # a whole count already raised (the whole-number stage) forces money onto its unit even where
    # the reference share is 0: tightened too, or rounding that unit's amount down leaves its last
    # item a few hundred đồng short (random plan 89 983: 70 747 089 đ rounded to 70 747 000 đ)
    forcing = None if ts.lower is None else np.asarray(ts.lower, float)[us] > 0
    b.xrows(np.full(m, -INF), hi, rows, cells, -np.ones(cells.size), ts.unit_group, us,
            extra=(np.arange(m), cols[us], np.full(m, ts.constraint.unit_cost / b.d.M)), forcing=forcing)
    if with_required:
        b.rows(np.array([ts.required]), np.array([INF]), np.zeros(U, np.int64), cols, np.ones(U), ts.group)
    return cols


class TargetKind(ConstraintType):
    kind = ConstraintKind.TARGET
    model = TargetConstraint
    fields = (NAME, WorkbookField("target", "opt_code", dropdown="targets", width=10), TASK, YEARS,
              WorkbookField("unit_cost", "money"), WorkbookField("capacity_attribute", "opt_text", width=14),
              WorkbookField("baseline_attribute", "opt_text", width=14), WorkbookField("required", "opt_float", width=10),
              WorkbookField("integer", "bool", width=10))
    coupling = True

    def apply(self, d: Data, c: TargetConstraint, g: int) -> None:
        unit_group = d.add_group(c.name, ConstraintKind.TARGET_UNIT, c)
        target = next((t for t in d.plan.targets if t.code == c.target), None)
        capa = attribute_values(d.units, c.capacity_attribute)
        base = attribute_values(d.units, c.baseline_attribute)
        ys = [int(i) for i in select_years(c.years, d.years)]
        year_label = d.years[ys[-1]] if ys else None
        if target is not None and target.values:
            year_label = max(target.values)
        room = np.maximum(capa - base, 0.0)
        required = target_required(c, target, float(base.sum()))
        if c.integer:  # whole items: what a unit can still convert, and the count, in whole numbers
            room = np.floor(room + WHOLE_TOLERANCE)
            required = float(np.ceil(required - WHOLE_TOLERANCE))
        committed = None
        if c.committed:
            committed = np.array([float(c.committed.get(code, 0)) for code in d.unit_codes])
        spec = TargetSpec(g, unit_group, c, target, d.task_codes.index(c.task), ys, room, required, year_label, c.integer,
                          committed=committed)
        d.targets.append(spec)
        d.add_rows(self, c, g, spec)

    def rows(self, b: Builder, c: TargetConstraint, g: int, spec: TargetSpec, *, scaled: bool = False) -> None:
        target_rows(b, spec, b.d.targets.index(spec))

    def check(self, c: TargetConstraint, i: int, refs: PlanRefs) -> list[Problem]:
        out = super().check(c, i, refs)
        for unit in c.committed or {}:
            if unit not in refs.units:
                out.append(Problem("plan.constraint_unknown_reference", Source(path=json_path("allocation", "constraints", i, "committed", unit)),
                                   {"constraint": c.name, "what": "unit", "value": unit}))
        return out

    def precheck(self, d: Data, c: TargetConstraint, g: int, ts: TargetSpec) -> list[Conflict]:
        U = len(d.units)
        grp = d.groups[g]
        ys = np.asarray(ts.years, np.int64)
        budget = float(d.B[ts.task, ys].sum()) if ys.size else 0.0
        reach = d.hi[ts.task][ys].sum(axis=0) if ys.size else np.zeros(U)
        committed = float(ts.committed[ts.capacity > 0].sum()) if ts.committed is not None else 0.0
        by_budget = (budget + committed) / c.unit_cost
        by_units = float(ts.funded(reach).sum())
        if ts.whole:
            by_budget = float(np.floor(by_budget + WHOLE_TOLERANCE))
        capacity = float(ts.capacity.sum())
        best = min(by_budget, by_units, capacity)
        if ts.required <= best + 1e-9 * max(1.0, ts.required):
            return []
        task = d.tasks[ts.task]
        years = Msg("alloc.join.years", first=d.years[ys[0]], last=d.years[ys[-1]]) if ys.size else Msg("alloc.join.none")
        names: tuple[str, ...] = (grp.name,)
        locs: tuple[str, ...] = (d.location(grp),)
        common: dict[str, Any] = {"name": grp.name, "required": ts.required, "best": best}
        if capacity <= min(by_budget, by_units):
            msg = Msg("alloc.conflict.target_capacity", **common, capacity_attribute=c.capacity_attribute,
                      baseline_attribute=c.baseline_attribute, capacity=capacity)
        elif by_budget <= by_units:
            msg = Msg("alloc.conflict.target_budget", **common, unit_cost=c.unit_cost, cost=round(ts.required * c.unit_cost),
                      task=d.task_labels[task.code], years=years, budget=round(budget))
            names, locs = (*names, d.groups[int(d.budget_group[ts.task, ys[0]])].name), (*locs, "budget_lines")
        else:
            # caps and eligibility limit what the task can spend where the target can progress
            room = ts.capacity > 0
            limiting = sorted({int(x) for x in d.hi_src[ts.task][ys][:, room].ravel() if x >= 0})
            lnames = tuple(d.groups[x].name for x in limiting)
            names, locs = (*names, *lnames), (*locs, *(d.location(d.groups[x]) for x in limiting))
            msg = Msg("alloc.conflict.target_bounds", **common, names=list(lnames), task=d.task_labels[task.code],
                      reach=round(float(np.minimum(reach[room], ts.capacity[room] * c.unit_cost).sum())))
        amounts = {"required_cost": round(ts.required * c.unit_cost), "budget": round(budget), "unit_cost": int(c.unit_cost)}
        return [Conflict(name=grp.name, kind=ConstraintKind.TARGET, msg=msg, amounts=amounts, names=names, locations=locs)]

    def detail(self, d: Data, c: TargetConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        ts = next(t for t in d.targets if t.group == g or t.unit_group == g)
        cost = round(ts.required * c.unit_cost)
        return (Msg("alloc.detail.target", required=ts.required, unit_cost=int(c.unit_cost), cost=cost),
                {"unit_cost": int(c.unit_cost), "required_cost": cost})


KIND = TargetKind()

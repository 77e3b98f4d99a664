"""Target (chỉ tiêu có chi phí): an indicator target that costs money (e.g. newly healthy communes).

A unit converts c[u] ≤ capacity[u] − baseline[u] items at ``unit_cost`` each, funded by its
allocation of ``task`` over ``years``: unit_cost·c[u] ≤ Σ_y x[u,task,y]; Σ_u c[u] ≥ ``required``
(default: the target's last value minus its baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field

from ..core.i18n import Msg
from ..model.result import Conflict, ConstraintKind
from ..model.types import Code, Money, Text
from .base import INF, NAME, TASK, YEARS, ConstraintModel, ConstraintType, WorkbookField, attribute_values, select_years

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data
    from ..allocator._model import Builder
    from ..model.plan import Target

__all__ = ["TargetConstraint", "TargetSpec", "KIND", "target_required", "target_rows"]


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
    cols = b.lp.add_vars(U, 0.0, ts.capacity)
    b.lay.c[index] = cols
    ys = np.asarray(ts.years, np.int64)
    # unit_cost·c[u] − Σ_y x[u,task,y] ≤ 0 for the units that can progress (c[u] = 0 elsewhere)
    us = np.flatnonzero(ts.capacity > 0)
    m = us.size
    rows = np.repeat(np.arange(m), ys.size)
    cells = (ts.task * Y + np.tile(ys, m)) * U + us[rows]
    b.xrows(np.full(m, -INF), np.zeros(m), rows, cells, -np.ones(cells.size), ts.unit_group, us,
            extra=(np.arange(m), cols[us], np.full(m, ts.constraint.unit_cost / b.d.M)))
    if with_required:
        b.rows(np.array([ts.required]), np.array([INF]), np.zeros(U, np.int64), cols, np.ones(U), ts.group)
    return cols


class TargetKind(ConstraintType):
    kind = ConstraintKind.TARGET
    model = TargetConstraint
    fields = (NAME, WorkbookField("target", "opt_code", dropdown="targets", width=10), TASK, YEARS,
              WorkbookField("unit_cost", "money"), WorkbookField("capacity_attribute", "opt_text", width=14),
              WorkbookField("baseline_attribute", "opt_text", width=14), WorkbookField("required", "opt_float", width=10))
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
        spec = TargetSpec(g, unit_group, c, target, d.task_codes.index(c.task), ys, np.maximum(capa - base, 0.0),
                          target_required(c, target, float(base.sum())), year_label)
        d.targets.append(spec)
        d.add_rows(self, c, g, spec)

    def rows(self, b: Builder, c: TargetConstraint, g: int, spec: TargetSpec, *, scaled: bool = False) -> None:
        target_rows(b, spec, b.d.targets.index(spec))

    def precheck(self, d: Data, c: TargetConstraint, g: int, ts: TargetSpec) -> list[Conflict]:
        U = len(d.units)
        grp = d.groups[g]
        ys = np.asarray(ts.years, np.int64)
        budget = float(d.B[ts.task, ys].sum()) if ys.size else 0.0
        reach = d.hi[ts.task][ys].sum(axis=0) if ys.size else np.zeros(U)
        by_budget = budget / c.unit_cost
        by_units = float(np.minimum(ts.capacity, reach / c.unit_cost).sum())
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

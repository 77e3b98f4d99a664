"""Unit share (tỷ trọng tối đa của một địa bàn): no selected unit receives more than ``share`` of
a year's total over the selected tasks — Σ_{t∈tasks} x[u,t,y] ≤ share · Σ_{t∈tasks} B[t,y]
(e.g. "no district receives more than 12% of the year's total").

It couples the tasks of a year (one row per unit and year), so the ``proportional`` policy does
not apply it. With scaled budgets (``cheapest_budget``) the right-hand side scales with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from ..core.i18n import Msg
from ..model.result import Conflict, ConstraintKind
from ..model.types import Code, Text
from .base import INF, NAME, TASKS, UNITS, YEARS, ConstraintModel, ConstraintType, WorkbookField, select, select_years

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data
    from ..allocator._model import Builder

__all__ = ["UnitShareConstraint", "KIND"]


class UnitShareConstraint(ConstraintModel):
    """Σ_{t∈tasks} x[u,t,y] ≤ share · Σ_{t∈tasks} B[t,y] for every selected unit and year."""

    type: Literal["unit_share"] = "unit_share"
    name: Text
    share: float = Field(gt=0, le=1, allow_inf_nan=False, description="largest share of the year's total, 0.12 = 12 %")
    tasks: list[Code] | None = None
    units: list[Code] | None = None
    years: list[int] | None = None


@dataclass(frozen=True)
class Spec:
    tasks: np.ndarray
    units: np.ndarray
    years: np.ndarray


class UnitShare(ConstraintType):
    kind = ConstraintKind.UNIT_SHARE
    model = UnitShareConstraint
    row_element = "unit_year"
    fields = (NAME, WorkbookField("share", "opt_float", required=True, width=10), TASKS, UNITS, YEARS)
    coupling = True

    def apply(self, d: Data, c: UnitShareConstraint, g: int) -> None:
        spec = Spec(select(c.tasks, d.task_codes), select(c.units, d.unit_codes), select_years(c.years, d.years))
        d.add_rows(self, c, g, spec)

    def rows(self, b: Builder, c: UnitShareConstraint, g: int, spec: Spec, *, scaled: bool = False) -> None:
        d = b.d
        _T, Y, U = d.shape
        ts, us = spec.tasks, spec.units
        ys = np.array([y for y in spec.years if d.B[ts, y].sum() > 0], np.int64) if ts.size else np.zeros(0, np.int64)
        if not us.size or not ys.size:
            return
        uu, yy = np.meshgrid(us, ys, indexing="ij")  # rows: (unit, year)
        uu, yy = uu.ravel(), yy.ravel()
        m = uu.size
        rows = np.repeat(np.arange(m), ts.size)
        cells = ((ts[None, :] * Y + yy[:, None]) * U + uu[:, None]).ravel()
        if not scaled:
            total = d.B[np.ix_(ts, yy)].sum(axis=0) / b.d.M  # per row
            b.xrows(np.full(m, -INF), c.share * total, rows, cells, np.ones(cells.size), g, yy * U + uu)
            return
        # scaled budgets: Σ_t x − share·Σ_t k_t·B[t,y] ≤ 0
        funded = [t for t in ts.tolist() if t in b.lay.k]
        er = np.repeat(np.arange(m), len(funded))
        ek = np.tile(np.array([b.lay.k[t] for t in funded], np.int64), m)
        ev = -c.share * (d.B[np.ix_(funded, yy)].T.ravel() / b.d.M) if funded else np.zeros(0)
        b.xrows(np.full(m, -INF), np.zeros(m), rows, cells, np.ones(cells.size), g, yy * U + uu, extra=(er, ek, ev))

    def precheck(self, d: Data, c: UnitShareConstraint, g: int, spec: Spec) -> list[Conflict]:
        """Every unit that can receive money is capped: the year's total must fit under Σ of the caps."""
        out: list[Conflict] = []
        ts, us = spec.tasks, spec.units
        if not ts.size or not us.size:
            return out
        for y in spec.years.tolist():
            total = float(d.B[ts, y].sum())
            if total <= 0:
                continue
            # what the units can take of these tasks: the share for selected units, their caps otherwise
            reach = np.minimum(d.hi[ts, y].sum(axis=0), np.inf)
            room = np.where(np.isin(np.arange(len(d.units)), us), np.minimum(reach, c.share * total), reach)
            if room.sum() < total - 0.5:
                amounts = {"caps": int(np.floor(room.sum())), "budget": round(total), "shortfall": int(np.ceil(total - room.sum()))}
                msg = Msg("alloc.unit_share.short", name=c.name, year=d.years[y], units=int(us.size), share=c.share, **amounts)
                # the caps and eligibility rules that limit what the units can take are part of the conflict
                src = d.hi_src[ts, y]
                limiting = sorted({int(x) for x in src[np.isfinite(d.hi[ts, y])].ravel() if x >= 0})
                names = (c.name, *(d.groups[x].name for x in limiting))
                locs = (d.location(d.groups[g]), *(d.location(d.groups[x]) for x in limiting))
                out.append(Conflict(name=c.name, kind=self.kind, msg=msg, amounts=amounts, names=names, locations=locs))
        return out

    def detail(self, d: Data, c: UnitShareConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        return Msg("alloc.unit_share.detail", share=c.share), {}

    def rounded_violations(self, d: Data, c: UnitShareConstraint, g: int, spec: Spec, cells: np.ndarray) -> list[Msg]:
        out: list[Msg] = []
        for y in spec.years.tolist():
            total = float(d.B[spec.tasks, y].sum())
            if total <= 0 or not spec.units.size:
                continue
            excess = float((cells[spec.tasks, y][:, spec.units].sum(axis=0) - c.share * total).max())
            if excess > 1e-6:
                out.append(Msg("alloc.unit_share.exceeded", name=c.name, year=d.years[y], excess=int(np.ceil(excess))))
        return out


KIND = UnitShare()

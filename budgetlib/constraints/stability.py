"""Stability (ổn định giữa các năm): (1−δ)·x[u,t,y−1] ≤ x[u,t,y] ≤ (1+δ)·x[u,t,y−1] for consecutive
years that both have budget, and against ``prior`` amounts for the first year."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..core.i18n import Msg
from ..core.problems import Problem, Source, json_path
from ..model.result import ConstraintKind
from ..model.types import Code, Money, Text
from .base import INF, NAME, TASKS, UNITS, ConstraintModel, ConstraintType, PlanRefs, WorkbookField, select

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data
    from ..allocator._model import Builder

__all__ = ["PriorAmount", "StabilityConstraint", "KIND"]


class PriorAmount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    unit: Code
    task: Code
    amount: Money = Field(ge=0)


class StabilityConstraint(ConstraintModel):
    """|x[u,t,y] − x[u,t,y−1]| ≤ max_change·x[u,t,y−1]; for the first year against ``prior`` if given."""

    type: Literal["stability"] = "stability"
    name: Text
    tasks: list[Code] | None = None
    units: list[Code] | None = None
    max_change: float = Field(gt=0, allow_inf_nan=False, description="δ as a fraction, 0.2 = ±20 %")
    prior: list[PriorAmount] | None = None


@dataclass(frozen=True)
class Spec:
    tasks: np.ndarray
    units: np.ndarray
    delta: float
    # last year's amounts, one per (task, unit) in that order (a repeated pair: its last entry):
    # arrays, because a national plan holds tens of thousands and every build filters them
    prior_task: np.ndarray
    prior_unit: np.ndarray
    prior_amount: np.ndarray  # đồng


class Stability(ConstraintType):
    kind = ConstraintKind.STABILITY
    model = StabilityConstraint
    row_element = "cell"
    fields = (NAME, TASKS, UNITS, WorkbookField("max_change", "opt_float", width=10))
    coupling = True

    def check(self, c: StabilityConstraint, i: int, refs: PlanRefs) -> list[Problem]:
        out = super().check(c, i, refs)
        for j, prior in enumerate(c.prior or []):
            if prior.unit not in refs.units or prior.task not in refs.tasks:
                out.append(Problem("plan.constraint_prior_unknown", Source(path=json_path("allocation", "constraints", i, "prior", j)),
                                   {"constraint": c.name}))
        return out

    def apply(self, d: Data, c: StabilityConstraint, g: int) -> None:
        ti = {code: i for i, code in enumerate(d.task_codes)}
        ui = {code: i for i, code in enumerate(d.unit_codes)}
        prior = {(ti[p.task], ui[p.unit]): float(p.amount) for p in c.prior or [] if p.unit in ui and p.task in ti}
        keys = sorted(prior)
        d.add_rows(self, c, g, Spec(select(c.tasks, d.task_codes), select(c.units, d.unit_codes), float(c.max_change),
                                    np.array([t for t, _ in keys], np.int64), np.array([u for _, u in keys], np.int64),
                                    np.array([prior[k] for k in keys], float)))

    def rows(self, b: Builder, c: StabilityConstraint, g: int, spec: Spec, *, scaled: bool = False) -> None:
        d = b.d
        _T, Y, U = d.shape
        year_pos = {yr: i for i, yr in enumerate(d.years)}
        delta, us = spec.delta, spec.units
        pairs = [(t, y, year_pos[d.years[y] - 1]) for t in spec.tasks for y in range(1, Y)
                 if d.years[y] - 1 in year_pos and d.B[t, y] > 0 and d.B[t, year_pos[d.years[y] - 1]] > 0]
        if pairs and us.size:
            pt, py, pp = (np.array([a[k] for a in pairs]) for k in range(3))
            cur = ((pt * Y + py)[:, None] * U + us[None, :]).ravel()
            prev = ((pt * Y + pp)[:, None] * U + us[None, :]).ravel()
            m = cur.size
            rows = np.concatenate([np.arange(m), np.arange(m)])
            # x_y − (1+δ)x_{y−1} ≤ 0   and   (1−δ)x_{y−1} − x_y ≤ 0
            b.xrows(np.full(m, -INF), np.zeros(m), rows, np.concatenate([cur, prev]),
                    np.concatenate([np.ones(m), np.full(m, -(1 + delta))]), g, cur)
            b.xrows(np.full(m, -INF), np.zeros(m), rows, np.concatenate([prev, cur]),
                    np.concatenate([np.full(m, 1 - delta), -np.ones(m)]), g, cur)
        pt, pu, prior = _first_year(d, spec)
        if pt.size:  # the first year against the prior amounts
            cells = pt * Y * U + pu
            amt = prior / b.d.M
            m = cells.size
            b.xrows(np.full(m, -INF), (1 + delta) * amt, np.arange(m), cells, np.ones(m), g, cells)
            b.xrows((1 - delta) * amt, np.full(m, INF), np.arange(m), cells, np.ones(m), g, cells)

    def rounded_violations(self, d: Data, c: StabilityConstraint, g: int, spec: Spec, cells: np.ndarray) -> list[Msg]:
        worst = 0.0
        year_pos = {yr: i for i, yr in enumerate(d.years)}
        for t in spec.tasks.tolist():
            for y in range(1, len(d.years)):
                p = year_pos.get(d.years[y] - 1)
                if p is None or d.B[t, y] <= 0 or d.B[t, p] <= 0:
                    continue
                prev, cur = cells[t, p, spec.units].astype(float), cells[t, y, spec.units].astype(float)
                worst = max(worst, float(np.max(cur - (1 + spec.delta) * prev, initial=0)), float(np.max((1 - spec.delta) * prev - cur, initial=0)))
        out = [Msg("alloc.explain.rounding_violation", name=c.name, excess=int(np.ceil(worst)))] if worst > 1e-6 else []
        # the first year against last year's amounts (its own message: the rounding is searched for
        # it in rounding units only, not in whole đồng — see allocate._rounded, docs/allocation.md)
        pt, pu, prior = _first_year(d, spec)
        got = cells[pt, 0, pu].astype(float)
        off = max(float(np.max(got - (1 + spec.delta) * prior, initial=0)), float(np.max((1 - spec.delta) * prior - got, initial=0)))
        if off > 1e-6:
            out.append(Msg("alloc.explain.rounding_prior", name=c.name, excess=int(np.ceil(off))))
        return out

    def detail(self, d: Data, c: StabilityConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        return Msg("alloc.detail.stability", change=float(c.max_change)), {}


def _first_year(d: Data, spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells whose first-year amount is held against last year's (``prior``): task and unit
    indices, in (task, unit) order, and last year's amounts in đồng — those of the constraint's
    tasks and units whose first year has budget."""
    t, u = spec.prior_task, spec.prior_unit
    keep = np.isin(t, spec.tasks) & np.isin(u, spec.units) & (d.B[t, 0] > 0)
    return t[keep], u[keep], spec.prior_amount[keep]


KIND = Stability()

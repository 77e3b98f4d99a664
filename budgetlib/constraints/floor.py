"""Floor (mức sàn): x[u,t,y] ≥ bound for every selected unit, task and year with budget.

The bound is ``amount`` đồng, ``share_of_budget``·B[t,y] or ``times_proportional``·p[u,t,y]; the
tightest floor of a cell wins. Eligibility takes precedence over floors (a floor for "every unit"
applies to eligible units only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..core.i18n import Msg
from ..model.result import ConstraintKind
from .base import (
    AMOUNT,
    NAME,
    SHARE,
    TASKS,
    TIMES,
    UNITS,
    YEARS,
    BoundAmountModel,
    ConstraintType,
    select,
    select_years,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data

__all__ = ["FloorConstraint", "KIND", "bound_values", "bound_detail"]


class FloorConstraint(BoundAmountModel):
    """x[u,t,y] ≥ bound for every selected unit, task and year (mức sàn)."""

    type: Literal["floor"] = "floor"


def bound_values(d: Data, c: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(mask of cells, bound values [T, Y, U], relative to the budget?) of a floor or a cap."""
    shape = d.shape
    mask = np.zeros(shape, bool)
    mask[np.ix_(select(c.tasks, d.task_codes), select_years(c.years, d.years), select(c.units, d.unit_codes))] = True
    mask &= (d.B > 0)[:, :, None]
    if c.amount is not None:
        return mask, np.full(shape, float(c.amount)), False
    if c.share_of_budget is not None:
        return mask, np.broadcast_to(c.share_of_budget * d.B[:, :, None], shape), True
    return mask, c.times_proportional * d.p, True


def bound_detail(c: Any) -> tuple[Msg, dict[str, int]]:
    if c.amount is not None:
        return Msg("alloc.detail.amount", amount=int(c.amount)), {"amount": int(c.amount)}
    if c.share_of_budget is not None:
        return Msg("alloc.detail.share", share=float(c.share_of_budget)), {}
    return Msg("alloc.detail.times", times=float(c.times_proportional)), {}


class Floor(ConstraintType):
    kind = ConstraintKind.FLOOR
    model = FloorConstraint
    bounds = True
    fields = (NAME, TASKS, UNITS, YEARS, AMOUNT, SHARE, TIMES)

    def apply(self, d: Data, c: FloorConstraint, g: int) -> None:
        mask, values, relative = bound_values(d, c)
        d.put_floor(mask, values, g, relative=relative)

    def detail(self, d: Data, c: FloorConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        return bound_detail(c)


KIND = Floor()

"""Earmark (kinh phí bố trí riêng): x[unit,task,y] = amount for each selected year (e.g. a pilot model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from ..core.i18n import Msg
from ..model.result import ConstraintKind
from ..model.types import Code, Money, Text
from .base import AMOUNT, NAME, TASK, UNIT, YEARS, ConstraintModel, ConstraintType, select, select_years

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data

__all__ = ["EarmarkConstraint", "KIND"]


class EarmarkConstraint(ConstraintModel):
    """x[unit,task,y] = amount for each selected year (kinh phí bố trí riêng, e.g. a pilot model)."""

    type: Literal["earmark"] = "earmark"
    name: Text
    unit: Code
    task: Code
    years: list[int] | None = None
    amount: Money = Field(ge=0)


class Earmark(ConstraintType):
    kind = ConstraintKind.EARMARK
    model = EarmarkConstraint
    bounds = True
    fields = (NAME, UNIT, TASK, YEARS, AMOUNT)

    def apply(self, d: Data, c: EarmarkConstraint, g: int) -> None:
        mask = np.zeros(d.shape, bool)
        mask[np.ix_(select([c.task], d.task_codes), select_years(c.years, d.years), select([c.unit], d.unit_codes))] = True
        values = np.full(d.shape, float(c.amount))
        d.put_floor(mask, values, g, relative=False, ties=True)
        d.put_cap(mask, values, g, relative=False, ties=True)

    def detail(self, d: Data, c: EarmarkConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        return Msg("alloc.detail.earmark", amount=int(c.amount)), {"amount": int(c.amount)}


KIND = Earmark()

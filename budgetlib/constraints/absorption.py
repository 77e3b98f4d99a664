"""Absorption (khả năng giải ngân): Σ_t x[u,t,y] ≤ amount + per_attribute_amount·attribute[u]
for the selected units and years — what a unit can spend in a year across all tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from ..core.i18n import Msg
from ..model.result import ConstraintKind
from ..model.types import Code, Money, Text
from .base import (
    AMOUNT,
    ATTRIBUTE,
    INF,
    NAME,
    UNITS,
    YEARS,
    ConstraintModel,
    ConstraintType,
    WorkbookField,
    attribute_values,
    select,
    select_years,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data
    from ..allocator._model import Builder

__all__ = ["AbsorptionConstraint", "KIND"]


class AbsorptionConstraint(ConstraintModel):
    """Σ_t x[u,t,y] ≤ amount + per_attribute_amount·attribute[u] for selected units and years."""

    type: Literal["absorption"] = "absorption"
    name: Text
    units: list[Code] | None = None
    years: list[int] | None = None
    amount: Money = Field(0, ge=0)
    attribute: str | None = None
    per_attribute_amount: Money = Field(0, ge=0)


@dataclass(frozen=True)
class Spec:
    units: np.ndarray  # unit indices
    years: np.ndarray  # year indices
    cap: np.ndarray  # đồng per selected unit and year


class Absorption(ConstraintType):
    kind = ConstraintKind.ABSORPTION
    model = AbsorptionConstraint
    row_element = "unit_year"
    fields = (NAME, UNITS, YEARS, AMOUNT, ATTRIBUTE, WorkbookField("per_attribute_amount", "money"))
    coupling = True

    def apply(self, d: Data, c: AbsorptionConstraint, g: int) -> None:
        us = select(c.units, d.unit_codes)
        cap = float(c.amount) + float(c.per_attribute_amount) * attribute_values([d.units[u] for u in us], c.attribute)
        d.add_rows(self, c, g, Spec(us, select_years(c.years, d.years), cap))

    def rows(self, b: Builder, c: AbsorptionConstraint, g: int, spec: Spec, *, scaled: bool = False) -> None:
        T, Y, U = b.d.shape
        if not spec.units.size or not spec.years.size:
            return
        uu, yy = np.meshgrid(spec.units, spec.years, indexing="ij")  # rows: (unit, year)
        uu, yy = uu.ravel(), yy.ravel()
        m = uu.size
        capr = np.repeat(spec.cap, spec.years.size) / b.d.M
        rows = np.repeat(np.arange(m), T)
        cells = ((np.arange(T)[None, :] * Y + yy[:, None]) * U + uu[:, None]).ravel()
        b.xrows(np.full(m, -INF), capr, rows, cells, np.ones(cells.size), g, yy * U + uu)

    def detail(self, d: Data, c: AbsorptionConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        amounts = {"amount": int(c.amount), "per_attribute_amount": int(c.per_attribute_amount)}
        if c.attribute:
            return Msg("alloc.detail.absorption_attribute", amount=int(c.amount), per=int(c.per_attribute_amount), attribute=c.attribute), amounts
        return Msg("alloc.detail.absorption", amount=int(c.amount)), amounts

    def rounded_violations(self, d: Data, c: AbsorptionConstraint, g: int, spec: Spec, cells: np.ndarray) -> list[Msg]:
        if not spec.units.size or not spec.years.size:
            return []
        tot = cells[:, spec.years][:, :, spec.units].sum(axis=0)  # [Y', U']
        excess = float((tot - spec.cap[None, :]).max())
        return [Msg("alloc.explain.absorption_exceeded", name=c.name, excess=int(np.ceil(excess)))] if excess > 0 else []


KIND = Absorption()

"""Cap (mức trần): x[u,t,y] ≤ bound for every selected unit, task and year with budget.

The bound is ``amount`` đồng, ``share_of_budget``·B[t,y] or ``times_proportional``·p[u,t,y]; the
tightest cap of a cell wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ..core.i18n import Msg
from ..model.result import ConstraintKind
from .base import AMOUNT, NAME, SHARE, TASKS, TIMES, UNITS, YEARS, BoundAmountModel, ConstraintType
from .floor import bound_detail, bound_values

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data

__all__ = ["CapConstraint", "KIND"]


class CapConstraint(BoundAmountModel):
    """x[u,t,y] ≤ bound for every selected unit, task and year (mức trần)."""

    type: Literal["cap"] = "cap"


class Cap(ConstraintType):
    kind = ConstraintKind.CAP
    model = CapConstraint
    bounds = True
    fields = (NAME, TASKS, UNITS, YEARS, AMOUNT, SHARE, TIMES)

    def apply(self, d: Data, c: CapConstraint, g: int) -> None:
        mask, values, relative = bound_values(d, c)
        d.put_cap(mask, values, g, relative=relative)

    def detail(self, d: Data, c: CapConstraint, g: int) -> tuple[Msg, dict[str, int]]:
        return bound_detail(c)


KIND = Cap()

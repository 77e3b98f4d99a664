"""Eligibility (điều kiện được hưởng): tasks only for units that match; zero elsewhere.

A unit matches when it is in ``units`` (if given) and its ``attribute op value`` holds (if
given). Eligibility takes precedence over floors; an earmark on an ineligible unit stays a conflict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field, model_validator

from ..core.i18n import LocalizedError
from ..core.problems import Problem, Source, json_path
from ..model.result import ConstraintKind
from ..model.types import Code, Text
from .base import (
    ATTRIBUTE,
    NAME,
    OPS,
    TASKS,
    UNITS,
    ConstraintModel,
    ConstraintType,
    PlanRefs,
    WorkbookField,
    attribute_values,
    select,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..allocator._data import Data

__all__ = ["EligibilityConstraint", "KIND"]


class EligibilityConstraint(ConstraintModel):
    """Tasks only for units that match: listed ``units`` and/or ``attribute op value``; zero elsewhere."""

    type: Literal["eligibility"] = "eligibility"
    name: Text
    tasks: list[Code]
    units: list[Code] | None = None
    attribute: str | None = None
    op: Literal[">", ">=", "==", "!=", "<=", "<"] = ">"
    value: float = Field(0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _some_condition(self) -> EligibilityConstraint:
        if self.units is None and self.attribute is None:
            raise LocalizedError("alloc.policy_check.eligibility_condition")
        return self


def eligible(d: Data, c: EligibilityConstraint) -> np.ndarray:
    """Which units of ``d`` match the condition."""
    ok = np.ones(len(d.units), bool)
    if c.units is not None:
        ok &= np.isin(d.unit_codes, c.units)
    if c.attribute is not None:
        op = OPS[c.op]
        ok &= np.array([op(v, c.value) for v in attribute_values(d.units, c.attribute)], bool)
    return ok


class Eligibility(ConstraintType):
    kind = ConstraintKind.ELIGIBILITY
    model = EligibilityConstraint
    bounds = True
    fields = (NAME, TASKS, UNITS, ATTRIBUTE, WorkbookField("op", "enum", enum="op", width=8), WorkbookField("value", "opt_float", width=10))

    def check(self, c: EligibilityConstraint, i: int, refs: PlanRefs) -> list[Problem]:
        out = super().check(c, i, refs)
        if c.attribute is not None and c.attribute not in refs.attributes:
            out.append(Problem("plan.constraint_attribute_missing", Source(path=json_path("allocation", "constraints", i, "attribute")),
                               {"constraint": c.name, "value": c.attribute}))
        return out

    def apply(self, d: Data, c: EligibilityConstraint, g: int) -> None:
        mask = np.zeros(d.shape, bool)
        mask[np.ix_(select(c.tasks, d.task_codes), np.arange(len(d.years)), np.flatnonzero(~eligible(d, c)))] = True
        d.put_cap(mask, np.zeros(d.shape), g, relative=False)
        d.ineligible |= mask


KIND = Eligibility()

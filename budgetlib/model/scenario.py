"""Scenarios (kịch bản): named sets of changes to a plan, declared as data.

A plan may carry ``scenarios`` — "what if the province gives 10% less?", "what if central support
does not come?", "min_deviation or max_min?" — each a list of changes applied to a copy of the
plan (:func:`budgetlib.planning.scenarios.apply_scenario`). The plan as written is the **base**;
every comparison is against it. Changes:

* :class:`ScaleBudget` — scale budget lines by a ``factor`` (0.9 = 10% less) or to a new ``total``
  in đồng: the whole budget, or one ``source``, some ``tasks`` / ``years``; the new amounts are
  apportioned over the selected lines exactly to the đồng;
* :class:`DropSource` — a funding source does not come (its budget lines are removed);
* :class:`SetPolicy` — another allocation method, deviation weighting or rounding unit;
* :class:`SetConstraint` / :class:`DropConstraint` — change a named constraint's value, or drop it;
* :class:`SetTarget` — change a target's value for a year.

In a plan file the block is ``"scenarios": [{"name": …, "description": …, "changes": [{"type":
"drop_source", "source": "NS_TINH"}, …]}]``; in a workbook it is the ``Kịch bản`` sheet.

>>> s = Scenario(name="Tỉnh giảm 10%", changes=[{"type": "scale_budget", "factor": 0.9, "source": "NS_TINH"}])
>>> s.changes[0].factor, s.changes[0].source
(0.9, 'NS_TINH')
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.i18n import LocalizedError
from .policy import DeviationWeighting, PolicyKind
from .types import Code, Money, Text

__all__ = [
    "ScaleBudget",
    "DropSource",
    "SetPolicy",
    "SetConstraint",
    "DropConstraint",
    "SetTarget",
    "Change",
    "Scenario",
    "CONSTRAINT_VALUE_FIELDS",
    "MONEY_FIELDS",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ScaleBudget(_Frozen):
    """Budget lines × ``factor``, or set to ``total`` đồng; of ``source`` / ``tasks`` / ``years`` (default all)."""

    type: Literal["scale_budget"] = "scale_budget"
    factor: float | None = Field(None, ge=0, allow_inf_nan=False)
    total: Money | None = Field(None, ge=0)
    source: Code | None = None
    tasks: list[Code] | None = None
    years: list[int] | None = None

    @model_validator(mode="after")
    def _factor_or_total(self) -> ScaleBudget:
        if (self.factor is None) == (self.total is None):
            raise LocalizedError("scenario.model.factor_or_total")
        return self


class DropSource(_Frozen):
    """The source does not come: every budget line of ``source`` is removed (the total falls with it)."""

    type: Literal["drop_source"] = "drop_source"
    source: Code


class SetPolicy(_Frozen):
    """Another allocation method (``kind``), deviation weighting or rounding unit; constraints are kept."""

    type: Literal["set_policy"] = "set_policy"
    kind: PolicyKind | None = None
    deviation: DeviationWeighting | None = None
    rounding_unit: Money | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _something(self) -> SetPolicy:
        if self.kind is None and self.deviation is None and self.rounding_unit is None:
            raise LocalizedError("scenario.model.empty_policy")
        return self


CONSTRAINT_VALUE_FIELDS: dict[str, tuple[str, ...]] = {
    "floor": ("amount", "share_of_budget", "times_proportional"),
    "cap": ("amount", "share_of_budget", "times_proportional"),
    "earmark": ("amount",),
    "eligibility": ("value",),
    "absorption": ("amount", "per_attribute_amount"),
    "stability": ("max_change",),
    "target": ("required", "unit_cost"),
    "unit_share": ("share",),
}
"""Which value fields a :class:`SetConstraint` may change, by constraint type (the first is the default,
except for floors and caps whose default is the field they already use)."""

MONEY_FIELDS = frozenset({"amount", "per_attribute_amount", "unit_cost"})
"""Constraint fields that hold integer đồng."""


class SetConstraint(_Frozen):
    """The named ``constraint`` gets ``value`` in ``field`` (default: the field that constraint already uses)."""

    type: Literal["set_constraint"] = "set_constraint"
    constraint: Text = Field(min_length=1)
    field: str | None = Field(None, pattern=r"^[a-z_]+$")
    value: float = Field(ge=0, allow_inf_nan=False)


class DropConstraint(_Frozen):
    """The named ``constraint`` no longer applies."""

    type: Literal["drop_constraint"] = "drop_constraint"
    constraint: Text = Field(min_length=1)


class SetTarget(_Frozen):
    """Target ``target`` gets ``value`` for ``year`` (default: its last year with a value)."""

    type: Literal["set_target"] = "set_target"
    target: Code
    year: int | None = None
    value: float = Field(ge=0, allow_inf_nan=False)


Change = Annotated[
    ScaleBudget | DropSource | SetPolicy | SetConstraint | DropConstraint | SetTarget,
    Field(discriminator="type"),
]


class Scenario(_Frozen):
    """A named what-if: the plan with ``changes`` applied in order."""

    name: Text = Field(min_length=1)
    description: Text = ""
    changes: list[Change] = Field(default_factory=list)

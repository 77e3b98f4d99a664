"""The allocation policy: objective and named constraints, declared as data.

The mathematics of each policy and constraint is in ``docs/allocation.md``. Every constraint
has a human ``name`` (e.g. "Sàn 50 triệu/quận cho tuyên truyền") so that a binding constraint or an
infeasibility diagnosis reads in budget language.

Selectors (``tasks``, ``units``, ``years``) default to "all".
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.i18n import LocalizedError, tr
from ..core.lang import Lang
from .types import Code as _Code
from .types import Money as _Money
from .types import Text as _Text

__all__ = [
    "PolicyKind",
    "DeviationWeighting",
    "FloorConstraint",
    "CapConstraint",
    "EarmarkConstraint",
    "EligibilityConstraint",
    "AbsorptionConstraint",
    "StabilityConstraint",
    "PriorAmount",
    "TargetConstraint",
    "ResponseSegment",
    "ResponseCurve",
    "Constraint",
    "AllocationPolicy",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class PolicyKind(StrEnum):
    PROPORTIONAL = "proportional"  # theo tỷ lệ nhu cầu (có sàn/trần)
    MIN_DEVIATION = "min_deviation"  # sát tỷ lệ nhất có thể
    MAX_MIN = "max_min"  # công bằng: nâng mức bao phủ thấp nhất
    MAX_OUTCOME = "max_outcome"  # hiệu quả: tối đa kết quả

    def label(self, lang: str | Lang) -> str:
        """The policy in words (``Sát tỷ lệ nhu cầu, thỏa mọi ràng buộc``)."""
        return tr(f"policy.{self.value}", lang)


class DeviationWeighting(StrEnum):
    ABSOLUTE = "absolute"  # Σ |x − p|
    RELATIVE = "relative"  # Σ |x − p| / p  (each unit's deviation counted relative to its share)


class _Selector(_Frozen):
    name: _Text = Field(description="Human name shown in explanations and diagnoses")
    tasks: list[_Code] | None = None
    units: list[_Code] | None = None
    years: list[int] | None = None


class _BoundAmount(_Selector):
    """Exactly one of ``amount`` (đồng per unit, task, year), ``share_of_budget`` (fraction of B[t,y])
    or ``times_proportional`` (multiple of the proportional share p[u,t,y])."""

    amount: _Money | None = Field(None, ge=0)
    share_of_budget: float | None = Field(None, ge=0)
    times_proportional: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> _BoundAmount:
        given = [f for f in ("amount", "share_of_budget", "times_proportional") if getattr(self, f) is not None]
        if len(given) != 1:
            raise LocalizedError("alloc.policy_check.exactly_one_bound")
        return self


class FloorConstraint(_BoundAmount):
    """x[u,t,y] ≥ bound for every selected unit, task and year (mức sàn)."""

    type: Literal["floor"] = "floor"


class CapConstraint(_BoundAmount):
    """x[u,t,y] ≤ bound for every selected unit, task and year (mức trần)."""

    type: Literal["cap"] = "cap"


class EarmarkConstraint(_Frozen):
    """x[unit,task,y] = amount for each selected year (kinh phí bố trí riêng, e.g. a pilot model)."""

    type: Literal["earmark"] = "earmark"
    name: _Text
    unit: _Code
    task: _Code
    years: list[int] | None = None
    amount: _Money = Field(ge=0)


class EligibilityConstraint(_Frozen):
    """Tasks only for units that match: listed ``units`` and/or ``attribute op value``; zero elsewhere."""

    type: Literal["eligibility"] = "eligibility"
    name: _Text
    tasks: list[_Code]
    units: list[_Code] | None = None
    attribute: str | None = None
    op: Literal[">", ">=", "==", "!=", "<=", "<"] = ">"
    value: float = 0.0

    @model_validator(mode="after")
    def _some_condition(self) -> EligibilityConstraint:
        if self.units is None and self.attribute is None:
            raise LocalizedError("alloc.policy_check.eligibility_condition")
        return self


class AbsorptionConstraint(_Frozen):
    """Σ_t x[u,t,y] ≤ amount + per_attribute_amount·attribute[u] for selected units and years."""

    type: Literal["absorption"] = "absorption"
    name: _Text
    units: list[_Code] | None = None
    years: list[int] | None = None
    amount: _Money = Field(0, ge=0)
    attribute: str | None = None
    per_attribute_amount: _Money = Field(0, ge=0)


class PriorAmount(_Frozen):
    unit: _Code
    task: _Code
    amount: _Money = Field(ge=0)


class StabilityConstraint(_Frozen):
    """|x[u,t,y] − x[u,t,y−1]| ≤ max_change·x[u,t,y−1]; for the first year against ``prior`` if given."""

    type: Literal["stability"] = "stability"
    name: _Text
    tasks: list[_Code] | None = None
    units: list[_Code] | None = None
    max_change: float = Field(gt=0, description="δ as a fraction, 0.2 = ±20 %")
    prior: list[PriorAmount] | None = None


class TargetConstraint(_Frozen):
    """An indicator target that costs money (e.g. newly healthy communes).

    A unit converts c[u] ≤ capacity[u] − baseline[u] items at ``unit_cost`` each, funded by its
    allocation of ``task`` over ``years``: unit_cost·c[u] ≤ Σ_y x[u,task,y]. The total must reach
    ``required`` (default: the target's last value minus its baseline).
    """

    type: Literal["target"] = "target"
    name: _Text
    target: _Code
    task: _Code
    unit_cost: _Money = Field(gt=0)
    capacity_attribute: str = "communes"
    baseline_attribute: str = "healthy_communes"
    years: list[int] | None = None
    required: float | None = Field(None, ge=0)


Constraint = Annotated[
    FloorConstraint | CapConstraint | EarmarkConstraint | EligibilityConstraint | AbsorptionConstraint | StabilityConstraint | TargetConstraint,
    Field(discriminator="type"),
]


class ResponseSegment(_Frozen):
    """A segment of a concave response curve: ``width`` as a multiple of the proportional share
    (None = unbounded last segment), ``outcome_per_million`` outcome units per 1 triệu đồng."""

    width: float | None = Field(None, gt=0)
    outcome_per_million: float = Field(ge=0)


class ResponseCurve(_Frozen):
    task: _Code
    outcome: _Text = Field("", description="What is counted, e.g. 'lượt người được tiếp cận'")
    segments: list[ResponseSegment] = Field(min_length=1)

    @model_validator(mode="after")
    def _concave(self) -> ResponseCurve:
        slopes = [s.outcome_per_million for s in self.segments]
        if any(b > a for a, b in itertools.pairwise(slopes)):
            raise LocalizedError("alloc.policy_check.curve_not_concave")
        if any(s.width is None for s in self.segments[:-1]):
            raise LocalizedError("alloc.policy_check.curve_unbounded_middle")
        return self


class AllocationPolicy(_Frozen):
    """How a plan's task budgets are split across units."""

    kind: PolicyKind = PolicyKind.MIN_DEVIATION
    level: Literal["district", "commune"] = "district"
    rounding_unit: _Money = Field(1, gt=0, description="Round allocations to this many đồng (1, 1000, 1000000)")
    years: list[int] | None = None
    deviation: DeviationWeighting = DeviationWeighting.ABSOLUTE
    constraints: list[Constraint] = Field(default_factory=list)
    response_curves: list[ResponseCurve] = Field(default_factory=list)
    solver: Literal["highs", "cbc"] = "highs"

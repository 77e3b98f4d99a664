"""The allocation policy: objective and named constraints, declared as data.

The mathematics of each policy and constraint is in ``docs/allocation.md``. Every constraint
has a human ``name`` (e.g. "Sàn 50 triệu/quận cho tuyên truyền") so that a binding constraint or an
infeasibility diagnosis reads in budget language.

Selectors (``tasks``, ``units``, ``years``) default to "all". Each constraint kind (its model,
checks and mathematics) is a module of :mod:`budgetlib.constraints`; they are re-exported here.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..constraints.absorption import AbsorptionConstraint
from ..constraints.base import ConstraintModel
from ..constraints.cap import CapConstraint
from ..constraints.earmark import EarmarkConstraint
from ..constraints.eligibility import EligibilityConstraint
from ..constraints.floor import FloorConstraint
from ..constraints.registry import CONSTRAINT_MODELS
from ..constraints.stability import PriorAmount, StabilityConstraint
from ..constraints.target import TargetConstraint
from ..constraints.unit_share import UnitShareConstraint
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
    "UnitShareConstraint",
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
    """How the fair final stage weighs a unit's deviation from its reference share r."""

    ABSOLUTE = "absolute"  # Σ (x − r)²: a forced change shared in equal amounts
    RELATIVE = "relative"  # Σ (x − r)²/r (χ²): a forced change shared in proportion to r (the default)


if TYPE_CHECKING:
    Constraint: TypeAlias = ConstraintModel
else:
    Constraint = Annotated[Union[CONSTRAINT_MODELS], Field(discriminator="type")]  # noqa: UP007 - a runtime tuple
"""Any registered constraint kind (``budgetlib.constraints.registry``), tagged by ``type``."""


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
    deviation: DeviationWeighting = DeviationWeighting.RELATIVE
    constraints: list[Constraint] = Field(default_factory=list)
    response_curves: list[ResponseCurve] = Field(default_factory=list)
    solver: Literal["highs", "cbc"] = "highs"

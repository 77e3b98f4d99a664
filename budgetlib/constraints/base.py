"""What every constraint kind declares, and the helpers its module uses.

A kind is one module of this package exposing a :class:`ConstraintType` instance ``KIND``. It
declares, together: the pydantic model of the constraint (its fields and field checks), the
cross-reference checks against the plan, the workbook fields of its row on the policy sheet, how
it bounds cells or adds LP rows, its quick pre-check, the amounts it shows in a diagnosis, and
whether it couples task-years (then the closed-form ``proportional`` policy cannot apply it).

The hooks receive the allocator's arrays (``budgetlib.allocator._data.Data``) and its model
builder (``budgetlib.allocator._model.Builder``); they are only named here for type checkers, so
this package never imports the allocator at run time (layering: core → model types →
constraints → model.policy → … → allocator).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.i18n import LocalizedError, Msg
from ..core.problems import Problem, Source, json_path
from ..model.result import Conflict, ConstraintKind
from ..model.types import Code, Money, Text

if TYPE_CHECKING:  # pragma: no cover - names for type checkers only
    from ..allocator._data import Data
    from ..allocator._model import Builder
    from ..model.plan import Plan

__all__ = [
    "ConstraintModel",
    "SelectorModel",
    "BoundAmountModel",
    "WorkbookField",
    "ConstraintType",
    "PlanRefs",
    "select",
    "select_years",
    "OPS",
]

INF = float("inf")
OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<=": operator.le, "<": operator.lt,
}


class ConstraintModel(BaseModel):
    """Base of every constraint model: frozen, no unknown fields. Each kind declares ``type`` (its
    tag, a ``Literal``) and a human ``name`` shown in explanations and diagnoses."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    if TYPE_CHECKING:  # declared by every kind, in its own field order
        type: str
        name: str


class SelectorModel(ConstraintModel):
    """Selectors ``tasks``, ``units``, ``years`` default to "all"."""

    name: Text = Field(description="Human name shown in explanations and diagnoses")
    tasks: list[Code] | None = None
    units: list[Code] | None = None
    years: list[int] | None = None


class BoundAmountModel(SelectorModel):
    """Exactly one of ``amount`` (đồng per unit, task, year), ``share_of_budget`` (fraction of B[t,y])
    or ``times_proportional`` (multiple of the proportional share p[u,t,y])."""

    amount: Money | None = Field(None, ge=0)
    share_of_budget: float | None = Field(None, ge=0, allow_inf_nan=False)
    times_proportional: float | None = Field(None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _exactly_one(self) -> BoundAmountModel:
        given = [f for f in ("amount", "share_of_budget", "times_proportional") if getattr(self, f) is not None]
        if len(given) != 1:
            raise LocalizedError("alloc.policy_check.exactly_one_bound")
        return self


@dataclass(frozen=True)
class WorkbookField:
    """One column of the constraint's row on the policy sheet (``Chính sách phân bổ``).

    ``key`` is the JSON key; ``kind`` how its cell is read (the workbook reader's field kinds:
    ``text``, ``opt_text``, ``code``, ``opt_code``, ``list``, ``years``, ``money``, ``opt_float``,
    ``enum``, ``bool``); the header and the help text are catalogue codes ``alloc.field.<key>`` and
    ``alloc.field_help.<key>``."""

    key: str
    kind: str
    required: bool = False
    enum: str | None = None
    dropdown: str | None = None
    width: float = 12.0

    @property
    def header(self) -> Msg:
        return Msg(f"alloc.field.{self.key}")

    @property
    def help(self) -> Msg:
        return Msg(f"alloc.field_help.{self.key}")


F = WorkbookField
NAME = F("name", "text", required=True, width=40)
TASKS = F("tasks", "list")
UNITS = F("units", "list")
YEARS = F("years", "years", width=10)
AMOUNT = F("amount", "money")
SHARE = F("share_of_budget", "opt_float")
TIMES = F("times_proportional", "opt_float")
UNIT = F("unit", "opt_code", dropdown="units")
TASK = F("task", "opt_code", dropdown="tasks")
ATTRIBUTE = F("attribute", "opt_text", width=14)


@dataclass(frozen=True)
class PlanRefs:
    """What a constraint may refer to in its plan: codes of tasks, units (at the allocation level),
    targets, the program years and the attributes the units carry."""

    tasks: frozenset[str]
    units: frozenset[str]
    targets: frozenset[str]
    years: frozenset[int] | None
    attributes: frozenset[str]

    @classmethod
    def of(cls, plan: Plan) -> PlanRefs:
        from ..model.plan import Level

        level = Level.COMMUNE if plan.allocation is not None and plan.allocation.level == "commune" else Level.DISTRICT
        units = plan.units_at(level)
        return cls(
            tasks=frozenset(t.code for t in plan.tasks),
            units=frozenset(u.code for u in units),
            targets=frozenset(t.code for t in plan.targets),
            years=frozenset(plan.program.years) if plan.program is not None else None,
            attributes=frozenset(a for u in units for a in u.attributes),
        )


def _path(i: int, *parts: str | int) -> str:
    return json_path("allocation", "constraints", i, *parts)


class ConstraintType:
    """The behaviour of one constraint kind; modules subclass it and override what applies.

    ``bounds`` kinds change the cell bounds [lo, hi] (floors, caps, earmarks, eligibility);
    ``rows`` kinds add LP rows and usually couple task-years (absorption, stability, targets,
    a unit's share). A kind may do both.
    """

    kind: ClassVar[ConstraintKind]
    model: ClassVar[type[ConstraintModel]]
    fields: ClassVar[tuple[WorkbookField, ...]] = ()
    coupling: ClassVar[bool] = False
    """Couples task-years (rows across tasks or years): the ``proportional`` policy does not apply it."""
    bounds: ClassVar[bool] = False
    """Acts on cell bounds only (reported per cell, with reduced costs as shadow prices)."""
    row_element: ClassVar[str] = ""
    """What one of its LP rows is about, for reports: ``"cell"`` (t, y, u), ``"unit_year"``, ``"unit"``."""

    # -- validation ---------------------------------------------------------------------------
    def check(self, c: Any, i: int, refs: PlanRefs) -> list[Problem]:
        """Cross-reference checks against the plan (unknown codes, years, attributes)."""
        out: list[Problem] = []
        for field, known, what in (("tasks", refs.tasks, "task"), ("units", refs.units, "unit")):
            for j, value in enumerate(getattr(c, field, None) or []):
                if value not in known:
                    out.append(Problem("plan.constraint_unknown_reference", Source(path=_path(i, field, j)),
                                       {"constraint": c.name, "what": what, "value": value}))
        for field, known, what in (("task", refs.tasks, "task"), ("unit", refs.units, "unit"), ("target", refs.targets, "target")):
            value = getattr(c, field, None)
            if isinstance(value, str) and value not in known:
                out.append(Problem("plan.constraint_unknown_reference", Source(path=_path(i, field)),
                                   {"constraint": c.name, "what": what, "value": value}))
        for j, year in enumerate(getattr(c, "years", None) or []):
            if refs.years is not None and year not in refs.years:
                out.append(Problem("plan.constraint_year_outside", Source(path=_path(i, "years", j)), {"constraint": c.name, "value": year}))
        return out

    # -- allocator hooks ----------------------------------------------------------------------
    def apply(self, d: Data, c: Any, g: int) -> None:
        """Record the constraint on the arrays: cell bounds (with ``g`` as their provenance) or the
        data its rows need (``d.row_specs``)."""

    def rows(self, b: Builder, c: Any, g: int, spec: Any, *, scaled: bool = False) -> None:
        """Add the LP rows of the constraint (``spec`` is what :meth:`apply` recorded)."""

    def precheck(self, d: Data, c: Any, g: int, spec: Any) -> list[Conflict]:
        """Quick infeasibility findings that need no LP (with amounts)."""
        return []

    def detail(self, d: Data, c: Any, g: int) -> tuple[Msg, dict[str, int]]:
        """The tail of a diagnosis line (``: 40.000.000 đ mỗi địa bàn…``) and the amounts involved."""
        return Msg("alloc.detail.none"), {}

    def rounded_violations(self, d: Data, c: Any, g: int, spec: Any, cells: np.ndarray) -> list[Msg]:
        """Violations of the constraint by the integer amounts ``cells[t, y, u]`` (after rounding)."""
        return []


def select(codes: Sequence[str] | None, universe: Sequence[str]) -> np.ndarray:
    """Indices of ``codes`` in ``universe`` (all of them for ``None``), in universe order."""
    if codes is None:
        return np.arange(len(universe))
    wanted = set(codes)
    return np.array([i for i, c in enumerate(universe) if c in wanted], dtype=np.int64)


def select_years(years: Sequence[int] | None, universe: Sequence[int]) -> np.ndarray:
    return select(None if years is None else [str(y) for y in years], [str(y) for y in universe])


def attribute_values(units: Sequence[Any], attribute: str | None) -> np.ndarray:
    """One attribute of every unit as floats (missing = 0)."""
    if attribute is None:
        return np.zeros(len(units))
    return np.array([float(u.attributes.get(attribute, 0.0)) for u in units])

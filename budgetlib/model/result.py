"""The result of an allocation: integer đồng per unit × task × year × source, and its explanation.

Amounts are held as a dense ``int64`` array (national instances have ~10⁶ cells); flat records,
JSON and DataFrames are views of it. Explanations, attainment and diagnoses are small pydantic
models so that the workbook writer, the CLI and the Excel add-in render the same data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterator

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..core.money import apportion

__all__ = [
    "AllocationStatus",
    "ConstraintReport",
    "TargetAttainment",
    "Conflict",
    "Diagnosis",
    "Allocation",
]


class AllocationStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConstraintReport(_Frozen):
    """One row of the Answer/Sensitivity report (as in Excel Solver), in business terms.

    ``value`` is the constraint's final left-hand side, ``bound`` its right-hand side (đồng or
    items), ``slack`` = distance to the bound; ``shadow_price`` the change of the objective per
    1 triệu đồng (or per item) of more right-hand side; allowable increase/decrease from ranging.
    """

    name: str
    kind: str
    task: str | None = None
    unit: str | None = None
    year: int | None = None
    value: float
    bound: float
    binding: bool
    slack: float
    shadow_price: float | None = None
    allowable_increase: float | None = None
    allowable_decrease: float | None = None
    explanation_vi: str = ""
    explanation_en: str = ""


class TargetAttainment(_Frozen):
    target: str
    name: str
    year: int | None
    required: float
    funded: float
    shortfall: float
    met: bool
    note_vi: str = ""
    note_en: str = ""
    costed: bool = True  # False: no TargetConstraint gives a unit cost; funded only says whether the task has money


class Conflict(_Frozen):
    """A named constraint that belongs to a conflicting set, with the amounts involved."""

    name: str
    kind: str
    message_vi: str
    message_en: str
    amounts: dict[str, int] = {}
    location: str = ""  # JSON path of the constraint in the plan (e.g. ``allocation.constraints[2]``)


class Diagnosis(_Frozen):
    """Why no allocation exists: pre-check findings or a minimal conflicting set of constraints."""

    method: str  # "precheck" | "iis" | "deletion_filter"
    summary_vi: str
    summary_en: str
    conflicts: list[Conflict]


def _sum_keeping(array: np.ndarray, names: tuple[str, ...], dims: tuple[str, ...]) -> np.ndarray:
    """Sum ``array`` (axes named ``names``) over every axis not in ``dims``, axes in ``dims`` order."""
    unknown = set(dims) - set(names)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; use {names}")
    out = array.sum(axis=tuple(i for i, n in enumerate(names) if n not in dims))
    kept = [n for n in names if n in dims]
    return np.transpose(out, [kept.index(d) for d in dims]) if dims else out


@dataclass(frozen=True, eq=False)
class Allocation:
    """Allocation result. ``amounts[u, t, y, s]`` is integer đồng for ``units[u]``, ``tasks[t]``,
    ``years[y]``, ``sources[s]``; ``baseline[u, t, y]`` the proportional share (float đồng)."""

    plan_code: str
    policy: str
    status: AllocationStatus
    units: tuple[str, ...]
    tasks: tuple[str, ...]
    years: tuple[int, ...]
    sources: tuple[str, ...]
    amounts: np.ndarray
    baseline: np.ndarray
    rounding_unit: int = 1
    objective: float | None = None
    objective_label_vi: str = ""
    objective_label_en: str = ""
    constraints: tuple[ConstraintReport, ...] = ()
    attainment: tuple[TargetAttainment, ...] = ()
    diagnosis: Diagnosis | None = None
    explanation_vi: tuple[str, ...] = ()
    explanation_en: tuple[str, ...] = ()
    solver: str = ""
    solver_version: str = ""
    unit_names: dict[str, str] = field(default_factory=dict)
    task_names: dict[str, str] = field(default_factory=dict)
    source_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.units), len(self.tasks), len(self.years), len(self.sources))
        if self.amounts.shape != shape or self.amounts.dtype != np.int64:
            raise ValueError(f"amounts must be int64 of shape {shape}, got {self.amounts.dtype} {self.amounts.shape}")
        self.amounts.setflags(write=False)
        self.baseline.setflags(write=False)

    @property
    def ok(self) -> bool:
        return self.status is AllocationStatus.OPTIMAL

    @property
    def total(self) -> int:
        return int(self.amounts.sum())

    def by(self, *dims: str) -> np.ndarray:
        """Totals over the other dimensions, e.g. ``by("unit", "year")`` → int64 array [U, Y]."""
        return _sum_keeping(self.amounts, ("unit", "task", "year", "source"), dims)

    def baseline_by(self, *dims: str) -> np.ndarray:
        """The proportional shares summed like :meth:`by` (dims from unit, task, year), as integer đồng.

        The float shares are apportioned so that the integers add up exactly to the allocated
        total: a report never shows a proportional column that is 1 đ off its own total.
        """
        summed = np.asarray(_sum_keeping(self.baseline, ("unit", "task", "year"), dims))
        flat = np.clip(np.ravel(summed), 0, None)
        if flat.sum() <= 0:
            return np.zeros(summed.shape, dtype=np.int64)
        return apportion(self.total, flat).reshape(summed.shape)

    def records(self, *, include_zero: bool = False) -> Iterator[dict[str, Any]]:
        """Flat records ``{unit, task, year, source, amount}`` in index order (deterministic)."""
        idx = np.argwhere(self.amounts != 0) if not include_zero else np.argwhere(np.ones_like(self.amounts, bool))
        for u, t, y, s in idx:
            yield {
                "unit": self.units[u],
                "task": self.tasks[t],
                "year": self.years[y],
                "source": self.sources[s],
                "amount": int(self.amounts[u, t, y, s]),
            }

    def to_dict(self) -> dict[str, Any]:
        base = np.rint(self.baseline).astype(np.int64)
        return {
            "plan": self.plan_code,
            "policy": self.policy,
            "status": str(self.status),
            "rounding_unit": self.rounding_unit,
            "total": self.total,
            "objective": self.objective,
            "solver": self.solver,
            "solver_version": self.solver_version,
            "units": list(self.units),
            "tasks": list(self.tasks),
            "years": list(self.years),
            "sources": list(self.sources),
            "allocations": list(self.records()),
            "baseline": [
                {"unit": self.units[u], "task": self.tasks[t], "year": self.years[y], "amount": int(base[u, t, y])}
                for u, t, y in np.argwhere(base != 0)
            ],
            "constraints": [c.model_dump() for c in self.constraints],
            "attainment": [a.model_dump() for a in self.attainment],
            "diagnosis": self.diagnosis.model_dump() if self.diagnosis else None,
            "explanation_vi": list(self.explanation_vi),
            "explanation_en": list(self.explanation_en),
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, no timestamps): same inputs, byte-identical output."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def to_dataframe(self):
        """Flat records as a pandas DataFrame (needs pandas: ``pip install budgetlib[pandas]``)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise ImportError("to_dataframe() needs pandas: pip install 'budgetlib[pandas]'") from exc
        return pd.DataFrame.from_records(list(self.records()), columns=["unit", "task", "year", "source", "amount"])

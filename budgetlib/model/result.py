"""The result of an allocation: integer đồng per unit × task × year × source, and its explanation.

Amounts are held as a dense ``int64`` array (national instances have ~10⁶ cells); flat records,
JSON and DataFrames are views of it. Explanations, attainment and diagnoses carry no text: each
sentence is a :class:`~budgetlib.core.i18n.Msg` (a catalogue code and its parameters) that every
surface renders in the user's language — ``allocation.explanation(lang)``,
``diagnosis.summary(lang)``, ``conflict.message(lang)``, ``report.explanation(lang)``,
``attainment.note(lang)``. ``to_dict()`` keeps the codes and parameters for machines and adds the
rendered text in every language.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from itertools import compress
from typing import Any

import numpy as np

from ..core.i18n import Msg, jsonable, tr
from ..core.lang import Lang, as_lang
from ..core.money import apportion

__all__ = [
    "AllocationStatus",
    "ConstraintKind",
    "DiagnosisMethod",
    "ConstraintReport",
    "TargetAttainment",
    "Conflict",
    "RepairChange",
    "RepairOption",
    "Repair",
    "Diagnosis",
    "Allocation",
    "Named",
    "msg_dict",
]


class AllocationStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"

    def label(self, lang: str | Lang) -> str:
        """``tối ưu`` / ``optimal``, ``không khả thi`` / ``infeasible``."""
        return tr(f"alloc.status.{self.value}", lang)


class ConstraintKind(StrEnum):
    """What a report row or a conflict is about: a task-year budget, a need formula, a named
    constraint of the policy (its ``type``), or an internal row family of a policy."""

    BUDGET = "budget"
    NEED = "need"
    FLOOR = "floor"
    CAP = "cap"
    EARMARK = "earmark"
    ELIGIBILITY = "eligibility"
    ABSORPTION = "absorption"
    STABILITY = "stability"
    TARGET = "target"
    TARGET_UNIT = "target_unit"
    UNIT_SHARE = "unit_share"
    MINIMUM = "minimum"
    COVERAGE = "coverage"
    OUTCOME = "outcome"

    def label(self, lang: str | Lang) -> str:
        """The kind in words (``mức sàn`` / ``floor``) for sheets and messages."""
        return tr(f"alloc.kind.{self.value}", lang)


class DiagnosisMethod(StrEnum):
    PRECHECK = "precheck"  # quick checks on the arrays, before any LP
    IIS = "iis"  # HiGHS irreducible infeasible subsystem, made minimal by a deletion filter
    DELETION_FILTER = "deletion_filter"  # deletion filter over every named constraint

    def label(self, lang: str | Lang) -> str:
        return tr(f"alloc.method.{self.value}", lang)


class Named(Msg):
    """A name the plan gives in Vietnamese and, optionally, in English (``Target.name_en``): shown
    in the message's language, never looked up in the catalogue (it is user text)."""

    def __init__(self, vi: str, en: str = "") -> None:
        super().__init__("alloc.name", vi=vi, en=en or vi)

    def render(self, lang: str | Lang) -> str:
        return str(self.params["en"] if as_lang(lang) is Lang.EN else self.params["vi"])


def msg_dict(msg: Msg | None) -> dict[str, Any] | None:
    """A message for machines: its code, its parameters and its text in every language."""
    if msg is None:
        return None
    out = msg.to_dict()
    out["text"] = {lang.value: msg.render(lang) for lang in Lang}
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Msg):
        return msg_dict(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return jsonable(value)


class _Record:
    """Frozen result records: ``to_dict()`` with enums as values and messages as code + params + text."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True, eq=True)
class ConstraintReport(_Record):
    """One row of the Answer/Sensitivity report (as in Excel Solver), in business terms.

    ``value`` is the constraint's final left-hand side, ``bound`` its right-hand side (đồng or
    items), ``slack`` = distance to the bound; ``shadow_price`` the change of the reported
    objective per 1 triệu đồng (or per item) of more right-hand side; allowable increase/decrease
    from ranging. ``msg`` is the plain-language sentence about the row.
    """

    name: str
    kind: ConstraintKind
    value: float | None
    bound: float | None
    binding: bool
    slack: float | None
    task: str | None = None
    unit: str | None = None
    year: int | None = None
    shadow_price: float | None = None
    allowable_increase: float | None = None
    allowable_decrease: float | None = None
    msg: Msg | None = None

    def explanation(self, lang: str | Lang) -> str:
        return self.msg.render(lang) if self.msg is not None else ""


@dataclass(frozen=True, eq=True)
class TargetAttainment(_Record):
    """How far the allocation funds one target. ``costed=False``: no TargetConstraint gives a unit
    cost, so ``funded`` only says whether the target's task has money. ``whole``: the target is
    counted in whole items (funded and shortfall are integers)."""

    target: str
    name: str
    year: int | None
    required: float | None
    funded: float | None
    shortfall: float | None
    met: bool
    costed: bool = True
    whole: bool = False
    msg: Msg | None = None

    def note(self, lang: str | Lang) -> str:
        return self.msg.render(lang) if self.msg is not None else ""


@dataclass(frozen=True, eq=True)
class Conflict(_Record):
    """One finding of a diagnosis: the named constraint(s) involved, their amounts and locations.

    ``names``/``locations`` list every constraint the message names (a floor above a cap names
    both), each located by the JSON path of the plan (``allocation.constraints[2]``, ``tasks[0].need``,
    ``budget_lines``); ``name``/``kind`` are the first one's.
    """

    name: str
    kind: ConstraintKind
    msg: Msg
    amounts: Mapping[str, int] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    @property
    def location(self) -> str:
        """Every location, comma-separated (for a terminal line)."""
        return ", ".join(loc for loc in self.locations if loc)

    def message(self, lang: str | Lang) -> str:
        return self.msg.render(lang)


@dataclass(frozen=True, eq=True)
class RepairChange(_Record):
    """One parameter of one named constraint (or one budget) and the value that restores feasibility.

    ``field`` is the parameter's name in the plan (``amount``, ``share_of_budget``, ``max_change``,
    ``required``, ``budget``); ``old``/``new`` in its own unit (đồng, fraction or items);
    ``location`` is the JSON path of the constraint (``allocation.constraints[3]``) or
    ``budget_lines`` for a task-year budget (then ``task``/``year`` say which)."""

    name: str
    kind: ConstraintKind
    field: str
    old: float
    new: float
    location: str
    task: str | None = None
    year: int | None = None
    msg: Msg | None = None

    def message(self, lang: str | Lang) -> str:
        return self.msg.render(lang) if self.msg is not None else ""


@dataclass(frozen=True, eq=True)
class RepairOption(_Record):
    """A set of changes that together make the plan feasible (often a single change)."""

    changes: tuple[RepairChange, ...]
    cost: float  # total change, in đồng (items are costed at their unit cost)
    msg: Msg | None = None

    def message(self, lang: str | Lang) -> str:
        return self.msg.render(lang) if self.msg is not None else ""


@dataclass(frozen=True, eq=True)
class Repair(_Record):
    """Ways out of an infeasible plan: each option alone restores feasibility (one constraint's
    parameter, one task's budget, the named constraints changed together, each by the same share
    of its own fix, or the least total change over constraints and budgets combined), ordered by
    the size of the change in đồng."""

    options: tuple[RepairOption, ...]
    msg: Msg | None = None

    def summary(self, lang: str | Lang) -> str:
        return self.msg.render(lang) if self.msg is not None else ""


@dataclass(frozen=True, eq=True)
class Diagnosis(_Record):
    """Why no allocation exists: pre-check findings or a minimal conflicting set of constraints,
    and (when one was found) how to repair the plan."""

    method: DiagnosisMethod
    msg: Msg
    conflicts: tuple[Conflict, ...]
    repair: Repair | None = None

    def summary(self, lang: str | Lang) -> str:
        return self.msg.render(lang)


def _sum_keeping(array: np.ndarray, names: tuple[str, ...], dims: tuple[str, ...]) -> np.ndarray:
    """Sum ``array`` (axes named ``names``) over every axis not in ``dims``, axes in ``dims`` order."""
    unknown = set(dims) - set(names)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; use {names}")
    out = array.sum(axis=tuple(i for i, n in enumerate(names) if n not in dims))
    kept = [n for n in names if n in dims]
    return np.transpose(out, [kept.index(d) for d in dims]) if dims else out


_UNIT_SLOT = "\x01"
"""Where a record template of :meth:`Allocation._records_text` takes its unit's code."""

_RECORD_SEPARATOR = ",\n  "
"""Between two records of the JSON arrays of :meth:`Allocation.to_json`, one record per line."""


@dataclass(frozen=True, eq=False)
class Allocation:
    """Allocation result. ``amounts[u, t, y, s]`` is integer đồng for ``units[u]``, ``tasks[t]``,
    ``years[y]``, ``sources[s]``; ``baseline[u, t, y]`` the raw need share B·w/Σw (float đồng) and
    ``reference[u, t, y]`` the need-based share over the units that can receive money (the
    ``proportional`` policy's water-filling, which deviations are measured from)."""

    plan_code: str
    policy: str
    status: AllocationStatus
    units: tuple[str, ...]
    tasks: tuple[str, ...]
    years: tuple[int, ...]
    sources: tuple[str, ...]
    amounts: np.ndarray
    baseline: np.ndarray
    reference: np.ndarray | None = None
    rounding_unit: int = 1
    objective: float | None = None
    objective_label: Msg | None = None
    constraints: tuple[ConstraintReport, ...] = ()
    attainment: tuple[TargetAttainment, ...] = ()
    diagnosis: Diagnosis | None = None
    notes: tuple[Msg, ...] = ()
    solver: str = ""
    solver_version: str = ""
    unit_names: dict[str, str] = field(default_factory=dict)
    task_names: dict[str, str] = field(default_factory=dict)
    source_names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.units), len(self.tasks), len(self.years), len(self.sources))
        if self.amounts.shape != shape or self.amounts.dtype != np.int64:
            raise ValueError(f"amounts must be int64 of shape {shape}, got {self.amounts.dtype} {self.amounts.shape}")
        if self.reference is None:
            object.__setattr__(self, "reference", self.baseline)
        self.amounts.setflags(write=False)
        self.baseline.setflags(write=False)
        assert self.reference is not None
        self.reference.setflags(write=False)

    @property
    def ok(self) -> bool:
        return self.status is AllocationStatus.OPTIMAL

    @property
    def total(self) -> int:
        return int(self.amounts.sum())

    def explanation(self, lang: str | Lang) -> list[str]:
        """The plain-language explanation (or the diagnosis) in ``lang``, one sentence per line."""
        return [m.render(lang) for m in self.notes]

    def objective_name(self, lang: str | Lang) -> str:
        """What the objective measures, in words (empty for the proportional policy)."""
        return self.objective_label.render(lang) if self.objective_label is not None else ""

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

    def _cells(self, array: np.ndarray, rounded: bool) -> list[dict[str, Any]]:
        values = np.rint(array).astype(np.int64) if rounded else array
        idx = np.argwhere(values != 0)
        units, tasks, years = self.units, self.tasks, self.years
        flat = values[tuple(idx.T)].tolist() if idx.size else []
        return [
            {"unit": units[u], "task": tasks[t], "year": years[y], "amount": v}
            for (u, t, y), v in zip(idx.tolist(), flat)
        ]

    def to_dict(self, *, cells: bool = True) -> dict[str, Any]:
        """The result for machines: amounts, the reports with codes and parameters, and every
        message rendered in every language (``cells=False``: without the per-cell records)."""
        assert self.reference is not None
        idx = np.argwhere(self.amounts != 0) if cells else np.zeros((0, 4), np.int64)
        values = self.amounts[tuple(idx.T)].tolist() if idx.size else []
        units, tasks, years, sources = self.units, self.tasks, self.years, self.sources
        return {
            "plan": self.plan_code,
            "policy": str(self.policy),
            "status": self.status.value,
            "rounding_unit": self.rounding_unit,
            "total": self.total,
            "objective": self.objective,
            "objective_label": msg_dict(self.objective_label),
            "solver": self.solver,
            "solver_version": self.solver_version,
            "units": list(units),
            "tasks": list(tasks),
            "years": list(years),
            "sources": list(sources),
            "allocations": [
                {"unit": units[u], "task": tasks[t], "year": years[y], "source": sources[s], "amount": v}
                for (u, t, y, s), v in zip(idx.tolist(), values)
            ],
            "baseline": self._cells(self.baseline, True) if cells else [],
            "reference": self._cells(self.reference, True) if cells else [],
            "constraints": [c.to_dict() for c in self.constraints],
            "attainment": [a.to_dict() for a in self.attainment],
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "notes": [m.to_dict() for m in self.notes],
            "explanation": {lang.value: self.explanation(lang) for lang in Lang},
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, no timestamps): same inputs, byte-identical output.

        The same document as ``json.dumps(to_dict(), indent=1, sort_keys=True)``, except that each
        amount record sits on one line; the ~10⁶ records of a national result are written by
        string formatting instead of the (pure-Python, with ``indent``) json encoder, so a
        national result takes well under a second instead of minutes."""
        doc = self.to_dict(cells=False)
        marks = {key: f"\x00{key}" for key in ("allocations", "baseline", "reference")}
        doc.update(marks)
        text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True)
        units = [json.dumps(u, ensure_ascii=False) for u in self.units]
        parts: list[str] = []
        for key in sorted(marks, key=lambda k: text.index(json.dumps(marks[k]))):  # in document order
            head, text = text.split(json.dumps(marks[key]), 1)
            parts += [head, *self._records_text(key, units)]
        return "".join([*parts, text, "\n"])

    def _records_text(self, key: str, units: list[str]) -> list[str]:
        """One JSON line per non-zero record (keys sorted), as ``to_dict`` would list them: the
        pieces of the JSON array, joined once with the rest of the document by :meth:`to_json`.

        A national result has ~10⁶ records, so the lines of one unit are written together, by one
        ``%`` formatting of a template holding every non-zero cell of that unit (its amounts as
        ``%d``; its code, which sits between the other keys, replaced in first): one call per
        unit instead of one per record, ~2× faster."""
        enc = lambda values: [json.dumps(v, ensure_ascii=False) for v in values]  # noqa: E731
        fields = {"task": enc(self.tasks), "year": [str(int(y)) for y in self.years]}
        if key == "allocations":
            fields["source"] = enc(self.sources)
            array = self.amounts
        else:
            values = self.baseline if key == "baseline" else self.reference
            assert values is not None
            array = np.rint(values).astype(np.int64)
        names = ("task", "year", "source")[: array.ndim - 1]
        # One template per cell of a unit, in index order. JSON text never holds a raw control
        # character, so "\x01" cannot clash with a code; "%" in a code is escaped for the formatting.
        templates = []
        for cell in np.ndindex(*array.shape[1:]):
            known = {name: fields[name][i].replace("%", "%%") for name, i in zip(names, cell)}
            known.update(amount="%d", unit=_UNIT_SLOT)
            templates.append("{" + ", ".join(f'"{name}": {known[name]}' for name in sorted(known)) + "}")
        every_cell = _RECORD_SEPARATOR.join(templates)
        per_unit = array.reshape(len(units), int(np.prod(array.shape[1:])))
        nonzero = per_unit != 0
        dense = nonzero.all(axis=1).tolist()
        blocks = []
        for u, (code, amounts) in enumerate(zip(units, per_unit.tolist())):
            if dense[u]:
                blocks.append(every_cell.replace(_UNIT_SLOT, code.replace("%", "%%")) % tuple(amounts))
            elif nonzero[u].any():
                keep = nonzero[u].tolist()
                template = _RECORD_SEPARATOR.join(compress(templates, keep))
                blocks.append(template.replace(_UNIT_SLOT, code.replace("%", "%%")) % tuple(compress(amounts, keep)))
        if not blocks:
            return ["[]"]
        pieces = [_RECORD_SEPARATOR] * (2 * len(blocks) - 1)  # not joined here: one copy of the text fewer
        pieces[::2] = blocks
        return ["[\n  ", *pieces, "\n ]"]

    def to_dataframe(self) -> Any:
        """Flat records as a pandas DataFrame (needs pandas, an optional dependency of budgetlib)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on environment
            raise ImportError(tr("alloc.error.pandas", Lang.EN)) from exc
        return pd.DataFrame.from_records(list(self.records()), columns=["unit", "task", "year", "source", "amount"])

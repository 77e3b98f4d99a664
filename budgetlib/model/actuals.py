"""What happened: money disbursed (giải ngân) and indicator results, per unit and reporting period.

A program lives through its budget years: each year's allocation is disbursed by the units and
reported every six months and every year. :class:`Actuals` holds those reports as data:

* :class:`Disbursement` — integer đồng disbursed by one unit for one task from one source in one
  :class:`Period`; a first-half report may carry the unit's estimate for the whole year
  (``forecast``, *ước thực hiện cả năm*), which a mid-year revision uses as the unit's own cap;
* :class:`IndicatorResult` — the value of a plan target reached by a unit (or by the whole program
  when ``unit`` is empty) at the end of a period, e.g. communes recognised healthy.

Periods are half-years (``2013H1`` = January–June, ``2013H2`` = July–December) or whole years
(``2013``). A year's disbursement is its ``2013`` figure when one is reported (it includes the first
half), else the sum of its halves. Amounts are flows within the period, indicator values are levels
at its end.

The model checks field types only; whether a report fits a plan (known units, periods inside the
program, no more disbursed than allocated) is :func:`budgetlib.planning.execution.check_actuals`,
which reports every problem at once. :meth:`Actuals.to_json` is deterministic (records sorted,
keys sorted), so :meth:`Actuals.content_hash` identifies a set of reports.

>>> Period.parse("6 tháng đầu năm 2013"), Period.parse("2013"), Period.parse("H2 2014")
(Period(year=2013, half=1), Period(year=2013, half=None), Period(year=2014, half=2))
>>> str(Period(2013, 1)), Period(2013, 1) < Period(2013, None)
('2013H1', True)
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, model_validator
from pydantic_core import core_schema

from ..core.i18n import LocalizedError, Msg
from ..core.text import fold
from .types import Code, Money, Text

__all__ = ["Period", "Disbursement", "IndicatorResult", "Actuals", "ACTUALS_SCHEMA"]

ACTUALS_SCHEMA = "budgetlib.actuals"
"""The ``schema`` tag of an actuals JSON document (with ``schema_version``)."""

_YEAR = r"(?P<year>(?:19|20|21)\d\d)"
# Folded spellings (no diacritics, lower case). Half first or year first, Vietnamese or English.
_HALF_WORDS = {
    "1": 1, "h1": 1, "i": 1, "6 thang dau nam": 1, "6 thang dau": 1, "6t dau nam": 1, "6t": 1, "6 thang": 1,
    "first half": 1, "first half of": 1, "s1": 1,
    "2": 2, "h2": 2, "ii": 2, "6 thang cuoi nam": 2, "6 thang cuoi": 2, "6t cuoi nam": 2, "second half": 2,
    "second half of": 2, "s2": 2,
}
_YEAR_WORDS = {"", "nam", "ca nam", "year", "fy", "y", "full year", "whole year", "the year"}


@dataclass(frozen=True, order=False)
class Period:
    """A reporting period: the first (``half=1``) or second (``half=2``) half of a year, or the
    whole year (``half=None``). Ordered by when the period ends (``2013H1 < 2013H2 == 2013`` in
    time; a whole year sorts after its second half so records list naturally)."""

    year: int
    half: int | None = None

    def __post_init__(self) -> None:
        if self.half not in (None, 1, 2):
            raise ValueError(f"half must be 1, 2 or None, got {self.half!r}")

    # -- text ----------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.year}H{self.half}" if self.half else str(self.year)

    def __repr__(self) -> str:
        return f"Period(year={self.year}, half={self.half})"

    @classmethod
    def parse(cls, text: str | int | float | Period) -> Period:
        """Read ``2013H1``, ``2013-H2``, ``H1/2013``, ``6 tháng đầu năm 2013``, ``Năm 2013``, ``2013``,
        ``first half 2013``; raise :class:`~budgetlib.core.i18n.LocalizedError` (``cycle.period.malformed``)."""
        if isinstance(text, Period):
            return text
        if isinstance(text, bool):
            raise LocalizedError("cycle.period.malformed", value=str(text))
        if isinstance(text, (int, float)):
            if float(text).is_integer() and 1900 <= int(text) < 2200:
                return cls(int(text))
            raise LocalizedError("cycle.period.malformed", value=str(text))
        key = fold(str(text)).replace("-", " ").replace("/", " ").replace("_", " ").replace(".", " ")
        key = " ".join(key.split())
        compact = key.replace(" ", "")
        m = re.fullmatch(_YEAR + r"h([12])", compact) or re.fullmatch(r"h([12])" + _YEAR, compact)
        if m:
            half = int(next(g for g in m.groups() if g in ("1", "2")))
            return cls(int(m.group("year")), half)
        m = re.fullmatch(r"(?P<before>.*?)\s*" + _YEAR + r"\s*(?P<after>.*?)", key)
        if m:
            words = " ".join(w for w in (m.group("before"), m.group("after")) if w).strip()
            words = re.sub(r"\b(of|cua)\b", "", words).strip()
            words = " ".join(words.split())
            if words in _YEAR_WORDS:
                return cls(int(m.group("year")))
            if words in _HALF_WORDS:
                return cls(int(m.group("year")), _HALF_WORDS[words])
        raise LocalizedError("cycle.period.malformed", value=str(text))

    def label(self) -> Msg:
        """The period in words, rendered in the user's language (``6 tháng đầu năm 2013``)."""
        if self.half == 1:
            return Msg("cycle.period.h1", year=self.year)
        if self.half == 2:
            return Msg("cycle.period.h2", year=self.year)
        return Msg("cycle.period.year", year=self.year)

    # -- time ----------------------------------------------------------------------------------
    @property
    def end(self) -> float:
        """When the period ends, in years (``2013H1`` → 2013.5, ``2013`` → 2014.0)."""
        return self.year + (0.5 if self.half == 1 else 1.0)

    @property
    def is_year_end(self) -> bool:
        """True for ``2013H2`` and ``2013``: the period closes the year."""
        return self.half != 1

    def sort_key(self) -> tuple[int, int]:
        return (self.year, self.half or 3)

    def __lt__(self, other: Period) -> bool:
        return self.sort_key() < other.sort_key()

    def __le__(self, other: Period) -> bool:
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: Period) -> bool:
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: Period) -> bool:
        return self.sort_key() >= other.sort_key()

    # -- pydantic ------------------------------------------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> Period:
            try:
                return cls.parse(value)
            except LocalizedError as exc:
                raise ValueError(str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.plain_serializer_function_ser_schema(str, return_schema=core_schema.str_schema())
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\d{4}(H[12])?$", "examples": ["2013H1", "2013H2", "2013"]}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Disbursement(_Frozen):
    """Money one unit disbursed for one task from one source in one period (integer đồng)."""

    unit: Code
    task: Code
    source: Code
    period: Period
    amount: Money = Field(ge=0)
    forecast: Money | None = Field(None, ge=0, description="Estimated disbursement for the whole year (first-half reports)")
    note: Text = ""

    @property
    def key(self) -> tuple[str, str, str, int]:
        """The cell this record reports on: (unit, task, source, year)."""
        return (self.unit, self.task, self.source, self.period.year)


class IndicatorResult(_Frozen):
    """The level a target reached at the end of a period, for a unit or (``unit=None``) the program."""

    target: Code
    unit: Code | None = None
    period: Period
    value: float = Field(ge=0)
    note: Text = ""

    @model_validator(mode="after")
    def _finite(self) -> IndicatorResult:
        if not math.isfinite(self.value):
            raise ValueError("value must be finite")
        return self


def _sorted_dump(records: list[Any], key: Any) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json", exclude_defaults=True) for r in sorted(records, key=key)]


class Actuals(_Frozen):
    """Every disbursement and indicator result reported for one plan (``plan`` = its program code)."""

    schema_version: int = 1
    plan: Code
    title: Text = ""
    illustrative: bool = Field(False, description="True for made-up figures (worked examples), shown on every report")
    note: Text = ""
    disbursements: list[Disbursement] = Field(default_factory=list)
    results: list[IndicatorResult] = Field(default_factory=list)

    @property
    def periods(self) -> list[Period]:
        """Every period reported, in time order."""
        found = {d.period for d in self.disbursements} | {r.period for r in self.results}
        return sorted(found, key=Period.sort_key)

    def up_to(self, period: Period) -> Actuals:
        """The reports of periods ending no later than ``period`` (``2013H1`` drops ``2013H2`` and ``2013``)."""

        def keep(p: Period) -> bool:
            return p.end <= period.end

        return self.model_copy(
            update={
                "disbursements": [d for d in self.disbursements if keep(d.period)],
                "results": [r for r in self.results if keep(r.period)],
            }
        )

    def merged(self, other: Actuals) -> Actuals:
        """Both documents' records (for a disbursement file and a results file of the same plan)."""
        return self.model_copy(
            update={
                "disbursements": [*self.disbursements, *other.disbursements],
                "results": [*self.results, *other.results],
                "illustrative": self.illustrative or other.illustrative,
                "title": self.title or other.title,
                "note": self.note or other.note,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data with records in a canonical order (period, unit, task, source)."""
        return {
            "schema": ACTUALS_SCHEMA,
            "schema_version": self.schema_version,
            "plan": self.plan,
            "title": self.title,
            "illustrative": self.illustrative,
            "note": self.note,
            "disbursements": _sorted_dump(
                self.disbursements, lambda d: (d.period.sort_key(), d.unit, d.task, d.source, d.amount, d.forecast or -1, d.note)
            ),
            "results": _sorted_dump(self.results, lambda r: (r.period.sort_key(), r.target, r.unit or "", r.value, r.note)),
        }

    def to_json(self) -> str:
        """Deterministic JSON: the same reports (in any order) give byte-identical text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def content_hash(self) -> str:
        """SHA-256 of :meth:`to_json` (stable across runs, machines and record order)."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Actuals:
        """Inverse of :meth:`to_dict` (the ``schema`` tag is checked, not stored)."""
        data = dict(data)
        tag = data.pop("schema", ACTUALS_SCHEMA)
        if tag != ACTUALS_SCHEMA:
            raise ValueError(f"not an actuals document: schema {tag!r}")
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str) -> Actuals:
        return cls.from_dict(json.loads(text))

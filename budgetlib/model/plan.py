"""The domain model of a program plan (kế hoạch): immutable, validated pydantic v2 models.

Field-level checks (types, signs, NFC text, amounts as integer đồng) happen when a model is built;
cross-reference checks (unknown codes, lead agencies, reconciliation) are in
:mod:`budgetlib.planning.validation` so that *all* of them are reported at once.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from ..core.i18n import LocalizedError, tr
from ..core.lang import Lang
from ..core.money import MoneyUnit
from .attributes import resolve_attribute
from .policy import AllocationPolicy
from .scenario import Scenario
from .types import Code, Money, Text, check_printable

__all__ = [
    "Money",
    "Text",
    "Code",
    "Level",
    "UnitKind",
    "Role",
    "SourceKind",
    "CarryOver",
    "Cadence",
    "Program",
    "AdminUnit",
    "Agency",
    "TaskRole",
    "NeedDriver",
    "Task",
    "FundingSource",
    "Target",
    "BudgetLine",
    "ReportingRule",
    "Assumption",
    "Plan",
]


MAX_ATTRIBUTE = 1e12
"""The largest attribute value (either sign) a unit may have: far above any population or area,
small enough that need weights summed over 10⁵ units stay exact-ish floats and never overflow."""


class _Frozen(BaseModel):
    # NaN and ±infinity are refused in every float field (need coefficients, targets, …).
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class Level(StrEnum):
    """Administrative level that issues a plan or receives an allocation."""

    PROVINCE = "province"  # tỉnh / thành phố trực thuộc trung ương
    DISTRICT = "district"  # quận / huyện / thị xã / thành phố thuộc tỉnh
    COMMUNE = "commune"  # xã / phường / thị trấn


class UnitKind(StrEnum):
    """Kinds of administrative unit, by their Vietnamese names."""

    QUAN = "Quận"
    HUYEN = "Huyện"
    THI_XA = "Thị xã"
    THANH_PHO = "Thành phố"
    XA = "Xã"
    PHUONG = "Phường"
    THI_TRAN = "Thị trấn"

    @property
    def level(self) -> Level:
        return _KIND_LEVEL[self]


_KIND_LEVEL = {kind: Level.COMMUNE if kind in (UnitKind.XA, UnitKind.PHUONG, UnitKind.THI_TRAN) else Level.DISTRICT for kind in UnitKind}
"""A unit kind's level, looked up (a national plan asks it for 10⁴ units several times)."""


class Role(StrEnum):
    LEAD = "lead"  # chủ trì
    SUPPORT = "support"  # phối hợp

    def label(self, lang: str | Lang = Lang.VI) -> str:
        return tr(f"plan.role_label_{self.value}", lang)


class SourceKind(StrEnum):
    PROVINCE_BUDGET = "province_budget"  # ngân sách tỉnh / thành phố
    DISTRICT_BUDGET = "district_budget"  # ngân sách quận / huyện
    COMMUNE_BUDGET = "commune_budget"  # ngân sách xã
    CENTRAL_SUPPORT = "central_support"  # trung ương hỗ trợ
    SOCIALIZATION = "socialization"  # xã hội hóa
    OTHER = "other"


class CarryOver(StrEnum):
    """What becomes of a source's money that a unit has not disbursed when a budget year closes."""

    UNIT = "unit"  # chuyển nguồn: stays with the unit, added to its allocation of the same task next year
    POOL = "pool"  # returns to the program's pool and is re-split with next year's budget


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"  # 6 tháng
    ANNUAL = "annual"  # hằng năm
    AD_HOC = "ad_hoc"  # đột xuất
    FINAL = "final"  # sơ kết, tổng kết


class Program(_Frozen):
    """The program a plan funds: who issues it, for which period, with what total."""

    code: Code
    name: Text
    authority: Text = Field(description="Issuing authority, e.g. 'UBND thành phố Hải Phòng'")
    locality: Text = ""
    level: Level = Level.PROVINCE
    first_year: int = Field(ge=1990, le=2100)
    last_year: int = Field(ge=1990, le=2100)
    total: Money = Field(ge=0, description="Total budget over the period, integer đồng")
    display_unit: MoneyUnit = MoneyUnit.DONG
    document: Text = Field("", description="Reference of the source document (số hiệu, ngày)")

    @model_validator(mode="after")
    def _period(self) -> Program:
        if self.last_year < self.first_year:
            raise LocalizedError("plan.period_order", first=self.first_year, last=self.last_year)
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))


class AdminUnit(_Frozen):
    """A district- or commune-level unit with its official code and need attributes.

    ``attributes`` are named numbers used as need drivers (``population``, ``communes``,
    ``healthy_communes``, ``hotspots``, ``border`` …); unknown names are allowed.
    """

    code: Code
    name: Text
    kind: UnitKind
    parent: Code | None = None
    attributes: dict[str, float] = Field(default_factory=dict)

    @property
    def level(self) -> Level:
        return self.kind.level

    @model_validator(mode="after")
    def _bounded_attributes(self) -> AdminUnit:
        for key, value in self.attributes.items():  # NaN and infinities are refused by the field type
            check_printable(key)
            if abs(value) > MAX_ATTRIBUTE:
                raise LocalizedError("plan.attribute_out_of_range", attribute=key, limit=MAX_ATTRIBUTE)
        return self


class Agency(_Frozen):
    """A body with a role in the plan (Sở LĐ-TB&XH, Công an thành phố, UBND quận/huyện, …)."""

    code: Code
    name: Text
    name_en: Text = ""


class TaskRole(_Frozen):
    agency: Code
    role: Role = Role.SUPPORT


# A term is ``[coefficient [*]] attribute``; the attribute is a key (``population``) or a column
# label in any language (``Dân số``, ``Số xã, phường``), resolved by ``resolve_attribute``.
_TERM_RE = re.compile(r"^\s*(?:(?P<coef>[0-9]+(?:[.,][0-9]+)?)\s*[*·×]?\s*)?(?P<attr>[^\W\d][\w ,()²%.]*?)\s*$")


class NeedDriver(_Frozen):
    """Need of a unit for a task: ``constant + Σ coefficient·attribute``.

    >>> NeedDriver.parse("population + 50*communes").terms
    {'population': 1.0, 'communes': 50.0}
    """

    terms: dict[str, float] = Field(default_factory=lambda: {"population": 1.0})
    constant: float = Field(0.0, ge=0)

    @classmethod
    def parse(cls, formula: str) -> NeedDriver:
        terms: dict[str, float] = {}
        constant = 0.0
        for raw in formula.replace("−", "-").split("+"):
            raw = raw.strip()
            if not raw:
                raise LocalizedError("plan.need_formula", value=formula)
            if re.fullmatch(r"[0-9]+(?:[.,][0-9]+)?", raw):
                constant += float(raw.replace(",", "."))
                continue
            match = _TERM_RE.match(raw)
            if not match:
                raise LocalizedError("plan.need_formula", value=raw)
            coef = float((match.group("coef") or "1").replace(",", "."))
            attr = resolve_attribute(match.group("attr"))
            terms[attr] = terms.get(attr, 0.0) + coef
        return cls(terms=terms, constant=constant)

    def formula(self) -> str:
        parts = [(f"{c:g}*{a}" if c != 1 else a) for a, c in self.terms.items()]
        if self.constant:
            parts.append(f"{self.constant:g}")
        return " + ".join(parts) or "0"

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return cls.parse(data).model_dump()
        return data

    @model_validator(mode="after")
    def _non_negative(self) -> NeedDriver:
        for attr, coef in self.terms.items():
            if coef < 0:
                raise LocalizedError("plan.need_negative", attribute=attr)
        return self


class Task(_Frozen):
    """A task group or activity with its agencies (exactly one lead) and its need driver."""

    code: Code
    name: Text
    name_en: Text = ""
    group: Code | None = Field(None, description="Code of the task group this activity belongs to")
    agencies: list[TaskRole] = Field(default_factory=list)
    need: NeedDriver = Field(default_factory=NeedDriver)
    description: Text = ""

    @property
    def lead(self) -> str | None:
        leads = [r.agency for r in self.agencies if r.role is Role.LEAD]
        return leads[0] if len(leads) == 1 else None


class FundingSource(_Frozen):
    """A funding source; ``tasks`` restricts which tasks it may fund (None = any).

    ``carry_over`` declares what happens to undisbursed money when a year closes (see
    :mod:`budgetlib.planning.execution`); ``None`` (not declared) is not written to JSON.
    """

    code: Code
    name: Text
    kind: SourceKind = SourceKind.OTHER
    tasks: list[Code] | None = None
    carry_over: CarryOver | None = None

    @model_serializer(mode="wrap")
    def _omit_undeclared(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Plans written before carry-over existed keep their exact JSON.
        data = handler(self)
        if isinstance(data, dict) and data.get("carry_over") is None:
            data.pop("carry_over", None)
        return data


class Target(_Frozen):
    """A measurable objective: baseline and yearly targets, with the denominator for ratios.

    Healthy communes in Hải Phòng: ``baseline=149, values={2015: 178}, denominator=223``.
    Officers trained: ``unit="%", values={2015: 100}, denominator=100``.
    """

    code: Code
    name: Text
    name_en: Text = ""
    unit: Text = ""
    baseline: float | None = None
    baseline_year: int | None = None
    values: dict[int, float] = Field(default_factory=dict, description="Target value by year")
    denominator: float | None = Field(None, gt=0)
    task: Code | None = Field(None, description="Task whose spending drives this target")
    lower_is_better: bool = False


class BudgetLine(_Frozen):
    """One line of the budget: task × agency × year × funding source → integer đồng."""

    task: Code
    agency: Code
    year: int
    source: Code
    amount: Money = Field(ge=0)
    note: Text = ""


class ReportingRule(_Frozen):
    """Periodic reporting (báo cáo định kỳ): who reports what to whom, how often."""

    cadence: Cadence
    reporter: Text
    recipient: Text
    description: Text = ""
    due: Text = ""


class Assumption(_Frozen):
    """A figure the source document does not give, chosen and labelled by the planner."""

    code: Code
    text_vi: Text
    text_en: Text = ""


class Plan(_Frozen):
    """A whole plan: the program, its units, agencies, tasks, sources, targets, budget and policy."""

    schema_version: int = 1
    program: Program
    units: list[AdminUnit] = Field(default_factory=list)
    agencies: list[Agency] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    sources: list[FundingSource] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    budget_lines: list[BudgetLine] = Field(default_factory=list)
    reporting: list[ReportingRule] = Field(default_factory=list)
    allocation: AllocationPolicy | None = None
    assumptions: list[Assumption] = Field(default_factory=list)
    scenarios: list[Scenario] = Field(default_factory=list, exclude_if=lambda v: not v)  # what-ifs (model/scenario.py); omitted from files when empty

    # Convenience look-ups (cheap; models are immutable).
    def unit(self, code: str) -> AdminUnit:
        return next(u for u in self.units if u.code == code)

    def task(self, code: str) -> Task:
        return next(t for t in self.tasks if t.code == code)

    def units_at(self, level: Level) -> list[AdminUnit]:
        return [u for u in self.units if u.level == level]

    @property
    def budget_total(self) -> int:
        return sum(line.amount for line in self.budget_lines)

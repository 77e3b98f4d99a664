"""The planning workbook declared as data: one :class:`TableDef` per input table.

A table says where it lives (sheet, Excel table name), where its rows go in the plan (``path``),
its columns (:class:`Field`: JSON key, how cells are read, dropdown), and how its rows join the
rest of the plan:

* :class:`Join` — rows become a list inside the items of another table (assignments → the
  ``agencies`` of a task, prior-year amounts → the ``prior`` of a stability constraint);
* :class:`Group` — consecutive rows with the same keys form one item (curve segments → a curve);
* :class:`Extra` — columns beyond the declared ones hold a mapping (unit attributes, target
  values by year).

The template writer (:mod:`.plan_sheets`), the reader (:mod:`.reader`) and the guide sheet all loop
over :data:`TABLES`, so they cannot drift apart. No text lives here: sheet names, titles, column
headers, explanations and dropdown labels are catalogue codes (``locales/*/workbook.toml``), and
known unit attributes take their labels from :mod:`budgetlib.model.attributes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import cache
from typing import Any

from ...constraints.base import WorkbookField
from ...constraints.registry import CONSTRAINT_KINDS
from ...core.i18n import Msg, catalogue, tr
from ...core.lang import Lang, as_lang
from ...core.money import MoneyUnit
from ...core.text import fold
from ...model.plan import Cadence, CarryOver, Level, Role, SourceKind, UnitKind
from ...model.policy import DeviationWeighting, PolicyKind

__all__ = [
    "Kind",
    "Field",
    "Join",
    "Group",
    "Extra",
    "TableDef",
    "EnumDef",
    "ENUMS",
    "TABLES",
    "TABLE_BY_KEY",
    "SHEET_KEYS",
    "sheet_name",
    "sheet_names",
    "enum_label",
    "enum_options",
    "enum_lookup",
    "bool_label",
    "kv_headers",
    "folded_names",
]


class Kind(StrEnum):
    """How the cells of a column are read (see :mod:`.cells`) and written (see :mod:`.plan_sheets`)."""

    TEXT = "text"
    CODE = "code"
    INT = "int"
    FLOAT = "float"
    MONEY = "money"  # in the workbook's money unit (or a unit written in the cell)
    DONG = "dong"  # always in đồng (the rounding unit)
    BOOL = "bool"
    ENUM = "enum"
    LIST = "list"  # codes separated by commas
    YEARS = "years"  # years separated by commas
    NEED = "need"  # a need formula (parsed by the model)
    ATTRIBUTE = "attribute"  # the name of a unit attribute (a key or a column label)
    MONEY_UNIT = "money_unit"  # đồng, nghìn đồng, triệu đồng, tỷ đồng (any spelling MoneyUnit reads)


@dataclass(frozen=True)
class Field:
    """One column. Its header, explanation and the label shown in messages are catalogue codes
    (``workbook.field.<table>.<key>``, ``workbook.help.<table>.<key>``)."""

    key: str
    kind: Kind = Kind.TEXT
    enum: str | None = None  # key in ENUMS
    dropdown: str | None = None  # table whose first column lists the choices
    width: float = 14.0
    required: bool = False
    aliases: tuple[str, ...] = ()  # further header spellings the reader accepts
    label: str | None = None  # catalogue code of the header, if not workbook.field.<table>.<key>
    help: str | None = None  # catalogue code of the explanation, if not workbook.help.<table>.<key>


@dataclass(frozen=True)
class Join:
    """The rows of this table become a list inside the items of ``parent``: a row whose ``by``
    cell equals a parent's ``parent_key`` is appended to that parent's ``into`` list (without
    its ``by`` field)."""

    parent: str
    by: str
    parent_key: str
    into: str


@dataclass(frozen=True)
class Group:
    """Consecutive rows with equal ``keys`` form one item; every other field of those rows goes,
    one entry per row, into the item's ``into`` list."""

    keys: tuple[str, ...]
    into: str


class ExtraKind(StrEnum):
    ATTRIBUTES = "attributes"  # one column per unit attribute (known labels or any name)
    YEARS = "years"  # one column per year, headed by the year


@dataclass(frozen=True)
class Extra:
    """Columns beyond the declared fields: a mapping stored at ``into`` (``attributes``, ``values``)."""

    kind: ExtraKind
    into: str
    width: float = 13.0


@dataclass(frozen=True)
class TableDef:
    """An input table.

    ``path`` is where its items go in the plan data (``units``, ``allocation.constraints``; for a
    key/value table the item itself: ``program``, ``allocation``); joined tables have none.
    ``keyvalue`` tables have one row per field (Thông tin | Giá trị | Giải thích). A ``required``
    table that cannot be found is a problem; an optional one is simply empty.
    """

    key: str
    sheet: str
    name: str  # the Excel table (ListObject) name
    fields: tuple[Field, ...]
    path: str | None = None
    keyvalue: bool = False
    required: bool = False
    join: Join | None = None
    group: Group | None = None
    extra: Extra | None = None
    root_fields: tuple[str, ...] = ()  # fields that belong to the plan itself (schema_version)
    variant: str | None = None  # the field whose value says which further columns a row requires
    variants: tuple[tuple[str, frozenset[str]], ...] = ()

    def required_for(self, value: str) -> frozenset[str]:
        """The further columns a row whose ``variant`` field holds ``value`` requires."""
        return dict(self.variants).get(value, frozenset())

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)

    def _label_code(self, key: str) -> str:
        return self.field(key).label or f"workbook.field.{self.key}.{key}"

    def label(self, key: str) -> Msg:
        """The column's label as a message (for problems: ``Dân số phải là số``)."""
        return Msg(self._label_code(key))

    def header(self, key: str, lang: str | Lang) -> str:
        return tr(self._label_code(key), lang)

    def help(self, key: str, lang: str | Lang) -> str:
        return tr(self.field(key).help or f"workbook.help.{self.key}.{key}", lang)

    @property
    def title(self) -> Msg:
        return Msg(f"workbook.title.{self.key}")

    def names(self, key: str) -> frozenset[str]:
        """Folded header spellings the reader accepts for a column (both languages, the key)."""
        return _names(self, key)


@cache
def _names(tdef: TableDef, key: str) -> frozenset[str]:
    f = tdef.field(key)
    out = {fold(tdef.header(key, lang)) for lang in Lang}
    out |= {fold(key), fold(key.replace("_", " "))}
    out |= {fold(a) for a in f.aliases}
    return frozenset(out)


def folded_names(tdef: TableDef) -> dict[str, str]:
    """Every accepted folded header of ``tdef`` → field key."""
    return {name: f.key for f in tdef.fields for name in tdef.names(f.key)}


# Sheets in workbook order; names are catalogue codes workbook.sheet.<key>.
SHEET_KEYS: tuple[str, ...] = (
    "guide",
    "program",
    "sources",
    "tasks",
    "agencies",
    "roles",
    "units",
    "targets",
    "budget",
    "policy",
    "reporting",
    "assumptions",
)


def sheet_name(key: str, lang: str | Lang) -> str:
    return tr(f"workbook.sheet.{key}", lang)


def sheet_names(key: str) -> tuple[str, ...]:
    """The sheet's name in every language (the reader accepts any of them)."""
    return tuple(dict.fromkeys(sheet_name(key, lang) for lang in Lang))


def kv_headers(lang: str | Lang) -> tuple[str, str, str]:
    """Header of a key/value table: Thông tin | Giá trị | Giải thích."""
    return tuple(tr(f"workbook.kv.{k}", lang) for k in ("field", "value", "explanation"))  # type: ignore[return-value]


def bool_label(value: bool, lang: str | Lang) -> str:
    return tr("workbook.bool.yes" if value else "workbook.bool.no", lang)


# ---------------------------------------------------------------------------------------------
# Dropdown lists (enums)


@dataclass(frozen=True)
class EnumDef:
    """The values a dropdown column takes. ``labels`` is the catalogue prefix of their labels
    (``<labels>.<slug>``); without it the value is its own label (operators, solver names)."""

    values: tuple[str, ...]
    slugs: tuple[str, ...]
    labels: str | None = None
    fallback: str | None = None  # prefix of labels for values the first prefix has none for

    @classmethod
    def of(cls, members: Any, labels: str | None) -> EnumDef:
        items = list(members)
        values = tuple(str(int(m)) if isinstance(m, MoneyUnit) else str(m.value) for m in items)
        return cls(values, tuple(m.name.lower() for m in items), labels)

    def _code(self, value: str) -> str | None:
        if self.labels is None:
            return None
        slug = self.slugs[self.values.index(value)]
        code = f"{self.labels}.{slug}"
        if self.fallback is not None and code not in catalogue(Lang.VI):
            return f"{self.fallback}.{slug}"
        return code

    def label(self, value: str, lang: str | Lang) -> str:
        code = self._code(value)
        if code is None:
            return value
        text = tr(code, lang)
        if self.fallback is not None and code.startswith(self.fallback + "."):
            return text[:1].upper() + text[1:]  # a name used in sentences, shown as a list entry
        return text

    def label_msg(self, value: str) -> Msg | str:
        code = self._code(value)
        return value if code is None else Msg(code)


ENUMS: dict[str, EnumDef] = {
    "level": EnumDef.of(Level, "workbook.enum.level"),
    "alloc_level": EnumDef.of([Level.DISTRICT, Level.COMMUNE], "workbook.enum.level"),
    "unit_kind": EnumDef.of(UnitKind, "workbook.enum.unit_kind"),
    "role": EnumDef.of(Role, "workbook.enum.role"),
    "source_kind": EnumDef.of(SourceKind, "workbook.enum.source_kind"),
    "carry_over": EnumDef.of(CarryOver, "workbook.enum.carry_over"),
    "cadence": EnumDef.of(Cadence, "workbook.enum.cadence"),
    "policy_kind": EnumDef.of(PolicyKind, "workbook.enum.policy_kind"),
    "deviation": EnumDef.of(DeviationWeighting, "workbook.enum.deviation"),
    # The kinds of the constraint registry; a kind without a label of its own here is shown by
    # the allocator's name for it (alloc.kind.<kind>), so adding a kind needs no edit here.
    "constraint_type": EnumDef(tuple(CONSTRAINT_KINDS), tuple(CONSTRAINT_KINDS), "workbook.enum.constraint_type", "alloc.kind"),
    "op": EnumDef((">", ">=", "==", "!=", "<=", "<"), (">", ">=", "==", "!=", "<=", "<")),
    "solver": EnumDef(("highs", "cbc"), ("highs", "cbc")),
    "money_unit": EnumDef.of(MoneyUnit, "money.unit"),
}


def enum_options(enum: str, lang: str | Lang) -> list[str]:
    """The dropdown's choices as written in ``lang``."""
    e = ENUMS[enum]
    return [e.label(v, lang) for v in e.values]


def enum_label(enum: str, value: Any, lang: str | Lang) -> str:
    if isinstance(value, MoneyUnit):
        value = str(int(value))
    elif isinstance(value, Enum):
        value = value.value
    return ENUMS[enum].label(str(value), as_lang(lang))


@cache
def enum_lookup(enum: str) -> dict[str, str]:
    """Folded spelling (the value, or its label in any language) → value."""
    e = ENUMS[enum]
    out: dict[str, str] = {}
    for value in e.values:
        for spelling in (value, *(e.label(value, lang) for lang in Lang)):
            out.setdefault(fold(spelling), value)
    return out


def iter_fields() -> Iterator[tuple[TableDef, Field]]:
    for t in TABLES:
        for f in t.fields:
            yield t, f


F = Field
K = Kind

_REGISTRY_KINDS = {
    "text": Kind.TEXT, "opt_text": Kind.TEXT, "code": Kind.CODE, "opt_code": Kind.CODE, "list": Kind.LIST,
    "years": Kind.YEARS, "money": Kind.MONEY, "float": Kind.FLOAT, "opt_float": Kind.FLOAT, "int": Kind.INT,
    "enum": Kind.ENUM, "attribute": Kind.ATTRIBUTE, "bool": Kind.BOOL,
}


def _registry_field(wf: WorkbookField, required: bool) -> Field:
    # Attribute names (``attribute``, ``capacity_attribute``) are read by their column labels too.
    kind = Kind.ATTRIBUTE if wf.key == "attribute" or wf.key.endswith("_attribute") else _REGISTRY_KINDS[wf.kind]
    return Field(wf.key, kind, enum=wf.enum, dropdown=wf.dropdown, width=wf.width, required=required,
                 label=f"alloc.field.{wf.key}", help=f"alloc.field_help.{wf.key}")


def _constraint_table() -> TableDef:
    """The constraints table: a type column, then every column any registered kind declares
    (``budgetlib.constraints``), in order of first appearance. A column is required for every row
    only if every kind requires it; the others are required by the kinds that say so."""
    kinds = list(CONSTRAINT_KINDS.values())
    declared: dict[str, WorkbookField] = {}
    for kind in kinds:
        for wf in kind.fields:
            declared.setdefault(wf.key, wf)
    everywhere = {key for key in declared if all(any(f.key == key and f.required for f in k.fields) for k in kinds)}
    fields = (
        Field("type", Kind.ENUM, enum="constraint_type", required=True, width=16),
        *(_registry_field(wf, wf.key in everywhere) for wf in declared.values()),
    )
    variants = tuple((tag, frozenset(f.key for f in k.fields if f.required and f.key not in everywhere)) for tag, k in CONSTRAINT_KINDS.items())
    return TableDef("constraints", "policy", "RangBuoc", fields, path="allocation.constraints", variant="type", variants=variants)


TABLES: tuple[TableDef, ...] = (
    TableDef(
        "program", "program", "ChuongTrinh",
        (
            F("code", K.CODE, required=True),
            F("name", required=True),
            F("authority", required=True),
            F("locality"),
            F("level", K.ENUM, enum="level"),
            F("first_year", K.INT, required=True),
            F("last_year", K.INT, required=True),
            F("total", K.MONEY, required=True),
            F("display_unit", K.MONEY_UNIT, enum="money_unit", aliases=("don vi", "unit")),
            F("document"),
            F("schema_version", K.INT),
        ),
        path="program", keyvalue=True, required=True, root_fields=("schema_version",),
    ),
    TableDef(
        "sources", "sources", "NguonKinhPhi",
        (
            F("code", K.CODE, required=True, width=12),
            F("name", required=True, width=32),
            F("kind", K.ENUM, enum="source_kind", width=26),
            F("tasks", K.LIST, width=24),
            F("carry_over", K.ENUM, enum="carry_over", width=26),
        ),
        path="sources", required=True,
    ),
    TableDef(
        "tasks", "tasks", "NhiemVu",
        (
            F("code", K.CODE, required=True, width=12),
            F("name", required=True, width=44),
            F("name_en", width=30),
            F("group", K.CODE, dropdown="tasks", width=12),
            F("need", K.NEED, width=34),
            F("description", width=50),
        ),
        path="tasks", required=True,
    ),
    TableDef(
        "agencies", "agencies", "CoQuan",
        (
            F("code", K.CODE, required=True, width=14),
            F("name", required=True, width=44),
            F("name_en", width=40),
        ),
        path="agencies", required=True,
    ),
    TableDef(
        "roles", "roles", "PhanCong",
        (
            F("task", K.CODE, dropdown="tasks", required=True, width=14),
            F("agency", K.CODE, dropdown="agencies", required=True, width=14),
            F("role", K.ENUM, enum="role", width=12),
        ),
        required=True, join=Join(parent="tasks", by="task", parent_key="code", into="agencies"),
    ),
    TableDef(
        "units", "units", "DiaBan",
        (
            F("code", K.CODE, required=True, width=12),
            F("name", required=True, width=26),
            F("kind", K.ENUM, enum="unit_kind", required=True, width=11),
            F("parent", K.CODE, width=11),
        ),
        path="units", required=True, extra=Extra(ExtraKind.ATTRIBUTES, "attributes"),
    ),
    TableDef(
        "targets", "targets", "ChiTieu",
        (
            F("code", K.CODE, required=True, width=11),
            F("name", required=True, width=44),
            F("name_en", width=30),
            F("unit", width=12),
            F("baseline", K.FLOAT, width=11),
            F("baseline_year", K.INT, width=9),
            F("denominator", K.FLOAT, width=9),
            F("task", K.CODE, dropdown="tasks", width=12),
            F("lower_is_better", K.BOOL, width=10),
        ),
        path="targets", extra=Extra(ExtraKind.YEARS, "values", width=9),
    ),
    TableDef(
        "budget_lines", "budget", "DuToan",
        (
            F("task", K.CODE, dropdown="tasks", required=True, width=12),
            F("agency", K.CODE, dropdown="agencies", required=True, width=14),
            F("year", K.INT, required=True, width=8),
            F("source", K.CODE, dropdown="sources", required=True, width=12),
            F("amount", K.MONEY, required=True, width=16),
            F("note", width=30),
        ),
        path="budget_lines", required=True,
    ),
    TableDef(
        "policy", "policy", "ChinhSach",
        (
            F("kind", K.ENUM, enum="policy_kind", aliases=("policy", "chinh sach")),
            F("level", K.ENUM, enum="alloc_level"),
            F("rounding_unit", K.DONG),
            F("years", K.YEARS),
            F("deviation", K.ENUM, enum="deviation"),
            F("solver", K.ENUM, enum="solver"),
        ),
        path="allocation", keyvalue=True,
    ),
    _constraint_table(),
    TableDef(
        "priors", "policy", "SoLieuNamTruoc",
        (
            F("constraint", dropdown="constraints", required=True, width=40),
            F("unit", K.CODE, dropdown="units", required=True, width=12),
            F("task", K.CODE, dropdown="tasks", required=True, width=12),
            F("amount", K.MONEY, required=True, width=16),
        ),
        join=Join(parent="constraints", by="constraint", parent_key="name", into="prior"),
    ),
    TableDef(
        "curves", "policy", "DuongDapUng",
        (
            F("task", K.CODE, dropdown="tasks", required=True, width=12),
            F("outcome", width=30),
            F("width", K.FLOAT, width=12),
            F("outcome_per_million", K.FLOAT, required=True, width=14),
        ),
        path="allocation.response_curves", group=Group(keys=("task", "outcome"), into="segments"),
    ),
    TableDef(
        "reporting", "reporting", "BaoCao",
        (
            F("cadence", K.ENUM, enum="cadence", required=True, width=16),
            F("reporter", required=True, width=40),
            F("recipient", required=True, width=40),
            F("description", width=50),
            F("due", width=20),
        ),
        path="reporting",
    ),
    TableDef(
        "assumptions", "assumptions", "GiaDinh",
        (
            F("code", K.CODE, required=True, width=8),
            F("text_vi", required=True, width=70),
            F("text_en", width=60),
        ),
        path="assumptions",
    ),
)

TABLE_BY_KEY: dict[str, TableDef] = {t.key: t for t in TABLES}

"""A plan as input sheets (the planning template): every field of :class:`~budgetlib.model.plan.Plan`.

Written by looping over :data:`~.fields.TABLES`, the same declarations the reader loops over:
each sheet holds its tables in order; a table is a title row, a one-line hint, the header row
(with the other language's header and the explanation as a note on each header cell) and the
data rows. Joined tables are written from their parents' lists, grouped tables one row per entry,
extra columns from the mapping they declare. Every text comes from the catalogue in the chosen
language. No spreadsheet library is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ...core.i18n import tr
from ...core.lang import Lang, as_lang
from ...core.money import MoneyUnit, amount_from_number, format_amount
from ...model.attributes import KNOWN_ATTRIBUTES, attribute_label
from ...model.plan import NeedDriver, Plan, Program
from ..grid import (
    AMOUNT_FORMAT,
    CellValue,
    SheetSpec,
    TableSpec,
    ValidationSpec,
    cell_ref,
    column_letter,
    quote_sheet,
    range_ref,
)
from .fields import (
    SHEET_KEYS,
    TABLE_BY_KEY,
    TABLES,
    ExtraKind,
    Field,
    Kind,
    TableDef,
    bool_label,
    enum_label,
    enum_options,
    kv_headers,
    sheet_name,
)

__all__ = [
    "plan_sheets",
    "blank_plan",
    "template_sheets",
    "guide_sheet",
    "money_cell",
    "number_cell",
    "need_text",
    "table_records",
    "HEADER_ROW",
    "INPUT_SHEET_KEYS",
]

HEADER_ROW = 3
EXTRA_ROWS = 200  # dropdowns reach this many rows below the data, for rows officers add
INPUT_SHEET_KEYS = SHEET_KEYS

_HINTS = {"program": "program", "policy": "policy", "constraints": "constraints", "priors": None, "curves": None}
_FREEZE = {"tasks": "B4", "agencies": "B4", "units": "C4", "targets": "C4", "policy": "A3"}
_LIST_KEY = {"constraints": "name"}  # the column other tables choose from (default: the code)
_TAB_COLOR = "1F4E78"


def number_cell(x: float | int | None) -> CellValue:
    """Floats that are whole numbers are written as ints (``96111.0`` → ``96111``)."""
    if x is None:
        return None
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def money_cell(amount: int, unit: MoneyUnit) -> CellValue:
    """Integer đồng as a number in ``unit``; exact or, failing that, as text in đồng."""
    if amount % int(unit) == 0:
        return amount // int(unit)
    value = float(Decimal(amount) / int(unit))
    if amount_from_number(value, unit) == amount:
        return value
    return format_amount(amount)  # "1.234.567 đ": read back exactly whatever the unit


def _num_text(x: float) -> str:
    """A coefficient as a need formula writes it: no exponent (``0.00001``, not ``1e-05``)."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format(Decimal(repr(float(x))), "f")


def need_text(need: NeedDriver | dict[str, Any], lang: str | Lang = Lang.VI) -> str:
    """A need driver as the formula an officer writes, with the column names of the Địa bàn sheet
    in ``lang`` (``Dân số + 50*Số xã, phường``)."""
    if isinstance(need, dict):
        need = NeedDriver.model_validate(need)
    names = {a: attribute_label(a, lang) if a in KNOWN_ATTRIBUTES else a for a in need.terms}
    parts = [names[a] if c == 1 else f"{_num_text(c)}*{names[a]}" for a, c in need.terms.items()]
    if need.constant or not parts:
        parts.append(_num_text(need.constant))
    return " + ".join(parts)


def _list_text(values: Sequence[Any] | None) -> str | None:
    if values is None:
        return None
    if not values:
        return "-"
    return ", ".join(str(v) for v in values)


def _cell(f: Field, value: Any, lang: Lang, unit: MoneyUnit) -> CellValue:
    if value is None:
        return None
    kind = f.kind
    if kind is Kind.MONEY:
        return money_cell(int(value), unit)
    if kind is Kind.DONG:
        return int(value)
    if kind in (Kind.ENUM, Kind.MONEY_UNIT):
        return enum_label(f.enum or "", value, lang)
    if kind is Kind.BOOL:
        return bool_label(bool(value), lang)
    if kind in (Kind.LIST, Kind.YEARS):
        return _list_text(value)
    if kind is Kind.NEED:
        return need_text(value, lang)
    if kind is Kind.ATTRIBUTE:
        return attribute_label(value, lang) if value in KNOWN_ATTRIBUTES else value
    if kind is Kind.FLOAT:
        return number_cell(float(value))
    if kind is Kind.TEXT and value == "":
        return None
    return value


def _comment(tdef: TableDef, f: Field, lang: Lang) -> str:
    # Only the workbook's own language: the reader accepts either language's headers anyway.
    return tdef.help(f.key, lang)


def _validation(f: Field, ref: str, lang: Lang, lists: dict[str, str]) -> ValidationSpec | None:
    error = tr("workbook.dropdown_error", lang)
    if f.kind in (Kind.ENUM, Kind.MONEY_UNIT) and f.enum:
        return ValidationSpec(ref, values=tuple(enum_options(f.enum, lang)), allow_blank=not f.required, error=error)
    if f.kind is Kind.BOOL:
        return ValidationSpec(ref, values=(bool_label(True, lang), bool_label(False, lang)), error=error)
    if f.dropdown and f.dropdown in lists and f.kind is not Kind.LIST:
        return ValidationSpec(ref, source=lists[f.dropdown], allow_blank=not f.required, error=error)
    return None


def _number_format(f: Field, values: list[CellValue]) -> str | None:
    if f.kind is Kind.DONG:
        return AMOUNT_FORMAT
    if f.kind is Kind.MONEY:
        return AMOUNT_FORMAT if all(not isinstance(v, float) for v in values) else "#,##0.0##"
    if f.kind is Kind.INT:
        return "0"
    return None


def table_records(tdef: TableDef, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``tdef`` for plan data ``data`` (a plan's ``model_dump()``): the list at its
    path, a joined table from its parents' lists, a grouped table one row per entry."""
    if tdef.join is not None:
        join = tdef.join
        parents = table_records(TABLE_BY_KEY[join.parent], data)
        return [{join.by: p.get(join.parent_key), **entry} for p in parents for entry in (p.get(join.into) or [])]
    node: Any = data
    for part in (tdef.path or "").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    items = list(node or [])
    if tdef.group is not None:
        group = tdef.group
        return [{**{k: item.get(k) for k in group.keys}, **entry} for item in items for entry in item.get(group.into, [])]
    return items


class _Sheet:
    """Rows, tables and formats of one input sheet being written."""

    def __init__(self, name: str, lang: Lang, unit: MoneyUnit, lists: dict[str, str], period: list[int]) -> None:
        self.spec = SheetSpec(name, [], kind="input", tab_color=_TAB_COLOR)
        self.lang, self.unit, self.lists, self.period = lang, unit, lists, period

    def row(self, values: list[CellValue]) -> int:
        self.spec.rows.append(values)
        return len(self.spec.rows)

    def title(self, text: str, hint: str = "") -> None:
        self.spec.title_rows.add(self.row([text]))
        self.row([hint] if hint else [])

    def width(self, col: int, w: float) -> None:
        self.spec.column_widths[col] = max(self.spec.column_widths.get(col, 0), w)

    def records(self, tdef: TableDef, records: list[dict[str, Any]]) -> None:
        """A table of records: the declared columns, then its extra columns."""
        lang, unit = self.lang, self.unit
        fields: list[Field | None] = list(tdef.fields)
        headers = [tdef.header(f.key, lang) for f in tdef.fields]
        comments = [_comment(tdef, f, lang) for f in tdef.fields]
        widths = [f.width for f in tdef.fields]
        data = [[_cell(f, rec.get(f.key), lang, unit) for f in tdef.fields] for rec in records]
        formats = [_number_format(f, [row[i] for row in data]) for i, f in enumerate(tdef.fields)]
        for header, comment, values, width, fmt in _extra_columns(tdef, records, lang, self.period):
            headers.append(header)
            comments.append(comment)
            widths.append(width)
            fields.append(None)
            formats.append(fmt)
            for row, v in zip(data, values, strict=True):
                row.append(v)
        header_row = len(self.spec.rows) + 1
        if tdef.key in _LIST_KEY or any(f.dropdown == tdef.key for t in TABLES for f in t.fields):
            col = 1 + [f.key for f in tdef.fields].index(_LIST_KEY.get(tdef.key, "code"))
            self.lists[tdef.key] = _list_source(self.spec.name, col, header_row + 1, header_row + len(records))
        self._table(tdef, headers, fields, data, comments, widths, formats)

    def _table(self, tdef: TableDef, headers: list[str], fields: list[Field | None], data: list[list[CellValue]],
               comments: list[str], widths: list[float], formats: list[str | None]) -> None:
        header_row = self.row(list(headers))
        self.spec.bold_rows.add(header_row)
        for c, (text, w, header) in enumerate(zip(comments, widths, headers, strict=True)):
            if text:
                self.spec.comments[cell_ref(header_row, c + 1)] = text
            self.width(c, max(w, _header_width(header)))
        for values in data:
            self.row(values)
        last = header_row + max(len(data), 1)
        if not data:
            self.row([])
        self.spec.tables.append(TableSpec(tdef.name, range_ref(header_row, 1, last, len(headers))))
        for c, (f, fmt) in enumerate(zip(fields, formats, strict=True)):
            col = column_letter(c + 1)
            if fmt:
                for r in range(header_row + 1, last + 1):
                    self.spec.cell_formats[f"{col}{r}"] = fmt
            v = _validation(f, f"{col}{header_row + 1}:{col}{last + EXTRA_ROWS}", self.lang, self.lists) if f is not None else None
            if v:
                self.spec.validations.append(v)

    def keyvalue(self, tdef: TableDef, values: dict[str, Any]) -> None:
        """A key/value table: one row per field (label | value | explanation)."""
        lang = self.lang
        header_row = self.row(list(kv_headers(lang)))
        self.spec.bold_rows.add(header_row)
        for f in tdef.fields:
            cell = _cell(f, values.get(f.key), lang, self.unit)
            r = self.row([tdef.header(f.key, lang), cell, tdef.help(f.key, lang)])
            self.spec.comments[cell_ref(r, 1)] = _comment(tdef, f, lang)
            fmt = _number_format(f, [cell])
            if fmt:
                self.spec.cell_formats[cell_ref(r, 2)] = fmt
            v = _validation(f, cell_ref(r, 2), lang, self.lists)
            if v:
                self.spec.validations.append(v)
        last = header_row + len(tdef.fields)
        self.spec.tables.append(TableSpec(tdef.name, range_ref(header_row, 1, last, 3)))
        for col, w in ((0, 26), (1, 40), (2, 70)):
            self.width(col, w)
        self.spec.wrap_cols.add(2)


def _extra_columns(
    tdef: TableDef, records: list[dict[str, Any]], lang: Lang, period: list[int]
) -> list[tuple[str, str, list[CellValue], float, str | None]]:
    """(header, note, values, width, number format) of each extra column of ``tdef``."""
    if tdef.extra is None:
        return []
    into = tdef.extra.into
    if tdef.extra.kind is ExtraKind.ATTRIBUTES:
        keys: list[Any] = list(dict.fromkeys(k for rec in records for k in rec.get(into, {})))
        columns = []
        for key in keys:
            if key in KNOWN_ATTRIBUTES:
                header = attribute_label(key, lang)
                note = tr(f"attribute_help.{key}", lang)
            else:
                header, note = key, tr("workbook.comment.attribute_key", lang, key=key)
            values = [number_cell(rec.get(into, {}).get(key)) for rec in records]
            columns.append((header, note, values, tdef.extra.width, _int_format(values)))
        return columns
    years = sorted({int(y) for rec in records for y in rec.get(into, {})} | set(period))
    return [
        (str(y), tr("workbook.comment.year_value", lang, year=y), [number_cell(rec.get(into, {}).get(y)) for rec in records], tdef.extra.width, None)
        for y in years
    ]


def _int_format(values: list[CellValue]) -> str | None:
    nums = [v for v in values if v is not None]
    return "#,##0" if nums and all(isinstance(v, int) for v in nums) else None


def _header_width(header: str) -> float:
    """A column wide enough for its (bold) header, so no header is cut on screen or on paper."""
    return min(len(header) * 1.15 + 2, 45.0)


def _list_source(sheet: str, col: int, first: int, last: int) -> str:
    return f"={quote_sheet(sheet)}!{range_ref(first, col, last + EXTRA_ROWS, col, absolute=True)}"


def _plan_data(plan: Plan) -> dict[str, Any]:
    """The plan as plain data, the way the tables hold it."""
    data = plan.model_dump()
    data["program"]["schema_version"] = plan.schema_version
    if plan.allocation is None:
        data["allocation"] = {}
    return data


def _hint(tdef: TableDef, lang: Lang) -> str:
    hint = _HINTS.get(tdef.key, "records")
    return tr(f"workbook.hint.{hint}", lang) if hint else ""


def plan_sheets(plan: Plan, *, lang: str | Lang = Lang.VI) -> list[SheetSpec]:
    """Input sheets for ``plan`` (a filled template): Hướng dẫn, Chương trình, …, Giả định.

    Reading them back with :func:`budgetlib.io.workbook.reader.read_plan_grids` gives an equal plan.
    """
    lang = as_lang(lang)
    unit = MoneyUnit(plan.program.display_unit)
    data = _plan_data(plan)
    lists: dict[str, str] = {}
    sheets = [guide_sheet(lang=lang)]
    for key in SHEET_KEYS[1:]:
        sheet = _Sheet(sheet_name(key, lang), lang, unit, lists, plan.program.years)
        for i, tdef in enumerate(t for t in TABLES if t.sheet == key):
            if i:
                sheet.row([])
            title = plan.program.name if tdef.key == "program" else tr(f"workbook.title.{tdef.key}", lang)
            sheet.title(title, _hint(tdef, lang))
            if tdef.keyvalue:
                node = data[tdef.path or ""] if "." not in (tdef.path or "") else {}
                sheet.keyvalue(tdef, node)
            else:
                sheet.records(tdef, table_records(tdef, data))
        sheet.spec.freeze = _FREEZE.get(key, "A4")
        sheets.append(sheet.spec)
    if plan.scenarios:  # the Kịch bản sheet (the batch helper's module)
        from .scenarios import scenario_sheet

        sheets.append(scenario_sheet(plan, lang=lang))
    return sheets


def guide_sheet(*, lang: str | Lang = Lang.VI, plan: Plan | None = None) -> SheetSpec:
    """Hướng dẫn: how to fill the workbook and what every column means."""
    lang = as_lang(lang)
    order = ", ".join(sheet_name(k, lang) for k in SHEET_KEYS[1:10])
    rows: list[list[CellValue]] = [[tr("workbook.guide.title", lang)], []]
    rows += [[tr(f"workbook.guide.step_{i}", lang, sheets=order)] for i in range(1, 7)]
    rows += [[], [tr(f"workbook.guide.{c}", lang) for c in ("col_sheet", "col_column", "col_help")]]
    header_row = len(rows)
    for tdef in TABLES:
        sheet = sheet_name(tdef.sheet, lang)
        for f in tdef.fields:
            rows.append([sheet, tdef.header(f.key, lang), tdef.help(f.key, lang)])
        if tdef.extra is not None and tdef.extra.kind is ExtraKind.ATTRIBUTES:
            for key in KNOWN_ATTRIBUTES:
                rows.append([sheet, attribute_label(key, lang), tr(f"attribute_help.{key}", lang)])
            rows.append([sheet, tr("workbook.guide.other_attributes", lang), tr("workbook.guide.other_attributes_help", lang)])
        elif tdef.extra is not None:
            rows.append([sheet, tr("workbook.guide.years", lang), tr("workbook.guide.years_help", lang)])
    return SheetSpec(
        sheet_name("guide", lang),
        rows,
        column_widths={0: 20, 1: 28, 2: 100},
        bold_rows={header_row},
        title_rows={1},
        wrap_cols={2},
        freeze=f"A{header_row + 1}",
        kind="input",
        tab_color=_TAB_COLOR,
    )


def blank_plan(lang: str | Lang = Lang.VI) -> Plan:
    """The empty plan behind a new workbook (``budgetlib template`` and the add-in's "Sổ mới")."""
    lang = as_lang(lang)
    return Plan(
        program=Program(
            code=tr("workbook.blank.code", lang),
            name=tr("workbook.blank.name", lang),
            authority=tr("workbook.blank.authority", lang),
            first_year=2026,
            last_year=2030,
            total=0,
            display_unit=MoneyUnit.TRIEU,
        )
    )


def template_sheets(*, lang: str | Lang = Lang.VI) -> list[SheetSpec]:
    """The input sheets of a new, empty planning workbook."""
    return plan_sheets(blank_plan(lang), lang=lang)

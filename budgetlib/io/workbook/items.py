"""Assembling items: the rows of found tables become plan items (plain, JSON-shaped data), each
value remembering the cell it came from.

An :class:`Item` is one row (or one key/value table): ``data`` as it would appear in a plan file,
``locs`` (the cell of each value, by JSON suffix: ``""`` the row, ``"code"``,
``"attributes.population"``, ``"agencies[0].role"``) and ``failed`` (suffixes whose cell could not
be read or whose column is missing — their own problem is already reported, so anything the model
or the plan checks later say about them is a consequence). Joins and groups declared in
:mod:`.fields` move rows into their parents (:func:`attach`, :func:`group_rows`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...core.i18n import Msg
from ...core.problems import Problem, Source
from ...core.text import fold
from ...model.attributes import KNOWN_ATTRIBUTES, resolve_attribute
from .cells import (
    CellContext,
    CellError,
    column_msg,
    convert,
    is_blank,
    shown,
    shown_params,
    strip_paren,
    to_number,
    to_text,
)
from .fields import ExtraKind, Field, Group, Join, Kind, TableDef, folded_names
from .tables import FoundTable

__all__ = ["Item", "ItemReader", "attach", "group_rows", "year_header", "known_attribute", "default_attribute_name"]


@dataclass
class Item:
    """One plan item read from cells (see the module docstring)."""

    data: dict[str, Any]
    locs: dict[str, Source]
    failed: set[str] = field(default_factory=set)

    def adopt(self, prefix: str, child: Item, skip: Iterable[str] = ()) -> None:
        """Take ``child``'s locations and failures under ``prefix`` (``agencies[2]``)."""
        left_out = set(skip)
        self.locs[prefix] = child.locs[""]
        for suffix, src in child.locs.items():
            if suffix and suffix not in left_out:
                self.locs[f"{prefix}.{suffix}"] = src
        self.failed |= {f"{prefix}.{s}" for s in child.failed if s not in left_out}


class ItemReader:
    """Reads cells into items, collecting a problem for every cell that cannot be read."""

    def __init__(self, ctx: CellContext | None = None) -> None:
        self.ctx = ctx or CellContext()
        self.problems: list[Problem] = []
        self.failed_attributes: set[str] = set()
        self.uncached: set[tuple[str, str]] = set()  # (sheet, cell) of formulas saved without a value

    def cell(self, item: Item, suffix: str, f: Field, label: Msg, found: FoundTable, r: int, c: int) -> Any:
        """The value of one cell (None if blank or unreadable), its location noted in ``item``."""
        src = found.source(r, c)
        item.locs[suffix] = src
        v = found.grid.value(r, c)
        if is_blank(v) and (src.sheet or "", src.cell or "") in self.uncached:
            item.failed.add(suffix)  # reported once for the sheet (workbook.uncached_formula)
            return None
        if is_blank(v):
            if f.required:
                item.failed.add(suffix)
                self.problems.append(Problem("workbook.cell.missing", src, {"column": label}))
            return None
        try:
            value = convert(f, v, self.ctx)
        except CellError as exc:
            item.failed.add(suffix)
            self.problems.append(Problem(exc.code, src, {"column": label, **shown_params(exc.params), "value": shown(v)}))
            return None
        return value

    # -- tables of records --------------------------------------------------------------------
    def records(self, found: FoundTable, attribute_name: Callable[[Any, list[Any]], str | None] | None = None) -> list[Item]:
        tdef = found.tdef
        missing = {f.key for f in tdef.fields if f.required and f.key not in found.cols}
        extra = self._extra_columns(found, attribute_name)
        reported: set[str] = set()
        items = []
        for r in found.rows:
            item = Item({}, {"": found.row_source(r)}, set(missing))
            for f in tdef.fields:
                if f.key in found.cols:
                    value = self.cell(item, f.key, f, tdef.label(f.key), found, r, found.cols[f.key])
                    if value is not None:
                        item.data[f.key] = value
            if tdef.extra is not None:
                self._extra(item, tdef.extra.kind, tdef.extra.into, extra, found, r)
            if tdef.variant is not None:
                self._variant(item, found, r, reported)
            items.append(item)
        return items

    def _variant(self, item: Item, found: FoundTable, r: int, reported: set[str]) -> None:
        """Columns this row's variant (a constraint's type) requires: a blank cell is a problem
        at it, a missing column one problem for the table."""
        tdef = found.tdef
        value = item.data.get(tdef.variant or "")
        for key in sorted(tdef.required_for(value)) if isinstance(value, str) else ():
            if key in item.failed or key in item.data:
                continue
            item.failed.add(key)
            if key in found.cols:
                self.problems.append(Problem("workbook.cell.missing", found.source(r, found.cols[key]), {"column": tdef.label(key)}))
            elif key not in reported:
                reported.add(key)
                self.problems.append(Problem("workbook.missing_column", found.header_source(), {"table": tdef.title, "column": tdef.label(key)}))

    def _extra_columns(self, found: FoundTable, attribute_name: Callable[[Any, list[Any]], str | None] | None) -> dict[int, tuple[Any, Msg]]:
        """Extra column → (mapping key, label): attribute name or year; other columns are notes."""
        out: dict[int, tuple[Any, Msg]] = {}
        if found.tdef.extra is None:
            return out
        for c, header in found.extra.items():
            if found.tdef.extra.kind is ExtraKind.YEARS:
                year = year_header(header)
                if year is not None:
                    out[c] = (year, Msg("workbook.column.year", year=year))
                continue
            values = [found.grid.value(r, c) for r in found.rows]
            name = (attribute_name or default_attribute_name)(header, values)
            if name is not None:
                out[c] = (name, Msg(f"attribute.{name}") if name in KNOWN_ATTRIBUTES else column_msg(to_text(header)))
        return out

    def _extra(self, item: Item, kind: ExtraKind, into: str, columns: dict[int, tuple[Any, Msg]], found: FoundTable, r: int) -> None:
        mapping: dict[Any, float] = {}
        number = Field(into, Kind.FLOAT)
        for c, (key, label) in columns.items():
            suffix = f"{into}.{key}"
            value = self.cell(item, suffix, number, label, found, r, c)
            if suffix in item.failed and kind is ExtraKind.ATTRIBUTES:
                self.failed_attributes.add(str(key))
            if value is not None:
                mapping[key] = value
        item.data[into] = mapping
        item.locs.setdefault(into, item.locs[""])

    # -- key/value tables ---------------------------------------------------------------------
    def keyvalue(self, found: FoundTable) -> Item:
        """A key/value table as one item. The money unit is read first: amounts depend on it."""
        tdef = found.tdef
        item = Item({}, {"": found.header_source()})
        names = folded_names(tdef)
        rows: dict[str, int] = {}
        for r in found.rows:
            label = to_text(found.grid.value(r, found.label_col))
            key = names.get(fold(label)) or names.get(fold(strip_paren(label)))
            if key is not None:
                rows.setdefault(key, r)
        ordered = sorted(tdef.fields, key=lambda f: f.kind is not Kind.MONEY_UNIT)
        for f in ordered:
            if f.key not in rows:
                if f.required:
                    item.failed.add(f.key)
                    self.problems.append(Problem("workbook.missing_row", found.header_source(), {"table": tdef.title, "column": tdef.label(f.key)}))
                continue
            value = self.cell(item, f.key, f, tdef.label(f.key), found, rows[f.key], found.value_col)
            if value is None:
                continue
            item.data[f.key] = value
            if f.kind is Kind.MONEY_UNIT:
                self.ctx = dataclasses.replace(self.ctx, unit=value)
        return item


def year_header(header: Any) -> int | None:
    """``2015``, ``"2015"``, ``"Năm 2015"`` or ``"Year 2015"`` → 2015."""
    if isinstance(header, (int, float)) and not isinstance(header, bool):
        return int(header) if float(header).is_integer() and 1900 < header < 2200 else None
    m = _YEAR.fullmatch(fold(to_text(header)))
    return int(m.group(1)) if m and 1900 < int(m.group(1)) < 2200 else None


_YEAR = re.compile(r"(?:nam|year)?\s*(\d{4})")


def known_attribute(header: Any) -> str | None:
    """The key of a known attribute from its label in any language (``Dân số (người)`` → ``population``)."""
    text = to_text(header).strip()
    for spelling in (text, strip_paren(text)):
        key = resolve_attribute(spelling)
        if key in KNOWN_ATTRIBUTES:
            return key
    return None


def default_attribute_name(header: Any, values: list[Any]) -> str | None:
    """The attribute a Địa bàn column holds: a known label in any language (``Dân số`` →
    ``population``), an identifier, or any header over a column of numbers; otherwise the column
    is the officer's own (notes) and is not read."""
    text = to_text(header).strip()
    if not text:
        return None
    key = known_attribute(text)
    if key is not None:
        return key
    if text.isidentifier():
        return text
    numbers = [v for v in values if not is_blank(v)]
    if numbers and all(_is_number(v) for v in numbers):
        return text
    return None


def _is_number(v: Any) -> bool:
    try:
        to_number(v)
    except CellError:
        return False
    return True


def attach(children: list[Item], parents: list[Item], join: Join, child: TableDef, parent: TableDef, *, parent_broken: bool) -> list[Problem]:
    """Move each child row into its parent's ``join.into`` list; a row naming no parent is a
    problem (unless the parent table itself could not be read)."""
    owners: dict[str, Item] = {}
    for p in parents:
        key = p.data.get(join.parent_key)
        if isinstance(key, str):
            owners.setdefault(key, p)
    problems = []
    for ch in children:
        key = ch.data.get(join.by)
        if key is None:
            continue  # blank or unreadable: reported at the cell
        owner = owners.get(key)
        if owner is None:
            if not parent_broken:
                problems.append(
                    Problem("workbook.unknown_parent_row", ch.locs[join.by], {"column": child.label(join.by), "value": shown(key), "table": parent.title})
                )
            continue
        entries = owner.data.setdefault(join.into, [])
        owner.locs.setdefault(join.into, ch.locs[""])
        owner.adopt(f"{join.into}[{len(entries)}]", ch, skip=(join.by,))
        entries.append({k: v for k, v in ch.data.items() if k != join.by})
    return problems


def group_rows(rows: list[Item], group: Group) -> list[Item]:
    """Consecutive rows with the same ``group.keys`` become one item with a ``group.into`` list."""
    out: list[Item] = []
    last: tuple[Any, ...] | None = None
    for row in rows:
        key = tuple(row.data.get(k) for k in group.keys)
        if not out or key != last:
            head = Item(
                {k: row.data[k] for k in group.keys if k in row.data},
                {"": row.locs[""], **{k: row.locs[k] for k in group.keys if k in row.locs}},
                {k for k in group.keys if k in row.failed},
            )
            head.data[group.into] = []
            out.append(head)
            last = key
        head = out[-1]
        entries = head.data[group.into]
        head.adopt(f"{group.into}[{len(entries)}]", row, skip=group.keys)
        entries.append({k: v for k, v in row.data.items() if k not in group.keys})
    return out

"""Finding tables: where each table of :data:`~.fields.TABLES` is in a book, its columns and rows.

A table is found by its Excel table (ListObject) name when the book knows it, otherwise by its
header row — Vietnamese with or without diacritics, or English, anywhere on its sheet: title rows
above, blank rows inside, extra columns and any column order are fine. Several tables may share a
sheet (the policy sheet stacks four); each header row belongs to the table it matches best, and a
table ends where the next one's title or header begins. Rows added below an Excel table belong to
it (LibreOffice does not grow tables as Excel does), so nothing typed is silently skipped.

No spreadsheet library is imported here; a :class:`~budgetlib.io.grid.GridBook` hands out grids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from ...core.lang import Lang
from ...core.problems import Source
from ...core.text import fold
from ..grid import CellValue, Grid, GridBook, TableRef, cell_ref, column_index, range_ref
from .cells import is_blank, strip_paren
from .fields import TABLES, TableDef, folded_names, kv_headers, sheet_names

__all__ = ["FoundTable", "Finder", "match_header"]

_MIN_MATCH = 2
"""A header row must hold at least this many of a table's column names."""


@dataclass
class FoundTable:
    """A table as found on its sheet: header row, columns (field key → 0-based grid column), the
    other header cells (extra columns), and the data rows (0-based grid rows, blank ones left out)."""

    tdef: TableDef
    grid: Grid
    header: int
    cols: dict[str, int]
    extra: dict[int, CellValue] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    label_col: int = 0  # key/value tables
    value_col: int = 1

    @property
    def sheet(self) -> str:
        return self.grid.sheet

    def source(self, r: int, c: int) -> Source:
        """The cell at grid row ``r``, column ``c``: ``Địa bàn!D7``."""
        return Source(sheet=self.grid.sheet, cell=cell_ref(self.grid.excel_row(r), self.grid.excel_col(c)), row=self.grid.excel_row(r))

    def row_source(self, r: int) -> Source:
        """A data row, located at its first column."""
        first = min([*self.cols.values(), *self.extra], default=self.label_col)
        return self.source(r, first)

    def header_source(self) -> Source:
        """The header row, as a range over the table's header cells (``Dự toán!A3:F3``)."""
        cols = [*self.cols.values(), *self.extra] or [self.label_col, self.value_col]
        row = self.grid.excel_row(self.header)
        return Source(
            sheet=self.grid.sheet,
            cell=range_ref(row, self.grid.excel_col(min(cols)), row, self.grid.excel_col(max(cols))),
            row=row,
        )


@cache
def _kv_labels() -> tuple[tuple[str, str], ...]:
    return tuple((fold(kv_headers(lang)[0]), fold(kv_headers(lang)[1])) for lang in Lang)


def _folded_cell(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip() or len(v) > 200:
        return None  # headers are short text; numbers and dates are data
    return _fold(v)


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    return fold(text)


def match_header(tdef: TableDef, row: Sequence[Any]) -> dict[str, int]:
    """Which columns of ``row`` hold which of ``tdef``'s headers (field key → 0-based column).
    Exact spellings win over spellings with a parenthesis removed (``Địa bàn (bố trí riêng)``
    is the earmark's unit, not the constraint's ``Địa bàn``)."""
    names = folded_names(tdef)
    found: dict[str, int] = {}
    later: list[tuple[int, str]] = []
    for c, v in enumerate(row):
        key = _folded_cell(v)
        if key is None:
            continue
        f = names.get(key)
        if f is not None and f not in found:
            found[f] = c
        elif "(" in key:
            later.append((c, key))
    for c, key in later:
        f = names.get(fold(strip_paren(key)))
        if f is not None and f not in found and c not in found.values():
            found[f] = c
    return found


def _kv_columns(row: Sequence[Any]) -> tuple[int, int] | None:
    keys = [_folded_cell(v) for v in row]
    for label, value in _kv_labels():
        if label in keys and value in keys:
            return keys.index(label), keys.index(value)
    return None


def _row(grid: Grid, r: int) -> list[Any]:
    return [grid.value(r, c) for c in range(len(grid.rows[r]) if r < grid.n_rows else 0)]


def _filled(row: Sequence[Any]) -> int:
    return sum(not is_blank(v) for v in row)


def _ref_bounds(ref: str) -> tuple[int, int, int, int] | None:
    m = re.fullmatch(r"\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)", ref.upper())
    if not m:
        return None
    return int(m.group(2)), column_index(m.group(1)), int(m.group(4)), column_index(m.group(3))


class Finder:
    """Locates the tables of :data:`TABLES` in a book (each sheet is read and scanned once)."""

    def __init__(self, book: GridBook) -> None:
        self.book = book
        self._sheets = {fold(n): n for n in reversed(book.sheet_names())}
        tables_fn: Callable[[], list[TableRef]] | None = getattr(book, "tables", None)
        self._refs = {fold(t.name): t for t in (tables_fn() if tables_fn else [])}
        self._grids: dict[str, Grid] = {}
        self._headers: dict[str, dict[str, int]] = {}

    def sheet_for(self, tdef: TableDef) -> str | None:
        """The book's name of ``tdef``'s sheet (Vietnamese or English, any case/diacritics)."""
        for name in sheet_names(tdef.sheet):
            actual = self._sheets.get(fold(name))
            if actual is not None:
                return actual
        return None

    def grid(self, sheet: str) -> Grid:
        if sheet not in self._grids:
            self._grids[sheet] = self.book.grid(sheet)
        return self._grids[sheet]

    def find(self, tdef: TableDef) -> FoundTable | None:
        sheet = self.sheet_for(tdef)
        if sheet is None:
            return None
        grid = self.grid(sheet)
        headers = self._header_rows(sheet)
        header = headers.get(tdef.key)
        if header is None:
            return None
        end = self._end(grid, header, headers)
        row = _row(grid, header)
        if tdef.keyvalue:
            label_col, value_col = _kv_columns(row) or (0, 1)
            rows = [r for r in range(header + 1, end) if not is_blank(grid.value(r, label_col))]
            return FoundTable(tdef, grid, header, {}, {}, rows, label_col, value_col)
        cols = match_header(tdef, row)
        extra = {c: v for c, v in enumerate(row) if not is_blank(v) and c not in cols.values()} if tdef.extra else {}
        used = [*cols.values(), *extra]
        rows = [r for r in range(header + 1, end) if any(not is_blank(grid.value(r, c)) for c in used)]
        return FoundTable(tdef, grid, header, cols, extra, rows)

    # -- header rows --------------------------------------------------------------------------
    def _header_rows(self, sheet: str) -> dict[str, int]:
        """Header row (0-based) of every table that lives on ``sheet``."""
        if sheet in self._headers:
            return self._headers[sheet]
        grid = self.grid(sheet)
        tables = [t for t in TABLES if self.sheet_for(t) == sheet]
        out: dict[str, int] = {}
        taken: set[int] = set()
        for t in tables:  # Excel tables first: their header row is known
            ref = self._refs.get(fold(t.name))
            bounds = _ref_bounds(ref.ref) if ref is not None and ref.sheet == sheet else None
            if bounds is not None and 0 <= bounds[0] - grid.origin_row < grid.n_rows:
                out[t.key] = bounds[0] - grid.origin_row
                taken.add(out[t.key])
        self._assign_keyvalue(grid, [t for t in tables if t.keyvalue and t.key not in out], out, taken)
        self._assign_records(grid, [t for t in tables if not t.keyvalue and t.key not in out], out, taken)
        self._headers[sheet] = out
        return out

    @staticmethod
    def _assign_keyvalue(grid: Grid, tables: list[TableDef], out: dict[str, int], taken: set[int]) -> None:
        if not tables:
            return
        rows = [r for r in range(grid.n_rows) if r not in taken and _kv_columns(_row(grid, r)) is not None]
        for t, r in zip(tables, rows):
            out[t.key] = r
            taken.add(r)

    @staticmethod
    def _assign_records(grid: Grid, tables: list[TableDef], out: dict[str, int], taken: set[int]) -> None:
        """Each row goes to the table whose headers it holds most of (ties: fewer other cells, then
        the first row)."""
        candidates: list[tuple[int, int, int, str]] = []
        for r in range(grid.n_rows):
            if r in taken:
                continue
            row = _row(grid, r)
            if sum(_folded_cell(v) is not None for v in row) < _MIN_MATCH:
                continue
            filled = _filled(row)
            for t in tables:
                matched = len(match_header(t, row))
                if matched >= _MIN_MATCH:
                    candidates.append((-matched, filled - matched, r, t.key))
        for _, _, r, key in sorted(candidates):
            if key not in out and r not in taken:
                out[key] = r
                taken.add(r)

    @staticmethod
    def _end(grid: Grid, header: int, headers: dict[str, int]) -> int:
        """The row after the table's last row: the next table's header on the sheet (its title and
        hint rows above are not data), or the end of the sheet."""
        later = sorted(r for r in headers.values() if r > header)
        if not later:
            return grid.n_rows
        end = later[0]
        while end - 1 > header and _filled(_row(grid, end - 1)) <= 1:
            end -= 1
        return end

"""Spreadsheets without a spreadsheet library: grids of cell values in, sheet specifications out.

Two small data types let the plan reader and the result writer work the same way for every
front end (openpyxl in the CLI, python-calamine in tests, xlwings in the Excel add-in):

* **input** — a :class:`GridBook` hands out :class:`Grid` objects: a sheet name and a rectangle of
  plain cell values (``str``, ``int``, ``float``, ``bool``, ``datetime`` or ``None``) with the Excel
  row/column of its top-left cell, so any problem can be located as ``Địa bàn!D7``;
* **output** — a :class:`SheetSpec` describes one sheet to draw: its rows of values (formulas are
  :class:`Formula` values; every plain ``str`` is written as text, even one starting with ``=``,
  because names come from users), number formats, column widths, frozen panes, tables (ListObjects),
  dropdown validations, header comments and an optional bar chart. A renderer (openpyxl:
  :mod:`budgetlib.io.workbook.render`; xlwings: the add-in) draws it; nothing else decides layout.

This module imports no spreadsheet library.

>>> g = Grid("Địa bàn", [["Mã", "Dân số"], ["303", 96111]], origin_row=3)
>>> g.address(1, 1)
'Địa bàn!B4'
>>> column_letter(28), column_index("AB")
('AB', 28)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime
from typing import Any, Iterator, Mapping, Protocol, Sequence, runtime_checkable

__all__ = [
    "CellValue",
    "column_letter",
    "column_index",
    "cell_ref",
    "range_ref",
    "quote_sheet",
    "Grid",
    "GridBook",
    "TableRef",
    "DictBook",
    "TableSpec",
    "ValidationSpec",
    "ChartSpec",
    "SheetSpec",
    "AMOUNT_FORMAT",
    "DECIMAL_FORMAT",
    "PERCENT_FORMAT",
    "INTEGER_FORMAT",
    "TEXT_FORMAT",
    "Formula",
    "RESULT_MARKER_NAME",
    "result_sheet_placement",
]

CellValue = str | int | float | bool | datetime | date | None
"""What a cell holds once read: formulas are read by their cached values."""

AMOUNT_FORMAT = "#,##0"
"""Whole đồng; Excel shows the grouping of the user's locale (``22.500.000.000`` in vi-VN)."""
DECIMAL_FORMAT = "#,##0.###"
PERCENT_FORMAT = "0.0%"
INTEGER_FORMAT = "0"
TEXT_FORMAT = "@"


class Formula(str):
    """A formula budgetlib itself wrote (``Formula("=SUM(D4:D18)")``).

    Only values of this type are written as formulas. Every other ``str`` is text — a unit named
    ``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` must reach the sheet as the characters the user
    typed, never as something the spreadsheet evaluates. Renderers (openpyxl, xlwings, Calc) check
    ``isinstance(value, Formula)``.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> "Formula":
        if not text.startswith("="):
            raise ValueError(f"a formula starts with '=': {text!r}")
        return super().__new__(cls, text)


RESULT_MARKER_NAME = "BUDGETLIB_RESULT"
"""The mark budgetlib sets on every result sheet it writes: a sheet-scoped defined name of this name
(referring to the sheet's ``$A$1``). Only marked sheets are ever replaced or removed; a user's own
sheet that merely has a result sheet's name is left alone (see :func:`result_sheet_placement`)."""


def result_sheet_placement(wanted: Sequence[str], existing: Mapping[str, bool]) -> dict[str, str]:
    """The sheet name each result sheet gets in a book whose sheets are ``existing`` (name → marked
    as ours).

    A wanted name is used when it is free or the sheet there is ours; otherwise the first free or
    ours of ``"Tổng hợp (2)"``, ``"Tổng hợp (3)"``, … (cut to Excel's 31 characters). Deterministic:
    the same book and the same results always give the same names.

    >>> result_sheet_placement(["Tổng hợp", "Nhật ký"], {"Tổng hợp": False, "Nhật ký": True})
    {'Tổng hợp': 'Tổng hợp (2)', 'Nhật ký': 'Nhật ký'}
    """
    taken = {name.casefold() for name, ours in existing.items() if not ours}
    placed: dict[str, str] = {}
    used: set[str] = set()
    for name in wanted:
        candidate, n = name, 1
        while candidate.casefold() in taken or candidate.casefold() in used:
            n += 1
            suffix = f" ({n})"
            candidate = name[: 31 - len(suffix)] + suffix
        placed[name] = candidate
        used.add(candidate.casefold())
    return placed


def column_letter(index: int) -> str:
    """1-based column number → letters (1 → ``A``, 27 → ``AA``)."""
    if index < 1:
        raise ValueError(f"column numbers start at 1, got {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Column letters → 1-based number (``AB`` → 28)."""
    n = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise ValueError(f"not a column: {letters!r}")
        n = n * 26 + ord(ch) - 64
    return n


def cell_ref(row: int, col: int, *, absolute: bool = False) -> str:
    """1-based row and column → ``D7`` (or ``$D$7``)."""
    d = "$" if absolute else ""
    return f"{d}{column_letter(col)}{d}{row}"


def range_ref(row1: int, col1: int, row2: int, col2: int, *, absolute: bool = False) -> str:
    return f"{cell_ref(row1, col1, absolute=absolute)}:{cell_ref(row2, col2, absolute=absolute)}"


def quote_sheet(name: str) -> str:
    """Sheet name as it must appear in a formula (``'Địa bàn'``)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Grid:
    """A rectangle of cell values from one sheet.

    ``rows[r][c]`` is the value of Excel cell (``origin_row + r``, ``origin_col + c``). Rows may be
    ragged; missing cells read as ``None``. Empty strings are normalised to ``None`` by readers.
    """

    sheet: str
    rows: Sequence[Sequence[CellValue]]
    origin_row: int = 1
    origin_col: int = 1

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    @cached_property
    def n_cols(self) -> int:
        return max((len(r) for r in self.rows), default=0)

    def value(self, r: int, c: int) -> CellValue:
        """Value at 0-based grid position (``None`` outside the data)."""
        if 0 <= r < len(self.rows):
            row = self.rows[r]
            if 0 <= c < len(row):
                v = row[c]
                return None if v == "" else v
        return None

    def excel_row(self, r: int) -> int:
        return self.origin_row + r

    def excel_col(self, c: int) -> int:
        return self.origin_col + c

    def address(self, r: int, c: int) -> str:
        """Location of a cell for messages: ``"Địa bàn!D7"`` (0-based grid position in)."""
        return f"{self.sheet}!{cell_ref(self.origin_row + r, self.origin_col + c)}"

    def row_address(self, r: int) -> str:
        """Location of a whole row for messages: ``"Địa bàn!7:7"``."""
        n = self.origin_row + r
        return f"{self.sheet}!{n}:{n}"


@dataclass(frozen=True)
class TableRef:
    """A named table (Excel ListObject) as found in a book: ``ref`` like ``"A3:H18"`` incl. header."""

    name: str
    sheet: str
    ref: str


@runtime_checkable
class GridBook(Protocol):
    """A workbook as the reader needs it. Implementations: :class:`DictBook` (in memory),
    ``budgetlib.io.workbook.OpenpyxlBook`` / ``CalamineBook`` (files), the add-in's xlwings book.

    ``tables()`` is optional: books that know their ListObjects return them so the reader can find
    a table by name; others return ``[]`` and the reader finds tables by their header row.
    """

    def sheet_names(self) -> list[str]: ...

    def grid(self, name: str) -> Grid: ...


@dataclass
class DictBook:
    """An in-memory :class:`GridBook`: ``{sheet name: rows}`` (rows start at A1).

    >>> book = DictBook({"Cơ quan": [["Mã", "Tên"], ["CA", "Công an thành phố"]]})
    >>> book.grid("Cơ quan").address(1, 0)
    'Cơ quan!A2'
    """

    sheets: Mapping[str, Sequence[Sequence[CellValue]]]
    table_refs: list[TableRef] = field(default_factory=list)
    source: str = ""

    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def grid(self, name: str) -> Grid:
        return Grid(name, self.sheets[name])

    def tables(self) -> list[TableRef]:
        return list(self.table_refs)

    @classmethod
    def from_specs(cls, specs: Sequence["SheetSpec"]) -> "DictBook":
        """What a spreadsheet would show for written specs, formulas left as text (tests, previews)."""
        return cls(
            {s.name: [list(r) for r in s.rows] for s in specs},
            [TableRef(t.name, s.name, t.ref) for s in specs for t in s.tables],
        )


# ---------------------------------------------------------------------------------------------
# Output: sheet specifications


@dataclass(frozen=True)
class TableSpec:
    """An Excel table (ListObject) over ``ref`` (``"A3:F40"``, header row included).

    Table names must be unique in a workbook, start with a letter and contain no spaces.
    The header cells of ``ref`` must be distinct non-empty texts.
    """

    name: str
    ref: str
    style: str = "TableStyleMedium2"
    striped: bool = True


@dataclass(frozen=True)
class ValidationSpec:
    """A dropdown (list) validation on ``ref``: either literal ``values`` (≤ 255 characters in all)
    or a ``source`` range formula such as ``"='Cơ quan'!$A$4:$A$300"``."""

    ref: str
    values: tuple[str, ...] = ()
    source: str = ""
    allow_blank: bool = True
    prompt: str = ""
    error: str = ""

    @property
    def formula(self) -> str:
        if self.source:
            return self.source.lstrip("=")
        return '"' + ",".join(v.replace('"', "") for v in self.values) + '"'


@dataclass(frozen=True)
class ChartSpec:
    """A clustered bar chart: categories and series are ranges on the same sheet (1-based).

    Series are columns ``value_cols`` over rows ``first_row..last_row``; ``header_row`` holds the
    series names; categories come from column ``category_col`` over the same rows.
    """

    title: str
    anchor: str
    category_col: int
    value_cols: tuple[int, ...]
    header_row: int
    first_row: int
    last_row: int
    y_title: str = ""
    x_title: str = ""
    horizontal: bool = True
    width_cm: float = 18.0
    height_cm: float = 12.0


@dataclass
class SheetSpec:
    """Everything needed to draw one sheet, independent of the spreadsheet library.

    ``rows`` start at A1 (use ``None`` for empty cells; title rows above a table are ordinary rows).
    ``column_formats`` maps a 0-based column to a number format applied to every row from
    ``format_from_row`` (1-based) down; ``cell_formats`` maps ``"D7"`` to a format (wins).
    ``bold_rows`` are 1-based rows drawn bold (headers, totals); ``title_rows`` larger and bold.
    ``comments`` maps ``"C3"`` to a note (the English header and the field's explanation).
    ``freeze`` is the top-left unfrozen cell (``"B4"`` freezes rows 1–3 and column A).
    ``kind`` is ``"input"`` for plan sheets (never touched when results are written) or ``"result"``.
    """

    name: str
    rows: list[list[CellValue]]
    column_widths: dict[int, float] = field(default_factory=dict)
    column_formats: dict[int, str] = field(default_factory=dict)
    format_from_row: int = 1
    cell_formats: dict[str, str] = field(default_factory=dict)
    bold_rows: set[int] = field(default_factory=set)
    title_rows: set[int] = field(default_factory=set)
    wrap_cols: set[int] = field(default_factory=set)
    comments: dict[str, str] = field(default_factory=dict)
    freeze: str | None = None
    tables: list[TableSpec] = field(default_factory=list)
    validations: list[ValidationSpec] = field(default_factory=list)
    chart: ChartSpec | None = None
    kind: str = "result"
    hidden: bool = False
    tab_color: str | None = None

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def cell(self, ref: str) -> CellValue:
        """Value written at ``"D7"`` (``None`` if outside the rows)."""
        m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
        if not m:
            raise ValueError(f"not a cell reference: {ref!r}")
        r, c = int(m.group(2)) - 1, column_index(m.group(1)) - 1
        if r < len(self.rows) and c < len(self.rows[r]):
            return self.rows[r][c]
        return None

    def iter_formulas(self) -> Iterator[tuple[str, str]]:
        """``(cell, formula)`` for every formula cell (used by recalculation tests)."""
        for r, row in enumerate(self.rows, start=1):
            for c, v in enumerate(row, start=1):
                if isinstance(v, str) and v.startswith("="):  # TODO(report): only Formula once producers wrap
                    yield cell_ref(r, c), v


def values_equal(a: Any, b: Any) -> bool:
    """Cell equality across libraries: ``1`` == ``1.0``, ``""`` == ``None``."""
    a = None if a == "" else a
    b = None if b == "" else b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b

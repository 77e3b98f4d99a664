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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

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
    "PageSetup",
    "CellStyle",
    "SheetSpec",
    "AMOUNT_FORMAT",
    "DECIMAL_FORMAT",
    "PERCENT_FORMAT",
    "INTEGER_FORMAT",
    "TEXT_FORMAT",
    "header_text",
    "Formula",
    "printable_text",
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

    The rules every renderer follows (openpyxl: :mod:`budgetlib.io.workbook.xlsx`; xlwings: the
    add-in; Calc: the LibreOffice extension), so the three produce the same cells:

    1. ``Formula`` → a formula cell (``cell.formula`` in xlwings/UNO; ``<f>`` in the XML).
    2. any other ``str`` → a text cell, whatever it starts with (``=``, ``+``, ``-``, ``@``): set the
       value with the type forced to text (openpyxl ``data_type="s"``/inline string; xlwings:
       ``number_format="@"`` before the value, or ``"'" + text``; UNO: ``cell.setString``), never
       through a path that parses it.
    3. control characters U+0000–U+001F other than TAB, LF and CR (and U+FFFE/U+FFFF) cannot be
       stored in an Office file: they are replaced by U+FFFD ``�`` (visible, so nothing is silently
       dropped). Validation already reports them with their cell; this rule keeps the writer from
       crashing on any that reach it. :func:`printable_text` does it.
    4. numbers are written as numbers (``bool`` as a boolean), ``None`` as an empty cell.
    """

    __slots__ = ()

    def __new__(cls, text: str) -> Formula:
        if not text.startswith("="):
            raise ValueError(f"a formula starts with '=': {text!r}")
        return super().__new__(cls, text)


RESULT_MARKER_NAME = "BUDGETLIB_RESULT"
"""The mark budgetlib sets on every result sheet it writes: a sheet-scoped defined name of this name
(referring to the sheet's ``$A$1``). Only marked sheets are ever replaced or removed; a user's own
sheet that merely has a result sheet's name is left alone (see :func:`result_sheet_placement`).

Rules for every renderer: (1) each result sheet written gets the mark (openpyxl: a
``DefinedName`` in ``ws.defined_names``; xlwings: ``sheet.names.add(RESULT_MARKER_NAME, "=$A$1")``;
UNO: ``sheet.NamedRanges.addNewByName``); (2) before writing, the sheets that carry the mark are
the ones that may be deleted or replaced, and no other sheet is touched; (3) new result sheets take
the names :func:`result_sheet_placement` gives for the book's current sheets (name → marked), so a
user's own ``Tổng hợp`` stays and ours becomes ``Tổng hợp (2)``; (4) a marked sheet of a previous
run that the new run does not write (e.g. a ``Năm 2016`` that is no longer in the plan, or ``Lỗi``
after the errors are fixed) is removed."""


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def printable_text(text: str) -> str:
    """``text`` with the characters an Office file cannot hold replaced by ``\ufffd`` (rule 3 of
    :class:`Formula`).

    >>> printable_text("Xã\x07 Bell")
    'Xã\ufffd Bell'
    """
    return _NOT_XML.sub("\ufffd", text) if _NOT_XML.search(text) else text


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
    def from_specs(cls, specs: Sequence[SheetSpec]) -> DictBook:
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
    """A clustered bar chart (``kind="bar"``) or a line chart (``kind="line"``: a curve over ordered
    categories, such as budget levels): categories and series are ranges on the same sheet (1-based).

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
    value_format: str = "#,##0"  # number format of the value axis (a language-tagged one for print)
    kind: str = "bar"  # "bar" | "line"


@dataclass(frozen=True)
class PageSetup:
    """How a sheet prints: paper, orientation, scaling, repeated rows, print area, header/footer.

    ``header``/``footer`` are ``(left, centre, right)`` texts in Excel's header codes: ``&P`` is the
    page number, ``&N`` the number of pages, ``&A`` the sheet name; a literal ``&`` in user text must
    be written ``&&`` (see :func:`header_text`). ``fit_width``/``fit_height`` are the number of pages
    the sheet is scaled to (0 = as many as needed). ``title_rows`` are 1-based rows repeated on
    every page (``(4, 4)``); ``area`` the printed range (``"A1:H40"``); ``breaks`` the 1-based rows
    a new page starts after (a manual page break below that row).
    """

    orientation: str = "portrait"  # or "landscape"
    paper: str = "A4"
    fit_width: int = 1
    fit_height: int = 0
    title_rows: tuple[int, int] | None = None
    area: str | None = None
    header: tuple[str, str, str] = ("", "", "")
    footer: tuple[str, str, str] = ("", "", "")
    breaks: tuple[int, ...] = ()
    margins_cm: tuple[float, float, float, float] = (2.0, 1.5, 1.5, 1.5)  # top, right, bottom, left (NĐ 30 margins)
    center_horizontally: bool = True


def header_text(text: str) -> str:
    """User text made safe inside a header/footer (``&`` is a code there)."""
    return printable_text(text).replace("&", "&&")


@dataclass(frozen=True)
class CellStyle:
    """Explicit look of one cell (wins over the row/column defaults of :class:`SheetSpec`)."""

    bold: bool = False
    italic: bool = False
    underline: bool = False
    size: float | None = None
    font: str | None = None
    align: str | None = None  # "left" | "center" | "right"
    valign: str | None = None  # "top" | "center" | "bottom"
    wrap: bool = False
    border: bool = False
    fill: str | None = None  # RGB hex, e.g. "DDEBF7"


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
    ``page`` says how the sheet prints; ``merges`` are ranges drawn as one cell (``"A1:C1"``);
    ``styles`` maps ``"D7"`` to a :class:`CellStyle`; ``borders`` are ranges drawn with thin grid
    lines (tables that must print with their lines); ``font`` is the sheet's font name (``None``:
    the workbook default); ``row_heights`` maps 1-based rows to a height in points (merged,
    wrapped prose rows, which spreadsheets do not grow by themselves).
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
    page: PageSetup | None = None
    merges: list[str] = field(default_factory=list)
    styles: dict[str, CellStyle] = field(default_factory=dict)
    borders: list[str] = field(default_factory=list)
    font: str | None = None
    row_heights: dict[int, float] = field(default_factory=dict)

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
                if isinstance(v, Formula):
                    yield cell_ref(r, c), v


def values_equal(a: Any, b: Any) -> bool:
    """Cell equality across libraries: ``1`` == ``1.0``, ``""`` == ``None``."""
    a = None if a == "" else a
    b = None if b == "" else b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b

"""``.xlsx`` files with openpyxl: draw :class:`SheetSpec` (reading lives in :mod:`.books`,
re-exported here).

* :func:`write_plan_workbook` — the planning template, filled with a plan (``budgetlib template``);
* :func:`read_workbook` — a plan from a workbook, :class:`~budgetlib.PlanInvalid` with every
  located problem (cached values of formulas are read; a file saved without them is reported);
* :func:`write_result_workbook` — input sheets kept as they are, budgetlib's own (marked) result
  sheets replaced, written through :func:`budgetlib.io.atomic.atomic_path` (locked, atomic, with a
  ``.bak`` of the user's last input bytes for ``--in-place``).

New files are written in openpyxl's write-only mode (streaming, low memory); large inputs are
read in read-only mode. python-calamine gives a second, independent reader (:class:`CalamineBook`).

How a workbook is saved (:func:`_save`): openpyxl writes the package *uncompressed* into memory,
with only the first rows of very large sheets; one final pass then streams every part into the
output file, compressing each part exactly once, appending the remaining rows of the large sheets
as XML generated straight from the :class:`SheetSpec` (strings go to the shared-string table),
putting back the cached values of formulas on the user's sheets, and fixing every timestamp so the
same inputs give the same bytes. Its last bytes are a zip comment holding the SHA-256 of
everything before it: that is how a later ``--in-place`` run knows the file is still exactly what
budgetlib wrote (so its ``.bak`` keeps the user's own bytes instead of budgetlib's output).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from copy import copy
from itertools import chain, filterfalse, repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.writer.excel import ExcelWriter

from ...model.plan import Plan
from ..atomic import TEMP_PREFIX, OutputError, atomic_path, backup_path
from ..grid import (
    RESULT_MARKER_NAME,
    CellStyle,
    Formula,
    SheetSpec,
    column_index,
    column_letter,
    printable_text,
    result_sheet_placement,
)
from ..reproducible import FIXED_ZIP_TIME, _fixed_core
from .books import LARGE_FILE_BYTES, CalamineBook, OpenpyxlBook, _unescape, open_book, read_workbook
from .plan_sheets import plan_sheets

__all__ = [
    "OpenpyxlBook",
    "CalamineBook",
    "open_book",
    "render_sheet",
    "write_sheets",
    "write_plan_workbook",
    "read_workbook",
    "write_result_workbook",
    "is_marked",
    "is_unchanged_output",
    "LARGE_FILE_BYTES",
]

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13, color="1F4E78")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="bottom")  # wrapped names end on the line of their row's figures


# ---------------------------------------------------------------------------------------------
# Writing

FAST_ROWS = 2_000
"""Sheets with more rows than this keep only their first rows in openpyxl; the rest are generated
as XML by :func:`_tail_rows` during the final pass (openpyxl's per-cell serialisation is ~40 000
cells/s, which would make a national result workbook of ~4 million cells take minutes)."""

FAST_HEAD = 50
"""Rows of a large sheet drawn by openpyxl (its title and header rows, their styles and notes)."""

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13, color="1F4E78")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="bottom")  # wrapped names end on the line of their row's figures
_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_MARK_VALUE = '"budgetlib"'
"""The marker name refers to a text constant, so it stays valid when a front end renames the sheet."""


def _cell_text(v: str) -> str:
    return printable_text(v)


def _ranges_cells(ranges: Sequence[str]) -> set[str]:
    """Every cell reference inside ``ranges`` (``"A4:C6"`` → A4, B4, …)."""
    out: set[str] = set()
    for ref in ranges:
        a, _, b = ref.partition(":")
        m1, m2 = re.fullmatch(r"([A-Z]+)(\d+)", a), re.fullmatch(r"([A-Z]+)(\d+)", b or a)
        if not (m1 and m2):
            raise ValueError(f"not a range: {ref!r}")
        c1, c2 = sorted((column_index(m1.group(1)), column_index(m2.group(1))))
        r1, r2 = sorted((int(m1.group(2)), int(m2.group(2))))
        out.update(f"{column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
    return out


_column_letter = functools.cache(column_letter)
""":func:`~budgetlib.io.grid.column_letter`, remembered: a large sheet asks for the same few
columns' letters ~10⁵ times."""

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""What a cell reference's row number follows (``"AB12".lstrip(_LETTERS)`` is ``"12"``)."""


class _Styler:
    """Turns a SheetSpec's row/column/cell rules into hashable style keys, one per distinct look."""

    def __init__(self, spec: SheetSpec, header_rows: set[int]):
        self.spec = spec
        self.header_rows = header_rows
        self.bordered = _ranges_cells(spec.borders) if spec.borders else set()

    def key(self, r: int, c: int, v: Any) -> tuple | None:
        spec = self.spec
        ref = f"{_column_letter(c)}{r}"
        fmt = spec.cell_formats.get(ref) if spec.cell_formats else None
        if fmt is None and r >= spec.format_from_row:
            fmt = spec.column_formats.get(c - 1)
        if isinstance(v, str) and not isinstance(v, Formula):
            fmt = None
        title = r in spec.title_rows
        header = r in self.header_rows
        bold = (r in spec.bold_rows or header) and not title
        wrap = (c - 1) in spec.wrap_cols and not title
        comment = spec.comments.get(ref) if spec.comments else None
        style = spec.styles.get(ref) if spec.styles else None
        border = ref in self.bordered
        font = spec.font
        if not (fmt or title or bold or header or wrap or comment or style or border or font):
            return None
        return (fmt, title, bold, header, wrap, comment, style, border, font)


def _font(title: bool, bold: bool, style: CellStyle | None, name: str | None) -> Font | None:
    if style is not None and (style.bold or style.italic or style.underline or style.size or style.font):
        return Font(
            name=style.font or name,
            bold=style.bold or bold,
            italic=style.italic,
            underline="single" if style.underline else None,
            size=style.size or (13 if title else None),
        )
    if title:
        return Font(name=name, bold=True, size=13, color="1F4E78") if name else _TITLE
    if bold:
        return Font(name=name, bold=True) if name else _BOLD
    if name:
        return Font(name=name)
    return None


def _styled(ws: Any, v: Any, key: tuple) -> WriteOnlyCell:
    """A cell with the look ``key``. Each distinct look is built once per workbook (fonts, fills
    and borders are hashed by openpyxl, which is slow); later cells copy its style indices."""
    cache = ws.parent.__dict__.setdefault("_budgetlib_looks", {})
    proto = cache.get(key)
    if proto is not None:
        cell = WriteOnlyCell(ws, value=v)
        if isinstance(v, str) and not isinstance(v, Formula):
            cell.data_type = "s"
        cell._style = copy(proto)
        if key[5]:
            note = Comment(_cell_text(key[5]), "budgetlib")
            note.width, note.height = 300, 120
            cell.comment = note
        return cell
    cell = _styled_new(ws, v, key)
    cache[key] = copy(cell._style)
    return cell


def _styled_new(ws: Any, v: Any, key: tuple) -> WriteOnlyCell:
    fmt, title, bold, header, wrap, comment, style, border, font_name = key
    cell = WriteOnlyCell(ws, value=v)
    if isinstance(v, str) and not isinstance(v, Formula):
        cell.data_type = "s"  # user text that merely starts with "=" is not a formula
    if fmt:
        cell.number_format = fmt
    font = _font(title, bold, style, font_name)
    if font is not None:
        cell.font = font
    if header and not (style and style.fill):
        cell.fill = _HEADER_FILL
    if style is not None and style.fill:
        cell.fill = PatternFill("solid", fgColor=style.fill)
    if style is not None and (style.align or style.valign or style.wrap):
        cell.alignment = Alignment(
            horizontal=style.align, vertical=style.valign, wrap_text=style.wrap or wrap or None
        )
    elif wrap:
        cell.alignment = _WRAP
    if border or (style is not None and style.border):
        cell.border = _GRID
    if comment:
        note = Comment(_cell_text(comment), "budgetlib")
        note.width, note.height = 300, 120
        cell.comment = note
    return cell


def _plain(ws: Any, v: Any) -> Any:
    """A cell without style: text is forced to text (a leading "=" stays text), control
    characters made printable; numbers and formulas as they are."""
    if isinstance(v, str):
        if isinstance(v, Formula):
            return v
        text = _cell_text(v)
        if text[:1] in ("=",):
            cell = WriteOnlyCell(ws, value=text)
            cell.data_type = "s"
            return cell
        return text
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _value(v: Any) -> Any:
    if isinstance(v, str) and not isinstance(v, Formula):
        return _cell_text(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def mark_result_sheet(ws: Any) -> None:
    """Put the :data:`~budgetlib.io.grid.RESULT_MARKER_NAME` mark on a sheet we wrote."""
    ws.defined_names[RESULT_MARKER_NAME] = DefinedName(RESULT_MARKER_NAME, attr_text=_MARK_VALUE)


def is_marked(ws: Any) -> bool:
    """True for a sheet that carries budgetlib's result mark (the only sheets ever replaced)."""
    names = getattr(ws, "defined_names", None)
    return names is not None and RESULT_MARKER_NAME in names


def _page_setup(ws: Any, spec: SheetSpec) -> None:
    p = spec.page
    if p is None:
        return
    ws.page_setup.paperSize = "9" if p.paper == "A4" else ws.page_setup.paperSize
    ws.page_setup.orientation = p.orientation
    ws.page_setup.fitToWidth = p.fit_width
    ws.page_setup.fitToHeight = p.fit_height
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    top, right, bottom, left = (x / 2.54 for x in p.margins_cm)
    ws.page_margins = PageMargins(left=left, right=right, top=top, bottom=bottom, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = p.center_horizontally
    if p.title_rows:
        ws.print_title_rows = f"{p.title_rows[0]}:{p.title_rows[1]}"
    if p.area:
        ws.print_area = p.area
    for part, (left_t, centre_t, right_t) in (("oddHeader", p.header), ("oddFooter", p.footer)):
        hf = getattr(ws, part)
        for side, text in (("left", left_t), ("center", centre_t), ("right", right_t)):
            if text:
                getattr(hf, side).text = text
                getattr(hf, side).size = 9
    for r in p.breaks:
        ws.row_breaks.append(Break(id=r))


def render_sheet(wb: Workbook, spec: SheetSpec, index: int | None = None, *, defer: bool = False) -> Any:
    """Draw one :class:`SheetSpec` into ``wb`` (normal or write-only workbook); return the sheet.

    Values follow the rules of :class:`~budgetlib.io.grid.Formula`: only ``Formula`` values become
    formulas, every other text is text. Result sheets get budgetlib's mark. With ``defer=True``
    (used by :func:`_save`, which must then save the workbook) the rows of a very large sheet past
    its first ones are generated in the final pass instead of through openpyxl.
    """
    ws = wb.create_sheet(spec.name) if index is None else wb.create_sheet(spec.name, index)
    for c, w in spec.column_widths.items():
        ws.column_dimensions[column_letter(c + 1)].width = w
    if spec.freeze:
        ws.freeze_panes = spec.freeze
    if spec.tab_color:
        ws.sheet_properties.tabColor = spec.tab_color
    if spec.hidden:
        ws.sheet_state = "hidden"
    if spec.kind == "result":
        mark_result_sheet(ws)
    _page_setup(ws, spec)
    for ref in spec.merges:
        ws.merged_cells.add(ref)
    for r, h in spec.row_heights.items():
        ws.row_dimensions[r].height = h
    header_rows = {int(re.match(r"[A-Z]+(\d+)", t.ref).group(1)) for t in spec.tables}  # type: ignore[union-attr]
    styler = _Styler(spec, header_rows)
    head = len(spec.rows)
    if defer and head > FAST_ROWS:
        marked = [int(re.match(r"[A-Z]+(\d+)", ref).group(1)) for ref in spec.comments]  # type: ignore[union-attr]
        head = min(head, max([FAST_HEAD, *marked]))
    for r, row in enumerate(spec.rows[:head], start=1):
        cells: list[Any] = []
        for c, v in enumerate(row, start=1):
            key = styler.key(r, c, v)
            cells.append(_plain(ws, v) if key is None else _styled(ws, _value(v), key))
        ws.append(cells)
    if head < len(spec.rows):
        wb.__dict__.setdefault("_budgetlib_tails", []).append(_Tail(ws, spec, head + 1, styler))
    for t in spec.tables:
        table = Table(displayName=t.name, ref=t.ref)
        table.tableStyleInfo = TableStyleInfo(name=t.style, showRowStripes=t.striped, showColumnStripes=False)
        table._initialise_columns()
        hr = int(re.match(r"[A-Z]+(\d+)", t.ref).group(1))  # type: ignore[union-attr]
        start = column_index(re.match(r"([A-Z]+)", t.ref).group(1))  # type: ignore[union-attr]
        headers = spec.rows[hr - 1] if hr - 1 < len(spec.rows) else []
        for i, _col in enumerate(table.tableColumns):
            j = start - 1 + i
            name = headers[j] if j < len(headers) and headers[j] is not None else f"Column{i + 1}"
            table.tableColumns[i] = TableColumn(id=i + 1, name=_cell_text(str(name)))
        with warnings.catch_warnings():  # write-only mode warns even when columns are set, as here
            warnings.simplefilter("ignore")
            ws.add_table(table)
    for val in spec.validations:
        dv = DataValidation(type="list", formula1=val.formula, allow_blank=val.allow_blank, showDropDown=False)
        if val.error:  # else Excel's own message, in the officer's Excel language
            dv.error = val.error
        dv.errorTitle = "budgetlib"
        dv.showErrorMessage = True
        if val.prompt:
            dv.prompt = val.prompt
            dv.showInputMessage = True
        dv.add(val.ref)
        ws.data_validations.append(dv)
    if spec.chart is not None:
        ws.add_chart(_chart(ws, spec), spec.chart.anchor)
    return ws


def _chart(ws: Any, spec: SheetSpec) -> BarChart | LineChart:
    ch = spec.chart
    assert ch is not None
    chart: Any
    if ch.kind == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "bar" if ch.horizontal else "col"
        chart.grouping = "clustered"
    chart.title = _cell_text(ch.title)
    chart.y_axis.title = _cell_text(ch.y_title) if ch.y_title else None
    chart.x_axis.title = _cell_text(ch.x_title) if ch.x_title else None
    chart.width, chart.height = ch.width_cm, ch.height_cm
    for col in ch.value_cols:
        data = Reference(ws, min_col=col, min_row=ch.header_row, max_row=ch.last_row)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=ch.category_col, min_row=ch.first_row, max_row=ch.last_row))
    # Every unit's label: no skipped category labels, axes drawn, first unit at the top.
    chart.x_axis.tickLblSkip = 1
    chart.x_axis.tickMarkSkip = 1
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if ch.horizontal and ch.kind != "line":
        chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.crosses = "max"
    chart.y_axis.majorGridlines = None
    chart.y_axis.number_format = ch.value_format
    chart.legend.position = "b"
    if ch.kind == "line":
        for series in chart.series:
            series.smooth = False
            series.marker.symbol = "circle"
    else:
        chart.gapWidth = 60
    chart.dataLabels = None if len(ch.value_cols) > 1 else DataLabelList(showVal=False)
    return chart


# ---------------------------------------------------------------------------------------------
# Saving: one pass over the package


_XML_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _xml_text(v: str) -> str:
    return _cell_text(v).translate(_XML_ESC)


_SAMPLES: tuple[tuple[int, Any], ...] = ((0, "x"), (1, 1), (2, Formula("=A1")), (3, True), (4, None))


def _kind(v: Any) -> int:
    """0 text, 1 number, 2 formula, 3 boolean, 4 empty."""
    if v is None:
        return 4
    t = type(v)
    if t is str:
        return 0
    if t is int or t is float or t is np.int64:
        return 1
    if isinstance(v, bool):
        return 3
    if isinstance(v, Formula):
        return 2
    if isinstance(v, (int, float, np.integer, np.floating)):
        return 1
    return 0


class _Tail:
    """The rows of a large sheet that the final pass writes, with every style they use registered
    in the workbook *before* openpyxl writes its style sheet."""

    def __init__(self, ws: Any, spec: SheetSpec, first: int, styler: _Styler):
        self.ws, self.spec, self.first = ws, spec, first
        n = len(spec.rows)
        special = set(spec.title_rows) | set(spec.bold_rows) | styler.header_rows | set(range(first, spec.format_from_row))
        special.update(int(ref.lstrip(_LETTERS)) for ref in (*spec.cell_formats, *spec.styles, *styler.bordered, *spec.comments))
        self.special = {r for r in special if first <= r <= n}
        ids: dict[tuple, int] = {}

        def sid(r: int, c: int, v: Any) -> str:
            key = styler.key(r, c, v)
            if key is None:
                return ""
            if key[5]:
                raise AssertionError("notes are only drawn in the first rows of a sheet")
            if key not in ids:
                ids[key] = _styled(ws, None, key).style_id
            return f' s="{ids[key]}"' if ids[key] else ""

        self.slow: dict[tuple[int, int], str] = {}
        for r in sorted(self.special):
            for c0, v in enumerate(spec.rows[r - 1]):
                self.slow[(r, c0)] = sid(r, c0 + 1, v)
        ordinary = next((r for r in range(max(first, spec.format_from_row), n + 1) if r not in self.special), None)
        width = max(map(len, spec.rows[first - 1 :]), default=0)
        self.fast: dict[tuple[int, int], str] = {}
        if ordinary is not None:
            for c0 in range(width):
                for k, sample in _SAMPLES:
                    self.fast[(c0, k)] = sid(ordinary, c0 + 1, sample)
        self.letters = [column_letter(c) for c in range(1, width + 2)]

    def _layout(self, types: tuple[type, ...]) -> list[Any]:
        """The XML of an ordinary row whose cells have these Python types, as a list of pieces:
        literal text (``str``), :data:`_ROW_NUMBER`, or a :class:`_CellValue` saying how a cell's
        value is written. Adjacent literal pieces are merged."""
        pieces: list[Any] = ['<row r="', _ROW_NUMBER, '">']
        for c0, t in enumerate(types):
            k = _type_kind(t)
            s_attr = self.fast[(c0, k)]
            ref = [f'<c r="{self.letters[c0]}', _ROW_NUMBER]
            value = _CellValue(c0, k, t)
            if k == 4:
                pieces += [*ref, f'"{s_attr}/>'] if s_attr else []
            elif k == 0:
                pieces += [*ref, f'"{s_attr} t="s"><v>', value, "</v></c>"]
            elif k == 1:
                pieces += [*ref, f'"{s_attr}><v>', value, "</v></c>"]
            elif k == 2:
                pieces += [*ref, f'"{s_attr}><f>', value, "</f></c>"]
            else:
                pieces += [*ref, f'"{s_attr} t="b"><v>', value, "</v></c>"]
        pieces.append("</row>")
        merged: list[Any] = []
        for piece in pieces:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            else:
                merged.append(piece)
        return merged

    def rows_xml(self, strings: _SharedStrings) -> Iterator[str]:
        """``<row>`` XML for the tail rows (what openpyxl would write, much faster). Text goes to
        the shared-string table (``strings``, extended here); formulas are written without a
        cached value (the workbook is marked for a full recalculation on load).

        Ordinary rows (not a title, header, styled or tall row) are written a block at a time:
        consecutive rows with the same cell types share one layout, each of its value pieces is
        filled for the whole block column by column, and the block is joined once — so the cost
        per cell is a conversion to text, without Python code run per row. The text comes in
        pieces of about :data:`_BLOCK_ROWS` rows."""
        pending: list[str] = []
        pending_rows = 0
        for xml, count in self._row_pieces(strings):
            pending.append(xml)
            pending_rows += count
            if pending_rows >= _BLOCK_ROWS:
                yield "".join(pending)
                pending.clear()
                pending_rows = 0
        if pending:
            yield "".join(pending)

    def _row_pieces(self, strings: _SharedStrings) -> Iterator[tuple[str, int]]:
        """The tail rows' XML in order, as ``(xml, number of rows)``: a block of ordinary rows, or
        one irregular row."""
        spec, n = self.spec, len(self.spec.rows)
        irregular = sorted({*self.special, *(r for r in spec.row_heights if self.first <= r <= n)})
        layouts: dict[tuple[type, ...], list[Any]] = {}
        r = self.first
        for stop in [*irregular, n + 1]:
            while r < stop:  # ordinary rows r … stop - 1, at most _BLOCK_ROWS at a time
                rows = spec.rows[r - 1 : min(stop, r + _BLOCK_ROWS) - 1]
                yield self._ordinary_xml(r, rows, layouts, strings), len(rows)
                r += len(rows)
            if stop <= n:
                yield self._special_row(stop, spec.rows[stop - 1], strings), 1
                r = stop + 1

    def _ordinary_xml(self, r: int, rows: Sequence[Sequence[Any]], layouts: dict[tuple[type, ...], list[Any]], strings: _SharedStrings) -> str:
        """The XML of the ordinary rows ``r, r + 1, …`` (``rows``)."""
        if len(set(map(len, rows))) == 1:
            columns = list(zip(*rows))
            column_types = [set(map(type, column)) for column in columns]
            if all(len(t) == 1 for t in column_types):  # the usual case: every row has the same layout
                layout = self._layout_of(tuple(t.pop() for t in column_types), layouts)
                filled = self._filled(layout, columns, list(map(str, range(r, r + len(rows)))), strings)
                width = len(layout)
                out = [piece if isinstance(piece, str) else "" for piece in layout] * len(rows)
                for at, values in filled.items():
                    out[at::width] = values
                return "".join(out)
        # Rows of several layouts: their texts are numbered in reading order first, then the rows of
        # each layout are filled together and each row's XML put back in its place.
        strings.add_all(v if type(v) is str else str(v) for row in rows for v in row if _type_kind(type(v)) == 0)
        offsets_by_types: dict[tuple[type, ...], list[int]] = {}
        for i, row in enumerate(rows):
            offsets_by_types.setdefault(tuple(map(type, row)), []).append(i)
        xml = [""] * len(rows)
        for types, offsets in offsets_by_types.items():
            layout = self._layout_of(types, layouts)
            filled = self._filled(layout, list(zip(*(rows[i] for i in offsets))), [str(r + i) for i in offsets], strings)
            pieces = [filled[at] if at in filled else repeat(piece) for at, piece in enumerate(layout)]
            for i, row_xml in zip(offsets, map("".join, zip(*pieces))):
                xml[i] = row_xml
        return "".join(xml)

    def _layout_of(self, types: tuple[type, ...], layouts: dict[tuple[type, ...], list[Any]]) -> list[Any]:
        layout = layouts.get(types)
        if layout is None:
            layout = layouts[types] = self._layout(types)
        return layout

    @staticmethod
    def _filled(layout: list[Any], columns: Sequence[Sequence[Any]], numbers: list[str], strings: _SharedStrings) -> dict[int, Sequence[str]]:
        """For rows of one layout, given their values column by column and their row numbers: what
        each non-literal piece of the layout (by its position) becomes, row by row. Their new texts
        are added to ``strings`` in reading order (row by row) first."""
        cells = [piece for piece in layout if isinstance(piece, _CellValue)]
        texts = {piece.column: _value_texts(0, piece.type, columns[piece.column]) for piece in cells if piece.kind == 0}
        strings.add_all(chain.from_iterable(zip(*texts.values())))
        filled: dict[int, Sequence[str]] = {}
        for at, piece in enumerate(layout):
            if piece is _ROW_NUMBER:
                filled[at] = numbers
            elif isinstance(piece, _CellValue):
                c0, k, t = piece
                filled[at] = strings.cell_texts(texts[c0]) if k == 0 else _value_texts(k, t, columns[c0])
        return filled

    def _special_row(self, r: int, row: Sequence[Any], strings: _SharedStrings) -> str:
        letters, slow = self.letters, self.slow
        height = self.spec.row_heights.get(r)
        parts = [f'<row r="{r}" ht="{height}" customHeight="1">' if height else f'<row r="{r}">']
        for c0, v in enumerate(row):
            k = _kind(v)
            s_attr = slow.get((r, c0), "") if r in self.special else self.fast[(c0, k)]
            ref = f"{letters[c0]}{r}"
            if k == 4:
                if s_attr:
                    parts.append(f'<c r="{ref}"{s_attr}/>')
            elif k == 0:
                n = strings.add(v if type(v) is str else str(v))
                parts.append(f'<c r="{ref}"{s_attr} t="s"><v>{n}</v></c>')
            elif k == 1:
                num = v if type(v) is int else (int(v) if isinstance(v, np.integer) else repr(float(v)))
                parts.append(f'<c r="{ref}"{s_attr}><v>{num}</v></c>')
            elif k == 2:
                parts.append(f'<c r="{ref}"{s_attr}><f>{_xml_text(v[1:])}</f></c>')
            else:
                parts.append(f'<c r="{ref}"{s_attr} t="b"><v>{int(v)}</v></c>')
        parts.append("</row>")
        return "".join(parts)


_TYPE_KIND: dict[type, int] = {str: 0, int: 1, float: 1, np.int64: 1, np.float64: 1, Formula: 2, bool: 3, type(None): 4}

_BLOCK_ROWS = 20_000
"""Ordinary rows written (and compressed) together: large enough that the per-block costs vanish,
small enough that a block's text stays a few MB."""

_ROW_NUMBER = object()
"""In a row layout (:meth:`_Tail._layout`): the row's number."""


class _CellValue(NamedTuple):
    """In a row layout: the value of cell ``column`` (0-based), of kind ``kind`` (see :func:`_kind`)
    and Python type ``type``."""

    column: int
    kind: int
    type: type


def _type_kind(t: type) -> int:
    """:func:`_kind` of an ordinary row's cell from its type alone."""
    k = _TYPE_KIND.get(t)
    if k is None:
        k = 2 if issubclass(t, Formula) else 3 if issubclass(t, (bool, np.bool_)) else 1 if issubclass(t, (int, float, np.integer, np.floating)) else 0
    return k


def _value_texts(kind: int, t: type, values: Sequence[Any]) -> Sequence[str]:
    """How cells of type ``t`` (all alike) show their values (kinds 0–3 of :func:`_kind`): text as
    text (then written as its position in the shared strings), integers as integers, other numbers
    as the shortest ``repr`` of the float, formulas without their ``=``, booleans as 0/1."""
    if kind == 0:
        return values if t is str else list(map(str, values))
    if kind == 1:
        if t is int:
            return list(map(str, values))
        if issubclass(t, np.integer):
            return list(map(str, map(int, values)))
        return list(map(repr, map(float, values)))
    if kind == 2:
        return [_xml_text(v[1:]) for v in values]
    return list(map(str, map(int, values)))


class _SharedStrings:
    """The workbook's shared-string table while the package is written: each text's position, in
    order of first use (openpyxl's own strings first), and that position as cell text (kept: a
    national sheet refers to a few thousand texts millions of times)."""

    def __init__(self) -> None:
        self.position: dict[str, int] = {}
        self._cell_text: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.position)

    def add(self, text: str) -> int:
        """The position of ``text``, added at the end if it is new."""
        n = self.position.get(text)
        if n is None:
            n = self.position[text] = len(self.position)
            self._cell_text[text] = str(n)
        return n

    def add_all(self, texts: Iterable[str]) -> None:
        """Add the new ones of ``texts`` in their order (the known ones are skipped without Python code)."""
        for text in filterfalse(self.position.__contains__, texts):
            self.add(text)

    def cell_texts(self, texts: Iterable[str]) -> list[str]:
        """The positions of these (already added) texts, as written in ``<v>``."""
        return list(map(self._cell_text.__getitem__, texts))


def _sheet_members(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → member path inside the package (``xl/worksheets/sheet3.xml``)."""
    wb_xml = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets: dict[str, str] = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', rel)
        target = re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = target.group(1)
    out = {}
    for tag in re.findall(r"<sheet\b[^>]*>", wb_xml):
        name = re.search(r'name="([^"]+)"', tag)
        rid = re.search(r'r:id="([^"]+)"', tag)
        if name and rid and rid.group(1) in targets:
            t = targets[rid.group(1)]
            out[_unescape(name.group(1))] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def _formula_cache(wb: Any, source: Path) -> dict[str, dict[str, Any]]:
    """Cached values of the formulas on the kept (input) sheets of ``source``.

    openpyxl writes formulas without their last computed value; saved as is, the next read
    (``data_only``) would see empty cells. Put back by the final pass."""
    refs: dict[str, list[str]] = {}
    for ws in wb.worksheets:
        cells = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        if cells:
            refs[ws.title] = cells
    if not refs:
        return {}
    values = load_workbook(source, data_only=True, keep_vba=False)
    out: dict[str, dict[str, Any]] = {}
    for name, cells in refs.items():
        ws = values[name]
        out[name] = {ref: ws[ref].value for ref in cells if ws[ref].value is not None}
    return out


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/>(?:</v>)?</c>|<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v></v></c>', re.S)


def _restore_cached(values: dict[str, Any], xml: str) -> str:
    def one(m: re.Match) -> str:
        ref, attrs, formula = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        v = values.get(ref)
        if v is None:
            return m.group(0)
        attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
        if isinstance(v, bool):
            return f'<c r="{ref}"{attrs} t="b"><f>{formula}</f><v>{int(v)}</v></c>'
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"{attrs}><f>{formula}</f><v>{v!r}</v></c>'
        return f'<c r="{ref}"{attrs} t="str"><f>{formula}</f><v>{_xml_text(str(v))}</v></c>'

    return _FORMULA_CELL.sub(one, xml)


_COMMENT_PREFIX = b"budgetlib-output sha256="
_COMMENT_LEN = len(_COMMENT_PREFIX) + 64


def is_unchanged_output(path: str | Path) -> bool:
    """True when ``path`` is byte for byte a workbook budgetlib wrote (nobody saved it since)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            if size < _COMMENT_LEN + 22:
                return False
            fh.seek(size - _COMMENT_LEN)
            tail = fh.read()
            if not tail.startswith(_COMMENT_PREFIX):
                return False
            fh.seek(0)
            h = hashlib.sha256()
            remaining = size - 64
            while remaining > 0:
                chunk = fh.read(min(1 << 20, remaining))
                if not chunk:
                    return False
                h.update(chunk)
                remaining -= len(chunk)
    except OSError:
        return False
    return h.hexdigest().encode() == tail[len(_COMMENT_PREFIX) :]


_TEMPDIR_LOCK = threading.Lock()


@contextmanager
def _private_tempdir(folder: Path) -> Iterator[None]:
    """openpyxl spools each sheet through a file in the system temp folder; point it at a folder
    of our own beside the output (named like our other temporary files), so a killed run's
    spool files are found and removed by the next run (:func:`~budgetlib.io.atomic.clean_leftovers`)."""
    with _TEMPDIR_LOCK:
        private = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}.{os.urandom(6).hex()}.", dir=folder))
        saved = tempfile.tempdir
        tempfile.tempdir = str(private)
        try:
            yield
        finally:
            tempfile.tempdir = saved
            shutil.rmtree(private, ignore_errors=True)


def _stored_package(wb: Workbook, folder: Path) -> bytes:
    """The workbook as openpyxl writes it, uncompressed, in memory."""
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True)
    failure: tuple[int, str] | None = None
    with _private_tempdir(folder):
        try:
            ExcelWriter(wb, archive).save()  # closes the archive
        except OSError as exc:  # disk full, file-size limit…: reported once, without openpyxl's noise
            failure = (exc.errno or 0, exc.strerror or str(exc))
    if failure is not None:
        _collect_quietly()
        raise OSError(*failure)
    return buf.getvalue()


def _collect_quietly() -> None:
    """After a failed save openpyxl's sheet writers are suspended generators over closed files;
    collect them now, silently, instead of letting each print "Exception ignored" at exit."""
    import gc

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def _shared_strings_xml(strings: dict[str, int]) -> bytes:
    ordered = sorted(strings, key=strings.__getitem__)
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(ordered)}">'
    return (head + "".join(_si(t) for t in ordered) + "</sst>").encode("utf-8")


def _read_shared_strings(xml: bytes) -> list[str]:
    from openpyxl.reader.strings import read_string_table

    return list(read_string_table(io.BytesIO(xml)))


_SST_MEMBER = "xl/sharedStrings.xml"
_SST_CT = '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
_SST_REL = '<Relationship Id="rIdBudgetlibSST" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'


def _write_package(wb: Workbook, dest: Path, *, cache: dict[str, dict[str, Any]]) -> None:
    """Stream the workbook into ``dest``: one compression per part, tails appended, caches
    restored, fixed timestamps, and the self-checking zip comment."""
    tails = wb.__dict__.pop("_budgetlib_tails", [])
    raw = _stored_package(wb, dest.parent)
    zin = zipfile.ZipFile(io.BytesIO(raw))
    names = zin.namelist()
    members = _sheet_members(zin)
    by_member = {members[t.ws.title]: t for t in tails}
    cached = {members[name]: values for name, values in cache.items() if name in members}
    strings = _SharedStrings()
    if _SST_MEMBER in names:  # openpyxl's table has no duplicates: text → its position
        for text in _read_shared_strings(zin.read(_SST_MEMBER)):
            strings.add(text)
    n_existing = len(strings)
    add_sst = bool(tails) and _SST_MEMBER not in names  # write-only packages have inline strings only
    order = [n for n in names if n != _SST_MEMBER]
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:

        def put(name: str, data: bytes, level: int = 6) -> None:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0
            info.create_system = 0
            zout.writestr(info, data, compresslevel=level)

        for name in order:
            data = zin.read(name)
            if name in by_member:
                tail = by_member[name]
                xml = data.decode("utf-8").replace("<sheetData/>", "<sheetData></sheetData>")
                cut = xml.rindex("</sheetData>")
                last_col = max(map(len, tail.spec.rows), default=1)
                head = re.sub(
                    r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{column_letter(max(last_col, 1))}{len(tail.spec.rows)}"/>', xml[:cut], count=1
                )
                info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0
                info.create_system = 0
                info._compresslevel = 1  # type: ignore[attr-defined]  # large generated XML: speed over a few % of size
                with zout.open(info, "w", force_zip64=True) as dst:
                    dst.write(head.encode("utf-8"))
                    for chunk in tail.rows_xml(strings):
                        dst.write(chunk.encode("utf-8"))
                    dst.write(xml[cut:].encode("utf-8"))
                continue
            if name in cached:
                data = _restore_cached(cached[name], data.decode("utf-8")).encode("utf-8")
            elif name == "docProps/core.xml":
                data = _fixed_core(data)
            elif name == "[Content_Types].xml" and add_sst:
                data = data.replace(b"</Types>", _SST_CT.encode() + b"</Types>")
            elif name == "xl/_rels/workbook.xml.rels" and add_sst:
                data = data.replace(b"</Relationships>", _SST_REL.encode() + b"</Relationships>")
            put(name, data)
        if add_sst or _SST_MEMBER in names:
            if _SST_MEMBER in names and len(strings) == n_existing:
                put(_SST_MEMBER, zin.read(_SST_MEMBER))
            else:
                put(_SST_MEMBER, _sst_with_tail(zin.read(_SST_MEMBER) if _SST_MEMBER in names else b"", strings.position, n_existing))
        zout.comment = _COMMENT_PREFIX + b"0" * 64
    with open(dest, "r+b") as fh:
        data = fh.read()
        fh.seek(len(data) - 64)
        fh.write(hashlib.sha256(data[:-64]).hexdigest().encode())


def _si(text: str) -> str:
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{space}>{_xml_text(text)}</t></si>"


def _sst_with_tail(xml: bytes, strings: dict[str, int], n_existing: int) -> bytes:
    """openpyxl's shared strings (kept as they are) followed by the ones the generated rows added."""
    new = [text for text, i in sorted(strings.items(), key=lambda kv: kv[1]) if i >= n_existing]
    if not xml:
        return _shared_strings_xml({text: i for i, text in enumerate(new)})
    doc = xml.decode("utf-8")
    doc = re.sub(r'uniqueCount="\d+"', f'uniqueCount="{n_existing + len(new)}"', doc, count=1)
    doc = re.sub(r'\scount="\d+"', "", doc, count=1)
    end = doc.rindex("</sst>")
    return (doc[:end] + "".join(_si(t) for t in new) + "</sst>").encode("utf-8")


def _save(wb: Workbook, path: Path, *, backup: Any = False, cache: dict[str, dict[str, Any]] | None = None) -> None:
    with atomic_path(path, backup=backup) as tmp:
        _write_package(wb, tmp, cache=cache or {})


def write_sheets(specs: Sequence[SheetSpec], path: str | Path) -> Path:
    """A new workbook with exactly these sheets, written atomically.

    openpyxl's normal mode is used (its write-only mode streams every sheet through temporary
    files and leaves them, and warnings, behind when a run fails); very large sheets keep only
    their first rows in memory and the rest is generated in the final pass."""
    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for spec in specs:
        render_sheet(wb, spec, defer=True)
    _save(wb, path)
    return path


def write_plan_workbook(plan: Plan, path: str | Path, *, lang: str = "vi", extra: Iterable[SheetSpec] = ()) -> Path:
    """The planning template filled with ``plan`` (every field round-trips through :func:`read_workbook`)."""
    return write_sheets([*plan_sheets(plan, lang=lang), *extra], path)


def _unique_tables(wb: Any, specs: Sequence[SheetSpec]) -> list[SheetSpec]:
    """Table names are unique per workbook: rename ours if a kept sheet already uses one."""
    import dataclasses

    taken = {t.casefold() for ws in wb.worksheets for t in ws.tables}
    out = []
    for spec in specs:
        tables = []
        for t in spec.tables:
            name, n = t.name, 1
            while name.casefold() in taken:
                n += 1
                name = f"{t.name}_{n}"
            taken.add(name.casefold())
            tables.append(t if name == t.name else dataclasses.replace(t, name=name))
        out.append(spec if tables == spec.tables else dataclasses.replace(spec, tables=tables))
    return out


def write_result_workbook(
    results: Sequence[SheetSpec],
    out: str | Path,
    *,
    source: str | Path | None = None,
    plan: Plan | None = None,
    lang: str = "vi",
    in_place: bool = False,
) -> Path:
    """Write result sheets; the user's sheets are never changed.

    * ``source`` is a workbook: its sheets are kept as they are (formulas, tables, dropdowns); the
      sheets budgetlib marked as results in an earlier run are removed and the new ones appended;
      a user's own sheet that has a result sheet's name is kept and ours is named ``Tổng hợp (2)``
      (:func:`~budgetlib.io.grid.result_sheet_placement`). Written to ``out`` (a new file), or over
      ``source`` itself with ``in_place=True``: then ``NAME.bak.xlsx`` receives the bytes the
      user last saved (not those of an earlier budgetlib run, which would lose the original);
    * otherwise (a JSON plan): ``out`` gets the plan's input sheets followed by the results.

    An ``.xlsm`` source keeps its macros when the output is ``.xlsm`` (``--in-place`` or
    ``-o x.xlsm``); written as ``.xlsx`` it is a valid macro-free workbook (Excel refuses an ``.xlsx``
    holding macros). Raises :class:`~budgetlib.io.atomic.OutputError` (exit code 3 in the CLI) for
    every write problem; nothing is changed then.
    """
    out = Path(out)
    if source is None:
        if plan is None:
            return write_sheets(results, out)
        return write_plan_workbook(plan, out, lang=lang, extra=results)
    source = Path(source)
    if in_place:
        out = source
    keep_vba = source.suffix.lower() == ".xlsm" and out.suffix.lower() == ".xlsm"

    def user_bytes(path: Path) -> bool:
        """Back up ``path`` unless it is our own untouched output and the .bak already holds the user's."""
        return not (is_unchanged_output(path) and backup_path(path).exists())

    with atomic_path(out, backup=user_bytes if in_place else False) as tmp:
        try:
            wb = load_workbook(source, keep_vba=keep_vba)
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise OutputError("output.not_a_workbook", source, reason=type(exc).__name__) from None
        except OSError as exc:
            raise OutputError("output.failed", source, reason=exc.strerror or str(exc)) from None
        for name in list(wb.sheetnames):
            if is_marked(wb[name]):
                del wb[name]
        placed = result_sheet_placement([s.name for s in results], {name: False for name in wb.sheetnames})
        cache = _formula_cache(wb, source)
        import dataclasses

        specs = _unique_tables(wb, [dataclasses.replace(s, name=placed[s.name]) if placed[s.name] != s.name else s for s in results])
        for spec in specs:
            render_sheet(wb, spec, defer=True)
        _write_package(wb, tmp, cache=cache)
    return out

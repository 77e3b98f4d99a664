"""The live Excel workbook through xlwings, as a :class:`~budgetlib.addin.dispatch.BookAdapter`.

Reading: each sheet's used range in one call, as a :class:`~budgetlib.io.grid.Grid` whose origin is
the used range's top-left cell (so problems are located at the right cell). Excel holds every
number as a double; whole numbers come back as ``int`` so the reader sees what openpyxl sees.

Writing: a :class:`~budgetlib.io.grid.SheetSpec` is drawn with xlwings calls (values and formulas
in one block, text Excel would convert such as ``"303"`` written as text, number formats, widths, bold and
title rows, wrapping, notes, frozen panes, tables, dropdowns, a bar chart). All sheets are written
as one transaction:

1. the result sheets being replaced (and their tables) are renamed out of the way;
2. the new sheets are all created, then drawn (so a formula on one may point at another);
3. on any error the new sheets are deleted and the old ones renamed back; otherwise the old
   ones are deleted.

Cosmetic parts that some Excel versions lack (dropdowns, notes, charts, tab colours, freezing on
macOS) are best effort: a failure there is logged, not fatal. xlwings is imported only here.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

from ..io.grid import CellValue, Grid, SheetSpec, TableRef, column_letter

__all__ = ["XlwingsBook", "draw_sheet", "excel_cell_value", "normalise_read"]

_log = logging.getLogger("budgetlib.addin")
_STAGE_PREFIX = "~bl"
# Strings Excel would turn into numbers, dates, booleans or errors when written as values.
_COERCIBLE = re.compile(r"\s*[-+]?[\d.,\s]*\d[\d.,\s]*%?\s*|\s*\d{1,4}[-/]\d{1,2}([-/]\d{1,4})?\s*|(?i:true|false)|#.*")


def excel_cell_value(value: CellValue) -> Any:
    """A SheetSpec cell as Excel must receive it: text that Excel would convert is quoted."""
    if isinstance(value, str) and not value.startswith("=") and value and _COERCIBLE.fullmatch(value):
        return "'" + value
    return value


def normalise_read(value: Any) -> CellValue:
    """A value from xlwings as the grid reader expects it: ``''`` → None, whole floats → int."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (str, int, float, bool, datetime, date)):
        return value
    return str(value)


def _best_effort(what: str, sheet: str, fn: Any, *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - cosmetic: log and go on
        _log.warning("could not draw %s on %s: %s: %s", what, sheet, type(exc).__name__, exc)


def draw_sheet(sheet: Any, spec: SheetSpec) -> None:
    """Draw ``spec`` on an empty xlwings ``sheet``."""
    n_cols = max((len(r) for r in spec.rows), default=0)
    n_rows = len(spec.rows)
    if n_rows and n_cols:
        # Values first, then formats, as the openpyxl renderer does: a number stays a number even in
        # a "@" column, and text Excel would convert ("303", "1/2") is written with an apostrophe.
        block = [[excel_cell_value(v) for v in row] + [None] * (n_cols - len(row)) for row in spec.rows]
        sheet.range((1, 1), (n_rows, n_cols)).value = block
        last = max(n_rows, spec.format_from_row)
        for col, fmt in sorted(spec.column_formats.items()):
            sheet.range((spec.format_from_row, col + 1), (last, col + 1)).number_format = fmt
        for ref, fmt in sorted(spec.cell_formats.items()):
            sheet.range(ref).number_format = fmt
        for r in sorted(spec.bold_rows | spec.title_rows):
            if 1 <= r <= n_rows:
                font = sheet.range((r, 1), (r, n_cols)).font
                font.bold = True
                if r in spec.title_rows:
                    font.size = 14
        for col in sorted(spec.wrap_cols):
            sheet.range((1, col + 1), (n_rows, col + 1)).wrap_text = True
    for col, width in sorted(spec.column_widths.items()):
        sheet.range((1, col + 1)).column_width = width
    for ref, text in sorted(spec.comments.items()):
        if text:
            _best_effort("a note", spec.name, sheet.range(ref).add_note, text)
    for v in spec.validations:
        _best_effort("a dropdown", spec.name, _add_validation, sheet, v)
    if spec.chart is not None:
        _best_effort("the chart", spec.name, _add_chart, sheet, spec.chart)
    if spec.tab_color:
        _best_effort("the tab colour", spec.name, _set_tab_color, sheet, spec.tab_color)


_SOURCE = re.compile(r"=?(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)")


def _add_validation(sheet: Any, v: Any) -> None:
    """A dropdown through xlwings' DataValidation (0.37.5+; it handles the locale's list separator)."""
    target = sheet.range(v.ref).data_validation
    if v.source:
        m = _SOURCE.fullmatch(v.source.strip())
        if m is None:
            raise ValueError(f"unsupported list source {v.source!r}")
        name = (m.group(1) or "").replace("''", "'") or m.group(2)
        target.set_list(sheet.book.sheets[name].range(m.group(3).replace("$", "")))
    else:
        target.set_list([x.replace(",", " ").replace(";", " ") for x in v.values])
    if v.prompt or v.error:
        api = target.api  # Windows COM / macOS appscript differ: best effort
        if v.prompt:
            api.InputMessage = v.prompt[:255]
        if v.error:
            api.ErrorMessage = v.error[:255]


def _add_chart(sheet: Any, c: Any) -> None:
    cols = (c.category_col, *c.value_cols)
    source = sheet.range(
        ",".join(f"{column_letter(col)}{c.header_row}:{column_letter(col)}{c.last_row}" for col in cols)
    )
    width, height = c.width_cm * 28.35, c.height_cm * 28.35  # points
    chart = sheet.charts.add(width=width, height=height, anchor=sheet.range(c.anchor), source=source,
                             chart_type="bar_clustered" if c.horizontal else "column_clustered")
    if c.title:
        chart.title = c.title


def _set_tab_color(sheet: Any, rgb: str) -> None:
    hexa = rgb.lstrip("#")[-6:]
    r, g, b = int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16)
    sheet.api.Tab.Color = r + (g << 8) + (b << 16)  # Windows COM: BGR integer


class XlwingsBook:
    """An ``xlwings.Book`` as the dispatcher's :class:`BookAdapter`."""

    def __init__(self, book: Any):
        self.book = book

    @classmethod
    def caller(cls) -> "XlwingsBook":
        """The workbook that was active when a ribbon button ran ``RunPython``."""
        import xlwings as xw

        return cls(xw.Book.caller())

    # --- identity -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.book.name)

    @property
    def path(self) -> Path | None:
        full = str(self.book.fullname)
        return Path(full) if os.path.isabs(full) and os.path.exists(full) else None

    @property
    def saved_file(self) -> Path | None:
        """The workbook's file when it has no unsaved changes (then its checksum describes the input)."""
        path = self.path
        if path is None:
            return None
        try:
            api = self.book.api
            saved = api.Saved if sys.platform == "win32" else api.saved.get()
        except Exception:  # noqa: BLE001 - unknown: claim nothing
            return None
        return path if saved else None

    # --- reading --------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets if not s.name.startswith(_STAGE_PREFIX)]

    def grid(self, name: str) -> Grid:
        used = self.book.sheets[name].used_range
        rows = used.options(ndim=2).value or [[None]]
        return Grid(name, [[normalise_read(v) for v in row] for row in rows], used.row, used.column)

    def tables(self) -> list[TableRef]:
        out: list[TableRef] = []
        try:
            for sheet in self.book.sheets:
                for table in sheet.tables:
                    out.append(TableRef(table.name, sheet.name, table.range.address.replace("$", "")))
        except Exception as exc:  # noqa: BLE001 - the reader can find tables by their header rows
            _log.warning("could not list tables: %s", exc)
            return []
        return out

    # --- writing --------------------------------------------------------------------------
    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> None:
        app = self.book.app
        sheets = self.book.sheets
        names = [s.name for s in sheets]
        replaced = [n for n in names if n in {s.name for s in specs} or n in set(remove)]
        active = self.book.sheets.active
        screen = app.screen_updating
        app.screen_updating = False
        moved: list[tuple[Any, str, list[tuple[Any, str]]]] = []  # (sheet, old name, [(table, old name)])
        created: list[Any] = []
        try:
            for i, name in enumerate(replaced):
                old = sheets[name]
                tables = [(t, t.name) for t in old.tables]
                for j, (t, tname) in enumerate(tables):
                    t.name = f"budgetlib_old_{i}_{j}"  # table names: a letter first, no "~"
                old.name = f"{_STAGE_PREFIX}old{i}"
                moved.append((old, name, tables))
            for spec in specs:
                created.append(sheets.add(spec.name, after=sheets[len(sheets) - 1]))
            for n, (spec, sheet) in enumerate(zip(specs, created), start=1):
                app.status_bar = f"budgetlib: {spec.name} ({n}/{len(specs)})"
                draw_sheet(sheet, spec)
                for t in spec.tables:
                    sheet.tables.add(source=sheet.range(t.ref), name=t.name, table_style_name=t.style)
        except BaseException:
            for sheet in reversed(created):
                _best_effort("rollback (delete)", str(sheet.name), sheet.delete)
            for old, name, tables in moved:
                _best_effort("rollback (rename)", name, setattr, old, "name", name)
                for t, tname in tables:
                    _best_effort("rollback (table)", name, setattr, t, "name", tname)
            raise
        finally:
            app.screen_updating = screen
        for old, _name, _tables in moved:
            old.delete()
        for spec, sheet in zip(specs, created):
            if spec.freeze:
                sheet.activate()
                _best_effort("frozen panes", spec.name, sheet.freeze_panes.freeze_at, spec.freeze)
            if spec.hidden:
                sheet.visible = False
        if created:
            visible = [s for s, spec in zip(created, specs) if not spec.hidden]
            (visible[0] if visible else active).activate()

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> None:
        book = self.book.app.books.add()
        blank = list(book.sheets)
        # All sheets exist before any is drawn: dropdowns and formulas point across sheets.
        created = [book.sheets.add(spec.name, after=book.sheets[len(book.sheets) - 1]) for spec in specs]
        for spec, sheet in zip(specs, created):
            draw_sheet(sheet, spec)
            for t in spec.tables:
                sheet.tables.add(source=sheet.range(t.ref), name=t.name, table_style_name=t.style)
            if spec.freeze:
                sheet.activate()
                _best_effort("frozen panes", spec.name, sheet.freeze_panes.freeze_at, spec.freeze)
            if spec.hidden:
                sheet.visible = False
        for sheet in blank:
            sheet.delete()
        if created:
            created[0].activate()

    # --- UI ---------------------------------------------------------------------------------
    def status(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    def alert(self, text: str, *, title: str = "budgetlib – Ngân sách", critical: bool = False) -> None:
        self.book.app.alert(text, title=title, mode="critical" if critical else "info")

    def open_path(self, path: Path) -> None:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        if sys.platform == "win32":
            os.startfile(str(path))  # type: ignore[attr-defined]  # noqa: S606
        elif sys.platform == "darwin":
            subprocess.run(["open", str(path)], check=False)  # noqa: S603,S607
        else:
            subprocess.run(["xdg-open", str(path)], check=False)  # noqa: S603,S607

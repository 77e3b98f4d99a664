"""The live Excel workbook through xlwings, as the dispatcher's :class:`~budgetlib.addin.dispatch.BookAdapter`.

Only xlwings calls that both desktop backends implement (``xlwings/_xlwindows.py`` and
``xlwings/_xlmac.py``; a test derives both method sets with ``ast``) are used; what xlwings has no
API for (frozen panes, tab colours, dropdown messages, the workbook's saved/read-only state) goes
through :mod:`budgetlib.addin.native`. Every cosmetic step is best effort *including the attribute
access*: :func:`best_effort` takes a function, so a missing feature is a logged warning, never a
failed click.

Reading: each sheet's used range in one call, as a :class:`~budgetlib.io.grid.Grid` whose origin is
the used range's top-left cell (problems are located at the right cell). Excel holds every number
as a double; whole numbers come back as ``int`` so the reader sees what openpyxl sees.

Writing, cell values: a :class:`~budgetlib.io.grid.Formula` is written as a formula; every other
string is written with a leading apostrophe. xlwings' Windows backend passes values straight to
COM's ``Range.Value`` (``_xlwindows.Range.raw_value``), and Excel parses whatever it is given as if
typed: ``"=HYPERLINK(…)"`` becomes a live formula, ``"303"`` a number, ``"1/2"`` a date. The
apostrophe is Excel's own "this is text" prefix (``Range.PrefixCharacter``); it is not part of the
value, survives any number format and is honoured the same by AppleScript on macOS.

Writing, sheets — one transaction, whose every step is recorded so a failure is reported exactly
(:class:`~budgetlib.addin.errors.WriteReport`):

1. every new sheet is created under a temporary name (``~bl1``, …) and drawn, its tables under
   temporary names;
2. the marked sheets being replaced or removed, and their tables, are renamed out of the way
   (``~blold1``, …; table names are unique across a workbook);
3. the new sheets and their tables take their final names, and each new sheet gets its marker
   (:data:`~budgetlib.io.grid.RESULT_MARKER_NAME`, referring to its own ``$A$1``);
4. the old sheets are deleted.

A failure in 1–3 is rolled back (new sheets deleted, old names restored) and the rollback checked
by listing the sheets and tables again; a failure in 4 cannot be undone (a deleted sheet is gone)
and is reported as what it is: every new sheet is in place, some old ones are left under their
temporary names. Cosmetic steps (frozen panes, hidden sheets, activation) follow.
"""

from __future__ import annotations

import logging
import math
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ..io.grid import RESULT_MARKER_NAME, CellValue, Formula, Grid, SheetSpec, TableRef, column_letter, quote_sheet
from . import native
from .errors import BookError, WriteFailed, WriteReport

__all__ = ["XlwingsBook", "draw_sheet", "excel_cell_value", "normalise_read", "best_effort", "STAGE_PREFIX"]

_log = logging.getLogger("budgetlib.addin")
STAGE_PREFIX = "~bl"
"""Sheets being written or replaced carry this prefix for the length of one click only."""
_TABLE_STAGE = "budgetlib_stage_"

_TITLE_SIZE = 13
_TITLE_COLOR = (0x1F, 0x4E, 0x78)
_HEADER_FILL = (0xDD, 0xEB, 0xF7)


def excel_cell_value(value: CellValue) -> Any:
    """A :class:`SheetSpec` cell as Excel must receive it through ``Range.value``.

    >>> excel_cell_value("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0", excel_cell_value("303")
    (True, "'303")
    >>> excel_cell_value(Formula("=SUM(A1:A3)")), excel_cell_value(5), excel_cell_value("")
    ('=SUM(A1:A3)', 5, None)
    """
    if isinstance(value, Formula):
        return str(value)
    if isinstance(value, str):
        return "'" + value if value else None
    if isinstance(value, float) and not math.isfinite(value):
        return None
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


def best_effort(warnings: list[str] | None, what: str, sheet: str, fn: Callable[[], Any]) -> bool:
    """Run ``fn`` (which must do the attribute access itself); a failure is logged and noted."""
    try:
        fn()
        return True
    except Exception as exc:
        note = f"{what} on {sheet}: {type(exc).__name__}: {exc}"
        _log.warning("could not draw %s", note)
        if warnings is not None:
            warnings.append(note)
        return False


def _format_runs(spec: SheetSpec, col: int) -> list[tuple[int, int]]:
    """1-based row runs of column ``col`` (0-based) that take its number format: numbers, empty
    cells and formulas, not text (a number format on a text cell does nothing but "@")."""
    runs: list[tuple[int, int]] = []
    start = None
    for r in range(spec.format_from_row, len(spec.rows) + 1):
        row = spec.rows[r - 1]
        v = row[col] if col < len(row) else None
        takes = not (isinstance(v, str) and not isinstance(v, Formula))
        if takes and start is None:
            start = r
        elif not takes and start is not None:
            runs.append((start, r - 1))
            start = None
    if start is not None:
        runs.append((start, len(spec.rows)))
    return runs


def draw_sheet(sheet: Any, spec: SheetSpec, warnings: list[str] | None = None) -> None:
    """Draw ``spec`` on an empty ``xlwings.Sheet`` as the openpyxl renderer draws it.

    Values and formulas go in one call; then number formats, fonts, fills and widths (the core of
    the sheet: an error here fails the write); then notes, wrapping, dropdowns, the chart and the
    tab colour (best effort)."""
    n_cols = max((len(r) for r in spec.rows), default=0)
    n_rows = len(spec.rows)
    header_rows = {int("".join(ch for ch in t.ref.split(":")[0] if ch.isdigit())) for t in spec.tables}
    if n_rows and n_cols:
        block = [[excel_cell_value(v) for v in row] + [None] * (n_cols - len(row)) for row in spec.rows]
        sheet.range((1, 1), (n_rows, n_cols)).value = block
        for col, fmt in sorted(spec.column_formats.items()):
            for r1, r2 in _format_runs(spec, col):
                sheet.range((r1, col + 1), (r2, col + 1)).number_format = fmt
        for ref, fmt in sorted(spec.cell_formats.items()):
            if not (isinstance(spec.cell(ref), str) and not isinstance(spec.cell(ref), Formula)):
                sheet.range(ref).number_format = fmt
        for r in sorted((spec.bold_rows | header_rows) - spec.title_rows):
            cells = len(spec.rows[r - 1]) if 1 <= r <= n_rows else 0
            if cells:  # the cells the row has, as the openpyxl renderer styles them
                sheet.range((r, 1), (r, cells)).font.bold = True
        for r in sorted(header_rows - spec.title_rows):
            if 1 <= r <= n_rows:
                cells = len(spec.rows[r - 1])
                if cells:
                    sheet.range((r, 1), (r, cells)).color = _HEADER_FILL
        for r in sorted(spec.title_rows):
            if 1 <= r <= n_rows:
                font = sheet.range((r, 1)).font
                font.bold = True
                font.size = _TITLE_SIZE
                font.color = _TITLE_COLOR
    for col, width in sorted(spec.column_widths.items()):
        sheet.range((1, col + 1)).column_width = width
    # Cells with their own look (the annex's headings, print headers) and rows of a set height,
    # as the openpyxl renderer draws them (grid.SheetSpec.styles / row_heights).
    for ref, style in sorted(spec.styles.items()):
        if style.bold and spec.cell(ref) is not None:
            sheet.range(ref).font.bold = True
    for ref, text in sorted(spec.comments.items()):
        if text:
            best_effort(warnings, "a note", spec.name, partial(_add_note, sheet, ref, text))
    if n_rows:
        for col in sorted(spec.wrap_cols):
            first = 1 + max((r for r in spec.title_rows if r <= n_rows), default=0)
            if first <= n_rows:

                best_effort(warnings, "wrapping", spec.name, partial(_wrap, sheet.range((first, col + 1), (n_rows, col + 1))))
        if spec.wrap_cols:  # wrapped rows keep one line unless the spec gives them more (as openpyxl draws them)
            first = 1 + max((r for r in spec.title_rows if r <= n_rows), default=0)
            if first <= n_rows:
                sheet.range((first, 1), (n_rows, 1)).row_height = 15
    for r, height in sorted(spec.row_heights.items()):
        if 1 <= r <= n_rows:
            sheet.range((r, 1)).row_height = height
    for v in spec.validations:
        best_effort(warnings, "a dropdown", spec.name, partial(_add_validation, sheet, v))
    if spec.chart is not None:
        best_effort(warnings, "the chart", spec.name, partial(_add_chart, sheet, spec.chart))
    if spec.tab_color:
        best_effort(warnings, "the tab colour", spec.name, partial(native.set_tab_color, sheet, spec.tab_color))


def _add_note(sheet: Any, ref: str, text: str) -> None:
    sheet.range(ref).add_note(text)


def _wrap(rng: Any) -> None:
    rng.wrap_text = True
    rng.vertical_alignment = "top"


def _add_validation(sheet: Any, v: Any) -> None:
    """A dropdown through xlwings' DataValidation (0.37.5+; it handles the locale's list separator)."""
    from .placement import _REF

    target = sheet.range(v.ref)
    if v.source:
        source = v.source.strip().lstrip("=")
        m = _REF.match(source)
        if m is None:
            raise ValueError(f"unsupported list source {v.source!r}")
        name = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
        target.data_validation.set_list(sheet.book.sheets[name].range(source[m.end():].replace("$", "")))
    else:
        target.data_validation.set_list([x.replace(",", " ").replace(";", " ") for x in v.values])
    if v.prompt or v.error:
        native.set_validation_messages(target, prompt=v.prompt, error=v.error)


def _add_chart(sheet: Any, c: Any) -> None:
    cols = (c.category_col, *c.value_cols)
    source = sheet.range(",".join(f"{column_letter(col)}{c.header_row}:{column_letter(col)}{c.last_row}" for col in cols))
    chart = sheet.charts.add(
        width=c.width_cm * 28.35, height=c.height_cm * 28.35, anchor=sheet.range(c.anchor), source=source,
        chart_type="line_markers" if c.kind == "line" else "bar_clustered" if c.horizontal else "column_clustered",
    )
    if c.title:
        chart.title = c.title


def _is_marked(sheet: Any) -> bool:
    """The sheet carries budgetlib's sheet-scoped marker name."""
    for name in sheet.names:
        if str(name.name).rpartition("!")[2] == RESULT_MARKER_NAME:
            return True
    return False


def _mark(sheet: Any, name: str) -> None:
    # Qualified: an unqualified RefersTo is read relative to the *active* sheet.
    sheet.names.add(RESULT_MARKER_NAME, f"={quote_sheet(name)}!$A$1")


class XlwingsBook:
    """An ``xlwings.Book`` as the dispatcher's :class:`BookAdapter`."""

    def __init__(self, book: Any):
        self.book = book

    @classmethod
    def caller(cls) -> XlwingsBook:
        """The workbook that was active when a ribbon button ran ``RunPython``."""
        import xlwings as xw

        return cls(xw.Book.caller())

    # --- identity -------------------------------------------------------------------------
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
        return path if native.book_state(self.book).saved else None

    # --- reading ----------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets if not s.name.startswith(STAGE_PREFIX)]

    def sheet_marks(self) -> dict[str, bool]:
        """Every sheet (temporary ones aside) → whether it carries budgetlib's result marker."""
        return {s.name: _is_marked(s) for s in self.book.sheets if not s.name.startswith(STAGE_PREFIX)}

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
        except Exception as exc:
            _log.warning("could not list tables: %s", exc)
            return []
        return out

    # --- writing ----------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise :class:`BookError` when Excel will not let result sheets into this workbook."""
        state = native.book_state(self.book)
        if state.structure_protected:
            raise BookError("addin.book.protected", file=self.name)
        if state.flat_format:
            raise BookError("addin.book.flat_format", file=self.name, format=state.flat_format)

    def notices(self) -> list[str]:
        """Catalogue codes of things the user should know after a write (read-only workbook …)."""
        return ["addin.book.read_only"] if native.book_state(self.book).read_only else []

    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> WriteReport:
        """Create or replace the (marked) sheets of ``specs`` and delete the marked ones in ``remove``.

        Names in ``specs`` are final: the dispatcher placed them (:mod:`budgetlib.addin.placement`).
        Replacing a sheet that is not marked is refused, whoever asks."""
        app = self.book.app
        sheets = self.book.sheets
        marks = self.sheet_marks()
        wanted = {s.name for s in specs}
        for name in wanted:
            if name in marks and not marks[name]:
                raise ValueError(f"internal error: {name!r} is not a budgetlib result sheet")
        replaced = [n for n in marks if n in wanted]
        stale = [n for n in dict.fromkeys(remove) if marks.get(n) and n not in wanted]
        report = WriteReport()
        screen = app.screen_updating
        app.screen_updating = False
        created: list[tuple[Any, str]] = []  # (sheet, temporary name)
        new_tables: list[tuple[Any, str, str]] = []  # (table, temporary name, final name)
        moved: list[tuple[Any, str]] = []  # (old sheet, its name)
        old_tables: list[tuple[Any, str]] = []  # (table on an old sheet, its name)
        named: list[tuple[Any, str]] = []  # (new sheet, temporary name) once it has its final name
        try:
            try:
                # 1. New sheets under temporary names, all created before any is drawn.
                for i in range(1, len(specs) + 1):
                    tmp = self._free_name(f"{STAGE_PREFIX}{i}")
                    sheet = sheets.add(tmp, after=sheets[len(sheets) - 1])
                    created.append((sheet, tmp))
                for n, (spec, (sheet, _tmp)) in enumerate(zip(specs, created), start=1):
                    self.status_text(f"budgetlib: {spec.name} ({n}/{len(specs)})")
                    draw_sheet(sheet, spec, report.warnings)
                    for j, t in enumerate(spec.tables, start=1):
                        stage = f"{_TABLE_STAGE}{n}_{j}"
                        table = sheet.tables.add(source=sheet.range(t.ref), name=stage, table_style_name=t.style)
                        new_tables.append((table, stage, t.name))
                # 2. Old sheets and their tables out of the way (table names are workbook-wide).
                for i, name in enumerate(replaced + stale, start=1):
                    old = sheets[name]
                    for j, table in enumerate(list(old.tables), start=1):
                        tname = table.name
                        table.name = f"{_TABLE_STAGE}old{i}_{j}"
                        old_tables.append((table, tname))
                    old.name = self._free_name(f"{STAGE_PREFIX}old{i}")
                    moved.append((old, name))
                # 3. New sheets and tables take their names.
                for spec, (sheet, tmp) in zip(specs, created):
                    sheet.name = spec.name
                    named.append((sheet, tmp))
                    # Marked under its final name: the marker never depends on Excel following a rename.
                    _mark(sheet, spec.name)
                for table, _stage, final in new_tables:
                    table.name = final
            except BaseException as exc:
                report.rolled_back, report.leftovers = self._rollback(created, named, new_tables, moved, old_tables)
                raise WriteFailed(exc, report) from exc
            report.written = [s.name for s in specs]
            # 4. Past this point nothing can be restored: report what is true.
            try:
                for old, name in moved:
                    old.delete()
                    report.removed.append(name)
            except BaseException as exc:
                report.removed = [n for n in report.removed if n not in report.written]
                report.leftovers = [s.name for s in sheets if s.name.startswith(STAGE_PREFIX)]
                raise WriteFailed(exc, report) from exc
            report.removed = [n for n in report.removed if n not in report.written]
        finally:
            best_effort(report.warnings, "screen updating", "", lambda: setattr(app, "screen_updating", screen))
        self._finish(specs, [s for s, _ in created], report.warnings)
        return report

    def _free_name(self, stem: str) -> str:
        taken = {s.name.casefold() for s in self.book.sheets}
        name, n = stem, 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}_{n}"
        return name

    def _rollback(
        self,
        created: list[tuple[Any, str]],
        named: list[tuple[Any, str]],
        new_tables: list[tuple[Any, str, str]],
        moved: list[tuple[Any, str]],
        old_tables: list[tuple[Any, str]],
    ) -> tuple[bool, list[str]]:
        """Undo steps 1–3; True when the workbook's sheets and tables are again what they were."""
        for sheet, tmp in created:
            best_effort(None, "rollback (delete)", tmp, sheet.delete)
        for old, name in reversed(moved):
            best_effort(None, "rollback (rename)", name, partial(setattr, old, "name", name))
        for table, name in reversed(old_tables):
            best_effort(None, "rollback (table)", name, partial(setattr, table, "name", name))
        try:
            now = [s.name for s in self.book.sheets]
            tables = {str(t.name) for s in self.book.sheets for t in s.tables}
        except Exception:
            return False, []
        leftovers = [n for n in now if n.startswith(STAGE_PREFIX)]
        restored = all(name in now for _old, name in moved) and all(name in tables for _t, name in old_tables)
        return (not leftovers and restored), leftovers

    def _finish(self, specs: Sequence[SheetSpec], sheets: Sequence[Any], warnings: list[str]) -> None:
        """Cosmetic steps once every sheet has its final name."""
        for spec, sheet in zip(specs, sheets):
            if spec.freeze:
                best_effort(warnings, "frozen panes", spec.name, partial(native.freeze_panes, sheet, spec.freeze))
        for spec, sheet in zip(specs, sheets):
            if spec.hidden:
                best_effort(warnings, "hiding", spec.name, partial(setattr, sheet, "visible", False))
        visible = [s for s, spec in zip(sheets, specs) if not spec.hidden]
        if visible:
            best_effort(warnings, "activation", specs[0].name, visible[0].activate)

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> WriteReport:
        """Open a new workbook holding exactly ``specs`` (the template); on failure it is closed unsaved."""
        book = self.book.app.books.add()
        report = WriteReport()
        try:
            blank = list(book.sheets)
            # All sheets exist before any is drawn: dropdowns and formulas point across sheets.
            created = [book.sheets.add(spec.name, after=book.sheets[len(book.sheets) - 1]) for spec in specs]
            for spec, sheet in zip(specs, created):
                draw_sheet(sheet, spec, report.warnings)
                for t in spec.tables:
                    sheet.tables.add(source=sheet.range(t.ref), name=t.name, table_style_name=t.style)
            for sheet in blank:
                sheet.delete()
        except BaseException as exc:
            closed = best_effort(None, "closing the unfinished book", "", book.close)
            report.rolled_back = closed
            raise WriteFailed(exc, report) from exc
        report.written = [s.name for s in specs]
        self._finish(specs, created, report.warnings)
        return report

    # --- UI ---------------------------------------------------------------------------------
    def status_text(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    def status(self, text: str | None) -> None:
        best_effort(None, "the status bar", "", lambda: self.status_text(text))

    def alert(self, text: str, *, title: str, critical: bool = False) -> None:
        self.book.app.alert(text, title=title, mode="critical" if critical else "info")

    def open_path(self, path: Path) -> None:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        if sys.platform == "win32":
            os.startfile(str(path))  # type: ignore[attr-defined]
        elif sys.platform == "darwin":
            subprocess.run(["open", str(path)], check=False)
        else:
            subprocess.run(["xdg-open", str(path)], check=False)

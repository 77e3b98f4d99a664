"""Reading ``.xlsx``/``.xlsm`` files into a :class:`~budgetlib.io.grid.GridBook`, safely.

* :class:`OpenpyxlBook` — cached values of formulas, Excel tables (ListObjects) by name;
* :class:`CalamineBook` — python-calamine, an independent second reader (cross-checks, tests);
* :func:`read_workbook` — a plan from a workbook, :class:`~budgetlib.PlanInvalid` with every
  located problem (a file saved without cached formula values is reported).

Every file is inspected first (:func:`.safety.inspect_workbook`: sizes, compression ratios,
DTDs, encryption) and then read streaming, one sheet at a time, keeping only the cells that hold
a value: a sheet's declared dimension is never trusted, a cell far beyond the area an input
sheet may use is reported at its address, and a damaged part is named. The input sheets of a
planning workbook are read when the book is opened, so opening either succeeds or raises
:class:`~budgetlib.PlanInvalid` with every problem found; other sheets are read on demand.
``.xlsm`` files are read like ``.xlsx`` (their macros are neither run nor lost: reading never
writes).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import openpyxl
from defusedxml import DefusedXmlException
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from ...core.problems import PlanInvalid, Problem, Source
from ...core.text import fold
from ...model.plan import Plan
from ..grid import CellValue, Grid, TableRef, cell_ref
from .fields import SHEET_KEYS, sheet_names
from .reader import read_plan_grids
from .safety import (
    EXCEL_MAX_COLS,
    EXCEL_MAX_ROWS,
    MAX_INPUT_CELLS,
    MAX_INPUT_COLS,
    MAX_INPUT_ROWS,
    Package,
    damaged_part,
    inspect_workbook,
)

__all__ = ["OpenpyxlBook", "CalamineBook", "open_book", "read_workbook", "LARGE_FILE_BYTES"]

LARGE_FILE_BYTES = 4_000_000
"""Kept for compatibility: every workbook is now read streaming (openpyxl's read-only mode),
whatever its size; Excel tables are still found by name."""

_FAILURES = (ParseError, DefusedXmlException, ValueError, KeyError, IndexError, TypeError, AttributeError, EOFError, zipfile.BadZipFile, OSError)


def _clean(v: Any) -> Any:
    if isinstance(v, str):
        return v if v.strip() else None
    return v


def _input_sheet_keys() -> frozenset[str]:
    return frozenset(fold(name) for key in SHEET_KEYS if key != "guide" for name in sheet_names(key))


class _Parser(WorkSheetParser):
    """openpyxl's streaming sheet parser, also noting formulas saved without a value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uncached: list[str] = []

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            self.uncached.append(cell_ref(cell["row"], cell["column"]))
        return cell


class _Limits:
    def __init__(self, rows: int, cols: int, cells: int) -> None:
        self.rows, self.cols, self.cells = rows, cols, cells


_INPUT = _Limits(MAX_INPUT_ROWS, MAX_INPUT_COLS, MAX_INPUT_CELLS)
_ANY = _Limits(EXCEL_MAX_ROWS, EXCEL_MAX_COLS, 50_000_000)


class OpenpyxlBook:
    """A :class:`~budgetlib.io.grid.GridBook` over an ``.xlsx``/``.xlsm`` file (cached values of
    formulas). Raises :class:`~budgetlib.PlanInvalid` with located problems for a file that is
    missing, unsafe or damaged. ``read_only`` is accepted for compatibility and ignored."""

    def __init__(self, path: str | Path, *, read_only: bool | None = None):
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.exists():
            raise PlanInvalid([Problem("file.not_found", Source(file=self.name), {"path": str(self.path)})])
        if self.path.is_dir():
            raise PlanInvalid([Problem("file.is_directory", Source(file=self.name), {"path": str(self.path)})])
        if not openpyxl.DEFUSEDXML:  # pragma: no cover - a deployment error, not bad data
            raise RuntimeError("openpyxl is not using defusedxml; unset OPENPYXL_DEFUSEDXML")
        self.read_only = True
        self.package: Package = inspect_workbook(self.path)
        self._reader = self._open()
        self._grids: dict[str, Grid] = {}
        self._uncached: dict[str, list[str]] = {}
        problems: list[Problem] = []
        inputs = _input_sheet_keys()
        for name in self.package.sheets:
            if fold(name) in inputs:
                try:
                    self._read(name, _INPUT)
                except PlanInvalid as exc:
                    problems += exc.problems
        if problems:
            self.close()
            raise PlanInvalid(problems)

    def _open(self) -> Any:
        """The package's shared strings, styles (which numbers are dates) and workbook part —
        not its sheets: those are parsed one at a time, when read (openpyxl's read-only mode
        would scan every sheet without a dimension to its end when opening)."""
        try:
            reader = ExcelReader(str(self.path), read_only=True, data_only=True, keep_links=False)
        except _FAILURES:
            raise damaged_part(self.path) from None
        try:
            reader.read_manifest()
            reader.read_strings()
            reader.read_workbook()
            apply_stylesheet(reader.archive, reader.wb)
        except _FAILURES:
            reader.archive.close()
            raise damaged_part(self.path, [p for p in self.package.sizes if not p.startswith("xl/worksheets/")]) from None
        return reader

    def sheet_names(self) -> list[str]:
        return list(self.package.sheets)

    def grid(self, name: str) -> Grid:
        if name not in self._grids:
            self._read(name, _ANY)
        return self._grids[name]

    def tables(self) -> list[TableRef]:
        return list(self.package.tables)

    def uncached_formulas(self, sheet: str) -> list[str]:
        """Cells of ``sheet`` holding a formula without a cached value (saved by a non-calculating writer)."""
        if sheet not in self._uncached:
            self.grid(sheet)
        return self._uncached.get(sheet, [])

    def close(self) -> None:
        self._reader.archive.close()

    # -- reading one sheet, bounded ------------------------------------------------------------
    def _read(self, name: str, limits: _Limits) -> None:
        part = self.package.sheets[name]
        wb = self._reader.wb
        try:
            with self._reader.archive.open(part) as src:
                parser = _Parser(
                    src, self._reader.shared_strings, data_only=True, epoch=wb.epoch,
                    date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats,
                )
                rows = self._rows(parser, name, limits)
        except PlanInvalid:
            raise
        except DefusedXmlException:
            raise PlanInvalid([Problem("workbook.file.xml_entities", Source(file=self.name, sheet=name), {"part": part})]) from None
        except (*_FAILURES, RecursionError):
            raise PlanInvalid([Problem("workbook.file.corrupt_part", Source(file=self.name, sheet=name), {"part": part})]) from None
        self._grids[name] = Grid(name, rows)
        self._uncached[name] = parser.uncached

    def _rows(self, parser: _Parser, name: str, limits: _Limits) -> list[list[CellValue]]:
        rows: list[list[CellValue]] = []
        spanned = 0
        for idx, cells in parser.parse():
            values = [(c["column"], _clean(c["value"])) for c in cells]
            values = [(col, v) for col, v in values if v is not None]
            if not values:
                continue
            width = max(col for col, _ in values)
            if idx > limits.rows or width > limits.cols:
                col = width if width > limits.cols else values[0][0]
                raise PlanInvalid([Problem("workbook.file.far_cell", Source(file=self.name, sheet=name, cell=cell_ref(idx, col), row=idx),
                                           {"rows": limits.rows, "cols": limits.cols})])
            spanned += width
            if spanned > limits.cells:
                raise PlanInvalid([Problem("workbook.file.too_many_cells", Source(file=self.name, sheet=name), {"limit": limits.cells})])
            while len(rows) < idx:
                rows.append([])
            row = rows[idx - 1]
            if len(row) < width:
                row.extend([None] * (width - len(row)))
            for col, v in values:
                row[col - 1] = v
        return rows


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")


class CalamineBook:
    """A :class:`~budgetlib.io.grid.GridBook` read with python-calamine (an independent reader);
    the file is inspected the same way first."""

    def __init__(self, path: str | Path):
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
        inspect_workbook(self.path)
        self.wb = CalamineWorkbook.from_path(str(self.path))

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheet_names)

    def grid(self, name: str) -> Grid:
        rows = self.wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        return Grid(name, [[_clean(v) for v in row] for row in rows])


def open_book(path: str | Path, **kwargs: Any) -> OpenpyxlBook:
    return OpenpyxlBook(path, **kwargs)


def read_workbook(path: str | Path) -> Plan:
    """Read a planning workbook; raise :class:`~budgetlib.PlanInvalid` with every located problem."""
    name = Path(path).name
    try:
        book = OpenpyxlBook(path)
        try:
            return read_plan_grids(book)
        finally:
            book.close()
    except PlanInvalid as exc:
        raise PlanInvalid([p if p.source.file else p.relocated(p.source.with_file(name)) for p in exc.problems]) from None

"""An ``.xlsx`` file as the dispatcher's :class:`~budgetlib.addin.dispatch.BookAdapter` (no Excel).

Used to run the buttons without Excel (batch jobs, support staff reproducing a report, tests of
the pipeline side). It reads and writes exactly as the CLI does: cells through the workbook layer's
:class:`budgetlib.io.workbook.OpenpyxlBook` (cached values of formulas), sheets drawn by
:func:`budgetlib.io.workbook.render_sheet` into the workbook loaded with its formulas, tables and
dropdowns intact, marked with :data:`~budgetlib.io.grid.RESULT_MARKER_NAME`, and saved atomically
(temporary file + rename), so the file on disk behaves like a live workbook saved after each click.
A file that is missing, not an ``.xlsx``/``.xlsm`` workbook, or locked is a
:class:`~budgetlib.addin.errors.BookError` naming the file, raised before any work. Message boxes,
status texts and opened files are recorded on the adapter instead of shown.
"""

from __future__ import annotations

import dataclasses
import html
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io.grid import RESULT_MARKER_NAME, Grid, SheetSpec, TableRef, quote_sheet
from .errors import BookError, WriteFailed, WriteReport

__all__ = ["OpenpyxlAdapter", "Alert", "marked_sheets"]

_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_SHEET = re.compile(r"<(?:\w+:)?sheet\b[^>]*?\bname=\"([^\"]*)\"")
_MARKER = re.compile(
    r"<(?:\w+:)?definedName\b(?=[^>]*\bname=\"" + RESULT_MARKER_NAME + r"\")[^>]*?\blocalSheetId=\"(\d+)\"", re.S
)


@dataclass(frozen=True)
class Alert:
    text: str
    title: str
    critical: bool


def marked_sheets(path: Path) -> set[str]:
    """Names of the sheets of an ``.xlsx`` file that carry budgetlib's sheet-scoped marker.

    Read from ``xl/workbook.xml`` with two patterns (no XML parser, so no entity expansion), in
    whatever mode the workbook layer opened the file."""
    with zipfile.ZipFile(path) as z:
        text = z.read("xl/workbook.xml").decode("utf-8", errors="replace")
    sheets = [html.unescape(m.group(1)) for m in _SHEET.finditer(text)]
    return {sheets[int(i)] for i in _MARKER.findall(text) if int(i) < len(sheets)}


@dataclass
class OpenpyxlAdapter:
    """The workbook at ``file``; writes go to ``out`` (default: ``file`` itself)."""

    file: Path
    out: Path | None = None
    alerts: list[Alert] = field(default_factory=list)
    statuses: list[str | None] = field(default_factory=list)
    opened: list[Path] = field(default_factory=list)
    new_books: list[Path] = field(default_factory=list)
    _reader: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.file = Path(self.file)
        self.out = Path(self.out) if self.out is not None else self.file

    def _book(self) -> Any:
        if self._reader is None:
            self.check_readable()
            from ..io.workbook import OpenpyxlBook

            self._reader = OpenpyxlBook(self.file)
        return self._reader

    # --- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.file.name

    @property
    def path(self) -> Path | None:
        return self.file

    @property
    def saved_file(self) -> Path | None:
        return self.file if self.file.is_file() else None  # what is read is the file on disk

    # --- checks -----------------------------------------------------------------------------
    def check_readable(self) -> None:
        """:class:`BookError` for a file that is missing, a folder, or not an Excel workbook."""
        if not self.file.exists():
            raise BookError("addin.file.missing", file=str(self.file))
        if not self.file.is_file():
            raise BookError("addin.file.not_a_file", file=str(self.file))
        if self.file.suffix.lower() not in _WORKBOOK_SUFFIXES:
            raise BookError("addin.file.not_xlsx", file=str(self.file), suffix=self.file.suffix or "—")
        try:
            with zipfile.ZipFile(self.file) as z:
                z.getinfo("xl/workbook.xml")
        except PermissionError:
            raise BookError("addin.file.locked", file=str(self.file)) from None
        except (zipfile.BadZipFile, KeyError, OSError):
            raise BookError("addin.file.not_xlsx", file=str(self.file), suffix=self.file.suffix) from None

    def check_writable(self) -> None:
        """Also :class:`BookError` when the output is open in Excel (``~$`` owner file) or read-only."""
        from ..io.atomic import OutputLocked, _check_writable

        self.check_readable()
        assert self.out is not None
        try:
            _check_writable(self.out)
        except OutputLocked:
            raise BookError("addin.file.locked", file=str(self.out)) from None

    def notices(self) -> list[str]:
        return []

    # --- reading (the CLI's reader) -------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return self._book().sheet_names()

    def sheet_marks(self) -> dict[str, bool]:
        self._book()
        marked = marked_sheets(self.file)
        return {name: name in marked for name in self.sheet_names()}

    def grid(self, name: str) -> Grid:
        return self._book().grid(name)

    def tables(self) -> list[TableRef]:
        return list(self._book().tables())

    # --- writing (the CLI's renderer) -------------------------------------------------------
    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> WriteReport:
        """Draw every spec first, under a temporary name; then swap them in and save, all or nothing."""
        from openpyxl import load_workbook
        from openpyxl.workbook.defined_name import DefinedName

        from ..io.atomic import OutputLocked
        from ..io.workbook import render_sheet
        from ..io.workbook.xlsx import _save

        marks = self.sheet_marks()
        for spec in specs:
            if spec.name in marks and not marks[spec.name]:
                raise ValueError(f"internal error: {spec.name!r} is not a budgetlib result sheet")
        report = WriteReport()
        try:
            wb = load_workbook(self.file, keep_vba=self.file.suffix.lower() == ".xlsm")
            # In memory only: the file on disk changes in the single rename at the end, or not at all.
            replaced = {s.name for s in specs} | {n for n in remove if marks.get(n)}
            gone = [n for n in wb.sheetnames if n in replaced and n not in {s.name for s in specs}]
            for name in list(wb.sheetnames):
                if name in replaced:
                    del wb[name]
            drawn = [render_sheet(wb, dataclasses.replace(spec, name=f"~bl{i}")) for i, spec in enumerate(specs)]
            for ws, spec in zip(drawn, specs):
                ws.title = spec.name
                ws.defined_names[RESULT_MARKER_NAME] = DefinedName(RESULT_MARKER_NAME, attr_text=f"{quote_sheet(spec.name)}!$A$1")
            assert self.out is not None
            _save(wb, self.out)
        except OutputLocked as exc:
            report.rolled_back = True
            raise WriteFailed(BookError("addin.file.locked", file=str(exc.path)), report) from exc
        except Exception as exc:
            report.rolled_back = True  # the rename at the end is the only change to the file
            raise WriteFailed(exc, report) from exc
        if self.out == self.file:
            self._close()
        report.written = [s.name for s in specs]
        report.removed = gone
        return report

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> WriteReport:
        from ..io.workbook import write_sheets

        target = self.file.with_name(name if name.lower().endswith(".xlsx") else f"{name}.xlsx")
        self.new_books.append(write_sheets(list(specs), target))
        return WriteReport(written=[s.name for s in specs])

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # --- UI (recorded) -------------------------------------------------------------------------
    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str, critical: bool = False) -> None:
        self.alerts.append(Alert(text, title, critical))

    def open_path(self, path: Path) -> None:
        self.opened.append(path)

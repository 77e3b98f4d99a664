"""An ``.xlsx`` file as the dispatcher's :class:`~budgetlib.addin.dispatch.BookAdapter` (no Excel).

Used to run the buttons without Excel (tests, batch jobs, support staff reproducing a report).
It reads and writes exactly as the CLI does: cells through the workbook layer's
:class:`budgetlib.io.workbook.OpenpyxlBook` (cached values of formulas), sheets drawn by
:func:`budgetlib.io.workbook.render_sheet` into the workbook loaded with its formulas, tables and
dropdowns intact, and every write saved atomically (temporary file + rename), so the file on
disk behaves like a live workbook that is saved after each click. Message boxes, status texts
and opened files are recorded on the adapter instead of shown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..io.grid import Grid, SheetSpec, TableRef

__all__ = ["OpenpyxlAdapter", "Alert"]


@dataclass(frozen=True)
class Alert:
    text: str
    title: str
    critical: bool


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
            from ..io.workbook import OpenpyxlBook

            self._reader = OpenpyxlBook(self.file)
        return self._reader

    # --- identity ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.file.name

    @property
    def path(self) -> Path | None:
        return self.file

    @property
    def saved_file(self) -> Path | None:
        return self.file  # what is read is the file on disk

    # --- reading (the CLI's reader) -------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return self._book().sheet_names()

    def grid(self, name: str) -> Grid:
        return self._book().grid(name)

    def tables(self) -> list[TableRef]:
        return list(self._book().tables())

    # --- writing (the CLI's renderer) -------------------------------------------------------
    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> None:
        """Draw every spec first, under a temporary name; then swap them in and save, all or nothing."""
        from openpyxl import load_workbook

        from ..io.atomic import atomic_path
        from ..io.workbook import render_sheet

        wb = load_workbook(self.file, keep_vba=self.file.suffix.lower() == ".xlsm")
        # In memory only: the file on disk changes in the single rename at the end, or not at all.
        replaced = {s.name for s in specs} | set(remove)
        for name in list(wb.sheetnames):
            if name in replaced:
                del wb[name]
        drawn = [render_sheet(wb, dataclasses.replace(spec, name=f"~bl{i}")) for i, spec in enumerate(specs)]
        for ws, spec in zip(drawn, specs):
            ws.title = spec.name
        assert self.out is not None
        with atomic_path(self.out) as tmp:  # nothing on disk changes unless every sheet was drawn
            wb.save(tmp)
        if self.out == self.file:
            self._close()

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> None:
        from ..io.workbook import write_sheets

        self.new_books.append(write_sheets(list(specs), self.file.with_name(name)))

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # --- UI (recorded) -------------------------------------------------------------------------
    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str = "budgetlib – Ngân sách", critical: bool = False) -> None:
        self.alerts.append(Alert(text, title, critical))

    def open_path(self, path: Path) -> None:
        self.opened.append(path)

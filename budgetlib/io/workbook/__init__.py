"""The planning workbook: template writer, tolerant reader, result sheets.

Pure layout modules (no spreadsheet library): :mod:`.fields` (the tables declared as data, with
their joins), :mod:`.plan_sheets` (plan → input sheets), :mod:`.reader` (cells → plan, every
problem located) with its parts :mod:`.tables` (finding tables), :mod:`.cells` (converting
cells), :mod:`.items` (assembling items) and :mod:`.locate` (JSON paths ↔ cells),
:mod:`.units_table` (a table of units from CSV or pasted cells), :mod:`.results` (allocation →
result sheets). :mod:`.safety` inspects a file before it is parsed, :mod:`.books` reads ``.xlsx``
files (openpyxl streaming, and python-calamine for cross-checks) and :mod:`.xlsx` draws them; the
last two are imported only when a file is touched.
"""

from __future__ import annotations

from typing import Any

from .plan_sheets import blank_plan, plan_sheets, template_sheets
from .reader import read_plan_grids, read_plan_grids_with_problems

__all__ = [
    "plan_sheets",
    "blank_plan",
    "template_sheets",
    "read_plan_grids",
    "read_plan_grids_with_problems",
    # openpyxl-backed (lazy):
    "read_workbook",
    "write_plan_workbook",
    "write_result_workbook",
    "write_sheets",
    "open_book",
    "OpenpyxlBook",
    "CalamineBook",
    "render_sheet",
]

_XLSX = {"write_plan_workbook", "write_result_workbook", "write_sheets", "render_sheet"}
_BOOKS = {"read_workbook", "open_book", "OpenpyxlBook", "CalamineBook"}


def __getattr__(name: str) -> Any:
    if name in _BOOKS:
        from . import books

        return getattr(books, name)
    if name in _XLSX:
        from . import xlsx

        return getattr(xlsx, name)
    raise AttributeError(name)

"""A table of administrative units from a CSV file or a pasted block of cells.

Officers keep their list of districts and communes (codes, names, population, …) in a
spreadsheet or get it as a CSV export. :func:`read_units` reads such a table — the same columns as
the Địa bàn sheet, in either language, in any order, with any attribute columns — and returns the
units or every problem at once, located by line (``units.csv:7: Dân số phải là số``).

It is the workbook reader's own Địa bàn table in another container: the text becomes a one-sheet
book and goes through the same table finding, cell conversion and checks (item by item with
:func:`~budgetlib.planning.validation.salvage_plan`: duplicate codes, unknown kinds, negative or
unreadable numbers).

* Files: UTF-8 with or without a BOM, or UTF-16 with a BOM (Excel's "CSV UTF-8" and "Unicode
  text"); anything else is a "not UTF-8" message (as for plan files). At most
  :data:`MAX_UNITS_BYTES`, :data:`~.safety.MAX_INPUT_ROWS` rows, :data:`~.safety.MAX_INPUT_COLS`
  columns.
* Separators: tab (a block copied from Excel), semicolon (CSV written with a Vietnamese list
  separator) or comma, whichever the header line uses.
* Numbers are read as in the workbook: ``96.111`` and ``96111`` are ninety-six thousand, ``1,5``
  is one and a half.

``budgetlib template kehoach.xlsx --units diaban.csv`` (or ``--units -`` for a block pasted on
standard input) writes the template with these units.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ...core.problems import PlanInvalid, Problem, Source
from ...model.plan import AdminUnit, Plan
from ...planning.validation import salvage_plan
from ..grid import DictBook
from ..jsonio import decode_text, read_bytes
from .fields import TABLE_BY_KEY, sheet_name
from .items import ItemReader
from .locate import LocMap, Unread, is_consequence, relocate
from .safety import MAX_INPUT_COLS, MAX_INPUT_ROWS
from .tables import Finder

__all__ = ["read_units", "units_from_text", "with_units", "MAX_UNITS_BYTES"]

MAX_UNITS_BYTES = 64 * 1024 * 1024
"""A units file larger than this is refused (10 600 communes with a dozen attributes is ~1 MB)."""

_SHEET = sheet_name("units", "vi")


def _rows(text: str, name: str) -> list[list[str]]:
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ";", ","), key=first.count)
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            if len(rows) >= MAX_INPUT_ROWS or len(row) > MAX_INPUT_COLS:
                raise PlanInvalid([Problem("workbook.units.too_large", Source(file=f"{name}:{len(rows) + 1}", row=len(rows) + 1),
                                           {"rows": MAX_INPUT_ROWS, "cols": MAX_INPUT_COLS})])
            rows.append(row)
    except csv.Error:
        raise PlanInvalid([Problem("workbook.units.csv_syntax", Source(file=f"{name}:{len(rows) + 1}", row=len(rows) + 1))]) from None
    return rows


def _at_line(p: Problem, name: str) -> Problem:
    """A problem located at a cell of the one-sheet book, located at its line instead."""
    row = p.source.row
    return p.relocated(Source(file=f"{name}:{row}" if row else name, row=row))


def units_from_text(text: str, *, source: str = "units.csv") -> list[AdminUnit]:
    """The units of a table given as text (CSV, or tab-separated cells pasted from a spreadsheet);
    raise :class:`PlanInvalid` with every problem, each at ``source:line``."""
    finder = Finder(DictBook({_SHEET: _rows(text.lstrip("\ufeff"), source)}))
    tdef = TABLE_BY_KEY["units"]
    found = finder.find(tdef)
    if found is None:
        raise PlanInvalid([Problem("workbook.units.no_header", Source(file=source), {"columns": [tdef.label(f.key) for f in tdef.fields if f.required]})])
    cells = ItemReader()
    items = cells.records(found)
    problems = list(cells.problems)
    missing = [f for f in tdef.fields if f.required and f.key not in found.cols]
    problems += [Problem("workbook.units.missing_column", Source(file=source), {"column": tdef.label(f.key)}) for f in missing]
    locs = LocMap()
    locs.add_list("units", items)
    unread = Unread(tables={"units"} if missing else set(), attributes=cells.failed_attributes)
    checked = salvage_plan({"units": [it.data for it in items]})  # a plan of units only: checks of units only
    units = [p for p in checked.problems if (p.source.path or "").startswith("units[")]
    problems += [relocate(p, locs) for p in units if not is_consequence(p, locs, unread)]
    problems = [_at_line(p, source) if p.source.sheet == _SHEET else p for p in problems]
    if problems:
        raise PlanInvalid(sorted(problems, key=lambda p: p.source.row or 0))
    return [AdminUnit.model_validate(it.data) for it in items]


def read_units(path: str | Path) -> list[AdminUnit]:
    """The units of a CSV file (see the module docstring); :class:`PlanInvalid` with every problem."""
    path = Path(path)
    text = decode_text(read_bytes(path, limit=MAX_UNITS_BYTES), Source(file=path.name))
    return units_from_text(text, source=path.name)


def with_units(plan: Plan, units: list[AdminUnit]) -> Plan:
    """``plan`` with its units replaced (checked again as a whole: a plan must stay valid)."""
    data = plan.model_dump()
    data["units"] = [u.model_dump() for u in units]
    return Plan.model_validate(data)

"""Reading ``.xlsx``/``.xlsm`` files into a :class:`~budgetlib.io.grid.GridBook`.

* :class:`OpenpyxlBook` — cached values of formulas, Excel tables (ListObjects) by name;
* :class:`CalamineBook` — python-calamine, an independent second reader (cross-checks, tests);
* :func:`read_workbook` — a plan from a workbook, :class:`~budgetlib.PlanInvalid` with every
  located problem (a file saved without cached formula values is reported).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from ...core.problems import PlanInvalid, Problem, Source
from ...model.plan import Plan
from ..grid import Grid, TableRef
from .reader import read_plan_grids

__all__ = ["OpenpyxlBook", "CalamineBook", "open_book", "read_workbook", "LARGE_FILE_BYTES"]

LARGE_FILE_BYTES = 4_000_000
"""Above this size workbooks are read in openpyxl's read-only (streaming) mode; tables are then
found by their header rows instead of their names."""


def _clean(v: Any) -> Any:
    if isinstance(v, str):
        return v if v.strip() else None
    return v


class OpenpyxlBook:
    """A :class:`~budgetlib.io.grid.GridBook` over an ``.xlsx`` file (cached values of formulas)."""

    def __init__(self, path: str | Path, *, read_only: bool | None = None):
        self.path = Path(path)
        if not self.path.exists():
            raise PlanInvalid([Problem("file.not_found", Source(file=self.path.name), {"path": str(self.path)})])
        if read_only is None:
            read_only = self.path.stat().st_size > LARGE_FILE_BYTES
        self.read_only = read_only
        try:
            self.wb = load_workbook(self.path, data_only=True, read_only=read_only)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise PlanInvalid(
                [Problem.legacy(str(self.path), f"không mở được tệp Excel: {exc}", f"cannot open the workbook: {exc}", "bad_workbook")]
            ) from None
        self._uncached: dict[str, list[str]] | None = None

    def sheet_names(self) -> list[str]:
        return list(self.wb.sheetnames)

    def grid(self, name: str) -> Grid:
        ws = self.wb[name]
        rows = [[_clean(v) for v in row] for row in ws.iter_rows(values_only=True)]
        return Grid(name, rows)

    def tables(self) -> list[TableRef]:
        if self.read_only:
            return []
        return [TableRef(t.name, ws.title, t.ref) for ws in self.wb.worksheets for t in ws.tables.values()]

    def uncached_formulas(self, sheet: str) -> list[str]:
        """Cells of ``sheet`` holding a formula without a cached value (saved by a non-calculating writer)."""
        if self._uncached is None:
            self._uncached = _scan_uncached(self.path)
        return self._uncached.get(sheet, [])

    def close(self) -> None:
        if self.read_only:
            self.wb.close()


def _scan_uncached(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    try:
        with zipfile.ZipFile(path) as z:
            wb_xml = z.read("xl/workbook.xml").decode("utf-8")
            rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
            targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
            for name, rid in re.findall(r'<sheet[^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml):
                target = targets.get(rid, "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                try:
                    xml = z.read(member).decode("utf-8")
                except KeyError:
                    continue
                if "<f" not in xml:
                    continue
                cells = []
                for m in re.finditer(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', xml, re.S):
                    body = m.group(2) or ""
                    if "<f" in body and not re.search(r"<v>[^<]+</v>", body):
                        cells.append(m.group(1))
                if cells:
                    out[_unescape(name)] = cells
    except (zipfile.BadZipFile, KeyError):
        return {}
    return out


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")


class CalamineBook:
    """A :class:`~budgetlib.io.grid.GridBook` read with python-calamine (an independent reader)."""

    def __init__(self, path: str | Path):
        from python_calamine import CalamineWorkbook

        self.path = Path(path)
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
    book = OpenpyxlBook(path)
    try:
        return read_plan_grids(book)
    except PlanInvalid as exc:
        raise PlanInvalid([p.relocated(p.location) for p in exc.problems]) from None
    finally:
        book.close()

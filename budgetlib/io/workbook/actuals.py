"""The Thực hiện sheets: where units' disbursements and indicator results are typed in, and read back.

Two input sheets, in the planning workbook or a workbook of their own:

* **Thực hiện** (*Actuals*) — a few key–value rows (plan code, whether the figures are
  illustrative, a note), then one row per unit × task × source × period: the allocation for
  reference (not read), what was disbursed (đồng), and on first-half rows the unit's estimate for
  the whole year;
* **Kết quả chỉ tiêu** (*Indicator results*) — one row per target × unit × period (unit blank for a
  program-wide figure).

:func:`actuals_sheets` writes them (pre-filled with every cell that has an allocation, or with
reports already made); :func:`read_actuals_grids` reads any :class:`~budgetlib.io.grid.GridBook`
with the same field conversions and located problems as the JSON and CSV readers
(:mod:`budgetlib.io.actuals`). Headers may be Vietnamese or English, columns in any order, extra
columns and rows above the table are ignored. No spreadsheet library is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...core.i18n import tr
from ...core.lang import Lang, as_lang
from ...core.problems import PlanInvalid, Problem, Source
from ...core.text import fold
from ...model.actuals import Actuals, Period
from ...model.cycle import CycleState
from ...model.plan import Plan
from ..actuals import FIELDS, ActualsRead, header_key, records_to_actuals, rows_to_records
from ..grid import AMOUNT_FORMAT, DECIMAL_FORMAT, TEXT_FORMAT, CellValue, GridBook, SheetSpec, TableSpec, range_ref

__all__ = ["ACTUALS_SHEETS", "actuals_sheets", "read_actuals_grids", "read_actuals_workbook", "actuals_sheet_name"]

ACTUALS_SHEETS = ("disbursements", "results")
_KV = ("plan", "illustrative", "title", "note")


def actuals_sheet_name(kind: str, lang: str | Lang) -> str:
    return tr(f"cycle.sheet.input.{kind}", lang)


def _yes(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return fold(str(value)) in {fold(tr("cycle.sheet.input.yes", lang)) for lang in Lang} | {"x", "1", "true", "yes", "co"}


def _kv_rows(kind: str, actuals: Actuals | None, plan: Plan, lang: Lang) -> list[list[CellValue]]:
    if kind != "disbursements":
        return []
    a = actuals
    return [
        [tr("cycle.sheet.input.kv_plan", lang), a.plan if a else plan.program.code],
        [tr("cycle.sheet.input.kv_illustrative", lang), tr("cycle.sheet.input.yes" if a and a.illustrative else "cycle.sheet.input.no", lang)],
        [tr("cycle.sheet.input.kv_title", lang), a.title if a else ""],
        [tr("cycle.sheet.input.kv_note", lang), a.note if a else ""],
    ]


def _allocated(state: CycleState, unit: str, task: str, source: str, year: int) -> int | None:
    if unit in state.units and task in state.tasks and source in state.sources and year in state.years:
        return int(state.amounts[state.units.index(unit), state.tasks.index(task), state.year_index(year), state.sources.index(source)])
    return None


def actuals_sheets(
    plan: Plan,
    state: CycleState,
    *,
    periods: Sequence[Period] = (),
    actuals: Actuals | None = None,
    lang: str | Lang = Lang.VI,
) -> list[SheetSpec]:
    """The two input sheets. With ``actuals``: one row per record (reading them back gives equal
    actuals). Without: a blank row for every unit × task × source with an allocation in each of
    ``periods`` (and every target × unit), ready to be filled in."""
    lang = as_lang(lang)
    units = {u.code: u.name for u in plan.units}
    targets = {t.code: t.name for t in plan.targets}
    out: list[SheetSpec] = []
    for kind in ACTUALS_SHEETS:
        spec = SheetSpec(actuals_sheet_name(kind, lang), [], kind="input", title_rows={1}, wrap_cols=set())
        spec.rows.append([tr(f"cycle.sheet.input.{kind}_title", lang, program=plan.program.name)])
        spec.rows.append([tr(f"cycle.sheet.input.{kind}_hint", lang)])
        spec.rows.extend(_kv_rows(kind, actuals, plan, lang))
        spec.rows.append([])
        fields = FIELDS[kind]
        header: list[CellValue]
        if kind == "disbursements":
            header = [fields[0].header(kind, lang), tr("cycle.sheet.input.unit_name", lang), *(f.header(kind, lang) for f in fields[1:4]),
                      tr("cycle.sheet.input.allocated", lang), *(f.header(kind, lang) for f in fields[4:])]
        else:
            header = [fields[0].header(kind, lang), tr("cycle.sheet.input.target_name", lang), fields[1].header(kind, lang),
                      tr("cycle.sheet.input.unit_name", lang), *(f.header(kind, lang) for f in fields[2:])]
        spec.rows.append(header)
        hr = len(spec.rows)
        spec.bold_rows.add(hr)
        rows: list[list[CellValue]] = []
        if kind == "disbursements":
            if actuals is not None:
                for d in Actuals.from_dict(actuals.to_dict()).disbursements:
                    rows.append([d.unit, units.get(d.unit, ""), d.task, d.source, str(d.period), _allocated(state, d.unit, d.task, d.source, d.period.year),
                                 d.amount, d.forecast, d.note or None])
            else:
                for p in periods:
                    y = state.year_index(p.year)
                    for u, t, s in np.argwhere(state.amounts[:, :, y, :] > 0):
                        unit, task, source = state.units[u], state.tasks[t], state.sources[s]
                        rows.append([unit, units.get(unit, ""), task, source, str(p), int(state.amounts[u, t, y, s]), None, None, None])
        else:
            if actuals is not None:
                for r in Actuals.from_dict(actuals.to_dict()).results:
                    rows.append([r.target, targets.get(r.target, ""), r.unit, units.get(r.unit or "", "") or None, str(r.period), r.value, r.note or None])
            else:
                for p in periods:
                    for t in plan.targets:
                        for unit in state.units:
                            rows.append([t.code, t.name, unit, units.get(unit, ""), str(p), None, None])
        spec.rows.extend(rows)
        last = max(len(spec.rows), hr + 1)
        if len(spec.rows) == hr:
            spec.rows.append([])
        ncol = len(header)
        spec.tables.append(TableSpec("TH_GiaiNgan" if kind == "disbursements" else "TH_ChiTieu", range_ref(hr, 1, last, ncol), style="TableStyleLight9"))
        if kind == "disbursements":
            spec.column_formats = {0: TEXT_FORMAT, 2: TEXT_FORMAT, 3: TEXT_FORMAT, 4: TEXT_FORMAT, 5: AMOUNT_FORMAT, 6: AMOUNT_FORMAT, 7: AMOUNT_FORMAT}
            spec.column_widths = {0: 12, 1: 26, 2: 12, 3: 12, 4: 12, 5: 18, 6: 18, 7: 20, 8: 30}
        else:
            spec.column_formats = {0: TEXT_FORMAT, 2: TEXT_FORMAT, 4: TEXT_FORMAT, 5: DECIMAL_FORMAT}
            spec.column_widths = {0: 12, 1: 40, 2: 12, 3: 26, 4: 12, 5: 16, 6: 30}
        spec.format_from_row = hr + 1
        spec.freeze = f"A{hr + 1}"
        out.append(spec)
    return out


def _find_sheet(book: GridBook, kind: str) -> str | None:
    wanted = {fold(actuals_sheet_name(kind, lang)) for lang in Lang}
    for name in book.sheet_names():
        if fold(name) in wanted:
            return name
    return None


def _kv(rows: Sequence[Sequence[Any]], limit: int) -> dict[str, Any]:
    """The key–value rows above the table (plan code, illustrative, title, note)."""
    labels = {header_key(tr(f"cycle.sheet.input.kv_{k}", lang)): k for k in _KV for lang in Lang}
    out: dict[str, Any] = {}
    for row in rows[:limit]:
        if len(row) >= 2 and isinstance(row[0], str) and header_key(row[0]) in labels:
            out[labels[header_key(row[0])]] = row[1]
    return out


def read_actuals_grids(book: GridBook, *, plan: str, file: str | None = None) -> ActualsRead:
    """Read the Thực hiện and Kết quả chỉ tiêu sheets of ``book`` (either may be missing, not both)."""
    problems: list[Problem] = []
    records = []
    meta: dict[str, Any] = {}
    found_any = False
    for kind in ACTUALS_SHEETS:
        name = _find_sheet(book, kind)
        if name is None:
            continue
        found_any = True
        grid = book.grid(name)
        rows = [[grid.value(r, c) for c in range(grid.n_cols)] for r in range(grid.n_rows)]
        _, recs, probs = rows_to_records(rows, sheet=name, file=file, origin_row=grid.origin_row, kind=kind)
        problems.extend(probs)
        records.extend(recs)
        if kind == "disbursements":
            meta = _kv(rows, min(len(rows), 30))
    if not found_any:
        names = ", ".join(actuals_sheet_name(k, Lang.VI) for k in ACTUALS_SHEETS)
        return ActualsRead(None, [Problem("cycle.actuals.no_sheet", Source(file=file), {"sheets": names})])
    code = meta.get("plan")
    read = records_to_actuals(
        records,
        plan=str(int(code)) if isinstance(code, float) and code.is_integer() else (str(code).strip() if code not in (None, "") else plan),
        title=str(meta.get("title") or ""),
        illustrative=_yes(meta["illustrative"]) if meta.get("illustrative") is not None else False,
        note=str(meta.get("note") or ""),
        document=Source(file=file, sheet=_find_sheet(book, "disbursements")),
    )
    read.problems[:0] = problems
    return read


def read_actuals_workbook(path: str | Path, *, plan: str) -> ActualsRead:
    """Read the Thực hiện sheets of an ``.xlsx`` file (the planning workbook or one of its own)."""
    from .xlsx import open_book

    path = Path(path)
    try:
        book = open_book(path)
    except PlanInvalid as exc:
        return ActualsRead(None, list(exc.problems))
    try:
        return read_actuals_grids(book, plan=plan, file=path.name)
    finally:
        book.close()

"""Scenario comparison sheets as :class:`~budgetlib.io.grid.SheetSpec` (drawn by every front end).

One overview sheet (each scenario's changes, status, budget, allocation and difference from the
base, targets met; a bar chart) and one sheet per dimension — unit, task, year, source — with the
base and each scenario side by side, each scenario's difference from the base as a formula, SUM
totals and a bar chart; then the targets under each scenario. No spreadsheet library is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.i18n import tr
from ...core.lang import Lang, as_lang
from ..grid import (
    AMOUNT_FORMAT,
    DECIMAL_FORMAT,
    CellValue,
    ChartSpec,
    Formula,
    SheetSpec,
    TableSpec,
    column_letter,
    range_ref,
)
from .results import print_ready

if TYPE_CHECKING:
    from ...pipeline.scenarios import ScenarioComparison

__all__ = ["comparison_sheets", "SCENARIO_SHEET_KEYS", "scenario_sheet_name", "is_scenario_result_sheet"]

SCENARIO_SHEET_KEYS = ("overview", "unit", "task", "year", "source", "targets")
_CHART_MAX_ROWS = 120
_TITLE_COLOR = "C00000"


def scenario_sheet_name(key: str, lang: str | Lang) -> str:
    return tr(f"scenario.sheet.{key}", lang)


def is_scenario_result_sheet(name: str) -> bool:
    """True for the sheet names this module writes (either language)."""
    return any(name == scenario_sheet_name(k, lang) for k in SCENARIO_SHEET_KEYS for lang in Lang)


def _spec(key: str, lang: Lang, subtitle_code: str) -> SheetSpec:
    return SheetSpec(
        scenario_sheet_name(key, lang),
        [[tr(f"scenario.sheet.title_{key}", lang)], [tr(subtitle_code, lang)]],
        title_rows={1},
        tab_color=_TITLE_COLOR,
    )


def _add(spec: SheetSpec, row: list[CellValue], *, bold: bool = False) -> int:
    spec.rows.append(row)
    if bold:
        spec.bold_rows.add(len(spec.rows))
    return len(spec.rows)


def _diff(col: int, base_col: int, r: int) -> Formula:
    a, b = f"{column_letter(col)}{r}", f"{column_letter(base_col)}{r}"
    return Formula(f'=IF(AND(ISNUMBER({a}),ISNUMBER({b})),{a}-{b},"")')


def _overview(c: ScenarioComparison, lang: Lang) -> SheetSpec:
    spec = _spec("overview", lang, "scenario.sheet.subtitle_overview")
    hr = _add(spec, [tr(f"scenario.sheet.col_{k}", lang) for k in ("scenario", "changes", "status", "budget", "allocated", "difference", "targets_met")], bold=True)
    first = hr + 1
    for i, r in enumerate(c.results):
        row = first + i
        changes = "; ".join(r.changes) if r.changes else tr("scenario.sheet.as_planned", lang)
        if r.description:
            changes = f"{r.description} — {changes}"
        met = sum(1 for t in r.attainment if t.met)
        spec.rows.append([
            r.label(lang), changes, tr(f"scenario.status.{r.status}", lang), r.budget,
            r.total if r.ok else None, Formula(f'=IF(AND(ISNUMBER(E{row}),ISNUMBER(E{first})),E{row}-E{first},"")'),
            tr("scenario.sheet.met_of", lang, met=met, total=len(r.attainment)) if r.attainment else None,
        ])
    last = first + len(c.results) - 1
    for col in (4, 5, 6):
        for row in range(first, last + 1):
            spec.cell_formats[f"{column_letter(col)}{row}"] = AMOUNT_FORMAT
    spec.tables.append(TableSpec("KB_TongQuan", range_ref(hr, 1, last, 7)))
    spec.column_widths = {0: 30, 1: 70, 2: 16, 3: 20, 4: 20, 5: 18, 6: 14}
    spec.wrap_cols = {1}
    spec.chart = ChartSpec(
        tr("scenario.sheet.chart_overview", lang), anchor=f"A{last + 3}", category_col=1, value_cols=(4, 5),
        header_row=hr, first_row=first, last_row=last, y_title=tr("scenario.sheet.money_axis", lang),
        height_cm=max(6.0, 1.2 * len(c.results) + 3),
    )
    spec.freeze = f"B{first}"
    return spec


def _by(c: ScenarioComparison, dim: str, lang: Lang) -> SheetSpec:
    spec = _spec(dim, lang, "scenario.sheet.subtitle_by")
    labels = [r.label(lang) for r in c.results]
    k = len(labels)
    header: list[CellValue] = [tr(f"scenario.sheet.col_code_{dim}", lang), tr("scenario.sheet.col_name", lang), *labels]
    header += [tr("scenario.sheet.col_delta", lang, name=label) for label in labels[1:]]
    hr = _add(spec, header, bold=True)
    rows = c.table(dim)
    first = hr + 1
    for i, (code, name, values) in enumerate(rows):
        r = first + i
        spec.rows.append([code, name or None, *values, *(_diff(3 + j, 3, r) for j in range(1, k))])
    last = first + len(rows) - 1
    total_row: list[CellValue] = [tr("scenario.sheet.total", lang), None]
    total_row += [Formula(f"=SUM({range_ref(first, col, last, col)})") if c.results[col - 3].ok else None for col in range(3, 3 + k)]
    total_row += [_diff(3 + j, 3, last + 1) for j in range(1, k)]
    _add(spec, total_row, bold=True)
    spec.column_formats = {col: AMOUNT_FORMAT for col in range(2, 2 + 2 * k - 1)}
    spec.format_from_row = first
    widths = [str(v) for v in header[2:]]
    spec.column_widths = {0: 12, 1: 30, **{2 + i: min(40.0, max(16.0, len(w) * 1.1 + 2)) for i, w in enumerate(widths)}}
    if 0 < len(rows) <= _CHART_MAX_ROWS:
        spec.chart = ChartSpec(
            tr(f"scenario.sheet.chart_{dim}", lang), anchor=f"{column_letter(2 * k + 3)}3", category_col=2 if dim in ("unit", "task", "source") else 1,
            value_cols=tuple(range(3, 3 + k)), header_row=hr, first_row=first, last_row=last,
            y_title=tr("scenario.sheet.money_axis", lang), height_cm=max(8.0, 0.6 * len(rows) * max(1, k / 2) + 3),
        )
    spec.freeze = f"C{first}"
    return spec


def _targets(c: ScenarioComparison, lang: Lang) -> SheetSpec:
    spec = _spec("targets", lang, "scenario.sheet.subtitle_targets")
    header: list[CellValue] = [tr(f"scenario.sheet.col_{k}", lang) for k in ("target", "target_name", "year", "required")]
    for r in c.results:
        header += [tr("scenario.sheet.col_funded", lang, name=r.label(lang)), tr("scenario.sheet.col_met", lang, name=r.label(lang))]
    hr = _add(spec, header, bold=True)
    keys: list[tuple[str, int | None]] = []
    info: dict[tuple[str, int | None], tuple[str, float | None]] = {}
    for r in c.results:
        for t in r.attainment:
            key = (t.target, t.year)
            if key not in info:
                keys.append(key)
                info[key] = (t.name, t.required)
    for key in keys:
        name, required = info[key]
        row: list[CellValue] = [key[0], name, key[1], required]
        for r in c.results:
            hit = next((t for t in r.attainment if (t.target, t.year) == key), None)
            if hit is None or not r.ok:
                row += [None, tr(f"scenario.status.{r.status}", lang) if not r.ok else None]
            else:
                row += [hit.funded, tr("scenario.sheet.yes" if hit.met else "scenario.sheet.no", lang)]
        spec.rows.append(row)
    if not keys:
        spec.rows.append([tr("scenario.sheet.no_targets", lang)])
    spec.column_formats = {3: DECIMAL_FORMAT, **{4 + 2 * i: DECIMAL_FORMAT for i in range(len(c.results))}}
    spec.format_from_row = hr + 1
    spec.column_widths = {0: 12, 1: 44, 2: 8, 3: 12, **{4 + i: 16 for i in range(2 * len(c.results))}}
    spec.freeze = f"C{hr + 1}"
    return spec


def comparison_sheets(c: ScenarioComparison, *, lang: str | Lang = Lang.VI) -> list[SheetSpec]:
    """The overview, by unit, task, year and source, and targets (when any scenario reports one)."""
    lang = as_lang(lang)
    sheets = [_overview(c, lang)] + [_by(c, dim, lang) for dim in ("unit", "task", "year", "source")]
    if any(r.attainment for r in c.results):
        sheets.append(_targets(c, lang))
    return [print_ready(s, lang, plan_code=c.plan_code) for s in sheets]


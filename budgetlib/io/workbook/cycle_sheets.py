"""Result sheets of the budget cycle as :class:`~budgetlib.io.grid.SheetSpec` (no spreadsheet library).

* :func:`progress_sheets` — Tiến độ (allocation against disbursement per unit, with a chart),
  Tiến độ nhiệm vụ (by task, by source, and every cell), Tiến độ chỉ tiêu (indicators against the
  yearly targets) and the printable **Báo cáo 6 tháng** / **Báo cáo năm**: one narrow sheet (five
  columns, A4 portrait) with who reports to whom by when, money, indicators and flags;
* :func:`revision_sheet` — Điều chỉnh: original and revised allocation per unit with the reasons;
* :func:`carry_over_sheets` — Chuyển nguồn (the closed year: allocated = disbursed + carried +
  recalled, checked by a formula per row) and Năm sau (the next year's split, new money and money
  carried in);
* :func:`chain_sheet` — Liên cấp: what each higher level allocated to a unit against what that
  unit's own plan allocated below it, per task, year and source.

Rates, differences and totals are formulas (:class:`~budgetlib.io.grid.Formula`) over the written
amounts, so staff can audit them and a spreadsheet recalculates them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...core.i18n import Msg, tr
from ...core.lang import Lang, as_lang
from ...model.plan import Plan
from ...planning.execution import Progress
from ..grid import (
    AMOUNT_FORMAT,
    DECIMAL_FORMAT,
    PERCENT_FORMAT,
    CellValue,
    ChartSpec,
    Formula,
    SheetSpec,
    TableSpec,
    range_ref,
)
from .results import print_ready

__all__ = [
    "CYCLE_SHEETS",
    "cycle_sheet_name",
    "progress_sheets",
    "report_sheet",
    "revision_sheet",
    "carry_over_sheets",
    "chain_sheet",
]

CYCLE_SHEETS = ("progress", "progress_tasks", "progress_targets", "report_h1", "report_year", "revision", "closing", "next_year", "chain")
_TAB = "2F5597"


def cycle_sheet_name(key: str, lang: str | Lang) -> str:
    return tr(f"cycle.sheet.name.{key}", lang)


def _t(code: str, lang: Lang, **params: Any) -> str:
    return tr(f"cycle.sheet.{code}", lang, **params)


REPORT_WIDTH = 64
"""Characters per line of the printable report. Its five columns (9 + 22 + 14 + 14 + 7 = 66
character widths) fit an A4 page in portrait at 100 % with LibreOffice's default margins (checked by
rendering to PDF); longer text is wrapped onto more rows, bold text and titles at fewer characters."""


class _Sheet:
    def __init__(self, key: str, lang: Lang, title: str, subtitle: str = ""):
        self.lang = lang
        self.spec = SheetSpec(cycle_sheet_name(key, lang), [[title]], title_rows={1}, tab_color=_TAB)
        if subtitle:
            self.spec.rows.append([subtitle])

    def add(self, row: list[CellValue], *, bold: bool = False, title: bool = False) -> int:
        self.spec.rows.append(row)
        r = len(self.spec.rows)
        if bold or title:
            self.spec.bold_rows.add(r)
        if title:
            self.spec.title_rows.add(r)
        return r

    def text(self, text: str, *, width: int = REPORT_WIDTH, bold: bool = False, title: bool = False, indent: str = "") -> None:
        """A paragraph in column A, wrapped onto as many rows as it needs (never wider than the page)."""
        if bold and width == REPORT_WIDTH:
            width = REPORT_WIDTH * 9 // 10
        lines = textwrap.wrap(text, width=width, subsequent_indent=indent, break_on_hyphens=False) or [""]
        for line in lines:
            self.add([line], bold=bold, title=title)

    def fmt(self, col: int, r1: int, r2: int, fmt: str) -> None:
        letter = chr(64 + col) if col <= 26 else None
        if letter is None:
            from ..grid import column_letter

            letter = column_letter(col)
        for r in range(r1, r2 + 1):
            self.spec.cell_formats[f"{letter}{r}"] = fmt


def _illustrative(sheet: _Sheet, illustrative: bool) -> None:
    if illustrative:
        sheet.add([_t("illustrative", sheet.lang)], bold=True)


def _rate(num: str, den: str) -> Formula:
    return Formula(f'=IF({den}=0,"",{num}/{den})')


# ---------------------------------------------------------------------------------------------
# Progress


def progress_sheets(plan: Plan, progress: Progress, *, lang: str | Lang = Lang.VI, chart_max_units: int = 120) -> list[SheetSpec]:
    """Tiến độ, Tiến độ nhiệm vụ, Tiến độ chỉ tiêu and the printable report for the period."""
    lang = as_lang(lang)
    sheets = [
        _progress_units(plan, progress, lang, chart_max_units),
        _progress_tasks(plan, progress, lang),
        _progress_targets(plan, progress, lang),
        report_sheet(plan, progress, lang=lang),
    ]
    return [print_ready(s, lang, plan_code=plan.program.code) for s in sheets]


def _flags_by_unit(progress: Progress, lang: Lang) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for f in progress.flags:
        if f.unit is not None:
            out.setdefault(f.unit, []).append(_t(f"flag_short.{f.code.rsplit('.', 1)[-1]}", lang))
    return {u: "; ".join(v) for u, v in out.items()}


def _progress_units(plan: Plan, p: Progress, lang: Lang, chart_max_units: int) -> SheetSpec:
    names = {u.code: u.name for u in plan.units}
    sheet = _Sheet("progress", lang, _t("progress_title", lang, period=p.period.label(), program=plan.program.name),
                   _t("progress_subtitle", lang, low=p.settings.low(p.period), first=p.years[0], year=p.period.year))
    _illustrative(sheet, p.illustrative)
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "allocated", "disbursed", "rate", "undisbursed",
                                                   "allocated_to_date", "disbursed_to_date", "rate_to_date", "flags")], bold=True)
    a, d = p.by("allocated", "unit"), p.by("disbursed", "unit")
    atd, dtd = p.by("allocated_to_date", "unit"), p.by("disbursed_to_date", "unit")
    flags = _flags_by_unit(p, lang)
    first = hr + 1
    for i, u in enumerate(p.units):
        r = first + i
        sheet.add([u, names.get(u, ""), int(a[i]), int(d[i]), _rate(f"D{r}", f"C{r}"), Formula(f"=C{r}-D{r}"),
                   int(atd[i]), int(dtd[i]), _rate(f"H{r}", f"G{r}"), flags.get(u)])
    last = first + len(p.units) - 1
    tr_ = sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({c}{first}:{c}{last})") for c in "CD"), _rate(f"D{last + 1}", f"C{last + 1}"),
                     Formula(f"=C{last + 1}-D{last + 1}"), *(Formula(f"=SUM({c}{first}:{c}{last})") for c in "GH"),
                     _rate(f"H{last + 1}", f"G{last + 1}")], bold=True)
    for col in (3, 4, 6, 7, 8):
        sheet.fmt(col, first, tr_, AMOUNT_FORMAT)
    for col in (5, 9):
        sheet.fmt(col, first, tr_, PERCENT_FORMAT)
    spec = sheet.spec
    spec.tables.append(TableSpec("TD_DiaBan", range_ref(hr, 1, last, 10)))
    spec.column_widths = {0: 10, 1: 26, 2: 17, 3: 17, 4: 9, 5: 17, 6: 17, 7: 17, 8: 9, 9: 40}
    spec.wrap_cols = {9}
    spec.freeze = f"C{first}"
    if len(p.units) <= chart_max_units:
        spec.chart = ChartSpec(
            _t("progress_chart", lang, period=p.period.label()), anchor="L3", category_col=2, value_cols=(3, 4), header_row=hr,
            first_row=first, last_row=last, y_title=_t("dong", lang), height_cm=max(8.0, 0.6 * len(p.units) + 3),
        )
    return spec


def _progress_tasks(plan: Plan, p: Progress, lang: Lang) -> SheetSpec:
    names = {u.code: u.name for u in plan.units}
    tasks = {t.code: t.name for t in plan.tasks}
    sources = {s.code: s.name for s in plan.sources}
    sheet = _Sheet("progress_tasks", lang, _t("tasks_title", lang, period=p.period.label()), _t("tasks_subtitle", lang))
    _illustrative(sheet, p.illustrative)

    def section(title: str, keys: Sequence[str], labels: dict[str, str], a: np.ndarray, d: np.ndarray) -> None:
        sheet.add([])
        sheet.add([title], title=True)
        hr = sheet.add([_t(f"col.{k}", lang) for k in ("code", "name", "allocated", "disbursed", "rate", "undisbursed")], bold=True)
        first = hr + 1
        for i, k in enumerate(keys):
            r = first + i
            sheet.add([k, labels.get(k, ""), int(a[i]), int(d[i]), _rate(f"D{r}", f"C{r}"), Formula(f"=C{r}-D{r}")])
        last = first + len(keys) - 1
        t = sheet.add([_t("col.total", lang), None, Formula(f"=SUM(C{first}:C{last})"), Formula(f"=SUM(D{first}:D{last})"),
                       _rate(f"D{last + 1}", f"C{last + 1}"), Formula(f"=C{last + 1}-D{last + 1}")], bold=True)
        for col in (3, 4, 6):
            sheet.fmt(col, first, t, AMOUNT_FORMAT)
        sheet.fmt(5, first, t, PERCENT_FORMAT)

    section(_t("by_task", lang), p.tasks, tasks, p.by("allocated", "task"), p.by("disbursed", "task"))
    section(_t("by_source", lang), p.sources, sources, p.by("allocated", "source"), p.by("disbursed", "source"))
    sheet.add([])
    sheet.add([_t("by_cell", lang)], title=True)
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "task", "source", "allocated", "disbursed", "rate")], bold=True)
    first = hr + 1
    cells = np.argwhere((p.allocated != 0) | (p.disbursed != 0))
    for n, (u, t, s) in enumerate(cells):
        r = first + n
        sheet.add([p.units[u], names.get(p.units[u], ""), p.tasks[t], p.sources[s], int(p.allocated[u, t, s]), int(p.disbursed[u, t, s]),
                   _rate(f"F{r}", f"E{r}")])
    last = max(first + len(cells) - 1, first)
    if not len(cells):
        sheet.add([])
    sheet.fmt(5, first, last, AMOUNT_FORMAT)
    sheet.fmt(6, first, last, AMOUNT_FORMAT)
    sheet.fmt(7, first, last, PERCENT_FORMAT)
    sheet.spec.tables.append(TableSpec("TD_ChiTiet", range_ref(hr, 1, last, 7)))
    sheet.spec.column_widths = {0: 10, 1: 34, 2: 17, 3: 17, 4: 17, 5: 17, 6: 9}
    return sheet.spec


def _progress_targets(plan: Plan, p: Progress, lang: Lang) -> SheetSpec:
    names = {u.code: u.name for u in plan.units}
    sheet = _Sheet("progress_targets", lang, _t("targets_title", lang, period=p.period.label()), _t("targets_subtitle", lang))
    _illustrative(sheet, p.illustrative)
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("target", "name", "baseline", "expected", "actual", "final", "progress", "status")], bold=True)
    first = hr + 1
    for i, ind in enumerate(p.indicators):
        r = first + i
        t = ind.target
        sheet.add([t.code, t.name, ind.baseline, ind.expected, ind.actual, ind.final,
                   Formula(f'=IF(OR(E{r}="",F{r}="",F{r}=C{r}),"",(E{r}-C{r})/(F{r}-C{r}))'), _t(f"status.{ind.status}", lang)])
    last = max(first + len(p.indicators) - 1, first)
    if not p.indicators:
        sheet.add([_t("no_targets", lang)])
    for col in (3, 4, 5, 6):
        sheet.fmt(col, first, last, DECIMAL_FORMAT)
    sheet.fmt(7, first, last, PERCENT_FORMAT)
    sheet.spec.tables.append(TableSpec("TD_ChiTieu", range_ref(hr, 1, last, 8)))
    # Results per unit.
    reported = [ind for ind in p.indicators if ind.by_unit]
    if reported:
        sheet.add([])
        sheet.add([_t("targets_by_unit", lang)], title=True)
        h2 = sheet.add([_t("col.unit", lang), _t("col.name", lang), *(ind.target.code for ind in reported)], bold=True)
        for c, ind in enumerate(reported):
            sheet.spec.comments[f"{chr(67 + c)}{h2}"] = ind.target.name
        f2 = h2 + 1
        for u in p.units:
            sheet.add([u, names.get(u, ""), *(ind.by_unit.get(u) for ind in reported)])
        l2 = f2 + len(p.units) - 1
        sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({chr(67 + c)}{f2}:{chr(67 + c)}{l2})") for c in range(len(reported)))], bold=True)
        for c in range(len(reported)):
            sheet.fmt(3 + c, f2, l2 + 1, DECIMAL_FORMAT)
    sheet.spec.column_widths = {0: 10, 1: 46, 2: 12, 3: 12, 4: 12, 5: 12, 6: 11, 7: 22}
    sheet.spec.wrap_cols = {1}
    return sheet.spec


def report_sheet(plan: Plan, p: Progress, *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """The printable 6-monthly or yearly progress report: five columns, A4 portrait, a few pages.

    I. who reports to whom by when (each due :class:`~budgetlib.model.plan.ReportingRule`);
    II. money: allocated, disbursed, rate, per unit (formulas); III. indicators against the yearly
    targets; IV. flags; V. notes (thresholds, illustrative figures, data as of the period's end).
    Text is wrapped onto rows of at most :data:`REPORT_WIDTH` characters.
    """
    lang = as_lang(lang)
    key = "report_h1" if p.period.half == 1 else "report_year"
    names = {u.code: u.name for u in plan.units}
    sheet = _Sheet(key, lang, "")
    sheet.spec.rows.clear()
    sheet.spec.title_rows.clear()
    sheet.text(_t(f"{key}_title", lang, year=p.period.year).upper(), width=REPORT_WIDTH * 2 // 3, title=True)
    sheet.text(plan.program.name, bold=True)
    sheet.text(plan.program.authority + (f" — {plan.program.document}" if plan.program.document else ""))
    if p.illustrative:
        sheet.text(_t("illustrative", lang), bold=True)
    sheet.add([])
    # I. Reporting
    sheet.text(_t("report.section_reporting", lang), title=True)
    if p.reports:
        for rep in p.reports:
            due = (_t("report.due_date", lang, date=rep.due.strftime("%d/%m/%Y")) if rep.due is not None
                   else (_t("report.due_text", lang, text=rep.rule.due) if rep.rule.due else _t("report.due_none", lang)))
            sheet.text("– " + _t("report.rule", lang, reporter=rep.rule.reporter, recipient=rep.rule.recipient,
                                 cadence=Msg(f"cycle.sheet.cadence.{rep.rule.cadence.value}"), due=due), indent="  ")
            if rep.rule.description:
                sheet.text(f"  {rep.rule.description}", indent="  ")
    else:
        sheet.text(_t("report.no_rule", lang, period=p.period.label()))
    sheet.add([])
    # II. Money
    sheet.text(_t("report.section_money", lang, year=p.period.year), title=True)
    total_a, total_d = p.total_allocated, p.total_disbursed
    rate = total_d / total_a if total_a else 0.0
    sheet.text(_t("report.money_summary", lang, allocated=total_a, disbursed=total_d, rate=rate, undisbursed=total_a - total_d,
                  period=p.period.label()))
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "allocated", "disbursed", "rate")], bold=True)
    a, d = p.by("allocated", "unit"), p.by("disbursed", "unit")
    first = hr + 1
    for i, u in enumerate(p.units):
        r = first + i
        sheet.add([u, names.get(u, ""), int(a[i]), int(d[i]), _rate(f"D{r}", f"C{r}")])
    last = first + len(p.units) - 1
    t = sheet.add([_t("col.total", lang), None, Formula(f"=SUM(C{first}:C{last})"), Formula(f"=SUM(D{first}:D{last})"),
                   _rate(f"D{last + 1}", f"C{last + 1}")], bold=True)
    sheet.fmt(3, first, t, AMOUNT_FORMAT)
    sheet.fmt(4, first, t, AMOUNT_FORMAT)
    sheet.fmt(5, first, t, PERCENT_FORMAT)
    sheet.add([])
    # III. Indicators
    sheet.text(_t("report.section_targets", lang), title=True)
    if not p.indicators:
        sheet.text(_t("no_targets", lang))
    for ind in p.indicators:
        sheet.text("– " + _t(f"report.target_{ind.status}", lang, target=ind.target.code, name=ind.target.name, actual=ind.actual or 0.0,
                             expected=ind.expected or 0.0, final=ind.final or 0.0, final_year=ind.final_year or p.period.year,
                             reported=ind.units_reported, units=ind.units_expected), indent="  ")
    sheet.add([])
    # IV. Flags
    sheet.text(_t("report.section_flags", lang), title=True)
    if not p.flags:
        sheet.text(_t("report.no_flags", lang))
    for f in p.flags:
        sheet.text(f"– {f.message(lang)}", indent="  ")
    sheet.add([])
    # V. Notes
    sheet.text(_t("report.section_notes", lang), title=True)
    sheet.text(_t("report.note_data", lang, period=p.period.label()))
    sheet.text(_t("report.note_thresholds", lang, low=p.settings.low(p.period)))
    spec = sheet.spec
    spec.column_widths = {0: 9, 1: 22, 2: 14, 3: 14, 4: 7}
    return print_ready(spec, lang, plan_code=plan.program.code)


# ---------------------------------------------------------------------------------------------
# Revision


def revision_sheet(plan: Plan, revision: Any, *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """Điều chỉnh: per unit the allocation in force, what is disbursed, the revised allocation, the
    change (formula) and the reasons; then every cell; then the allocator's explanation."""
    lang = as_lang(lang)
    sheet = _Sheet("revision", lang, _t("revision_title", lang, year=revision.year, period=revision.period.label()),
                   _t("revision_subtitle", lang))
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "original", "disbursed", "revised", "change", "reasons")], bold=True)
    first = hr + 1
    for i, c in enumerate(revision.changes):
        r = first + i
        reasons = "\n".join(m.render(lang) for m in c.reasons) or None
        sheet.add([c.unit, c.name, c.original, c.disbursed, c.revised, Formula(f"=E{r}-C{r}"), reasons])
    last = first + len(revision.changes) - 1
    t = sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({col}{first}:{col}{last})") for col in "CDEF")], bold=True)
    for col in (3, 4, 5, 6):
        sheet.fmt(col, first, t, AMOUNT_FORMAT)
    spec = sheet.spec
    spec.tables.append(TableSpec("DC_DiaBan", range_ref(hr, 1, max(last, hr + 1), 7)))
    if revision.changes and len(revision.changes) <= 120:
        spec.chart = ChartSpec(_t("revision_chart", lang), anchor="I3", category_col=2, value_cols=(3, 5), header_row=hr, first_row=first,
                               last_row=last, y_title=_t("dong", lang), height_cm=max(8.0, 0.6 * len(revision.changes) + 3))
    sheet.add([])
    sheet.add([_t("by_cell", lang)], title=True)
    h2 = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "task", "source", "original", "disbursed", "revised", "change")], bold=True)
    f2 = h2 + 1
    n = 0
    if revision.revised is not None:
        for u, ti, s in np.argwhere((revision.original != 0) | (revision.revised != 0)):
            r = f2 + n
            sheet.add([revision.units[u], revision.tasks[ti], revision.sources[s], int(revision.original[u, ti, s]),
                       int(revision.disbursed[u, ti, s]), int(revision.revised[u, ti, s]), Formula(f"=F{r}-D{r}")])
            n += 1
    for col in (4, 5, 6, 7):
        sheet.fmt(col, f2, f2 + max(n, 1) - 1, AMOUNT_FORMAT)
    sheet.add([])
    sheet.add([_t("explanation", lang)], title=True)
    for line in revision.allocation.explanation(lang):
        sheet.add([line])
    spec.column_widths = {0: 10, 1: 26, 2: 17, 3: 17, 4: 17, 5: 16, 6: 70}
    spec.wrap_cols = {6}
    spec.freeze = f"C{first}"
    return print_ready(spec, lang, plan_code=plan.program.code)


# ---------------------------------------------------------------------------------------------
# Carry-over


def carry_over_sheets(plan: Plan, result: Any, before: Any, *, lang: str | Lang = Lang.VI) -> list[SheetSpec]:
    """Chuyển nguồn (the closed year per unit and per source, with the identity as a formula) and,
    when there is a next year, Năm sau (its split: new money, carried in, total, against the
    allocation that was in force for it before)."""
    lang = as_lang(lang)
    c = result.closing
    names = {u.code: u.name for u in plan.units}
    sources = {s.code: s.name for s in plan.sources}
    sheet = _Sheet("closing", lang, _t("closing_title", lang, year=c.year), _t("closing_subtitle", lang))
    sheet.add([])
    sheet.add([_t("closing_rules", lang)], title=True)
    for s, rule, declared in zip(c.sources, c.rules, c.declared):
        sheet.add([s, sources.get(s, ""), _t(f"rule.{rule.value}", lang) + ("" if declared else " " + _t("rule.default", lang))])
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "allocated", "disbursed", "carried", "recalled", "check")], bold=True)
    first = hr + 1
    a, d, cr, rc = c.by("allocated", "unit"), c.by("disbursed", "unit"), c.by("carried", "unit"), c.by("recalled", "unit")
    for i, u in enumerate(c.units):
        r = first + i
        sheet.add([u, names.get(u, ""), int(a[i]), int(d[i]), int(cr[i]), int(rc[i]), Formula(f"=C{r}-D{r}-E{r}-F{r}")])
    last = first + len(c.units) - 1
    t = sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({col}{first}:{col}{last})") for col in "CDEFG")], bold=True)
    for col in range(3, 8):
        sheet.fmt(col, first, t, AMOUNT_FORMAT)
    sheet.spec.tables.append(TableSpec("CN_DiaBan", range_ref(hr, 1, last, 7)))
    sheet.add([])
    sheet.add([_t("by_source", lang)], title=True)
    h2 = sheet.add([_t(f"col.{k}", lang) for k in ("code", "name", "allocated", "disbursed", "carried", "recalled", "check")], bold=True)
    f2 = h2 + 1
    a2, d2, c2, r2 = c.by("allocated", "source"), c.by("disbursed", "source"), c.by("carried", "source"), c.by("recalled", "source")
    for i, s in enumerate(c.sources):
        r = f2 + i
        sheet.add([s, sources.get(s, ""), int(a2[i]), int(d2[i]), int(c2[i]), int(r2[i]), Formula(f"=C{r}-D{r}-E{r}-F{r}")])
    l2 = f2 + len(c.sources) - 1
    t2 = sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({col}{f2}:{col}{l2})") for col in "CDEFG")], bold=True)
    for col in range(3, 8):
        sheet.fmt(col, f2, t2, AMOUNT_FORMAT)
    if result.next_year is None:
        sheet.add([])
        sheet.add([_t("closing_last_year", lang, year=c.year)])
    sheet.spec.column_widths = {0: 10, 1: 30, 2: 17, 3: 17, 4: 17, 5: 17, 6: 12}
    out = [sheet.spec]
    if result.next_year is not None and result.state is not None:
        out.append(_next_year(plan, result, before, lang))
    return [print_ready(s, lang, plan_code=plan.program.code) for s in out]


def _next_year(plan: Plan, result: Any, before: Any, lang: Lang) -> SheetSpec:
    names = {u.code: u.name for u in plan.units}
    state = result.state
    year = result.next_year
    y = state.year_index(year)
    sheet = _Sheet("next_year", lang, _t("next_title", lang, year=year, closed=result.closing.year),
                   _t(f"next_subtitle.{result.prior_kind.value}", lang, closed=result.closing.year))
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("unit", "name", "before", "new_money", "carried_in", "in_force", "change")], bold=True)
    first = hr + 1
    old = before.amounts[:, :, y, :].sum(axis=(1, 2))
    carried = state.carried_in[:, :, y, :].sum(axis=(1, 2))
    total = state.amounts[:, :, y, :].sum(axis=(1, 2))
    for i, u in enumerate(state.units):
        r = first + i
        sheet.add([u, names.get(u, ""), int(old[i]), int(total[i] - carried[i]), int(carried[i]), Formula(f"=D{r}+E{r}"), Formula(f"=F{r}-C{r}")])
    last = first + len(state.units) - 1
    t = sheet.add([_t("col.total", lang), None, *(Formula(f"=SUM({col}{first}:{col}{last})") for col in "CDEFG")], bold=True)
    for col in range(3, 8):
        sheet.fmt(col, first, t, AMOUNT_FORMAT)
    spec = sheet.spec
    spec.tables.append(TableSpec("NS_DiaBan", range_ref(hr, 1, last, 7)))
    if len(state.units) <= 120:
        spec.chart = ChartSpec(_t("next_chart", lang, year=year), anchor="I3", category_col=2, value_cols=(3, 6), header_row=hr, first_row=first,
                               last_row=last, y_title=_t("dong", lang), height_cm=max(8.0, 0.6 * len(state.units) + 3))
    if result.allocation is not None:
        sheet.add([])
        sheet.add([_t("explanation", lang)], title=True)
        for line in result.allocation.explanation(lang):
            sheet.add([line])
    spec.column_widths = {0: 10, 1: 30, 2: 17, 3: 17, 4: 17, 5: 17, 6: 16}
    spec.freeze = f"C{first}"
    return spec


# ---------------------------------------------------------------------------------------------
# Chaining


def chain_sheet(rows: Sequence[Any], *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """Liên cấp: per link, unit, task, year and source, what the level above allocated and what the
    unit's own plan allocated below it; the difference is a formula (always 0)."""
    lang = as_lang(lang)
    sheet = _Sheet("chain", lang, _t("chain_title", lang), _t("chain_subtitle", lang))
    sheet.add([])
    hr = sheet.add([_t(f"col.{k}", lang) for k in ("level", "unit", "name", "task", "year", "source", "from_above", "allocated_below", "difference")],
                   bold=True)
    first = hr + 1
    for i, row in enumerate(rows):
        r = first + i
        sheet.add([row.level, row.unit, row.name, row.task, row.year, row.source, row.from_above, row.allocated_below, Formula(f"=G{r}-H{r}")])
    last = max(first + len(rows) - 1, first)
    if not rows:
        sheet.add([])
    t = sheet.add([_t("col.total", lang), None, None, None, None, None, *(Formula(f"=SUM({col}{first}:{col}{last})") for col in "GHI")], bold=True)
    for col in (7, 8, 9):
        sheet.fmt(col, first, t, AMOUNT_FORMAT)
    sheet.spec.tables.append(TableSpec("LC_DoiChieu", range_ref(hr, 1, last, 9)))
    sheet.spec.column_widths = {0: 14, 1: 10, 2: 26, 3: 10, 4: 8, 5: 12, 6: 18, 7: 18, 8: 14}
    sheet.spec.freeze = f"A{first}"
    return print_ready(sheet.spec, lang)

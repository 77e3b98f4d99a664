"""The budget–outcome curve for every front end: outcome and target attainment over budget levels,
and the cheapest budget that meets every target, as data, sheets and JSON.

``run_curve(book_or_plan, levels=…)`` reads and checks the plan, traces the curves with warm starts
(:func:`budgetlib.allocator.curve.budget_outcome_curve`) and the cheapest budget
(:func:`budgetlib.allocator.cheapest_budget`), and returns a :class:`CurveOutcome` whose ``sheets``
are the ``Đường ngân sách`` sheet (table and chart). Plans without targets or response curves have
nothing to trace: exit code 3 with a message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.problems import PlanInvalid, Problem
from ..io.grid import (
    AMOUNT_FORMAT,
    DECIMAL_FORMAT,
    PERCENT_FORMAT,
    CellValue,
    ChartSpec,
    GridBook,
    SheetSpec,
    column_letter,
)
from ..io.workbook.results import print_ready
from ..model.plan import Plan
from ..planning.scenarios import parse_budget_grid, problem
from .run import EXIT_INVALID, EXIT_OK, run_validate

__all__ = ["DEFAULT_LEVELS", "CurveOutcome", "run_curve", "curve_levels"]

DEFAULT_LEVELS = "50%:150%:5%"
EXIT_USAGE = 3


def curve_levels(text: str) -> list[Fraction]:
    """Budget levels (factors) from ``50%:150%:5%`` (from:to:step, levels not changes), ``±20%/5%``,
    or a list ``60%,80%,100%``; the plan's own level (100%) is always included."""
    s = text.strip().replace(" ", "")
    if s.count(":") == 2 and not s.startswith(("+", "-", "−")):
        a, b, step = (Fraction(p.rstrip("%").replace(",", ".")) / (100 if p.endswith("%") else 1) for p in s.split(":"))
        if step <= 0 or b < a or a < 0 or (b - a) / step > 400:
            raise ValueError(text)
        out, v = [], a
        while v <= b:
            out.append(v)
            v += step
        levels = out
    else:
        levels = parse_budget_grid(text)
    return sorted(set(levels) | {Fraction(1)})


@dataclass
class CurveOutcome:
    plan: Plan | None
    families: list[Any]
    cheapest: Any
    problems: list[Problem]
    exit_code: int
    source: str | None = None
    sheets: list[SheetSpec] = field(default_factory=list)
    lang: Lang = Lang.VI

    def first_level_meeting_targets(self) -> float | None:
        """The lowest level at which every target can be reached (each on its own curve)."""
        targets = [f for f in self.families if f.key != "outcome" and f.required is not None]
        if not targets:
            return None
        for i, p in enumerate(targets[0].points):
            if all(t.points[i].value is not None and t.points[i].value >= t.required - 1e-9 * max(1.0, t.required) for t in targets):
                return p.factor
        return None

    def to_dict(self) -> dict[str, Any]:
        if self.plan is None:
            return {"problems": [p.to_dict() for p in self.problems], "exit_code": self.exit_code}
        return {
            "plan": self.plan.program.code,
            "source": self.source,
            "plan_budget": self.plan.budget_total,
            "curves": [
                {"key": f.key, "name": f.name, "required": f.required,
                 "points": [{"factor": p.factor, "budget": p.budget, "value": p.value} for p in f.points]}
                for f in self.families
            ],
            "first_level_meeting_targets": self.first_level_meeting_targets(),
            "cheapest_budget": None if self.cheapest is None else {
                "status": str(self.cheapest.status), "total": self.cheapest.total, "plan_total": self.cheapest.plan_total,
                "by_task": self.cheapest.by_task,
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _sheet(outcome: CurveOutcome, lang: Lang) -> SheetSpec:
    plan = outcome.plan
    assert plan is not None
    scope = tr("curve.scope_source", lang, source=outcome.source) if outcome.source else tr("curve.scope_all", lang)
    spec = SheetSpec(tr("curve.sheet", lang), [[tr("curve.title", lang, scope=scope)], [tr("curve.subtitle", lang)]], title_rows={1}, tab_color="C00000")
    header: list[CellValue] = [tr("curve.col.level", lang), tr("curve.col.budget", lang)]
    for f in outcome.families:
        if f.key == "outcome":
            header.append(tr("curve.col.outcome", lang))
        else:
            header += [tr("curve.col.target", lang, target=f.key), tr("curve.col.attainment", lang, target=f.key)]
    spec.rows.append(header)
    hr = len(spec.rows)
    spec.bold_rows.add(hr)
    points = outcome.families[0].points
    for i, p in enumerate(points):
        row: list[CellValue] = [p.factor, p.budget]
        for f in outcome.families:
            v = f.points[i].value
            if f.key == "outcome":
                row.append(v)
            else:
                row += [v, None if v is None or not f.required else min(v / f.required, 10.0)]
        spec.rows.append(row)
    first, last = hr + 1, hr + len(points)
    for r in range(first, last + 1):
        spec.cell_formats[f"A{r}"] = PERCENT_FORMAT
        spec.cell_formats[f"B{r}"] = AMOUNT_FORMAT
        col = 3
        for f in outcome.families:
            spec.cell_formats[f"{column_letter(col)}{r}"] = DECIMAL_FORMAT
            if f.key != "outcome":
                spec.cell_formats[f"{column_letter(col + 1)}{r}"] = PERCENT_FORMAT
                col += 2
            else:
                col += 1
    spec.rows.append([])
    level = outcome.first_level_meeting_targets()
    if level is not None:
        spec.rows.append([tr("curve.first_level", lang), level])
        spec.cell_formats[f"B{len(spec.rows)}"] = PERCENT_FORMAT
    if outcome.cheapest is not None and outcome.cheapest.ok:
        spec.rows.append([tr("curve.cheapest", lang), outcome.cheapest.total])
        spec.cell_formats[f"B{len(spec.rows)}"] = AMOUNT_FORMAT
    spec.rows.append([tr("curve.note", lang)])
    # bars of attainment (or outcome) per level: one series per target
    cols = []
    col = 3
    for f in outcome.families:
        if f.key == "outcome":
            cols.append(col)
            col += 1
        else:
            cols.append(col + 1)
            col += 2
    # below the table and its notes, so that table and curve print on one page width
    spec.chart = ChartSpec(tr("curve.chart", lang), anchor=f"A{len(spec.rows) + 2}", category_col=1, value_cols=tuple(cols[:6]), header_row=hr,
                           first_row=first, last_row=last, y_title=tr("curve.chart_axis", lang), horizontal=False, width_cm=24, height_cm=12,
                           kind="line")
    spec.column_widths = {0: 30, 1: 20, **{c: 16 for c in range(2, col)}}
    spec.freeze = f"B{first}"
    return print_ready(spec, lang, plan_code=plan.program.code)


def run_curve(
    book: GridBook | Plan,
    *,
    levels: str | Sequence[Fraction | float] = DEFAULT_LEVELS,
    source: str | None = None,
    lang: str | Lang = Lang.VI,
    source_name: str = "",
    input_sha256: str | None = None,
) -> CurveOutcome:
    """Read, check and trace the plan's budget–outcome curve (see the module docstring)."""
    lang = as_lang(lang)
    checked = run_validate(book, lang=lang, source_name=source_name, input_sha256=input_sha256)
    plan = checked.plan
    if checked.exit_code != EXIT_OK or plan is None:
        return CurveOutcome(plan if checked.exit_code == EXIT_OK else None, [], None, checked.problems, checked.exit_code or EXIT_INVALID, source, checked.sheets, lang)
    factors = curve_levels(levels) if isinstance(levels, str) else sorted(set(Fraction(str(f)) for f in levels) | {Fraction(1)})
    if source is not None and source not in {s.code for s in plan.sources}:
        return CurveOutcome(None, [], None, [problem("scenario.unknown_source", "source", source=source, value=source)], EXIT_USAGE, source, [], lang)
    from ..allocator import cheapest_budget
    from ..allocator.curve import budget_outcome_curve

    try:
        families = budget_outcome_curve(plan, [float(f) for f in factors], source=source)
    except PlanInvalid as exc:
        return CurveOutcome(None, [], None, list(exc.problems), EXIT_INVALID, source, [], lang)
    if not families:
        return CurveOutcome(None, [], None, [problem("curve.nothing", "allocation")], EXIT_USAGE, source, [], lang)
    cheapest = cheapest_budget(plan) if any(f.key != "outcome" for f in families) else None
    outcome = CurveOutcome(plan, families, cheapest, checked.problems, EXIT_OK, source, [], lang)
    outcome.sheets = [_sheet(outcome, lang)]
    return outcome

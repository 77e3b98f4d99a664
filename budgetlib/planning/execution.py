"""Execution against plan: disbursed vs allocated, year closing with carry-over, indicator progress.

Everything here is arithmetic on integer đồng over the allocation in force
(:class:`~budgetlib.model.cycle.CycleState`) and the reports (:class:`~budgetlib.model.actuals.Actuals`);
nothing solves an LP (revisions and next-year splits are in :mod:`budgetlib.cycle`).

* :func:`check_actuals` — every problem of a set of reports against the plan, at once, each located
  (unknown unit, task, source or target; a period outside the program; duplicates; a half-year above
  its year; a forecast below what is already disbursed); :func:`check_disbursed` — disbursed above the
  allocation in force, cell by cell.
* :func:`disbursed` — đồng disbursed per unit × task × year × source as of a period.
* :func:`close_year` — the year's undisbursed money per cell, carried over to the unit or recalled to
  the pool as each source declares (:class:`~budgetlib.model.plan.CarryOver`); the identity
  allocated = disbursed + carried + recalled holds in every cell, to the đồng.
* :func:`progress` — execution rates and variance per unit, task and source, flags for low
  execution and missing reports, indicator progress against the yearly targets, and the reports the
  plan's :class:`~budgetlib.model.plan.ReportingRule` list makes due for the period.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..core.i18n import Msg, jsonable, tr
from ..core.lang import Lang
from ..core.problems import Problem, Severity, Source, json_path
from ..core.text import fold
from ..model.actuals import Actuals, Disbursement, Period
from ..model.cycle import CycleState
from ..model.plan import Cadence, CarryOver, Level, Plan, ReportingRule, Target

__all__ = [
    "DEFAULT_CARRY_OVER",
    "Locate",
    "Disbursed",
    "disbursed",
    "check_actuals",
    "check_disbursed",
    "Closing",
    "close_year",
    "carry_rules",
    "ProgressSettings",
    "Flag",
    "IndicatorProgress",
    "DueReport",
    "Progress",
    "progress",
    "expected_value",
    "reports_due",
    "allocation_level",
]

DEFAULT_CARRY_OVER = CarryOver.POOL
"""What a source that declares nothing does at year end: its undisbursed money returns to the pool
(the general rule for unspent estimates; carrying over to the unit is the exception a plan declares)."""

Locate = Callable[[str], Source]
"""Maps a JSON path of the actuals document (``disbursements[3].amount``) to where it was read."""


def _default_locate(path: str) -> Source:
    return Source(path=path)


def allocation_level(plan: Plan) -> Level:
    return Level.COMMUNE if plan.allocation is not None and plan.allocation.level == "commune" else Level.DISTRICT


# ---------------------------------------------------------------------------------------------
# Disbursed amounts


@dataclass(frozen=True)
class Disbursed:
    """Đồng disbursed per cell as of a period: ``amounts[u, t, y, s]`` over the state's axes, and
    the first-half forecasts (``forecast``, ``has_forecast``). ``reported[u, y]`` is True when the unit
    sent any disbursement record for year ``y`` (for the missing-report flags)."""

    as_of: Period
    amounts: np.ndarray
    forecast: np.ndarray
    has_forecast: np.ndarray
    reported: np.ndarray


def _axes(state: CycleState) -> tuple[dict[str, int], dict[str, int], dict[int, int], dict[str, int]]:
    return (
        {u: i for i, u in enumerate(state.units)},
        {t: i for i, t in enumerate(state.tasks)},
        {y: i for i, y in enumerate(state.years)},
        {s: i for i, s in enumerate(state.sources)},
    )


def _cells(actuals: Actuals, as_of: Period) -> dict[tuple[str, str, str, int], dict[int | None, list[tuple[int, Disbursement]]]]:
    """Records up to ``as_of`` grouped by cell, then by half (``None`` = whole year), with their index."""
    cells: dict[tuple[str, str, str, int], dict[int | None, list[tuple[int, Disbursement]]]] = {}
    for i, d in enumerate(actuals.disbursements):
        if d.period.end <= as_of.end:
            cells.setdefault(d.key, {}).setdefault(d.period.half, []).append((i, d))
    return cells


def _year_amount(by_half: Mapping[int | None, list[tuple[int, Disbursement]]]) -> int:
    """A year's disbursement: its whole-year figure if reported, else the sum of its halves."""
    if by_half.get(None):
        return sum(d.amount for _, d in by_half[None])
    return sum(d.amount for half in (1, 2) for _, d in by_half.get(half, []))


def disbursed(state: CycleState, actuals: Actuals, as_of: Period) -> Disbursed:
    """Disbursed đồng per unit × task × year × source, counting reports up to ``as_of``.

    Records for units, tasks, years or sources outside the state are ignored here (they are
    problems for :func:`check_actuals`).
    """
    ui, ti, yi, si = _axes(state)
    shape = state.amounts.shape
    amounts = np.zeros(shape, np.int64)
    forecast = np.zeros(shape, np.int64)
    has_forecast = np.zeros(shape, bool)
    reported = np.zeros((len(state.units), len(state.years)), bool)
    for (unit, task, source, year), by_half in _cells(actuals, as_of).items():
        if unit not in ui or task not in ti or source not in si or year not in yi:
            continue
        idx = (ui[unit], ti[task], yi[year], si[source])
        amounts[idx] = _year_amount(by_half)
        reported[ui[unit], yi[year]] = True
        for _, d in by_half.get(1, []):
            if d.forecast is not None:
                forecast[idx] += d.forecast
                has_forecast[idx] = True
    return Disbursed(as_of, amounts, forecast, has_forecast, reported)


# ---------------------------------------------------------------------------------------------
# Checks


def _prob(code: str, where: Source, severity: Severity = Severity.ERROR, **params: Any) -> Problem:
    return Problem(code, where, params, severity)


def check_actuals(plan: Plan, actuals: Actuals, *, as_of: Period | None = None, locate: Locate | None = None) -> list[Problem]:
    """Every problem of ``actuals`` against ``plan`` that does not depend on the allocation: unknown
    units (or units of another level), tasks, sources and targets, a source a task may not use,
    periods outside the program, duplicates, half-years that exceed their year, forecasts below
    what is disbursed. Records after ``as_of`` are checked too (a later report is still wrong)."""
    at = locate or _default_locate
    out: list[Problem] = []
    level = allocation_level(plan)
    units = {u.code: u for u in plan.units}
    tasks = {t.code for t in plan.tasks}
    sources = {s.code: s for s in plan.sources}
    targets = {t.code: t for t in plan.targets}
    first, last = plan.program.first_year, plan.program.last_year
    if actuals.plan != plan.program.code:
        out.append(_prob("cycle.actuals.plan_mismatch", at("plan"), value=actuals.plan, plan=plan.program.code))

    def check_unit(code: str, path: str, *, optional: bool = False) -> bool:
        unit = units.get(code)
        if unit is None:
            out.append(_prob("cycle.actuals.unknown_unit", at(path), value=code))
            return False
        if unit.level is not level and not optional:
            out.append(_prob("cycle.actuals.wrong_level", at(path), value=code, name=unit.name, level=unit.level.value, allocated=level.value))
            return False
        return True

    def check_period(p: Period, path: str) -> bool:
        if not first <= p.year <= last:
            out.append(_prob("cycle.actuals.period_outside", at(path), value=str(p), period=p.label(), first=first, last=last))
            return False
        return True

    seen: dict[tuple[str, str, str, str], int] = {}
    valid: list[bool] = []
    for i, d in enumerate(actuals.disbursements):
        base = json_path("disbursements", i)
        ok = check_unit(d.unit, f"{base}.unit")
        if d.task not in tasks:
            out.append(_prob("cycle.actuals.unknown_task", at(f"{base}.task"), value=d.task))
            ok = False
        source = sources.get(d.source)
        if source is None:
            out.append(_prob("cycle.actuals.unknown_source", at(f"{base}.source"), value=d.source))
            ok = False
        elif source.tasks is not None and d.task in tasks and d.task not in source.tasks:
            out.append(_prob("cycle.actuals.source_restriction", at(f"{base}.source"), value=d.source, task=d.task))
            ok = False
        ok = check_period(d.period, f"{base}.period") and ok
        key = (d.unit, d.task, d.source, str(d.period))
        if key in seen:
            out.append(_prob("cycle.actuals.duplicate", at(base), value=str(d.period), first=str(at(json_path("disbursements", seen[key])))))
            ok = False
        else:
            seen[key] = i
        if d.forecast is not None and d.period.half != 1:
            out.append(_prob("cycle.actuals.forecast_not_h1", at(f"{base}.forecast"), Severity.WARNING, period=d.period.label()))
        elif d.forecast is not None and d.forecast < d.amount:
            out.append(_prob("cycle.actuals.forecast_below", at(f"{base}.forecast"), forecast=d.forecast, disbursed=d.amount))
        valid.append(ok)
    # Half-years against their year, for cells whose records are all valid.
    by_cell: dict[tuple[str, str, str, int], dict[int | None, list[int]]] = {}
    for i, d in enumerate(actuals.disbursements):
        if valid[i]:
            by_cell.setdefault(d.key, {}).setdefault(d.period.half, []).append(i)
    for (_, _, _, year), halves in by_cell.items():
        if None not in halves:
            continue
        whole = actuals.disbursements[halves[None][0]]
        h1 = sum(actuals.disbursements[j].amount for j in halves.get(1, []))
        h2 = sum(actuals.disbursements[j].amount for j in halves.get(2, []))
        where = at(f"{json_path('disbursements', halves[None][0])}.amount")
        if 2 in halves and h1 + h2 != whole.amount:
            out.append(_prob("cycle.actuals.halves_mismatch", where, year=year, h1=h1, h2=h2, whole=whole.amount))
        elif h1 > whole.amount:
            out.append(_prob("cycle.actuals.half_above_year", where, year=year, h1=h1, whole=whole.amount))
    # Indicator results.
    seen_r: dict[tuple[str, str, str, str], int] = {}
    for i, r in enumerate(actuals.results):
        base = json_path("results", i)
        target = targets.get(r.target)
        if target is None:
            out.append(_prob("cycle.actuals.unknown_target", at(f"{base}.target"), value=r.target))
        if r.unit is not None:
            check_unit(r.unit, f"{base}.unit", optional=True)
        check_period(r.period, f"{base}.period")
        rkey = ("", r.target, r.unit or "", str(r.period))
        if rkey in seen_r:
            out.append(_prob("cycle.actuals.duplicate", at(base), value=str(r.period), first=str(at(json_path("results", seen_r[rkey])))))
        else:
            seen_r[rkey] = i
        if target is not None and r.unit is None and target.denominator is not None and r.value > target.denominator:
            out.append(
                _prob("cycle.actuals.result_above_denominator", at(f"{base}.value"), Severity.WARNING, target=r.target, value=r.value,
                      denominator=target.denominator)
            )
    return out


def _last_record(by_half: Mapping[int | None, list[tuple[int, Disbursement]]]) -> int:
    """The record that completes a cell's year figure (the whole-year one, else the latest half)."""
    for half in (None, 2, 1):
        if by_half.get(half):
            return by_half[half][-1][0]
    raise AssertionError("empty cell")


def check_disbursed(
    state: CycleState, actuals: Actuals, *, as_of: Period, years: Sequence[int] | None = None, locate: Locate | None = None,
    unit_names: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Disbursed above the allocation in force, per unit × task × year × source (one problem per
    cell, at the record that completes the year's figure). ``years`` limits the check."""
    at = locate or _default_locate
    names = unit_names or {}
    ui, ti, yi, si = _axes(state)
    out: list[Problem] = []
    wanted = set(years) if years is not None else None
    for (unit, task, source, year), by_half in sorted(_cells(actuals, as_of).items(), key=lambda kv: _last_record(kv[1])):
        if unit not in ui or task not in ti or source not in si or year not in yi or (wanted is not None and year not in wanted):
            continue
        allocated = int(state.amounts[ui[unit], ti[task], yi[year], si[source]])
        amount = _year_amount(by_half)
        if amount > allocated:
            i = _last_record(by_half)
            out.append(
                _prob("cycle.actuals.over_disbursed", at(f"{json_path('disbursements', i)}.amount"), unit=unit, name=names.get(unit, unit),
                      task=task, source=source, year=year, disbursed=amount, allocated=allocated, excess=amount - allocated)
            )
    return out


# ---------------------------------------------------------------------------------------------
# Closing a year


def carry_rules(plan: Plan, sources: Sequence[str]) -> tuple[tuple[CarryOver, ...], tuple[bool, ...]]:
    """Each source's carry-over rule (``DEFAULT_CARRY_OVER`` when undeclared) and whether it was declared."""
    by_code = {s.code: s for s in plan.sources}
    rules = []
    declared = []
    for code in sources:
        rule = by_code[code].carry_over if code in by_code else None
        rules.append(rule if rule is not None else DEFAULT_CARRY_OVER)
        declared.append(rule is not None)
    return tuple(rules), tuple(declared)


@dataclass(frozen=True, eq=False)
class Closing:
    """A closed year, per unit × task × source (``[U, T, S]``, integer đồng):
    ``allocated`` in force = ``disbursed`` + ``carried`` (stays with the unit) + ``recalled`` (back to the pool)."""

    year: int
    units: tuple[str, ...]
    tasks: tuple[str, ...]
    sources: tuple[str, ...]
    allocated: np.ndarray
    disbursed: np.ndarray
    carried: np.ndarray
    recalled: np.ndarray
    rules: tuple[CarryOver, ...]
    declared: tuple[bool, ...]

    def __post_init__(self) -> None:
        for arr in (self.allocated, self.disbursed, self.carried, self.recalled):
            arr.setflags(write=False)

    def residual(self) -> np.ndarray:
        """allocated − disbursed − carried − recalled per cell: zeros everywhere (the conservation identity)."""
        return self.allocated - self.disbursed - self.carried - self.recalled

    @property
    def undisbursed(self) -> np.ndarray:
        return self.allocated - self.disbursed

    def by(self, what: str, *dims: str) -> np.ndarray:
        """Totals of ``allocated``/``disbursed``/``carried``/``recalled`` over the other dimensions."""
        arr: np.ndarray = getattr(self, what)
        names = ("unit", "task", "source")
        out = arr.sum(axis=tuple(i for i, n in enumerate(names) if n not in dims))
        kept = [n for n in names if n in dims]
        return np.transpose(out, [kept.index(d) for d in dims]) if dims else out

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for u, t, s in np.argwhere((self.allocated != 0) | (self.disbursed != 0)):
            rows.append(
                {"unit": self.units[u], "task": self.tasks[t], "source": self.sources[s], "allocated": int(self.allocated[u, t, s]),
                 "disbursed": int(self.disbursed[u, t, s]), "carried": int(self.carried[u, t, s]), "recalled": int(self.recalled[u, t, s])}
            )
        return {
            "year": self.year,
            "rules": {s: str(r) for s, r in zip(self.sources, self.rules)},
            "declared": {s: d for s, d in zip(self.sources, self.declared)},
            "totals": {k: int(getattr(self, k).sum()) for k in ("allocated", "disbursed", "carried", "recalled")},
            "cells": rows,
        }


def close_year(plan: Plan, state: CycleState, spent: Disbursed, year: int) -> Closing:
    """Close ``year``: per cell, undisbursed = allocated − disbursed goes to ``carried`` if the source
    keeps money with the unit (:attr:`CarryOver.UNIT`), else to ``recalled`` (:attr:`CarryOver.POOL`).

    Disbursed above the allocation (an error :func:`check_disbursed` reports) is counted as the
    allocation so the identity still holds; callers stop on that error before using the numbers.
    """
    y = state.year_index(year)
    allocated = state.amounts[:, :, y, :].copy()
    paid = np.minimum(spent.amounts[:, :, y, :], allocated)
    rest = allocated - paid
    rules, declared = carry_rules(plan, state.sources)
    keep = np.array([r is CarryOver.UNIT for r in rules], bool)[None, None, :]
    carried = np.where(keep, rest, 0).astype(np.int64)
    recalled = (rest - carried).astype(np.int64)
    return Closing(year, state.units, state.tasks, state.sources, allocated, paid, carried, recalled, rules, declared)


# ---------------------------------------------------------------------------------------------
# Progress


@dataclass(frozen=True)
class ProgressSettings:
    """When to flag. ``low_h1``/``low_year``: an execution rate below this at mid-year / year end is
    low (defaults 35 % and 80 %: the planner's choice, shown on the report). ``tolerance``: how far
    (as a fraction of the target's total change) an indicator may lag its expected value."""

    low_h1: float = 0.35
    low_year: float = 0.80
    tolerance: float = 0.0

    def low(self, period: Period) -> float:
        return self.low_h1 if period.half == 1 else self.low_year


@dataclass(frozen=True)
class Flag:
    """A finding of the progress report (low execution, a missing report, an indicator off track)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    unit: str | None = None
    task: str | None = None
    target: str | None = None

    def message(self, lang: str | Lang = Lang.VI) -> str:
        return tr(self.code, lang, **self.params)

    @property
    def msg(self) -> Msg:
        return Msg(self.code, **self.params)

    def to_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "params": {k: jsonable(v) for k, v in self.params.items()}, "message": {lang.value: self.message(lang) for lang in Lang}}
        out.update({k: v for k, v in (("unit", self.unit), ("task", self.task), ("target", self.target)) if v is not None})
        return out


@dataclass(frozen=True)
class IndicatorProgress:
    """One target at the end of a period: the expected level on the straight line from the baseline to
    the yearly values, the reported level (program total of the units' results, or the program's own
    figure), and whether it is on track."""

    target: Target
    period: Period
    baseline: float
    baseline_year: int
    expected: float | None
    final: float | None
    final_year: int | None
    actual: float | None
    by_unit: Mapping[str, float]
    units_reported: int
    units_expected: int
    status: str  # "on_track" | "off_track" | "no_result" | "no_target"

    @property
    def progress(self) -> float | None:
        """Share of the total planned change achieved (``(actual − baseline)/(final − baseline)``)."""
        if self.actual is None or self.final is None or self.final == self.baseline:
            return None
        return (self.actual - self.baseline) / (self.final - self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.code, "period": str(self.period), "baseline": self.baseline, "baseline_year": self.baseline_year,
            "expected": self.expected, "final": self.final, "final_year": self.final_year, "actual": self.actual,
            "by_unit": dict(sorted(self.by_unit.items())), "units_reported": self.units_reported, "units_expected": self.units_expected,
            "status": self.status, "progress": self.progress,
        }


@dataclass(frozen=True)
class DueReport:
    """A report a :class:`ReportingRule` makes due for the period: who reports to whom, by when."""

    rule: ReportingRule
    index: int  # position in plan.reporting
    period: Period
    due: date | None  # parsed from the rule's ``due`` text; None when the plan names no date

    def to_dict(self) -> dict[str, Any]:
        return {
            "cadence": str(self.rule.cadence), "reporter": self.rule.reporter, "recipient": self.rule.recipient,
            "description": self.rule.description, "due_text": self.rule.due, "due": self.due.isoformat() if self.due else None,
            "period": str(self.period), "rule": self.index,
        }


@dataclass(frozen=True, eq=False)
class Progress:
    """Budget against actual as of ``period`` (arrays ``[U, T, S]`` in integer đồng): the allocation in
    force for the period's year and what was disbursed of it so far, and the same cumulated over every
    program year up to the period's year."""

    plan_code: str
    period: Period
    units: tuple[str, ...]
    tasks: tuple[str, ...]
    sources: tuple[str, ...]
    years: tuple[int, ...]  # program years up to the period's year
    allocated: np.ndarray
    disbursed: np.ndarray
    allocated_to_date: np.ndarray
    disbursed_to_date: np.ndarray
    flags: tuple[Flag, ...]
    indicators: tuple[IndicatorProgress, ...]
    reports: tuple[DueReport, ...]
    settings: ProgressSettings
    illustrative: bool = False

    def by(self, what: str, *dims: str) -> np.ndarray:
        arr: np.ndarray = getattr(self, what)
        names = ("unit", "task", "source")
        out = arr.sum(axis=tuple(i for i, n in enumerate(names) if n not in dims))
        kept = [n for n in names if n in dims]
        return np.transpose(out, [kept.index(d) for d in dims]) if dims else out

    def rate(self, *dims: str, to_date: bool = False) -> np.ndarray:
        """Execution rate (disbursed / allocated) by ``dims``; NaN where nothing was allocated."""
        a = self.by("allocated_to_date" if to_date else "allocated", *dims).astype(float)
        d = self.by("disbursed_to_date" if to_date else "disbursed", *dims).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, d / np.where(a > 0, a, 1.0), np.nan)

    @property
    def total_allocated(self) -> int:
        return int(self.allocated.sum())

    @property
    def total_disbursed(self) -> int:
        return int(self.disbursed.sum())

    def to_dict(self) -> dict[str, Any]:
        def rate(x: float) -> float | None:
            return None if math.isnan(x) else round(float(x), 6)

        units = []
        alloc_u, disb_u, rate_u = self.by("allocated", "unit"), self.by("disbursed", "unit"), self.rate("unit")
        for i, u in enumerate(self.units):
            units.append({"unit": u, "allocated": int(alloc_u[i]), "disbursed": int(disb_u[i]), "rate": rate(rate_u[i])})
        cells = []
        for u, t, s in np.argwhere((self.allocated != 0) | (self.disbursed != 0)):
            cells.append({"unit": self.units[u], "task": self.tasks[t], "source": self.sources[s],
                          "allocated": int(self.allocated[u, t, s]), "disbursed": int(self.disbursed[u, t, s])})
        return {
            "plan": self.plan_code,
            "period": str(self.period),
            "illustrative": self.illustrative,
            "totals": {
                "allocated": self.total_allocated, "disbursed": self.total_disbursed,
                "allocated_to_date": int(self.allocated_to_date.sum()), "disbursed_to_date": int(self.disbursed_to_date.sum()),
            },
            "thresholds": {"low": self.settings.low(self.period), "tolerance": self.settings.tolerance},
            "units": units,
            "cells": cells,
            "flags": [f.to_dict() for f in self.flags],
            "indicators": [i.to_dict() for i in self.indicators],
            "reports": [r.to_dict() for r in self.reports],
        }


def expected_value(target: Target, when: float, *, first_year: int) -> tuple[float | None, float, int]:
    """The target's expected level at time ``when`` (in years; the end of year ``y`` is ``y + 1``),
    on the straight line through the baseline and the yearly values. Without a baseline the target
    starts from 0 at the start of the program. Returns (expected, baseline, baseline_year)."""
    base_year = target.baseline_year if target.baseline_year is not None else first_year - 1
    base = float(target.baseline) if target.baseline is not None else 0.0
    points = sorted({(base_year + 1.0, base), *((float(y) + 1.0, float(v)) for y, v in target.values.items())})
    if not target.values:
        return None, base, base_year
    if when <= points[0][0]:
        return points[0][1], base, base_year
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= when <= t1:
            return (v0 + (v1 - v0) * (when - t0) / (t1 - t0) if t1 > t0 else v1), base, base_year
    return points[-1][1], base, base_year


def _indicators(plan: Plan, actuals: Actuals, period: Period, settings: ProgressSettings) -> tuple[list[IndicatorProgress], list[Flag]]:
    level = allocation_level(plan)
    n_units = len(plan.units_at(level))
    out: list[IndicatorProgress] = []
    flags: list[Flag] = []
    for target in plan.targets:
        results = [r for r in actuals.results if r.target == target.code and r.period == period]
        by_unit = {r.unit: r.value for r in results if r.unit is not None}
        program = [r.value for r in results if r.unit is None]
        actual: float | None = program[0] if program else (float(sum(by_unit.values())) if by_unit else None)
        expected, base, base_year = expected_value(target, period.end, first_year=plan.program.first_year)
        final_year = max(target.values) if target.values else None
        final = float(target.values[final_year]) if final_year is not None else None
        if expected is None:
            status = "no_target"
        elif actual is None:
            status = "no_result"
            flags.append(Flag("cycle.flag.no_result", {"target": target.code, "name": target.name, "period": period.label()}, target=target.code))
        else:
            span = abs((final if final is not None else expected) - base) or 1.0
            lag = (expected - actual) if not target.lower_is_better else (actual - expected)
            status = "off_track" if lag > settings.tolerance * span + 1e-9 else "on_track"
            if status == "off_track":
                flags.append(
                    Flag("cycle.flag.off_track", {"target": target.code, "name": target.name, "actual": actual, "expected": expected,
                                                  "period": period.label()}, target=target.code)
                )
        out.append(IndicatorProgress(target, period, base, base_year, expected, final, final_year, actual, by_unit, len(by_unit),
                                     n_units, status))
    return out, flags


_DATE = re.compile(r"(?:ngay\s*)?(\d{1,2})\s*(?:/|-|\.|\s+thang\s+)\s*(\d{1,2})(?:\s*(?:/|-|\.|\s+nam\s+)\s*(\d{4}))?")


def _due_dates(text: str) -> list[tuple[int, int, int | None]]:
    out = []
    for m in _DATE.finditer(fold(text)):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            out.append((day, month, int(m.group(3)) if m.group(3) else None))
    return out


def _due(rule: ReportingRule, period: Period) -> date | None:
    """The date a rule's ``due`` text gives for ``period`` (``20/6; 20/12`` → 20 June for H1,
    20 December at year end; a date before the period's last month falls in the next year)."""
    dates = _due_dates(rule.due)
    if not dates:
        return None
    pick = dates[0]
    if rule.cadence is Cadence.SEMIANNUAL and period.is_year_end:
        pick = dates[1] if len(dates) > 1 else (dates[0][0], min(12, dates[0][1] + 6), dates[0][2])
    day, month, year = pick
    end_month = 6 if period.half == 1 else 12
    if year is None:
        year = period.year + (1 if month < end_month - 1 else 0)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def reports_due(plan: Plan, period: Period) -> list[DueReport]:
    """The reports due for ``period``: 6-monthly reports at mid-year — and at year end too when the
    same reporter has no yearly report (then the second 6-monthly report is the year's) —, monthly
    and quarterly reports at every half-year, yearly reports at year end, the final review (tổng kết)
    at the end of the program's last year. Ad hoc reports have no schedule and are not listed."""
    out = []
    yearly = {fold(r.reporter) for r in plan.reporting if r.cadence is Cadence.ANNUAL}
    for i, rule in enumerate(plan.reporting):
        c = rule.cadence
        due = (
            (c is Cadence.SEMIANNUAL and (period.half == 1 or fold(rule.reporter) not in yearly))
            or c in (Cadence.QUARTERLY, Cadence.MONTHLY)
            or (c is Cadence.ANNUAL and period.is_year_end)
            or (c is Cadence.FINAL and period.is_year_end and period.year == plan.program.last_year)
        )
        if due:
            out.append(DueReport(rule, i, period, _due(rule, period)))
    return out


def progress(
    plan: Plan, state: CycleState, actuals: Actuals, period: Period, *, settings: ProgressSettings | None = None
) -> Progress:
    """Budget against actual as of ``period`` (see :class:`Progress`); flags for units and tasks whose
    execution rate is below :class:`ProgressSettings` for the period, for units that sent no
    disbursement report, and for indicators off track or without results."""
    settings = settings or ProgressSettings()
    spent = disbursed(state, actuals, period)
    y = state.year_index(period.year)
    years = tuple(yr for yr in state.years if yr <= period.year)
    upto = [state.year_index(yr) for yr in years]
    allocated = state.amounts[:, :, y, :].copy()
    paid = spent.amounts[:, :, y, :].copy()
    alloc_td = state.amounts[:, :, upto, :].sum(axis=2)
    paid_td = spent.amounts[:, :, upto, :].sum(axis=2)
    names = {u.code: u.name for u in plan.units}
    task_names = {t.code: t.name for t in plan.tasks}
    low = settings.low(period)
    flags: list[Flag] = []
    a_u, d_u = allocated.sum(axis=(1, 2)), paid.sum(axis=(1, 2))
    for i, u in enumerate(state.units):
        if a_u[i] <= 0:
            continue
        if not spent.reported[i, y]:
            flags.append(Flag("cycle.flag.no_report", {"unit": u, "name": names.get(u, u), "period": period.label()}, unit=u))
        elif d_u[i] < low * a_u[i]:
            flags.append(
                Flag("cycle.flag.low_unit", {"unit": u, "name": names.get(u, u), "rate": float(d_u[i] / a_u[i]), "low": low,
                                             "undisbursed": int(a_u[i] - d_u[i])}, unit=u)
            )
    a_t, d_t = allocated.sum(axis=(0, 2)), paid.sum(axis=(0, 2))
    for j, t in enumerate(state.tasks):
        if a_t[j] > 0 and d_t[j] < low * a_t[j]:
            flags.append(
                Flag("cycle.flag.low_task", {"task": t, "name": task_names.get(t, t), "rate": float(d_t[j] / a_t[j]), "low": low}, task=t)
            )
    indicators, target_flags = _indicators(plan, actuals, period, settings)
    return Progress(
        plan.program.code, period, state.units, state.tasks, state.sources, years, allocated, paid, alloc_td, paid_td,
        tuple(flags + target_flags), tuple(indicators), tuple(reports_due(plan, period)), settings, actuals.illustrative,
    )

"""Scenario comparison: the plan (the base) and its scenarios allocated side by side.

The one function front ends call is :func:`run_scenarios` — the CLI's ``budgetlib scenarios``, the
Excel ribbon's and LibreOffice Calc's "So sánh phương án" — with a workbook (a
:class:`~budgetlib.io.grid.GridBook`) or a :class:`~budgetlib.model.plan.Plan`; it returns the
comparison sheets to draw (``outcome.sheets``), the comparison as data (``outcome.to_dict()``) and
every problem, located. Nothing here raises for problems with the user's data.

Batches split the same work into picklable pieces: :func:`run_scenario` allocates one scenario and
returns a small :class:`ScenarioResult` (totals per unit, task, year and source, target
attainment, status), and :func:`compare` builds the comparison from the results of one plan.

>>> from budgetlib.io.grid import DictBook
>>> run_scenarios(DictBook({}), lang="en").exit_code
1
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.problems import PlanInvalid, Problem, Severity
from ..io.grid import GridBook, SheetSpec
from ..model.plan import Plan
from ..model.scenario import DropConstraint, DropSource, ScaleBudget, Scenario, SetConstraint, SetPolicy, SetTarget
from ..planning.scenarios import apply_scenario, problem, select_scenarios
from .run import EXIT_INVALID, EXIT_OK, Progress, RunOutcome, run_allocate, run_validate

__all__ = [
    "TargetRow",
    "ScenarioResult",
    "ScenarioComparison",
    "ScenariosOutcome",
    "run_scenario",
    "compare",
    "run_scenarios",
    "describe_change",
]

EXIT_USAGE = 3


@dataclass(frozen=True)
class TargetRow:
    """A target's attainment under one scenario (``funded`` items have money; ``met`` when ≥ required)."""

    target: str
    name: str
    year: int | None
    required: float | None  # None: the target has no requirement the allocation can fund
    funded: float | None  # None: not costed (no unit cost); ``met`` then says whether its task has money
    met: bool


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's outcome, small enough to send between processes: totals, attainment, status.

    ``name`` is ``None`` for the base plan. Amounts are integer đồng; ``by_unit[i]`` belongs to
    ``units[i]`` (and so on for tasks, years, sources).
    """

    name: str | None
    description: str
    changes: tuple[str, ...]
    exit_code: int
    status: str  # "optimal" | "infeasible" | "invalid"
    budget: int
    total: int
    policy: str
    units: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    by_unit: tuple[int, ...] = ()
    by_task: tuple[int, ...] = ()
    by_year: tuple[int, ...] = ()
    by_source: tuple[int, ...] = ()
    attainment: tuple[TargetRow, ...] = ()
    objective: float | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def amounts(self, dim: str) -> dict[Any, int]:
        keys = {"unit": self.units, "task": self.tasks, "year": self.years, "source": self.sources}[dim]
        values = {"unit": self.by_unit, "task": self.by_task, "year": self.by_year, "source": self.by_source}[dim]
        return dict(zip(keys, values))

    def label(self, lang: str | Lang) -> str:
        return self.name if self.name is not None else tr("scenario.base", lang)


def describe_change(change: Any, lang: str | Lang) -> str:
    """One change in plain words (``Nguồn NS_TINH × 90%``, ``Bỏ nguồn NS_TINH``, …)."""
    if isinstance(change, ScaleBudget):
        scope = tr("scenario.change.scope_source", lang, source=change.source) if change.source else tr("scenario.change.scope_all", lang)
        if change.tasks:
            scope += tr("scenario.change.scope_tasks", lang, tasks=list(change.tasks))
        if change.years:
            scope += tr("scenario.change.scope_years", lang, years=", ".join(str(y) for y in change.years))
        if change.total is not None:
            return tr("scenario.change.set_total", lang, scope=scope, total=change.total)
        return tr("scenario.change.scale", lang, scope=scope, factor=change.factor)
    if isinstance(change, DropSource):
        return tr("scenario.change.drop_source", lang, source=change.source)
    if isinstance(change, SetPolicy):
        parts = []
        if change.kind is not None:
            parts.append(tr("scenario.change.kind", lang, kind=tr(f"scenario.policy.{change.kind.value}", lang)))
        if change.deviation is not None:
            parts.append(tr(f"scenario.change.deviation_{change.deviation.value}", lang))
        if change.rounding_unit is not None:
            parts.append(tr("scenario.change.rounding", lang, unit=change.rounding_unit))
        return "; ".join(parts)
    if isinstance(change, SetConstraint):
        return tr("scenario.change.set_constraint", lang, name=change.constraint, value=change.value)
    if isinstance(change, DropConstraint):
        return tr("scenario.change.drop_constraint", lang, name=change.constraint)
    if isinstance(change, SetTarget):
        if change.year is None:
            return tr("scenario.change.set_target", lang, target=change.target, value=change.value)
        return tr("scenario.change.set_target_year", lang, target=change.target, year=change.year, value=change.value)
    raise TypeError(type(change).__name__)


def _summary(name: str | None, scenario: Scenario | None, outcome: RunOutcome, plan: Plan | None, lang: Lang) -> ScenarioResult:
    changes = tuple(describe_change(c, lang) for c in scenario.changes) if scenario else ()
    description = scenario.description if scenario else ""
    budget = plan.budget_total if plan is not None else 0
    a = outcome.allocation
    if a is None:
        return ScenarioResult(name, description, changes, outcome.exit_code, "invalid", budget, 0, "", problems=tuple(outcome.problems))
    status = "optimal" if a.ok else "infeasible"
    opt = lambda v: None if v is None else float(v)  # noqa: E731
    rows = tuple(TargetRow(t.target, t.name, t.year, opt(t.required), opt(t.funded), bool(t.met)) for t in a.attainment)
    if not a.ok:
        return ScenarioResult(name, description, changes, outcome.exit_code, status, budget, 0, a.policy, a.units, a.tasks, a.years, a.sources,
                              attainment=rows, problems=tuple(outcome.problems))
    as_ints = lambda arr: tuple(int(v) for v in arr)  # noqa: E731
    return ScenarioResult(
        name, description, changes, outcome.exit_code, status, budget, a.total, a.policy, a.units, a.tasks, a.years, a.sources,
        as_ints(a.by("unit")), as_ints(a.by("task")), as_ints(a.by("year")), as_ints(a.by("source")), rows, a.objective, tuple(outcome.problems),
    )


def _log_scenario(outcome: RunOutcome, scenario: Scenario, lang: Lang) -> None:
    """Name the scenario and its changes in the run log (the ``Nhật ký`` sheet is redrawn)."""
    from ..io.workbook.results import log_sheet, result_sheet_name

    rows = [(tr("scenario.log.scenario", lang), scenario.name)]
    rows += [(tr("scenario.log.change", lang, n=k + 1), describe_change(c, lang)) for k, c in enumerate(scenario.changes)]
    outcome.log[2:2] = rows  # after time, version and Python: before the file and the outcome
    name = result_sheet_name("log", str(lang))
    outcome.sheets[:] = [log_sheet(outcome.log, lang=str(lang)) if s.name == name else s for s in outcome.sheets]


def run_scenario(
    plan: Plan,
    scenario: Scenario | int | None,
    *,
    policy: Any = None,
    years: Sequence[int] | None = None,
    lang: str | Lang = Lang.VI,
    progress: Progress | None = None,
    source_name: str = "",
    input_sha256: str | None = None,
    run_time: datetime | None = None,
) -> tuple[ScenarioResult, RunOutcome]:
    """Allocate ``plan`` under one scenario (``None``: the base; an int: ``plan.scenarios[i]``).

    Returns the summary and the full run outcome (its ``sheets`` are the scenario's result sheets).
    A scenario whose changes cannot be applied gives exit code 1 with located problems.
    """
    lang = as_lang(lang)
    index = scenario if isinstance(scenario, int) else (plan.scenarios.index(scenario) if scenario in plan.scenarios else None)
    sc = plan.scenarios[scenario] if isinstance(scenario, int) else scenario
    target = plan
    if sc is not None:
        try:
            target = apply_scenario(plan, sc, index=index)
        except PlanInvalid as exc:
            outcome = RunOutcome(plan, None, list(exc.problems), EXIT_INVALID, [], [], lang)
            return _summary(sc.name, sc, outcome, None, lang), outcome
    outcome = run_allocate(
        target, policy=policy, years=years, lang=lang, progress=progress, source_name=source_name, input_sha256=input_sha256, run_time=run_time
    )
    if sc is not None and outcome.sheets:
        _log_scenario(outcome, sc, lang)
    return _summary(sc.name if sc else None, sc, outcome, target, lang), outcome


@dataclass
class ScenarioComparison:
    """The base and each scenario, per unit / task / year / source, with differences from the base."""

    plan_code: str
    results: list[ScenarioResult]
    names: dict[str, dict[str, str]]  # dim → code → name
    lang: Lang = Lang.VI

    @property
    def base(self) -> ScenarioResult:
        return self.results[0]

    @property
    def scenarios(self) -> list[ScenarioResult]:
        return self.results[1:]

    def keys(self, dim: str) -> list[Any]:
        """Codes of ``dim`` in the base's order, then any a scenario adds."""
        out: list[Any] = []
        for r in self.results:
            for k in {"unit": r.units, "task": r.tasks, "year": r.years, "source": r.sources}[dim]:
                if k not in out:
                    out.append(k)
        return out

    def table(self, dim: str) -> list[tuple[Any, str, list[int | None]]]:
        """Rows ``(code, name, [amount per result])``; ``None`` for a result without an allocation."""
        per = [r.amounts(dim) if r.ok else None for r in self.results]
        names = self.names.get(dim, {})
        return [(k, names.get(str(k), ""), [None if p is None else p.get(k, 0) for p in per]) for k in self.keys(dim)]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=EXIT_OK)

    def to_dict(self) -> dict[str, Any]:
        """The comparison for machines (deterministic: no timestamps; messages in both languages)."""
        def res(r: ScenarioResult) -> dict[str, Any]:
            return {
                "name": r.name,
                "description": r.description,
                "changes": list(r.changes),
                "status": r.status,
                "exit_code": int(r.exit_code),
                "budget": r.budget,
                "total": r.total,
                "policy": r.policy,
                "objective": r.objective,
                "attainment": [t.__dict__ for t in r.attainment],
                "problems": [p.to_dict() for p in r.problems],
            }

        base = self.base
        dims: dict[str, Any] = {}
        for dim in ("unit", "task", "year", "source"):
            rows = []
            for code, name, values in self.table(dim):
                b = values[0]
                rows.append({
                    "code": code,
                    "name": name,
                    "base": b,
                    "scenarios": [
                        {"value": v, "difference": None if v is None or b is None else v - b} for v in values[1:]
                    ],
                })
            dims[dim] = rows
        return {
            "plan": self.plan_code,
            "base": res(base),
            "scenarios": [res(r) for r in self.scenarios],
            "by": dims,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def compare(plan: Plan, results: Sequence[ScenarioResult], *, lang: str | Lang = Lang.VI) -> ScenarioComparison:
    """The comparison of ``results`` (the base first) with the names of ``plan``'s units, tasks, sources."""
    names = {
        "unit": {u.code: u.name for u in plan.units},
        "task": {t.code: t.name for t in plan.tasks},
        "source": {s.code: s.name for s in plan.sources},
        "year": {},
    }
    return ScenarioComparison(plan.program.code, list(results), names, as_lang(lang))


@dataclass
class ScenariosOutcome:
    """What :func:`run_scenarios` produced: the comparison, the sheets to draw, problems, exit code."""

    plan: Plan | None
    comparison: ScenarioComparison | None
    problems: list[Problem]
    exit_code: int
    sheets: list[SheetSpec] = field(default_factory=list)
    lang: Lang = Lang.VI

    def to_dict(self) -> dict[str, Any]:
        if self.comparison is None:
            return {"problems": [p.to_dict() for p in self.problems], "exit_code": int(self.exit_code)}
        return self.comparison.to_dict()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def run_scenarios(
    book: GridBook | Plan,
    *,
    names: Sequence[str] | None = None,
    extra: Sequence[Scenario] = (),
    policy: Any = None,
    years: Sequence[int] | None = None,
    lang: str | Lang = Lang.VI,
    progress: Progress | None = None,
    source_name: str = "",
    input_sha256: str | None = None,
    fallback_policies: Sequence[str] = (),
) -> ScenariosOutcome:
    """Read the plan, allocate the base and its scenarios, and compare them.

    ``names`` picks scenarios of the plan (all when ``None``; ignoring case and diacritics);
    ``extra`` adds scenarios made on the fly (e.g. a budget grid); ``fallback_policies`` (e.g.
    ``("proportional", "max_min")``) are compared when the plan has no scenarios and none are
    given — what the ribbon's "So sánh phương án" did before scenarios. Exit code: 1 when the plan or a
    scenario has errors, 2 when one is infeasible (the others are still compared), 3 when there is
    no scenario to compare.
    """
    lang = as_lang(lang)
    checked = run_validate(book, lang=lang, source_name=source_name, input_sha256=input_sha256)
    plan = checked.plan
    if checked.exit_code != EXIT_OK or plan is None:
        return ScenariosOutcome(plan, None, checked.problems, checked.exit_code or EXIT_INVALID, checked.sheets, lang)
    try:
        chosen: list[Scenario | int] = [i for i, _ in select_scenarios(plan, names if names else (None if not extra else []))]
    except PlanInvalid as exc:
        return ScenariosOutcome(plan, None, list(exc.problems), EXIT_USAGE, [], lang)
    chosen += list(extra)
    if not chosen and not names and fallback_policies:
        from ..planning.scenarios import policy_scenarios

        chosen = list(policy_scenarios(fallback_policies, lang=lang))
    if not chosen:
        return ScenariosOutcome(plan, None, [problem("scenario.none", "scenarios")], EXIT_USAGE, [], lang)
    steps = len(chosen) + 1
    tick = progress or (lambda *a: None)
    results: list[ScenarioResult] = []
    for k, sc in enumerate([None, *chosen]):
        label = tr("scenario.base", lang) if sc is None else (plan.scenarios[sc].name if isinstance(sc, int) else sc.name)
        tick(k, steps, label)
        result, _ = run_scenario(plan, sc, policy=policy, years=years, lang=lang, source_name=source_name, input_sha256=input_sha256)
        results.append(result)
    tick(steps, steps, "")
    comparison = compare(plan, results, lang=lang)
    from ..io.workbook.scenario_sheets import comparison_sheets

    problems = list(checked.problems) + [p for r in results for p in r.problems if p.severity is Severity.ERROR or r.exit_code]
    return ScenariosOutcome(plan, comparison, problems, comparison.exit_code, comparison_sheets(comparison, lang=lang), lang)


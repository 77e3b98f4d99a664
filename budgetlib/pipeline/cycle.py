"""The budget cycle through the front door: progress, revision, carry-over (and chaining, in
:mod:`.chain`), for the CLI, the add-ins and batch runs alike.

Each ``run_*`` reads the plan (a :class:`~budgetlib.io.grid.GridBook` or a
:class:`~budgetlib.model.plan.Plan`), the actuals (files, a book with Thực hiện sheets, or
:class:`~budgetlib.model.actuals.Actuals`; by default the plan's own book), and the allocation in
force (a :class:`~budgetlib.model.cycle.CycleState`; by default the plan's allocation with every
year before the period closed and re-split, see :func:`budgetlib.cycle.in_force`). Nothing raises for
problems with the user's data: every problem of the plan, of the actuals and of the disbursed
amounts against the allocation comes back at once in ``outcome.problems``, located, with the exit
code (0 ok, 1 errors in the plan or the actuals, 2 an infeasible re-split, 3 usage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.problems import Problem, Severity, Source
from ..io.actuals import ActualsRead, read_actuals
from ..io.grid import GridBook, SheetSpec
from ..model.actuals import Actuals, Period
from ..model.cycle import CycleState
from ..model.plan import Plan
from ..model.result import Allocation
from ..planning.execution import Progress, ProgressSettings, check_actuals, progress
from .run import ExitCode, run_validate

__all__ = [
    "CycleOutcome",
    "ActualsInput",
    "run_progress",
    "run_revise",
    "run_carry_over",
    "run_chain",
    "plan_files",
    "diagnosis_problems",
]

ActualsInput = Actuals | ActualsRead | GridBook | str | Path | Sequence[str | Path] | None
"""Where the actuals come from: a document, files (``.json``, ``.csv``, ``.xlsx``), a book with
Thực hiện sheets, or ``None`` for the plan's own book."""


@dataclass
class CycleOutcome:
    """What a cycle run produced: the plan, the actuals, the allocation in force after the run
    (``state``), every problem, the exit code, the sheets to draw and the run log; and the result
    of the step (``progress``, ``revision`` or ``carry``)."""

    plan: Plan | None
    actuals: Actuals | None
    state: CycleState | None
    problems: list[Problem]
    exit_code: ExitCode
    sheets: list[SheetSpec] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    lang: Lang = Lang.VI
    progress: Progress | None = None
    revision: Any = None
    carry: Any = None
    before: CycleState | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable result: exit code, problems, and the step's figures."""
        out: dict[str, Any] = {"exit_code": int(self.exit_code), "problems": [p.to_dict() for p in self.problems]}
        if self.actuals is not None:
            out["actuals_sha256"] = self.actuals.content_hash()
        if self.progress is not None:
            out["progress"] = self.progress.to_dict()
        if self.revision is not None:
            out["revision"] = self.revision.to_dict(self.lang)
        if self.carry is not None and hasattr(self.carry, "closing"):
            out["closing"] = self.carry.closing.to_dict()
            out["next_year"] = self.carry.next_year
        elif self.carry is not None:
            out["chain"] = [
                {"level": r.level, "unit": r.unit, "task": r.task, "year": r.year, "source": r.source, "from_above": r.from_above,
                 "allocated_below": r.allocated_below}
                for r in self.carry.rows
            ]
        return out


def diagnosis_problems(allocation: Allocation, *, year: int | None = None) -> list[Problem]:
    """An infeasible re-split as problems: the year that cannot be re-split, the diagnosis, then
    each conflicting constraint (located by its JSON path in the plan)."""
    d = allocation.diagnosis
    where = Source(path="allocation")
    out = [Problem("cycle.run.infeasible", where, {"year": year or 0})]
    if d is not None:
        out.append(Problem("cycle.run.diagnosis", where, {"detail": d.msg}))
        out.extend(Problem("cycle.run.conflict", Source(path=c.location or c.name), {"detail": c.msg}) for c in d.conflicts)
    return out


@dataclass
class _Context:
    plan: Plan
    actuals: Actuals
    locate: Any
    problems: list[Problem]
    log: list[tuple[str, str]]
    lang: Lang


def _read_actuals(book: GridBook | Plan, actuals: ActualsInput, plan: Plan) -> ActualsRead:
    if isinstance(actuals, Actuals):
        return ActualsRead(actuals, [])
    if isinstance(actuals, ActualsRead):
        return actuals
    code = plan.program.code
    if actuals is None:
        if isinstance(book, Plan):
            return ActualsRead(None, [Problem("cycle.run.no_actuals", Source())])
        from ..io.workbook.actuals import read_actuals_grids

        return read_actuals_grids(book, plan=code, file=getattr(book, "source", None) or None)
    if isinstance(actuals, (str, Path)):
        return read_actuals(actuals, plan=code)
    if isinstance(actuals, Sequence):
        return read_actuals(list(actuals), plan=code)
    from ..io.workbook.actuals import read_actuals_grids

    return read_actuals_grids(actuals, plan=code)


def _prepare(
    book: GridBook | Plan, actuals: ActualsInput, period: Period, lang: Lang, source_name: str, input_sha256: str | None
) -> _Context | CycleOutcome:
    checked = run_validate(book, lang=lang, source_name=source_name, input_sha256=input_sha256)
    outcome_label = tr("log.outcome", lang)
    log = [row for row in checked.log if row[0] != outcome_label]
    if checked.exit_code != ExitCode.OK or checked.plan is None:
        return CycleOutcome(checked.plan, None, None, list(checked.problems), ExitCode(checked.exit_code), checked.sheets, checked.log, lang)
    plan = checked.plan
    problems = list(checked.problems)
    read = _read_actuals(book, actuals, plan)
    problems.extend(read.problems)
    if read.actuals is not None:
        problems.extend(check_actuals(plan, read.actuals, as_of=period, locate=read.locate))
    if not plan.program.first_year <= period.year <= plan.program.last_year:
        problems.append(Problem("cycle.run.period_outside", Source(), {"period": period.label(), "first": plan.program.first_year,
                                                                      "last": plan.program.last_year}))
        return _failed(plan, read.actuals, problems, log, lang, ExitCode.USAGE)
    if read.actuals is None or any(p.severity is Severity.ERROR for p in problems):
        return _failed(plan, read.actuals, problems, log, lang, ExitCode.INVALID)
    log.append((tr("cycle.log.period", lang), period.label().render(lang)))
    log.append((tr("cycle.log.actuals", lang), read.actuals.content_hash()))
    return _Context(plan, read.actuals, read.locate, problems, log, lang)


def _failed(plan: Plan | None, actuals: Actuals | None, problems: list[Problem], log: list[tuple[str, str]], lang: Lang, code: ExitCode,
            *, extra: Sequence[SheetSpec] = ()) -> CycleOutcome:
    from ..io.workbook.results import error_sheets, log_sheet

    errors = [p for p in problems if p.severity is Severity.ERROR]
    log = [*log, (tr("log.outcome", lang), tr("log.outcome_errors", lang, count=len(errors)))]
    sheets = [*extra, *error_sheets(problems, lang=lang), log_sheet(log, lang=lang)]
    return CycleOutcome(plan, actuals, None, problems, code, sheets, log, lang)


def _state(ctx: _Context, period: Period, state: CycleState | None, prior: str) -> CycleState | CycleOutcome:
    from ..cycle import in_force

    replay = in_force(ctx.plan, ctx.actuals, period, start=state, prior=prior, locate=ctx.locate)
    ctx.problems.extend(replay.problems)
    if replay.infeasible is not None:
        ctx.problems.extend(diagnosis_problems(replay.infeasible))
        return _failed(ctx.plan, ctx.actuals, ctx.problems, ctx.log, ctx.lang, ExitCode.INFEASIBLE)
    if any(p.code == "cycle.replay.infeasible" for p in replay.problems):
        bad = next(s for s in replay.steps if s.state is None)
        assert bad.allocation is not None
        ctx.problems.extend(diagnosis_problems(bad.allocation, year=bad.next_year))
        return _failed(ctx.plan, ctx.actuals, ctx.problems, ctx.log, ctx.lang, ExitCode.INFEASIBLE)
    if not replay.ok:
        return _failed(ctx.plan, ctx.actuals, ctx.problems, ctx.log, ctx.lang, ExitCode.INVALID)
    ctx.log.append((tr("cycle.log.replayed", ctx.lang), ", ".join(str(s.closing.year) for s in replay.steps) or "—"))
    return replay.state


def _finish(ctx: _Context, sheets: list[SheetSpec], code: ExitCode, outcome_code: str) -> tuple[list[SheetSpec], list[tuple[str, str]]]:
    from ..io.workbook.results import error_sheets, log_sheet

    log = [*ctx.log, (tr("log.outcome", ctx.lang), tr(outcome_code, ctx.lang))]
    if ctx.problems:
        sheets = [*sheets, *error_sheets(ctx.problems, lang=ctx.lang)]
    return [*sheets, log_sheet(log, lang=ctx.lang)], log


def run_progress(
    book: GridBook | Plan,
    period: Period | str,
    *,
    actuals: ActualsInput = None,
    state: CycleState | None = None,
    settings: ProgressSettings | None = None,
    prior: str = "spending",
    lang: str | Lang = Lang.VI,
    source_name: str = "",
    input_sha256: str | None = None,
) -> CycleOutcome:
    """Budget against actual as of ``period``: the Tiến độ sheets and the printable 6-monthly or
    yearly report the plan's reporting rules call for."""
    from ..io.workbook.cycle_sheets import progress_sheets

    lang = as_lang(lang)
    period = Period.parse(period)
    ctx = _prepare(book, actuals, period, lang, source_name, input_sha256)
    if isinstance(ctx, CycleOutcome):
        return ctx
    st = _state(ctx, period, state, prior)
    if isinstance(st, CycleOutcome):
        return st
    result = progress(ctx.plan, st, ctx.actuals, period, settings=settings)
    sheets, log = _finish(ctx, progress_sheets(ctx.plan, result, lang=lang), ExitCode.OK, "cycle.log.outcome_progress")
    return CycleOutcome(ctx.plan, ctx.actuals, st, ctx.problems, ExitCode.OK, sheets, log, lang, progress=result)


def run_revise(
    book: GridBook | Plan,
    period: Period | str,
    *,
    actuals: ActualsInput = None,
    state: CycleState | None = None,
    prior: str = "spending",
    lang: str | Lang = Lang.VI,
    source_name: str = "",
    input_sha256: str | None = None,
) -> CycleOutcome:
    """Mid-year revision of ``period.year`` as of ``period`` (a first half): the Điều chỉnh sheet and
    the new allocation in force (``outcome.state``)."""
    from ..cycle import revise
    from ..io.workbook.cycle_sheets import revision_sheet

    lang = as_lang(lang)
    period = Period.parse(period)
    if period.half != 1:
        problem = Problem("cycle.run.revision_period", Source(), {"period": period.label()})
        return CycleOutcome(None, None, None, [problem], ExitCode.USAGE, [], [], lang)
    ctx = _prepare(book, actuals, period, lang, source_name, input_sha256)
    if isinstance(ctx, CycleOutcome):
        return ctx
    st = _state(ctx, period, state, prior)
    if isinstance(st, CycleOutcome):
        return st
    rev = revise(ctx.plan, st, ctx.actuals, period, lang=lang)
    if not rev.ok:
        ctx.problems.extend(diagnosis_problems(rev.allocation, year=period.year))
        return _failed(ctx.plan, ctx.actuals, ctx.problems, ctx.log, lang, ExitCode.INFEASIBLE, extra=[revision_sheet(ctx.plan, rev, lang=lang)])
    sheets, log = _finish(ctx, [revision_sheet(ctx.plan, rev, lang=lang)], ExitCode.OK, "cycle.log.outcome_revised")
    return CycleOutcome(ctx.plan, ctx.actuals, rev.state, ctx.problems, ExitCode.OK, sheets, log, lang, revision=rev, before=st)


def run_carry_over(
    book: GridBook | Plan,
    year: int,
    *,
    actuals: ActualsInput = None,
    state: CycleState | None = None,
    prior: str = "spending",
    lang: str | Lang = Lang.VI,
    source_name: str = "",
    input_sha256: str | None = None,
) -> CycleOutcome:
    """Close ``year`` (carry-over per source) and re-split the next year: the Chuyển nguồn and Năm
    sau sheets and the new allocation in force (``outcome.state``)."""
    from ..cycle import carry_over, missing_reports
    from ..io.workbook.cycle_sheets import carry_over_sheets

    lang = as_lang(lang)
    period = Period(int(year))
    ctx = _prepare(book, actuals, period, lang, source_name, input_sha256)
    if isinstance(ctx, CycleOutcome):
        return ctx
    st = _state(ctx, period, state, prior)
    if isinstance(st, CycleOutcome):
        return st
    ctx.problems.extend(missing_reports(ctx.plan, st, ctx.actuals, period.year))
    result = carry_over(ctx.plan, st, ctx.actuals, period.year, prior=prior)
    if not result.ok:
        assert result.allocation is not None
        ctx.problems.extend(diagnosis_problems(result.allocation, year=result.next_year))
        return _failed(ctx.plan, ctx.actuals, ctx.problems, ctx.log, lang, ExitCode.INFEASIBLE)
    sheets, log = _finish(ctx, carry_over_sheets(ctx.plan, result, st, lang=lang), ExitCode.OK, "cycle.log.outcome_closed")
    return CycleOutcome(ctx.plan, ctx.actuals, result.state, ctx.problems, ExitCode.OK, sheets, log, lang, carry=result, before=st)


# ---------------------------------------------------------------------------------------------
# Chaining


PLAN_SUFFIXES_SKIPPED = ("_ket_qua", "_tien_do", "_dieu_chinh", "_chuyen_nguon", "_lien_cap", "_tu_cap_tren", "_phan_bo", ".bak")
"""Files a chain over a folder leaves out: budgetlib's own outputs."""


def plan_files(paths: Sequence[str | Path]) -> list[Path]:
    """The plan files named, or found (sorted, not in sub-folders) in folders: ``.json`` files with a
    ``program`` and workbooks, without budgetlib's own outputs and actuals files."""
    import json as _json

    from ..io.files import FileKind, file_kind

    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        found = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        for f in found:
            if f.name.startswith(("~$", ".")) or any(s in f.stem for s in PLAN_SUFFIXES_SKIPPED):
                continue
            kind = file_kind(f)
            if kind is FileKind.JSON and p.is_dir():
                try:
                    head = _json.loads(f.read_text(encoding="utf-8-sig"))
                except (OSError, ValueError):
                    head = None
                if not isinstance(head, dict) or "program" not in head:
                    continue
            elif kind not in (FileKind.JSON, FileKind.WORKBOOK):
                continue
            out.append(f)
    return out


def run_chain(sources: Sequence[str | Path | tuple[str, Plan]], *, lang: str | Lang = Lang.VI) -> CycleOutcome:
    """Read every plan (files, folders of plans, or (name, Plan) pairs), chain them top down
    (:func:`budgetlib.cycle.chain`), and return the Liên cấp sheet; ``outcome.carry`` holds the
    :class:`~budgetlib.cycle.Chain`. Exit 1 when a plan has errors, 2 when one is infeasible."""
    from ..cycle import chain
    from ..io import load_plan_file
    from ..io.workbook.cycle_sheets import chain_sheet
    from ..io.workbook.results import error_sheets, log_sheet

    lang = as_lang(lang)
    plans: list[tuple[str, Plan]] = []
    problems: list[Problem] = []
    files: list[str | Path] = []
    for s in sources:
        if isinstance(s, tuple):
            plans.append(s)
        else:
            files.append(s)
    from ..core.problems import PlanInvalid

    for f in plan_files(files):
        try:
            plans.append((f.name, load_plan_file(f)))
        except PlanInvalid as exc:
            problems.extend(p if p.source.file else p.relocated(p.source.with_file(f.name)) for p in exc.problems)
    log = [(tr("cycle.log.plans", lang), ", ".join(n for n, _ in plans))]
    if not plans:
        problems.append(Problem("cycle.run.no_plans", Source(), {}))
    if any(p.severity is Severity.ERROR for p in problems):
        return _failed(None, None, problems, log, lang, ExitCode.INVALID)
    result = chain(plans)
    problems.extend(result.problems)
    code = ExitCode.OK
    if result.infeasible:
        code = ExitCode.INFEASIBLE
    elif not result.ok:
        code = ExitCode.INVALID
    outcome_code = {ExitCode.OK: "cycle.log.outcome_chained", ExitCode.INVALID: "cycle.log.outcome_chain_errors",
                    ExitCode.INFEASIBLE: "cycle.log.outcome_chain_infeasible"}[code]
    log.append((tr("log.outcome", lang), tr(outcome_code, lang)))
    sheets = [chain_sheet(result.rows, lang=lang)]
    if problems:
        sheets += error_sheets(problems, lang=lang)
    sheets.append(log_sheet(log, lang=lang))
    return CycleOutcome(None, None, None, problems, code, sheets, log, lang, carry=result)

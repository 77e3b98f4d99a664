"""The one path from a planning workbook to result sheets, shared by the CLI and the Excel add-in.

A front end reads its workbook into a :class:`~budgetlib.io.grid.GridBook` (openpyxl file, xlwings
book, or an in-memory :class:`~budgetlib.io.grid.DictBook`), calls :func:`run_validate` or
:func:`run_allocate`, and draws ``outcome.sheets`` (a list of
:class:`~budgetlib.io.grid.SheetSpec`) with its own renderer. Nothing here imports a spreadsheet
library, and nothing here raises for problems with the user's data: they come back as
``outcome.problems`` (each located at a cell) together with an ``Lỗi`` sheet.

Exit codes follow the CLI: 0 ok, 1 validation errors, 2 infeasible allocation.

>>> from budgetlib.io.grid import DictBook
>>> outcome = run_validate(DictBook({}), lang="en")
>>> outcome.exit_code, outcome.sheets[0].name
(1, 'Errors')
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.problems import Problem, Severity, Source
from ..io.grid import GridBook, SheetSpec
from ..model.plan import Plan
from ..model.policy import AllocationPolicy, PolicyKind
from ..model.result import Allocation

__all__ = [
    "ExitCode",
    "PlanSource",
    "years_outside",
    "EXIT_OK",
    "EXIT_INVALID",
    "EXIT_INFEASIBLE",
    "RunOutcome",
    "run_validate",
    "run_allocate",
    "result_sheets",
    "error_sheets",
    "compare_policies",
    "policy_for",
    "sha256_file",
    "is_result_sheet",
]

class ExitCode(IntEnum):
    """How a run ended, the same for every front end and command (the CLI's process exit status).

    0 ok; 1 the plan (or a file) has errors; 2 the allocation is infeasible; 3 usage error or an
    output that cannot be written (locked, read-only, colliding with an input)."""

    OK = 0
    INVALID = 1
    INFEASIBLE = 2
    USAGE = 3


EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE = ExitCode.OK, ExitCode.INVALID, ExitCode.INFEASIBLE

Progress = Callable[..., Any]


class ProblemsOutcome:
    """What every front-end outcome answers from its ``exit_code`` and ``problems``."""

    exit_code: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


@dataclass
class RunOutcome(ProblemsOutcome):
    """What a run produced: the plan (if it could be read), the allocation (if one was run), every
    problem, the exit code (0 ok, 1 validation errors, 2 infeasible), the result sheets to write,
    and the run log as ``(label, value)`` pairs (also drawn on the ``Nhật ký`` sheet)."""

    plan: Plan | None
    allocation: Allocation | None
    problems: list[Problem]
    exit_code: ExitCode
    sheets: list[SheetSpec] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    lang: Lang = Lang.VI
    locate: Callable[[str], str | None] = field(default=lambda path: None, repr=False, compare=False)
    """Maps a JSON path of the plan (``allocation.constraints[2]``) to the cell it was read from."""

    def explanation(self) -> list[str]:
        """Plain-language explanation lines of the allocation (or the infeasibility diagnosis)."""
        if self.allocation is None:
            return []
        return list(_explain_lines(self.allocation, self.lang, self.locate))


def sha256_file(path: Any) -> str:
    """SHA-256 of a file's bytes (the input checksum in the run log)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_result_sheet(name: str) -> bool:
    """True for sheets budgetlib writes as results (safe to replace); input sheets are never touched."""
    from ..io.workbook.results import is_result_sheet as _is

    return _is(name)


PlanSource = GridBook | Plan | os.PathLike[str]
"""What every ``run_*`` reads: a workbook (a :class:`~budgetlib.io.grid.GridBook` — an openpyxl
file, an xlwings or Calc book), a :class:`~budgetlib.Plan`, or the path of a ``.json``/``.xlsx`` file."""


def _no_location(path: str) -> str | None:
    return None


def _read(book: PlanSource) -> tuple[Plan | None, list[Problem], Callable[[str], str | None]]:
    """The plan, every problem, and ``locate(json_path)`` → the cell it came from (workbooks only)."""
    from ..core.problems import PlanInvalid
    from ..planning.validation import validate_plan

    if isinstance(book, Plan):
        return book, validate_plan(book), _no_location
    if isinstance(book, os.PathLike):
        from ..io.files import FileKind, file_kind

        path = Path(book)
        try:
            if file_kind(path) is not FileKind.WORKBOOK:
                from ..io import load_plan_file

                plan = load_plan_file(path)
                return plan, validate_plan(plan), _no_location
            from ..io.workbook import open_book

            opened = open_book(path)
        except PlanInvalid as exc:
            return None, list(exc.problems), _no_location
        try:
            return _read(opened)
        finally:
            close = getattr(opened, "close", None)
            if close is not None:
                close()
    from ..io.workbook.reader import read_plan_grids_located

    return read_plan_grids_located(book)


class _Log:
    """The run log: entries keyed by a catalogue code (``log.<key>``), drawn on the Nhật ký sheet."""

    def __init__(self, lang: Lang):
        self.lang = lang
        self.entries: list[tuple[str, str]] = []

    def add(self, key: str, value: str) -> None:
        self.entries = [(k, v) for k, v in self.entries if k != key] + [(key, value)]

    def rows(self) -> list[tuple[str, str]]:
        return [(tr(f"log.{k}", self.lang), v) for k, v in self.entries]


def _base_log(lang: Lang, *, source_name: str, input_sha256: str | None, run_time: datetime | None = None) -> _Log:
    log = _Log(lang)
    when = run_time.astimezone(UTC) if run_time is not None else datetime.now(UTC)
    log.add("run_time", when.strftime("%Y-%m-%d %H:%M:%S"))
    log.add("version", __version__)
    log.add("python", platform.python_version())
    if source_name:
        log.add("input_file", source_name)
    if input_sha256:
        log.add("input_sha256", input_sha256)
    return log


def _validated(
    book: PlanSource, lang: Lang, source_name: str, input_sha256: str | None, run_time: datetime | None = None
) -> tuple[Plan | None, list[Problem], Callable[[str], str | None], _Log]:
    plan, problems, locate = _read(book)
    if source_name:
        problems = [p if p.source.file else p.relocated(p.source.with_file(source_name)) for p in problems]
    return plan, problems, locate, _base_log(lang, source_name=source_name, input_sha256=input_sha256, run_time=run_time)


def run_validate(
    book: PlanSource, *, lang: str | Lang = Lang.VI, source_name: str = "", input_sha256: str | None = None, run_time: datetime | None = None
) -> RunOutcome:
    """Read and check a plan; ``sheets`` holds the ``Lỗi`` and ``Nhật ký`` sheets when there are problems."""
    lang = as_lang(lang)
    return _checked_outcome(*_validated(book, lang, source_name, input_sha256, run_time))


def _checked_outcome(plan: Plan | None, problems: list[Problem], locate: Callable[[str], str | None], log: _Log) -> RunOutcome:
    """The outcome of reading and checking: the ``Lỗi`` sheet (if any problem) and ``Nhật ký``."""
    from ..io.workbook.results import error_sheets as _error_sheets
    from ..io.workbook.results import log_sheet

    lang = log.lang
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors or plan is None:
        log.add("outcome", tr("log.outcome_errors", lang, count=len(errors)))
        sheets = [*_error_sheets(problems, lang=lang), log_sheet(log.rows(), lang=lang)]
        return RunOutcome(plan, None, problems, ExitCode.INVALID, sheets, log.rows(), lang, locate)
    log.add("outcome", tr("log.outcome_valid", lang))
    sheets = (_error_sheets(problems, lang=lang) if problems else []) + [log_sheet(log.rows(), lang=lang)]
    return RunOutcome(plan, None, problems, ExitCode.OK, sheets, log.rows(), lang, locate)


def policy_for(plan: Plan, policy: str | PolicyKind | AllocationPolicy | None) -> AllocationPolicy:
    """The plan's policy with its kind replaced by ``policy`` (a name such as ``"max_min"``)."""
    if isinstance(policy, AllocationPolicy):
        return policy
    base = plan.allocation or AllocationPolicy()
    if policy is None:
        return base
    return base.model_copy(update={"kind": PolicyKind(str(policy))})


def _allocate(plan: Plan, policy: AllocationPolicy, years: Sequence[int] | None, progress: Progress | None) -> Allocation:
    from ..allocator import allocate

    return allocate(plan, policy, years=list(years) if years else None, progress=progress)


def _explain_lines(allocation: Allocation, lang: str | Lang, locate: Callable[[str], str | None] | None = None) -> list[str]:
    from ..allocator import explain_text

    text = explain_text(allocation, str(as_lang(lang)), locate=locate)
    return text.splitlines() if isinstance(text, str) else list(text)


def years_outside(plan: Plan, years: Sequence[int] | None) -> list[int]:
    """Requested years that are not in the program period (a usage error for every front end)."""
    return [y for y in (years or ()) if y not in plan.program.years]


def run_allocate(
    book: PlanSource,
    *,
    policy: str | PolicyKind | AllocationPolicy | None = None,
    years: Sequence[int] | None = None,
    lang: str | Lang = Lang.VI,
    progress: Progress | None = None,
    source_name: str = "",
    input_sha256: str | None = None,
    run_time: datetime | None = None,
    version_ref: str | None = None,
) -> RunOutcome:
    """Read, validate and allocate; return the result sheets (or the error sheets) to write.

    ``run_time`` is the time the run log shows (a batch gives all its runs the batch's time, so the
    same batch writes the same bytes; default: now). ``policy`` overrides the kind of the plan's
    allocation policy (its constraints are kept);
    ``years`` restricts the run to some years. Exit code 1 when the plan has errors (no allocation
    is attempted), 2 when the allocation is infeasible (the diagnosis is on the ``Giải thích``
    sheet and in ``problems``). ``version_ref`` names the stored version the plan came from
    (``CODE@3 · <hash>``, see :mod:`budgetlib.pipeline.store`); the run log cites it.
    """
    from ..io.workbook.results import error_sheets as _error_sheets

    lang = as_lang(lang)
    plan, problems, locate, log = _validated(book, lang, source_name, input_sha256, run_time)
    if plan is None or any(p.severity is Severity.ERROR for p in problems):
        return _checked_outcome(plan, problems, locate, log)
    if version_ref:
        log.add("store_version", version_ref)
    outside = years_outside(plan, years)
    if outside:
        problems.append(Problem("run.years_outside", Source(path="program"), {"years": outside, "first": plan.program.first_year, "last": plan.program.last_year}))
        log.add("outcome", tr("log.outcome_errors", lang, count=1))
        return RunOutcome(plan, None, problems, ExitCode.USAGE, _error_sheets(problems, lang=lang), log.rows(), lang, locate)
    chosen = policy_for(plan, policy)
    log.add("policy", f"{chosen.kind.value} — {tr(f'policy.{chosen.kind.value}', lang)}")
    if years:
        log.add("years", ", ".join(str(y) for y in years))
    allocation = _allocate(plan, chosen, years, progress)
    log.add("solver", f"{allocation.solver} {allocation.solver_version}".strip())
    if allocation.objective is not None:
        label = allocation.objective_name(lang) or tr("log.objective", lang)
        log.add("objective_value", f"{allocation.objective:.6g} ({label})")
    if allocation.ok:
        log.add("total", tr("log.total_value", lang, amount=allocation.total))
        log.add("outcome", tr("log.outcome_allocated", lang))
        exit_code = ExitCode.OK
    else:
        log.add("outcome", tr("log.outcome_infeasible", lang))
        d = allocation.diagnosis
        if d is not None:
            problems.append(Problem("run.infeasible", Source(path="allocation")))
            for c in d.conflicts:
                cell = next((found for found in map(locate, c.locations) if found), None)
                problems.append(Problem("run.conflict", Source(path=cell or c.location or c.name), {"message": c.msg}))
            for option in d.repair.options if d.repair is not None else ():
                # every constraint or budget the option changes, located (a joint option changes several)
                places = list(dict.fromkeys(locate(ch.location) or ch.location for ch in option.changes))
                problems.append(Problem("alloc.repair.problem", Source(path=", ".join(places)), {"message": option.msg}, Severity.WARNING))
        else:
            problems.append(Problem("run.infeasible", Source(path="allocation")))
        exit_code = ExitCode.INFEASIBLE
    sheets = result_sheets(plan, allocation, lang=lang, log=log.rows(), explanation=_explain_lines(allocation, lang, locate))
    if not allocation.ok:
        sheets = [*sheets, *_error_sheets(problems, lang=lang)]
    return RunOutcome(plan, allocation, problems, exit_code, sheets, log.rows(), lang, locate)


def result_sheets(
    plan: Plan,
    allocation: Allocation,
    *,
    lang: str | Lang = Lang.VI,
    log: Sequence[tuple[str, str]] | None = None,
    explanation: Sequence[str] | None = None,
) -> list[SheetSpec]:
    """The result sheets, in order: Phân bổ, one pivot per year (Năm 2011, …), Tổng hợp (with
    the proportional baseline and the difference, and a bar chart by unit), Chỉ tiêu đạt, Giải thích
    (Answer and Sensitivity reports, plain-language lines) and Nhật ký (run log; the only sheet with
    a timestamp). Totals are SUM formulas over the written amounts, so staff can audit them."""
    from ..io.workbook.results import result_sheets as _result_sheets

    if explanation is None:
        explanation = _explain_lines(allocation, lang)
    return _result_sheets(plan, allocation, lang=lang, log=log, explanation=explanation)


def error_sheets(problems: Sequence[Problem], *, lang: str | Lang = Lang.VI) -> list[SheetSpec]:
    """The ``Lỗi`` sheet: one row per problem (location, message in vi and en, code, value)."""
    from ..io.workbook.results import error_sheets as _error_sheets

    return _error_sheets(problems, lang=lang)


def compare_policies(
    plan: Plan,
    policies: Sequence[str] = ("proportional", "min_deviation"),
    *,
    years: Sequence[int] | None = None,
    lang: str | Lang = Lang.VI,
    progress: Progress | None = None,
) -> list[SheetSpec]:
    """Run several policies on one plan; a ``So sánh`` sheet with the totals per unit side by side
    (one column per policy, then each policy's difference from the first) and a bar chart."""
    from ..io.workbook.results import comparison_sheet

    allocations = [(str(p), _allocate(plan, policy_for(plan, p), years, progress)) for p in policies]
    return [comparison_sheet(plan, allocations, lang=lang)]


def load_book_or_plan(path: Any) -> GridBook | Plan:
    """A GridBook for a workbook path or a Plan for a JSON path (raises PlanInvalid for JSON errors)."""
    from pathlib import Path

    from ..io import load_plan_file
    from ..io.files import FileKind, file_kind

    path = Path(path)
    if file_kind(path) is FileKind.WORKBOOK:
        from ..io.workbook import open_book

        return open_book(path)
    return load_plan_file(path)




"""The spreadsheet buttons' part of the pipeline: what the Excel ribbon and the Calc menu do with the
open workbook when a button is more than one ``run_*`` call — the same way in both programs.

Both front ends read their workbook into a :class:`~budgetlib.io.grid.GridBook`, describe where it
lives with an :class:`OpenBook` (its name, its file, whether the file holds exactly what is read,
which of its sheets are budgetlib's results), call one function here and draw what comes back, a
:class:`DeskOutcome`: the result sheets to write, the result families whose stale sheets go, every
problem (located), the exit code, the message to show (catalogue messages, rendered by the front
end in its user's language) and the files written beside the workbook.

* :func:`compare` — "So sánh phương án": :func:`~budgetlib.pipeline.scenarios.run_scenarios` (the
  plan's Kịch bản, else the allocation methods side by side);
* :func:`save_version`, :func:`history` — "Lưu phiên bản", "Lịch sử phiên bản": the version store
  (:mod:`budgetlib.pipeline.store`) at :func:`store_for` the workbook;
* :func:`budget_book` — "Xuất báo cáo PDF": the printable budget book beside the workbook
  (``<name>_bao_cao.pdf``; an existing file is never overwritten);
* :func:`execution` — "Tiến độ thực hiện": budget against actual
  (:func:`~budgetlib.pipeline.cycle.run_progress`) as of the latest period of the Thực hiện sheet;
* :func:`refresh` — "Làm mới báo cáo": every family of report sheets the workbook has, rebuilt
  from the current inputs;
* :func:`version_ref` — the stored version the workbook is, cited in the run log of "Phân bổ".

Like the rest of :mod:`budgetlib.pipeline`, nothing here raises for the user's data, the store's
state or a file that cannot be written: it all comes back in the outcome.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..core.i18n import LocalizedError, Msg, tr
from ..core.lang import Lang, as_lang
from ..core.problems import Problem, Severity
from ..io.grid import GridBook, SheetSpec
from .run import EXIT_INVALID, EXIT_OK, Progress, RunOutcome

__all__ = [
    "EXIT_USAGE",
    "FAMILIES",
    "OpenBook",
    "DeskOutcome",
    "StoreChoice",
    "family",
    "store_for",
    "version_ref",
    "compare",
    "save_version",
    "history",
    "budget_book",
    "pdf_path",
    "execution",
    "latest_period",
    "refresh",
    "COMPARE_FALLBACK",
    "PDF_SUFFIX",
]

EXIT_USAGE = 3
COMPARE_FALLBACK = ("proportional", "max_min")
"""What "So sánh phương án" compares when the plan has no Kịch bản sheet: the allocation methods."""
PDF_SUFFIX = "_bao_cao"
"""The budget book of ``ke_hoach.xlsx`` is ``ke_hoach_bao_cao.pdf``, beside it."""

_log = logging.getLogger("budgetlib.pipeline")
Label = Callable[[str], str]


def _no_label(button_id: str) -> str:
    return button_id


# ---------------------------------------------------------------------------------------------
# The open workbook, and what a button produced


@dataclass(frozen=True)
class OpenBook:
    """Where the open workbook lives: its ``name`` (messages, run log), its ``path`` on disk (None
    when it was never saved), the file iff it holds exactly what is read (``saved_file``: no unsaved
    edits, so its SHA-256 describes the input) and the names of its sheets that carry budgetlib's
    result marker (``marked``), in workbook order."""

    name: str
    path: Path | None = None
    saved_file: Path | None = None
    marked: tuple[str, ...] = ()

    def source_kwargs(self) -> dict[str, Any]:
        """``source_name`` and, when the file on disk is what was read, ``input_sha256``."""
        from .run import sha256_file

        kwargs: dict[str, Any] = {"source_name": self.name}
        if self.saved_file is not None and Path(self.saved_file).is_file():
            try:
                kwargs["input_sha256"] = sha256_file(self.saved_file)
            except OSError as exc:
                _log.warning("no checksum for %s: %s", self.saved_file, exc)
        return kwargs

    def source_sha256(self) -> str | None:
        return self.source_kwargs().get("input_sha256")


@dataclass
class DeskOutcome:
    """What one button produced.

    ``exit_code``: 0 ok, 1 problems with the data (or the store), 2 an infeasible allocation
    (what could be written is), 3 nothing to do or the workbook stands in the way (a message, no
    problem). ``message`` is the headline (None: the front end's own for the exit code), ``lines``
    follow it; ``sheets`` are result sheets to write; ``replaces`` names the result families
    (:func:`family`) whose marked sheets not rewritten by this run are removed; ``files`` were
    written beside the workbook."""

    exit_code: int
    message: Msg | None = None
    sheets: list[SheetSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines: list[Msg] = field(default_factory=list)
    replaces: tuple[str, ...] = ()
    files: list[Path] = field(default_factory=list)
    run: Any = None  # the pipeline's own outcome, for callers that want the figures

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def stale(self, marked: Iterable[str]) -> list[str]:
        """The marked sheets this run makes stale (of a family it replaces), in workbook order."""
        return [n for n in marked if family(n) in self.replaces]


def _with_errors(sheets: Sequence[SheetSpec], problems: Sequence[Problem], lang: Lang) -> list[SheetSpec]:
    """``sheets`` plus the ``Lỗi`` sheet when there are problems and the run did not draw one."""
    from ..io.workbook.results import error_sheets, result_sheet_name

    out = list(sheets)
    errors_name = result_sheet_name("errors", lang.value)
    if problems and not any(s.name == errors_name for s in out):
        out += error_sheets(problems, lang=lang)
    return out


def _msg(exc: Exception) -> Msg:
    """An exception that carries a catalogue code (a store error, an output error) as a message."""
    if isinstance(exc, LocalizedError):
        return Msg(exc.code, **exc.params)
    code, params = getattr(exc, "code", None), getattr(exc, "params", None)
    if isinstance(code, str) and isinstance(params, dict):
        return Msg(code, **params)
    return Msg("desktop.error", error=f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------
# Result families


_SUFFIX = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


@cache
def _family_names() -> dict[str, str]:
    """Every result sheet name a family has (both languages) → the family."""
    from ..io.workbook.results import RESULT_SHEETS
    from ..io.workbook.scenario_sheets import SCENARIO_SHEET_KEYS, scenario_sheet_name

    out: dict[str, str] = {}
    for lang in Lang:
        out[RESULT_SHEETS["errors"][0 if lang is Lang.VI else 1]] = "errors"
        out[RESULT_SHEETS["log"][0 if lang is Lang.VI else 1]] = "log"
        out[RESULT_SHEETS["comparison"][0 if lang is Lang.VI else 1]] = "comparison"  # the comparison of policies before scenarios
        for key in SCENARIO_SHEET_KEYS:
            out[scenario_sheet_name(key, lang)] = "comparison"
        for key in ("progress", "progress_tasks", "progress_targets", "report_h1", "report_year"):
            out[tr(f"cycle.sheet.name.{key}", lang)] = "progress"
        for key in ("history", "versions"):
            out[tr(f"store.sheet.{key}", lang)] = "history"
    return out


FAMILIES = ("report", "comparison", "progress", "history", "errors", "log")
"""Result families: the allocation's report sheets (Phân bổ, Năm …, Tổng hợp, …), the scenario
comparison, budget against actual, the version history, the errors sheet and the run log."""


def family(name: str) -> str:
    """The family of a result sheet by its (placed) name: ``"Tiến độ (2)"`` → ``"progress"``;
    any name no other family has is an allocation report (``"report"``)."""
    names = _family_names()
    if name in names:
        return names[name]
    m = _SUFFIX.match(name)
    if m is not None and m.group("base") in names:
        return names[m.group("base")]
    return "report"


# ---------------------------------------------------------------------------------------------
# The version store


@dataclass(frozen=True)
class StoreChoice:
    """The store a button uses: ``address`` (a path or URL, as ``store=`` takes it), how it is shown,
    and why it is this one (``"env"``: ``$BUDGETLIB_STORE``; ``"beside"``: the workbook's folder)."""

    address: str
    display: str
    origin: str

    @property
    def is_file(self) -> bool:
        return "://" not in self.address or self.address.startswith("sqlite:")

    def exists(self) -> bool:
        """False for a SQLite file that is not there yet (a database server is assumed to be)."""
        if not self.is_file:
            return True
        from ..store.engine import resolve_address

        path = resolve_address(self.address).path
        return path is not None and path.is_file()


def store_for(where: OpenBook) -> StoreChoice | None:
    """``$BUDGETLIB_STORE`` when set, else ``budgetlib-store.sqlite`` beside the workbook — what
    ``budgetlib store …`` uses when run in the workbook's folder; None for a workbook never saved
    (and no ``$BUDGETLIB_STORE``)."""
    from ..store.config import DEFAULT_STORE_FILE, STORE_ENV

    env = os.environ.get(STORE_ENV, "").strip()
    if env:
        from ..store.engine import resolve_address
        from ..store.errors import StoreError

        try:
            display = resolve_address(env).display
        except StoreError:
            display = env.split("@")[-1] if "://" in env else env
        return StoreChoice(env, display, "env")
    if where.path is None:
        return None
    file = str(Path(where.path).parent / DEFAULT_STORE_FILE)
    return StoreChoice(file, file, "beside")


def _where_line(choice: StoreChoice) -> Msg:
    return Msg(f"desktop.store.where_{choice.origin}", store=choice.display)


def _no_store() -> DeskOutcome:
    from ..store.config import DEFAULT_STORE_FILE, STORE_ENV

    return DeskOutcome(EXIT_USAGE, Msg("desktop.store.unsaved_book", file=DEFAULT_STORE_FILE, env=STORE_ENV))


@dataclass(frozen=True)
class Citation:
    """The stored version a workbook is (``label``: ``CODE@3 · b3374d8df391…``), or why it could not be looked up."""

    label: str | None
    store: StoreChoice
    error: Msg | None = None

    def line(self) -> Msg | None:
        if self.error is not None:
            return Msg("desktop.store.cite_failed", store=self.store.display, error=self.error)
        if self.label is not None:
            return Msg("desktop.store.cited", version=self.label, store=self.store.display)
        return None


def version_ref(book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI) -> Citation | None:
    """The stored version whose content is exactly the workbook's plan (the newest such), when the
    workbook's store exists; the run log of "Phân bổ" cites it (``run_allocate(version_ref=…)``).

    Never creates a store and never fails the click: a store that cannot be read is a
    :class:`Citation` with an ``error`` (logged), so the allocation still runs."""
    choice = store_for(where)
    if choice is None:
        return None
    try:
        if not choice.exists():
            return None
        from .run import run_validate

        checked = run_validate(book, lang=lang)
        if checked.plan is None or checked.exit_code != EXIT_OK:
            return None  # the allocation reports the plan's problems itself
        from ..store.canonical import plan_hash
        from ..store.store import Store
        from .store import version_label

        digest = plan_hash(checked.plan)
        with Store.open(choice.address) as s:
            found = [v for v in s.versions(checked.plan.program.code) if v.content_hash == digest]
        return Citation(version_label(found[-1]) if found else None, choice)
    except Exception as exc:  # a citation is a courtesy: the allocation must not depend on the store
        _log.warning("could not look the workbook up in the store %s", choice.display, exc_info=True)
        return Citation(None, choice, _msg(exc))


def save_version(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"Lưu phiên bản": the workbook's plan (as it is on screen, unsaved edits included) saved as
    the next version of its program; the sheets Lịch sử phiên bản and Phiên bản."""
    from . import store as pstore

    lang = as_lang(lang)
    choice = store_for(where)
    if choice is None:
        return _no_store()
    out = pstore.save_version(
        book, store=choice.address, source_name=where.name, source_sha256=where.source_sha256(), lang=lang.value
    )
    where_line = _where_line(choice)
    if out.error is not None:
        return DeskOutcome(EXIT_INVALID, Msg("desktop.store.failed", error=_msg(out.error)), lines=[where_line], run=out)
    if out.version is None:
        errors = [p for p in out.problems if p.severity is Severity.ERROR]
        return DeskOutcome(EXIT_INVALID, Msg("store.outcome.invalid", count=len(errors)), _with_errors([], out.problems, lang),
                           out.problems, replaces=("errors",), run=out)
    v = out.version
    code = "store.outcome.saved" if v.created else "store.outcome.unchanged"
    lines = [where_line]
    if where.path is not None and where.saved_file is None:
        lines.append(Msg("desktop.store.unsaved_edits"))
    return DeskOutcome(EXIT_OK, Msg(code, version=v.ref, stage=v.stage.label, hash=v.short_hash), _with_errors(out.sheets, out.problems, lang),
                       out.problems, lines, replaces=("history", "errors"), run=out)


def history(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"Lịch sử phiên bản": every event and version of the workbook's program in its store."""
    from ..store.errors import StoreMissing
    from . import store as pstore

    lang = as_lang(lang)
    choice = store_for(where)
    if choice is None:
        return _no_store()
    where_line = _where_line(choice)
    save = label("btnSaveVersion")
    if not choice.exists():
        return DeskOutcome(EXIT_USAGE, Msg("desktop.store.none_yet", store=choice.display, button=save))
    out = pstore.version_history(book, store=choice.address, lang=lang.value)
    if out.error is not None:
        lines = [where_line] + ([Msg("desktop.store.save_first", button=save)] if isinstance(out.error, StoreMissing) else [])
        return DeskOutcome(EXIT_INVALID, Msg("desktop.store.failed", error=_msg(out.error)), lines=lines, run=out)
    if out.problems and not out.sheets:
        errors = [p for p in out.problems if p.severity is Severity.ERROR]
        return DeskOutcome(EXIT_INVALID, Msg("desktop.history.invalid", count=len(errors)), _with_errors([], out.problems, lang),
                           out.problems, replaces=("errors",), run=out)
    if not out.versions:
        plan = _program_code(book, lang)
        return DeskOutcome(EXIT_USAGE, Msg("desktop.history.empty", plan=plan, button=save), lines=[where_line], run=out)
    latest = out.versions[-1]
    head = Msg("desktop.history.done", plan=latest.plan_code, versions=len(out.versions), events=len(out.events), latest=latest.ref,
               stage=latest.stage.label)
    return DeskOutcome(EXIT_OK, head, list(out.sheets), [], [where_line], replaces=("history", "errors"), run=out)


def _program_code(book: GridBook, lang: Lang) -> str:
    from .run import run_validate

    checked = run_validate(book, lang=lang)
    return checked.plan.program.code if checked.plan is not None else ""


# ---------------------------------------------------------------------------------------------
# Scenario comparison


def compare(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"So sánh phương án": the plan and each of its scenarios (Kịch bản sheet) side by side; a plan
    without scenarios compares the allocation methods :data:`COMPARE_FALLBACK`."""
    from .scenarios import run_scenarios

    lang = as_lang(lang)
    out = run_scenarios(book, lang=lang, progress=progress, fallback_policies=COMPARE_FALLBACK, **where.source_kwargs())
    if out.comparison is None:
        if out.exit_code == EXIT_INVALID and out.sheets:  # the plan has errors: its Lỗi and Nhật ký sheets
            return DeskOutcome(EXIT_INVALID, None, list(out.sheets), out.problems, replaces=("errors",), run=out)
        errors = [p for p in out.problems if p.severity is Severity.ERROR]
        return DeskOutcome(out.exit_code or EXIT_INVALID, Msg("desktop.compare.failed", count=len(errors)),
                           _with_errors([], out.problems, lang), out.problems, replaces=("errors",), run=out)
    c = out.comparison
    names = [r.label(lang) for r in c.scenarios]
    failed = [r.label(lang) for r in c.results if not r.ok]
    head = Msg("desktop.compare.done", base=c.base.label(lang), scenarios=names, count=len(names))
    lines = [Msg("desktop.compare.failed_scenarios", names=failed)] if failed else []
    sheets = _with_errors(out.sheets, out.problems, lang)
    return DeskOutcome(out.exit_code, head, sheets, out.problems, lines, replaces=("comparison", "errors"), run=out)


# ---------------------------------------------------------------------------------------------
# The PDF budget book


def pdf_path(workbook: Path) -> Path:
    """Where the budget book of ``workbook`` goes: ``<name>_bao_cao.pdf`` beside it, or — when that
    file exists — the first free ``<name>_bao_cao (2).pdf``, ``(3)`` …: nothing is overwritten."""
    workbook = Path(workbook)
    stem = workbook.stem + PDF_SUFFIX
    candidate, n = workbook.with_name(stem + ".pdf"), 1
    while candidate.exists():
        n += 1
        candidate = workbook.with_name(f"{stem} ({n}).pdf")
    return candidate


def _previous_book(target: Path) -> Path | None:
    """The newest existing budget book of the same workbook (the one before ``target`` in the series)."""
    stem = target.stem
    m = _SUFFIX.match(stem)
    base = m.group("base") if m else stem
    n = int(m.group("n")) if m else 1
    for k in range(n - 1, 0, -1):
        candidate = target.with_name(f"{base}.pdf" if k == 1 else f"{base} ({k}).pdf")
        if candidate.is_file():
            return candidate
    return None


def budget_book(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"Xuất báo cáo PDF": validate, allocate and write the budget book beside the workbook
    (:func:`pdf_path`). When the new book is byte for byte the newest one already there (same
    inputs, deterministic output), the new copy is not kept and the message names the existing one."""
    from .report import write_budget_book

    lang = as_lang(lang)
    if where.path is None:
        return DeskOutcome(EXIT_USAGE, Msg("desktop.pdf.unsaved_book"))
    target = pdf_path(where.path)
    previous = _previous_book(target)
    try:
        out = write_budget_book(book, target, lang=lang.value, plan_path=where.path, source_name=where.name)
    except OSError as exc:  # the folder is read-only, the disk is full, …: nothing was written
        _log.warning("budget book %s not written", target, exc_info=True)
        return DeskOutcome(EXIT_USAGE, Msg("desktop.pdf.not_written", path=str(target), error=_msg(exc)))
    except ValueError:  # the boundaries.geojson beside the workbook is not a boundary file
        _log.warning("budget book %s: unusable boundary file", target, exc_info=True)
        from ..report.geo import BOUNDARY_FILE

        return DeskOutcome(EXIT_USAGE, Msg("desktop.pdf.bad_boundaries", path=str(Path(where.path).parent / BOUNDARY_FILE)))
    run: RunOutcome = out.run
    problems = list(out.problems)
    if out.path is None:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        return DeskOutcome(out.exit_code or EXIT_INVALID, Msg("desktop.pdf.invalid", count=len(errors)), _with_errors(run.sheets, problems, lang),
                           problems, replaces=("errors",), run=out)
    written = Path(out.path)
    if previous is not None and previous.read_bytes() == written.read_bytes():
        written.unlink()
        written = previous
        head = Msg("desktop.pdf.unchanged", path=str(written))
    elif run.exit_code == EXIT_OK:
        head = Msg("desktop.pdf.done", path=str(written))
    else:
        head = Msg("desktop.pdf.infeasible", path=str(written))
    lines = [] if out.boundaries is not None else [Msg("desktop.pdf.no_map")]
    sheets = _with_errors([], problems, lang) if problems else []
    return DeskOutcome(int(run.exit_code), head, sheets, problems, lines, replaces=("errors",), files=[written], run=out)


# ---------------------------------------------------------------------------------------------
# Budget against actual


def latest_period(actuals: Any, first_year: int, last_year: int) -> Any:
    """The period "Tiến độ thực hiện" reports on: the latest one the actuals have inside the
    program (a later one is reported as a problem by the run), else the latest one; None when
    nothing has been reported yet."""
    periods = list(actuals.periods) if actuals is not None else []
    inside = [p for p in periods if first_year <= p.year <= last_year]
    chosen = inside or periods
    return chosen[-1] if chosen else None


def execution(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"Tiến độ thực hiện": disbursement and targets against the allocation in force as of the
    latest period reported on the workbook's Thực hiện sheets (:func:`latest_period`)."""
    from ..io.workbook.actuals import ACTUALS_SHEETS, actuals_sheet_name, read_actuals_grids
    from .cycle import run_progress
    from .run import run_validate

    lang = as_lang(lang)
    source = where.source_kwargs()
    checked = run_validate(book, lang=lang, **source)
    if checked.exit_code != EXIT_OK or checked.plan is None:
        return DeskOutcome(int(checked.exit_code) or EXIT_INVALID, None, list(checked.sheets), checked.problems, replaces=("errors",), run=checked)
    plan = checked.plan
    read = read_actuals_grids(book, plan=plan.program.code, file=where.name or None)
    if read.actuals is None and any(p.code == "cycle.actuals.no_sheet" for p in read.problems):
        sheets = [actuals_sheet_name(k, lang) for k in ACTUALS_SHEETS]
        return DeskOutcome(EXIT_USAGE, Msg("desktop.progress.no_sheet", sheets=sheets, file=where.name))
    period = latest_period(read.actuals, plan.program.first_year, plan.program.last_year)
    if period is None and not any(p.severity is Severity.ERROR for p in read.problems):
        return DeskOutcome(EXIT_USAGE, Msg("desktop.progress.nothing_reported", sheet=actuals_sheet_name("disbursements", lang)))
    if period is None:  # the sheet has only unreadable rows: the run reports them, located
        period = plan.program.first_year
    if progress is not None:
        progress(0, 1, Msg("desktop.progress.step", period=_period_label(period)))
    out = run_progress(book, period, actuals=read, lang=lang, **source)
    if out.progress is None:
        errors = [p for p in out.problems if p.severity is Severity.ERROR]
        return DeskOutcome(int(out.exit_code), Msg("desktop.progress.failed", count=len(errors), period=_period_label(period)),
                           _with_errors(out.sheets, out.problems, lang), out.problems, replaces=("errors",), run=out)
    p = out.progress
    rate = p.total_disbursed / p.total_allocated if p.total_allocated else 0.0
    head = Msg("desktop.progress.done", period=p.period.label(), allocated=int(p.total_allocated), disbursed=int(p.total_disbursed),
               rate=float(rate), flags=len(p.flags))
    lines = [Msg("desktop.progress.illustrative")] if p.illustrative else []
    return DeskOutcome(EXIT_OK, head, list(out.sheets), out.problems, lines, replaces=("progress", "errors"), run=out)


def _period_label(period: Any) -> Msg:
    from ..model.actuals import Period

    return Period.parse(period).label()


# ---------------------------------------------------------------------------------------------
# Refresh


def refresh(
    book: GridBook, where: OpenBook, *, lang: str | Lang = Lang.VI, progress: Progress | None = None, label: Label = _no_label
) -> DeskOutcome:
    """"Làm mới báo cáo": rebuild, from the current inputs, every family of report sheets the
    workbook has — the allocation's reports (only the ones it has), the scenario comparison, the
    budget against actual, the version history — and the run log. The plan is checked first: with
    errors, only the Lỗi and Nhật ký sheets are written."""
    from .run import run_allocate, run_validate

    lang = as_lang(lang)
    present = {family(n) for n in where.marked}
    wanted = [f for f in ("report", "comparison", "progress", "history") if f in present]
    if not wanted:
        return DeskOutcome(EXIT_USAGE, Msg("desktop.refresh.nothing", allocate=label("btnAllocate"), compare=label("btnCompare"),
                                           progress=label("btnProgress")))
    source = where.source_kwargs()
    if "report" not in wanted:
        checked = run_validate(book, lang=lang, **source)
        if checked.exit_code != EXIT_OK or checked.plan is None:
            return DeskOutcome(int(checked.exit_code) or EXIT_INVALID, None, list(checked.sheets), checked.problems, replaces=("errors",), run=checked)
    sheets: list[SheetSpec] = []
    problems: list[Problem] = []
    lines: list[Msg] = []
    replaces: list[str] = []
    exit_code = int(EXIT_OK)
    runs: list[Any] = []

    def add(specs: Iterable[SheetSpec]) -> None:
        names = {s.name for s in sheets}
        sheets.extend(s for s in specs if s.name not in names and family(s.name) != "errors")

    if "report" in wanted:
        cite = version_ref(book, where, lang=lang)
        run = run_allocate(book, lang=lang, progress=progress, version_ref=cite.label if cite else None, **source)
        runs.append(run)
        if run.exit_code != EXIT_OK or run.plan is None:
            return DeskOutcome(int(run.exit_code), None, list(run.sheets), run.problems, replaces=("errors",), run=run)
        have = {_base(n) for n in where.marked if family(n) == "report"}
        add(s for s in run.sheets if s.name in have or family(s.name) == "log")
        problems += run.problems
        cited = cite.line() if cite is not None else None
        if cited is not None:
            lines.append(cited)
    for name, fn in (("comparison", compare), ("progress", execution), ("history", history)):
        if name not in wanted:
            continue
        out = fn(book, where, lang=lang, progress=progress, label=label)
        runs.append(out)
        add(out.sheets)
        problems += [p for p in out.problems if p not in problems]
        if out.sheets:
            replaces.append(name)
        if out.exit_code != EXIT_OK:
            exit_code = max(exit_code, out.exit_code)
            if out.message is not None and not out.problems:
                lines.append(out.message)
    sheets = _with_errors(sheets, problems, lang)
    replaces.append("errors")
    return DeskOutcome(exit_code, Msg("desktop.refresh.done"), sheets, problems, lines, tuple(replaces), run=runs)


def _base(name: str) -> str:
    m = _SUFFIX.match(name)
    if m is not None:
        from ..io.workbook.results import is_result_sheet

        if is_result_sheet(m.group("base")):
            return m.group("base")
    return name

"""The version store for front ends: the buttons "save this workbook as a version", "show history",
"compare versions" and "allocate a stored version", shared by the CLI, the Excel ribbon and Calc.

Like the rest of :mod:`budgetlib.pipeline`, nothing here raises for the user's data or the store's
state: a :class:`StoreOutcome` carries the version (or run) made, the plan's problems, a store
error (:class:`~budgetlib.store.errors.StoreError`, rendered with ``outcome.message(lang)``), the
exit code and the sheets to draw (``Lịch sử phiên bản``, ``Phiên bản``, ``So sánh phiên bản``,
and the result sheets of an allocation, whose ``Nhật ký`` cites the version).

``store`` is a path or URL (default ``$BUDGETLIB_STORE`` or ``./budgetlib-store.sqlite``); a
SQLite store is created on first save, so an officer's first click works without a setup step.

>>> from budgetlib.io.jsonio import load_plan
>>> import tempfile, pathlib
>>> kho = pathlib.Path(tempfile.mkdtemp()) / "kho.sqlite"
>>> saved = save_version(load_plan("examples/haiphong_2011_2015/plan.json"), store=kho, user="lan")
>>> saved.ok, saved.version.ref, [s.name for s in saved.sheets]
(True, 'HP-PCMD-2011-2015@1', ['Lịch sử phiên bản', 'Phiên bản'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.i18n import Msg
from ..core.lang import Lang
from ..core.problems import PlanInvalid, Problem, Severity
from ..io.grid import GridBook, SheetSpec
from ..model.plan import Plan
from ..model.policy import AllocationPolicy, PolicyKind
from ..store.diff import PlanDiff, diff_versions
from ..store.errors import StoreError
from ..store.records import HistoryEvent, RunRecord, VersionInfo
from ..store.sheets import diff_sheet, history_sheet, versions_sheet
from .run import EXIT_INFEASIBLE, EXIT_INVALID, EXIT_OK, RunOutcome, run_allocate, run_validate

__all__ = [
    "StoreOutcome",
    "version_label",
    "save_version",
    "version_history",
    "compare_versions",
    "allocate_version",
    "save_and_allocate",
]

@dataclass
class StoreOutcome:
    """What a store action produced; ``exit_code`` 0 ok, 1 plan problems or a store error,
    2 an infeasible allocation (the version and the run are still recorded)."""

    exit_code: int
    version: VersionInfo | None = None
    problems: list[Problem] = field(default_factory=list)
    error: StoreError | None = None
    sheets: list[SheetSpec] = field(default_factory=list)
    run: RunRecord | None = None
    allocation: RunOutcome | None = None
    diff: PlanDiff | None = None
    events: list[HistoryEvent] = field(default_factory=list)
    versions: list[VersionInfo] = field(default_factory=list)
    lang: str = Lang.VI.value

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def message(self, lang: str | None = None) -> str:
        """The one line a front end shows (status bar, message box): what was done, or what failed."""
        lang = lang or self.lang
        if self.error is not None:
            return self.error.message(lang)
        if self.problems and self.version is None:
            return Msg("store.outcome.invalid", count=len([p for p in self.problems if p.severity is Severity.ERROR])).render(lang)
        if self.run is not None and self.version is not None:
            return Msg("store.outcome.allocated", version=self.version.ref, run=self.run.id, status=Msg(f"store.run_status.{self.run.status}"), total=self.run.total).render(lang)
        if self.version is not None:
            code = "store.outcome.saved" if self.version.created else "store.outcome.unchanged"
            return Msg(code, version=self.version.ref, stage=self.version.stage.label, hash=self.version.short_hash).render(lang)
        if self.diff is not None:
            return Msg("store.diff.summary", fields=len(self.diff.fields), amounts=len(self.diff.amounts)).render(lang)
        return Msg("store.outcome.done").render(lang)


def version_label(version: VersionInfo) -> str:
    """How a run log cites a version: ``CODE@3 · b3374d8df391…`` (ref and the start of its hash)."""
    return f"{version.ref} · {version.short_hash}…"


def _open(store: Any, **kwargs: Any) -> Any:
    from ..store.store import Store  # SQLAlchemy only when a store is really opened

    return Store.open(store, **kwargs)


def _failed(error: StoreError, lang: str) -> StoreOutcome:
    return StoreOutcome(EXIT_INVALID, error=error, lang=lang)


def _read_plan(book: GridBook | Plan, lang: str) -> tuple[Plan | None, list[Problem]]:
    checked = run_validate(book, lang=lang)
    if checked.exit_code != EXIT_OK or checked.plan is None:
        return None, checked.problems
    return checked.plan, checked.problems


def save_version(
    book: GridBook | Plan,
    *,
    store: Any = None,
    user: str | None = None,
    note: str = "",
    source_name: str = "",
    source_sha256: str | None = None,
    lang: str = Lang.VI.value,
    create: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> StoreOutcome:
    """"Lưu phiên bản": read and check the plan of ``book`` (a workbook's grids or a Plan) and save
    it as the next version of its program. Sheets: the plan's history and its versions."""
    plan, problems = _read_plan(book, lang)
    if plan is None:
        return StoreOutcome(EXIT_INVALID, problems=problems, lang=lang)
    try:
        with _open(store, create=create, user=user, clock=clock) as s:
            version = s.save(plan, note=note, source_name=source_name, source_sha256=source_sha256)
            events = s.history(version.plan_code)
            versions = s.versions(version.plan_code)
    except PlanInvalid as exc:
        return StoreOutcome(EXIT_INVALID, problems=list(exc.problems), lang=lang)
    except StoreError as exc:
        return _failed(exc, lang)
    sheets = [history_sheet(events, plan_code=version.plan_code, lang=lang), versions_sheet(versions, lang=lang)]
    return StoreOutcome(EXIT_OK, version=version, problems=problems, sheets=sheets, events=events, versions=versions, lang=lang)


def _plan_code(plan: str | GridBook | Plan, lang: str) -> tuple[str | None, list[Problem]]:
    if isinstance(plan, str):
        return plan, []
    found, problems = _read_plan(plan, lang)
    return (found.program.code if found else None), problems


def version_history(plan: str | GridBook | Plan, *, store: Any = None, lang: str = Lang.VI.value) -> StoreOutcome:
    """"Lịch sử": the history and the versions of a plan — given by its code or version ref
    (``CODE``, ``CODE@2``), or by the workbook whose program code names it."""
    code, problems = _plan_code(plan, lang)
    if code is None:
        return StoreOutcome(EXIT_INVALID, problems=problems, lang=lang)
    try:
        with _open(store) as s:
            events = s.history(code)
            versions = s.versions(events[0].plan_code if events else code)
    except StoreError as exc:
        return _failed(exc, lang)
    plan_code = versions[0].plan_code if versions else code
    sheets = [history_sheet(events, plan_code=plan_code, lang=lang), versions_sheet(versions, lang=lang)]
    return StoreOutcome(EXIT_OK, sheets=sheets, events=events, versions=versions, lang=lang)


def compare_versions(a: str, b: str, *, store: Any = None, policy: str | None = None, lang: str = Lang.VI.value) -> StoreOutcome:
    """"So sánh": what changed from version ``a`` to ``b`` — plan fields and constraints, and the
    allocated amounts of their newest runs (of ``policy`` if given) — as a ``So sánh phiên bản`` sheet."""
    try:
        with _open(store) as s:
            diff = diff_versions(s, a, b, policy_kind=policy)
    except StoreError as exc:
        return _failed(exc, lang)
    return StoreOutcome(EXIT_OK, diff=diff, sheets=[diff_sheet(diff, lang=lang)], lang=lang)


def _run_and_record(
    s: Any,
    version: VersionInfo,
    *,
    policy: str | PolicyKind | AllocationPolicy | None,
    years: Sequence[int] | None,
    lang: str,
    progress: Any,
    source_name: str,
    source_sha256: str | None,
) -> tuple[RunOutcome, RunRecord | None]:
    from .run import policy_for

    plan = s.plan(version.ref)
    started = datetime.now(UTC)
    outcome = run_allocate(
        plan,
        policy=policy,
        years=years,
        lang=lang,
        progress=progress,
        source_name=source_name,
        input_sha256=source_sha256,
        version_ref=version_label(version),
    )
    if outcome.allocation is None:
        return outcome, None
    record = s.record_run(
        version.ref,
        outcome.allocation,
        policy=policy_for(plan, policy),
        years=years,
        started_at=started,
        finished_at=datetime.now(UTC),
        source_sha256=source_sha256,
    )
    return outcome, record


def allocate_version(
    ref: str,
    *,
    store: Any = None,
    policy: str | PolicyKind | AllocationPolicy | None = None,
    years: Sequence[int] | None = None,
    user: str | None = None,
    lang: str = Lang.VI.value,
    progress: Any = None,
) -> StoreOutcome:
    """"Phân bổ phiên bản": allocate the stored version ``ref`` (its document checked against its
    hash first) and record the run; the result sheets' run log cites the version."""
    try:
        with _open(store, user=user) as s:
            version = s.version(ref)
            outcome, record = _run_and_record(s, version, policy=policy, years=years, lang=lang, progress=progress, source_name=version.source_name, source_sha256=version.source_sha256)
    except StoreError as exc:
        return _failed(exc, lang)
    code = EXIT_OK if outcome.exit_code == EXIT_OK else (EXIT_INFEASIBLE if outcome.exit_code == EXIT_INFEASIBLE else EXIT_INVALID)
    return StoreOutcome(code, version=version, problems=outcome.problems, sheets=outcome.sheets, run=record, allocation=outcome, lang=lang)


def save_and_allocate(
    book: GridBook | Plan,
    *,
    store: Any = None,
    policy: str | PolicyKind | AllocationPolicy | None = None,
    years: Sequence[int] | None = None,
    user: str | None = None,
    note: str = "",
    source_name: str = "",
    source_sha256: str | None = None,
    lang: str = Lang.VI.value,
    progress: Any = None,
) -> StoreOutcome:
    """The ribbon's "Lưu phiên bản và phân bổ": save the workbook as a version, allocate that
    version and record the run. Sheets: the result sheets (``Nhật ký`` cites the version), then
    the history."""
    saved = save_version(book, store=store, user=user, note=note, source_name=source_name, source_sha256=source_sha256, lang=lang)
    if not saved.ok or saved.version is None:
        return saved
    try:
        with _open(store, user=user) as s:
            outcome, record = _run_and_record(s, saved.version, policy=policy, years=years, lang=lang, progress=progress, source_name=source_name, source_sha256=source_sha256)
            events = s.history(saved.version.plan_code)
    except StoreError as exc:
        return _failed(exc, lang)
    code = EXIT_OK if outcome.exit_code == EXIT_OK else (EXIT_INFEASIBLE if outcome.exit_code == EXIT_INFEASIBLE else EXIT_INVALID)
    sheets = [*outcome.sheets, history_sheet(events, plan_code=saved.version.plan_code, lang=lang)]
    return StoreOutcome(code, version=saved.version, problems=outcome.problems, sheets=sheets, run=record, allocation=outcome, events=events, lang=lang)


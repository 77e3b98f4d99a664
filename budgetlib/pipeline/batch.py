"""Batches: many plans × scenarios as independent tasks, serial or on dask.distributed.

``budgetlib allocate DIR -o OUT`` and ``budgetlib scenarios DIR -o OUT`` come here. A batch is

1. **planned** before any work: :func:`discover` lists the plan files (``--recursive`` walks
   sub-folders; result files, backups, lock files and the manifest are never taken as plans),
   :func:`plan_batch` names every output (``OUT/<sub-folder>/<stem>_ket_qua.xlsx``; a scenario's
   ``<stem>_ket_qua__<scenario>.xlsx``; a comparison ``<stem>_kich_ban.xlsx``) and refuses the batch
   when two outputs, or an output and an input, would be the same file (names compared as the file
   system may: ignoring case and Unicode normalisation) — e.g. ``plan.json`` and ``plan.xlsx`` in one
   folder. The naming makes any other collision impossible: scenario parts contain no ``_``.
2. **run** by an executor: in-process one task after the other (``workers=1``; dask is not even
   imported), on a ``distributed.LocalCluster`` of worker *processes* started for the batch
   (``workers=N``), or on an existing cluster (``scheduler="tcp://host:port"``; the workers must
   have budgetlib installed and see the same files). Each plan is read and checked once
   (:func:`_prepare`); each plan × scenario is then one task (:func:`_run_task`); for ``scenarios``
   one more task per plan writes its comparison (:func:`_compare_task`). On a cluster a small plan
   (≤ ``WHOLE_PLAN_MAX_BYTES``) does all three in one task (:func:`_whole_plan`), since scheduling a
   task costs about as much as a district's run; the records are the same. Every task catches its own
   failures, so one bad plan never stops the others; a worker that dies is reported as that task's
   error.
3. **recorded** in a JSON manifest (``budgetlib_batch.json``: each task's input path and SHA-256,
   scenario, outputs with their SHA-256, status, exit code, message and timings). ``resume=True``
   skips every plan whose input bytes, options and outputs are unchanged since the manifest.

Outputs do not depend on the executor: all tasks of a batch stamp their run log with the batch's
start time (or ``SOURCE_DATE_EPOCH`` when set), so the same batch run serially and on a cluster
writes byte-identical files. The exit code of a batch is its worst task's.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import time
import traceback
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._version import __version__
from ..core.i18n import tr
from ..core.lang import Lang, as_lang
from ..core.problems import PlanInvalid, Problem, Severity
from ..model.scenario import Scenario

__all__ = [
    "RESULT_SUFFIX",
    "SCENARIOS_SUFFIX",
    "MANIFEST_NAME",
    "PLAN_SUFFIXES",
    "BatchOptions",
    "Job",
    "Collision",
    "TaskRecord",
    "BatchReport",
    "discover",
    "plan_batch",
    "run_batch",
    "load_manifest",
]

RESULT_SUFFIX = "_ket_qua"
"""``kehoach.xlsx`` → ``kehoach_ket_qua.xlsx`` (the CLI's single-plan default too)."""
SCENARIOS_SUFFIX = "_kich_ban"
"""``kehoach.xlsx`` → ``kehoach_kich_ban.xlsx``: the scenario comparison."""
MANIFEST_NAME = "budgetlib_batch.json"
PLAN_SUFFIXES = (".xlsx", ".xlsm", ".json")

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_ERROR = 0, 1, 2, 3
_STATUS_CODE = {"ok": EXIT_OK, "invalid": EXIT_INVALID, "infeasible": EXIT_INFEASIBLE, "error": EXIT_ERROR}
_FINAL = {"ok", "invalid", "infeasible"}


# ---------------------------------------------------------------------------------------------
# Planning: files, outputs, collisions


def _is_plan_file(p: Path, skip: set[Path]) -> bool:
    name = p.name
    if p.suffix.lower() not in PLAN_SUFFIXES or name.startswith(("~$", ".")) or name == MANIFEST_NAME:
        return False
    stem = p.stem
    if RESULT_SUFFIX in stem or SCENARIOS_SUFFIX in stem or stem.endswith(".bak") or ".bak." in name:
        return False
    return not any(s == p or s in p.parents for s in skip)


def discover(paths: Sequence[Path], *, recursive: bool = False, skip: Sequence[Path] = ()) -> list[tuple[Path, Path]]:
    """``(root, file)`` for every plan: files as given, folders listed (sub-folders with ``recursive``).

    Files in ``skip`` folders (the batch's output folders) are never plans. Order: argument order,
    then the path inside each folder (deterministic on every file system).
    """
    skipped = {Path(s).resolve() for s in skip}
    out: list[tuple[Path, Path]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            walk = p.rglob("*") if recursive else p.iterdir()
            files = [f for f in walk if f.is_file() and _is_plan_file(f, skipped) and not any(part.startswith(".") for part in f.relative_to(p).parts[:-1])]
            out.extend((p, f) for f in sorted(files, key=lambda f: f.relative_to(p).as_posix()))
        else:
            out.append((p.parent, p))
    return out


def _key(path: Path) -> str:
    """How a file system may compare names: NFC (macOS stores NFD) and case-folded (Windows, macOS)."""
    return unicodedata.normalize("NFC", str(path.resolve())).casefold()


@dataclass(frozen=True)
class BatchOptions:
    """What every task of a batch shares (part of the resume fingerprint, except ``run_time``)."""

    kind: str = "allocate"  # "allocate" | "scenarios"
    policy: str | None = None
    years: tuple[int, ...] | None = None
    lang: str = "vi"
    scenarios: tuple[str, ...] | None = None  # allocate: extra scenarios to run; scenarios: which (None: all)
    extra: tuple[Scenario, ...] = ()  # scenarios made on the fly (a budget grid), for every plan
    xlsx: bool = True
    json: bool = False
    in_place: bool = False
    run_time: str = ""  # ISO time shown in every run log of the batch

    def fingerprint(self) -> str:
        data = {k: v for k, v in asdict(self).items() if k != "run_time"}
        data["extra"] = [s.model_dump(mode="json") for s in self.extra]
        data["budgetlib"] = __version__
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One plan file of a batch and where its outputs go (scenario outputs add ``__<scenario>``)."""

    key: str  # the plan's path relative to its root, POSIX style (unique in the batch)
    input: str
    xlsx: str | None  # base result workbook (allocate), or comparison workbook (scenarios)
    json: str | None
    in_place: bool = False

    def scenario_output(self, base: str | None, slug: str) -> str | None:
        if base is None:
            return None
        p = Path(base)
        return str(p.with_name(f"{p.stem}__{slug}{p.suffix}"))


@dataclass(frozen=True)
class Collision:
    """Two planned files that would be the same file (an output and an input, or two outputs)."""

    first: str
    second: str
    output: str

    def message(self, lang: str | Lang) -> str:
        return tr("batch.collision", lang, first=self.first, second=self.second, output=self.output)


def plan_batch(
    files: Sequence[tuple[Path, Path]],
    options: BatchOptions,
    *,
    out_dir: Path | None = None,
    json_dir: Path | None = None,
) -> tuple[list[Job], list[Collision]]:
    """Name every output of the batch; return the jobs and every collision (refuse the batch if any)."""
    suffix = SCENARIOS_SUFFIX if options.kind == "scenarios" else RESULT_SUFFIX
    jobs: list[Job] = []
    claimed: dict[str, tuple[str, str]] = {}  # key → (what claims it, path)
    collisions: list[Collision] = []
    for _, f in files:
        claimed.setdefault(_key(f), (str(f), str(f)))
    seen_keys: dict[str, str] = {}
    for root, f in files:
        rel = f.relative_to(root) if f.is_relative_to(root) else Path(f.name)
        key = rel.as_posix()
        if key in seen_keys:  # the same file named twice (two roots)
            continue
        seen_keys[key] = str(f)
        is_book = f.suffix.lower() in (".xlsx", ".xlsm")
        in_place = options.in_place and is_book and options.kind == "allocate"
        xlsx: Path | None = None
        if options.xlsx and not in_place and (out_dir is not None or is_book):
            folder = (out_dir / rel.parent) if out_dir is not None else f.parent
            xlsx = folder / f"{f.stem}{suffix}{'.xlsm' if f.suffix.lower() == '.xlsm' and options.kind == 'allocate' else '.xlsx'}"
        js: Path | None = None
        if options.json:
            folder = (json_dir / rel.parent) if json_dir is not None else (out_dir / rel.parent if out_dir is not None else f.parent)
            js = folder / f"{f.stem}{suffix}.json"
        for out in (xlsx, js):
            if out is None:
                continue
            k = _key(out)
            if k in claimed:
                collisions.append(Collision(claimed[k][0], str(f), str(out)))
            else:
                claimed[k] = (str(f), str(out))
        jobs.append(Job(key, str(f), None if xlsx is None else str(xlsx), None if js is None else str(js), in_place))
    return jobs, collisions


# ---------------------------------------------------------------------------------------------
# Records and the manifest


@dataclass
class TaskRecord:
    """One task's row in the manifest and the summary table."""

    key: str  # plan key, plus "#<scenario slug>" for a scenario, "#compare" for a comparison
    input: str
    scenario: str | None
    status: str  # ok | invalid | infeasible | error
    exit_code: int
    input_sha256: str = ""
    outputs: list[dict[str, str]] = field(default_factory=list)  # [{"path", "sha256"}]
    message: str = ""
    total: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # read, solve, write, total (seconds)
    worker: str = ""
    reused: bool = False
    detail: str = ""  # the traceback of an unexpected error (manifest only)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_manifest(path: str | Path) -> dict[str, Any] | None:
    """A previous batch's manifest, or ``None`` when missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("tasks"), list) else None


def _reusable(job: Job, sha: str, fingerprint: str, previous: dict[str, Any] | None) -> list[TaskRecord] | None:
    """The previous records of ``job`` when nothing it depends on changed (resume), else ``None``."""
    if previous is None or previous.get("fingerprint") != fingerprint:
        return None
    rows = [r for r in previous["tasks"] if r.get("key", "").split("#", 1)[0] == job.key]
    if not rows:
        return None
    out = []
    for r in rows:
        if r.get("status") not in _FINAL or r.get("input_sha256") != sha or r.get("input") != job.input:
            return None
        for o in r.get("outputs", []):
            p = Path(o["path"])
            if not p.is_file() or _sha256(p) != o.get("sha256"):
                return None
        rec = TaskRecord(**{k: r[k] for k in TaskRecord.__dataclass_fields__ if k in r})
        rec.reused = True
        out.append(rec)
    return out


@dataclass
class BatchReport:
    """The whole batch: every task's record, the executor, wall time; ``exit_code`` = the worst task."""

    records: list[TaskRecord]
    options: BatchOptions
    executor: dict[str, Any]
    wall_seconds: float
    manifest: str | None = None

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.records), default=EXIT_OK)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "budgetlib": __version__,
            "kind": self.options.kind,
            "fingerprint": self.options.fingerprint(),
            "options": {k: v for k, v in asdict(self.options).items() if k != "extra"} | {"extra": [s.name for s in self.options.extra]},
            "run_time": self.options.run_time,
            "executor": self.executor,
            "wall_seconds": round(self.wall_seconds, 3),
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "tasks": [r.to_dict() for r in sorted(self.records, key=lambda r: r.key)],
        }


# ---------------------------------------------------------------------------------------------
# Tasks (module-level functions: they are pickled to dask workers)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Prepared:
    """A plan read and checked once, for its scenario tasks; or the final record of a plan that failed."""

    job: Job
    sha256: str
    plan: Any = None  # Plan
    runs: list[tuple[int | None, Scenario | None, str]] = field(default_factory=list)  # (index, extra, slug)
    failed: TaskRecord | None = None
    read_seconds: float = 0.0


def _first_message(problems: Sequence[Problem], lang: str) -> str:
    errors = [p for p in problems if p.severity is Severity.ERROR] or list(problems)
    if not errors:
        return ""
    more = tr("batch.more_problems", lang, count=len(errors) - 1) if len(errors) > 1 else ""
    return errors[0].render(lang) + more


def _run_time(options: BatchOptions) -> datetime | None:
    return datetime.fromisoformat(options.run_time) if options.run_time else None


def _write_outcome(outcome: Any, job: Job, xlsx: str | None, js: str | None, plan: Any, options: BatchOptions) -> list[dict[str, str]]:
    """Write a run's result workbook (input sheets kept) and JSON; return ``[{path, sha256}]``."""
    from ..io.atomic import atomic_write_text

    written: list[str] = []
    is_book = Path(job.input).suffix.lower() in (".xlsx", ".xlsm")
    if xlsx is not None or job.in_place:
        from ..io.workbook import write_result_workbook

        target = job.input if job.in_place else xlsx
        assert target is not None
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        if is_book:
            write_result_workbook(outcome.sheets, target, source=job.input, in_place=job.in_place, lang=options.lang)
        else:
            write_result_workbook(outcome.sheets, target, plan=plan, lang=options.lang)
        written.append(target)
    if js is not None and outcome.allocation is not None:
        Path(js).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(js, outcome.allocation.to_json())
        written.append(js)
    return [{"path": p, "sha256": _sha256(p)} for p in written]


def _prepare(job: Job, options: BatchOptions) -> Prepared:
    """Read and check one plan; decide its scenario tasks. Never raises."""
    t0 = time.perf_counter()
    lang = options.lang
    sha = ""
    try:
        sha = _sha256(job.input)
        from . import run

        book = run.load_book_or_plan(job.input)
        try:
            checked = run.run_validate(book, lang=lang, source_name=Path(job.input).name, input_sha256=sha, run_time=_run_time(options))
        finally:
            close = getattr(book, "close", None)
            if close is not None:
                close()
    except PlanInvalid as exc:
        rec = TaskRecord(job.key, job.input, None, "invalid", EXIT_INVALID, sha, message=_first_message(exc.problems, lang))
        rec.timings = {"read": time.perf_counter() - t0, "total": time.perf_counter() - t0}
        rec.worker = _worker_id()
        return Prepared(job, sha, failed=rec)
    except Exception as exc:
        rec = TaskRecord(job.key, job.input, None, "invalid", EXIT_INVALID, sha, message=tr("batch.unreadable", lang, error=f"{type(exc).__name__}: {exc}"))
        rec.timings = {"read": time.perf_counter() - t0, "total": time.perf_counter() - t0}
        rec.worker = _worker_id()
        return Prepared(job, sha, failed=rec)
    read = time.perf_counter() - t0
    if checked.exit_code != EXIT_OK or checked.plan is None:
        rec = TaskRecord(job.key, job.input, None, "invalid", EXIT_INVALID, sha, message=_first_message(checked.problems, lang))
        try:
            if options.kind == "allocate":
                rec.outputs = _write_outcome(checked, job, job.xlsx, None, None, options) if Path(job.input).suffix.lower() != ".json" else []
        except Exception as exc:
            rec.message += " · " + tr("batch.write_failed", lang, error=f"{type(exc).__name__}: {exc}")
            rec.status, rec.exit_code = "error", EXIT_ERROR
        rec.timings = {"read": read, "total": time.perf_counter() - t0}
        rec.worker = _worker_id()
        return Prepared(job, sha, failed=rec, read_seconds=read)
    plan = checked.plan
    from ..planning.scenarios import scenario_slug, select_scenarios

    try:
        if options.kind == "scenarios":
            names = list(options.scenarios) if options.scenarios is not None else (None if not options.extra else [])
        else:
            names = list(options.scenarios or [])
        picked = select_scenarios(plan, names)
    except PlanInvalid as exc:
        rec = TaskRecord(job.key, job.input, None, "invalid", EXIT_INVALID, sha, message=_first_message(exc.problems, lang))
        rec.timings = {"read": read, "total": time.perf_counter() - t0}
        rec.worker = _worker_id()
        return Prepared(job, sha, failed=rec, read_seconds=read)
    runs: list[tuple[int | None, Scenario | None, str]] = [(None, None, "")]
    runs += [(i, None, scenario_slug(s.name)) for i, s in picked]
    runs += [(None, s, scenario_slug(s.name)) for s in options.extra]
    if options.kind == "scenarios" and len(runs) == 1:
        rec = TaskRecord(job.key, job.input, None, "invalid", EXIT_INVALID, sha, message=tr("scenario.none", lang))
        rec.timings = {"read": read, "total": time.perf_counter() - t0}
        rec.worker = _worker_id()
        return Prepared(job, sha, failed=rec, read_seconds=read)
    return Prepared(job, sha, plan, runs, read_seconds=read)


def _run_task(prep: Prepared, run_index: int, options: BatchOptions) -> tuple[TaskRecord, Any]:
    """Allocate one plan × scenario and (allocate batches) write its outputs. Never raises.

    Returns the record and the scenario summary (for the comparison of ``scenarios`` batches).
    """
    t0 = time.perf_counter()
    job, lang = prep.job, options.lang
    index, extra, slug = prep.runs[run_index]
    scenario = extra if extra is not None else (prep.plan.scenarios[index] if index is not None else None)
    key = job.key + (f"#{slug}" if slug else "")
    name = scenario.name if scenario is not None else None
    rec = TaskRecord(key, job.input, name, "error", EXIT_ERROR, prep.sha256, worker=_worker_id())
    summary = None
    try:
        from .scenarios import run_scenario

        target: Any = index if index is not None else extra
        summary, outcome = run_scenario(
            prep.plan, target, policy=options.policy, years=list(options.years) if options.years else None, lang=lang,
            source_name=Path(job.input).name, input_sha256=prep.sha256, run_time=_run_time(options),
        )
        t1 = time.perf_counter()
        rec.exit_code = int(summary.exit_code)
        rec.status = {EXIT_OK: "ok", EXIT_INVALID: "invalid", EXIT_INFEASIBLE: "infeasible"}.get(rec.exit_code, "error")
        rec.total = summary.total if summary.ok else None
        if rec.status != "ok":
            rec.message = _first_message(outcome.problems, lang)
        if options.kind == "allocate":
            xlsx = job.xlsx if not slug else job.scenario_output(job.xlsx, slug)
            js = job.json if not slug else job.scenario_output(job.json, slug)
            if slug and job.in_place:
                xlsx = job.scenario_output(str(Path(job.input).with_name(Path(job.input).stem + RESULT_SUFFIX + ".xlsx")), slug)
            in_place_job = Job(job.key, job.input, xlsx, js, job.in_place and not slug)
            if outcome.sheets:
                plan_for_sheets = outcome.plan if outcome.plan is not None else prep.plan
                rec.outputs = _write_outcome(outcome, in_place_job, xlsx, js, plan_for_sheets, options)
        t2 = time.perf_counter()
        rec.timings = {"read": prep.read_seconds, "solve": t1 - t0, "write": t2 - t1, "total": prep.read_seconds + t2 - t0}
    except Exception as exc:
        from ..io.atomic import OutputLocked

        rec.status, rec.exit_code = "error", EXIT_ERROR
        if isinstance(exc, OutputLocked):
            rec.message = exc.message(lang)
        else:
            rec.message = tr("batch.task_failed", lang, error=f"{type(exc).__name__}: {exc}")
            rec.detail = traceback.format_exc(limit=-4)
        rec.timings.update({"total": prep.read_seconds + time.perf_counter() - t0})
    return rec, summary


def _compare_task(prep: Prepared, summaries: list[Any], options: BatchOptions) -> TaskRecord:
    """Write one plan's scenario comparison (workbook and JSON). Never raises."""
    t0 = time.perf_counter()
    job, lang = prep.job, options.lang
    rec = TaskRecord(job.key + "#compare", job.input, None, "error", EXIT_ERROR, prep.sha256, worker=_worker_id())
    try:
        from ..io.atomic import atomic_write_text
        from ..io.workbook.scenario_sheets import comparison_sheets
        from .scenarios import compare

        if any(s is None for s in summaries):
            rec.message = tr("batch.compare_incomplete", lang)
            return rec
        comparison = compare(prep.plan, summaries, lang=lang)
        written = []
        if job.xlsx is not None:
            from ..io.workbook import write_sheets

            Path(job.xlsx).parent.mkdir(parents=True, exist_ok=True)
            write_sheets(comparison_sheets(comparison, lang=lang), job.xlsx)
            written.append(job.xlsx)
        if job.json is not None:
            Path(job.json).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(job.json, comparison.to_json())
            written.append(job.json)
        rec.outputs = [{"path": p, "sha256": _sha256(p)} for p in written]
        rec.exit_code = comparison.exit_code
        rec.status = {EXIT_OK: "ok", EXIT_INVALID: "invalid", EXIT_INFEASIBLE: "infeasible"}.get(rec.exit_code, "error")
        worst = [s for s in summaries if s.exit_code == rec.exit_code and s.exit_code]
        if worst:
            rec.message = tr("batch.compare_worst", lang, scenario=worst[0].label(lang), status=tr(f"scenario.status.{worst[0].status}", lang))
        rec.total = summaries[0].total if summaries[0].ok else None
    except Exception as exc:
        rec.status, rec.exit_code = "error", EXIT_ERROR
        rec.message = tr("batch.task_failed", lang, error=f"{type(exc).__name__}: {exc}")
    rec.timings = {"write": time.perf_counter() - t0, "total": time.perf_counter() - t0}
    return rec


WHOLE_PLAN_MAX_BYTES = 512 * 1024
"""On a cluster, a plan file up to this size runs as one task (read, every scenario, the comparison):
a district plan's runs take milliseconds, and one task per run spent a fifth of the time on
scheduling. Larger plans keep one task per run, so the scenarios of one big plan run in parallel."""


def _runs_whole(job: Job) -> bool:
    try:
        return Path(job.input).stat().st_size <= WHOLE_PLAN_MAX_BYTES
    except OSError:
        return True  # the reading task reports the problem


def _whole_plan(job: Job, options: BatchOptions) -> list[tuple[Any, Any, BaseException | None]]:
    """Read one plan, run each of its runs and (scenario batches) its comparison, in this process;
    the events are what the separate tasks would have produced, in their order. Never raises."""
    prep = _prepare(job, options)
    events: list[tuple[Any, Any, BaseException | None]] = [(("prepare", job), replace(prep, plan=None), None)]
    if prep.failed is not None:
        return events
    summaries = []
    for i in range(len(prep.runs)):
        rec, summary = _run_task(prep, i, options)
        events.append((("run", job.key, i), (rec, summary), None))
        summaries.append(summary)
    if options.kind == "scenarios":
        events.append((("compare", job.key), _compare_task(prep, summaries, options), None))
    return events


# ---------------------------------------------------------------------------------------------
# Executors


class _Serial:
    """In-process, one task after the other, in submission order (no dask import)."""

    def __init__(self) -> None:
        self.description: dict[str, Any] = {"type": "serial", "workers": 1}
        self._queue: deque[tuple[Any, Callable[..., Any], tuple[Any, ...]]] = deque()

    def submit(self, tag: Any, fn: Callable[..., Any], *args: Any) -> None:
        self._queue.append((tag, fn, args))

    def completed(self) -> Iterator[tuple[Any, Any, BaseException | None]]:
        while self._queue:
            tag, fn, args = self._queue.popleft()
            try:
                result = fn(*args)
            except Exception as exc:
                yield tag, None, exc
            else:
                yield tag, result, None

    def close(self) -> None:
        pass


class _Dask:
    """dask.distributed: a LocalCluster of worker processes started here, or an existing scheduler.

    A plan read by one task stays on the cluster: its scenario tasks get the reading task's future
    as argument (dask hands the data from worker to worker), and results stream back to this
    process as tasks finish (``as_completed(with_results=True)``).
    """

    def __init__(self, workers: int, scheduler: str | None) -> None:
        from distributed import Client, LocalCluster, as_completed

        self._cluster = None
        if scheduler:
            self._client = Client(scheduler, timeout="30s")
            self.description = {"type": "scheduler", "address": scheduler, "workers": len(self._client.scheduler_info().get("workers", {}))}
        else:
            self._cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50,
            )
            self._client = Client(self._cluster)
            self.description = {"type": "local-cluster", "workers": workers}
        # Import the allocator, the solver and the writers on every worker now (part of the start-up),
        # not inside the first task each worker runs.
        self._client.run(_warm_up)
        self._tags: dict[Any, Any] = {}
        self._count = itertools.count()
        self._futures: dict[int, Any] = {}  # id(result) → the future that produced it (kept while needed)
        self._ac = as_completed([], with_results=True, raise_errors=False)

    def submit(self, tag: Any, fn: Callable[..., Any], *args: Any) -> None:
        # A prepared plan stays where it was made: pass its future, not the object.
        args = tuple(self._futures.get(id(a), a) if isinstance(a, Prepared) else a for a in args)
        fut = self._client.submit(fn, *args, pure=False, key=f"budgetlib-{fn.__name__.strip('_')}-{next(self._count)}")
        self._tags[fut.key] = tag
        self._ac.add(fut)

    def release(self, result: Any) -> None:
        """The caller no longer needs ``result`` on the cluster."""
        fut = self._futures.pop(id(result), None)
        if fut is not None:
            fut.release()

    def completed(self) -> Iterator[tuple[Any, Any, BaseException | None]]:
        for fut, result in self._ac:
            tag = self._tags.pop(fut.key)
            if fut.status != "finished":  # e.g. KilledWorker: the worker died running it; that task's failure
                exc = result[1] if isinstance(result, tuple) and len(result) == 3 else RuntimeError(str(result))
                fut.release()
                yield tag, None, exc
                continue
            if isinstance(result, Prepared):
                self._futures[id(result)] = fut  # its scenario tasks will use it on the cluster
            else:
                fut.release()
            yield tag, result, None

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def _warm_up() -> None:
    from ..allocator import allocate  # noqa: F401  (HiGHS, PuLP)
    from ..io.workbook import xlsx  # noqa: F401  (openpyxl)
    from . import scenarios  # noqa: F401


def _executor(workers: int, scheduler: str | None) -> Any:
    if scheduler:
        return _Dask(workers, scheduler)
    if workers <= 1:
        return _Serial()
    return _Dask(workers, None)


# ---------------------------------------------------------------------------------------------


def _default_run_time() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).isoformat()
    return datetime.now(UTC).replace(microsecond=0).isoformat()


Progress = Callable[[int, int, str], None]


def run_batch(
    jobs: Sequence[Job],
    options: BatchOptions,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    manifest: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> BatchReport:
    """Run every job; write the manifest; return the report (``exit_code`` = the worst task's).

    ``workers=1`` runs in this process; more start a LocalCluster of that many worker processes for
    the batch (closed at the end); ``scheduler`` uses an existing dask cluster instead. ``resume``
    reuses the manifest's records of plans whose input, options and outputs are unchanged.
    ``progress(done, total, label)`` is called as tasks finish (the total grows as plans are read).
    """
    if not options.run_time:
        options = replace(options, run_time=_default_run_time())
    lang = as_lang(options.lang)
    t0 = time.perf_counter()
    previous = load_manifest(manifest) if (resume and manifest is not None) else None
    fingerprint = options.fingerprint()
    records: list[TaskRecord] = []
    todo: list[Job] = []
    for job in jobs:
        try:
            sha = _sha256(job.input)
        except OSError:
            sha = ""
        reused = _reusable(job, sha, fingerprint, previous) if sha else None
        if reused is not None:
            records.extend(reused)
        else:
            todo.append(job)
    total = len(records) + len(todo)
    done = len(records)
    tick = progress or (lambda *a: None)
    tick(done, total, "")
    started = time.perf_counter()
    executor = _executor(workers, scheduler) if todo else _Serial()
    startup = time.perf_counter() - started
    pending_runs: dict[str, list[Any]] = {}
    preps: dict[str, Prepared] = {}
    try:
        def handle(tag: Any, result: Any, exc: BaseException | None, *, follow_up: bool) -> None:
            """One finished task: record it, tick, and (unless its plan ran whole) submit what follows."""
            nonlocal done, total
            what = tag[0]
            if what == "prepare":
                job = tag[1]
                done += 1
                if exc is not None:
                    records.append(TaskRecord(job.key, job.input, None, "error", EXIT_ERROR, message=tr("batch.task_failed", lang, error=f"{type(exc).__name__}: {exc}")))
                    tick(done, total, job.key)
                    return
                prep: Prepared = result
                if prep.failed is not None:
                    records.append(prep.failed)
                    tick(done, total, job.key)
                    return
                preps[job.key] = prep
                n = len(prep.runs)
                total += n - 1 + (1 if options.kind == "scenarios" else 0)
                done -= 1  # the plan counts as done when its runs are
                pending_runs[job.key] = [None] * n
                if follow_up:
                    for i in range(n):
                        executor.submit(("run", job.key, i), _run_task, prep, i, options)
                tick(done, total, job.key)
            elif what == "run":
                key, i = tag[1], tag[2]
                prep = preps[key]
                done += 1
                if exc is not None:
                    slug = prep.runs[i][2]
                    rec = TaskRecord(key + (f"#{slug}" if slug else ""), prep.job.input, None, "error", EXIT_ERROR, prep.sha256,
                                     message=tr("batch.task_failed", lang, error=f"{type(exc).__name__}: {exc}"))
                    summary = None
                else:
                    rec, summary = result
                records.append(rec)
                slots = pending_runs[key]
                slots[i] = summary if summary is not None else False
                if all(x is not None for x in slots) and options.kind != "scenarios":
                    getattr(executor, "release", lambda _: None)(prep)
                if follow_up and options.kind == "scenarios" and all(s is not None for s in slots):
                    executor.submit(("compare", key), _compare_task, prep, [s if s is not False else None for s in slots], options)
                tick(done, total, rec.key)
            else:  # compare
                key = tag[1]
                done += 1
                if exc is not None:
                    prep = preps[key]
                    records.append(TaskRecord(key + "#compare", prep.job.input, None, "error", EXIT_ERROR, prep.sha256,
                                              message=tr("batch.task_failed", lang, error=f"{type(exc).__name__}: {exc}")))
                else:
                    records.append(result)
                getattr(executor, "release", lambda _: None)(preps[key])
                tick(done, total, key)

        fused = isinstance(executor, _Dask)
        for job in todo:
            if fused and _runs_whole(job):
                executor.submit(("plan", job), _whole_plan, job, options)
            else:
                executor.submit(("prepare", job), _prepare, job, options)
        for tag, result, exc in executor.completed():
            if tag[0] != "plan":
                handle(tag, result, exc, follow_up=True)
            elif exc is not None:  # the worker died running the plan: one failed record for the plan
                handle(("prepare", tag[1]), None, exc, follow_up=False)
            else:
                for inner_tag, inner_result, inner_exc in result:
                    handle(inner_tag, inner_result, inner_exc, follow_up=False)
    finally:
        description = dict(getattr(executor, "description", {}))
        closing = time.perf_counter()
        executor.close()
        description["startup_seconds"] = round(startup, 3)
        description["shutdown_seconds"] = round(time.perf_counter() - closing, 3)
    report = BatchReport(records, options, description, time.perf_counter() - t0)
    if manifest is not None:
        from ..io.atomic import atomic_write_text

        Path(manifest).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(manifest, json.dumps(report.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
        report.manifest = str(manifest)
    return report

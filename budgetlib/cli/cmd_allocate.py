"""``budgetlib allocate``: one plan, or a batch of plans × scenarios (serial or on dask.distributed).

Everything goes through :mod:`budgetlib.pipeline` (:func:`~budgetlib.pipeline.run.run_allocate` for
one plan, :func:`~budgetlib.pipeline.batch.run_batch` for a batch), as the add-in does. Outputs are
checked before any work: an output that is an input, two outputs that are one file, an output path
that is a folder, or ``-o`` without ``.xlsx`` are usage errors (exit 3) naming both paths.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.i18n import Msg, tr
from ..core.money import format_amount
from ..core.problems import PlanInvalid
from ..io.atomic import OutputLocked
from ..model.policy import PolicyKind
from .app import ExitCode, Lang, LangOption, app, check_input_file, console, err_console, report_problems
from .localize import help_code
from .options import PolicyOption, YearOption, default_out, locked_exit, summary_tables

__all__ = ["allocate", "batch_options", "run_batch_cli", "usage_exit", "check_single_outputs", "h"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def h(code: str) -> str:
    """A help text given as a catalogue code (``cli_batch.<code>``), shown in the user's language."""
    return help_code(f"cli_batch.{code}")


def usage_exit(code: str, lang: str, **params: Any) -> typer.Exit:
    """Print a usage error (catalogue ``cli.<code>``) and return the exit-3 to raise."""
    err_console.print(f"[bold red]✗[/] {escape(tr(f'cli_batch.{code}', lang, **params))}")
    return typer.Exit(ExitCode.USAGE)


def _same(a: Path, b: Path) -> bool:
    key = lambda p: unicodedata.normalize("NFC", str(p.resolve())).casefold()  # noqa: E731
    return key(a) == key(b)


def check_single_outputs(plan: Path, outputs: Sequence[tuple[str, Path | None, tuple[str, ...]]], lang: str) -> None:
    """Refuse (exit 3) an output that is a folder, has the wrong suffix, is the input, or is another output."""
    seen: list[tuple[str, Path]] = [("input", plan)]
    for option, path, suffixes in outputs:
        if path is None:
            continue
        if path.is_dir():
            raise usage_exit("output_is_dir", lang, option=option, path=str(path))
        for other_option, other in seen:
            if _same(path, other):
                if other_option == "input":
                    raise usage_exit("output_is_input", lang, option=option, path=str(path), input=str(plan))
                raise usage_exit("outputs_collide", lang, option=option, other=other_option, path=str(path))
        if path.suffix.lower() not in suffixes:
            raise usage_exit("output_suffix", lang, option=option, path=str(path), suffixes=list(suffixes))
        seen.append((option, path))


def _run_one(
    plan_path: Path, *, policy: PolicyKind | None, years: list[int] | None, lang: str, out: Path | None, json_out: Path | None,
    in_place: bool, progress: Any = None,
) -> tuple[Any, list[Path]]:
    """Allocate one plan file and write its outputs; returns (outcome, written paths)."""
    from .. import pipeline
    from ..io.atomic import atomic_write_text
    from ..io.workbook import write_result_workbook

    is_book = plan_path.suffix.lower() in WORKBOOK_SUFFIXES
    book = pipeline.load_book_or_plan(plan_path)
    try:
        outcome = pipeline.run_allocate(
            book, policy=policy.value if policy else None, years=years, lang=lang, progress=progress,
            source_name=plan_path.name, input_sha256=pipeline.sha256_file(plan_path),
        )
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    if outcome.plan is not None and years:
        outside = [y for y in years if y not in outcome.plan.program.years]
        if outside:
            p = outcome.plan.program
            raise usage_exit("years_outside", lang, years=", ".join(map(str, outside)), first=p.first_year, last=p.last_year)
    written: list[Path] = []
    if in_place and is_book:
        written.append(write_result_workbook(outcome.sheets, plan_path, source=plan_path, in_place=True, lang=lang))
    elif out is not None:
        if is_book:
            written.append(write_result_workbook(outcome.sheets, out, source=plan_path, lang=lang))
        else:
            written.append(write_result_workbook(outcome.sheets, out, plan=outcome.plan, lang=lang))
    if json_out is not None and outcome.allocation is not None:
        atomic_write_text(json_out, outcome.allocation.to_json())
        written.append(json_out)
    return outcome, written


# ---------------------------------------------------------------------------------------------
# Batches (shared with ``budgetlib scenarios``)


def batch_options(kind: str, *, policy: PolicyKind | None, years: list[int] | None, lang: str, scenarios: list[str] | None,
                  extra: Sequence[Any] = (), xlsx: bool = True, json: bool = False, in_place: bool = False) -> Any:
    from ..pipeline.batch import BatchOptions

    return BatchOptions(
        kind=kind, policy=policy.value if policy else None, years=tuple(years) if years else None, lang=str(lang),
        scenarios=tuple(scenarios) if scenarios is not None else None, extra=tuple(extra), xlsx=xlsx, json=json, in_place=in_place,
    )


def _status_label(status: str, lang: str) -> str:
    return tr(f"cli_batch.status.{status}", lang)


def run_batch_cli(
    plans: list[Path], options: Any, *, out_dir: Path | None, json_dir: Path | None, recursive: bool, workers: int | None,
    scheduler: str | None, resume: bool, manifest: Path | None, quiet: bool, lang: str,
) -> int:
    """Plan, run and report a batch; return the exit code (worst task; 3 for a refused batch)."""
    from ..pipeline import batch

    for p in plans:
        if not p.is_dir():
            check_input_file(p, lang)
    for option, d in (("-o/--out", out_dir), ("--json", json_dir)):
        if d is not None and ((d.exists() and not d.is_dir()) or (not d.exists() and d.suffix.lower() in (*WORKBOOK_SUFFIXES, ".json"))):
            raise usage_exit("batch_out_not_dir", lang, option=option, path=str(d))
    skip = [d for d in (out_dir, json_dir) if d is not None]
    files = batch.discover(plans, recursive=recursive, skip=skip)
    if not files:
        raise usage_exit("no_plans", lang, paths=[str(p) for p in plans])
    jobs, collisions = batch.plan_batch(files, options, out_dir=out_dir, json_dir=json_dir)
    if collisions:
        for c in collisions:
            err_console.print(f"[bold red]✗[/] {escape(c.message(lang))}")
        err_console.print(escape(tr("cli_batch.batch_refused", lang, count=len(collisions))))
        return int(ExitCode.USAGE)
    if manifest is None:
        manifest = (out_dir or (plans[0] if plans[0].is_dir() else plans[0].parent)) / batch.MANIFEST_NAME
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, len(jobs))
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=quiet) as bar:
        task = bar.add_task(tr("cli_batch.batch_progress", lang), total=len(jobs))

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=escape(label or tr("cli_batch.batch_progress", lang)))

        report = batch.run_batch(jobs, options, workers=max(1, n_workers), scheduler=scheduler, manifest=manifest, resume=resume, progress=progress)
    _print_batch(report, lang, quiet=quiet)
    return report.exit_code


def _print_batch(report: Any, lang: str, *, quiet: bool) -> None:
    records = sorted(report.records, key=lambda r: r.key)
    shown = [r for r in records if not quiet or r.status != "ok"]
    if shown:
        t = Table(title=tr("cli_batch.batch_title", lang))
        for col in ("file", "scenario", "outcome", "total", "note"):
            t.add_column(tr(f"cli_batch.col.{col}", lang), overflow="fold", justify="right" if col == "total" else "left")
        for r in shown:
            style = "green" if r.status == "ok" else ("yellow" if r.status == "infeasible" else "red")
            label = _status_label(r.status, lang) + (f" ({tr('cli_batch.reused', lang)})" if r.reused else "")
            key, _, part = r.key.partition("#")
            scenario = r.scenario or (tr("cli_batch.comparison", lang) if part == "compare" else ("" if not part else part))
            note = r.message.splitlines()[0] if r.message else ", ".join(Path(o["path"]).name for o in r.outputs)
            total = format_amount(r.total, lang=lang) if r.total is not None else ""
            t.add_row(escape(key), escape(scenario), f"[{style}]{escape(label)}[/]", total, escape(note))
        console.print(t)
    counts = report.counts()
    parts = ", ".join(f"{n} {_status_label(s, lang)}" for s, n in sorted(counts.items()))
    reused = sum(1 for r in report.records if r.reused)
    line = tr("cli_batch.batch_done", lang, tasks=len(report.records), parts=parts, seconds=report.wall_seconds, reused=reused,
              executor=tr(f"cli_batch.executor.{report.executor.get('type', 'serial')}", lang, workers=report.executor.get("workers", 1)))
    console.print(escape(line))
    if report.manifest:
        console.print(escape(tr("cli_batch.manifest", lang, path=report.manifest)))


# ---------------------------------------------------------------------------------------------


@app.command(help=h("allocate.help"), epilog=h("allocate.epilog"))
def allocate(
    plans: Annotated[list[Path], typer.Argument(help=h("allocate.plans"), show_default=False)],
    policy: PolicyOption = None,
    year: YearOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=h("allocate.out"))] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help=h("allocate.json"))] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help=h("allocate.in_place"))] = False,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", "-s", help=h("allocate.scenario"))] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help=h("batch.recursive"))] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help=h("batch.workers"))] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help=h("batch.scheduler"))] = None,
    resume: Annotated[bool, typer.Option("--resume", help=h("batch.resume"))] = False,
    manifest: Annotated[Path | None, typer.Option("--manifest", help=h("batch.manifest"))] = None,
    lang: LangOption = Lang.vi,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=h("allocate.quiet"))] = False,
) -> None:
    """Allocate budgets to units and write result sheets (help text: ``cli_batch.allocate.help``)."""
    lang_s = str(lang.value)
    batch_mode = len(plans) > 1 or any(p.is_dir() for p in plans) or bool(scenario) or recursive or resume or scheduler is not None
    if batch_mode:
        options = batch_options("allocate", policy=policy, years=year, lang=lang_s, scenarios=scenario, xlsx=True, json=json_out is not None, in_place=in_place)
        raise typer.Exit(run_batch_cli(plans, options, out_dir=out, json_dir=json_out, recursive=recursive, workers=workers,
                                       scheduler=scheduler, resume=resume, manifest=manifest, quiet=quiet, lang=lang_s))
    plan_path = check_input_file(plans[0], lang_s)
    is_book = plan_path.suffix.lower() in WORKBOOK_SUFFIXES
    if in_place and not is_book:
        raise usage_exit("in_place_needs_workbook", lang_s, path=str(plan_path))
    if out is None and not in_place and is_book:
        out = default_out(plan_path, None)
    check_single_outputs(plan_path, [("-o/--out", out, WORKBOOK_SUFFIXES), ("--json", json_out, (".json",))], lang_s)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(tr("cli_batch.allocating", lang_s), total=None)

        def progress(done: int, total: int, message: Msg | str = "") -> None:
            shown = message.render(lang_s) if isinstance(message, Msg) else message
            bar.update(task, completed=done, total=total or None, description=escape(shown or tr("cli_batch.allocating", lang_s)))

        try:
            outcome, written = _run_one(plan_path, policy=policy, years=year, lang=lang_s, out=out, json_out=json_out, in_place=in_place, progress=progress)
        except PlanInvalid as exc:
            bar.stop()
            report_problems(exc.problems, lang=lang_s)
            raise typer.Exit(ExitCode.INVALID) from None
        except OutputLocked as exc:
            bar.stop()
            raise locked_exit(exc, lang_s) from None
    if outcome.exit_code == ExitCode.INVALID:
        report_problems(outcome.problems, lang=lang_s)
        for p in written:
            console.print(escape(tr("cli_batch.problems_written", lang_s, path=str(p))))
        raise typer.Exit(ExitCode.INVALID)
    if outcome.allocation is not None and outcome.allocation.ok and not quiet:
        for t in summary_tables(outcome, lang_s):
            console.print(t)
    if not quiet or outcome.exit_code != ExitCode.OK:
        for line in outcome.explanation():
            console.print(line, markup=False, highlight=False)
    if outcome.exit_code == ExitCode.INFEASIBLE:
        err_console.print(f"[bold red]✗[/] {escape(tr('cli_batch.infeasible', lang_s))}")
    elif outcome.allocation is not None and quiet:
        console.print(escape(tr("cli_batch.allocated", lang_s, total=outcome.allocation.total)))
    for p in written:
        console.print(f"[green]✓[/] {escape(tr('cli_batch.wrote', lang_s, path=str(p)))}")
    raise typer.Exit(outcome.exit_code)

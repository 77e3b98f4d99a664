"""``budgetlib scenarios``: the plan and its scenarios side by side (one plan, or a batch);
``budgetlib curve``: the budget–outcome curve.

Both go through :mod:`budgetlib.pipeline` (:func:`~budgetlib.pipeline.scenarios.run_scenarios`,
:func:`~budgetlib.pipeline.curve.run_curve`, :func:`~budgetlib.pipeline.batch.run_batch`), the same
functions the Excel ribbon and LibreOffice Calc call for "So sánh phương án".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.i18n import tr
from ..core.money import format_amount
from ..core.problems import PlanInvalid
from .app import ExitCode, Lang, LangOption, app, check_input_file, console, err_console, report_problems
from .cmd_allocate import WORKBOOK_SUFFIXES, batch_options, check_single_outputs, h, run_batch_cli, usage_exit
from .options import PolicyOption, YearOption

__all__ = ["scenarios", "print_comparison"]

DIMS = ("unit", "task", "year", "source", "target")


def _fmt(v: int | None, lang: str, *, sign: bool = False) -> str:
    if v is None:
        return "—"
    text = format_amount(int(v), lang=lang).removesuffix(" đ").removesuffix(" VND")
    return ("+" + text) if sign and v > 0 else text


def print_comparison(comparison: Any, lang: str, dims: tuple[str, ...]) -> None:
    """The overview table, then one table per dimension (base, each scenario, each difference)."""
    results = comparison.results
    t = Table(title=tr("scenario.sheet.title_overview", lang), caption=tr("cli_batch.scenarios.money_caption", lang))
    for key in ("scenario", "changes", "status", "budget", "allocated", "difference", "targets_met"):
        t.add_column(tr(f"scenario.sheet.col_{key}", lang), justify="right" if key in ("budget", "allocated", "difference") else "left",
                     overflow="fold", max_width=48 if key == "changes" else None)
    base_total = comparison.base.total if comparison.base.ok else None
    for r in results:
        changes = "; ".join(r.changes) if r.changes else tr("scenario.sheet.as_planned", lang)
        diff = r.total - base_total if (r.ok and base_total is not None) else None
        style = "green" if r.ok else "red"
        met = tr("scenario.sheet.met_of", lang, met=sum(t.met for t in r.attainment), total=len(r.attainment)) if r.attainment else ""
        t.add_row(escape(r.label(lang)), escape(changes), f"[{style}]{escape(tr(f'scenario.status.{r.status}', lang))}[/]",
                  _fmt(r.budget, lang), _fmt(r.total if r.ok else None, lang), _fmt(diff, lang, sign=True), met)
    console.print(t)
    labels = [r.label(lang) for r in results]
    for dim in dims:
        if dim == "target":
            _print_targets(comparison, lang)
            continue
        t = Table(title=tr(f"scenario.sheet.title_{dim}", lang))
        t.add_column(tr(f"scenario.sheet.col_code_{dim}", lang), no_wrap=True)
        if dim != "year":
            t.add_column(tr("scenario.sheet.col_name", lang), max_width=30 if len(results) <= 3 else 24, overflow="ellipsis")
        # up to two scenarios: base, each scenario, each difference; more: base and the differences only
        compact = len(results) > 3
        for label in labels[:1] if compact else labels:
            t.add_column(escape(label), justify="right")
        for label in labels[1:]:
            t.add_column(escape(tr("scenario.sheet.col_delta", lang, name=label)), justify="right")
        totals: list[int | None] = [0 if r.ok else None for r in results]
        for code, name, values in comparison.table(dim):
            base = values[0]
            diffs = [None if v is None or base is None else v - base for v in values[1:]]
            shown = values[:1] if compact else values
            cells = [_fmt(v, lang) for v in shown] + [(("[red]" if d < 0 else "") + _fmt(d, lang, sign=True)) if d is not None else "—" for d in diffs]
            row = [escape(str(code))] + ([escape(name)] if dim != "year" else []) + cells
            t.add_row(*row)
            totals = [None if (tot is None or v is None) else tot + v for tot, v in zip(totals, values)]
        tdiffs = [None if v is None or totals[0] is None else v - totals[0] for v in totals[1:]]
        t.add_row(tr("scenario.sheet.total", lang), *([""] if dim != "year" else []), *[_fmt(v, lang) for v in (totals[:1] if compact else totals)],
                  *[_fmt(d, lang, sign=True) for d in tdiffs], style="bold")
        console.print(t)


def _print_targets(comparison: Any, lang: str) -> None:
    rows: dict[tuple[str, int | None], tuple[str, float | None]] = {}
    for r in comparison.results:
        for a in r.attainment:
            rows.setdefault((a.target, a.year), (a.name, a.required))
    if not rows:
        return
    t = Table(title=tr("scenario.sheet.title_targets", lang))
    t.add_column(tr("scenario.sheet.col_target", lang))
    t.add_column(tr("scenario.sheet.col_target_name", lang), max_width=36, overflow="ellipsis")
    t.add_column(tr("scenario.sheet.col_required", lang), justify="right")
    for r in comparison.results:
        t.add_column(escape(r.label(lang)), justify="right")
    for (code, year), (name, required) in rows.items():
        cells = []
        for r in comparison.results:
            hit = next((a for a in r.attainment if (a.target, a.year) == (code, year)), None)
            if hit is None or not r.ok:
                cells.append("—")
            else:
                mark = "✓" if hit.met else "✗"
                funded = "" if hit.funded is None else tr("cli_batch.scenarios.funded", lang, funded=hit.funded) + " "
                cells.append(f"{'[green]' if hit.met else '[red]'}{funded}{mark}[/]")
        need = "—" if required is None else tr("cli_batch.scenarios.funded", lang, funded=required)
        t.add_row(escape(code), escape(name), need, *cells)
    console.print(t)


def _grid(budget_grid: str | None, source: str | None, lang: str) -> list[Any]:
    if budget_grid is None:
        if source is not None:
            raise usage_exit("scenarios.source_without_grid", lang)
        return []
    from ..planning.scenarios import budget_grid as make_grid
    from ..planning.scenarios import parse_budget_grid

    try:
        factors = parse_budget_grid(budget_grid)
    except ValueError:
        raise usage_exit("scenarios.bad_grid", lang, value=budget_grid) from None
    if not factors:
        raise usage_exit("scenarios.bad_grid", lang, value=budget_grid)
    return make_grid(factors, source=source, lang=lang)


@app.command(help=h("scenarios.help"), epilog=h("scenarios.epilog"))
def scenarios(
    plans: Annotated[list[Path], typer.Argument(help=h("allocate.plans"), show_default=False)],
    scenario: Annotated[list[str] | None, typer.Option("--scenario", "-s", help=h("scenarios.scenario"))] = None,
    budget_grid: Annotated[str | None, typer.Option("--budget-grid", "-g", help=h("scenarios.grid"))] = None,
    source: Annotated[str | None, typer.Option("--source", help=h("scenarios.source"))] = None,
    policy: PolicyOption = None,
    year: YearOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=h("scenarios.out"))] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help=h("scenarios.json"))] = None,
    by: Annotated[list[str] | None, typer.Option("--by", help=h("scenarios.by"))] = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help=h("batch.recursive"))] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1, help=h("batch.workers"))] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help=h("batch.scheduler"))] = None,
    resume: Annotated[bool, typer.Option("--resume", help=h("batch.resume"))] = False,
    manifest: Annotated[Path | None, typer.Option("--manifest", help=h("batch.manifest"))] = None,
    lang: LangOption = Lang.vi,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=h("scenarios.quiet"))] = False,
) -> None:
    """Compare a plan with its scenarios (help text: ``cli_batch.scenarios.help``)."""
    lang_s = str(lang.value)
    dims = tuple(dict.fromkeys(by or ("unit", "target")))
    for d in dims:
        if d not in DIMS:
            raise usage_exit("scenarios.bad_by", lang_s, value=d, allowed=list(DIMS))
    extra = _grid(budget_grid, source, lang_s)
    batch_mode = len(plans) > 1 or any(p.is_dir() for p in plans) or recursive or resume or scheduler is not None
    if batch_mode:
        options = batch_options("scenarios", policy=policy, years=year, lang=lang_s, scenarios=scenario, extra=extra,
                                xlsx=True, json=json_out is not None)
        raise typer.Exit(run_batch_cli(plans, options, out_dir=out, json_dir=json_out, recursive=recursive, workers=workers,
                                       scheduler=scheduler, resume=resume, manifest=manifest, quiet=quiet, lang=lang_s))
    plan_path = check_input_file(plans[0], lang_s)
    from .. import pipeline
    from ..pipeline.batch import SCENARIOS_SUFFIX

    if out is None and plan_path.suffix.lower() in WORKBOOK_SUFFIXES:
        out = plan_path.with_name(f"{plan_path.stem}{SCENARIOS_SUFFIX}.xlsx")
    check_single_outputs(plan_path, [("-o/--out", out, (".xlsx",)), ("--json", json_out, (".json",))], lang_s)
    try:
        book = pipeline.load_book_or_plan(plan_path)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang_s)
        raise typer.Exit(ExitCode.INVALID) from None
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task(tr("cli_batch.allocating", lang_s), total=None)

            def progress(done: int, total: int, message: str = "") -> None:
                bar.update(task, completed=done, total=total or None, description=escape(message or tr("cli_batch.allocating", lang_s)))

            outcome = pipeline.run_scenarios(
                book, names=scenario or None, extra=extra, policy=policy.value if policy else None, years=year, lang=lang_s,
                progress=progress, source_name=plan_path.name, input_sha256=pipeline.sha256_file(plan_path),
            )
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    if outcome.comparison is None:
        report_problems(outcome.problems, lang=lang_s)
        raise typer.Exit(outcome.exit_code)
    if not quiet:
        print_comparison(outcome.comparison, lang_s, dims)
    else:
        print_comparison(outcome.comparison, lang_s, ())
    failed = [p for p in outcome.problems if p.severity.value == "error"]
    if failed:
        report_problems(failed, lang=lang_s)
    written = []
    from ..io.atomic import OutputLocked, atomic_write_text
    from ..io.workbook import write_sheets

    try:
        if out is not None:
            written.append(write_sheets(outcome.sheets, out))
        if json_out is not None:
            atomic_write_text(json_out, outcome.to_json())
            written.append(json_out)
    except OutputLocked as exc:
        from .options import locked_exit

        raise locked_exit(exc, lang_s) from None
    for p in written:
        console.print(f"[green]✓[/] {escape(tr('cli_batch.wrote', lang_s, path=str(p)))}")
    raise typer.Exit(outcome.exit_code)


@app.command(help=h("curve.help"), epilog=h("curve.epilog"))
def curve(
    plan: Annotated[Path, typer.Argument(help=h("allocate.plans"), show_default=False)],
    levels: Annotated[str, typer.Option("--levels", "-l", help=h("curve.levels"))] = "50%:150%:5%",
    source: Annotated[str | None, typer.Option("--source", help=h("curve.source"))] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=h("curve.out"))] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help=h("curve.json"))] = None,
    lang: LangOption = Lang.vi,
) -> None:
    """The budget–outcome curve (help text: ``cli_batch.curve.help``)."""
    from .. import pipeline
    from ..pipeline.curve import curve_levels, run_curve

    lang_s = str(lang.value)
    check_input_file(plan, lang_s)
    try:
        curve_levels(levels)
    except (ValueError, ArithmeticError):
        err_console.print(f"[bold red]✗[/] {escape(tr('curve.bad_levels', lang_s, value=levels))}")
        raise typer.Exit(ExitCode.USAGE) from None
    check_single_outputs(plan, [("-o/--out", out, (".xlsx",)), ("--json", json_out, (".json",))], lang_s)
    try:
        book = pipeline.load_book_or_plan(plan)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang_s)
        raise typer.Exit(ExitCode.INVALID) from None
    try:
        outcome = run_curve(book, levels=levels, source=source, lang=lang_s, source_name=plan.name, input_sha256=pipeline.sha256_file(plan))
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    if outcome.plan is None or not outcome.families:
        report_problems(outcome.problems, lang=lang_s)
        raise typer.Exit(outcome.exit_code)
    t = Table(title=escape(str(outcome.sheets[0].rows[0][0])), caption=escape(tr("curve.note", lang_s)))
    t.add_column(tr("curve.col.level", lang_s), justify="right")
    t.add_column(tr("curve.col.budget", lang_s), justify="right")
    for f in outcome.families:
        label = tr("curve.col.outcome", lang_s) if f.key == "outcome" else tr("curve.col.target", lang_s, target=f.key)
        t.add_column(escape(label), justify="right")
    for i, p in enumerate(outcome.families[0].points):
        cells = []
        for f in outcome.families:
            v = f.points[i].value
            if v is None:
                cells.append("—")
            elif f.key == "outcome" or not f.required:
                cells.append(tr("cli_batch.scenarios.funded", lang_s, funded=v))
            else:
                ok = v >= f.required - 1e-9 * max(1.0, f.required)
                cells.append(f"{'[green]' if ok else '[red]'}{tr('cli_batch.scenarios.funded', lang_s, funded=v)}/{tr('cli_batch.scenarios.funded', lang_s, funded=f.required)}[/]")
        style = "bold" if p.factor == 1 else None
        t.add_row(tr("curve.level", lang_s, factor=p.factor), _fmt(p.budget, lang_s), *cells, style=style)
    console.print(t)
    level = outcome.first_level_meeting_targets()
    if level is not None:
        console.print(escape(f"{tr('curve.first_level', lang_s)}: {tr('curve.level', lang_s, factor=level)}"))
    if outcome.cheapest is not None and outcome.cheapest.ok:
        console.print(escape(f"{tr('curve.cheapest', lang_s)}: {format_amount(outcome.cheapest.total, lang=lang_s)}"))
    from ..io.atomic import atomic_write_text
    from ..io.workbook import write_sheets

    written = []
    if out is not None:
        written.append(write_sheets(outcome.sheets, out))
    if json_out is not None:
        atomic_write_text(json_out, outcome.to_json())
        written.append(json_out)
    for p_ in written:
        console.print(f"[green]✓[/] {escape(tr('cli_batch.wrote', lang_s, path=str(p_)))}")
    raise typer.Exit(ExitCode.OK)

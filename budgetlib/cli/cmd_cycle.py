"""The budget cycle on the command line: ``progress``, ``revise``, ``carry-over``, ``chain`` and
``actuals-template``, all through :mod:`budgetlib.pipeline` (as the add-ins).

The allocation in force is the plan's allocation with every year before the period closed and the
next year re-split, unless ``--allocation`` names one (``budgetlib allocate --json`` output, or a
state written by ``revise --save`` / ``carry-over --save``). Exit codes: 0 ok, 1 errors in the plan
or the actuals (all printed, each located), 2 a re-split is infeasible, 3 usage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..core.i18n import format_number, tr
from ..core.lang import Lang as CoreLang
from ..core.problems import PlanInvalid, Severity
from ..io.atomic import OutputLocked
from .app import ExitCode, Lang, LangOption, app, check_input_file, console, err_console, report_problems
from .localize import bad_parameter, help_code
from .options import locked_exit

PlanArg = Annotated[Path, typer.Argument(help=help_code("cli.plan_arg"), show_default=False)]
PeriodOption = Annotated[str, typer.Option("--period", "-p", help=help_code("cycle.cli.help.period"))]
ActualsOption = Annotated[
    list[Path] | None,
    typer.Option("--actuals", "-a", help=help_code("cycle.cli.help.actuals")),
]
AllocationOption = Annotated[
    Path | None,
    typer.Option("--allocation", help=help_code("cycle.cli.help.allocation")),
]
PriorOption = Annotated[
    str, typer.Option("--prior", help=help_code("cycle.cli.help.prior"))
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help=help_code("cycle.cli.help.out"))]
JsonOption = Annotated[Path | None, typer.Option("--json", help=help_code("cycle.cli.help.json"))]
SaveOption = Annotated[
    Path | None, typer.Option("--save", help=help_code("cycle.cli.help.save"))
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help=help_code("cycle.cli.help.quiet"))]


def _num(v: Any, lang: str) -> str:
    return format_number(int(v), lang, decimals=0)


def _pct(v: float, lang: str) -> str:
    return "—" if v != v else tr("cycle.cli.pct", lang, rate=float(v))


def _load(plan: Path, lang: str) -> Any:
    from .. import pipeline

    return pipeline.load_book_or_plan(check_input_file(plan, lang))


def _state(path: Path | None, lang: str) -> Any:
    if path is None:
        return None
    from ..model.cycle import CycleState

    try:
        return CycleState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        err_console.print(f"[bold red]✗[/] {tr('cycle.cli.bad_allocation', lang, path=str(path), reason=type(exc).__name__)}")
        raise typer.Exit(ExitCode.USAGE) from None


def _actuals(paths: list[Path] | None) -> Any:
    if not paths:
        return None
    return [str(p) for p in paths]


def _default_out(plan: Path, out: Path | None, suffix: str) -> Path | None:
    from ..io.files import FileKind, file_kind

    if out is not None:
        return out
    if file_kind(plan) is FileKind.WORKBOOK:
        return plan.with_name(f"{plan.stem}{suffix}.xlsx")
    return None


def _write(outcome: Any, out: Path | None, json_out: Path | None, save: Path | None, lang: str) -> None:
    from ..io.atomic import atomic_write_text
    from ..io.workbook import write_sheets

    written: list[Path] = []
    for target in (out, json_out, save):
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if out is not None and outcome.sheets:
            written.append(write_sheets(outcome.sheets, out))
        if json_out is not None:
            atomic_write_text(json_out, json.dumps(outcome.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
            written.append(json_out)
        if save is not None and outcome.state is not None and outcome.ok:
            atomic_write_text(save, outcome.state.to_json())
            written.append(save)
    except OutputLocked as exc:
        raise locked_exit(exc, lang) from None
    for p in written:
        console.print(f"[green]✓[/] {tr('cycle.cli.wrote', lang, path=str(p))}")


def _problems(outcome: Any, lang: str) -> None:
    """Errors as every command prints them; warnings after them, marked as warnings."""
    errors = [p for p in outcome.problems if p.severity is Severity.ERROR]
    warnings = [p for p in outcome.problems if p.severity is not Severity.ERROR]
    if errors:
        report_problems(errors, lang=lang)
    for p in warnings:
        err_console.print(f"  [yellow]![/] {Severity.WARNING.label(lang)}: {p.render(lang, with_file=True)}", highlight=False)


def _run(fn: Any, plan: Path, lang: str, **kwargs: Any) -> Any:
    from .. import pipeline

    book = _load(plan, lang)
    try:
        return fn(book, lang=lang, source_name=plan.name, input_sha256=pipeline.sha256_file(plan), **kwargs)
    except PlanInvalid as exc:  # a JSON plan that cannot be read at all
        report_problems(exc.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID) from None
    finally:
        close = getattr(book, "close", None)
        if close:
            close()


def _period(text: str, lang: str) -> Any:
    from ..core.i18n import LocalizedError
    from ..model.actuals import Period

    try:
        return Period.parse(text)
    except LocalizedError as exc:
        raise bad_parameter(exc.code, CoreLang(str(lang)), **exc.params) from None


@app.command(help=help_code("cycle.cli.help.progress"), epilog=help_code("cycle.cli.help.progress_example"))
def progress(
    plan: PlanArg,
    period: PeriodOption,
    actuals: ActualsOption = None,
    allocation: AllocationOption = None,
    prior: PriorOption = "spending",
    low_h1: Annotated[float, typer.Option("--low-h1", help=help_code("cycle.cli.help.low_h1"))] = 0.35,
    low_year: Annotated[float, typer.Option("--low-year", help=help_code("cycle.cli.help.low_year"))] = 0.80,
    out: OutOption = None,
    json_out: JsonOption = None,
    lang: LangOption = Lang.vi,
    quiet: QuietOption = False,
) -> None:
    from ..pipeline.cycle import run_progress
    from ..planning.execution import ProgressSettings

    p = _period(period, lang)
    outcome = _run(run_progress, plan, lang, period=p, actuals=_actuals(actuals), state=_state(allocation, lang), prior=prior,
                   settings=ProgressSettings(low_h1=low_h1, low_year=low_year))
    _problems(outcome, lang)
    if outcome.progress is not None:
        _print_progress(outcome, lang, table=not quiet)
    _write(outcome, _default_out(plan, out, "_tien_do"), json_out, None, lang)
    raise typer.Exit(int(outcome.exit_code))


def _print_progress(outcome: Any, lang: str, *, table: bool = True) -> None:
    p = outcome.progress
    names = {u.code: u.name for u in outcome.plan.units}
    col = lambda k: tr(f"cycle.sheet.col.{k}", lang)  # noqa: E731
    t = Table(title=tr("cycle.cli.progress_title", lang, period=p.period.label(), program=outcome.plan.program.code),
              caption=tr("cycle.cli.caption", lang))
    t.add_column(col("unit"), no_wrap=True)
    t.add_column(col("name"), max_width=26, overflow="ellipsis")
    for k in ("allocated", "disbursed", "rate", "disbursed_to_date"):
        t.add_column(col(k), justify="right")
    a, d, r, dtd = p.by("allocated", "unit"), p.by("disbursed", "unit"), p.rate("unit"), p.by("disbursed_to_date", "unit")
    for i, u in enumerate(p.units):
        t.add_row(u, names.get(u, ""), _num(a[i], lang), _num(d[i], lang), _pct(r[i], lang), _num(dtd[i], lang))
    total_rate = p.total_disbursed / p.total_allocated if p.total_allocated else float("nan")
    t.add_row(col("total"), "", _num(p.total_allocated, lang), _num(p.total_disbursed, lang), _pct(total_rate, lang),
              _num(p.disbursed_to_date.sum(), lang), style="bold")
    if p.illustrative:
        console.print(f"[bold yellow]{tr('cycle.sheet.illustrative', lang)}[/]")
    if table:
        console.print(t)
    else:
        console.print(tr("cycle.sheet.report.money_summary", lang, allocated=p.total_allocated, disbursed=p.total_disbursed,
                         rate=total_rate if total_rate == total_rate else 0.0, undisbursed=p.total_allocated - p.total_disbursed,
                         period=p.period.label()), markup=False, highlight=False)
    for ind in p.indicators:
        console.print(tr(f"cycle.sheet.report.target_{ind.status}", lang, target=ind.target.code, name=ind.target.name, actual=ind.actual or 0.0,
                         expected=ind.expected or 0.0, final=ind.final or 0.0, final_year=ind.final_year or p.period.year,
                         reported=ind.units_reported, units=ind.units_expected), markup=False, highlight=False)
    for f in p.flags:
        console.print(f"[yellow]![/] {f.message(lang)}", highlight=False)
    for rep in p.reports:
        due = (tr("cycle.sheet.report.due_date", lang, date=rep.due.strftime("%d/%m/%Y")) if rep.due
               else tr("cycle.sheet.report.due_none", lang))
        console.print("→ " + tr("cycle.sheet.report.rule", lang, reporter=rep.rule.reporter, recipient=rep.rule.recipient,
                                cadence=tr(f"cycle.sheet.cadence.{rep.rule.cadence.value}", lang), due=due), markup=False, highlight=False)
    if not p.reports:
        console.print(tr("cycle.sheet.report.no_rule", lang, period=p.period.label()), markup=False)


@app.command(help=help_code("cycle.cli.help.revise"), epilog=help_code("cycle.cli.help.revise_example"))
def revise(
    plan: PlanArg,
    period: PeriodOption,
    actuals: ActualsOption = None,
    allocation: AllocationOption = None,
    prior: PriorOption = "spending",
    out: OutOption = None,
    json_out: JsonOption = None,
    save: SaveOption = None,
    lang: LangOption = Lang.vi,
    quiet: QuietOption = False,
) -> None:
    from ..pipeline.cycle import run_revise

    p = _period(period, lang)
    outcome = _run(run_revise, plan, lang, period=p, actuals=_actuals(actuals), state=_state(allocation, lang), prior=prior)
    _problems(outcome, lang)
    rev = outcome.revision
    if rev is not None and not quiet:
        col = lambda k: tr(f"cycle.sheet.col.{k}", lang)  # noqa: E731
        t = Table(title=tr("cycle.cli.revision_title", lang, year=rev.year, period=rev.period.label()), caption=tr("cycle.cli.caption", lang))
        t.add_column(col("unit"), no_wrap=True)
        t.add_column(col("name"), max_width=22, overflow="ellipsis")
        for k in ("original", "disbursed", "revised", "change"):
            t.add_column(col(k), justify="right")
        for c in rev.changes:
            t.add_row(c.unit, c.name, _num(c.original, lang), _num(c.disbursed, lang), _num(c.revised, lang),
                      ("[red]" if c.change < 0 else "") + _num(c.change, lang))
        t.add_row(col("total"), "", _num(sum(c.original for c in rev.changes), lang), _num(sum(c.disbursed for c in rev.changes), lang),
                  _num(sum(c.revised for c in rev.changes), lang), _num(sum(c.change for c in rev.changes), lang), style="bold")
        console.print(t)
        for c in rev.changes:
            for m in c.reasons:
                console.print(f"  {c.unit} {c.name}: {m.render(lang)}", markup=False, highlight=False)
    _write(outcome, _default_out(plan, out, "_dieu_chinh"), json_out, save, lang)
    raise typer.Exit(int(outcome.exit_code))


@app.command("carry-over", help=help_code("cycle.cli.help.carry_over"), epilog=help_code("cycle.cli.help.carry_over_example"))
def carry_over(
    plan: PlanArg,
    year: Annotated[int, typer.Option("--year", "-y", help=help_code("cycle.cli.help.year"))],
    actuals: ActualsOption = None,
    allocation: AllocationOption = None,
    prior: PriorOption = "spending",
    out: OutOption = None,
    json_out: JsonOption = None,
    save: SaveOption = None,
    lang: LangOption = Lang.vi,
    quiet: QuietOption = False,
) -> None:
    from ..pipeline.cycle import run_carry_over

    if prior not in ("spending", "allocation", "none"):
        raise bad_parameter("cycle.cli.bad_prior", CoreLang(str(lang)), value=prior)
    outcome = _run(run_carry_over, plan, lang, year=year, actuals=_actuals(actuals), state=_state(allocation, lang), prior=prior)
    _problems(outcome, lang)
    res = outcome.carry
    if res is not None and not quiet:
        _print_carry(outcome, lang)
    _write(outcome, _default_out(plan, out, "_chuyen_nguon"), json_out, save, lang)
    raise typer.Exit(int(outcome.exit_code))


def _print_carry(outcome: Any, lang: str) -> None:
    res = outcome.carry
    c = res.closing
    names = {u.code: u.name for u in outcome.plan.units}
    col = lambda k: tr(f"cycle.sheet.col.{k}", lang)  # noqa: E731
    t = Table(title=tr("cycle.cli.closing_title", lang, year=c.year), caption=tr("cycle.cli.caption", lang))
    t.add_column(col("unit"), no_wrap=True)
    t.add_column(col("name"), max_width=22, overflow="ellipsis")
    for k in ("allocated", "disbursed", "carried", "recalled"):
        t.add_column(col(k), justify="right")
    arrays = [c.by(k, "unit") for k in ("allocated", "disbursed", "carried", "recalled")]
    for i, u in enumerate(c.units):
        t.add_row(u, names.get(u, ""), *(_num(a[i], lang) for a in arrays))
    t.add_row(col("total"), "", *(_num(a.sum(), lang) for a in arrays), style="bold")
    console.print(t)
    for s, rule, declared in zip(c.sources, c.rules, c.declared):
        label = tr(f"cycle.sheet.rule.{rule.value}", lang) + ("" if declared else " " + tr("cycle.sheet.rule.default", lang))
        console.print(f"  {s}: {label}", markup=False, highlight=False)
    if res.next_year is None:
        console.print(tr("cycle.sheet.closing_last_year", lang, year=c.year), markup=False)
        return
    st, before = res.state, outcome.before
    y = st.year_index(res.next_year)
    t2 = Table(title=tr("cycle.sheet.next_title", lang, year=res.next_year, closed=c.year), caption=tr("cycle.cli.caption", lang))
    t2.add_column(col("unit"), no_wrap=True)
    t2.add_column(col("name"), max_width=22, overflow="ellipsis")
    for k in ("before", "new_money", "carried_in", "in_force", "change"):
        t2.add_column(col(k), justify="right")
    old = before.amounts[:, :, y, :].sum(axis=(1, 2))
    carried = st.carried_in[:, :, y, :].sum(axis=(1, 2))
    total = st.amounts[:, :, y, :].sum(axis=(1, 2))
    for i, u in enumerate(st.units):
        t2.add_row(u, names.get(u, ""), _num(old[i], lang), _num(total[i] - carried[i], lang), _num(carried[i], lang), _num(total[i], lang),
                   _num(total[i] - old[i], lang))
    t2.add_row(col("total"), "", *(_num(v, lang) for v in (old.sum(), (total - carried).sum(), carried.sum(), total.sum(), total.sum() - old.sum())),
               style="bold")
    console.print(t2)


@app.command(help=help_code("cycle.cli.help.chain"), epilog=help_code("cycle.cli.help.chain_example"))
def chain(
    plans: Annotated[list[Path], typer.Argument(help=help_code("cycle.cli.help.plans"), show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=help_code("cycle.cli.help.chain_out")),
    ] = None,
    json_out: JsonOption = None,
    lang: LangOption = Lang.vi,
    quiet: QuietOption = False,
) -> None:
    from ..io import save_plan
    from ..io.atomic import atomic_write_text
    from ..io.workbook import write_sheets
    from ..pipeline.cycle import run_chain

    for p in plans:
        if not p.exists():
            raise bad_parameter("cli.error.no_file", CoreLang(str(lang)), path=str(p))
    outcome = run_chain([str(p) for p in plans], lang=lang)
    _problems(outcome, lang)
    result = outcome.carry
    if result is not None and not quiet:
        col = lambda k: tr(f"cycle.sheet.col.{k}", lang)  # noqa: E731
        t = Table(title=tr("cycle.sheet.chain_title", lang), caption=tr("cycle.cli.caption", lang))
        for k, just in (("plan", "left"), ("level", "left"), ("unit", "left"), ("from_above", "right"), ("allocated_below", "right"),
                        ("difference", "right"), ("plan_total", "right")):
            t.add_column(tr(f"cycle.cli.chain_col.{k}", lang) if k in ("plan", "plan_total") else col(k), justify=just)  # type: ignore[arg-type]
        for node in result.nodes:
            mine = [r for r in result.rows if r.unit == node.home] if node.parent is not None else []
            above = sum(r.from_above for r in mine)
            below = sum(r.allocated_below for r in mine)
            total = node.allocation.total if node.allocation is not None and node.allocation.ok else None
            level = tr(f"term.{node.plan.program.level.value}", lang)
            dash = "—"
            t.add_row(("  " if node.parent is not None else "") + node.name, level, node.home or dash,
                      _num(above, lang) if mine else dash, _num(below, lang) if mine else dash, _num(above - below, lang) if mine else dash,
                      _num(total, lang) if total is not None else dash)
        console.print(t)
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            written = [write_sheets(outcome.sheets, out / "lien_cap.xlsx")]
            for node in result.nodes if result is not None else ():
                stem = Path(node.name).stem
                if node.parent is not None and node.fed is not None:
                    save_plan(node.fed, out / f"{stem}_tu_cap_tren.json")
                    written.append(out / f"{stem}_tu_cap_tren.json")
                if node.allocation is not None:
                    atomic_write_text(out / f"{stem}_phan_bo.json", node.allocation.to_json())
                    written.append(out / f"{stem}_phan_bo.json")
        except OutputLocked as exc:
            raise locked_exit(exc, lang) from None
        for w in written:
            console.print(f"[green]✓[/] {tr('cycle.cli.wrote', lang, path=str(w))}")
    if json_out is not None:
        from ..io.atomic import atomic_write_text as _write_text

        _write_text(json_out, json.dumps(outcome.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    raise typer.Exit(int(outcome.exit_code))


@app.command("actuals-template", help=help_code("cycle.cli.help.actuals_template"), epilog=help_code("cycle.cli.help.actuals_template_example"))
def actuals_template(
    plan: PlanArg,
    out: Annotated[Path, typer.Option("--out", "-o", help=help_code("cycle.cli.help.template_out"))],
    period: Annotated[list[str] | None, typer.Option("--period", "-p", help=help_code("cycle.cli.help.template_period"))] = None,
    actuals: ActualsOption = None,
    allocation: AllocationOption = None,
    lang: LangOption = Lang.vi,
) -> None:
    from ..cycle import original_state
    from ..io.actuals import read_actuals
    from ..io.workbook import write_sheets
    from ..io.workbook.actuals import actuals_sheets

    book = _load(plan, lang)
    from .. import pipeline

    checked = pipeline.run_validate(book, lang=lang, source_name=plan.name)
    if checked.plan is None or checked.errors:
        report_problems(checked.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID)
    st = _state(allocation, lang) or original_state(checked.plan)
    doc = None
    if actuals:
        read = read_actuals([str(a) for a in actuals], plan=checked.plan.program.code)
        if read.problems and any(p.severity is Severity.ERROR for p in read.problems):
            report_problems(read.problems, lang=lang)
            raise typer.Exit(ExitCode.INVALID)
        doc = read.actuals
    periods = [_period(p, lang) for p in (period or [])]
    try:
        write_sheets(actuals_sheets(checked.plan, st, periods=periods, actuals=doc, lang=CoreLang(lang.value)), out)
    except OutputLocked as exc:
        raise locked_exit(exc, lang) from None
    console.print(f"[green]✓[/] {tr('cycle.cli.wrote', lang, path=str(out))}")


"""Commands on plan files: ``schema``, ``validate``, ``summary`` — all through :mod:`budgetlib.pipeline`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .. import pipeline
from ..core.i18n import tr
from ..core.lang import as_lang
from ..io.jsonio import plan_json_schema
from ..model.plan import Plan
from ..planning.summary import BUDGET_DIMENSIONS, budget_pivot
from .app import ExitCode, Lang, LangOption, app, check_input_file, console, report_problems
from .localize import bad_parameter, help_code

PlanArg = Annotated[Path, typer.Argument(help=help_code("cli.plan_arg"), show_default=False)]


@app.command(help=help_code("cli.schema.help"), epilog=help_code("cli.schema.example"))
def schema(lang: LangOption = Lang.vi) -> None:
    console.print_json(json.dumps(plan_json_schema(), ensure_ascii=False))


def _checked(plan: Path, lang: Lang, *, as_json: bool = False) -> pipeline.RunOutcome:
    """Read and check a plan file once, through the pipeline; print every problem."""
    outcome = pipeline.run_validate(check_input_file(plan, lang), lang=lang, source_name=plan.name)
    if outcome.problems:
        report_problems(outcome.problems, lang=lang, as_json=as_json)
    elif as_json:
        console.print_json("[]")
    return outcome


@app.command(help=help_code("cli.validate.help"), epilog=help_code("cli.validate.example"))
def validate(
    plan: PlanArg,
    lang: LangOption = Lang.vi,
    as_json: Annotated[bool, typer.Option("--json", help=help_code("cli.validate.json"))] = False,
) -> None:
    outcome = _checked(plan, lang, as_json=as_json)
    if outcome.exit_code is not ExitCode.OK:
        raise typer.Exit(outcome.exit_code)
    if not as_json and outcome.plan is not None:
        p = outcome.plan
        console.print(f"[green]✓[/] {escape(tr('cli.validate.ok', lang, name=p.program.name, amount=p.program.total))}")


def _label(plan: Plan, dim: str, key: object) -> str:
    if dim == "task":
        return f"{key} {plan.task(str(key)).name}"
    if dim == "agency":
        return next((f"{key} {a.name}" for a in plan.agencies if a.code == key), str(key))
    if dim == "source":
        return next((f"{key} {s.name}" for s in plan.sources if s.code == key), str(key))
    return str(key)


@app.command(help=help_code("cli.summary.help"), epilog=help_code("cli.summary.example"))
def summary(
    plan: PlanArg,
    rows: Annotated[str, typer.Option(help=help_code("cli.summary.rows"))] = "task",
    cols: Annotated[str, typer.Option(help=help_code("cli.summary.cols"))] = "year",
    lang: LangOption = Lang.vi,
) -> None:
    for dim in (rows, cols):
        if dim not in BUDGET_DIMENSIONS:
            raise bad_parameter("cli.error.dimension", as_lang(lang), value=dim, choices=list(BUDGET_DIMENSIONS))
    outcome = _checked(plan, lang)
    if outcome.exit_code is not ExitCode.OK or outcome.plan is None:
        raise typer.Exit(outcome.exit_code)
    loaded = outcome.plan
    pivot = budget_pivot(loaded, rows=(rows,), cols=(cols,))

    def fmt(v: int) -> str:
        return tr("cli.int", lang, value=int(v))

    total_label = tr("cli.total", lang)
    table = Table(
        title=escape(f"{loaded.program.name} ({loaded.program.first_year}–{loaded.program.last_year})"),
        caption=tr("cli.amounts_in_dong", lang),
    )
    table.add_column(tr(f"cli.dimension.{rows}", lang), no_wrap=True, max_width=34, overflow="ellipsis")
    for key in pivot.col_keys:
        table.add_column(escape(_label(loaded, cols, key)), justify="right")
    table.add_column(total_label, justify="right", style="bold")
    for key, row, row_total in zip(pivot.row_keys, pivot.matrix, pivot.row_totals):
        table.add_row(escape(_label(loaded, rows, key)), *map(fmt, row), fmt(row_total))
    table.add_row(total_label, *map(fmt, pivot.col_totals), fmt(pivot.total), style="bold")
    console.print(table)
    program_total = loaded.program.total
    if pivot.total == program_total:
        console.print(f"[green]✓[/] {tr('cli.summary.reconciled', lang, amount=program_total)}")
    else:
        console.print(f"[red]✗[/] {tr('cli.summary.differs', lang, total=pivot.total, program_total=program_total)}")
        raise typer.Exit(ExitCode.INVALID)

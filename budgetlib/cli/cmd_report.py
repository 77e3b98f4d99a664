"""``budgetlib report``: allocation summaries by unit, task and year in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.money import format_amount
from ..core.problems import PlanInvalid
from .app import ExitCode, Lang, LangOption, app, console, report_problems
from .options import PolicyOption, YearOption, summary_tables


@app.command()
def report(
    plan: Annotated[Path, typer.Argument(help="Tệp kế hoạch (.xlsx hoặc .json) / plan file")],
    policy: PolicyOption = None,
    year: YearOption = None,
    by: Annotated[
        Optional[list[str]], typer.Option("--by", help="unit, task, year (lặp lại; mặc định cả ba) / repeatable; default all three")
    ] = None,
    lang: LangOption = Lang.vi,
) -> None:
    """In tổng hợp phân bổ theo địa bàn, nhiệm vụ, năm / print allocation summaries by unit, task, year."""
    from .. import pipeline

    dims = tuple(by or ("unit", "task", "year"))
    for d in dims:
        if d not in ("unit", "task", "year"):
            raise typer.BadParameter(f"--by {d!r}: dùng / use unit, task, year")
    try:
        book = pipeline.load_book_or_plan(plan)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID) from None
    outcome = pipeline.run_allocate(book, policy=policy.value if policy else None, years=year, lang=lang)
    if outcome.exit_code == ExitCode.INVALID:
        report_problems(outcome.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID)
    if outcome.exit_code == ExitCode.INFEASIBLE:
        for line in outcome.explanation():
            console.print(line, markup=False)
        raise typer.Exit(ExitCode.INFEASIBLE)
    p = outcome.plan
    console.print(f"[bold]{p.program.name}[/] ({p.program.first_year}–{p.program.last_year}): {format_amount(outcome.allocation.total, lang=lang)}")
    for t in summary_tables(outcome, lang, dims):
        console.print(t)


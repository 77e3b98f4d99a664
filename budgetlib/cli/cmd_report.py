"""``budgetlib report``: allocation summaries by unit, task and year in the terminal, and the
printable PDF budget book (``--pdf OUT.pdf``) through :func:`budgetlib.pipeline.write_budget_book`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..core.lang import as_lang
from ..core.money import format_amount
from ..core.problems import PlanInvalid
from .app import ExitCode, Lang, LangOption, app, console, err_console, report_problems
from .localize import bad_parameter, help_code
from .options import PolicyOption, YearOption, summary_tables


@app.command(help=help_code("cli.report.help"), epilog=help_code("cli.report.example"))
def report(
    plan: Annotated[Path, typer.Argument(help=help_code("cli.plan_arg"), show_default=False)],
    policy: PolicyOption = None,
    year: YearOption = None,
    by: Annotated[list[str] | None, typer.Option("--by", help=help_code("cli.report.by"))] = None,
    lang: LangOption = Lang.vi,
    pdf: Annotated[Path | None, typer.Option("--pdf", help=help_code("cli.report.pdf"))] = None,
    boundaries: Annotated[Path | None, typer.Option("--boundaries", help=help_code("cli.report.boundaries"))] = None,
) -> None:
    """Allocation summaries in the terminal, or the PDF budget book (help text: ``cli.report.*``).

    Exit codes: 0 ok, 1 validation errors, 2 infeasible, 3 usage error or an output that cannot be written.
    """
    from .. import pipeline

    dims = tuple(by or ("unit", "task", "year"))
    for d in dims:
        if d not in ("unit", "task", "year"):
            raise bad_parameter("cli.report.bad_by", as_lang(lang), value=d)
    try:
        book = pipeline.load_book_or_plan(plan)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID) from None
    if pdf is not None:
        raise typer.Exit(_write_pdf(book, plan, pdf, boundaries, policy=policy.value if policy else None, years=year, lang=lang))
    outcome = pipeline.run_allocate(book, policy=policy.value if policy else None, years=year, lang=lang)
    if outcome.exit_code == ExitCode.INVALID:
        report_problems(outcome.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID)
    if outcome.exit_code == ExitCode.INFEASIBLE:
        for line in outcome.explanation():
            console.print(line, markup=False)
        raise typer.Exit(ExitCode.INFEASIBLE)
    p = outcome.plan
    assert p is not None and outcome.allocation is not None
    console.print(f"[bold]{p.program.name}[/] ({p.program.first_year}–{p.program.last_year}): {format_amount(outcome.allocation.total, lang=lang)}")
    for t in summary_tables(outcome, lang, dims):
        console.print(t)



def _write_pdf(book, plan_path: Path, out: Path, boundaries: Path | None, *, policy, years, lang: str) -> int:
    from ..core.i18n import tr
    from ..io.atomic import OutputError
    from ..pipeline import write_budget_book

    try:
        done = write_budget_book(book, out, policy=policy, years=years, lang=lang, boundaries=boundaries, plan_path=plan_path, source_name=plan_path.name)
    except OutputError as exc:
        err_console.print(f"[bold red]✗[/] {exc.message(lang)}", markup=True, highlight=False)
        return int(ExitCode.USAGE)
    except ValueError as exc:  # a boundary file that is not GeoJSON
        err_console.print(f"[bold red]✗[/] {exc}", markup=False)
        return int(ExitCode.USAGE)
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    if done.exit_code == ExitCode.INVALID:
        report_problems(done.problems, lang=lang)
        return int(ExitCode.INVALID)
    if done.exit_code == ExitCode.INFEASIBLE:
        for line in done.run.explanation():
            console.print(line, markup=False)
    console.print(f"[green]✓[/] {tr('book.written', lang, path=str(done.path))}", highlight=False)
    return int(done.exit_code)

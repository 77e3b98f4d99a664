"""``budgetlib template``: the planning workbook, blank or filled with an example, optionally with
the units of a CSV file (or of a block of cells pasted on standard input)."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..core.i18n import tr
from ..core.lang import as_lang
from ..core.problems import PlanInvalid
from ..io.atomic import OutputLocked
from ..model.plan import Plan
from .app import ExitCode, Lang, LangOption, app, console, report_problems
from .localize import bad_parameter, help_code
from .options import locked_exit, resolve_example

STDIN = "-"


def _check_out(out: Path, units: str | None, *, force: bool, lang: Lang) -> None:
    """Usage errors (exit 3) before any work: wrong suffix, a folder, an existing file without
    ``--force``, the units file itself."""
    if out.suffix.lower() != ".xlsx":
        raise bad_parameter("workbook.cli.not_xlsx", as_lang(lang), path=str(out))
    if out.is_dir():
        raise bad_parameter("workbook.cli.out_is_directory", as_lang(lang), path=str(out))
    if units not in (None, STDIN) and Path(str(units)).resolve() == out.resolve():
        raise bad_parameter("workbook.cli.out_is_input", as_lang(lang), path=str(out))
    if out.exists() and not force:
        raise bad_parameter("workbook.cli.exists", as_lang(lang), path=str(out))


def _plan(example: str | None, units: str | None, lang: Lang) -> Plan:
    """The plan to write: the example (or a blank plan), its units replaced by the table's."""
    from ..io.jsonio import load_plan
    from ..io.workbook import blank_plan
    from ..io.workbook.units_table import read_units, units_from_text, with_units

    plan = load_plan(resolve_example(example, lang)) if example else blank_plan(lang)
    if units is None:
        return plan
    if units == STDIN:
        table = units_from_text(sys.stdin.read(), source=tr("workbook.cli.stdin", lang))
    else:
        table = read_units(units)
    return with_units(plan, table)


@app.command(help=help_code("workbook.cli.help"), epilog=help_code("workbook.cli.example"))
def template(
    out: Annotated[Path, typer.Argument(help=help_code("workbook.cli.out"), show_default=False)],
    example: Annotated[str | None, typer.Option("--example", "-e", help=help_code("workbook.cli.example_option"), show_default=False)] = None,
    units: Annotated[str | None, typer.Option("--units", "-u", help=help_code("workbook.cli.units"), show_default=False)] = None,
    lang: LangOption = Lang.vi,
    force: Annotated[bool, typer.Option("--force", "-f", help=help_code("workbook.cli.force"))] = False,
) -> None:
    from ..io.workbook import write_plan_workbook

    _check_out(out, units, force=force, lang=lang)
    try:
        plan = _plan(example, units, lang)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang)
        raise typer.Exit(ExitCode.INVALID) from None
    try:
        write_plan_workbook(plan, out, lang=lang)
    except OutputLocked as exc:
        raise locked_exit(exc, lang) from None
    except OSError as exc:
        reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        raise bad_parameter("workbook.cli.cannot_write", as_lang(lang), path=str(out), reason=reason) from None
    done = tr("workbook.cli.created", lang, path=str(out), name=plan.program.name, units=len(plan.units))
    console.print(f"[green]✓[/] {escape(done)}")

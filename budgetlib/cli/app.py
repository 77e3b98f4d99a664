"""The typer application shared by every command module, and the common output helpers.

Exit codes: 0 ok, 1 validation errors, 2 infeasible allocation, 3 usage error.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from .._version import __version__
from ..core.i18n import tr
from ..core.lang import as_lang
from ..core.problems import PlanInvalid, Problem, Severity
from ..pipeline.run import ExitCode
from .localize import (
    bad_parameter,
    click_exc,
    help_code,
    lang_from_argv,
    localized_command,
    render_usage_error,
    usage_hint,
)

__all__ = ["app", "ExitCode", "Lang", "LangOption", "console", "err_console", "report_problems", "load_plan_or_exit", "check_input_file"]


class Lang(StrEnum):
    vi = "vi"
    en = "en"


LangOption = Annotated[Lang, typer.Option("--lang", help=help_code("cli.lang"))]

# Wide enough for a year-by-task table when output goes to a file or a pipe (batch runs, CI logs).
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)

app = typer.Typer(
    name="budgetlib",
    help=help_code("cli.root.help"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"budgetlib {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help=help_code("cli.root.version"))] = False,
    lang: LangOption = Lang.vi,
) -> None:
    # ``--lang`` before the command is read by ``lang_from_argv`` (help is printed eagerly).
    pass


def report_problems(problems: list[Problem], *, lang: str, as_json: bool = False) -> None:
    """Print problems, one per line, ``location: message`` (or a JSON list for machines)."""
    if as_json:
        console.print_json(json.dumps([p.to_dict() for p in problems], ensure_ascii=False))
        return
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    err_console.print(f"[bold red]{escape(tr('cli.problems', lang, count=len(problems), errors=errors))}[/]")
    for p in problems:
        mark = "[red]•[/]" if p.severity is Severity.ERROR else "[yellow]![/]"
        err_console.print(f"  {mark} {escape(p.render(lang, with_file=True))}")


def load_plan_or_exit(path: Path, *, lang: str, as_json: bool = False) -> Any:
    """Load a plan file (.json or .xlsx); on problems print them all and exit with code 1."""
    from ..io import load_plan_file

    try:
        return load_plan_file(path)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID) from None


def check_input_file(path: Path, lang: str) -> Path:
    """The same answer from every command for an input that cannot be a plan: a usage error (exit 3)."""
    from ..io.files import file_kind

    if not path.exists():
        raise bad_parameter("cli.error.no_file", as_lang(lang), path=str(path))
    if path.is_dir():
        raise bad_parameter("cli.error.is_directory", as_lang(lang), path=str(path))
    if not file_kind(path).is_plan:
        raise bad_parameter("cli.error.not_a_plan", as_lang(lang), path=str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: run the app in the user's language; usage errors exit with code 3."""
    args = list(sys.argv[1:] if argv is None else argv)
    lang = lang_from_argv(args)
    command = localized_command(app, lang)
    try:
        result = command.main(args=args, prog_name="budgetlib", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exc.UsageError as exc:
        err_console.print(f"[bold red]✗[/] {escape(render_usage_error(exc, lang))}")
        err_console.print(f"  {usage_hint(exc, lang)}", style="dim")
        return int(ExitCode.USAGE)
    except typer.Abort:
        err_console.print(tr("cli.aborted", lang))
        return int(ExitCode.USAGE)
    except click_exc.ClickException as exc:
        err_console.print(f"[bold red]✗[/] {escape(render_usage_error(exc, lang))}")
        return int(ExitCode.USAGE)
    return int(result) if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())

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
from ..core.problems import PlanInvalid, Problem
from ..pipeline.run import ExitCode

__all__ = ["app", "ExitCode", "Lang", "LangOption", "console", "err_console", "report_problems", "load_plan_or_exit"]


class Lang(StrEnum):
    vi = "vi"
    en = "en"


LangOption = Annotated[Lang, typer.Option("--lang", help="Ngôn ngữ thông báo / message language (vi|en)")]

# Wide enough for a year-by-task table when output goes to a file or a pipe (batch runs, CI logs).
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)

app = typer.Typer(
    name="budgetlib",
    help="Lập kế hoạch và phân bổ ngân sách chương trình / plan and allocate public program budgets.",
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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="In phiên bản / print the version")] = False,
) -> None:
    """budgetlib — lập kế hoạch và phân bổ ngân sách chương trình phòng, chống mại dâm và các chương trình khác."""


def report_problems(problems: list[Problem], *, lang: str, as_json: bool = False) -> None:
    """Print problems, one per line, ``location: message`` (or a JSON list for machines)."""
    if as_json:
        console.print_json(json.dumps([p.to_dict() for p in problems], ensure_ascii=False))
        return
    title = f"{len(problems)} lỗi:" if lang == "vi" else f"{len(problems)} problem(s):"
    err_console.print(f"[bold red]{title}[/]")
    for p in problems:
        err_console.print(f"  [red]•[/] {escape(p.render(lang))}", markup=True)


def load_plan_or_exit(path: Path, *, lang: str, as_json: bool = False) -> Any:
    """Load a plan file (.json or .xlsx); on problems print them all and exit with code 1."""
    from ..io import load_plan_file

    try:
        return load_plan_file(path)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID) from None


def main(argv: list[str] | None = None) -> int:
    """Console-script entry: run the app and map usage errors to exit code 3."""
    try:  # typer ≥ 0.20 vendors click as typer._click
        from typer._click import exceptions as click_exc
    except ImportError:  # pragma: no cover - older typer with click as a dependency
        import click.exceptions as click_exc  # type: ignore[no-redef]

    try:
        result = app(args=argv, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exc.UsageError as exc:
        exc.show()
        return int(ExitCode.USAGE)
    except typer.Abort:
        err_console.print("Đã hủy / aborted")
        return int(ExitCode.USAGE)
    except click_exc.ClickException as exc:
        exc.show()
        return int(ExitCode.USAGE)
    return int(result) if isinstance(result, int) else 0


def run() -> None:  # pragma: no cover - thin wrapper for the console script
    sys.exit(main())

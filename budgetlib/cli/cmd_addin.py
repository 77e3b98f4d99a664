"""``budgetlib addin build|install|uninstall|doctor``: the Excel ribbon add-in (see budgetlib.addin).

Every text is a catalogue code (``addin.cli.*``, ``addin.install.*``, ``addin.doctor.*``); help texts
are marked with the CLI's ``help_code`` and translated when it starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..core.i18n import LocalizedError, tr
from .app import ExitCode, Lang, LangOption, app, console, err_console
from .localize import help_code as _help

addin_app = typer.Typer(name="addin", help=_help("addin.cli.help"), no_args_is_help=True)
app.add_typer(addin_app, name="addin")

InterpreterOption = Annotated[str | None, typer.Option("--interpreter", help=_help("addin.cli.interpreter"))]
RibbonLangOption = Annotated[Lang | None, typer.Option("--ribbon-lang", help=_help("addin.cli.ribbon_lang"))]
DirOption = Annotated[Path | None, typer.Option("--dir", help=_help("addin.cli.dir"))]


def _say(lang: Lang, code: str, **params: Any) -> None:
    console.print(escape(tr(code, lang, **params)))


def _fail(lang: Lang, message: str) -> typer.Exit:
    err_console.print(f"[red]✗[/] {escape(message)}")
    return typer.Exit(ExitCode.USAGE)


def _print_config(lang: Lang, config: dict[str, Any]) -> None:
    for key, value in config.items():
        _say(lang, "addin.cli.config_row", key=key, value=str(value))
    if not any(k.startswith("Interpreter") for k in config):
        _say(lang, "addin.cli.no_interpreter")


@addin_app.command("build", help=_help("addin.cli.build"))
def build(
    output: Annotated[Path | None, typer.Option("-o", "--output", help=_help("addin.cli.output"))] = None,
    interpreter: InterpreterOption = None,
    interpreter_win: Annotated[str | None, typer.Option("--interpreter-win", help=_help("addin.cli.interpreter_win"))] = None,
    interpreter_mac: Annotated[str | None, typer.Option("--interpreter-mac", help=_help("addin.cli.interpreter_mac"))] = None,
    ribbon_lang: RibbonLangOption = None,
    lang: LangOption = Lang.vi,
) -> None:
    from ..addin.build import build_addin

    try:
        result = build_addin(
            output, interpreter=interpreter, interpreter_win=interpreter_win, interpreter_mac=interpreter_mac,
            lang=ribbon_lang.value if ribbon_lang else None,
        )
    except LocalizedError as exc:
        raise _fail(lang, exc.message(lang)) from None
    except OSError as exc:
        raise _fail(lang, tr("addin.cli.build_failed", lang, error=f"{type(exc).__name__}: {exc}")) from None
    console.print(f"[green]✓[/] {escape(str(result.path))}")
    _say(lang, "addin.cli.built", version=result.addin_version, xlwings=result.xlwings_version)
    _print_config(lang, result.config)


@addin_app.command("install", help=_help("addin.cli.install"))
def install(
    interpreter: InterpreterOption = None,
    target_dir: DirOption = None,
    ribbon_lang: RibbonLangOption = None,
    lang: LangOption = Lang.vi,
) -> None:
    from ..addin.install import install_addin

    try:
        result = install_addin(target_dir=target_dir, interpreter=interpreter, lang=ribbon_lang.value if ribbon_lang else None)
    except LocalizedError as exc:
        raise _fail(lang, exc.message(lang)) from None
    except OSError as exc:
        raise _fail(lang, tr("addin.cli.install_failed", lang, error=f"{type(exc).__name__}: {exc}")) from None
    console.print(f"[green]✓[/] {escape(str(result.path))}")
    for stale in result.removed_leftovers:
        _say(lang, "addin.cli.removed_leftover", path=str(stale))
    _print_config(lang, result.build.config)
    for note in result.notes:
        console.print("  " + escape(note.render(lang)))


@addin_app.command("uninstall", help=_help("addin.cli.uninstall"))
def uninstall(target_dir: DirOption = None, lang: LangOption = Lang.vi) -> None:
    from ..addin.install import uninstall_addin

    try:
        removed = uninstall_addin(target_dir=target_dir)
    except LocalizedError as exc:
        raise _fail(lang, exc.message(lang)) from None
    if removed:
        console.print(f"[green]✓[/] {escape(str(removed))}")
    else:
        _say(lang, "addin.cli.not_installed")


@addin_app.command("doctor", help=_help("addin.cli.doctor"))
def doctor(
    target_dir: DirOption = None,
    workbook: Annotated[Path | None, typer.Option("--workbook", help=_help("addin.cli.workbook"))] = None,
    probe: Annotated[bool, typer.Option("--probe/--no-probe", help=_help("addin.cli.probe"))] = True,
    lang: LangOption = Lang.vi,
) -> None:
    from ..addin.doctor import diagnose, render

    d = diagnose(target_dir=target_dir, workbook=workbook, probe=probe)
    console.print(escape(render(d, lang)))
    if not d.ok:
        raise typer.Exit(ExitCode.INVALID)

"""``budgetlib lo build|install|uninstall|doctor``: the LibreOffice Calc extension (see budgetlib.calc)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..core.i18n import tr
from .app import ExitCode, Lang, LangOption, app, console, err_console
from .localize import help_code

lo_app = typer.Typer(name="lo", help=help_code("calc.cli.help.group"), no_args_is_help=True)
app.add_typer(lo_app, name="lo")

PythonOption = Annotated[str | None, typer.Option("--python", help=help_code("calc.cli.help.python"))]
ProfileOption = Annotated[Path | None, typer.Option("--profile", help=help_code("calc.cli.help.profile"))]
SharedOption = Annotated[bool, typer.Option("--shared", help=help_code("calc.cli.help.shared"))]
SofficeOption = Annotated[Path | None, typer.Option("--soffice", help=help_code("calc.cli.help.soffice"))]


@lo_app.command("build", help=help_code("calc.cli.help.build"))
def build(
    output: Annotated[Path | None, typer.Option("-o", "--output", help=help_code("calc.cli.help.output"))] = None,
    python: Annotated[str | None, typer.Option("--python", help=help_code("calc.cli.help.build_python"))] = None,
    lang: LangOption = Lang.vi,
) -> None:
    from ..calc.build import BuildError, build_extension

    try:
        result = build_extension(output, python=python)
    except (OSError, BuildError) as exc:
        err_console.print(f"[red]✗[/] {escape(tr('calc.cli.build_failed', lang.value, error=str(exc)))}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    console.print(f"[green]✓[/] {escape(tr('calc.cli.built', lang.value, path=str(result.path), version=result.version, n=len(result.files)))}")


@lo_app.command("install", help=help_code("calc.cli.help.install"))
def install(
    python: PythonOption = None,
    shared: SharedOption = False,
    profile: ProfileOption = None,
    soffice: SofficeOption = None,
    lang: LangOption = Lang.vi,
) -> None:
    from ..calc.install import InstallError, install_extension

    try:
        result = install_extension(python=python, profile=profile, shared=shared, soffice=soffice)
    except InstallError as exc:
        err_console.print(f"[red]✗[/] {escape(exc.message(lang.value))}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    except OSError as exc:
        err_console.print(f"[red]✗[/] {escape(tr('calc.cli.build_failed', lang.value, error=str(exc)))}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    v = lang.value
    console.print(f"[green]✓[/] {escape(tr('calc.cli.installed', v, path=str(result.extension), unopkg=str(result.unopkg)))}")
    console.print(f"  {escape(tr('calc.cli.python', v, python=result.python))}")
    if result.config is not None:
        console.print(f"  {escape(tr('calc.cli.config', v, path=str(result.config)))}")
    console.print(f"  {tr('calc.cli.restart', v)}")


@lo_app.command("uninstall", help=help_code("calc.cli.help.uninstall"))
def uninstall(shared: SharedOption = False, profile: ProfileOption = None, soffice: SofficeOption = None, lang: LangOption = Lang.vi) -> None:
    from ..calc.install import InstallError, uninstall_extension

    try:
        uninstall_extension(profile=profile, shared=shared, soffice=soffice)
    except InstallError as exc:
        err_console.print(f"[red]✗[/] {escape(exc.message(lang.value))}", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    console.print(f"[green]✓[/] {tr('calc.cli.uninstalled', lang.value)}")


@lo_app.command("doctor", help=help_code("calc.cli.help.doctor"))
def doctor(
    profile: ProfileOption = None,
    soffice: SofficeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=help_code("calc.cli.help.json"))] = False,
    lang: LangOption = Lang.vi,
) -> None:
    from ..calc.doctor import diagnose

    checks = diagnose(lang=lang.value, soffice=soffice, profile=profile)
    failed = [c for c in checks if c.ok is False]
    if as_json:
        console.print_json(json.dumps([c.__dict__ for c in checks], ensure_ascii=False))
    else:
        for c in checks:
            mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "•"}[c.ok]
            console.print(f"{mark} {escape(c.detail)}", highlight=False)
            if c.fix:
                console.print(f"    → {c.fix}", highlight=False, markup=False)
        summary = tr("calc.cli.doctor_ok", lang.value) if not failed else tr("calc.cli.doctor_failed", lang.value, n=len(failed))
        console.print(summary, highlight=False)
    raise typer.Exit(ExitCode.INVALID if failed else ExitCode.OK)

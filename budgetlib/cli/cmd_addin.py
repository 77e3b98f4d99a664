"""``budgetlib addin build|install|uninstall``: the Excel ribbon add-in (see budgetlib.addin)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import ExitCode, app, console, err_console

addin_app = typer.Typer(
    name="addin",
    help="Add-in Excel (tab \"Ngân sách\") / the Excel ribbon add-in.",
    no_args_is_help=True,
)
app.add_typer(addin_app, name="addin")

InterpreterOption = Annotated[
    Optional[str],
    typer.Option(
        "--interpreter",
        help="Python mà add-in gọi (mặc định: Python đang chạy lệnh này) / the Python the add-in calls "
        "(default: the one running this command)",
    ),
]


@addin_app.command("build")
def build(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Tệp .xlam tạo ra / output file")] = None,
    interpreter: InterpreterOption = None,
    interpreter_win: Annotated[Optional[str], typer.Option("--interpreter-win", help="Interpreter_Win in budgetlib.conf")] = None,
    interpreter_mac: Annotated[Optional[str], typer.Option("--interpreter-mac", help="Interpreter_Mac in budgetlib.conf")] = None,
) -> None:
    """Tạo tệp add-in từ mã nguồn (excel/) / build the add-in from its text sources, on any OS."""
    from ..addin.build import build_addin

    try:
        result = build_addin(output, interpreter=interpreter, interpreter_win=interpreter_win, interpreter_mac=interpreter_mac)
    except OSError as exc:
        err_console.print(f"[red]✗[/] {exc}")
        err_console.print("Chọn nơi ghi khác bằng -o / choose another output with -o (e.g. -o budgetlib.xlam).")
        raise typer.Exit(ExitCode.USAGE) from None
    console.print(f"[green]✓[/] {result.path}")
    console.print(f"  budgetlib {result.addin_version}, xlwings {result.xlwings_version} (VBA = Python)")
    for key, value in result.config.items():
        console.print(f"  {key}: {value or '(trống → python trên PATH / empty → python on PATH)'}")


@addin_app.command("install")
def install(
    interpreter: InterpreterOption = None,
    target_dir: Annotated[
        Optional[Path], typer.Option("--dir", help="Thư mục cài thay cho XLSTART / install here instead of XLSTART")
    ] = None,
) -> None:
    """Cài add-in vào XLSTART để Excel tự mở / install the add-in where Excel loads it at start-up."""
    from ..addin.install import NotSupported, install_addin

    try:
        result = install_addin(target_dir=target_dir, interpreter=interpreter)
    except NotSupported as exc:
        err_console.print(str(exc))
        raise typer.Exit(ExitCode.USAGE) from None
    except OSError as exc:
        err_console.print(f"[red]✗[/] {exc}")
        err_console.print("Nếu Excel đang mở, hãy thoát Excel rồi chạy lại. / If Excel is running, quit it and try again.")
        raise typer.Exit(ExitCode.USAGE) from None
    console.print(f"[green]✓[/] {result.path}")
    for key, value in result.build.config.items():
        if value:
            console.print(f"  {key}: {value}")
    for note in result.notes:
        console.print(f"  {note}")


@addin_app.command("uninstall")
def uninstall(
    target_dir: Annotated[Optional[Path], typer.Option("--dir", help="Thư mục đã cài / folder it was installed in")] = None,
) -> None:
    """Gỡ add-in khỏi XLSTART / remove the add-in from XLSTART."""
    from ..addin.install import NotSupported, uninstall_addin

    try:
        removed = uninstall_addin(target_dir=target_dir)
    except NotSupported as exc:
        err_console.print(str(exc))
        raise typer.Exit(ExitCode.USAGE) from None
    console.print(f"[green]✓[/] {removed}" if removed else "Add-in chưa được cài / the add-in is not installed.")

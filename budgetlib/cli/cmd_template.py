"""``budgetlib template``: the planning workbook, blank or filled with an example."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.problems import PlanInvalid
from ..io.atomic import OutputLocked
from .app import ExitCode, Lang, LangOption, app, console, err_console, report_problems
from .options import locked_exit, resolve_example


@app.command()
def template(
    out: Annotated[Path, typer.Argument(help="Tệp Excel sẽ tạo / workbook to create (.xlsx)")],
    example: Annotated[
        Optional[str],
        typer.Option("--example", "-e", help="Điền sẵn ví dụ: tên thư mục ví dụ (haiphong) hoặc tệp plan.json / fill with an example folder name or a plan .json"),
    ] = None,
    lang: LangOption = Lang.vi,
    force: Annotated[bool, typer.Option("--force", "-f", help="Ghi đè nếu tệp đã có / overwrite an existing file")] = False,
) -> None:
    """Tạo tệp Excel kế hoạch (mẫu trống hoặc điền sẵn ví dụ) / create the planning workbook (blank or filled)."""
    from ..io.jsonio import load_plan
    from ..io.workbook import blank_plan, write_plan_workbook

    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter("tệp phải có đuôi .xlsx / the file must end in .xlsx")
    if out.exists() and not force:
        err_console.print(f"[red]✗[/] {out} đã có; dùng --force để ghi đè / exists; use --force to overwrite")
        raise typer.Exit(ExitCode.USAGE)
    if example:
        source = resolve_example(example)
        try:
            plan = load_plan(source)
        except PlanInvalid as exc:
            report_problems(exc.problems, lang=lang)
            raise typer.Exit(ExitCode.INVALID) from None
    else:
        plan = blank_plan(lang)
    try:
        write_plan_workbook(plan, out, lang=lang)
    except OutputLocked as exc:
        raise locked_exit(exc, lang) from None
    msg = "Đã tạo" if lang == "vi" else "Created"
    console.print(f"[green]✓[/] {msg} {out} — {plan.program.name}")

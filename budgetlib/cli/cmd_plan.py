"""Commands on plan files: ``schema``, ``validate``, ``summary``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..core.money import format_amount
from ..io.jsonio import plan_json_schema
from ..planning.summary import BUDGET_DIMENSIONS, budget_pivot
from ..planning.validation import validate_plan
from .app import ExitCode, Lang, LangOption, app, console, load_plan_or_exit, report_problems

PlanArg = Annotated[Path, typer.Argument(help="Tệp kế hoạch (.json hoặc .xlsx) / plan file", exists=False)]


@app.command()
def schema() -> None:
    """In JSON Schema của tệp kế hoạch / print the JSON Schema of plan files."""
    console.print_json(json.dumps(plan_json_schema(), ensure_ascii=False))


@app.command()
def validate(
    plan: PlanArg,
    lang: LangOption = Lang.vi,
    as_json: Annotated[bool, typer.Option("--json", help="Kết quả dạng JSON / machine-readable output")] = False,
) -> None:
    """Kiểm tra kế hoạch, báo mọi lỗi một lần / validate a plan and report every problem at once."""
    loaded = load_plan_or_exit(plan, lang=lang, as_json=as_json)
    warnings = validate_plan(loaded)
    if warnings:
        report_problems(warnings, lang=lang, as_json=as_json)
    elif as_json:
        console.print_json("[]")
    else:
        msg = "Kế hoạch hợp lệ." if lang == "vi" else "The plan is valid."
        console.print(f"[green]✓[/] {msg} {loaded.program.name}: {format_amount(loaded.program.total, lang=lang)}")


def _label(plan, dim: str, key) -> str:
    if dim == "task":
        return f"{key} {plan.task(key).name}"
    if dim == "agency":
        return next((f"{key} {a.name}" for a in plan.agencies if a.code == key), str(key))
    if dim == "source":
        return next((f"{key} {s.name}" for s in plan.sources if s.code == key), str(key))
    return str(key)


@app.command()
def summary(
    plan: PlanArg,
    rows: Annotated[str, typer.Option(help=f"Chiều theo hàng / row dimension: {', '.join(BUDGET_DIMENSIONS)}")] = "task",
    cols: Annotated[str, typer.Option(help="Chiều theo cột / column dimension")] = "year",
    lang: LangOption = Lang.vi,
) -> None:
    """Tổng hợp dự toán theo năm, nhiệm vụ, cơ quan, nguồn / budget totals by dimension."""
    loaded = load_plan_or_exit(plan, lang=lang)
    for dim in (rows, cols):
        if dim not in BUDGET_DIMENSIONS:
            raise typer.BadParameter(f"{dim!r}: dùng / use {', '.join(BUDGET_DIMENSIONS)}")
    pivot = budget_pivot(loaded, rows=(rows,), cols=(cols,))
    sep = "." if lang == "vi" else ","
    fmt = lambda v: f"{int(v):,}".replace(",", sep)  # noqa: E731
    total_label = "Tổng" if lang == "vi" else "Total"
    table = Table(
        title=f"{loaded.program.name} ({loaded.program.first_year}–{loaded.program.last_year})",
        caption="Đơn vị: đồng" if lang == "vi" else "Amounts in VND",
    )
    table.add_column(rows, no_wrap=True, max_width=34, overflow="ellipsis")
    for key in pivot.col_keys:
        table.add_column(_label(loaded, cols, key), justify="right")
    table.add_column(total_label, justify="right", style="bold")
    for key, row, row_total in zip(pivot.row_keys, pivot.matrix, pivot.row_totals):
        table.add_row(_label(loaded, rows, key), *map(fmt, row), fmt(row_total))
    table.add_row(total_label, *map(fmt, pivot.col_totals), fmt(pivot.total), style="bold")
    console.print(table)
    program_total = loaded.program.total
    if pivot.total == program_total:
        ok = "Khớp tổng kinh phí chương trình" if lang == "vi" else "Reconciles with the program total"
        console.print(f"[green]✓[/] {ok}: {format_amount(program_total, lang=lang)}")
    else:
        bad = "Lệch so với tổng kinh phí" if lang == "vi" else "Differs from the program total"
        console.print(f"[red]✗[/] {bad}: {format_amount(pivot.total, lang=lang)} ≠ {format_amount(program_total, lang=lang)}")
        raise typer.Exit(ExitCode.INVALID)

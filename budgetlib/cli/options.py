"""Options and output helpers shared by the workbook commands (template, allocate, report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..io.atomic import OutputLocked
from ..model.policy import PolicyKind
from .app import ExitCode, err_console

RESULT_SUFFIX = "_ket_qua"
"""Default result workbook for ``kehoach.xlsx`` is ``kehoach_ket_qua.xlsx`` beside it."""

PolicyOption = Annotated[
    PolicyKind | None,
    typer.Option("--policy", "-p", help="Phương pháp phân bổ, thay cho phương pháp trong kế hoạch / allocation policy (overrides the plan's)"),
]
YearOption = Annotated[
    list[int] | None,
    typer.Option("--year", "-y", help="Chỉ phân bổ năm này (lặp lại cho nhiều năm) / allocate only this year (repeatable)"),
]


def _examples_dirs() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "examples"
    return [d for d in (Path.cwd() / "examples", here) if d.is_dir()]


def resolve_example(name: str) -> Path:
    """An example name (``haiphong``, ``haiphong_2011_2015``), a folder, or a plan ``.json`` path → the plan file."""
    p = Path(name)
    if p.is_file():
        return p
    if p.is_dir() and (p / "plan.json").is_file():
        return p / "plan.json"
    for base in _examples_dirs():
        exact = base / name / "plan.json"
        if exact.is_file():
            return exact
        matches = sorted(d for d in base.iterdir() if d.is_dir() and d.name.startswith(name) and (d / "plan.json").is_file())
        if matches:
            return matches[0] / "plan.json"
    known = sorted({d.name for base in _examples_dirs() for d in base.iterdir() if (d / "plan.json").is_file()})
    raise typer.BadParameter(f"không tìm thấy ví dụ {name!r} / no example {name!r}; có / available: {', '.join(known) or '-'}")


def locked_exit(exc: OutputLocked, lang: str) -> typer.Exit:
    err_console.print(f"[bold red]✗[/] {exc.message_vi if lang == 'vi' else exc.message_en}")
    return typer.Exit(ExitCode.USAGE)


def _fmt(v: int, lang: str) -> str:
    return f"{int(v):,}".replace(",", "." if lang == "vi" else ",")


def summary_tables(outcome: Any, lang: str, dims: tuple[str, ...] = ("unit",)) -> list[Table]:

    a = outcome.allocation
    plan = outcome.plan
    vi = lang == "vi"
    units = {u.code: u.name for u in plan.units}
    tasks = {t.code: t.name for t in plan.tasks}
    amounts = a.amounts.sum(axis=3)
    tables = []
    specs = {
        "unit": ("Theo địa bàn" if vi else "By unit", a.units, units, (1, 2)),
        "task": ("Theo nhiệm vụ" if vi else "By task", a.tasks, tasks, (0, 2)),
        "year": ("Theo năm" if vi else "By year", a.years, {}, (0, 1)),
    }
    for dim in dims:
        title, keys, names, axes = specs[dim]
        alloc = amounts.sum(axis=axes)
        base = a.baseline_by(dim)
        t = Table(title=f"{title} — {a.policy}", caption="Đơn vị: đồng" if vi else "Amounts in VND")
        t.add_column("Mã" if vi else "Code", no_wrap=True)
        t.add_column("Tên" if vi else "Name", max_width=34, overflow="ellipsis")
        t.add_column("Phân bổ" if vi else "Allocated", justify="right")
        t.add_column("Theo tỷ lệ" if vi else "Proportional", justify="right")
        t.add_column("Chênh lệch" if vi else "Difference", justify="right")
        for k, x, b in zip(keys, alloc, base):
            diff = int(x) - int(b)
            t.add_row(escape(str(k)), escape(names.get(k, "")), _fmt(x, lang), _fmt(b, lang), ("[red]" if diff < 0 else "") + _fmt(diff, lang))
        t.add_row("Tổng cộng" if vi else "Total", "", _fmt(alloc.sum(), lang), _fmt(base.sum(), lang), _fmt(int(alloc.sum()) - int(base.sum()), lang), style="bold")
        tables.append(t)
    return tables


def default_out(plan_path: Path, out_dir: Path | None) -> Path:
    return (out_dir or plan_path.parent) / f"{plan_path.stem}{RESULT_SUFFIX}.xlsx"



"""Options and output helpers shared by the workbook commands (template, allocate, report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..core.i18n import tr
from ..core.lang import as_lang
from ..io.atomic import OutputLocked
from ..model.policy import PolicyKind
from .app import ExitCode, err_console
from .localize import bad_parameter, help_code

RESULT_SUFFIX = "_ket_qua"
"""Default result workbook for ``kehoach.xlsx`` is ``kehoach_ket_qua.xlsx`` beside it."""

PolicyOption = Annotated[
    PolicyKind | None,
    typer.Option("--policy", "-p", help=help_code("cli.policy_option")),
]
YearOption = Annotated[
    list[int] | None,
    typer.Option("--year", "-y", help=help_code("cli.year_option")),
]


def _examples_dirs() -> list[Path]:
    here = Path(__file__).resolve().parents[2] / "examples"
    return [d for d in (Path.cwd() / "examples", here) if d.is_dir()]


def resolve_example(name: str, lang: str = "vi") -> Path:
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
    raise bad_parameter("cli.no_example", as_lang(lang), name=name, known=", ".join(known) or "-")


def locked_exit(exc: OutputLocked, lang: str) -> typer.Exit:
    err_console.print(f"[bold red]✗[/] {escape(exc.message(lang))}")
    return typer.Exit(ExitCode.USAGE)


def _fmt(v: int, lang: str) -> str:
    return tr("cli.int", lang, value=int(v))


def summary_tables(outcome: Any, lang: str, dims: tuple[str, ...] = ("unit",)) -> list[Table]:

    a = outcome.allocation
    plan = outcome.plan
    units = {u.code: u.name for u in plan.units}
    tasks = {t.code: t.name for t in plan.tasks}
    amounts = a.amounts.sum(axis=3)
    tables = []
    specs = {"unit": (a.units, units, (1, 2)), "task": (a.tasks, tasks, (0, 2)), "year": (a.years, {}, (0, 1))}
    policy = PolicyKind(a.policy).label(lang)
    for dim in dims:
        keys, names, axes = specs[dim]
        alloc = amounts.sum(axis=axes)
        base = a.baseline_by(dim)
        t = Table(title=tr("cli.summary_table.title", lang, by=tr(f"cli.summary_table.by_{dim}", lang), policy=policy),
                  caption=tr("cli.amounts_in_dong", lang))
        t.add_column(tr("cli.summary_table.code", lang), no_wrap=True)
        t.add_column(tr("cli.summary_table.name", lang), max_width=34, overflow="ellipsis")
        for col in ("allocated", "proportional", "difference"):
            t.add_column(tr(f"cli.summary_table.{col}", lang), justify="right")
        for k, x, b in zip(keys, alloc, base):
            diff = int(x) - int(b)
            t.add_row(escape(str(k)), escape(names.get(k, "")), _fmt(x, lang), _fmt(b, lang), ("[red]" if diff < 0 else "") + _fmt(diff, lang))
        t.add_row(tr("cli.summary_table.total", lang), "", _fmt(alloc.sum(), lang), _fmt(base.sum(), lang), _fmt(int(alloc.sum()) - int(base.sum()), lang), style="bold")
        tables.append(t)
    return tables


def default_out(plan_path: Path, out_dir: Path | None) -> Path:
    return (out_dir or plan_path.parent) / f"{plan_path.stem}{RESULT_SUFFIX}.xlsx"



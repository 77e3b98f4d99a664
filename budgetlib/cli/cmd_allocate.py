"""``budgetlib allocate``: one plan or a batch, through :mod:`budgetlib.pipeline` (the add-in's path too)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core.i18n import Msg
from ..core.money import format_amount
from ..core.problems import PlanInvalid
from ..io.atomic import OutputLocked
from ..model.policy import PolicyKind
from .app import ExitCode, Lang, LangOption, app, console, err_console, report_problems
from .options import RESULT_SUFFIX, PolicyOption, YearOption, default_out, locked_exit, summary_tables


def _run_one(
    plan_path: Path,
    *,
    policy: PolicyKind | None,
    years: list[int] | None,
    lang: str,
    out: Path | None,
    json_out: Path | None,
    in_place: bool,
    progress: Any = None,
) -> tuple[Any, list[Path]]:
    """Allocate one plan file and write its outputs; returns (outcome, written paths)."""
    from .. import pipeline
    from ..io.atomic import atomic_write_text
    from ..io.workbook import write_result_workbook

    is_book = plan_path.suffix.lower() in (".xlsx", ".xlsm")
    book = pipeline.load_book_or_plan(plan_path)
    try:
        outcome = pipeline.run_allocate(
            book,
            policy=policy.value if policy else None,
            years=years,
            lang=lang,
            progress=progress,
            source_name=plan_path.name,
            input_sha256=pipeline.sha256_file(plan_path),
        )
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    written: list[Path] = []
    if in_place and is_book:
        written.append(write_result_workbook(outcome.sheets, plan_path, source=plan_path, in_place=True, lang=lang))
    elif out is not None:
        if is_book:
            written.append(write_result_workbook(outcome.sheets, out, source=plan_path, lang=lang))
        else:
            written.append(write_result_workbook(outcome.sheets, out, plan=outcome.plan, lang=lang))
    if json_out is not None and outcome.allocation is not None:
        atomic_write_text(json_out, outcome.allocation.to_json())
        written.append(json_out)
    return outcome, written


def _collect(plans: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in plans:
        if p.is_dir():
            for f in sorted(p.iterdir()):
                name = f.name
                if f.suffix.lower() not in (".xlsx", ".xlsm", ".json") or name.startswith(("~$", ".")):
                    continue
                if RESULT_SUFFIX in f.stem or ".bak" in f.stem:
                    continue
                files.append(f)
        else:
            files.append(p)
    return files


@app.command()
def allocate(
    plans: Annotated[list[Path], typer.Argument(help="Tệp kế hoạch .xlsx/.json, nhiều tệp hoặc thư mục / plan file(s) or folder(s)")],
    policy: PolicyOption = None,
    year: YearOption = None,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", help="Tệp kết quả .xlsx (nhiều kế hoạch: thư mục). Mặc định với .xlsx: <tên>_ket_qua.xlsx cạnh tệp vào; với .json: không ghi Excel / result workbook (batch: a folder). Default for .xlsx input: <name>_ket_qua.xlsx beside it; for .json: none"),
    ] = None,
    json_out: Annotated[
        Optional[Path], typer.Option("--json", help="Ghi kết quả JSON (nhiều kế hoạch: thư mục) / write Allocation JSON (batch: a folder)")
    ] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help="Ghi các sheet kết quả vào chính tệp .xlsx (giữ bản sao .bak) / rewrite the input's result sheets (keeps a .bak)")
    ] = False,
    lang: LangOption = Lang.vi,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Không in bảng tổng hợp / no summary tables")] = False,
) -> None:
    """Phân bổ ngân sách cho địa bàn, ghi sheet kết quả / allocate budgets to units and write result sheets.

    Exit codes: 0 ok, 1 validation errors, 2 infeasible, 3 usage error or locked output.
    """
    files = _collect(plans)
    if not files:
        raise typer.BadParameter("không có tệp kế hoạch nào / no plan files")
    for f in files:
        if not f.exists():
            raise typer.BadParameter(f"không tìm thấy / not found: {f}")
    if len(files) > 1 or any(p.is_dir() for p in plans):
        raise typer.Exit(_batch(files, policy=policy, years=year, lang=lang, out_dir=out, json_dir=json_out, in_place=in_place))
    plan_path = files[0]
    if in_place and plan_path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise typer.BadParameter("--in-place chỉ dùng với tệp .xlsx / --in-place needs an .xlsx plan")
    if out is None and not in_place and plan_path.suffix.lower() in (".xlsx", ".xlsm"):
        out = default_out(plan_path, None)
    vi = lang == "vi"
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("Đang phân bổ…" if vi else "Allocating…", total=None)

        def progress(done: int, total: int, message: Msg | str = "") -> None:
            shown = message.render(lang) if isinstance(message, Msg) else message
            bar.update(task, completed=done, total=total or None, description=shown or ("Đang phân bổ…" if vi else "Allocating…"))

        try:
            outcome, written = _run_one(plan_path, policy=policy, years=year, lang=lang, out=out, json_out=json_out, in_place=in_place, progress=progress)
        except PlanInvalid as exc:
            bar.stop()
            report_problems(exc.problems, lang=lang)
            raise typer.Exit(ExitCode.INVALID) from None
        except OutputLocked as exc:
            bar.stop()
            raise locked_exit(exc, lang) from None
    if outcome.exit_code == ExitCode.INVALID:
        report_problems(outcome.problems, lang=lang)
        for p in written:
            console.print(f"  {'Danh sách lỗi ghi ở' if vi else 'Problems written to'} {p}")
        raise typer.Exit(ExitCode.INVALID)
    if outcome.allocation is not None and outcome.allocation.ok and not quiet:
        for t in summary_tables(outcome, lang):
            console.print(t)
    for line in outcome.explanation():
        console.print(line, markup=False, highlight=False)
    if outcome.exit_code == ExitCode.INFEASIBLE:
        err_console.print(f"[bold red]✗[/] {'Không có phương án phân bổ khả thi' if vi else 'No feasible allocation'}")
    for p in written:
        console.print(f"[green]✓[/] {'Đã ghi' if vi else 'Wrote'} {p}")
    raise typer.Exit(outcome.exit_code)


def _batch(files: list[Path], *, policy, years, lang: str, out_dir: Path | None, json_dir: Path | None, in_place: bool) -> int:
    """Unattended runs: one output per plan, a progress bar, a summary table; worst exit code."""
    vi = lang == "vi"
    rows: list[tuple[str, str, str, str]] = []
    worst = 0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    if json_dir is not None:
        json_dir.mkdir(parents=True, exist_ok=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console
    ) as bar:
        task = bar.add_task("Kế hoạch" if vi else "Plans", total=len(files))
        for f in files:
            bar.update(task, description=f.name)
            is_book = f.suffix.lower() in (".xlsx", ".xlsm")
            out = None if (in_place and is_book) else default_out(f, out_dir)
            js = (json_dir / f"{f.stem}{RESULT_SUFFIX}.json") if json_dir else None
            try:
                outcome, written = _run_one(f, policy=policy, years=years, lang=lang, out=out, json_out=js, in_place=in_place)
                code = outcome.exit_code
                total = format_amount(outcome.allocation.total, lang=lang) if outcome.allocation is not None and outcome.allocation.ok else ""
                status = {0: "OK", 1: "Lỗi dữ liệu" if vi else "Invalid", 2: "Không khả thi" if vi else "Infeasible"}[code]
                if code == 1:
                    status += f" ({len(outcome.errors)})"
                rows.append((f.name, status, total, ", ".join(p.name for p in written)))
            except PlanInvalid as exc:
                code = 1
                first = exc.problems[0].render(lang) if exc.problems else ""
                rows.append((f.name, ("Lỗi dữ liệu" if vi else "Invalid") + f" ({len(exc.problems)})", "", first))
            except OutputLocked as exc:
                code = 3
                rows.append((f.name, "Tệp đang mở" if vi else "Output locked", "", exc.message_vi if vi else exc.message_en))
            except Exception as exc:  # noqa: BLE001 - a batch keeps going; the failure is reported
                code = 3
                rows.append((f.name, "Lỗi" if vi else "Error", "", f"{type(exc).__name__}: {exc}"))
            worst = max(worst, code)
            bar.advance(task)
    t = Table(title="Kết quả chạy hàng loạt" if vi else "Batch results")
    t.add_column("Tệp" if vi else "File")
    t.add_column("Kết quả" if vi else "Outcome")
    t.add_column("Tổng phân bổ" if vi else "Total", justify="right")
    t.add_column("Đầu ra / ghi chú" if vi else "Output / note", overflow="fold")
    for r in rows:
        style = "green" if r[1] == "OK" else "red"
        t.add_row(r[0], f"[{style}]{r[1]}[/]", r[2], r[3])
    console.print(t)
    return worst

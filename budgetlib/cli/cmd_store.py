"""``budgetlib store …``: the version store from the command line.

``init`` creates a store, ``save`` keeps a plan file as a version, ``list``/``show``/``history``
look, ``submit``/``send-back``/``approve`` move a version through Dự thảo → Trình → Phê duyệt,
``allocate`` runs and records an allocation of a stored version, ``diff`` compares two versions
(terminal, ``--json``, ``--xlsx``) and ``verify`` checks every stored hash.

The store is ``--store`` (a path or a ``postgresql://`` URL), else ``$BUDGETLIB_STORE``, else
``./budgetlib-store.sqlite``. Exit codes: 0 ok, 1 plan problems, a store error or a failed check,
2 an infeasible allocation, 3 usage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..core.i18n import tr
from ..core.money import format_amount
from ..core.problems import PlanInvalid
from ..store.config import STORE_ENV, USER_ENV
from ..store.errors import BadVersionRef, StoreError
from .app import ExitCode, Lang, LangOption, app, check_input_file, console, err_console, report_problems
from .localize import help_code
from .options import PolicyOption, YearOption

store_app = typer.Typer(name="store", help=help_code("store.cli.group"), no_args_is_help=True)
app.add_typer(store_app, name="store")

StoreOption = Annotated[str | None, typer.Option("--store", "-s", envvar=STORE_ENV, help=help_code("store.cli.store"))]
UserOption = Annotated[str | None, typer.Option("--user", "-u", envvar=USER_ENV, help=help_code("store.cli.user"))]
JsonOption = Annotated[bool, typer.Option("--json", help=help_code("store.cli.json"))]
RefArg = Annotated[str, typer.Argument(help=help_code("store.cli.ref"))]
NoteOption = Annotated[str, typer.Option("--note", "-m", help=help_code("store.cli.note"))]


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, sort_keys=True))


def _fail(exc: StoreError, lang: str) -> typer.Exit:
    err_console.print(f"[bold red]✗[/] {escape(exc.message(lang))}")
    return typer.Exit(ExitCode.USAGE if isinstance(exc, BadVersionRef) else ExitCode.INVALID)


@contextmanager
def _open(store: str | None, lang: str, *, user: str | None = None, create: bool = False) -> Iterator[Any]:
    from ..store.store import Store  # SQLAlchemy only for the store commands

    try:
        with Store.open(store, create=create, user=user) as s:
            yield s
    except StoreError as exc:
        raise _fail(exc, lang) from None


def _ok(text: str) -> None:
    console.print(f"[green]✓[/] {escape(text)}")


def _when(t: Any) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t is not None else "—"


@store_app.command("init", help=help_code("store.cli.init.help"))
def init(store: StoreOption = None, lang: LangOption = Lang.vi) -> None:
    from ..store.store import Store

    existed = True
    try:
        Store.open(store).close()
    except StoreError:
        existed = False
    with _open(store, lang, create=True) as s:
        _ok(tr("store.cli.exists" if existed else "store.cli.created", lang, store=s.display))


@store_app.command("save", help=help_code("store.cli.save.help"))
def save(
    plan: Annotated[Path, typer.Argument(help=help_code("store.cli.plan_file"))],
    store: StoreOption = None,
    note: NoteOption = "",
    user: UserOption = None,
    allocate: Annotated[bool, typer.Option("--allocate", help=help_code("store.cli.allocate_too"))] = False,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    from .. import pipeline

    check_input_file(plan, lang)
    try:
        book = pipeline.load_book_or_plan(plan)
    except PlanInvalid as exc:
        report_problems(exc.problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID) from None
    try:
        kwargs: dict[str, Any] = dict(store=store, user=user, note=note, source_name=plan.name, source_sha256=pipeline.sha256_file(plan), lang=lang)
        if allocate:
            outcome = pipeline.save_and_allocate(book, policy=policy.value if policy else None, **kwargs)
        else:
            outcome = pipeline.save_version(book, **kwargs)
    finally:
        close = getattr(book, "close", None)
        if close:
            close()
    if outcome.error is not None:
        raise _fail(outcome.error, lang)
    if outcome.version is None:
        report_problems(outcome.problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID)
    if as_json:
        data: dict[str, Any] = {"version": outcome.version.to_dict(), "created": outcome.version.created}
        if outcome.run is not None:
            data["run"] = outcome.run.to_dict()
        _print_json(data)
    else:
        _ok(tr("store.outcome.saved" if outcome.version.created else "store.outcome.unchanged", lang, version=outcome.version.ref, stage=outcome.version.stage.label, hash=outcome.version.short_hash))
        if outcome.run is not None:
            _ok(outcome.message(lang))
    raise typer.Exit(outcome.exit_code)


def _versions_table(versions: list[Any], lang: str) -> Table:
    t = Table(title=tr("store.sheet.versions_title", lang), caption=tr("store.sheet.time_note", lang))
    for col in ("version", "stage", "saved_at", "saved_by", "total", "hash", "note"):
        t.add_column(tr(f"store.column.{col}", lang), justify="right" if col == "total" else "left", no_wrap=col in ("version", "hash"))
    for v in versions:
        t.add_row(escape(v.ref), escape(v.stage.label.render(lang)), _when(v.created_at), escape(v.created_by), format_amount(v.total, lang=lang), v.short_hash, escape(v.note))
    return t


@store_app.command("list", help=help_code("store.cli.list.help"))
def list_versions(
    plan: Annotated[str | None, typer.Argument(help=help_code("store.cli.plan_code"))] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    with _open(store, lang) as s:
        versions = s.versions(plan)
    if as_json:
        _print_json([v.to_dict() for v in versions])
    elif not versions:
        console.print(escape(tr("store.cli.no_versions", lang, store=s.display)))
    else:
        console.print(_versions_table(versions, lang))


@store_app.command("show", help=help_code("store.cli.show.help"))
def show(
    ref: RefArg,
    store: StoreOption = None,
    document: Annotated[bool, typer.Option("--document", help=help_code("store.cli.document"))] = False,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    with _open(store, lang) as s:
        try:
            v = s.version(ref)
            runs = s.runs(v.ref)
            doc = s.document(v.ref) if document else None
        except StoreError as exc:
            raise _fail(exc, lang) from None
    if document and doc is not None:
        console.print_json(doc)
        return
    if as_json:
        _print_json({"version": v.to_dict(), "runs": [r.to_dict() for r in runs]})
        return
    t = Table(show_header=False, title=escape(f"{v.ref} — {v.program_name}"))
    t.add_column(style="bold")
    t.add_column()
    rows = [
        ("stage", v.stage.label.render(lang)),
        ("saved_at", _when(v.created_at)),
        ("saved_by", v.created_by),
        ("total", format_amount(v.total, lang=lang)),
        ("hash", v.content_hash),
        ("note", v.note),
        ("source", f"{v.source_name} {v.source_sha256 or ''}".strip()),
        ("parent", v.parent or "—"),
    ]
    if v.approval is not None:
        rows.append(("approved", tr("store.sheet.approved_by", lang, who=v.approval.approved_by, decision=v.approval.decision or "—") + f" · {_when(v.approval.approved_at)}"))
    for key, value in rows:
        t.add_row(escape(tr(f"store.field.{key}", lang)), escape(str(value)))
    console.print(t)
    if runs:
        rt = Table(title=tr("store.cli.runs_title", lang))
        for col in ("run", "policy", "status", "total", "by", "at", "output"):
            rt.add_column(tr(f"store.run_column.{col}", lang), justify="right" if col in ("run", "total") else "left")
        for r in runs:
            rt.add_row(str(r.id), r.policy_kind, tr(f"store.run_status.{r.status}", lang), format_amount(r.total, lang=lang), escape(r.user), _when(r.finished_at), r.output_sha256[:12])
        console.print(rt)


def _move(action: str, ref: str, store: str | None, user: str | None, note: str, lang: str, **extra: Any) -> None:
    with _open(store, lang, user=user) as s:
        try:
            v = getattr(s, action)(ref, note=note, **extra)
        except StoreError as exc:
            raise _fail(exc, lang) from None
    _ok(tr("store.cli.moved", lang, version=v.ref, stage=v.stage.label))


@store_app.command("submit", help=help_code("store.cli.submit.help"))
def submit(ref: RefArg, store: StoreOption = None, user: UserOption = None, note: NoteOption = "", lang: LangOption = Lang.vi) -> None:
    _move("submit", ref, store, user, note, lang)


@store_app.command("send-back", help=help_code("store.cli.send_back.help"))
def send_back(ref: RefArg, store: StoreOption = None, user: UserOption = None, note: NoteOption = "", lang: LangOption = Lang.vi) -> None:
    _move("send_back", ref, store, user, note, lang)


@store_app.command("approve", help=help_code("store.cli.approve.help"))
def approve(
    ref: RefArg,
    decision: Annotated[str, typer.Option("--decision", "-d", help=help_code("store.cli.decision"))] = "",
    store: StoreOption = None,
    user: UserOption = None,
    note: NoteOption = "",
    lang: LangOption = Lang.vi,
) -> None:
    _move("approve", ref, store, user, note, lang, decision=decision)


@store_app.command("allocate", help=help_code("store.cli.allocate.help"))
def allocate(
    ref: RefArg,
    store: StoreOption = None,
    policy: PolicyOption = None,
    year: YearOption = None,
    user: UserOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=help_code("store.cli.out_xlsx"))] = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    from .. import pipeline

    outcome = pipeline.allocate_version(ref, store=store, policy=policy.value if policy else None, years=year, user=user, lang=lang)
    if outcome.error is not None:
        raise _fail(outcome.error, lang)
    if outcome.run is None:
        report_problems(outcome.problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID)
    if out is not None:
        from ..io.workbook import write_sheets

        write_sheets(outcome.sheets, out)
    if as_json:
        _print_json({"version": outcome.version.to_dict() if outcome.version else None, "run": outcome.run.to_dict()})
    else:
        _ok(outcome.message(lang))
        if out is not None:
            _ok(tr("store.cli.written", lang, path=str(out)))
    raise typer.Exit(outcome.exit_code)


@store_app.command("diff", help=help_code("store.cli.diff.help"))
def diff(
    a: Annotated[str, typer.Argument(help=help_code("store.cli.ref_a"))],
    b: Annotated[str, typer.Argument(help=help_code("store.cli.ref_b"))],
    store: StoreOption = None,
    policy: PolicyOption = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help=help_code("store.cli.diff_xlsx"))] = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    from .. import pipeline
    from ..store.sheets import show_value

    outcome = pipeline.compare_versions(a, b, store=store, policy=policy.value if policy else None, lang=lang)
    if outcome.error is not None:
        raise _fail(outcome.error, lang)
    d = outcome.diff
    assert d is not None
    if xlsx is not None:
        from ..io.workbook import write_sheets

        write_sheets(outcome.sheets, xlsx)
    if as_json:
        _print_json(d.to_dict())
        return
    console.print(f"[bold]{escape(tr('store.sheet.diff_title', lang, a=d.a, b=d.b))}[/]")
    console.print(escape(tr("store.sheet.diff_subtitle", lang, a=d.a, b=d.b, a_hash=d.a_hash[:12], b_hash=d.b_hash[:12])))
    for note in d.notes:
        console.print(f"[yellow]![/] {escape(note.render(lang))}")
    if d.same_content:
        console.print(escape(tr("store.diff.identical", lang, hash=d.a_hash[:12])))
    if d.fields:
        t = Table(title=tr("store.sheet.fields_heading", lang))
        for col in ("item", "change", "in_a", "in_b"):
            t.add_column(tr(f"store.column.{col}", lang), overflow="fold")
        for c in d.fields:
            name = next((s for s in reversed(c.path) if isinstance(s, str)), None)
            old = ", ".join(map(str, c.old)) if c.kind.value == "reordered" else show_value(c.old, lang, field=name)
            new = ", ".join(map(str, c.new)) if c.kind.value == "reordered" else show_value(c.new, lang, field=name)
            t.add_row(escape(c.where), escape(c.kind.label.render(lang)), "[red]" + escape(old) + "[/]", "[green]" + escape(new) + "[/]")
        console.print(t)
    elif not d.same_content:
        console.print(escape(tr("store.diff.no_field_changes", lang)))
    if d.compared_allocations:
        if d.amounts:
            t = Table(title=tr("store.sheet.amounts_heading", lang))
            for col in ("unit", "unit_name", "task", "year"):
                t.add_column(tr(f"store.column.{col}", lang), max_width=28, overflow="ellipsis")
            for col in (d.a, d.b, tr("store.column.delta", lang)):
                t.add_column(escape(col), justify="right")
            sep = "." if lang == "vi" else ","
            fmt = lambda v: f"{v:,}".replace(",", sep)  # noqa: E731
            for x in d.amounts:
                t.add_row(escape(x.unit), escape(d.unit_names.get(x.unit, "")), escape(x.task), str(x.year), fmt(x.old), fmt(x.new), ("[red]" if x.delta < 0 else "[green]") + fmt(x.delta) + "[/]")
            t.add_row(tr("store.column.allocated_total", lang), "", "", "", fmt(d.a_total or 0), fmt(d.b_total or 0), fmt((d.b_total or 0) - (d.a_total or 0)), style="bold")
            console.print(t)
        else:
            console.print(escape(tr("store.diff.no_amount_changes", lang)))
    console.print(escape(outcome.message(lang)))
    if xlsx is not None:
        _ok(tr("store.cli.written", lang, path=str(xlsx)))


@store_app.command("history", help=help_code("store.cli.history.help"))
def history(
    plan: Annotated[str, typer.Argument(help=help_code("store.cli.plan_code"))],
    store: StoreOption = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help=help_code("store.cli.history_xlsx"))] = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    from .. import pipeline

    outcome = pipeline.version_history(plan, store=store, lang=lang)
    if outcome.error is not None:
        raise _fail(outcome.error, lang)
    if xlsx is not None:
        from ..io.workbook import write_sheets

        write_sheets(outcome.sheets, xlsx)
    if as_json:
        _print_json([e.to_dict() for e in outcome.events])
        return
    t = Table(title=tr("store.sheet.history_title", lang, plan=plan), caption=tr("store.sheet.time_note", lang))
    for col in ("at", "event", "actor", "what"):
        t.add_column(tr(f"store.column.{col}", lang), overflow="fold")
    for e in outcome.events:
        t.add_row(_when(e.at), escape(tr(f"store.event_kind.{e.kind.value}", lang)), escape(e.actor), escape(e.summary.render(lang)))
    console.print(t)
    if xlsx is not None:
        _ok(tr("store.cli.written", lang, path=str(xlsx)))


@store_app.command("verify", help=help_code("store.cli.verify.help"))
def verify(
    plan: Annotated[str | None, typer.Argument(help=help_code("store.cli.plan_code"))] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
    lang: LangOption = Lang.vi,
) -> None:
    with _open(store, lang) as s:
        problems = s.verify(plan)
        count = len(s.versions(plan))
    if problems:
        report_problems(problems, lang=lang, as_json=as_json)
        raise typer.Exit(ExitCode.INVALID)
    if as_json:
        _print_json([])
    else:
        _ok(tr("store.cli.verified", lang, count=count, store=s.display))

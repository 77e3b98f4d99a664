"""What each "Ngân sách" command does with the document it was clicked in: the budgetlib side.

:func:`handle` takes a request (:mod:`budgetlib.calc.protocol`): the command id and a snapshot of the
live document, and runs the same pipeline as the CLI and the Excel add-in (:mod:`budgetlib.pipeline`):
read the input sheets as grids, validate, allocate, compare. It returns a
:class:`~budgetlib.calc.protocol.Reply` saying which result sheets to write, which of budgetlib's
old result sheets to remove and what to tell the officer; the extension then changes the document.

Rules, as in the add-in:

* only sheets that carry :data:`~budgetlib.io.grid.RESULT_MARKER_NAME` are ever replaced or removed;
  a result whose name is taken by a sheet of the user's gets another name
  (:func:`~budgetlib.io.grid.result_sheet_placement`) and the dialog says so;
* after a successful allocation the document holds exactly this run's result sheets;
* problems with the user's data come back as the ``Lỗi`` sheet and a dialog, never as an exception;
* an unexpected exception is logged with its traceback (:func:`~budgetlib.calc.paths.log_path`) and
  answered with a readable dialog; nothing has been written at that point.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import logging
import logging.handlers
import platform
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ..core.i18n import Msg, tr
from ..core.lang import Lang, as_lang
from ..core.problems import Problem, Severity
from ..io.grid import SheetSpec, result_sheet_placement
from .buttons import command
from .paths import config_path, log_path
from .protocol import PROTOCOL_VERSION, ProtocolError, Reply, SnapshotBook, book_from_request

__all__ = ["handle", "logger", "EXIT_OK", "EXIT_INVALID", "EXIT_INFEASIBLE", "EXIT_USAGE", "EXIT_CRASH", "MAX_LISTED"]

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3, 4
MAX_LISTED = 8
"""Problems listed in a dialog; the ``Lỗi`` sheet has them all."""

Progress = Callable[[str, "int | None", "int | None"], None]


def logger() -> logging.Logger:
    """The run log (rotated at 1 MB, 3 old files kept)."""
    path = log_path()
    log = logging.getLogger("budgetlib.calc")
    log.setLevel(logging.INFO)
    log.propagate = False
    wanted = str(path.resolve())
    if not any(getattr(h, "baseFilename", None) == wanted for h in log.handlers):
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    return log


@dataclass
class _Context:
    command: str
    book: SnapshotBook
    lang: Lang
    log: logging.Logger
    emit: Progress
    extension_version: str
    host: Mapping[str, Any]

    def t(self, code: str, **params: Any) -> str:
        return tr(f"calc.{code}", self.lang, **params)

    def progress(self, done: Any = None, total: Any = None, message: Any = "", *args: Any, **kwargs: Any) -> None:
        """The pipeline's progress callback (``done, total, message``) → the status bar, in the UI's
        language: the allocator's steps are catalogue messages (:class:`~budgetlib.core.i18n.Msg`),
        rendered here; a scenario's name is shown as it is."""
        step = message.render(self.lang) if isinstance(message, Msg) else message if isinstance(message, str) else ""
        text = self.t("progress.step", step=step) if step else self.t("progress.working")
        n = done if isinstance(done, int) and not isinstance(done, bool) else None
        m = total if isinstance(total, int) and not isinstance(total, bool) else None
        self.emit(text, n, m)


# ---------------------------------------------------------------------------------------------
# Entry point


def handle(request: Mapping[str, Any], *, progress: Progress | None = None) -> Reply:
    """Answer one request; never raises (a crash is a reply with exit code 4 and a logged traceback)."""
    log = logger()
    emit: Progress = progress or (lambda text, done, total: None)
    lang = Lang.VI
    command_id = str(request.get("command", "?"))
    try:
        lang = as_lang(str(request.get("lang") or "vi"))
        if request.get("protocol") != PROTOCOL_VERSION:
            log.warning("protocol %r (expected %s) for %s", request.get("protocol"), PROTOCOL_VERSION, command_id)
            msg = tr("calc.msg.protocol_mismatch", lang, extension=str(request.get("extension_version") or "?"), package=__version__)
            return Reply(EXIT_USAGE, msg, "error", title=tr("calc.title", lang))
        book = book_from_request(request.get("book") or {"sheets": []})
        ctx = _Context(command_id, book, lang, log, emit, str(request.get("extension_version") or ""), request.get("host") or {})
        log.info("click %s book=%s extension=%s sheets=%d", command_id, book.name, ctx.extension_version, len(book.sheets))
        try:
            action = command(command_id)
        except KeyError:
            log.warning("unknown command %s", command_id)
            return Reply(EXIT_USAGE, ctx.t("msg.unknown_command", command=command_id, version=__version__), "error", title=ctx.t("title"))
        if action.where != "bridge":
            raise ProtocolError(f"{command_id} is answered by the extension itself")
        reply = _HANDLERS[action.action](ctx)
        if ctx.extension_version and ctx.extension_version != __version__ and action.action != "version":
            note = ctx.t("msg.version_mismatch", extension=ctx.extension_version, package=__version__)
            reply.message = f"{note}\n\n{reply.message}" if reply.message else note
            reply.severity = "warning" if reply.severity == "info" else reply.severity
        reply.title = reply.title or ctx.t("title")
        log.info(
            "done %s exit=%s write=%s remove=%s", command_id, reply.exit_code, [s.name for s in reply.write], reply.remove
        )
        return reply
    except Exception as exc:  # the boundary: log it, answer readably
        log.error("crash %s\n%s", command_id, traceback.format_exc())
        msg = tr("calc.msg.crash", lang, command=command_id, error=f"{type(exc).__name__}: {exc}", log=str(log_path()))
        return Reply(EXIT_CRASH, msg, "error", title=tr("calc.title", lang))


# ---------------------------------------------------------------------------------------------
# Placement of result sheets


_SUFFIX = re.compile(r"^(.*) \((\d+)\)$")


def _logical(name: str) -> str:
    """The result sheet a marked sheet stands for (``Tổng hợp (2)`` → ``Tổng hợp``)."""
    from ..pipeline import is_result_sheet

    m = _SUFFIX.match(name)
    if m and is_result_sheet(m.group(1)):
        return m.group(1)
    return name


def _ours(ctx: _Context) -> list[str]:
    """budgetlib's result sheets in the document (marked), in document order."""
    return [n for n in ctx.book.sheets if ctx.book.is_marked(n)]


def _kind(logical: str) -> str:
    """The result family of a sheet name (either language): ``report``, ``comparison``,
    ``progress``, ``history``, ``errors`` or ``log`` (:func:`budgetlib.pipeline.desktop.family`)."""
    from ..pipeline.desktop import family

    return family(logical)


def _of_kind(ctx: _Context, kind: str) -> list[str]:
    return [n for n in _ours(ctx) if _kind(_logical(n)) == kind]


@dataclass
class _Plan:
    write: list[SheetSpec]
    remove: list[str]
    renamed: list[tuple[str, str]]


def _place(ctx: _Context, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> _Plan:
    """Final names for ``specs`` (a user's sheet keeps its name; ours get replaced), and the marked
    sheets to delete. Input sheet specs are a programmer error here."""
    for spec in specs:
        if spec.kind != "result":
            raise ValueError(f"internal error: {spec.name!r} is not a result sheet spec")
    placed = result_sheet_placement([s.name for s in specs], ctx.book.placement_state())
    written = [dataclasses.replace(s, name=placed[s.name]) for s in specs]
    names = {s.name.casefold() for s in written}
    gone = [n for n in remove if ctx.book.is_marked(n) and n.casefold() not in names]
    renamed = [(s.name, placed[s.name]) for s in specs if placed[s.name] != s.name]
    return _Plan(written, list(dict.fromkeys(gone)), renamed)


def _reply(ctx: _Context, plan: _Plan, exit_code: int, message: str, severity: str) -> Reply:
    notes = [ctx.t("msg.renamed", wanted=w, placed=p) for w, p in plan.renamed]
    if notes:
        message = "\n".join([message, "", *notes]) if message else "\n".join(notes)
    visible = [s.name for s in plan.write if not s.hidden]
    return Reply(exit_code, message, severity, plan.write, plan.remove, activate=visible[0] if visible else None)


# ---------------------------------------------------------------------------------------------
# Messages about a run


def _problem_lines(ctx: _Context, problems: Sequence[Problem]) -> str:
    def short(text: str, limit: int = 240) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    shown = [f"• {short(p.render(ctx.lang.value))}" for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        shown.append(ctx.t("msg.more", n=len(problems) - MAX_LISTED))
    return "\n".join(shown)


def _where(ctx: _Context) -> Any:
    """The document as :mod:`budgetlib.pipeline.desktop` needs it: name, file, saved file, our sheets."""
    from pathlib import Path

    from ..pipeline.desktop import OpenBook

    b = ctx.book
    return OpenBook(b.name, Path(b.path) if b.path else None, Path(b.saved_file) if b.saved_file else None, tuple(_ours(ctx)))


def _source_kwargs(ctx: _Context) -> dict[str, Any]:
    """The run log's input name and, as the CLI writes, the input file's SHA-256 — but only when the
    document has no unsaved changes, so the file on disk is what was read."""
    kwargs: dict[str, Any] = _where(ctx).source_kwargs()
    return kwargs


def _outcome_reply(ctx: _Context, outcome: Any, plan: _Plan, ok_message: str) -> Reply:
    problems = list(outcome.problems)
    if outcome.exit_code == EXIT_OK:
        warnings = [p for p in problems if p.severity is Severity.WARNING]
        msg = ok_message
        if warnings:
            msg += "\n\n" + ctx.t("msg.warnings", n=len(warnings)) + "\n" + _problem_lines(ctx, warnings)
        return _reply(ctx, plan, EXIT_OK, msg, "warning" if warnings else "info")
    if outcome.exit_code == EXIT_INVALID:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        msg = ctx.t("msg.invalid", n=len(errors)) + "\n" + _problem_lines(ctx, errors)
        return _reply(ctx, plan, EXIT_INVALID, msg, "error")
    msg = ctx.t("msg.infeasible") + "\n" + _problem_lines(ctx, [p for p in problems if p.severity is Severity.ERROR] or problems)
    return _reply(ctx, plan, outcome.exit_code, msg, "error")


def _error_sheets_to_drop(ctx: _Context, outcome: Any) -> list[str]:
    """A stale ``Lỗi`` sheet from an earlier run must not survive a clean run."""
    return [] if outcome.problems else _of_kind(ctx, "errors")


# ---------------------------------------------------------------------------------------------
# Handlers (COMMANDS[*].action → function)


def _validate(ctx: _Context) -> Reply:
    from ..core.money import format_amount
    from ..pipeline import run_validate

    outcome = run_validate(ctx.book, lang=ctx.lang.value, **_source_kwargs(ctx))
    plan = _place(ctx, outcome.sheets, remove=_error_sheets_to_drop(ctx, outcome))
    ok = ctx.t("msg.valid")
    if outcome.plan is not None:
        program = outcome.plan.program
        ok += "\n" + ctx.t("msg.valid_total", program=program.name, total=format_amount(program.total, lang=ctx.lang.value))
    return _outcome_reply(ctx, outcome, plan, ok)


def _allocate(ctx: _Context) -> Reply:
    from ..pipeline import run_allocate
    from ..pipeline.desktop import version_ref

    existing = _ours(ctx)
    cite = version_ref(ctx.book, _where(ctx), lang=ctx.lang)  # the stored version the document is, for the run log
    outcome = run_allocate(ctx.book, lang=ctx.lang.value, progress=ctx.progress, version_ref=cite.label if cite else None,
                           **_source_kwargs(ctx))
    # As the CLI: after a successful run the document holds exactly this run's results (stale year
    # sheets of a changed period, an old comparison or error sheet go).
    plan = _place(ctx, outcome.sheets, remove=existing if outcome.exit_code == EXIT_OK else ())
    ok = ""
    if outcome.allocation is not None and outcome.exit_code == EXIT_OK:
        ok = ctx.t("msg.allocated", total=outcome.allocation.total, n=len(plan.write), sheets=[s.name for s in plan.write])
        line = cite.line() if cite is not None else None
        if line is not None:
            ok += "\n" + line.render(ctx.lang)
    return _outcome_reply(ctx, outcome, plan, ok)


def _desk(ctx: _Context) -> Reply:
    """A command whose work is a function of :mod:`budgetlib.pipeline.desktop` (shared with the
    Excel ribbon): its sheets placed, the stale sheets of the families it replaces removed."""
    from ..pipeline import desktop

    where = _where(ctx)
    run_fn = getattr(desktop, command(ctx.command).pipeline)
    out = run_fn(ctx.book, where, lang=ctx.lang, progress=ctx.progress, label=lambda c: tr(f"calc.button.{c}", ctx.lang))
    plan = _place(ctx, out.sheets, remove=out.stale(where.marked))
    head = out.message.render(ctx.lang) if out.message is not None else ""
    errors = list(out.errors)
    parts: list[str] = []
    if out.exit_code != EXIT_OK and errors:
        if not head:
            head = ctx.t("msg.invalid" if out.exit_code == EXIT_INVALID else "msg.infeasible", n=len(errors))
        parts += [head, _problem_lines(ctx, errors)]
    else:
        parts.append(head)
    shown = [s.name for s in plan.write if _kind(_logical(s.name)) not in ("errors", "log")]
    if shown:
        parts.append(tr("desktop.written", ctx.lang, count=len(shown), sheets=shown))
    parts += [line.render(ctx.lang) for line in out.lines]
    if out.exit_code == EXIT_OK and out.warnings:
        parts += ["", ctx.t("msg.warnings", n=len(out.warnings)), _problem_lines(ctx, out.warnings)]
    if out.exit_code == EXIT_OK:
        severity = "warning" if out.warnings else "info"
    else:
        severity = "warning" if out.exit_code == EXIT_USAGE else "error"
    return _reply(ctx, plan, out.exit_code, "\n".join(p for p in parts if p), severity)


def _new_workbook(ctx: _Context) -> Reply:
    from ..io.workbook import template_sheets

    specs = list(template_sheets(lang=ctx.lang.value))
    msg = ctx.t("msg.new_workbook", n=len(specs))
    return Reply(EXIT_OK, "", "info", new_document=specs, activate=specs[0].name if specs else None, status=msg)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "—"


def _version(ctx: _Context) -> Reply:
    host = ctx.host
    lines = [
        ctx.t("version.package", version=__version__),
        ctx.t("version.extension", version=ctx.extension_version or "?"),
        ctx.t("version.python", version=platform.python_version(), path=sys.executable),
        ctx.t("version.libraries", libraries=", ".join(
            f"{name} {_package_version(name)}" for name in ("numpy", "pydantic", "pulp", "highspy", "openpyxl")
        )),
        ctx.t("version.office", version=str(host.get("office_version") or "?")),
        ctx.t("version.office_python", version=str(host.get("office_python") or "?")),
        ctx.t("version.config", path=str(config_path())),
        ctx.t("version.log", path=str(log_path())),
        "",
    ]
    mismatch = bool(ctx.extension_version) and ctx.extension_version != __version__
    if mismatch:
        lines.append(ctx.t("msg.version_mismatch", extension=ctx.extension_version, package=__version__))
    else:
        lines.append(ctx.t("version.match"))
    info = {
        "budgetlib": __version__,
        "python": sys.executable,
        "python_version": platform.python_version(),
    }
    return Reply(EXIT_USAGE if mismatch else EXIT_OK, "\n".join(lines), "warning" if mismatch else "info", info=info)


_HANDLERS: dict[str, Callable[[_Context], Reply]] = {
    "new_workbook": _new_workbook,
    "validate": _validate,
    "allocate": _allocate,
    "desk": _desk,
    "version": _version,
}

"""What each ribbon button does, written against a small book interface so it runs without Excel.

:func:`dispatch` takes a button id and a :class:`BookAdapter` — the live workbook through xlwings
(:class:`budgetlib.addin.xlbook.XlwingsBook`) or an ``.xlsx`` file
(:class:`budgetlib.addin.filebook.OpenpyxlAdapter`, for batch use and support staff) — and runs the
same pipeline as the CLI (:mod:`budgetlib.pipeline`): read the input sheets as grids, validate,
allocate, and hand the result :class:`~budgetlib.io.grid.SheetSpec` list to the adapter to draw.

Guarantees, whatever the adapter:

* only sheets carrying budgetlib's marker are replaced or removed; a sheet of the user's with a
  result sheet's name is left alone and the result is written next to it
  (:mod:`budgetlib.addin.placement`), and the message says so;
* every sheet is built before the first one is written; a failed write is rolled back or reported
  exactly as it stands (:class:`~budgetlib.addin.errors.WriteReport`) — never "nothing changed"
  unless that was checked;
* problems with the user's data and with the workbook file (missing, not ``.xlsx``, locked,
  protected) are shown located and in the user's language, not raised;
* an unexpected exception is logged with its traceback (:func:`log_path`) and shown readably.

Every text comes from the catalogue (``budgetlib/locales/*/addin.toml``).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .._version import __version__
from ..core.i18n import LocalizedError, Msg, tr
from ..core.lang import DEFAULT_LANG, Lang, as_lang
from ..core.problems import PlanInvalid, Problem, Severity
from ..io.grid import Grid, SheetSpec, TableRef
from .buttons import BUTTONS, Button, button
from .errors import BookError, WriteFailed, WriteReport
from .placement import base_result_name, place_results

__all__ = [
    "BookAdapter",
    "Outcome",
    "dispatch",
    "log_path",
    "resolve_lang",
    "EXIT_OK",
    "EXIT_INVALID",
    "EXIT_INFEASIBLE",
    "EXIT_USAGE",
    "EXIT_CRASH",
]

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3, 4
LANG_ENV = "BUDGETLIB_LANG"
_MAX_LISTED = 8  # problems listed in a message box; the errors sheet has them all
_ECHO = 240  # a problem's text in a message box is cut here


class BookAdapter(Protocol):
    """The calling workbook, as the dispatcher needs it (a GridBook plus writing and UI)."""

    @property
    def name(self) -> str: ...  # "plan.xlsx", for messages and the run log

    @property
    def path(self) -> Path | None: ...  # full path when saved to disk, else None

    @property
    def saved_file(self) -> Path | None: ...  # the file on disk iff it holds exactly what is read

    def sheet_names(self) -> list[str]: ...

    def sheet_marks(self) -> dict[str, bool]:
        """Sheet name → carries budgetlib's result marker."""

    def grid(self, name: str) -> Grid: ...

    def tables(self) -> list[TableRef]: ...

    def check_writable(self) -> None:
        """Raise :class:`BookError` when results cannot go into this workbook (before any work)."""

    def notices(self) -> list[str]:
        """Catalogue codes (``addin.book.*``) worth telling after a successful write."""

    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> WriteReport:
        """Create or replace the marked sheets of ``specs``, delete the marked ones in ``remove``."""

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> WriteReport:
        """Open a new workbook holding ``specs`` (the template)."""

    def status(self, text: str | None) -> None:
        """Show progress (Excel's status bar); None gives the bar back to Excel."""

    def alert(self, text: str, *, title: str, critical: bool = False) -> None:
        """A message box."""

    def open_path(self, path: Path) -> None:
        """Open a file with the OS (the run log, the guide)."""


@dataclass
class Outcome:
    """What one click did: exit code (0 ok, 1 invalid plan, 2 infeasible, 3 the workbook or the
    add-in stands in the way, 4 crash), the message shown, the sheets written, removed and
    renamed (usual name → name used), the problems found, the files opened and the files
    written beside the workbook."""

    button: str
    exit_code: int
    message: str = ""
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    opened: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # written beside the workbook (the PDF report)


# ---------------------------------------------------------------------------------------------
# Run log


def log_path() -> Path:
    """``~/.budgetlib/addin.log`` (``BUDGETLIB_ADDIN_LOG`` overrides): one line per click, tracebacks."""
    override = os.environ.get("BUDGETLIB_ADDIN_LOG")
    return Path(override) if override else Path.home() / ".budgetlib" / "addin.log"


def _logger() -> logging.Logger:
    path = log_path()
    log = logging.getLogger("budgetlib.addin")
    log.setLevel(logging.INFO)
    log.propagate = False
    current = [h for h in log.handlers if getattr(h, "baseFilename", None) == str(path.resolve())]
    if not current:
        for h in list(log.handlers):
            log.removeHandler(h)
            h.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    return log


def resolve_lang(lang: str | Lang | None) -> Lang:
    """The language of a click: the one the ribbon passes, else ``BUDGETLIB_LANG``, else Vietnamese.

    A value budgetlib does not speak falls back to Vietnamese (and is logged): a button must not
    fail over a setting."""
    for candidate in (lang, os.environ.get(LANG_ENV)):
        if candidate:
            try:
                return as_lang(candidate)
            except ValueError:
                logging.getLogger("budgetlib.addin").warning("unknown language %r; using %s", candidate, DEFAULT_LANG.value)
    return DEFAULT_LANG


# ---------------------------------------------------------------------------------------------
# Dispatch


@dataclass
class _Context:
    button: str
    book: BookAdapter
    lang: Lang
    log: logging.Logger
    addin_version: str | None
    xlwings_vba: str | None
    written: list[str] = field(default_factory=list)  # sheets this click has written so far

    def t(self, code: str, **params: Any) -> str:
        return tr(code, self.lang, **params)

    @property
    def title(self) -> str:
        return self.t("addin.title")

    def alert(self, text: str, *, critical: bool = False) -> None:
        self.book.alert(text, title=self.title, critical=critical)

    def progress(self, *args: Any, **kwargs: Any) -> None:
        """Progress callback for the pipeline (``done, total, step``): shown on the status bar."""
        numbers = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
        steps = [a for a in args if isinstance(a, (str, Msg))] + [v for v in kwargs.values() if isinstance(v, (str, Msg))]
        step = steps[0] if steps else ""
        step_text = step.render(self.lang) if isinstance(step, Msg) else step
        if len(numbers) >= 2 and numbers[1]:
            text = self.t("addin.status.progress", step=step_text, done=numbers[0], total=numbers[1])
        else:
            text = self.t("addin.status.step", step=step_text)
        self.book.status(text)


def dispatch(
    button_id: str,
    book: BookAdapter,
    *,
    lang: str | Lang | None = None,
    addin_version: str | None = None,
    xlwings_vba: str | None = None,
) -> Outcome:
    """Run the action of ``button_id`` on ``book``; never raises for a user's problem or a crash."""
    ctx = _Context(button_id, book, resolve_lang(lang), _logger(), addin_version, xlwings_vba)
    ctx.log.info(
        "click %s book=%s addin=%s xlwings_vba=%s lang=%s",
        button_id, _safe_name(book), addin_version, xlwings_vba, ctx.lang.value,
    )
    try:
        try:
            action = button(button_id)
        except KeyError:
            msg = ctx.t("addin.unknown_button", button=button_id, version=__version__)
            ctx.alert(msg, critical=True)
            ctx.log.warning("unknown button %s", button_id)
            return Outcome(button_id, EXIT_USAGE, msg)
        _warn_version_mismatch(ctx)
        book.status(ctx.t("addin.status.running", label=action.label(ctx.lang)))
        outcome = _HANDLERS[action.action](ctx, action)
        ctx.log.info(
            "done %s exit=%s written=%s removed=%s renamed=%s problems=%d",
            button_id, outcome.exit_code, outcome.written, outcome.removed, outcome.renamed, len(outcome.problems),
        )
        return outcome
    except BookError as exc:
        msg = exc.message(ctx.lang)
        ctx.log.warning("workbook %s: %s", exc.code, exc)
        return _show(ctx, Outcome(button_id, EXIT_USAGE, msg, list(ctx.written)), critical=True)
    except PlanInvalid as exc:
        msg = "\n".join([ctx.t("addin.unreadable", count=len(exc.problems)), _problem_lines(ctx, exc.problems)])
        ctx.log.warning("unreadable workbook: %s", exc)
        return _show(ctx, Outcome(button_id, EXIT_INVALID, msg, list(ctx.written), problems=list(exc.problems)), critical=True)
    except WriteFailed as exc:
        ctx.log.error("write failed %s: %s\n%s", button_id, exc, "".join(traceback.format_exception(exc.cause)))
        msg = _write_failed_message(ctx, exc)
        return _show(ctx, Outcome(button_id, EXIT_CRASH, msg, list(exc.report.written), list(exc.report.removed)), critical=True)
    except Exception as exc:
        ctx.log.error("crash %s\n%s", button_id, traceback.format_exc())
        state = (
            ctx.t("addin.crash.written", sheets=ctx.written) if ctx.written else ctx.t("addin.crash.nothing_written")
        )
        msg = ctx.t("addin.crash.message", button=button_id, error=f"{type(exc).__name__}: {exc}", state=state, log=str(log_path()),
                    log_button=button("btnLog").label(ctx.lang))
        return _show(ctx, Outcome(button_id, EXIT_CRASH, msg, list(ctx.written)), critical=True)
    finally:
        try:
            book.status(None)
        except Exception:
            pass


def _show(ctx: _Context, outcome: Outcome, *, critical: bool) -> Outcome:
    try:
        ctx.alert(outcome.message, critical=critical)
    except Exception:
        ctx.log.error("could not show the message\n%s", traceback.format_exc())
    return outcome


def _safe_name(book: BookAdapter) -> str:
    try:
        return book.name
    except Exception:
        return "?"


def _write_failed_message(ctx: _Context, exc: WriteFailed) -> str:
    r = exc.report
    cause = exc.cause
    error = cause.message(ctx.lang) if isinstance(cause, LocalizedError) else f"{type(cause).__name__}: {cause}"
    if r.rolled_back:
        return ctx.t("addin.write.rolled_back", error=error, log=str(log_path()))
    parts = [ctx.t("addin.write.partial", error=error)]
    if r.written:
        parts.append(ctx.t("addin.write.partial_written", sheets=r.written))
    if r.removed:
        parts.append(ctx.t("addin.write.partial_removed", sheets=r.removed))
    if r.leftovers:
        parts.append(ctx.t("addin.write.partial_leftovers", sheets=r.leftovers))
    if not (r.written or r.removed or r.leftovers):
        parts.append(ctx.t("addin.write.partial_unknown"))
    parts.append(ctx.t("addin.write.partial_advice", log=str(log_path())))
    return "\n".join(parts)


def _warn_version_mismatch(ctx: _Context) -> None:
    import importlib.metadata

    if ctx.button == "btnVersion":
        return  # that button shows the versions itself
    issues = _version_issues(ctx, importlib.metadata.version("xlwings"))
    if issues:
        ctx.log.warning("version mismatch: %s", "; ".join(issues))
        ctx.alert("\n".join(issues), critical=False)


def _version_issues(ctx: _Context, xlwings_py: str) -> list[str]:
    out = []
    if ctx.addin_version and ctx.addin_version != __version__:
        out.append(ctx.t("addin.mismatch.addin", addin=ctx.addin_version, package=__version__))
    if ctx.xlwings_vba and ctx.xlwings_vba != xlwings_py:
        out.append(ctx.t("addin.mismatch.xlwings", vba=ctx.xlwings_vba, python=xlwings_py))
    return out


# ---------------------------------------------------------------------------------------------
# Writing results


def _write(ctx: _Context, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> WriteReport:
    """Place the specs (a user's own sheet keeps its name), then let the adapter write them all at once."""
    marks = ctx.book.sheet_marks()
    placement = place_results(specs, marks, remove=remove, tables=ctx.book.tables())
    if placement.renamed_tables:
        ctx.log.info("table names taken by the user's sheets, renamed: %s", placement.renamed_tables)
    if not placement.specs and not placement.remove:
        return WriteReport()
    ctx.book.status(ctx.t("addin.status.writing", count=len(placement.specs)))
    report = ctx.book.write_sheets(placement.specs, remove=placement.remove)
    report.renamed = dict(placement.renamed)
    ctx.written.extend(report.written)
    return report


def _known_names() -> set[str]:
    from ..io.workbook.results import RESULT_SHEETS

    return {name for pair in RESULT_SHEETS.values() for name in pair}


def _kind(name: str) -> str:
    """The result family of a (placed) sheet name: ``report``, ``comparison``, ``progress``,
    ``history``, ``errors`` or ``log`` (:func:`budgetlib.pipeline.desktop.family`)."""
    from ..pipeline.desktop import family

    return family(name)


def _ours(ctx: _Context) -> list[str]:
    """The workbook's sheets that carry budgetlib's marker, in workbook order."""
    return [n for n, marked in ctx.book.sheet_marks().items() if marked]


def _problem_lines(ctx: _Context, problems: Sequence[Problem]) -> str:
    def short(text: str) -> str:
        return text if len(text) <= _ECHO else text[: _ECHO - 1] + "…"

    shown = [f"• {short(p.render(ctx.lang))}" for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        shown.append(ctx.t("addin.more", count=len(problems) - _MAX_LISTED))
    return "\n".join(shown)


def _where(ctx: _Context) -> Any:
    """The workbook as :mod:`budgetlib.pipeline.desktop` needs it: name, file, saved file, our sheets."""
    from ..pipeline.desktop import OpenBook

    return OpenBook(ctx.book.name, ctx.book.path, ctx.book.saved_file, tuple(_ours(ctx)))


def _source_kwargs(ctx: _Context) -> dict[str, Any]:
    """The run log's input name and, as the CLI writes, the input file's SHA-256 — but only when the
    file on disk is what was read (a live workbook with unsaved edits has no such file)."""
    kwargs: dict[str, Any] = _where(ctx).source_kwargs()
    return kwargs


def _renamed_lines(ctx: _Context, report: WriteReport) -> list[str]:
    return [ctx.t("addin.renamed", user=old, ours=new) for old, new in sorted(report.renamed.items())]


def _finish(ctx: _Context, run: Any, report: WriteReport, ok_message: str) -> Outcome:
    """The message for a run whose sheets were written, in the three cases the pipeline has."""
    problems = list(run.problems)
    extra = _renamed_lines(ctx, report) + [ctx.t(code, file=ctx.book.name) for code in ctx.book.notices()]
    errors_sheet = next((n for n in report.written if _kind(n) == "errors"), None)
    if run.exit_code == EXIT_OK:
        warnings = [p for p in problems if p.severity is Severity.WARNING]
        parts = [ok_message]
        if warnings:
            parts += ["", ctx.t("addin.warnings", count=len(warnings), sheet=errors_sheet or ""), _problem_lines(ctx, warnings)]
        msg = "\n".join([*parts, "", *extra] if extra else parts)
        return _show(ctx, Outcome(ctx.button, EXIT_OK, msg, report.written, report.removed, report.renamed, problems), critical=False)
    if run.exit_code == EXIT_INVALID:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        parts = [ctx.t("addin.invalid", count=len(errors), sheet=errors_sheet or ""), _problem_lines(ctx, errors)]
    else:
        conflicts = [p for p in problems if p.severity is Severity.ERROR] or problems
        explanation = next((n for n in report.written if base_result_name(n, _known_names()) in ("Giải thích", "Explanation")), "")
        parts = [ctx.t("addin.infeasible", explanation=explanation, errors=errors_sheet or ""), _problem_lines(ctx, conflicts)]
    msg = "\n".join([*parts, "", *extra] if extra else parts)
    return _show(ctx, Outcome(ctx.button, run.exit_code, msg, report.written, report.removed, report.renamed, problems), critical=True)


# ---------------------------------------------------------------------------------------------
# Handlers (BUTTONS[*].action → function)


def _pipeline(ctx: _Context, action: Button) -> Outcome:
    """The generic button: one pipeline function, its sheets written, stale results pruned."""
    import inspect

    from .. import pipeline

    ctx.book.check_writable()
    run_fn = getattr(pipeline, action.pipeline)
    kwargs: dict[str, Any] = {"lang": ctx.lang.value, **_source_kwargs(ctx)}
    parameters = inspect.signature(run_fn).parameters
    if "progress" in parameters:
        kwargs["progress"] = ctx.progress
    cite = None
    if "version_ref" in parameters:  # the stored version the workbook is, cited in the run log
        from ..pipeline.desktop import version_ref

        cite = version_ref(ctx.book, _where(ctx), lang=ctx.lang)
        if cite is not None and cite.label:
            kwargs["version_ref"] = cite.label
    before = _ours(ctx)
    run = run_fn(ctx.book, **kwargs)
    remove: list[str] = []
    if action.prune == "all" and run.exit_code == EXIT_OK:
        remove = before
    elif action.prune == "errors" and not run.problems:
        remove = [n for n in before if _kind(n) == "errors"]
    report = _write(ctx, run.sheets, remove=remove)
    message = _ok_message(ctx, action, run, report)
    line = cite.line() if cite is not None else None
    if line is not None and run.exit_code == EXIT_OK:
        message += "\n" + line.render(ctx.lang)
    return _finish(ctx, run, report, message)


def _ok_message(ctx: _Context, action: Button, run: Any, report: WriteReport) -> str:
    plan = getattr(run, "plan", None)
    allocation = getattr(run, "allocation", None)
    return ctx.t(
        f"addin.done.{action.key}",
        program=plan.program.name if plan is not None else "",
        total=int(plan.program.total) if plan is not None else 0,
        allocated=int(allocation.total) if allocation is not None else 0,
        count=len(report.written),
        sheets=report.written,
    )


def _desk(ctx: _Context, action: Button) -> Outcome:
    """A button whose work is a function of :mod:`budgetlib.pipeline.desktop` (shared with Calc):
    its sheets written, the stale sheets of the families it replaces removed, its message shown."""
    from ..pipeline import desktop

    ctx.book.check_writable()
    where = _where(ctx)
    run_fn = getattr(desktop, action.pipeline)
    out = run_fn(ctx.book, where, lang=ctx.lang, progress=ctx.progress, label=lambda b: button(b).label(ctx.lang))
    report = _write(ctx, out.sheets, remove=out.stale(where.marked))
    return _desk_finish(ctx, out, report)


def _desk_finish(ctx: _Context, out: Any, report: WriteReport) -> Outcome:
    """The message of a desk button: its headline (or the usual one for invalid and infeasible
    plans), the sheets written, its own lines, the problems (located) and what the workbook says."""
    head = out.message.render(ctx.lang) if out.message is not None else ""
    errors_sheet = next((n for n in report.written if _kind(n) == "errors"), "")
    errors = list(out.errors)
    parts: list[str] = []
    if out.exit_code != EXIT_OK and errors:
        if not head and out.exit_code == EXIT_INVALID:
            head = ctx.t("addin.invalid", count=len(errors), sheet=errors_sheet)
        elif not head:
            explanation = next((n for n in report.written if base_result_name(n, _known_names()) in ("Giải thích", "Explanation")), "")
            head = ctx.t("addin.infeasible", explanation=explanation, errors=errors_sheet)
        parts += [head, _problem_lines(ctx, errors)]
    else:
        parts.append(head)
    shown = [n for n in report.written if _kind(n) not in ("errors", "log")]
    if shown:
        parts.append(ctx.t("desktop.written", count=len(shown), sheets=shown))
    parts += [line.render(ctx.lang) for line in out.lines]
    if out.exit_code == EXIT_OK and out.warnings:
        parts += ["", ctx.t("addin.warnings", count=len(out.warnings), sheet=errors_sheet), _problem_lines(ctx, out.warnings)]
    extra = _renamed_lines(ctx, report) + [ctx.t(code, file=ctx.book.name) for code in ctx.book.notices()]
    msg = "\n".join([p for p in parts if p] + (["", *extra] if extra else []))
    critical = out.exit_code not in (EXIT_OK, EXIT_USAGE)
    outcome = Outcome(ctx.button, out.exit_code, msg, report.written, report.removed, report.renamed, list(out.problems),
                      files=list(out.files))
    return _show(ctx, outcome, critical=critical)


def _new_workbook(ctx: _Context, action: Button) -> Outcome:
    from .template import template_sheets

    specs = template_sheets(lang=ctx.lang.value)
    report = ctx.book.new_book(specs, name=ctx.t("addin.new_book_name"))
    msg = ctx.t("addin.done.new", count=len(specs), validate=button("btnValidate").label(ctx.lang))
    ctx.book.status(msg)
    return Outcome(ctx.button, EXIT_OK, msg, report.written)


def _open_log(ctx: _Context, action: Button) -> Outcome:
    path = log_path()
    for h in ctx.log.handlers:
        h.flush()
    ctx.book.open_path(path)
    return Outcome(ctx.button, EXIT_OK, str(path), opened=[path])


def _guide(ctx: _Context, action: Button) -> Outcome:
    from .guide import guide_html

    path = guide_html()
    ctx.book.open_path(path)
    return Outcome(ctx.button, EXIT_OK, str(path), opened=[path])


def _version(ctx: _Context, action: Button) -> Outcome:
    import importlib.metadata

    xlwings_py = importlib.metadata.version("xlwings")
    unknown = ctx.t("addin.version.unknown")
    lines = [
        ctx.t("addin.version.package", version=__version__),
        ctx.t("addin.version.addin", version=ctx.addin_version or unknown),
        ctx.t("addin.version.xlwings_python", version=xlwings_py),
        ctx.t("addin.version.xlwings_vba", version=ctx.xlwings_vba or unknown),
        ctx.t("addin.version.python", version=platform.python_version(), path=sys.executable),
        ctx.t("addin.version.log", path=str(log_path())),
    ]
    issues = _version_issues(ctx, xlwings_py)
    lines += ["", *issues] if issues else ["", ctx.t("addin.version.match")]
    msg = "\n".join(lines)
    return _show(ctx, Outcome(ctx.button, EXIT_USAGE if issues else EXIT_OK, msg), critical=bool(issues))


_HANDLERS: dict[str, Callable[[_Context, Button], Outcome]] = {
    "new_workbook": _new_workbook,
    "pipeline": _pipeline,
    "desk": _desk,
    "open_log": _open_log,
    "guide": _guide,
    "version": _version,
}
if not {b.action for b in BUTTONS} <= set(_HANDLERS):  # pragma: no cover - a programming error, caught at import
    raise RuntimeError("every button needs a handler")

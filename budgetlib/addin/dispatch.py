"""What each ribbon button does, written against a small book interface so it runs without Excel.

:func:`dispatch` takes a button id and a :class:`BookAdapter` — the live workbook through xlwings
(:class:`budgetlib.addin.xlbook.XlwingsBook`) or an openpyxl workbook
(:class:`budgetlib.addin.filebook.OpenpyxlAdapter`, for tests and batch use) — and runs the same
pipeline as the CLI (:mod:`budgetlib.pipeline`): read the input sheets as grids, validate, allocate,
and hand the result :class:`~budgetlib.io.grid.SheetSpec` list to the adapter to draw.

Guarantees, whatever the adapter:

* input sheets are never written: a result whose name is an existing non-result sheet is refused;
* every sheet is built before the first one is written, and the adapter writes all or nothing;
* problems with the user's data are shown (``Lỗi`` sheet + message box), not raised;
* an unexpected exception is logged with its traceback (:func:`log_path`) and shown readably.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from .._version import __version__
from ..core.i18n import Msg
from ..core.problems import Problem, Severity
from ..io.grid import Grid, SheetSpec, TableRef
from .buttons import BUTTONS, button

__all__ = [
    "BookAdapter",
    "Outcome",
    "dispatch",
    "log_path",
    "EXIT_OK",
    "EXIT_INVALID",
    "EXIT_INFEASIBLE",
    "EXIT_USAGE",
    "EXIT_CRASH",
    "ResultSheetConflict",
]

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3, 4
TITLE = "budgetlib – Ngân sách"
_MAX_LISTED = 8  # problems listed in a message box; the Lỗi sheet has them all


class BookAdapter(Protocol):
    """The calling workbook, as the dispatcher needs it (a GridBook plus writing and UI)."""

    @property
    def name(self) -> str: ...  # "plan.xlsx", for messages and the run log

    @property
    def path(self) -> Path | None: ...  # full path when saved to disk, else None

    @property
    def saved_file(self) -> Path | None: ...  # the file on disk iff it holds exactly what is read

    def sheet_names(self) -> list[str]: ...

    def grid(self, name: str) -> Grid: ...

    def tables(self) -> list[TableRef]: ...

    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> None:
        """Create or replace the sheets of ``specs`` and delete ``remove``, all or nothing; nothing else changes."""

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> None:
        """Open a new workbook holding ``specs`` (the template)."""

    def status(self, text: str | None) -> None:
        """Show progress (Excel's status bar); None gives the bar back to Excel."""

    def alert(self, text: str, *, title: str = TITLE, critical: bool = False) -> None:
        """A message box."""

    def open_path(self, path: Path) -> None:
        """Open a file with the OS (the run log, the guide)."""


class ResultSheetConflict(Exception):
    """A result sheet would overwrite a sheet that is not a budgetlib result (an input sheet)."""


@dataclass
class Outcome:
    """What one click did: exit code (0 ok, 1 invalid plan, 2 infeasible, 3 unknown button, 4 crash),
    the message shown, the sheets written and removed, and the problems found."""

    button: str
    exit_code: int
    message: str = ""
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    opened: list[Path] = field(default_factory=list)


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


# ---------------------------------------------------------------------------------------------
# Dispatch


@dataclass
class _Context:
    button: str
    book: BookAdapter
    lang: str
    log: logging.Logger
    addin_version: str | None
    xlwings_vba: str | None

    @property
    def vi(self) -> bool:
        return self.lang == "vi"

    def t(self, vi: str, en: str) -> str:
        return vi if self.vi else en

    def progress(self, *args: Any, **kwargs: Any) -> None:
        """Progress callback for the pipeline: whatever it reports goes to the status bar."""
        words = [a.render(self.lang) if isinstance(a, Msg) else str(a) for a in args if isinstance(a, (str, Msg))]
        numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        text = " ".join(words) or " ".join(f"{k}={v}" for k, v in kwargs.items() if isinstance(v, (str, int, float)))
        if len(numbers) >= 2 and numbers[1]:
            text = f"{text} ({numbers[0]}/{numbers[1]})".strip()
        self.book.status(f"budgetlib: {text}" if text else "budgetlib …")


def dispatch(
    button_id: str,
    book: BookAdapter,
    *,
    lang: str | None = None,
    addin_version: str | None = None,
    xlwings_vba: str | None = None,
) -> Outcome:
    """Run the action of ``button_id`` on ``book``; never raises for a user's problem or a crash."""
    lang = lang or os.environ.get("BUDGETLIB_LANG", "vi")
    ctx = _Context(button_id, book, "en" if lang == "en" else "vi", _logger(), addin_version, xlwings_vba)
    ctx.log.info("click %s book=%s addin=%s xlwings_vba=%s", button_id, _safe_name(book), addin_version, xlwings_vba)
    try:
        try:
            action = button(button_id)
        except KeyError:
            msg = ctx.t(
                f"Nút {button_id!r} không có trong budgetlib {__version__}: add-in và gói Python khác phiên bản. "
                "Hãy chạy `budgetlib addin install` rồi khởi động lại Excel.",
                f"Button {button_id!r} is unknown to budgetlib {__version__}: the add-in and the Python package "
                "differ. Run `budgetlib addin install` and restart Excel.",
            )
            book.alert(msg, critical=True)
            ctx.log.warning("unknown button %s", button_id)
            return Outcome(button_id, EXIT_USAGE, msg)
        _warn_version_mismatch(ctx)
        book.status(f"budgetlib: {action.label_vi if ctx.vi else action.label_en} …")
        outcome = _HANDLERS[action.action](ctx)
        ctx.log.info(
            "done %s exit=%s written=%s removed=%s problems=%d",
            button_id, outcome.exit_code, outcome.written, outcome.removed, len(outcome.problems),
        )
        return outcome
    except Exception as exc:  # noqa: BLE001 - the boundary: show it, log it, never crash Excel's call
        ctx.log.error("crash %s\n%s", button_id, traceback.format_exc())
        msg = ctx.t(
            f"Lỗi không mong đợi khi chạy nút {button_id}:\n{type(exc).__name__}: {exc}\n\n"
            "Không trang kết quả nào bị ghi dở; dữ liệu nhập không bị thay đổi.\n"
            f"Chi tiết kỹ thuật đã ghi vào nhật ký: {log_path()}\n(bấm \"Nhật ký chạy\" để mở).",
            f"Unexpected error running {button_id}:\n{type(exc).__name__}: {exc}\n\n"
            "No result sheet was half-written; your input was not changed.\n"
            f"Technical details are in the run log: {log_path()}\n(click \"Nhật ký chạy\" to open it).",
        )
        try:
            book.alert(msg, critical=True)
        except Exception:  # noqa: BLE001 - Excel itself gone: the log has it
            ctx.log.error("could not show the error\n%s", traceback.format_exc())
        return Outcome(button_id, EXIT_CRASH, msg)
    finally:
        try:
            book.status(None)
        except Exception:  # noqa: BLE001
            pass


def _safe_name(book: BookAdapter) -> str:
    try:
        return book.name
    except Exception:  # noqa: BLE001
        return "?"


def _warn_version_mismatch(ctx: _Context) -> None:
    import importlib.metadata

    if ctx.button == "btnVersion":
        return  # that button shows the versions itself
    issues = _version_issues(ctx.addin_version, ctx.xlwings_vba, importlib.metadata.version("xlwings"), ctx.vi)
    if issues:
        ctx.log.warning("version mismatch: %s", "; ".join(issues))
        ctx.book.alert("\n".join(issues), critical=False)


def _version_issues(addin: str | None, xlwings_vba: str | None, xlwings_py: str, vi: bool) -> list[str]:
    out = []
    if addin and addin != __version__:
        out.append(
            f"Add-in được tạo bởi budgetlib {addin} nhưng Python đang dùng budgetlib {__version__}. "
            "Hãy chạy `budgetlib addin install` rồi khởi động lại Excel."
            if vi
            else f"The add-in was built by budgetlib {addin} but Python has budgetlib {__version__}. "
            "Run `budgetlib addin install` and restart Excel."
        )
    if xlwings_vba and xlwings_vba != xlwings_py:
        out.append(
            f"Mã VBA xlwings trong add-in là {xlwings_vba} nhưng gói Python xlwings là {xlwings_py}. "
            "Hãy chạy `budgetlib addin install` (tạo lại add-in theo xlwings đang cài)."
            if vi
            else f"The add-in's xlwings VBA is {xlwings_vba} but the Python xlwings package is {xlwings_py}. "
            "Run `budgetlib addin install` (rebuilds the add-in for the installed xlwings)."
        )
    return out


# ---------------------------------------------------------------------------------------------
# Writing results


def _write(ctx: _Context, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Check that no input sheet is touched, then let the adapter write everything at once."""
    from ..pipeline import is_result_sheet

    existing = set(ctx.book.sheet_names())
    for spec in specs:
        if spec.kind == "input":
            raise ValueError(f"internal error: {spec.name!r} is an input sheet spec, not a result")
        if spec.name in existing and not is_result_sheet(spec.name):
            raise ResultSheetConflict(spec.name)
    names = {s.name for s in specs}
    gone = [n for n in remove if n in existing and n not in names and is_result_sheet(n)]
    total = len(specs)
    ctx.book.status(ctx.t(f"budgetlib: đang ghi {total} trang kết quả …", f"budgetlib: writing {total} result sheet(s) …"))
    ctx.book.write_sheets(list(specs), remove=gone)
    return [s.name for s in specs], gone


def _error_sheet_names(lang: str) -> list[str]:
    from ..io.workbook.results import result_sheet_name

    return [result_sheet_name("errors", lang)]


def _problem_lines(ctx: _Context, problems: Sequence[Problem]) -> str:
    def short(text: str, limit: int = 240) -> str:
        return text if len(text) <= limit else text[: limit - 1] + "…"

    shown = [f"• {short(p.render(ctx.lang))}" for p in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        shown.append(ctx.t(f"… và {len(problems) - _MAX_LISTED} lỗi khác", f"… and {len(problems) - _MAX_LISTED} more"))
    return "\n".join(shown)


def _guarded(ctx: _Context, run: Callable[[], Outcome]) -> Outcome:
    try:
        return run()
    except ResultSheetConflict as exc:
        msg = ctx.t(
            f"Sổ này có trang \"{exc}\" không phải trang kết quả của budgetlib; budgetlib không ghi đè dữ liệu nhập. "
            "Hãy đổi tên trang đó rồi bấm lại.",
            f"This workbook has a sheet \"{exc}\" that is not a budgetlib result; budgetlib never overwrites input. "
            "Rename that sheet and try again.",
        )
        ctx.book.alert(msg, critical=True)
        return Outcome(ctx.button, EXIT_USAGE, msg)


def _source_kwargs(ctx: _Context) -> dict[str, Any]:
    """The run log's input name and, as the CLI writes, the input file's SHA-256 — but only when the
    file on disk is what was read (a live workbook with unsaved edits has no such file)."""
    from ..pipeline import sha256_file

    kwargs: dict[str, Any] = {"source_name": ctx.book.name}
    saved = getattr(ctx.book, "saved_file", None)
    if saved is not None:
        kwargs["input_sha256"] = sha256_file(saved)
    return kwargs


def _show_run(ctx: _Context, outcome: Any, written: list[str], removed: list[str], ok_message: str) -> Outcome:
    problems = list(outcome.problems)
    if outcome.exit_code == EXIT_OK:
        warnings = [p for p in problems if p.severity is Severity.WARNING]
        msg = ok_message
        if warnings:
            msg += "\n\n" + ctx.t(f"{len(warnings)} cảnh báo (xem trang Lỗi):", f"{len(warnings)} warning(s) (see the errors sheet):")
            msg += "\n" + _problem_lines(ctx, warnings)
        ctx.book.alert(msg)
        return Outcome(ctx.button, EXIT_OK, msg, written, removed, problems)
    if outcome.exit_code == EXIT_INVALID:
        errors = [p for p in problems if p.severity is Severity.ERROR]
        msg = ctx.t(
            f"Kế hoạch có {len(errors)} lỗi; chưa phân bổ. Xem trang \"Lỗi\" (mỗi lỗi ghi rõ ô):",
            f"The plan has {len(errors)} error(s); nothing was allocated. See the errors sheet (each names its cell):",
        ) + "\n" + _problem_lines(ctx, errors)
        ctx.book.alert(msg, critical=True)
        return Outcome(ctx.button, EXIT_INVALID, msg, written, removed, problems)
    msg = ctx.t(
        "Không có phương án phân bổ thỏa mọi ràng buộc. Các ràng buộc xung đột (xem trang \"Giải thích\" và \"Lỗi\"):",
        "No allocation satisfies every constraint. Conflicting constraints (see the explanation and errors sheets):",
    ) + "\n" + _problem_lines(ctx, [p for p in problems if p.code in ("infeasible", "conflict")] or problems)
    ctx.book.alert(msg, critical=True)
    return Outcome(ctx.button, outcome.exit_code, msg, written, removed, problems)


# ---------------------------------------------------------------------------------------------
# Handlers (BUTTONS[*].action → function)


def _validate(ctx: _Context) -> Outcome:
    from ..pipeline import run_validate

    def run() -> Outcome:
        outcome = run_validate(ctx.book, lang=ctx.lang, **_source_kwargs(ctx))
        # A stale error sheet from an earlier run must not survive a clean check.
        remove = [] if outcome.problems else _error_sheet_names(ctx.lang)
        written, removed = _write(ctx, outcome.sheets, remove=remove)
        plan = outcome.plan
        ok = ctx.t("Kế hoạch hợp lệ.", "The plan is valid.")
        if plan is not None:
            from ..core.money import format_amount

            ok += f"\n{plan.program.name}: {format_amount(plan.program.total, lang=ctx.lang)}"
        return _show_run(ctx, outcome, written, removed, ok)

    return _guarded(ctx, run)


def _sheet_kind(name: str) -> str:
    """``log``, ``errors``, ``comparison`` or ``report`` for a result sheet's name (either language)."""
    from ..io.workbook.results import RESULT_SHEETS

    for key in ("log", "errors", "comparison"):
        if name in RESULT_SHEETS[key]:
            return key
    return "report"


def _allocate(ctx: _Context) -> Outcome:
    from ..pipeline import is_result_sheet, run_allocate

    def run() -> Outcome:
        existing = [n for n in ctx.book.sheet_names() if is_result_sheet(n)]
        outcome = run_allocate(ctx.book, lang=ctx.lang, progress=ctx.progress, **_source_kwargs(ctx))
        sheets = list(outcome.sheets)
        remove: list[str] = []
        if outcome.exit_code == EXIT_OK:
            # As the CLI: after a successful run the workbook holds exactly this run's results
            # (stale year sheets of a changed period, an old comparison or error sheet go).
            remove = [n for n in existing if n not in {s.name for s in sheets}]
        written, removed = _write(ctx, sheets, remove=remove)
        ok = ""
        if outcome.allocation is not None and outcome.exit_code == EXIT_OK:
            from ..core.money import format_amount

            ok = ctx.t(
                f"Đã phân bổ {format_amount(outcome.allocation.total, lang='vi')}; đã ghi {len(written)} trang: {', '.join(written)}.",
                f"Allocated {format_amount(outcome.allocation.total, lang='en')}; wrote {len(written)} sheet(s): {', '.join(written)}.",
            )
        return _show_run(ctx, outcome, written, removed, ok)

    return _guarded(ctx, run)


def _refresh(ctx: _Context) -> Outcome:
    """Rebuild the report sheets the workbook already has (allocation reports, comparison) from the current inputs."""
    from ..pipeline import is_result_sheet, run_allocate, run_validate

    def run() -> Outcome:
        existing = [n for n in ctx.book.sheet_names() if is_result_sheet(n)]
        reports = [n for n in existing if _sheet_kind(n) == "report"]
        has_comparison = any(_sheet_kind(n) == "comparison" for n in existing)
        if not reports and not has_comparison:
            msg = ctx.t(
                "Sổ này chưa có trang báo cáo nào; hãy bấm \"Phân bổ\" hoặc \"So sánh phương án\" trước.",
                "This workbook has no report sheets yet; click \"Phân bổ\" (Allocate) or \"So sánh phương án\" (Compare) first.",
            )
            ctx.book.alert(msg)
            return Outcome(ctx.button, EXIT_USAGE, msg)
        if reports:
            outcome = run_allocate(ctx.book, lang=ctx.lang, progress=ctx.progress, **_source_kwargs(ctx))
        else:
            outcome = run_validate(ctx.book, lang=ctx.lang, **_source_kwargs(ctx))
        if outcome.exit_code != EXIT_OK or outcome.plan is None:
            written, removed = _write(ctx, outcome.sheets)
            return _show_run(ctx, outcome, written, removed, "")
        sheets = [s for s in outcome.sheets if s.name in reports or _sheet_kind(s.name) == "log"]
        if has_comparison:
            sheets += _comparison_sheets(ctx, outcome.plan)[1]
        remove = [] if outcome.problems else _error_sheet_names(ctx.lang)
        written, removed = _write(ctx, sheets, remove=remove)
        ok = ctx.t(f"Đã làm mới {len(written)} trang: {', '.join(written)}.", f"Refreshed {len(written)} sheet(s): {', '.join(written)}.")
        return _show_run(ctx, outcome, written, removed, ok)

    return _guarded(ctx, run)


def _comparison_sheets(ctx: _Context, plan: Any) -> tuple[str, list[SheetSpec]]:
    """The policy compared with proportional, and the comparison sheet(s)."""
    from ..pipeline import compare_policies, policy_for

    chosen = policy_for(plan, None).kind.value
    # "proportional vs the chosen policy"; a plan that chose proportional is compared with the
    # closest policy that meets every constraint, so the sheet still shows what the constraints cost.
    other = chosen if chosen != "proportional" else "min_deviation"
    return other, compare_policies(plan, ("proportional", other), lang=ctx.lang, progress=ctx.progress)


def _compare(ctx: _Context) -> Outcome:
    from ..pipeline import run_validate

    def run() -> Outcome:
        checked = run_validate(ctx.book, lang=ctx.lang, **_source_kwargs(ctx))
        if checked.exit_code != EXIT_OK or checked.plan is None:
            written, removed = _write(ctx, checked.sheets)
            return _show_run(ctx, checked, written, removed, "")
        other, sheets = _comparison_sheets(ctx, checked.plan)
        remove = [] if checked.problems else _error_sheet_names(ctx.lang)
        written, removed = _write(ctx, sheets, remove=remove)
        msg = ctx.t(
            f"Đã so sánh phương án \"proportional\" với \"{other}\" trên trang {', '.join(written)}.",
            f"Compared \"proportional\" with \"{other}\" on sheet {', '.join(written)}.",
        )
        return _show_run(ctx, checked, written, removed, msg)

    return _guarded(ctx, run)


def _new_workbook(ctx: _Context) -> Outcome:
    from .template import template_sheets

    specs = template_sheets(lang=ctx.lang)
    name = "Ke_hoach_moi.xlsx"
    ctx.book.new_book(specs, name=name)
    msg = ctx.t(
        f"Đã tạo sổ kế hoạch mới ({len(specs)} trang). Điền dữ liệu vào các trang nhập rồi bấm \"Kiểm tra\".",
        f"Created a new plan workbook ({len(specs)} sheets). Fill in the input sheets, then click \"Kiểm tra\" (Validate).",
    )
    ctx.book.status(msg)
    return Outcome(ctx.button, EXIT_OK, msg, [s.name for s in specs])


def _open_log(ctx: _Context) -> Outcome:
    path = log_path()
    for h in ctx.log.handlers:
        h.flush()
    ctx.book.open_path(path)
    return Outcome(ctx.button, EXIT_OK, str(path), opened=[path])


def _guide(ctx: _Context) -> Outcome:
    from .guide import guide_html

    path = guide_html()
    ctx.book.open_path(path)
    return Outcome(ctx.button, EXIT_OK, str(path), opened=[path])


def _version(ctx: _Context) -> Outcome:
    import importlib.metadata

    xlwings_py = importlib.metadata.version("xlwings")
    lines = [
        f"budgetlib (Python): {__version__}",
        f"Add-in: {ctx.addin_version or '?'}",
        f"xlwings (Python): {xlwings_py}",
        f"xlwings (VBA): {ctx.xlwings_vba or '?'}",
        f"Python {platform.python_version()}: {sys.executable}",
        ctx.t(f"Nhật ký: {log_path()}", f"Run log: {log_path()}"),
    ]
    issues = _version_issues(ctx.addin_version, ctx.xlwings_vba, xlwings_py, ctx.vi)
    lines += ["", *issues] if issues else ["", ctx.t("Các phiên bản khớp nhau.", "All versions match.")]
    msg = "\n".join(lines)
    ctx.book.alert(msg, critical=bool(issues))
    return Outcome(ctx.button, EXIT_USAGE if issues else EXIT_OK, msg)


_HANDLERS: dict[str, Callable[[_Context], Outcome]] = {
    "new_workbook": _new_workbook,
    "validate": _validate,
    "allocate": _allocate,
    "compare": _compare,
    "refresh": _refresh,
    "open_log": _open_log,
    "guide": _guide,
    "version": _version,
}
assert {b.action for b in BUTTONS} == set(_HANDLERS), "every button needs a handler"

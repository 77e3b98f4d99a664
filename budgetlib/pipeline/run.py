"""The one path from a planning workbook to result sheets, shared by the CLI and the Excel add-in.

A front end reads its workbook into a :class:`~budgetlib.io.grid.GridBook` (openpyxl file, xlwings
book, or an in-memory :class:`~budgetlib.io.grid.DictBook`), calls :func:`run_validate` or
:func:`run_allocate`, and draws ``outcome.sheets`` (a list of
:class:`~budgetlib.io.grid.SheetSpec`) with its own renderer. Nothing here imports a spreadsheet
library, and nothing here raises for problems with the user's data: they come back as
``outcome.problems`` (each located at a cell) together with an ``Lỗi`` sheet.

Exit codes follow the CLI: 0 ok, 1 validation errors, 2 infeasible allocation.

>>> from budgetlib.io.grid import DictBook
>>> outcome = run_validate(DictBook({}), lang="en")
>>> outcome.exit_code, outcome.sheets[0].name
(1, 'Errors')
"""

from __future__ import annotations

import hashlib
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from .._version import __version__
from ..core.problems import Problem, Severity
from ..io.grid import GridBook, SheetSpec
from ..model.plan import Plan
from ..model.policy import AllocationPolicy, PolicyKind
from ..model.result import Allocation

__all__ = [
    "EXIT_OK",
    "EXIT_INVALID",
    "EXIT_INFEASIBLE",
    "RunOutcome",
    "run_validate",
    "run_allocate",
    "result_sheets",
    "error_sheets",
    "compare_policies",
    "policy_for",
    "sha256_file",
    "is_result_sheet",
]

EXIT_OK, EXIT_INVALID, EXIT_INFEASIBLE = 0, 1, 2

Progress = Callable[..., Any]


@dataclass
class RunOutcome:
    """What a run produced: the plan (if it could be read), the allocation (if one was run), every
    problem, the exit code (0 ok, 1 validation errors, 2 infeasible), the result sheets to write,
    and the run log as ``(label, value)`` pairs (also drawn on the ``Nhật ký`` sheet)."""

    plan: Plan | None
    allocation: Allocation | None
    problems: list[Problem]
    exit_code: int
    sheets: list[SheetSpec] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    lang: str = "vi"
    locate: Callable[[str], "str | None"] = field(default=lambda path: None, repr=False, compare=False)
    """Maps a JSON path of the plan (``allocation.constraints[2]``) to the cell it was read from."""

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def explanation(self) -> list[str]:
        """Plain-language explanation lines of the allocation (or the infeasibility diagnosis)."""
        if self.allocation is None:
            return []
        return list(_explain_lines(self.allocation, self.lang))


def sha256_file(path: Any) -> str:
    """SHA-256 of a file's bytes (the input checksum in the run log)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_result_sheet(name: str) -> bool:
    """True for sheets budgetlib writes as results (safe to replace); input sheets are never touched."""
    from ..io.workbook.results import is_result_sheet as _is

    return _is(name)


def _read(book: "GridBook | Plan") -> tuple[Plan | None, list[Problem], Callable[[str], "str | None"]]:
    """The plan, every problem, and ``locate(json_path)`` → the cell it came from (workbooks only)."""
    if isinstance(book, Plan):
        from ..planning.validation import validate_plan

        return book, validate_plan(book), lambda path: None
    from ..io.workbook.reader import read_plan_grids_located

    return read_plan_grids_located(book)


def _base_log(lang: str, *, source_name: str, input_sha256: str | None) -> list[tuple[str, str]]:
    vi = lang == "vi"
    log = [
        ("Thời điểm chạy (UTC)" if vi else "Run time (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")),
        ("Phiên bản budgetlib" if vi else "budgetlib version", __version__),
        ("Python", platform.python_version()),
    ]
    if source_name:
        log.append(("Tệp đầu vào" if vi else "Input file", source_name))
    if input_sha256:
        log.append(("Mã kiểm tra SHA-256 đầu vào" if vi else "Input SHA-256", input_sha256))
    return log


def run_validate(
    book: "GridBook | Plan", *, lang: str = "vi", source_name: str = "", input_sha256: str | None = None
) -> RunOutcome:
    """Read and check a plan; ``sheets`` holds the ``Lỗi`` and ``Nhật ký`` sheets when there are problems."""
    from ..io.workbook.results import error_sheets as _error_sheets, log_sheet

    plan, problems, locate = _read(book)
    log = _base_log(lang, source_name=source_name, input_sha256=input_sha256)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    vi = lang == "vi"
    outcome_label = "Kết quả" if vi else "Outcome"
    if errors or plan is None:
        log.append((outcome_label, (f"{len(errors)} lỗi" if vi else f"{len(errors)} error(s)")))
        sheets = _error_sheets(problems, lang=lang) + [log_sheet(log, lang=lang)]
        outcome = RunOutcome(plan, None, problems, EXIT_INVALID, sheets, log, lang, locate)
    else:
        log.append((outcome_label, "Kế hoạch hợp lệ" if vi else "Plan is valid"))
        sheets = (_error_sheets(problems, lang=lang) if problems else []) + [log_sheet(log, lang=lang)]
        outcome = RunOutcome(plan, None, problems, EXIT_OK, sheets, log, lang, locate)
    return outcome


def policy_for(plan: Plan, policy: "str | PolicyKind | AllocationPolicy | None") -> AllocationPolicy:
    """The plan's policy with its kind replaced by ``policy`` (a name such as ``"max_min"``)."""
    if isinstance(policy, AllocationPolicy):
        return policy
    base = plan.allocation or AllocationPolicy()
    if policy is None:
        return base
    return base.model_copy(update={"kind": PolicyKind(str(policy))})


def _allocate(plan: Plan, policy: AllocationPolicy, years: Sequence[int] | None, progress: Progress | None) -> Allocation:
    try:
        from ..allocator import allocate
    except ImportError as exc:  # pragma: no cover - until the allocator lands
        raise RuntimeError("budgetlib.allocator.allocate is not available in this installation") from exc
    return allocate(plan, policy, years=list(years) if years else None, progress=progress)


def _explain_lines(allocation: Allocation, lang: str) -> list[str]:
    try:
        from ..allocator import explain_text
    except ImportError:
        explain_text = None
    if explain_text is not None:
        text = explain_text(allocation, lang)
        if isinstance(text, str):
            return [line for line in text.splitlines()]
        return list(text)
    lines = allocation.explanation_vi if lang == "vi" else allocation.explanation_en
    if not lines and allocation.diagnosis is not None:
        d = allocation.diagnosis
        lines = (d.summary_vi if lang == "vi" else d.summary_en,) + tuple(
            (c.message_vi if lang == "vi" else c.message_en) for c in d.conflicts
        )
    return list(lines)


def run_allocate(
    book: "GridBook | Plan",
    *,
    policy: "str | PolicyKind | AllocationPolicy | None" = None,
    years: Sequence[int] | None = None,
    lang: str = "vi",
    progress: Progress | None = None,
    source_name: str = "",
    input_sha256: str | None = None,
    version_ref: str | None = None,
) -> RunOutcome:
    """Read, validate and allocate; return the result sheets (or the error sheets) to write.

    ``policy`` overrides the kind of the plan's allocation policy (its constraints are kept);
    ``years`` restricts the run to some years. Exit code 1 when the plan has errors (no allocation
    is attempted), 2 when the allocation is infeasible (the diagnosis is on the ``Giải thích``
    sheet and in ``problems``). ``version_ref`` names the stored version the plan came from
    (``CODE@3 · <hash>``, see :mod:`budgetlib.pipeline.store`); the run log cites it.
    """
    from ..io.workbook.results import error_sheets as _error_sheets, log_sheet

    checked = run_validate(book, lang=lang, source_name=source_name, input_sha256=input_sha256)
    if checked.exit_code != EXIT_OK:
        return checked
    plan = checked.plan
    assert plan is not None
    vi = lang == "vi"
    log = [row for row in checked.log if row[0] not in ("Kết quả", "Outcome")]
    if version_ref:
        from ..core.i18n import tr

        log.append((tr("store.log.version", lang), version_ref))
    chosen = policy_for(plan, policy)
    log.append(("Chính sách phân bổ" if vi else "Allocation policy", f"{chosen.kind.value} — {chosen.kind.label_vi}" if vi else chosen.kind.value))
    if years:
        log.append(("Năm" if vi else "Years", ", ".join(str(y) for y in years)))
    allocation = _allocate(plan, chosen, years, progress)
    log.append(("Bộ giải" if vi else "Solver", f"{allocation.solver} {allocation.solver_version}".strip()))
    if allocation.objective is not None:
        label = (allocation.objective_label_vi if vi else allocation.objective_label_en) or ("Hàm mục tiêu" if vi else "Objective")
        log.append(("Giá trị hàm mục tiêu" if vi else "Objective value", f"{allocation.objective:.6g} ({label})"))
    problems = list(checked.problems)
    if allocation.ok:
        log.append(("Tổng phân bổ (đồng)" if vi else "Total allocated (VND)", f"{allocation.total:,}".replace(",", "." if vi else ",")))
        log.append(("Kết quả" if vi else "Outcome", "Phân bổ thành công" if vi else "Allocation found"))
        exit_code = EXIT_OK
    else:
        log.append(("Kết quả" if vi else "Outcome", "Không có phương án phân bổ khả thi" if vi else "Infeasible: no allocation exists"))
        d = allocation.diagnosis
        if d is not None:
            problems.append(Problem("allocation", d.summary_vi, d.summary_en, "infeasible"))
            locate = checked.locate
            problems.extend(
                Problem((c.location and locate(c.location)) or c.location or c.name, c.message_vi, c.message_en, "conflict")
                for c in d.conflicts
            )
        else:
            problems.append(Problem("allocation", "bài toán phân bổ không khả thi", "the allocation is infeasible", "infeasible"))
        exit_code = EXIT_INFEASIBLE
    sheets = result_sheets(plan, allocation, lang=lang, log=log, explanation=_explain_lines(allocation, lang))
    if not allocation.ok:
        sheets = [s for s in sheets] + _error_sheets(problems, lang=lang)
    return RunOutcome(plan, allocation, problems, exit_code, sheets, log, lang, checked.locate)


def result_sheets(
    plan: Plan,
    allocation: Allocation,
    *,
    lang: str = "vi",
    log: Sequence[tuple[str, str]] | None = None,
    explanation: Sequence[str] | None = None,
) -> list[SheetSpec]:
    """The result sheets, in order: Phân bổ, one pivot per year (Năm 2011, …), Tổng hợp (with
    the proportional baseline and the difference, and a bar chart by unit), Chỉ tiêu đạt, Giải thích
    (Answer and Sensitivity reports, plain-language lines) and Nhật ký (run log; the only sheet with
    a timestamp). Totals are SUM formulas over the written amounts, so staff can audit them."""
    from ..io.workbook.results import result_sheets as _result_sheets

    if explanation is None:
        explanation = _explain_lines(allocation, lang)
    return _result_sheets(plan, allocation, lang=lang, log=log, explanation=explanation)


def error_sheets(problems: Sequence[Problem], *, lang: str = "vi") -> list[SheetSpec]:
    """The ``Lỗi`` sheet: one row per problem (location, message in vi and en, code, value)."""
    from ..io.workbook.results import error_sheets as _error_sheets

    return _error_sheets(problems, lang=lang)


def compare_policies(
    plan: Plan,
    policies: Sequence[str] = ("proportional", "min_deviation"),
    *,
    years: Sequence[int] | None = None,
    lang: str = "vi",
    progress: Progress | None = None,
) -> list[SheetSpec]:
    """Run several policies on one plan; a ``So sánh`` sheet with the totals per unit side by side
    (one column per policy, then each policy's difference from the first) and a bar chart."""
    from ..io.workbook.results import comparison_sheet

    allocations = [(str(p), _allocate(plan, policy_for(plan, p), years, progress)) for p in policies]
    return [comparison_sheet(plan, allocations, lang=lang)]


def load_book_or_plan(path: Any) -> "GridBook | Plan":
    """A GridBook for a workbook path or a Plan for a JSON path (raises PlanInvalid for JSON errors)."""
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from ..io.workbook import open_book

        return open_book(path)
    from ..io.jsonio import load_plan

    return load_plan(path)




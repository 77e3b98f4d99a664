"""The front door: the one path from a plan (workbook, JSON or :class:`~budgetlib.Plan`) to results,
shared by the CLI, the Excel add-in, the LibreOffice Calc extension and batch runs.

Front ends read their workbook into a :class:`~budgetlib.io.grid.GridBook`, call a ``run_*``
function and draw ``outcome.sheets`` with their own renderer. Nothing here imports a spreadsheet
library, and nothing here raises for problems with the user's data: they come back as
``outcome.problems`` (each located) with an exit code.

One module per concern: :mod:`.run` (validate, allocate, compare policies); further stages
(scenarios, batches, the yearly cycle, the version store, printable reports) add their own modules
here and are re-exported below.
"""

from .batch import BatchOptions, BatchReport, discover, plan_batch, run_batch
from .curve import CurveOutcome, run_curve
from .cycle import CycleOutcome, run_carry_over, run_chain, run_progress, run_revise
from .report import BookOutcome, budget_book_bytes, write_budget_book
from .run import (
    EXIT_INFEASIBLE,
    EXIT_INVALID,
    EXIT_OK,
    RunOutcome,
    compare_policies,
    error_sheets,
    is_result_sheet,
    load_book_or_plan,
    policy_for,
    result_sheets,
    run_allocate,
    run_validate,
    sha256_file,
)
from .scenarios import ScenarioComparison, ScenarioResult, ScenariosOutcome, compare, run_scenario, run_scenarios
from .store import StoreOutcome, allocate_version, compare_versions, save_and_allocate, save_version, version_history

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
    "load_book_or_plan",
    "BookOutcome",
    "write_budget_book",
    "budget_book_bytes",
    "CycleOutcome",
    "run_progress",
    "run_revise",
    "run_carry_over",
    "run_chain",
    "run_scenarios",
    "run_scenario",
    "compare",
    "ScenarioResult",
    "ScenarioComparison",
    "ScenariosOutcome",
    "BatchOptions",
    "BatchReport",
    "discover",
    "plan_batch",
    "run_batch",
    "run_curve",
    "CurveOutcome",
    # the version store (pipeline/store.py)
    "StoreOutcome",
    "save_version",
    "version_history",
    "compare_versions",
    "allocate_version",
    "save_and_allocate",
]

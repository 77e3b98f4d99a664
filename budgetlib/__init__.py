"""budgetlib — plan multi-year public program budgets and allocate them across districts.

Layout follows the pipeline: ``core`` (money, text, problems) → ``model`` (pydantic plan, policy,
result) → ``planning`` (phasing, validation, summaries) → ``allocator`` (LP) → ``io`` (JSON,
workbook) → front ends (``cli``, Excel add-in). The core never imports openpyxl or xlwings.

>>> import budgetlib as bl
>>> bl.parse_amount("22,5 tỷ đồng")
22500000000
>>> bl.format_amount(22_500_000_000)
'22.500.000.000 đ'
"""

from ._version import __version__
from .allocator import allocate
from .core.money import (
    AmountError,
    ApportionError,
    MoneyUnit,
    amount_from_number,
    apportion,
    capped_proportional,
    format_amount,
    parse_amount,
)
from .core.problems import PlanInvalid, Problem, Severity, render_problems
from .core.text import fold, nfc, vi_sort_key
from .cycle import Chain, Prior, Revision, carry_over, chain, in_force, revise
from .io import load_plan, load_plan_file, plan_json_schema, plan_to_json, save_plan
from .model import (
    AbsorptionConstraint,
    AdminUnit,
    Agency,
    Allocation,
    AllocationPolicy,
    AllocationStatus,
    Assumption,
    BudgetLine,
    Cadence,
    CapConstraint,
    ConstraintReport,
    Diagnosis,
    EarmarkConstraint,
    EligibilityConstraint,
    FloorConstraint,
    FundingSource,
    Level,
    NeedDriver,
    Plan,
    PolicyKind,
    Program,
    ReportingRule,
    ResponseCurve,
    ResponseSegment,
    Role,
    SourceKind,
    StabilityConstraint,
    Target,
    TargetAttainment,
    TargetConstraint,
    Task,
    TaskRole,
    UnitKind,
    UnitShareConstraint,
)
from .model.actuals import Actuals, Disbursement, IndicatorResult, Period
from .model.cycle import CycleState
from .model.plan import CarryOver
from .model.scenario import DropConstraint, DropSource, ScaleBudget, Scenario, SetConstraint, SetPolicy, SetTarget
from .planning import Pivot, budget_pivot, build_budget_lines, phase_years, validate_plan
from .planning.scenarios import apply_scenario
from .store import Stage, VersionRef, open_store, plan_hash

__all__ = [
    "__version__",
    # money and text
    "AmountError",
    "ApportionError",
    "MoneyUnit",
    "amount_from_number",
    "apportion",
    "capped_proportional",
    "format_amount",
    "parse_amount",
    "fold",
    "nfc",
    "vi_sort_key",
    # problems
    "PlanInvalid",
    "Problem",
    "Severity",
    "render_problems",
    # model
    "AbsorptionConstraint",
    "AdminUnit",
    "Agency",
    "Allocation",
    "AllocationPolicy",
    "AllocationStatus",
    "Assumption",
    "BudgetLine",
    "Cadence",
    "CapConstraint",
    "ConstraintReport",
    "Diagnosis",
    "EarmarkConstraint",
    "EligibilityConstraint",
    "FloorConstraint",
    "FundingSource",
    "Level",
    "NeedDriver",
    "Plan",
    "PolicyKind",
    "Program",
    "ReportingRule",
    "ResponseCurve",
    "ResponseSegment",
    "Role",
    "SourceKind",
    "StabilityConstraint",
    "Target",
    "TargetAttainment",
    "TargetConstraint",
    "Task",
    "TaskRole",
    "UnitKind",
    "UnitShareConstraint",
    # scenarios (what-ifs)
    "Scenario",
    "ScaleBudget",
    "DropSource",
    "SetPolicy",
    "SetConstraint",
    "DropConstraint",
    "SetTarget",
    "apply_scenario",
    # planning
    "Pivot",
    "budget_pivot",
    "build_budget_lines",
    "phase_years",
    "validate_plan",
    # allocation
    "allocate",
    # the yearly cycle
    "Actuals",
    "Disbursement",
    "IndicatorResult",
    "Period",
    "CarryOver",
    "CycleState",
    "Prior",
    "Revision",
    "Chain",
    "carry_over",
    "revise",
    "in_force",
    "chain",
    # version store (budgetlib.store; SQLAlchemy is imported when a store is opened)
    "open_store",
    "plan_hash",
    "Stage",
    "VersionRef",
    # files
    "load_plan",
    "load_plan_file",
    "plan_json_schema",
    "plan_to_json",
    "save_plan",
]

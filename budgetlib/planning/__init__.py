"""Plan and budget logic: phasing and splits, whole-plan validation, summaries."""

from .phasing import build_budget_lines, phase_years
from .summary import BUDGET_DIMENSIONS, Pivot, budget_pivot
from .validation import PLAN_CHECKS, load_plan_data, problems_from_validation_error, validate_plan

__all__ = [
    "build_budget_lines",
    "phase_years",
    "BUDGET_DIMENSIONS",
    "Pivot",
    "budget_pivot",
    "PLAN_CHECKS",
    "load_plan_data",
    "problems_from_validation_error",
    "validate_plan",
]

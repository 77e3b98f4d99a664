"""The yearly budget cycle on top of the allocator: year closing with carry-over and the next year's
split, mid-year revision, replay of the allocation in force, and province → district → commune
chaining. Pure arithmetic on actuals (rates, closings, indicator progress) is in
:mod:`budgetlib.planning.execution`; the data are :mod:`budgetlib.model.actuals` and
:mod:`budgetlib.model.cycle`."""

from .chain import Chain, ChainNode, ChainRow, chain, feed_plan, home_unit
from .steps import (
    CarryOverResult,
    Prior,
    Replay,
    Revision,
    UnitChange,
    carry_over,
    check_state,
    in_force,
    missing_reports,
    original_state,
    plan_budget,
    revise,
)

__all__ = [
    "Chain",
    "ChainNode",
    "ChainRow",
    "chain",
    "feed_plan",
    "home_unit",
    "CarryOverResult",
    "Prior",
    "Replay",
    "Revision",
    "UnitChange",
    "carry_over",
    "check_state",
    "in_force",
    "missing_reports",
    "original_state",
    "plan_budget",
    "revise",
]

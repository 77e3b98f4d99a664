"""The allocator: split each task-year budget of a plan across districts or communes.

Public API: :func:`allocate`, :func:`explain_text`, :func:`cheapest_budget`,
:func:`apply_repair` (make one suggested repair) and the domain assertion
:func:`assert_allocation_conserves`. The mathematics is in ``docs/allocation.md``;
implementation modules (``_data``, ``_model``, ``_lp``, ``_diagnose``, ``_rounding``,
``_report``) are private.
"""

from ._repair import apply_repair
from .allocate import allocate
from .cheapest import CheapestBudget, TargetCost, cheapest_budget
from .explain import explain_text
from .testing import assert_allocation_conserves

__all__ = ["allocate", "apply_repair", "explain_text", "cheapest_budget", "CheapestBudget", "TargetCost", "assert_allocation_conserves"]

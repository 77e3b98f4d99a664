"""Domain model: plan entities, allocation policy, allocation result (no I/O libraries)."""

from .plan import *  # noqa: F403
from .plan import __all__ as _plan_all
from .policy import *  # noqa: F403
from .policy import __all__ as _policy_all
from .result import *  # noqa: F403
from .result import __all__ as _result_all
from .scenario import *  # noqa: F403
from .scenario import __all__ as _scenario_all

__all__ = [*_plan_all, *_policy_all, *_result_all, *_scenario_all]

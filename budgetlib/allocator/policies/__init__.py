"""Allocation policies, one module each (see :mod:`.base` for what a policy declares).

Adding a policy: its module with a ``POLICY``, a member of
:class:`~budgetlib.model.policy.PolicyKind`, a line in :data:`POLICIES`, its label
(``policy.<kind>``) and objective words in the catalogue, and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ...model.policy import PolicyKind
from . import max_min, max_outcome, min_deviation, proportional
from .base import PolicyType, Solved

__all__ = ["POLICIES", "PolicyType", "Solved"]

POLICIES: Mapping[PolicyKind, PolicyType] = MappingProxyType(
    {p.kind: p for p in (proportional.POLICY, min_deviation.POLICY, max_min.POLICY, max_outcome.POLICY)}
)
"""Policy kind → its behaviour (``POLICIES[PolicyKind.MAX_MIN].solve(d, backend)``)."""

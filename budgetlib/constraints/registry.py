"""The registry of constraint kinds, in the order of the policy sheet's type list.

Adding a kind: write its module (model, checks, bounds or rows, pre-check, diagnosis detail,
workbook fields — see :mod:`.base`), add it to :data:`KINDS` below and its member to
:class:`~budgetlib.model.result.ConstraintKind`, and its messages to ``locales/*/allocator.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import absorption, cap, earmark, eligibility, floor, stability, target, unit_share
from .base import ConstraintModel, ConstraintType

__all__ = ["KINDS", "CONSTRAINT_KINDS", "CONSTRAINT_MODELS", "kind_of"]

KINDS: tuple[ConstraintType, ...] = (
    floor.KIND,
    cap.KIND,
    earmark.KIND,
    eligibility.KIND,
    absorption.KIND,
    stability.KIND,
    target.KIND,
    unit_share.KIND,
)

CONSTRAINT_KINDS: Mapping[str, ConstraintType] = MappingProxyType({k.kind.value: k for k in KINDS})
"""Constraint ``type`` tag → its behaviour (``CONSTRAINT_KINDS["floor"].fields`` …)."""

CONSTRAINT_MODELS: tuple[type[ConstraintModel], ...] = tuple(k.model for k in KINDS)


def kind_of(c: ConstraintModel) -> ConstraintType:
    """The registered behaviour of a constraint instance."""
    return CONSTRAINT_KINDS[c.type]

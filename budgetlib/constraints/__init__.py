"""Constraint kinds of an allocation policy, one module each (see :mod:`.base` for what a kind
declares and :mod:`.registry` for the list).

The package sits between the model's field types and the policy model: ``model.policy`` builds its
``Constraint`` union from :data:`CONSTRAINT_MODELS`, the allocator calls each kind's hooks, the
workbook layer reads each kind's :attr:`~.base.ConstraintType.fields`. It never imports the
allocator or any I/O library.
"""

from .. import model as _model  # noqa: F401  (the model package first: it imports the registry below)
from .base import ConstraintModel, ConstraintType, PlanRefs, WorkbookField
from .registry import CONSTRAINT_KINDS, CONSTRAINT_MODELS, KINDS, kind_of

__all__ = ["CONSTRAINT_KINDS", "CONSTRAINT_MODELS", "KINDS", "ConstraintModel", "ConstraintType", "PlanRefs", "WorkbookField", "kind_of"]

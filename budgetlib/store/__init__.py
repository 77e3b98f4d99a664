"""The version store: plans as versions with content hashes, stages and approvals, allocation runs,
actuals and a history, in SQLite (default: one file, nothing to start) or PostgreSQL (shared).

>>> from budgetlib.store import VersionRef
>>> VersionRef.parse("HP-2011@2").number
2

Open a store with :func:`open_store` (or :meth:`Store.open`); compare two versions with
:func:`diff_versions`. Front ends use :mod:`budgetlib.pipeline.store`, which also writes the
sheets (history, comparison) a workbook shows.
"""

from typing import TYPE_CHECKING, Any

from .canonical import DOCUMENT_C14N, PLAN_C14N, canonical_json, canonical_plan_json, plan_hash, sha256_text
from .config import DEFAULT_STORE_FILE, STORE_ENV, USER_ENV, default_user
from .errors import (
    BadVersionRef,
    DriverMissing,
    ImmutableVersion,
    NotAStore,
    StageTransitionError,
    StoreBusy,
    StoreError,
    StoreMissing,
    StoreTooNew,
    StoreUnavailable,
    TamperedRecord,
    UnknownVersion,
)
from .records import ActualsRecord, ApprovalRecord, EventKind, HistoryEvent, RunRecord, Stage, VersionInfo, VersionRef

if TYPE_CHECKING:
    from .engine import StoreAddress, resolve_address
    from .store import Store

__all__ = [
    "Store",
    "open_store",
    "Stage",
    "EventKind",
    "VersionRef",
    "VersionInfo",
    "ApprovalRecord",
    "RunRecord",
    "ActualsRecord",
    "HistoryEvent",
    "StoreAddress",
    "resolve_address",
    "STORE_ENV",
    "USER_ENV",
    "DEFAULT_STORE_FILE",
    "default_user",
    "PLAN_C14N",
    "DOCUMENT_C14N",
    "canonical_json",
    "canonical_plan_json",
    "plan_hash",
    "sha256_text",
    "StoreError",
    "StoreMissing",
    "NotAStore",
    "StoreTooNew",
    "StoreUnavailable",
    "DriverMissing",
    "UnknownVersion",
    "BadVersionRef",
    "ImmutableVersion",
    "StageTransitionError",
    "TamperedRecord",
    "StoreBusy",
]


_LAZY = {"Store": "store", "StoreAddress": "engine", "resolve_address": "engine"}


def __getattr__(name: str) -> Any:
    # SQLAlchemy is imported only when a store is opened: every CLI command and front end imports
    # this package, few of them touch a database.
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(store: Any = None, *, create: bool = False, user: str | None = None, clock: Any = None) -> "Store":
    """Open the store at ``store`` (path or URL; default ``$BUDGETLIB_STORE`` or
    ``./budgetlib-store.sqlite``); see :meth:`Store.open`."""
    from .store import Store

    return Store.open(store, create=create, user=user, clock=clock)

"""Errors of the version store. Each is a :class:`~budgetlib.core.i18n.LocalizedError`: a catalogue
code (``store.error.*``) with parameters, rendered in the user's language by the front end."""

from __future__ import annotations

from typing import Any

from ..core.i18n import LocalizedError

__all__ = [
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


class StoreError(LocalizedError):
    """Base class: something about the store or a request to it that the user must act on."""

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code, **params)


class StoreMissing(StoreError):
    """No store at the address (and the caller did not ask to create one)."""

    def __init__(self, store: str) -> None:
        super().__init__("store.error.missing", store=store)


class NotAStore(StoreError):
    """The file or database exists but is not a budgetlib store; it is left untouched."""

    def __init__(self, store: str, reason: Any) -> None:
        super().__init__("store.error.not_a_store", store=store, reason=reason)


class StoreTooNew(StoreError):
    """The store's schema is newer than this budgetlib knows; opening it could damage it."""

    def __init__(self, store: str, revision: str) -> None:
        super().__init__("store.error.too_new", store=store, revision=revision)


class StoreUnavailable(StoreError):
    """The database could not be reached (server down, wrong password, unreadable file)."""

    def __init__(self, store: str, detail: str) -> None:
        super().__init__("store.error.unavailable", store=store, detail=detail)


class DriverMissing(StoreError):
    """A PostgreSQL address was given but the psycopg driver is not installed."""

    def __init__(self, store: str) -> None:
        super().__init__("store.error.driver_missing", store=store)


class UnknownVersion(StoreError):
    def __init__(self, ref: str) -> None:
        super().__init__("store.error.unknown_version", ref=ref)


class BadVersionRef(StoreError):
    def __init__(self, ref: str) -> None:
        super().__init__("store.error.bad_ref", ref=ref)


class ImmutableVersion(StoreError):
    """An approved version (or any stored record) cannot be changed; save a new version instead."""

    def __init__(self, ref: str) -> None:
        super().__init__("store.error.immutable", ref=ref)


class StageTransitionError(StoreError):
    def __init__(self, ref: str, current: Any, wanted: Any) -> None:
        super().__init__("store.error.transition", ref=ref, current=current, wanted=wanted)


class TamperedRecord(StoreError):
    """A stored document no longer matches the hash recorded for it."""

    def __init__(self, what: Any, ref: str, expected: str, found: str) -> None:
        super().__init__("store.error.tampered", what=what, ref=ref, expected=expected[:16], found=found[:16])


class StoreBusy(StoreError):
    """Concurrent writers kept conflicting after every retry."""

    def __init__(self, store: str, attempts: int) -> None:
        super().__init__("store.error.busy", store=store, attempts=attempts)

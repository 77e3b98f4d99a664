"""Where the store is and who is acting, when the caller does not say (no database code here)."""

from __future__ import annotations

import getpass
import os

__all__ = ["STORE_ENV", "DEFAULT_STORE_FILE", "USER_ENV", "default_user"]

STORE_ENV = "BUDGETLIB_STORE"
"""Environment variable naming the store when ``--store`` is not given (a path or a URL)."""

DEFAULT_STORE_FILE = "budgetlib-store.sqlite"
"""The store used when neither ``--store`` nor ``BUDGETLIB_STORE`` is given: this file in the current folder."""

USER_ENV = "BUDGETLIB_USER"
"""Environment variable with the name recorded as who saved, approved or ran (default: the login name)."""


def default_user() -> str:
    """``$BUDGETLIB_USER``, else the login name of this process."""
    name = os.environ.get(USER_ENV, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no login name (some service accounts)
        return "?"

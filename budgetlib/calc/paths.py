"""Where the Calc front end keeps its two files, on every OS.

* the **run log** — ``~/.budgetlib/libreoffice.log`` (``BUDGETLIB_LO_LOG`` overrides): one line per
  click and its outcome, every dialog shown, tracebacks; the "Nhật ký chạy" command opens it;
* the **settings** — ``~/.budgetlib/libreoffice.json`` (``BUDGETLIB_LO_CONFIG`` overrides): which
  Python runs budgetlib for the extension, written by ``budgetlib lo install``.

The extension computes the same two paths itself (``libreoffice/pythonpath/budgetlib_lo/paths.py``:
it cannot import budgetlib); a test checks that both give the same answers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["LOG_ENV", "CONFIG_ENV", "PYTHON_ENV", "log_path", "config_path", "read_config", "write_config"]

LOG_ENV = "BUDGETLIB_LO_LOG"
CONFIG_ENV = "BUDGETLIB_LO_CONFIG"
PYTHON_ENV = "BUDGETLIB_PYTHON"
"""Overrides the Python the extension runs budgetlib with (wins over the settings file)."""


def _home() -> Path:
    return Path(os.path.expanduser("~")) / ".budgetlib"


def log_path() -> Path:
    override = os.environ.get(LOG_ENV)
    return Path(override) if override else _home() / "libreoffice.log"


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else _home() / "libreoffice.json"


def read_config(path: Path | None = None) -> dict[str, Any]:
    """The settings (``{}`` when there are none or the file is unreadable)."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_config(values: dict[str, Any], path: Path | None = None) -> Path:
    """Write the settings atomically (sorted keys: the same settings give the same bytes)."""
    from ..io.atomic import atomic_write_text

    path = path or config_path()
    atomic_write_text(path, json.dumps(values, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return path

"""The run log and the settings file: the same rules as ``budgetlib.calc.paths`` (a test checks)."""

from __future__ import annotations

import json
import os

LOG_ENV = "BUDGETLIB_LO_LOG"
CONFIG_ENV = "BUDGETLIB_LO_CONFIG"
PYTHON_ENV = "BUDGETLIB_PYTHON"
LANG_ENV = "BUDGETLIB_LANG"


def _home():
    return os.path.join(os.path.expanduser("~"), ".budgetlib")


def log_path():
    return os.environ.get(LOG_ENV) or os.path.join(_home(), "libreoffice.log")


def config_path():
    return os.environ.get(CONFIG_ENV) or os.path.join(_home(), "libreoffice.json")


def read_config(path=None):
    """The settings written by ``budgetlib lo install`` (``{}`` when missing or unreadable)."""
    try:
        with open(path or config_path(), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def extension_root():
    """The folder the extension was unpacked into (``…/budgetlib.oxt``)."""
    here = os.path.dirname(os.path.abspath(__file__))  # …/pythonpath/budgetlib_lo
    return os.path.dirname(os.path.dirname(here))

"""Command line: ``budgetlib COMMAND``. One module per command group, all on one typer app."""

from . import (
    cmd_addin,  # noqa: F401  (registers commands)
    cmd_allocate,  # noqa: F401  (registers commands)
    cmd_cycle,  # noqa: F401  (registers commands)
    cmd_lo,  # noqa: F401  (registers commands)
    cmd_plan,  # noqa: F401  (registers commands)
    cmd_report,  # noqa: F401  (registers commands)
    cmd_scenarios,  # noqa: F401  (registers commands)
    cmd_store,  # noqa: F401  (registers commands)
    cmd_template,  # noqa: F401  (registers commands)
)
from .app import ExitCode, app, main

__all__ = ["app", "main", "ExitCode"]

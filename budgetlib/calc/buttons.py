"""The commands of the "Ngân sách" menu and toolbar, as data.

The ids are the Excel ribbon's (``btnNew`` … ``btnVersion``; a test checks both front ends list the
same ones) so officers, the guide and the run logs speak of the same buttons in both programs.
Labels are catalogue codes (``calc.button.<id>`` in ``budgetlib/locales/*/calc.toml``): ``Addons.xcu`` gets its Vietnamese and English titles from them
when the extension is built.

Each command runs where it needs to:

* ``bridge`` commands are answered by the installed budgetlib (the pipeline), in a separate Python
  process (:mod:`budgetlib.calc.bridge`); a ``desk`` action runs
  ``budgetlib.pipeline.desktop.<pipeline>``, the buttons' part of the pipeline the Excel ribbon
  shares;
* ``local`` commands need no budgetlib at all (the run log, the guide shipped inside the
  extension), so they work exactly when an officer most needs them: when Python is missing.
  ``btnVersion`` shows what LibreOffice knows and, if it can, asks budgetlib for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Command", "COMMANDS", "COMMAND_IDS", "GROUPS", "PROTOCOL", "command", "command_url"]

PROTOCOL = "org.budgetlib.calc:"
"""The URL scheme of the extension's protocol handler: ``org.budgetlib.calc:btnAllocate``."""


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    group: str  # menu and toolbar put a separator between groups
    action: str  # handler name in budgetlib.calc.dispatch (bridge commands) or in the extension (local)
    where: str  # "bridge" or "local"
    reads_book: bool  # sends the calling document's sheets to budgetlib
    pipeline: str = ""  # the budgetlib.pipeline.desktop function of a "desk" action


COMMANDS: tuple[Command, ...] = (
    Command("btnNew", "data", "new_workbook", "bridge", False),
    Command("btnValidate", "data", "validate", "bridge", True),
    Command("btnAllocate", "allocate", "allocate", "bridge", True),
    Command("btnCompare", "allocate", "desk", "bridge", True, "compare"),
    Command("btnProgress", "cycle", "desk", "bridge", True, "execution"),
    Command("btnRefresh", "report", "desk", "bridge", True, "refresh"),
    Command("btnPdf", "report", "desk", "bridge", True, "budget_book"),
    Command("btnLog", "report", "open_log", "local", False),
    Command("btnSaveVersion", "store", "desk", "bridge", True, "save_version"),
    Command("btnHistory", "store", "desk", "bridge", True, "history"),
    Command("btnGuide", "help", "guide", "local", False),
    Command("btnVersion", "help", "version", "bridge", False),
)

COMMAND_IDS: tuple[str, ...] = tuple(c.id for c in COMMANDS)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in COMMANDS))
_BY_ID = {c.id: c for c in COMMANDS}


def command(command_id: str) -> Command:
    """The command with this id; ``KeyError`` for an id this package does not know."""
    return _BY_ID[command_id]


def command_url(command_id: str) -> str:
    """The dispatch URL the menu item and the toolbar button call (``org.budgetlib.calc:btnNew``)."""
    return PROTOCOL + command(command_id).id

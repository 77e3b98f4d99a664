"""The ribbon as data: groups, buttons, their icons and what Python does with each id.

Everything the ribbon shows comes from here and from the message catalogue
(``budgetlib/locales/*/addin.toml``, codes ``addin.ribbon.<key>.label|screentip|supertip`` and
``addin.ribbon.group.<key>``, where ``btnAllocate``'s key is ``allocate``): ``budgetlib addin build`` writes ``customUI.xml`` and the VBA that
answers the ribbon's ``getLabel``/``getScreentip``/``getSupertip`` callbacks from this table, the
guide and ``--help`` name the same buttons, and tests check the icons against Microsoft's list of
Excel control ids.

Adding a button is a row here, its texts in both catalogues and, if no existing action fits, a
handler in :mod:`budgetlib.addin.dispatch`. A button whose work is one pipeline function returning a
:class:`~budgetlib.pipeline.RunOutcome` needs no handler (``"pipeline"``), nor does one whose work
is a function of :mod:`budgetlib.pipeline.desktop`, the buttons' part of the pipeline shared with
the Calc menu (``"desk"``)::

    Button("btnHistory", "grpStore", "FileVersionHistory", "desk", pipeline="history")

The ids, their order and their groups are the Calc menu's too (:mod:`budgetlib.calc.buttons`; a
test checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.i18n import tr
from ..core.lang import Lang

__all__ = ["Group", "Button", "GROUPS", "BUTTONS", "BUTTON_IDS", "button", "python_command", "TAB_ID"]

TAB_ID = "tabNganSach"


def _key(control_id: str) -> str:
    """The catalogue key of a control id: ``btnAllocate`` → ``allocate``, ``grpData`` → ``data``."""
    return control_id[3:].lower() if control_id[:3] in ("btn", "grp") else control_id.lower()


@dataclass(frozen=True, slots=True)
class Group:
    id: str

    @property
    def key(self) -> str:
        return _key(self.id)

    def label(self, lang: str | Lang) -> str:
        return tr(f"addin.ribbon.group.{self.key}", lang)


@dataclass(frozen=True, slots=True)
class Button:
    """One ribbon button.

    ``action`` names a handler in :mod:`budgetlib.addin.dispatch`; the generic ``"pipeline"`` action
    calls ``budgetlib.pipeline.<pipeline>`` on the workbook and writes the sheets it returns, pruning
    stale result sheets as ``prune`` says (``"all"``: every other budgetlib sheet after a successful
    run, as ``budgetlib allocate`` leaves a workbook; ``"errors"``: an old errors sheet when the run
    found no problem; ``"none"``); the ``"desk"`` action calls
    ``budgetlib.pipeline.desktop.<pipeline>``, which says itself which stale sheets go."""

    id: str
    group: str
    image: str  # imageMso: a built-in Excel control id
    action: str
    pipeline: str = ""
    prune: str = "none"
    needs_plan: bool = True  # reads the calling workbook's input sheets

    @property
    def key(self) -> str:
        """The button's catalogue key (``btnAllocate`` → ``allocate``)."""
        return _key(self.id)

    def label(self, lang: str | Lang) -> str:
        return tr(f"addin.ribbon.{self.key}.label", lang)

    def screentip(self, lang: str | Lang) -> str:
        return tr(f"addin.ribbon.{self.key}.screentip", lang)

    def supertip(self, lang: str | Lang) -> str:
        return tr(f"addin.ribbon.{self.key}.supertip", lang)


GROUPS: tuple[Group, ...] = (
    Group("grpData"), Group("grpAllocate"), Group("grpCycle"), Group("grpReport"), Group("grpStore"), Group("grpHelp"),
)

BUTTONS: tuple[Button, ...] = (
    Button("btnNew", "grpData", "FileNew", "new_workbook", needs_plan=False),
    Button("btnValidate", "grpData", "DataValidation", "pipeline", pipeline="run_validate", prune="errors"),
    Button("btnAllocate", "grpAllocate", "CalculateNow", "pipeline", pipeline="run_allocate", prune="all"),
    Button("btnCompare", "grpAllocate", "ViewSideBySide", "desk", pipeline="compare"),
    Button("btnProgress", "grpCycle", "ConditionalFormattingDataBarsGallery", "desk", pipeline="execution"),
    Button("btnRefresh", "grpReport", "RefreshAll", "desk", pipeline="refresh"),
    Button("btnPdf", "grpReport", "FileSaveAsPdfOrXps", "desk", pipeline="budget_book"),
    Button("btnLog", "grpReport", "FileOpen", "open_log", needs_plan=False),
    Button("btnSaveVersion", "grpStore", "FileSave", "desk", pipeline="save_version"),
    Button("btnHistory", "grpStore", "FileVersionHistory", "desk", pipeline="history"),
    Button("btnGuide", "grpHelp", "Help", "guide", needs_plan=False),
    Button("btnVersion", "grpHelp", "FileProperties", "version", needs_plan=False),
)

BUTTON_IDS: tuple[str, ...] = tuple(b.id for b in BUTTONS)
_BY_ID = {b.id: b for b in BUTTONS}


def button(button_id: str) -> Button:
    """The button with this id; KeyError for an id this package does not know (add-in/package mismatch)."""
    return _BY_ID[button_id]


def python_command(button_id: str, *, addin: str, xlwings: str, lang: str) -> str:
    """The exact statement the add-in's VBA (``BudgetlibRibbon.PythonCommand``) passes to RunPython."""
    return (
        f"import budgetlib.addin as a; a.on_button('{button_id}', addin='{addin}', xlwings='{xlwings}', lang='{lang}')"
    )

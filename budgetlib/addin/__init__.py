"""The Excel ribbon add-in ("Ngân sách" tab): build, install, diagnose, and what each button does.

Excel side: ``budgetlib.xlam``, built from ``excel/BudgetlibRibbon.bas`` and the button table
(:mod:`budgetlib.addin.buttons`; ribbon XML and label VBA are generated from it) on top of the
installed xlwings' custom-add-in template (:mod:`budgetlib.addin.build`), installed in XLSTART
(:mod:`budgetlib.addin.install`), checked by ``budgetlib addin doctor``
(:mod:`budgetlib.addin.doctor`). Every button runs, through xlwings' ``RunPython``::

    import budgetlib.addin as a; a.on_button('btnAllocate', addin='0.1.0', xlwings='0.37.8', lang='vi')

Python side: :func:`on_button` wraps the calling workbook (``xw.Book.caller()``) in
:class:`~budgetlib.addin.xlbook.XlwingsBook` and calls :func:`~budgetlib.addin.dispatch.dispatch`,
which runs the same pipeline as the CLI. :class:`~budgetlib.addin.filebook.OpenpyxlAdapter` runs the
same buttons on an ``.xlsx`` file without Excel. xlwings is imported lazily, only when Excel calls.
"""

from __future__ import annotations

from .buttons import BUTTON_IDS, BUTTONS, GROUPS, Button, Group, python_command
from .dispatch import BookAdapter, Outcome, dispatch, log_path

__all__ = [
    "on_button",
    "dispatch",
    "BookAdapter",
    "Outcome",
    "BUTTONS",
    "BUTTON_IDS",
    "GROUPS",
    "Button",
    "Group",
    "python_command",
    "log_path",
]


def on_button(button_id: str, addin: str | None = None, xlwings: str | None = None, lang: str | None = None) -> int:
    """Entry point of every ribbon button (called by the add-in's VBA through ``RunPython``)."""
    from .xlbook import XlwingsBook

    try:
        book = XlwingsBook.caller()
    except Exception:
        # Not called from Excel (or Excel went away): log it; xlwings shows the traceback to the user.
        from .dispatch import _logger

        _logger().exception("no calling workbook for %s", button_id)
        raise
    return dispatch(button_id, book, lang=lang, addin_version=addin, xlwings_vba=xlwings).exit_code

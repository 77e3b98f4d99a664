"""The Excel ribbon add-in ("Ngân sách" tab): build, install, and what each button does.

Excel side: ``budgetlib.xlam``, built from ``excel/customUI.xml`` and ``excel/BudgetlibRibbon.bas`` on
top of the installed xlwings' custom-add-in template (:mod:`budgetlib.addin.build`), installed in
XLSTART (:mod:`budgetlib.addin.install`). Every button runs, through xlwings' ``RunPython``::

    import budgetlib.addin as a; a.on_button('btnAllocate', addin='0.1.0', xlwings='0.37.8')

Python side: :func:`on_button` wraps the calling workbook (``xw.Book.caller()``) in
:class:`~budgetlib.addin.xlbook.XlwingsBook` and calls :func:`~budgetlib.addin.dispatch.dispatch`,
which runs the same pipeline as the CLI. Tests call ``dispatch`` with an openpyxl-backed book
(:class:`~budgetlib.addin.filebook.OpenpyxlAdapter`) instead. xlwings is imported lazily, only
when Excel calls.
"""

from __future__ import annotations

from .buttons import BUTTON_IDS, BUTTONS, Button, python_command
from .dispatch import BookAdapter, Outcome, dispatch, log_path

__all__ = ["on_button", "dispatch", "BookAdapter", "Outcome", "BUTTONS", "BUTTON_IDS", "Button", "python_command", "log_path"]


def on_button(button_id: str, addin: str | None = None, xlwings: str | None = None) -> int:
    """Entry point of every ribbon button (called by the add-in's VBA through ``RunPython``)."""
    from .xlbook import XlwingsBook

    try:
        book = XlwingsBook.caller()
    except Exception:
        # Not called from Excel (or Excel went away): log it; xlwings shows the traceback to the user.
        from .dispatch import _logger

        _logger().exception("no calling workbook for %s", button_id)
        raise
    return dispatch(button_id, book, addin_version=addin, xlwings_vba=xlwings).exit_code

"""The sheets of a new plan workbook (the "Sổ mới" button): the same blank template as
``budgetlib template kehoach.xlsx``.

The workbook layer draws a plan's input sheets (:func:`budgetlib.io.workbook.plan_sheets`); the
blank template is those sheets for an empty plan. Until the workbook layer exposes that empty plan
(requested: ``budgetlib.io.workbook.template_sheets(lang=...)``), the CLI's own ``_blank_plan`` is
used, so the button and the command cannot drift apart.
"""

from __future__ import annotations

from ..io.grid import SheetSpec

__all__ = ["template_sheets"]


def template_sheets(*, lang: str = "vi") -> list[SheetSpec]:
    from ..io import workbook

    blank = getattr(workbook, "template_sheets", None)
    if blank is not None:
        return list(blank(lang=lang))
    from ..cli.cmd_workbook import _blank_plan  # the CLI's definition of "blank" (see module doc)

    return workbook.plan_sheets(_blank_plan(lang), lang=lang)

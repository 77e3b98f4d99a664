"""The sheets of a new plan workbook (the "Sổ mới" button): the same blank template as
``budgetlib template kehoach.xlsx`` (both use :func:`budgetlib.io.workbook.template_sheets`)."""

from __future__ import annotations

from ..io.grid import SheetSpec

__all__ = ["template_sheets"]


def template_sheets(*, lang: str = "vi") -> list[SheetSpec]:
    from ..io.workbook import template_sheets as blank_template

    return list(blank_template(lang=lang))

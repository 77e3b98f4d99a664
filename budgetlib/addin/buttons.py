"""The ribbon's buttons as data: id → action, labels and help text.

The ribbon XML (``excel/customUI.xml``) is the source of what Excel shows; this table is what Python
does with each id, and the guide and the ``--help`` text are written from the same names. A test
checks that both list the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Button", "BUTTONS", "BUTTON_IDS", "button", "python_command"]


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    group_vi: str
    label_vi: str
    label_en: str
    action: str  # name of the handler in budgetlib.addin.dispatch
    needs_plan: bool  # reads the calling workbook's input sheets


BUTTONS: tuple[Button, ...] = (
    Button("btnNew", "Dữ liệu", "Sổ mới", "New workbook from template", "new_workbook", False),
    Button("btnValidate", "Dữ liệu", "Kiểm tra", "Validate", "validate", True),
    Button("btnAllocate", "Phân bổ", "Phân bổ", "Allocate", "allocate", True),
    Button("btnCompare", "Phân bổ", "So sánh phương án", "Compare scenarios", "compare", True),
    Button("btnRefresh", "Báo cáo", "Làm mới báo cáo", "Refresh report sheets", "refresh", True),
    Button("btnLog", "Báo cáo", "Nhật ký chạy", "Open run log", "open_log", False),
    Button("btnGuide", "Trợ giúp", "Hướng dẫn", "Guide", "guide", False),
    Button("btnVersion", "Trợ giúp", "Phiên bản", "Version", "version", False),
)

BUTTON_IDS: tuple[str, ...] = tuple(b.id for b in BUTTONS)
_BY_ID = {b.id: b for b in BUTTONS}


def button(button_id: str) -> Button:
    """The button with this id; KeyError for an id this package does not know (add-in/package mismatch)."""
    return _BY_ID[button_id]


def python_command(button_id: str, *, addin: str, xlwings: str) -> str:
    """The exact statement the add-in's VBA (``BudgetlibRibbon.PythonCommand``) passes to RunPython."""
    return f"import budgetlib.addin as a; a.on_button('{button_id}', addin='{addin}', xlwings='{xlwings}')"

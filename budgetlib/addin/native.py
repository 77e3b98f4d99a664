"""The few things the add-in needs that xlwings has no API for, through ``.api``.

xlwings' Windows backend (``xlwings/_xlwindows.py``, COM through pywin32) and macOS backend
(``xlwings/_xlmac.py``, AppleScript through appscript) implement different parts of xlwings'
object model; ``Sheet.freeze_panes``, for one, exists only for Office.js clients and raises
``NotImplementedError`` in Excel. What the add-in needs beyond the API both desktop backends share
is here, written once per native object model:

=====================  ===========================================  ===========================================
step                   Windows (COM)                                macOS (appscript)
=====================  ===========================================  ===========================================
frozen panes           ``Workbook.Windows(1).SplitRow/SplitColumn/  ``windows[1].split_row/split_column/
                       FreezePanes``                                freeze_panes``
tab colour             ``Worksheet.Tab.Color`` (BGR integer)        ``tab.color`` of the sheet (RGB list)
dropdown messages      ``Validation.InputMessage/ErrorMessage``     ``validation.input_message/error_message``
workbook state         ``Workbook.Saved/ReadOnly/ProtectStructure/  ``saved/read_only/protect_structure/
                       FileFormat``                                 file_format``
=====================  ===========================================  ===========================================

Every function takes xlwings objects, touches ``.api`` only inside itself, and raises whatever the
native layer raises: callers decide what is cosmetic (:func:`budgetlib.addin.xlbook.best_effort`).
Only the Windows column is exercised by the test suite (against pyOpenVBA's Excel object model);
the macOS column follows Excel's AppleScript dictionary and is marked *unverified* in the guide.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from ..io.grid import column_index

__all__ = ["BookState", "book_state", "freeze_panes", "set_tab_color", "set_validation_messages", "on_mac"]

# XlFileFormat values of the formats a workbook can be open as that cannot keep result sheets.
_FLAT_FORMATS = {
    6: "csv",  # xlCSV
    62: "csv",  # xlCSVUTF8
    22: "csv",  # xlCSVMac
    24: "csv",  # xlCSVMSDOS
    23: "csv",  # xlCSVWindows
    -4158: "txt",  # xlCurrentPlatformText
    42: "txt",  # xlUnicodeText
    20: "txt",  # xlTextWindows
    21: "txt",  # xlTextMSDOS
    19: "txt",  # xlTextMac
    36: "prn",  # xlTextPrinter
}


def on_mac() -> bool:
    """The macOS backend (appscript) is in use; everywhere else the Windows COM model applies."""
    return sys.platform == "darwin"


def _split(cell: str) -> tuple[int, int]:
    """``"C4"`` → (rows above, columns left of it) = (3, 2)."""
    m = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell.strip())
    if m is None:
        raise ValueError(f"not a cell: {cell!r}")
    return int(m.group(2)) - 1, column_index(m.group(1)) - 1


def freeze_panes(sheet: Any, cell: str) -> None:
    """Freeze the rows above and the columns left of ``cell`` on ``sheet`` (an ``xlwings.Sheet``).

    Panes belong to the workbook's window and apply to the sheet it shows, so the sheet is
    activated first (as xlwings' own ``_window_property`` does). The split is set by row and
    column counts, which does not depend on where the window happens to be scrolled.
    """
    rows, cols = _split(cell)
    sheet.activate()
    if on_mac():
        window = sheet.book.api.windows[1]
        window.freeze_panes.set(False)
        window.scroll_row.set(1)
        window.scroll_column.set(1)
        window.split_row.set(rows)
        window.split_column.set(cols)
        window.freeze_panes.set(True)
        return
    window = sheet.book.api.Windows(1)
    window.FreezePanes = False
    window.ScrollRow = 1
    window.ScrollColumn = 1
    window.SplitRow = rows
    window.SplitColumn = cols
    window.FreezePanes = True


def set_tab_color(sheet: Any, rgb: str) -> None:
    """Colour the sheet's tab: ``"1F4E78"`` (RRGGBB, optionally with a leading ``#`` or alpha)."""
    hexa = rgb.lstrip("#")[-6:]
    r, g, b = int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16)
    if on_mac():
        sheet.api.tab.color.set([r, g, b])
        return
    sheet.api.Tab.Color = r + (g << 8) + (b << 16)  # COM colours are BGR integers


def set_validation_messages(rng: Any, *, prompt: str = "", error: str = "") -> None:
    """The input prompt and error text of the dropdown on ``rng`` (Excel keeps 255 characters)."""
    if on_mac():
        validation = rng.api.validation
        if prompt:
            validation.input_message.set(prompt[:255])
        if error:
            validation.error_message.set(error[:255])
        return
    validation = rng.api.Validation
    if prompt:
        validation.InputMessage = prompt[:255]
    if error:
        validation.ErrorMessage = error[:255]


@dataclass(frozen=True)
class BookState:
    """What Excel knows about the open workbook that decides whether results can be kept in it.

    ``None`` means the native layer did not say (the add-in then claims nothing)."""

    saved: bool | None = None  # no unsaved changes
    read_only: bool | None = None  # opened read-only (e.g. another user has it open)
    structure_protected: bool | None = None  # Review > Protect Workbook: no sheets can be added
    flat_format: str | None = None  # "csv"/"txt"/"prn": the file cannot hold more than one sheet


def _ask(get: Any) -> Any:
    try:
        return get()
    except Exception:
        return None


def book_state(book: Any) -> BookState:
    """The :class:`BookState` of an ``xlwings.Book``; every part that cannot be read is ``None``."""
    api = _ask(lambda: book.api)
    if api is None:
        return BookState()
    if on_mac():
        saved = _ask(lambda: api.saved.get())
        read_only = _ask(lambda: api.read_only.get())
        protected = _ask(lambda: api.protect_structure.get())
        fmt = _ask(lambda: api.file_format.get())
    else:
        saved = _ask(lambda: api.Saved)
        read_only = _ask(lambda: api.ReadOnly)
        protected = _ask(lambda: api.ProtectStructure)
        fmt = _ask(lambda: api.FileFormat)
    flat = _FLAT_FORMATS.get(fmt) if isinstance(fmt, int) and not isinstance(fmt, bool) else None
    return BookState(
        saved=bool(saved) if isinstance(saved, (bool, int)) else None,
        read_only=bool(read_only) if isinstance(read_only, (bool, int)) else None,
        structure_protected=bool(protected) if isinstance(protected, (bool, int)) else None,
        flat_format=flat,
    )

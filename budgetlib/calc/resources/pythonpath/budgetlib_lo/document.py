"""The live Calc document: read it for budgetlib, write budgetlib's result sheets into it.

Reading (:func:`snapshot`) takes each sheet's used area in one ``getDataArray`` call (values as
Calc computed them, unsaved edits included) with the area's top-left cell as origin, so a problem
is located at the cell the officer sees. Sheets that carry the result marker (a sheet-scoped named
range, ``BUDGETLIB_RESULT``) are listed but not read: they are budgetlib's output, never input.

Writing (:func:`apply`) is all or nothing, in one undo step:

1. refuse at once if a sheet to replace or remove is not marked (budgetlib's side never asks for
   that; this is the last line of defence for the officer's own sheets);
2. rename the marked sheets being replaced or removed out of the way (``~bl_old_N``), their
   database ranges too (those names are document-wide);
3. create every new sheet at the end, then draw each one and mark it;
4. on any error delete what was created and rename the old sheets back (the error says whether
   that fully succeeded); otherwise delete the old sheets.

Input sheets are never written. The document is never saved or reloaded: the officer's unsaved
edits stay in it, and the officer decides when to save.
"""

from __future__ import annotations

import os
import traceback

import uno

from . import render, runlog

_STAGE = "~bl_old_"


class NotOurs(Exception):
    """A sheet the reply would replace or remove is not a budgetlib result sheet."""


class WriteFailed(Exception):
    """Writing the results failed; ``restored`` says whether the document is as before, ``left``
    lists the sheets that could not be put back."""

    def __init__(self, error, restored, left):
        super().__init__(error)
        self.error = error
        self.restored = restored
        self.left = left


def is_spreadsheet(doc):
    try:
        return bool(doc) and doc.supportsService("com.sun.star.sheet.SpreadsheetDocument")
    except Exception:
        return False


def is_marked(sheet, marker):
    try:
        return bool(sheet.NamedRanges.hasByName(marker))
    except Exception:  # a sheet without local names
        return False


def mark(sheet, marker):
    from com.sun.star.table import CellAddress

    names = sheet.NamedRanges
    if names.hasByName(marker):
        return
    index = sheet.getRangeAddress().Sheet
    content = "$'{}'.$A$1".format(sheet.getName().replace("'", "''"))
    names.addNewByName(marker, content, CellAddress(index, 0, 0), 0)


def document_name(doc):
    url = doc.getURL()
    if url:
        return os.path.basename(uno.fileUrlToSystemPath(url)) if url.startswith("file:") else url.rsplit("/", 1)[-1]
    try:
        return str(doc.getTitle())
    except Exception:
        return ""


def document_path(doc):
    """The document's file on disk, saved or not (None for a new document never saved): the
    version store and the PDF report go beside it."""
    url = doc.getURL()
    if not url or not url.startswith("file:"):
        return None
    return uno.fileUrlToSystemPath(url)


def saved_file(doc):
    """The document's file when it has no unsaved changes (then its checksum describes the input)."""
    url = doc.getURL()
    if not url or not url.startswith("file:") or doc.isModified():
        return None
    path = uno.fileUrlToSystemPath(url)
    return path if os.path.isfile(path) else None


def _value(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def _errors(sheet, area):
    """``{(row, col): "#DIV/0!"}`` for formula cells whose result is an error (as Excel shows them)."""
    from com.sun.star.sheet.FormulaResult import ERROR

    out = {}
    try:
        ranges = sheet.queryFormulaCells(ERROR)
        cells = ranges.getCells().createEnumeration()
        while cells.hasMoreElements():
            cell = cells.nextElement()
            addr = cell.getCellAddress()
            out[(addr.Row - area.StartRow, addr.Column - area.StartColumn)] = cell.getString()
    except Exception:  # no error cells
        pass
    return out


def read_sheet(sheet):
    """``(origin_row, origin_col, rows)`` of the used area (1-based origin)."""
    cursor = sheet.createCursor()
    cursor.gotoStartOfUsedArea(False)
    cursor.gotoEndOfUsedArea(True)
    area = cursor.getRangeAddress()
    data = cursor.getDataArray()
    rows = [[_value(v) for v in row] for row in data]
    for (r, c), text in _errors(sheet, area).items():
        if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
            rows[r][c] = text
    while rows and all(v == "" for v in rows[-1]):
        rows.pop()
    return area.StartRow + 1, area.StartColumn + 1, rows


def _ref(c1, r1, c2, r2):
    return f"{_letters(c1 + 1)}{r1 + 1}:{_letters(c2 + 1)}{r2 + 1}"


def _letters(n):
    s = ""
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


def tables(doc):
    """Named database ranges (Excel tables open as these) as ``{name, sheet, ref}``."""
    out = []
    try:
        ranges = doc.DatabaseRanges
        sheets = doc.getSheets()
        for name in ranges.getElementNames():
            a = ranges.getByName(name).getDataArea()
            sheet = sheets.getByIndex(a.Sheet).getName()
            out.append({"name": name, "sheet": sheet, "ref": _ref(a.StartColumn, a.StartRow, a.EndColumn, a.EndRow)})
    except Exception as exc:  # the reader finds tables by their header rows
        runlog.warning(f"could not list database ranges: {exc}")
    return out


def snapshot(doc, marker):
    """The request's ``book``: every sheet (unmarked ones with their cells), tables, name, file."""
    try:
        if not doc.isAutomaticCalculationEnabled():
            doc.calculate()
    except Exception:
        pass
    sheets = doc.getSheets()
    out = []
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        name = sheet.getName()
        if is_marked(sheet, marker):
            out.append({"name": name, "marked": True, "origin": [1, 1], "rows": []})
            continue
        row, col, rows = read_sheet(sheet)
        out.append({"name": name, "marked": False, "origin": [row, col], "rows": rows})
    return {"name": document_name(doc), "path": document_path(doc), "saved_file": saved_file(doc), "sheets": out, "tables": tables(doc)}


def _db_ranges_on(doc, index):
    ranges = doc.DatabaseRanges
    return [n for n in ranges.getElementNames() if ranges.getByName(n).getDataArea().Sheet == index]


def _rename_db(doc, old, new):
    doc.DatabaseRanges.getByName(old).setName(new)


def remove_sheet(sheets, name):
    """Delete a sheet without harming its neighbour: LibreOffice (7.4) drops the database range
    (table, filter buttons) of the sheet just before a deleted sheet, so it is moved to the front
    first, where no sheet precedes it."""
    sheets.moveByName(name, 0)
    sheets.removeByName(name)


def _free_name(sheets, base):
    n = 0
    while sheets.hasByName(f"{base}{n}"):
        n += 1
    return f"{base}{n}"


def apply(doc, specs, remove, marker, status=None, title="budgetlib"):
    """Write ``specs`` (replacing marked sheets of the same names) and delete the marked sheets in
    ``remove``; all or nothing. Returns ``(written, removed)``. Raises NotOurs or WriteFailed."""
    sheets = doc.getSheets()
    targets = [s["name"] for s in specs]
    for name in targets + list(remove):
        if sheets.hasByName(name) and not is_marked(sheets.getByName(name), marker):
            raise NotOurs(name)
    replaced = [n for n in targets + list(remove) if sheets.hasByName(n)]
    replaced = list(dict.fromkeys(replaced))
    undo = None
    try:
        undo = doc.getUndoManager()
        undo.enterUndoContext(title)
    except Exception:  # no undo manager: still all or nothing
        undo = None
    doc.lockControllers()
    moved: list = []  # (staged name, original name, [(staged db, original db)])
    created = []
    drawer = render.Drawer(doc)
    try:
        try:
            for name in replaced:
                sheet = sheets.getByName(name)
                index = sheet.getRangeAddress().Sheet
                dbs: list = []
                for db in _db_ranges_on(doc, index):
                    staged_db = f"budgetlib_old_{len(moved)}_{len(dbs)}"
                    _rename_db(doc, db, staged_db)
                    dbs.append((staged_db, db))
                staged = _free_name(sheets, _STAGE)
                sheet.setName(staged)
                moved.append((staged, name, dbs))
            for spec in specs:
                sheets.insertNewByName(spec["name"], sheets.getCount())
                created.append(spec["name"])
            for n, spec in enumerate(specs, start=1):
                if status is not None:
                    status(spec["name"], n, len(specs))
                sheet = sheets.getByName(spec["name"])
                drawer.draw(sheet, spec)
                drawer.add_tables(sheet, spec)
                if spec.get("kind", "result") == "result":
                    mark(sheet, marker)
        except Exception as exc:
            runlog.error(f"writing failed, rolling back (moved {moved}, created {created})\n{traceback.format_exc()}")
            left = _rollback(doc, created, moved)
            raise WriteFailed(f"{type(exc).__name__}: {exc}", not left, left) from exc
        for staged, _name, _dbs in moved:
            remove_sheet(sheets, staged)
    finally:
        doc.unlockControllers()
        if undo is not None:
            try:
                undo.leaveUndoContext()
            except Exception:
                pass
    _finish(doc, specs)
    return targets, [n for n in remove if n not in targets]


def _rollback(doc, created, moved):
    """Undo a failed write by hand; the names of sheets that could not be put right."""
    sheets = doc.getSheets()
    left = []
    for name in reversed(created):
        try:
            if sheets.hasByName(name):
                remove_sheet(sheets, name)
        except Exception:
            runlog.error(f"rollback: could not delete {name}\n{traceback.format_exc()}")
            left.append(name)
    for staged, name, dbs in moved:
        try:
            sheets.getByName(staged).setName(name)
            for staged_db, db in dbs:
                _rename_db(doc, staged_db, db)
        except Exception:
            runlog.error(f"rollback: could not restore {name}\n{traceback.format_exc()}")
            left.append(f"{staged} ({name})")
    return left


def _finish(doc, specs):
    """View settings that need the controller: frozen panes, hidden sheets (best effort)."""
    try:
        controller = doc.getCurrentController()
    except Exception:
        controller = None
    sheets = doc.getSheets()
    if controller is not None:
        for spec in specs:
            freeze = spec.get("freeze")
            if not freeze:
                continue
            try:
                c, r = render.cell_position(freeze)
                controller.setActiveSheet(sheets.getByName(spec["name"]))
                controller.freezeAtPosition(c, r)
            except Exception as exc:
                runlog.warning("could not freeze panes on {}: {}".format(spec["name"], exc))
    for spec in specs:
        if spec.get("hidden"):
            try:
                sheets.getByName(spec["name"]).IsVisible = False
            except Exception as exc:
                runlog.warning("could not hide {}: {}".format(spec["name"], exc))


def activate(doc, name):
    try:
        sheets = doc.getSheets()
        if name and sheets.hasByName(name):
            doc.getCurrentController().setActiveSheet(sheets.getByName(name))
    except Exception:
        pass


def new_document(ctx, specs, visible):
    """A new Calc document holding ``specs`` (the template's input sheets), shown like the caller."""
    from com.sun.star.beans import PropertyValue

    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    hidden = PropertyValue()
    hidden.Name = "Hidden"
    hidden.Value = not visible
    doc = desktop.loadComponentFromURL("private:factory/scalc", "_blank", 0, (hidden,))
    sheets = doc.getSheets()
    drawer = render.Drawer(doc)
    doc.lockControllers()
    try:
        blank = []
        for name in list(sheets.getElementNames()):  # the new document's empty sheet(s)
            staged = _free_name(sheets, "~bl_blank_")
            sheets.getByName(name).setName(staged)
            blank.append(staged)
        for spec in specs:
            sheets.insertNewByName(spec["name"], sheets.getCount())
        for spec in specs:
            sheet = sheets.getByName(spec["name"])
            drawer.draw(sheet, spec)
            drawer.add_tables(sheet, spec)
        if specs:
            for name in blank:
                remove_sheet(sheets, name)
    finally:
        doc.unlockControllers()
    _finish(doc, specs)
    if specs:
        activate(doc, specs[0]["name"])
    return doc

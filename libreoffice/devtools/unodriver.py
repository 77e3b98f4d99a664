"""Drive a running LibreOffice over a UNO socket, one JSON command per line (tests, screenshots).

Run it with a Python that has UNO (LibreOffice's: ``/usr/bin/python3`` with ``python3-uno`` on
Debian). It connects to ``soffice --accept="socket,host=127.0.0.1,port=N;urp;"``, then reads
commands from stdin and answers each with one JSON line on stdout::

    {"op": "open", "path": "/…/plan.xlsx", "hidden": true}          → {"ok": true, "doc": 1}
    {"op": "dispatch", "doc": 1, "url": "org.budgetlib.calc:btnAllocate"}
    {"op": "sheets", "doc": 1}                                       → [{"name", "marked", "visible"}]
    {"op": "read", "doc": 1, "sheet": "Phân bổ", "detail": true}     → values, formulas (, types, formats)
    {"op": "set", "doc": 1, "sheet": "Địa bàn", "cell": "D7", "value": "abc"}
    {"op": "config", "path": "/org.openoffice.Setup/L10N", "name": "ooLocale", "value": "vi"}
    {"op": "store", "doc": 1, "path": "/tmp/out.xlsx", "filter": "Calc MS Excel 2007 XML"}
    {"op": "docs"} / {"op": "state", "doc": 1} / {"op": "close", "doc": 1} / {"op": "quit"}

Commands are dispatched exactly as a menu item does: ``DispatchHelper.executeDispatch`` on the
document's frame with the item's URL. Not part of the extension.
"""

import json
import sys
import time
import traceback

import uno
from com.sun.star.beans import PropertyValue


def pv(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


class Driver:
    def __init__(self, connect, timeout=60.0):
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.time() + timeout
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:{connect};urp;StarOffice.ComponentContext")
                break
            except Exception:  # office still starting
                if time.time() > deadline:
                    raise
                time.sleep(0.25)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.docs = {}
        self.next_id = 1

    def _keep(self, doc):
        for k, d in self.docs.items():
            if d == doc:
                return k
        k = self.next_id
        self.next_id += 1
        self.docs[k] = doc
        return k

    def op_open(self, path, hidden=True):
        doc = self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(path), "_blank", 0, (pv("Hidden", hidden),))
        if doc is None:
            raise RuntimeError(f"could not open {path}")
        return {"doc": self._keep(doc)}

    def op_docs(self):
        out = []
        comps = self.desktop.getComponents().createEnumeration()
        while comps.hasMoreElements():
            doc = comps.nextElement()
            if doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
                out.append({"doc": self._keep(doc), "url": doc.getURL(), "sheets": list(doc.getSheets().getElementNames())})
        return out

    def op_dispatch(self, doc, url):
        frame = self.docs[doc].getCurrentController().getFrame()
        helper = self.smgr.createInstanceWithContext("com.sun.star.frame.DispatchHelper", self.ctx)
        started = time.time()
        helper.executeDispatch(frame, url, "", 0, ())
        return {"seconds": time.time() - started}

    def op_sheets(self, doc, marker="BUDGETLIB_RESULT"):
        out = []
        sheets = self.docs[doc].getSheets()
        for i in range(sheets.getCount()):
            s = sheets.getByIndex(i)
            out.append({"name": s.getName(), "marked": bool(s.NamedRanges.hasByName(marker)), "visible": bool(s.IsVisible)})
        return out

    def op_read(self, doc, sheet, detail=False):
        s = self.docs[doc].getSheets().getByName(sheet)
        cursor = s.createCursor()
        cursor.gotoStartOfUsedArea(False)
        cursor.gotoEndOfUsedArea(True)
        area = cursor.getRangeAddress()
        full = s.getCellRangeByPosition(0, 0, area.EndColumn, area.EndRow)
        values = [list(r) for r in full.getDataArray()]
        formulas = [list(r) for r in full.getFormulaArray()]
        types = []
        formats = []
        nf = self.docs[doc].getNumberFormats()
        for r in range(area.EndRow + 1 if detail else 0):
            trow, frow = [], []
            for c in range(area.EndColumn + 1):
                cell = s.getCellByPosition(c, r)
                trow.append(cell.getType().value)
                frow.append(nf.getByKey(cell.NumberFormat).FormatString if cell.getType().value != "EMPTY" else "")
            types.append(trow)
            formats.append(frow)
        return {"values": values, "formulas": formulas, "types": types, "formats": formats}

    def op_types(self, doc, sheet, cells):
        """Content types (TEXT, VALUE, FORMULA, EMPTY) of ``[[row, col], …]`` (0-based)."""
        s = self.docs[doc].getSheets().getByName(sheet)
        return [s.getCellByPosition(c, r).getType().value for r, c in cells]

    def op_set(self, doc, sheet, cell, value):
        c = self.docs[doc].getSheets().getByName(sheet).getCellRangeByName(cell)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            c.setValue(float(value))
        else:
            c.setString(str(value))
        return {}

    def op_insert_sheet(self, doc, name):
        sheets = self.docs[doc].getSheets()
        sheets.insertNewByName(name, sheets.getCount())
        return {}

    def op_config(self, path, name, value):
        provider = self.smgr.createInstanceWithContext("com.sun.star.configuration.ConfigurationProvider", self.ctx)
        access = provider.createInstanceWithArguments("com.sun.star.configuration.ConfigurationUpdateAccess", (pv("nodepath", path),))
        access.replaceByName(name, value)
        access.commitChanges()
        return {}

    def op_store(self, doc, path, filter):
        self.docs[doc].storeToURL(uno.systemPathToFileUrl(path), (pv("FilterName", filter), pv("Overwrite", True)))
        return {}

    def op_state(self, doc):
        d = self.docs[doc]
        ranges = d.DatabaseRanges
        return {"modified": bool(d.isModified()), "url": d.getURL(), "database_ranges": list(ranges.getElementNames()),
                "undo": list(d.getUndoManager().getAllUndoActionTitles())}

    def op_charts(self, doc):
        sheets = self.docs[doc].getSheets()
        return {sheets.getByIndex(i).getName(): list(sheets.getByIndex(i).getCharts().getElementNames()) for i in range(sheets.getCount())}

    def op_activate(self, doc, sheet, cell="A1"):
        d = self.docs[doc]
        controller = d.getCurrentController()
        s = d.getSheets().getByName(sheet)
        controller.setActiveSheet(s)
        controller.select(s.getCellRangeByName(cell))
        return {}

    def op_window(self, doc, x, y, width, height):
        window = self.docs[doc].getCurrentController().getFrame().getContainerWindow()
        window.setPosSize(x, y, width, height, 15)  # com.sun.star.awt.PosSize.POSSIZE
        return {}

    def op_validation(self, doc, sheet, cell):
        v = self.docs[doc].getSheets().getByName(sheet).getCellRangeByName(cell).Validation
        return {"type": v.Type.value, "formula": v.getFormula1()}

    def op_notes(self, doc, sheet):
        notes = self.docs[doc].getSheets().getByName(sheet).getAnnotations()
        out = {}
        for i in range(notes.getCount()):
            n = notes.getByIndex(i)
            a = n.getPosition()
            out[f"{chr(65 + a.Column)}{a.Row + 1}"] = n.getString()
        return out

    def op_layout(self, doc, sheet, cells=(), rows=()):
        """How a sheet prints and looks: its page style, the merged state and weight of ``cells``,
        the heights (1/100 mm) of 1-based ``rows``."""
        d = self.docs[doc]
        s = d.getSheets().getByName(sheet)
        style = d.getStyleFamilies().getByName("PageStyles").getByName(s.PageStyle)

        def texts(content):
            return [content.LeftText.getString(), content.CenterText.getString(), content.RightText.getString()]

        titles = s.getTitleRows() if s.getPrintTitleRows() else None
        return {
            "page_style": s.PageStyle,
            "landscape": bool(style.IsLandscape),
            "size": [style.Width, style.Height],
            "scale_to_pages": [style.ScaleToPagesX, style.ScaleToPagesY],
            "header": texts(style.RightPageHeaderContent) if style.HeaderIsOn else None,
            "footer": texts(style.RightPageFooterContent) if style.FooterIsOn else None,
            "title_rows": None if titles is None else [titles.StartRow + 1, titles.EndRow + 1],
            "print_areas": [[a.StartColumn, a.StartRow, a.EndColumn, a.EndRow] for a in s.getPrintAreas()],
            "merged": {ref: bool(s.getCellRangeByName(ref).getIsMerged()) for ref in cells},
            "bold": {ref: s.getCellRangeByName(ref).CharWeight > 100 for ref in cells},
            "heights": {str(r): s.getRows().getByIndex(int(r) - 1).Height for r in rows},
        }

    def op_undo(self, doc):
        self.docs[doc].getUndoManager().undo()
        return {}

    def op_close(self, doc):
        d = self.docs.pop(doc)
        d.setModified(False)
        d.close(True)
        return {}

    def op_quit(self):
        try:
            self.desktop.terminate()
        except Exception:  # the bridge goes down with the office
            pass
        return {}


def main():
    driver = Driver(sys.argv[1])
    out = sys.stdout
    out.write(json.dumps({"ok": True, "ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            result = getattr(driver, "op_" + op)(**cmd)
            reply = {"ok": True, "result": result}
        except Exception as exc:  # report to the test
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        out.write(json.dumps(reply, ensure_ascii=False) + "\n")
        out.flush()
        if op == "quit":
            break


if __name__ == "__main__":
    main()

"""Draw one sheet specification (budgetlib's ``SheetSpec`` as JSON) on an empty Calc sheet.

What the openpyxl renderer draws, with UNO calls:

* values in one ``setDataArray`` call per sheet. Strings are stored as **text** exactly as given —
  ``"303"``, ``"1/2"``, ``"=HYPERLINK(…)"`` stay text (Calc's data array does not interpret them);
* formulas only for ``{"f": "=…"}`` cells, parsed with Excel's (OOXML) grammar, the one budgetlib
  writes for every spreadsheet, then set as tokens;
* number formats (Excel codes, shown in the system locale: ``22.500.000.000`` on a Vietnamese
  system), column widths, bold and title rows, header fill, wrapping, notes, table ranges with
  filters, dropdowns, a bar chart, tab colour.

The cosmetic parts (notes, dropdowns, the chart, tab colour) are best effort: a failure there is
logged, not fatal. Values, formulas, formats and the result marker are not cosmetic.
"""

from __future__ import annotations

import datetime
import re
import traceback

import uno

from . import runlog

_TITLE_COLOR = 0x1F4E78
_HEADER_FILL = 0xDDEBF7
_BOLD = 150.0  # com.sun.star.awt.FontWeight.BOLD
_CELL = re.compile(r"^\$?([A-Z]+)\$?(\d+)$")
_RANGE = re.compile(r"^\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?$")
_SOURCE = re.compile(r"^=?(?:'((?:[^']|'')+)'|([^'!]+))!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)$")
_EPOCH = datetime.date(1899, 12, 30)


def column_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def cell_position(ref):
    """``"D7"`` → ``(column, row)``, 0-based."""
    m = _CELL.match(ref)
    if not m:
        raise ValueError(f"not a cell: {ref!r}")
    return column_index(m.group(1)) - 1, int(m.group(2)) - 1


def range_position(ref):
    """``"A3:F40"`` → ``(col1, row1, col2, row2)``, 0-based."""
    m = _RANGE.match(ref)
    if not m:
        raise ValueError(f"not a range: {ref!r}")
    c1, r1 = column_index(m.group(1)) - 1, int(m.group(2)) - 1
    if m.group(3):
        return c1, r1, column_index(m.group(3)) - 1, int(m.group(4)) - 1
    return c1, r1, c1, r1


def width_100mm(chars):
    """An Excel column width (characters of the default font) in 1/100 mm."""
    pixels = int(chars * 7 + 5)
    return round(pixels * 2540 / 96.0)


def calc_list_source(source):
    """``='Cơ quan'!$A$4:$A$300`` (Excel) → ``$'Cơ quan'.$A$4:$A$300`` (Calc)."""
    m = _SOURCE.match(source.strip())
    if m is None:
        raise ValueError(f"unsupported list source {source!r}")
    name = (m.group(1) or "").replace("''", "'") or m.group(2)
    parts = m.group(3).split(":")
    quoted = "$'" + name.replace("'", "''") + "'"
    return ":".join(quoted + "." + p for p in parts[:1]) + "".join(":" + p for p in parts[1:])


def data_value(value):
    """A JSON cell as ``setDataArray`` takes it (``""`` is an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "f" in value:
            return ""  # set afterwards as a formula
        if "date" in value:
            d = datetime.date.fromisoformat(value["date"])
            return float((d - _EPOCH).days)
        if "datetime" in value:
            t = datetime.datetime.fromisoformat(value["datetime"])
            base = datetime.datetime(1899, 12, 30, tzinfo=t.tzinfo)
            return (t - base).total_seconds() / 86400.0
    raise ValueError(f"unknown cell {value!r}")


class Drawer:
    """Draws sheets into one document (keeps its number formats and formula parser)."""

    def __init__(self, doc):
        self.doc = doc
        self._formats = {}
        self._parser = None

    # --- helpers ---------------------------------------------------------------------------
    def format_key(self, code):
        """The document's number format for an Excel format code, in the system locale."""
        if code in self._formats:
            return self._formats[code]
        from com.sun.star.lang import Locale

        formats = self.doc.getNumberFormats()
        english, system = Locale("en", "US", ""), Locale()
        try:
            key = formats.addNewConverted(code, english, system)
        except Exception:  # already there (or not convertible): look it up in English
            key = formats.queryKey(code, english, False)
            if key == -1:
                key = formats.addNew(code, english)
        self._formats[code] = key
        return key

    def standard_format(self, kind):
        from com.sun.star.lang import Locale

        return self.doc.getNumberFormats().getStandardFormat(kind, Locale())

    def parser(self):
        if self._parser is None:
            from com.sun.star.sheet.AddressConvention import XL_OOX
            from com.sun.star.sheet.FormulaLanguage import OOXML
            from com.sun.star.sheet.FormulaMapGroup import ALL_EXCEPT_SPECIAL

            parser = self.doc.createInstance("com.sun.star.sheet.FormulaParser")
            mapper = self.doc.createInstance("com.sun.star.sheet.FormulaOpCodeMapper")
            opcodes = mapper.getAvailableMappings(OOXML, ALL_EXCEPT_SPECIAL)
            parser.setPropertyValue("FormulaConvention", XL_OOX)
            uno.invoke(parser, "setPropertyValue", ("OpCodeMap", uno.Any("[]com.sun.star.sheet.FormulaOpCodeMapEntry", opcodes)))
            self._parser = parser
        return self._parser

    def set_formula(self, sheet, col, row, formula):
        from com.sun.star.table import CellAddress

        index = sheet.getRangeAddress().Sheet
        tokens = self.parser().parseFormula(formula[1:] if formula.startswith("=") else formula, CellAddress(index, col, row))
        sheet.getCellByPosition(col, row).setTokens(tokens)

    def _best_effort(self, what, name, fn, *args):
        try:
            fn(*args)
        except Exception as exc:  # cosmetic
            runlog.warning(f"could not draw {what} on {name}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")

    # --- one sheet -------------------------------------------------------------------------
    def draw(self, sheet, spec):
        rows = spec.get("rows") or []
        n_rows = len(rows)
        n_cols = max([len(r) for r in rows] + [0])
        formulas = []
        dates = []
        booleans = []
        if n_rows and n_cols:
            block = []
            for r, row in enumerate(rows):
                out = []
                for c in range(n_cols):
                    v = row[c] if c < len(row) else None
                    if isinstance(v, dict):
                        if "f" in v:
                            formulas.append((c, r, str(v["f"])))
                        elif "date" in v or "datetime" in v:
                            dates.append((c, r, "datetime" in v))
                    elif isinstance(v, bool):
                        booleans.append((c, r))
                    out.append(data_value(v))
                block.append(tuple(out))
            sheet.getCellRangeByPosition(0, 0, n_cols - 1, n_rows - 1).setDataArray(tuple(block))
            for c, r, f in formulas:
                self.set_formula(sheet, c, r, f)
        last = max(n_rows, int(spec.get("format_from_row") or 1))
        first = int(spec.get("format_from_row") or 1)
        for col, code in sorted(spec.get("column_formats", {}).items(), key=lambda kv: int(kv[0])):
            c = int(col)
            sheet.getCellRangeByPosition(c, first - 1, c, last - 1).NumberFormat = self.format_key(code)
        for ref, code in sorted(spec.get("cell_formats", {}).items()):
            c, r = cell_position(ref)
            sheet.getCellByPosition(c, r).NumberFormat = self.format_key(code)
        if dates or booleans:
            from com.sun.star.util.NumberFormat import DATE, DATETIME, LOGICAL

            for c, r, with_time in dates:
                sheet.getCellByPosition(c, r).NumberFormat = self.standard_format(DATETIME if with_time else DATE)
            for c, r in booleans:
                sheet.getCellByPosition(c, r).NumberFormat = self.standard_format(LOGICAL)
        if n_cols:
            header_rows = set()
            for t in spec.get("tables", []):
                header_rows.add(range_position(t["ref"])[1])
            title_rows = set(int(r) - 1 for r in spec.get("title_rows", []))
            for r in sorted(set(int(x) - 1 for x in spec.get("bold_rows", [])) | header_rows):
                if 0 <= r < n_rows and r not in title_rows:
                    sheet.getCellRangeByPosition(0, r, n_cols - 1, r).CharWeight = _BOLD
            for r in sorted(header_rows):
                if 0 <= r < n_rows:
                    t_cols = [range_position(t["ref"]) for t in spec.get("tables", []) if range_position(t["ref"])[1] == r]
                    for c1, _r1, c2, _r2 in t_cols:
                        sheet.getCellRangeByPosition(c1, r, c2, r).CellBackColor = _HEADER_FILL
            for r in sorted(title_rows):
                if 0 <= r < n_rows:
                    rng = sheet.getCellRangeByPosition(0, r, n_cols - 1, r)
                    rng.CharWeight = _BOLD
                    rng.CharHeight = 13.0
                    rng.CharColor = _TITLE_COLOR
            if n_rows:
                for c in sorted(int(x) for x in spec.get("wrap_cols", [])):
                    rng = sheet.getCellRangeByPosition(c, 0, c, n_rows - 1)
                    rng.IsTextWrapped = True
                    rng.VertJustify = 1  # com.sun.star.table.CellVertJustify.TOP
                    for r in sorted(title_rows):
                        if r < n_rows:
                            sheet.getCellByPosition(c, r).IsTextWrapped = False
        columns = sheet.getColumns()
        for col, width in sorted(spec.get("column_widths", {}).items(), key=lambda kv: int(kv[0])):
            columns.getByIndex(int(col)).Width = width_100mm(float(width))
        for ref, text in sorted(spec.get("comments", {}).items()):
            if text:
                self._best_effort("a note", spec["name"], self._note, sheet, ref, text)
        for v in spec.get("validations", []):
            self._best_effort("a dropdown", spec["name"], self._validation, sheet, v)
        if spec.get("chart"):
            self._best_effort("the chart", spec["name"], self._chart, sheet, spec["chart"])
        if spec.get("tab_color"):
            self._best_effort("the tab colour", spec["name"], self._tab_color, sheet, spec["tab_color"])

    def add_tables(self, sheet, spec):
        """Named ranges with filter buttons for the spec's tables (Calc's equivalent of Excel tables)."""
        from com.sun.star.table import CellRangeAddress

        ranges = self.doc.DatabaseRanges
        index = sheet.getRangeAddress().Sheet
        for t in spec.get("tables", []):
            c1, r1, c2, r2 = range_position(t["ref"])
            name, n = t["name"], 1
            while ranges.hasByName(name):  # names are document-wide; another sheet's table keeps its own
                n += 1
                name = f"{t['name']}_{n}"
            ranges.addNewByName(name, CellRangeAddress(index, c1, r1, c2, r2))
            db = ranges.getByName(name)
            db.AutoFilter = True
            db.ContainsHeader = True

    def _note(self, sheet, ref, text):
        from com.sun.star.table import CellAddress

        c, r = cell_position(ref)
        sheet.getAnnotations().insertNew(CellAddress(sheet.getRangeAddress().Sheet, c, r), text)

    def _validation(self, sheet, v):
        from com.sun.star.sheet.ValidationAlertStyle import STOP
        from com.sun.star.sheet.ValidationType import LIST

        rng = sheet.getCellRangeByName(v["ref"])
        val = rng.Validation
        val.Type = LIST
        val.ShowList = 1  # com.sun.star.sheet.TableValidationVisibility.UNSORTED
        val.IgnoreBlankCells = bool(v.get("allow_blank", True))
        if v.get("source"):
            val.setFormula1(calc_list_source(v["source"]))
        else:
            val.setFormula1(";".join('"{}"'.format(x.replace('"', "")) for x in v.get("values", [])))
        val.ShowErrorMessage = True
        val.ErrorAlertStyle = STOP
        val.ErrorTitle = "budgetlib"
        if v.get("error"):
            val.ErrorMessage = v["error"]
        if v.get("prompt"):
            val.ShowInputMessage = True
            val.InputMessage = v["prompt"]
        rng.Validation = val

    def _chart(self, sheet, ch):
        from com.sun.star.awt import Rectangle
        from com.sun.star.table import CellRangeAddress

        index = sheet.getRangeAddress().Sheet
        header, last = int(ch["header_row"]) - 1, int(ch["last_row"]) - 1
        cols = [int(ch["category_col"])] + [int(c) for c in ch["value_cols"]]
        ranges = tuple(CellRangeAddress(index, c - 1, header, c - 1, last) for c in cols)
        c, r = cell_position(ch["anchor"])
        pos = sheet.getCellByPosition(c, r).Position
        rect = Rectangle(pos.X, pos.Y, int(float(ch.get("width_cm", 18.0)) * 1000), int(float(ch.get("height_cm", 12.0)) * 1000))
        charts = sheet.getCharts()
        before = set(charts.getElementNames())
        # Chart (OLE object) names are unique in the whole document, and the sheet being replaced
        # still holds its chart: an empty name lets Calc choose a free one.
        charts.addNewByName("", rect, ranges, True, True)
        name = next(n for n in charts.getElementNames() if n not in before)
        chart = charts.getByName(name).getEmbeddedObject()
        diagram = chart.createInstance("com.sun.star.chart.BarDiagram")
        chart.setDiagram(diagram)
        diagram.Vertical = bool(ch.get("horizontal", True))  # Calc: "vertical" bar charts grow sideways
        if ch.get("title"):
            chart.HasMainTitle = True
            chart.getTitle().String = ch["title"]
        if ch.get("x_title"):
            diagram.HasXAxisTitle = True
            diagram.XAxisTitle.String = ch["x_title"]
        if ch.get("y_title"):
            diagram.HasYAxisTitle = True
            diagram.YAxisTitle.String = ch["y_title"]

    def _tab_color(self, sheet, rgb):
        sheet.TabColor = int(rgb.lstrip("#")[-6:], 16)

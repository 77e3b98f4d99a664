"""Draw one sheet specification (budgetlib's ``SheetSpec`` as JSON) on an empty Calc sheet.

What the openpyxl renderer draws, with UNO calls:

* values in one ``setDataArray`` call per sheet. Strings are stored as **text** exactly as given —
  ``"303"``, ``"1/2"``, ``"=HYPERLINK(…)"`` stay text (Calc's data array does not interpret them);
* formulas only for ``{"f": "=…"}`` cells, parsed with Excel's (OOXML) grammar, the one budgetlib
  writes for every spreadsheet, then set as tokens;
* number formats (Excel codes, shown in the system locale: ``22.500.000.000`` on a Vietnamese
  system), column widths, bold and title rows, header fill, wrapping, notes, table ranges with
  filters, dropdowns, a bar chart, tab colour;
* the print layout: the sheet's font, merged cells, cell styles (bold, italic, underline, size,
  font, alignment, wrapping, thin borders, fill), bordered ranges, row heights, and the page setup
  as a page style of the sheet's own (paper, orientation, fit to pages, margins, centring, repeated
  rows, print area, page breaks, header and footer with page number, page count and sheet name).

Column widths are set before wrapping, so Calc grows each wrapped row to its text at the final
width (a row with a height of its own keeps that height). The cosmetic parts (notes, dropdowns, the
chart, tab colour, the print layout) are best effort: a failure there is logged, not fatal. Values,
formulas, formats and the result marker are not cosmetic.
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


def points_100mm(points):
    """A height in points (Excel's row heights) in 1/100 mm."""
    return round(float(points) * 2540 / 72.0)


def header_parts(text):
    """Excel header codes as parts: ``"Trang &P/&N"`` → ``[("text", "Trang "), ("field", "P"),
    ("text", "/"), ("field", "N")]``; the fields are the page number (``P``), the page count (``N``)
    and the sheet name (``A``); ``&&`` is a literal ``&``."""
    out = []
    buf = ""
    i = 0
    while i < len(text):
        if text[i] == "&" and i + 1 < len(text) and text[i + 1] in "PNA&":
            if text[i + 1] == "&":
                buf += "&"
            else:
                if buf:
                    out.append(("text", buf))
                    buf = ""
                out.append(("field", text[i + 1]))
            i += 2
        else:
            buf += text[i]
            i += 1
    if buf:
        out.append(("text", buf))
    return out


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
            columns = sheet.getColumns()
            for col, width in sorted(spec.get("column_widths", {}).items(), key=lambda kv: int(kv[0])):
                columns.getByIndex(int(col)).Width = width_100mm(float(width))
            if spec.get("font"):
                self._best_effort("the font", spec["name"], self._font, sheet, spec["font"], n_rows, n_cols)
            if n_rows:
                for c in sorted(int(x) for x in spec.get("wrap_cols", [])):
                    rng = sheet.getCellRangeByPosition(c, 0, c, n_rows - 1)
                    rng.IsTextWrapped = True
                    rng.VertJustify = 1  # com.sun.star.table.CellVertJustify.TOP
                    for r in sorted(title_rows):
                        if r < n_rows:
                            sheet.getCellByPosition(c, r).IsTextWrapped = False
        else:
            columns = sheet.getColumns()
            for col, width in sorted(spec.get("column_widths", {}).items(), key=lambda kv: int(kv[0])):
                columns.getByIndex(int(col)).Width = width_100mm(float(width))
        for ref in spec.get("merges", []):
            self._best_effort("merged cells", spec["name"], self._merge, sheet, ref)
        for ref, style in sorted(spec.get("styles", {}).items()):
            self._best_effort("a cell style", spec["name"], self._style, sheet, ref, style)
        for ref in spec.get("borders", []):
            self._best_effort("borders", spec["name"], self._borders, sheet, ref)
        rows_ = sheet.getRows()
        for r, height in sorted(spec.get("row_heights", {}).items(), key=lambda kv: int(kv[0])):
            if 1 <= int(r) <= n_rows:
                rows_.getByIndex(int(r) - 1).Height = points_100mm(float(height))
        if spec.get("page"):
            self._best_effort("the page setup", spec["name"], self._page, sheet, spec["name"], spec["page"])
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

    # --- print layout --------------------------------------------------------------------
    def _font(self, sheet, name, n_rows, n_cols):
        sheet.getCellRangeByPosition(0, 0, max(n_cols, 1) - 1, max(n_rows, 1) - 1).CharFontName = name

    def _merge(self, sheet, ref):
        sheet.getCellRangeByName(ref).merge(True)

    def _style(self, sheet, ref, st):
        cell = sheet.getCellRangeByName(ref)
        if st.get("bold"):
            cell.CharWeight = _BOLD
        if st.get("italic"):
            cell.CharPosture = uno.Enum("com.sun.star.awt.FontSlant", "ITALIC")
        if st.get("underline"):
            cell.CharUnderline = 1  # com.sun.star.awt.FontUnderline.SINGLE
        if st.get("size"):
            cell.CharHeight = float(st["size"])
        if st.get("font"):
            cell.CharFontName = st["font"]
        if st.get("align") in ("left", "center", "right"):
            cell.HoriJustify = uno.Enum("com.sun.star.table.CellHoriJustify", st["align"].upper())
        if st.get("valign") in ("top", "center", "bottom"):
            cell.VertJustify = {"top": 1, "center": 2, "bottom": 3}[st["valign"]]  # CellVertJustify2
        if st.get("wrap"):
            cell.IsTextWrapped = True
        if st.get("fill"):
            cell.CellBackColor = int(str(st["fill"]).lstrip("#")[-6:], 16)
        if st.get("border"):
            self._borders(sheet, ref)

    def _borders(self, sheet, ref):
        from com.sun.star.table import BorderLine2, TableBorder2

        line = BorderLine2()
        line.LineStyle = 0  # com.sun.star.table.BorderLineStyle.SOLID
        line.LineWidth = 26  # 1/100 mm: Calc's "thin"
        line.OuterLineWidth = 26
        border = TableBorder2()
        for side in ("TopLine", "BottomLine", "LeftLine", "RightLine", "HorizontalLine", "VerticalLine"):
            setattr(border, side, line)
            setattr(border, "Is" + side + "Valid", True)
        sheet.getCellRangeByName(ref).TableBorder2 = border

    def _page_style(self, sheet_name):
        """A page style of the sheet's own (page styles are document-wide: a name in use by another
        sheet — e.g. the one this sheet replaces — is not taken)."""
        styles = self.doc.getStyleFamilies().getByName("PageStyles")
        base, n = "budgetlib " + sheet_name, 1
        name = base
        while styles.hasByName(name) and styles.getByName(name).isInUse():
            n += 1
            name = f"{base} ({n})"
        if not styles.hasByName(name):
            styles.insertByName(name, self.doc.createInstance("com.sun.star.style.PageStyle"))
        return name, styles.getByName(name)

    def _header_text(self, text_obj, text):
        text_obj.setString("")
        cursor = text_obj.createTextCursor()
        fields = {"P": "PageNumber", "N": "PageCount", "A": "SheetName"}
        for kind, value in header_parts(text):
            if kind == "field":
                field = self.doc.createInstance("com.sun.star.text.TextField." + fields[value])
                text_obj.insertTextContent(cursor, field, False)
            else:
                text_obj.insertString(cursor, value, False)

    def _header_footer(self, style, which, texts):
        if not any(texts):
            setattr(style, which + "IsOn", False)
            return
        setattr(style, which + "IsOn", True)
        for page in ("RightPage", "LeftPage"):
            content = getattr(style, page + which + "Content")
            for part, text in zip((content.LeftText, content.CenterText, content.RightText), texts):
                self._header_text(part, text)
            setattr(style, page + which + "Content", content)

    def _page(self, sheet, sheet_name, page):
        from com.sun.star.table import CellRangeAddress

        name, style = self._page_style(sheet_name)
        landscape = page.get("orientation") == "landscape"
        width, height = (21000, 29700) if str(page.get("paper", "A4")).upper() == "A4" else (21590, 27940)  # A4, else Letter
        # Height before width, then the flag: Calc swaps the sides when the flag and the sides disagree.
        style.Height = width if landscape else height
        style.Width = height if landscape else width
        style.IsLandscape = landscape
        top, right, bottom, left = (round(float(m) * 1000) for m in page.get("margins_cm", (2.0, 1.5, 1.5, 1.5)))
        style.TopMargin, style.RightMargin, style.BottomMargin, style.LeftMargin = top, right, bottom, left
        style.CenterHorizontally = bool(page.get("center_horizontally", True))
        fit_w, fit_h = int(page.get("fit_width") or 0), int(page.get("fit_height") or 0)
        if fit_w or fit_h:
            style.ScaleToPagesX = fit_w
            style.ScaleToPagesY = fit_h
        self._header_footer(style, "Header", list(page.get("header") or ("", "", "")))
        self._header_footer(style, "Footer", list(page.get("footer") or ("", "", "")))
        sheet.PageStyle = name
        index = sheet.getRangeAddress().Sheet
        titles = page.get("title_rows")
        if titles:
            sheet.setTitleRows(CellRangeAddress(index, 0, int(titles[0]) - 1, 0, int(titles[1]) - 1))
            sheet.setPrintTitleRows(True)
        if page.get("area"):
            c1, r1, c2, r2 = range_position(page["area"])
            sheet.setPrintAreas((CellRangeAddress(index, c1, r1, c2, r2),))
        rows = sheet.getRows()
        for after in page.get("breaks") or ():
            rows.getByIndex(int(after)).IsStartOfNewPage = True

    def _tab_color(self, sheet, rgb):
        sheet.TabColor = int(rgb.lstrip("#")[-6:], 16)

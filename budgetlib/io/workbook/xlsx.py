"""``.xlsx`` files with openpyxl: draw :class:`SheetSpec` (reading lives in :mod:`.books`,
re-exported here).

* :func:`write_plan_workbook` — the planning template, filled with a plan (``budgetlib template``);
* :func:`read_workbook` — a plan from a workbook, :class:`~budgetlib.PlanInvalid` with every
  located problem (cached values of formulas are read; a file saved without them is reported);
* :func:`write_result_workbook` — input sheets kept as they are, result sheets replaced, written
  atomically (temporary file + rename) so an open or read-only workbook loses nothing.

New files are written in openpyxl's write-only mode (streaming, low memory); large inputs are
read in read-only mode. python-calamine gives a second, independent reader (:class:`CalamineBook`).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ...model.plan import Plan
from ..reproducible import make_reproducible
from ..atomic import OutputLocked, atomic_path
from ..grid import Formula, SheetSpec, column_index, column_letter
from .plan_sheets import plan_sheets
from .books import LARGE_FILE_BYTES, CalamineBook, OpenpyxlBook, _unescape, open_book, read_workbook
from .results import is_result_sheet

__all__ = [
    "OpenpyxlBook",
    "CalamineBook",
    "open_book",
    "render_sheet",
    "write_sheets",
    "write_plan_workbook",
    "read_workbook",
    "write_result_workbook",
    "LARGE_FILE_BYTES",
]

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13, color="1F4E78")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


# ---------------------------------------------------------------------------------------------
# Writing


FAST_ROWS = 2_000
"""Sheets with more rows than this have their rows beyond the first ones written straight to the
sheet XML (see :func:`_write_tail`): openpyxl's per-cell serialisation is ~40 000 cells/s, which
would make a national result workbook (~4 million cells) take minutes."""


FAST_HEAD = 50


def _attrs(spec: SheetSpec, r: int, c: int, v: Any, header_rows: set[int], as_text: bool) -> tuple | None:
    """Style of one cell as a hashable key, or None for a plain cell."""
    ref = None
    fmt = None
    if spec.cell_formats:
        ref = f"{column_letter(c)}{r}"
        fmt = spec.cell_formats.get(ref)
    if fmt is None and r >= spec.format_from_row:
        fmt = spec.column_formats.get(c - 1)
    if isinstance(v, str) and not isinstance(v, Formula):  # text takes no number format; a formula keeps its own
        fmt = None
    title = r in spec.title_rows
    header = r in header_rows
    bold = (r in spec.bold_rows or header) and not title
    wrap = (c - 1) in spec.wrap_cols and not title
    literal = as_text and isinstance(v, str) and v.startswith("=")
    comment = spec.comments.get(ref or f"{column_letter(c)}{r}") if spec.comments else None
    if not (fmt or title or bold or header or wrap or literal or comment):
        return None
    return (fmt, title, bold, header, wrap, literal, comment)


def _styled(ws: Any, v: Any, key: tuple) -> Any:
    fmt, title, bold, header, wrap, literal, comment = key
    cell = WriteOnlyCell(ws, value=v)
    if literal:  # user text that merely starts with "=" is not a formula
        cell.data_type = "s"
    if fmt:
        cell.number_format = fmt
    if title:
        cell.font = _TITLE
    elif bold:
        cell.font = _BOLD
    if header:
        cell.fill = _HEADER_FILL
    if wrap:
        cell.alignment = _WRAP
    if comment:
        note = Comment(comment, "budgetlib")
        note.width, note.height = 300, 120
        cell.comment = note
    return cell


def render_sheet(wb: Workbook, spec: SheetSpec, index: int | None = None) -> Any:
    """Draw one :class:`SheetSpec` into ``wb`` (normal or write-only workbook); return the sheet.

    Large sheets are drawn in two parts: the first rows through openpyxl, the rest as XML appended
    when the workbook is saved with :func:`_save` (values, formulas and styles are the same).
    """
    ws = wb.create_sheet(spec.name) if index is None else wb.create_sheet(spec.name, index)
    for c, w in spec.column_widths.items():
        ws.column_dimensions[column_letter(c + 1)].width = w
    if spec.freeze:
        ws.freeze_panes = spec.freeze
    if spec.tab_color:
        ws.sheet_properties.tabColor = spec.tab_color
    if spec.hidden:
        ws.sheet_state = "hidden"
    header_rows = {int(re.match(r"[A-Z]+(\d+)", t.ref).group(1)) for t in spec.tables}
    as_text = spec.kind == "input"
    head = len(spec.rows)
    if head > FAST_ROWS:
        comment_rows = [int(re.match(r"[A-Z]+(\d+)", ref).group(1)) for ref in spec.comments]
        head = min(head, max([FAST_HEAD, *comment_rows]))
    for r, row in enumerate(spec.rows[:head], start=1):
        cells: list[Any] = []
        for c, v in enumerate(row, start=1):
            key = _attrs(spec, r, c, v, header_rows, as_text)
            cells.append(v if key is None else _styled(ws, v, key))
        ws.append(cells)
    if head < len(spec.rows):
        _write_tail(wb, ws, spec, head + 1, header_rows, as_text)
    for t in spec.tables:
        table = Table(displayName=t.name, ref=t.ref)
        table.tableStyleInfo = TableStyleInfo(name=t.style, showRowStripes=t.striped, showColumnStripes=False)
        table._initialise_columns()
        hr = int(re.match(r"[A-Z]+(\d+)", t.ref).group(1))
        c1 = re.match(r"([A-Z]+)", t.ref).group(1)
        start = column_index(c1)
        headers = spec.rows[hr - 1] if hr - 1 < len(spec.rows) else []
        for i, col in enumerate(table.tableColumns):
            j = start - 1 + i
            name = headers[j] if j < len(headers) and headers[j] is not None else f"Column{i + 1}"
            table.tableColumns[i] = TableColumn(id=i + 1, name=str(name))
        with warnings.catch_warnings():  # write-only mode warns even when columns are set, as here
            warnings.simplefilter("ignore")
            ws.add_table(table)
    for v in spec.validations:
        dv = DataValidation(type="list", formula1=v.formula, allow_blank=v.allow_blank, showDropDown=False)
        dv.error = v.error or "Chọn một giá trị trong danh sách / choose a value from the list"
        dv.errorTitle = "budgetlib"
        dv.showErrorMessage = True
        if v.prompt:
            dv.prompt = v.prompt
            dv.showInputMessage = True
        dv.add(v.ref)
        ws.data_validations.append(dv)
    if spec.chart is not None:
        ch = spec.chart
        chart = BarChart()
        chart.type = "bar" if ch.horizontal else "col"
        chart.grouping = "clustered"
        chart.title = ch.title
        chart.y_axis.title = ch.y_title or None
        chart.x_axis.title = ch.x_title or None
        chart.width, chart.height = ch.width_cm, ch.height_cm
        for col in ch.value_cols:
            data = Reference(ws, min_col=col, min_row=ch.header_row, max_row=ch.last_row)
            chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=ch.category_col, min_row=ch.first_row, max_row=ch.last_row))
        ws.add_chart(chart, ch.anchor)
    return ws


def _xml_text(v: str) -> str:
    v = _INVALID_XML.sub("", v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return v


_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _write_tail(wb: Any, ws: Any, spec: SheetSpec, first: int, header_rows: set[int], as_text: bool) -> None:
    """Rows ``first..`` of ``spec`` as ``<row>`` XML in a temporary file, spliced in by :func:`_save`."""
    import tempfile

    styles: dict[tuple, int] = {}
    fh = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".xml", delete=False)
    width = 1
    with fh:
        buf: list[str] = []
        for r in range(first, len(spec.rows) + 1):
            row = spec.rows[r - 1]
            parts = [f'<row r="{r}">']
            for c, v in enumerate(row, start=1):
                key = _attrs(spec, r, c, v, header_rows, as_text)
                if key is not None and key[6]:
                    raise AssertionError("comments are only drawn in the first rows of a sheet")
                sid = 0
                if key is not None:
                    sid = styles.get(key)
                    if sid is None:
                        sid = styles[key] = _styled(ws, None, key).style_id
                s_attr = f' s="{sid}"' if sid else ""
                ref = f"{column_letter(c)}{r}"
                if v is None:
                    if sid:
                        parts.append(f'<c r="{ref}"{s_attr}/>')
                    continue
                width = max(width, c)
                if isinstance(v, bool):
                    parts.append(f'<c r="{ref}"{s_attr} t="b"><v>{int(v)}</v></c>')
                elif isinstance(v, (int, np.integer)):
                    parts.append(f'<c r="{ref}"{s_attr}><v>{int(v)}</v></c>')
                elif isinstance(v, (float, np.floating)):
                    parts.append(f'<c r="{ref}"{s_attr}><v>{float(v)!r}</v></c>')
                elif isinstance(v, str) and v.startswith("=") and not (key is not None and key[5]):
                    parts.append(f'<c r="{ref}"{s_attr}><f>{_xml_text(v[1:])}</f></c>')
                else:
                    parts.append(f'<c r="{ref}"{s_attr} t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(v))}</t></is></c>')
            parts.append("</row>")
            buf.append("".join(parts))
            if len(buf) >= 2000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    tails = wb.__dict__.setdefault("_budgetlib_tails", [])
    tails.append((spec.name, fh.name, len(spec.rows), max(width, max((len(r) for r in spec.rows[:50]), default=1))))


def _sheet_members(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → member path inside the package (``xl/worksheets/sheet3.xml``)."""
    wb_xml = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets: dict[str, str] = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rid = re.search(r'Id="([^"]+)"', rel)
        target = re.search(r'Target="([^"]+)"', rel)
        if rid and target:
            targets[rid.group(1)] = target.group(1)
    out = {}
    for tag in re.findall(r"<sheet\b[^>]*>", wb_xml):
        name = re.search(r'name="([^"]+)"', tag)
        rid = re.search(r'r:id="([^"]+)"', tag)
        if name and rid and rid.group(1) in targets:
            t = targets[rid.group(1)]
            out[_unescape(name.group(1))] = t.lstrip("/") if t.startswith("/") else f"xl/{t}"
    return out


def _splice(path: Path, tails: list[tuple[str, str, int, int]]) -> None:
    """Append the tail rows written by :func:`_write_tail` to their sheets inside the saved package."""
    out = path.with_name(path.name + ".splice")
    with zipfile.ZipFile(path) as zin:
        members = _sheet_members(zin)
        by_member = {members[name]: (tmp, last_row, last_col) for name, tmp, last_row, last_col in tails}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename not in by_member:
                    zout.writestr(item, data)
                    continue
                tmp, last_row, last_col = by_member[item.filename]
                xml = data.decode("utf-8").replace("<sheetData/>", "<sheetData></sheetData>")
                cut = xml.rindex("</sheetData>")
                head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{column_letter(last_col)}{last_row}"/>', xml[:cut], count=1)
                info = zipfile.ZipInfo(item.filename, date_time=item.date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(info, "w", force_zip64=True) as dst, open(tmp, "rb") as src:
                    dst.write(head.encode("utf-8"))
                    shutil.copyfileobj(src, dst, 1 << 20)
                    dst.write(xml[cut:].encode("utf-8"))
    os.replace(out, path)


def _formula_cache(wb: Any, source: Path) -> dict[str, dict[str, Any]]:
    """Cached values of the formulas on the kept (input) sheets of ``source``.

    openpyxl writes formulas without their last computed value; saved as is, the next read
    (``data_only``) would see empty cells. Put back into the package by :func:`_restore_cached`."""
    refs: dict[str, list[str]] = {}
    for ws in wb.worksheets:
        cells = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        if cells:
            refs[ws.title] = cells
    if not refs:
        return {}
    values = load_workbook(source, data_only=True, keep_vba=False)
    out: dict[str, dict[str, Any]] = {}
    for name, cells in refs.items():
        ws = values[name]
        out[name] = {ref: ws[ref].value for ref in cells if ws[ref].value is not None}
    return out


_FORMULA_CELL = re.compile(r'<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v\s*/>(?:</v>)?</c>|<c r="([A-Z]+[0-9]+)"([^>]*)><f>(.*?)</f><v></v></c>', re.S)


def _restore_cached(path: Path, cache: dict[str, dict[str, Any]]) -> None:
    def fill(values: dict[str, Any], xml: str) -> str:
        def one(m: re.Match) -> str:
            ref, attrs, formula = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
            v = values.get(ref)
            if v is None:
                return m.group(0)
            attrs = re.sub(r'\s+t="[^"]*"', "", attrs)
            if isinstance(v, bool):
                return f'<c r="{ref}"{attrs} t="b"><f>{formula}</f><v>{int(v)}</v></c>'
            if isinstance(v, (int, float)):
                return f'<c r="{ref}"{attrs}><f>{formula}</f><v>{v!r}</v></c>'
            return f'<c r="{ref}"{attrs} t="str"><f>{formula}</f><v>{_xml_text(str(v))}</v></c>'

        return _FORMULA_CELL.sub(one, xml)

    _rewrite_members(path, {name: (lambda xml, values=values: fill(values, xml)) for name, values in cache.items()})


def _rewrite_members(path: Path, edits: dict[str, Any]) -> None:
    """Apply ``edits[sheet name](xml) -> xml`` to sheets of a saved package (small sheets only)."""
    out = path.with_name(path.name + ".edit")
    with zipfile.ZipFile(path) as zin:
        members = {m: edits[name] for name, m in _sheet_members(zin).items() if name in edits}
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename in members:
                    data = members[item.filename](data.decode("utf-8")).encode("utf-8")
                zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    os.replace(out, path)


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; new files get the usual ones (temp files are 0600)."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _written_by_us(ws: Any) -> bool:
    """A ``Năm 2011`` sheet is replaced only if it carries our title (officers may keep their own)."""
    if not re.match(r"^(Năm|Year) \d{4}$", ws.title):
        return True
    title = ws["A1"].value
    return isinstance(title, str) and title.startswith(("Phân bổ năm", "Allocation "))


def _abandon(wb: Any) -> None:
    """After a failed save, close openpyxl's per-sheet writer generators now and quietly; otherwise the
    garbage collector closes them at exit and prints two "Exception ignored" tracebacks per sheet."""
    for ws in getattr(wb, "_sheets", []):
        for gen in (getattr(ws, "_rows", None), getattr(getattr(ws, "_writer", None), "xf", None)):
            if gen is not None:
                try:
                    gen.close()
                except Exception:  # the save already failed; its error is what the user sees
                    pass


def _save(wb: Workbook, path: Path, *, backup: bool = False) -> None:
    mode = _file_mode(path)
    tails = wb.__dict__.pop("_budgetlib_tails", [])
    cache = wb.__dict__.pop("_budgetlib_formula_cache", {})
    try:
        with atomic_path(path, backup=backup) as tmp:
            wb.save(tmp)
            if cache:
                _restore_cached(tmp, cache)
            if tails:
                _splice(tmp, tails)
            make_reproducible(tmp)
            os.chmod(tmp, mode)
    except PermissionError as exc:
        raise OutputLocked(path, str(exc)) from exc
    finally:
        for _, tmp_xml, _, _ in tails:
            Path(tmp_xml).unlink(missing_ok=True)


def write_sheets(specs: Sequence[SheetSpec], path: "str | Path") -> Path:
    """A new workbook with exactly these sheets (write-only mode), written atomically."""
    path = Path(path)
    wb = Workbook(write_only=True)
    try:
        for spec in specs:
            render_sheet(wb, spec)
        _save(wb, path)
    except BaseException:
        _abandon(wb)
        raise
    return path


def write_plan_workbook(plan: Plan, path: "str | Path", *, lang: str = "vi", extra: Iterable[SheetSpec] = ()) -> Path:
    """The planning template filled with ``plan`` (every field round-trips through :func:`read_workbook`)."""
    return write_sheets([*plan_sheets(plan, lang=lang), *extra], path)


def write_result_workbook(
    results: Sequence[SheetSpec],
    out: "str | Path",
    *,
    source: "str | Path | None" = None,
    plan: Plan | None = None,
    lang: str = "vi",
    in_place: bool = False,
) -> Path:
    """Write result sheets; input sheets are never changed.

    * ``source`` is a workbook: its sheets are kept as they are (formulas, tables, dropdowns), old
      result sheets removed, the new ones appended; written to ``out`` (a new file), or over
      ``source`` itself with ``in_place=True`` (a backup ``NAME.bak.xlsx`` is kept);
    * otherwise (a JSON plan): ``out`` gets the plan's input sheets followed by the results.

    Raises :class:`~budgetlib.io.atomic.OutputLocked` (with vi/en messages) when the target is open
    in Excel (``~$NAME.xlsx`` exists) or read-only; nothing is written then.
    """
    out = Path(out)
    if source is None:
        if plan is None:
            return write_sheets(results, out)
        return write_plan_workbook(plan, out, lang=lang, extra=results)
    source = Path(source)
    if in_place:
        out = source
    # Check before the (possibly long) load, so a locked file fails fast.
    from ..atomic import _check_writable

    _check_writable(out)
    keep_vba = source.suffix.lower() == ".xlsm"
    wb = load_workbook(source, keep_vba=keep_vba)
    for name in list(wb.sheetnames):
        if is_result_sheet(name) and _written_by_us(wb[name]):
            del wb[name]
    wb.__dict__["_budgetlib_formula_cache"] = _formula_cache(wb, source)
    try:
        for spec in results:
            render_sheet(wb, spec)
        _save(wb, out, backup=in_place)
    except BaseException:
        _abandon(wb)
        raise
    return out

"""Result sheets as :class:`~budgetlib.io.grid.SheetSpec`: what the CLI and the add-in both draw.

Totals are written as ``SUM`` :class:`~budgetlib.io.grid.Formula` cells over the amounts on the
same sheet so finance staff can audit them, and are checked against Python's totals by
recalculating with LibreOffice in the tests. Only the run log (``Nhật ký``) carries a timestamp;
every other cell depends on the inputs alone. No spreadsheet library is imported here.

Every sheet is print-ready: all labels come from the message catalogue
(``locales/<lang>/sheets.toml``), every amount, total and percentage has an explicit number
format in the language of the run (:func:`number_formats`), column widths follow the content,
long names wrap instead of being cut, and each sheet has an A4 page setup (orientation by width,
one page wide, header row repeated, header/footer with the plan code, the sheet title and
``Trang x/y``). The ``Phụ lục`` sheet is the official annex (:func:`annex_sheet`).

Number formats carry a language tag (``[$-42A]`` Vietnamese, ``[$-409]`` English): LibreOffice
then shows ``22.500.000.000`` / ``22,500,000,000`` whatever the computer's own locale; Excel
uses the tag for names of months and days and takes the separators from Windows' regional
settings (a Vietnamese Windows shows ``22.500.000.000``).
"""

from __future__ import annotations

import gc
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ...core.i18n import catalogue, tr
from ...core.lang import Lang, as_lang
from ...core.problems import Problem
from ...model.plan import Plan
from ...model.result import Allocation
from ..grid import (
    AMOUNT_FORMAT,
    DECIMAL_FORMAT,
    PERCENT_FORMAT,
    CellStyle,
    CellValue,
    ChartSpec,
    Formula,
    PageSetup,
    SheetSpec,
    TableSpec,
    cell_ref,
    column_index,
    column_letter,
    header_text,
    range_ref,
)
from .annex import AnnexTable, annex_tables

__all__ = [
    "RESULT_SHEETS",
    "EXCEL_MAX_ROWS",
    "NumberFormats",
    "number_formats",
    "print_ready",
    "is_result_sheet",
    "result_sheet_name",
    "year_sheet_name",
    "result_sheets",
    "allocation_sheet",
    "year_sheets",
    "summary_sheet",
    "attainment_sheet",
    "explanation_sheet",
    "annex_sheet",
    "error_sheets",
    "log_sheet",
    "comparison_sheet",
    "read_allocation_records",
    "label",
    "term_label",
    "issuer_lines",
]

EXCEL_MAX_ROWS = 1_048_576

_KEYS = ("allocation", "summary", "attainment", "explanation", "errors", "log", "comparison", "annex")
RESULT_SHEETS: dict[str, tuple[str, str]] = {k: (tr(f"sheets.name.{k}", Lang.VI), tr(f"sheets.name.{k}", Lang.EN)) for k in _KEYS}
"""Result sheet key → (Vietnamese name, English name)."""

_YEAR_SHEET = re.compile(r"^(" + "|".join(re.escape(tr("sheets.name.year", lg, year=0)[:-1]) for lg in Lang) + r")(\d{4})$")
_TITLE_COLOR = "C00000"
_ANNEX_FONT = "Times New Roman"  # Nghị định 30/2020/NĐ-CP, Phụ lục I: phông chữ Times New Roman

# Printable width of A4 in Excel's column-width units (≈ 0,19 cm each) inside the margins.
_PORTRAIT_WIDTH = 92.0
_LANDSCAPE_WIDTH = 138.0
_MAX_TEXT_WIDTH = 40.0
_FIT_SAMPLE = 5_000


def label(code: str, lang: str | Lang, /, **params: Any) -> str:
    """A result-sheet label from the catalogue (``label("common.total", "vi")`` → ``Tổng cộng``)."""
    return tr(f"sheets.{code}", lang, **params)


def term_label(group: str, value: Any, lang: str | Lang) -> str:
    """A kind, status or policy in words: the value's own ``label(lang)`` (enums of the model), the
    shared ``term.*`` entry if there is one, else ours."""
    own = getattr(value, "label", None)
    if callable(own):
        return str(own(lang))
    value = str(value)
    cat = catalogue(lang)
    for code in (f"term.{group}.{value}", f"sheets.{group}.{value}"):
        if code in cat:
            return tr(code, lang)
    return value


@dataclass(frozen=True)
class NumberFormats:
    """Excel number format codes for one language."""

    amount: str
    percent: str
    number: str
    year: str = "0"


def number_formats(lang: str | Lang) -> NumberFormats:
    """``[$-42A]#,##0`` and friends: amounts in whole đồng, percentages with one decimal, counts
    and prices as ``General`` (no stray decimal separator on whole numbers)."""
    tag = "[$-42A]" if as_lang(lang) is Lang.VI else "[$-409]"
    return NumberFormats(amount=f"{tag}#,##0", percent=f"{tag}0.0%", number=f"{tag}General")


def result_sheet_name(key: str, lang: str) -> str:
    return RESULT_SHEETS[key][0 if as_lang(lang) is Lang.VI else 1]


def year_sheet_name(year: int, lang: str) -> str:
    return label("name.year", lang, year=str(year))


def is_result_sheet(name: str) -> bool:
    """True for a sheet *name* budgetlib writes as a result (in either language). Whether a sheet
    in a workbook really is ours is decided by its mark (:data:`~budgetlib.io.grid.RESULT_MARKER_NAME`)."""
    return any(name in pair for pair in RESULT_SHEETS.values()) or bool(_YEAR_SHEET.match(name))


def _names(plan: Plan | None, allocation: Allocation, lang: str | Lang = Lang.VI) -> tuple[dict[str, str], dict[str, str]]:
    """Unit and task names; tasks by their English name in English when the plan gives one."""
    units = dict(allocation.unit_names)
    tasks = dict(allocation.task_names)
    if plan is not None:
        english = as_lang(lang) is Lang.EN
        units.update({u.code: u.name for u in plan.units if u.code not in units})
        tasks.update({t.code: (t.name_en if english and t.name_en else t.name) for t in plan.tasks})
    return units, tasks


def _text(obj: Any, field: str, lang: str | Lang) -> str:
    """A text an upstream model keeps per language (``note_vi``/``note_en``) or renders (``note(lang)``)."""
    lang = as_lang(lang)
    render = getattr(obj, field, None)
    if callable(render):
        return str(render(lang))
    return str(getattr(obj, f"{field}_{lang.value}", "") or "")


def _spec(name: str, title: str, subtitle: str = "") -> SheetSpec:
    return SheetSpec(name, [[title], [subtitle] if subtitle else []], title_rows={1}, tab_color=_TITLE_COLOR)


def _add(spec: SheetSpec, row: Sequence[CellValue], *, bold: bool = False) -> int:
    spec.rows.append(list(row))
    r = len(spec.rows)
    if bold:
        spec.bold_rows.add(r)
    return r


def _fmt_range(spec: SheetSpec, col: int, r1: int, r2: int, fmt: str) -> None:
    """Number format for rows r1..r2 (1-based) of 1-based column ``col``."""
    letter = column_letter(col)
    for r in range(r1, r2 + 1):
        spec.cell_formats[f"{letter}{r}"] = fmt


# ---------------------------------------------------------------------------------------------
# Print layout: widths from the content, wrapped names, page setup


def _shown_width(v: Any) -> float:
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 5.0
    if isinstance(v, (int, np.integer)):
        n = int(v)
        return len(f"{abs(n):,}") + (1 if n < 0 else 0) + 2.5
    if isinstance(v, (float, np.floating)):
        x = float(v)
        if not math.isfinite(x):
            return 4.0
        return len(f"{abs(x):,.2f}") + 2.5
    if isinstance(v, Formula):
        return 0.0  # sized from the numbers it adds up (see _fit)
    return float(len(str(v)))


def _header_width(text: str) -> float:
    """Width of a table header's text, which wraps between its words."""
    return max(min(float(len(text)), max((len(word) for word in text.split()), default=0) + 2.0, 16.0), 8.0)


def _content_widths(rows: Sequence[Sequence[Any]], headers: Sequence[bool]) -> tuple[dict[int, float], dict[int, float], set[int], int]:
    """What the cells of ``rows`` show, column by column (``headers[i]``: row ``i`` is a table
    header, whose text wraps between words): the width each column needs (in the order the columns
    are first met reading row by row), that of its numbers (for the columns holding numbers), the
    columns holding formulas, and the largest integer shown.

    Below its headers, a column of a large sheet is mostly all integers or all text: its width then
    comes from its extremes (an integer's width grows with its magnitude) or its longest text,
    without measuring cell by cell."""
    widths: dict[int, float] = {}
    numeric: dict[int, float] = {}
    found: list[tuple[int, int, float]] = []  # (first row showing a value, column, width)
    formulas: set[int] = set()  # the columns holding a formula
    largest = 0
    header_rows = [i for i, header in enumerate(headers) if header]
    columns: Iterator[tuple[Any, ...]] = itertools.zip_longest(*rows)  # short rows end in None
    for c, column in enumerate(columns):
        types = set(map(type, column))
        if any(issubclass(t, Formula) for t in types):
            formulas.add(c)
        first = next((i for i, v in enumerate(column) if v is not None and not isinstance(v, Formula)), None)
        if first is None:
            continue
        body = [v for i, v in enumerate(column) if not headers[i]] if header_rows else column
        shown = {t for t in set(map(type, body)) if t is not type(None) and not issubclass(t, Formula)}
        one_by_one: list[tuple[Any, bool]] = [(column[i], True) for i in header_rows]
        w = 0.0
        if shown == {int}:
            ints = [v for v in body if type(v) is int]
            low, high = min(ints), max(ints)
            w = numeric[c] = max(_shown_width(high), _shown_width(low))
            largest = max(largest, abs(low), abs(high))
        elif shown == {str}:
            w = float(max(len(v) for v in body if type(v) is str))
        else:
            one_by_one += [(v, False) for v in body]
        for v, header in one_by_one:
            if v is None or isinstance(v, Formula):
                continue
            vw = _header_width(v) if header and isinstance(v, str) else _shown_width(v)
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                numeric[c] = max(numeric.get(c, 0.0), vw)
                if isinstance(v, (int, np.integer)):
                    magnitude: Any = abs(v)
                    largest = max(largest, int(magnitude))
            w = max(w, vw)
        found.append((first, c, w))
    for _, c, w in sorted(found):
        widths[c] = w
    return widths, numeric, formulas, largest


def _fit(spec: SheetSpec, *, skip_rows: set[int], caps: dict[int, float] | None = None, header_rows: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Column widths from what the columns show; text wider than its cap wraps."""
    caps = caps or {}
    n = len(spec.rows)
    rows = range(1, n + 1)
    if n > _FIT_SAMPLE:  # national sheets: a spread sample plus the first and last rows
        step = n // _FIT_SAMPLE + 1
        rows = sorted({*range(1, 200), *range(1, n + 1, step), *range(max(1, n - 200), n + 1)})  # type: ignore[assignment]
    measured = [r for r in rows if r not in skip_rows]
    widths, numeric, formulas, largest = _content_widths([spec.rows[r - 1] for r in measured], [r in header_rows for r in measured])
    if formulas:  # a total is at most the largest figure times the number of figures on the sheet
        count = sum(1 for row in spec.rows[-3:] for v in row if v is not None) * max(n, 1)
        grand = largest * max(count, 1)
        for c in formulas:
            fmt = spec.column_formats.get(c, "") or next((f for ref, f in spec.cell_formats.items() if ref.startswith(column_letter(c + 1)) and ref[len(column_letter(c + 1)) :].isdigit()), "")
            need = 8.0 if "%" in fmt else len(f"{grand:,}") + 2.5
            widths[c] = max(widths.get(c, 0.0), need)
    if n > _FIT_SAMPLE:
        for c in numeric:
            widths[c] = widths[c] + 2.0
    for c, w in widths.items():
        cap = caps.get(c, _MAX_TEXT_WIDTH)
        if w > cap and c not in numeric and c not in formulas:
            spec.wrap_cols.add(c)
            w = cap
        spec.column_widths[c] = round(max(w + 1.0, 6.0), 1)
    _wrapped_heights(spec, skip_rows)


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(len(part) * 1.1 / max(width - 1.0, 1.0))) for part in text.split("\n"))


def _wrapped_heights(spec: SheetSpec, skip_rows: set[int]) -> None:
    """Rows whose wrapped names need more than one line get that height (spreadsheets do not
    always grow rows they open)."""
    if not spec.wrap_cols:
        return
    cols = sorted(spec.wrap_cols)
    for r, row in enumerate(spec.rows, start=1):
        if r in skip_rows or r in spec.row_heights:
            continue
        lines = 1
        for c in cols:
            if c < len(row) and type(row[c]) is str and len(row[c]) > spec.column_widths.get(c, 9.0) - 1:  # type: ignore[arg-type]
                lines = max(lines, _lines(row[c], spec.column_widths.get(c, 9.0)))  # type: ignore[arg-type]
        if lines > 1:
            spec.row_heights[r] = round(lines * 15.0, 1)


def _prose(spec: SheetSpec, rows: Sequence[int], last_col: int, *, bold: bool = False, italic: bool = False, align: str | None = None) -> None:
    """Rows holding one long text in column A: merged across the sheet, wrapped, tall enough."""
    total = sum(spec.column_widths.get(c, 9.0) for c in range(last_col)) or 60.0
    for r in rows:
        text = spec.rows[r - 1][0] if spec.rows[r - 1] else None
        if not isinstance(text, str) or not text or sum(v is not None for v in spec.rows[r - 1]) > 1:
            continue  # only one-cell rows are prose (others just run on to the right)
        if last_col > 1:
            spec.merges.append(f"A{r}:{column_letter(last_col)}{r}")
        lines = sum(max(1, math.ceil(len(part) * 1.08 / total)) for part in text.split("\n"))
        size = 13.0 if r in spec.title_rows else 11.0
        spec.row_heights[r] = round(max(1, lines) * size * 1.35, 1)
        spec.styles[f"A{r}"] = CellStyle(
            bold=bold or r in spec.title_rows or r in spec.bold_rows, italic=italic, wrap=True, valign="top", align=align,
            size=13.0 if r in spec.title_rows else None,
        )


def _header_wrap(spec: SheetSpec, row: int, *, border: bool = False, fill: str | None = "DDEBF7") -> None:
    lines = 1
    for c, v in enumerate(spec.rows[row - 1]):
        if v is not None:
            spec.styles[f"{column_letter(c + 1)}{row}"] = CellStyle(bold=True, wrap=True, align="center", valign="center", fill=fill, border=border)
            if isinstance(v, str):
                lines = max(lines, _lines(v, spec.column_widths.get(c, 9.0) * 0.92))
    spec.row_heights[row] = round(lines * 14.5 + 3, 1)


def _page(
    spec: SheetSpec,
    lang: str | Lang,
    *,
    plan_code: str,
    title: str,
    header_row: int | None,
    last_col: int,
    extra_rows: int = 0,
    breaks: tuple[int, ...] = (),
) -> None:
    width = sum(spec.column_widths.get(c, 9.0) for c in range(last_col))
    orientation = "portrait" if width <= _PORTRAIT_WIDTH else "landscape"
    last_row = max(len(spec.rows) + extra_rows, 1)
    spec.page = PageSetup(
        orientation=orientation,
        title_rows=(header_row, header_row) if header_row else None,
        area=f"A1:{column_letter(max(last_col, 1))}{last_row}",
        header=(header_text(plan_code), header_text(title), ""),
        footer=("", label("common.page", lang), ""),
        breaks=breaks,
    )


_CM_PER_CHAR = 0.2
"""Width of one unit of column width (a character of the default font), in centimetres."""
_CM_PER_ROW = 0.53
"""Height of a default row (15 points), in centimetres."""
_CHART_BELOW_MAX_ROWS = 80
"""A sheet up to this many rows prints its chart below the table (beyond, the table prints alone)."""


def print_ready(spec: SheetSpec, lang: str | Lang, *, plan_code: str = "") -> SheetSpec:
    """A result sheet built elsewhere (scenario comparison, budget curve, yearly cycle) made to print
    as this module's sheets do: amounts, percentages and decimals in the sheet's language whatever
    the spreadsheet program's locale (``[$-42A]#,##0``), and — unless it has one — a page setup:
    A4, orientation by width, one page wide, the header row repeated, plan code, title and
    "Trang x/y", and a print area that takes in its chart. Returns ``spec``, changed in place."""
    fmt = number_formats(lang)
    tag = fmt.amount[: fmt.amount.index("]") + 1]
    tagged = {AMOUNT_FORMAT: fmt.amount, PERCENT_FORMAT: fmt.percent, DECIMAL_FORMAT: f"{tag}{DECIMAL_FORMAT}"}
    spec.cell_formats = {ref: tagged.get(f, f) for ref, f in spec.cell_formats.items()}
    spec.column_formats = {col: tagged.get(f, f) for col, f in spec.column_formats.items()}
    if spec.chart is not None and spec.chart.value_format in tagged:
        spec.chart = replace(spec.chart, value_format=tagged[spec.chart.value_format])
    if spec.page is not None:
        return spec
    _wrapped_heights(spec, set(spec.title_rows))  # wrapped text needs its lines' height on paper
    table_cols = max((len(r) for r in spec.rows if r), default=1)
    last_col = max(table_cols, max(spec.column_widths, default=0) + 1)
    last_row = max(len(spec.rows), 1)
    if spec.chart is not None:  # the print area reaches over the chart
        m = re.match(r"([A-Z]+)(\d+)$", spec.chart.anchor)
        if m is not None and column_index(m.group(1)) > table_cols:
            if len(spec.rows) <= _CHART_BELOW_MAX_ROWS:
                # beside the table it would shrink the table to fit one page wide: below it instead
                spec.chart = replace(spec.chart, anchor=f"A{len(spec.rows) + 2}")
                m = re.match(r"([A-Z]+)(\d+)$", spec.chart.anchor)
            else:  # a long table prints alone; the chart stays on screen beside it
                m = None
        if m is not None:
            col, row = column_index(m.group(1)) - 1, int(m.group(2))
            covered = 0.0
            while covered < spec.chart.width_cm:
                covered += spec.column_widths.get(col, 9.0) * _CM_PER_CHAR
                col += 1
            last_col = max(last_col, col)
            last_row = max(last_row, row + math.ceil(spec.chart.height_cm / _CM_PER_ROW))
    # table headers: those of its Excel tables, else its first bold row of several cells
    heads = {int(re.match(r"[A-Z]+(\d+)", t.ref).group(1)) for t in spec.tables if re.match(r"[A-Z]+(\d+)", t.ref)}  # type: ignore[union-attr]
    if not heads:
        multi = [r for r in sorted(spec.bold_rows - spec.title_rows)
                 if r <= len(spec.rows) and sum(v is not None for v in spec.rows[r - 1]) >= 2]
        heads = set(multi[:1])
    for r in heads:
        if r <= len(spec.rows):
            _header_wrap(spec, r)
    header_row = min(heads, default=None)
    title = spec.rows[0][0] if spec.rows and spec.rows[0] and spec.rows[0][0] else spec.name
    _page(spec, lang, plan_code=plan_code, title=str(title), header_row=header_row, last_col=last_col,
          extra_rows=last_row - len(spec.rows))
    return spec


def _finish(
    spec: SheetSpec,
    lang: str | Lang,
    plan_code: str,
    *,
    header_row: int | None,
    prose_rows: Sequence[int] = (),
    caps: dict[int, float] | None = None,
    extra_rows: int = 0,
    breaks: tuple[int, ...] = (),
    header_rows: Sequence[int] = (),
) -> SheetSpec:
    """Widths, wrapped headers and names, merged prose rows and the page setup of a result sheet."""
    heads = {*header_rows, *((header_row,) if header_row else ())}
    skip = {*spec.title_rows, *prose_rows, 2}
    _fit(spec, skip_rows=skip, caps=caps, header_rows=heads)
    last_col = max(max(map(len, spec.rows), default=0), 1)  # the widest row (1 for a sheet of empty rows)
    last_col = max(last_col, max(spec.column_widths, default=0) + 1)
    for r in heads:
        _header_wrap(spec, r)
    title = spec.rows[0][0] if spec.rows and spec.rows[0] else spec.name
    _prose(spec, [r for r in (1, 2, *prose_rows) if r <= len(spec.rows)], last_col)
    _page(spec, lang, plan_code=plan_code, title=str(title or spec.name), header_row=header_row, last_col=last_col, extra_rows=extra_rows, breaks=breaks)
    return spec


# ---------------------------------------------------------------------------------------------
# Phân bổ: flat table


def allocation_sheet(plan: Plan | None, allocation: Allocation, *, lang: str = "vi") -> SheetSpec:
    """Flat table: unit code, unit name, task, year, source, amount (non-zero amounts, index order)."""
    units, _ = _names(plan, allocation)
    fmt = number_formats(lang)
    spec = _spec(
        result_sheet_name("allocation", lang),
        label("allocation.title", lang),
        label("allocation.subtitle", lang, policy=term_label("policy", allocation.policy, lang)),
    )
    header = [label(f"common.{k}", lang) for k in ("unit_code", "unit_name", "task_code", "year", "source_code", "amount")]
    hr = _add(spec, header, bold=True)
    a = allocation.amounts
    by_source = True
    if np.count_nonzero(a) > EXCEL_MAX_ROWS - hr - 1:
        # Too many rows for one sheet: one row per unit × task × year, all sources together.
        a = a.sum(axis=3, keepdims=True)
        by_source = False
    idx = np.argwhere(a != 0)
    all_sources = label("common.all_sources", lang)
    u_codes = np.asarray(allocation.units, dtype=object)
    u_names = np.asarray([units.get(u, "") for u in allocation.units], dtype=object)
    t_codes = np.asarray(allocation.tasks, dtype=object)
    s_codes = np.asarray(allocation.sources if by_source else (all_sources,), dtype=object)
    years = np.asarray([int(y) for y in allocation.years], dtype=object)
    values = a[idx[:, 0], idx[:, 1], idx[:, 2], idx[:, 3]].tolist()
    columns = (u_codes[idx[:, 0]].tolist(), u_names[idx[:, 0]].tolist(), t_codes[idx[:, 1]].tolist(), years[idx[:, 2]].tolist(), s_codes[idx[:, 3]].tolist(), values)
    spec.rows.extend(map(list, zip(*columns)))
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([])
    spec.tables.append(TableSpec("KQ_PhanBo", range_ref(hr, 1, last, 6)))
    spec.column_formats = {5: fmt.amount, 3: fmt.year}
    spec.format_from_row = hr + 1
    spec.freeze = f"A{hr + 1}"
    return _finish(spec, lang, allocation.plan_code, header_row=hr, caps={1: 34.0})


# ---------------------------------------------------------------------------------------------
# Năm …: units × tasks with SUM totals


def year_sheets(plan: Plan | None, allocation: Allocation, *, lang: str = "vi") -> list[SheetSpec]:
    """One sheet per year: units × tasks (all sources; task names in the header, codes in the
    notes), row and column totals as SUM formulas."""
    units, tasks = _names(plan, allocation, lang)
    fmt = number_formats(lang)
    per = allocation.amounts.sum(axis=3)  # [U, T, Y]
    nt, nu = len(allocation.tasks), len(allocation.units)
    total = label("common.total", lang)
    names = [units.get(u, "") for u in allocation.units]
    out = []
    for yi, year in enumerate(allocation.years):
        spec = _spec(year_sheet_name(int(year), lang), label("year.title", lang, year=str(year)), label("year.subtitle", lang))
        hr = _add(spec, [label("common.unit_code", lang), label("common.unit_name", lang), *(tasks.get(t, t) for t in allocation.tasks), total], bold=True)
        for c, t in enumerate(allocation.tasks):
            spec.comments[cell_ref(hr, c + 3)] = f"{t}: {tasks.get(t, t)}"
        first = hr + 1
        last_col = 2 + nt
        block = per[:, :, yi].tolist()
        sum_from, sum_to = column_letter(3), column_letter(last_col)  # each row's total: =SUM(C7:H7)
        for u in range(nu):
            r = first + u
            spec.rows.append([allocation.units[u], names[u], *block[u], Formula(f"=SUM({sum_from}{r}:{sum_to}{r})")])
        last = first + nu - 1
        _add(spec, [total, None, *(Formula(f"=SUM({range_ref(first, c, last, c)})") for c in range(3, last_col + 2))], bold=True)
        spec.column_formats = {c: fmt.amount for c in range(2, last_col + 1)}
        spec.format_from_row = first
        spec.freeze = f"C{first}"
        caps = {1: 30.0, **{c: 16.0 for c in range(2, last_col + 1)}}
        out.append(_finish(spec, lang, allocation.plan_code, header_row=hr, caps=caps))
    return out


# ---------------------------------------------------------------------------------------------
# Tổng hợp: by unit, task, year, with the proportional baseline and the difference


def summary_sheet(plan: Plan | None, allocation: Allocation, *, lang: str = "vi", chart_max_units: int = 120) -> SheetSpec:
    units, tasks = _names(plan, allocation, lang)
    fmt = number_formats(lang)
    spec = _spec(result_sheet_name("summary", lang), label("summary.title", lang), label("summary.subtitle", lang))
    amounts = allocation.amounts.sum(axis=3)  # [U, T, Y]
    total = label("common.total", lang)
    headers: list[int] = []
    section_titles: list[int] = []

    def section(title: str, code_label: str, keys: Sequence[Any], labels: dict[Any, str], alloc: np.ndarray, prop: np.ndarray) -> tuple[int, int, int]:
        _add(spec, [])
        r = _add(spec, [title], bold=True)
        section_titles.append(r)
        hr = _add(
            spec,
            [code_label, label("common.name", lang), *(label(f"summary.{k}", lang) for k in ("allocated", "proportional", "difference", "difference_pct"))],
            bold=True,
        )
        headers.append(hr)
        first = hr + 1
        for i, key in enumerate(keys):
            r = first + i
            spec.rows.append([key, labels.get(key, ""), int(alloc[i]), int(prop[i]), Formula(f"=C{r}-D{r}"), Formula(f'=IF(D{r}=0,"",E{r}/D{r})')])
        last = first + len(keys) - 1
        t = last + 1
        _add(spec, [total, None, Formula(f"=SUM(C{first}:C{last})"), Formula(f"=SUM(D{first}:D{last})"), Formula(f"=C{t}-D{t}"), Formula(f'=IF(D{t}=0,"",E{t}/D{t})')], bold=True)
        return hr, first, last

    years = {y: str(y) for y in allocation.years}
    hr, first, last = section(label("summary.by_unit", lang), label("summary.unit", lang), allocation.units, units, amounts.sum(axis=(1, 2)), allocation.baseline_by("unit"))
    section(label("summary.by_task", lang), label("summary.task", lang), allocation.tasks, tasks, amounts.sum(axis=(0, 2)), allocation.baseline_by("task"))
    section(label("summary.by_year", lang), label("common.year", lang), list(allocation.years), years, amounts.sum(axis=(0, 1)), allocation.baseline_by("year"))
    # Headers are text (formats do not apply to text), so the figure columns share one format.
    spec.column_formats = {2: fmt.amount, 3: fmt.amount, 4: fmt.amount, 5: fmt.percent}
    spec.format_from_row = headers[0]
    spec.freeze = "A3"
    _finish(spec, lang, allocation.plan_code, header_row=None, header_rows=headers, caps={1: 30.0})
    for r in section_titles:
        spec.title_rows.add(r)
    if len(allocation.units) <= chart_max_units:
        # Below the tables, on a page of its own (a manual break above it), one bar per unit with
        # every unit's name: horizontal bars, the first unit at the top.
        anchor_row = len(spec.rows) + 2
        height = max(8.0, 0.75 * len(allocation.units) + 4)
        width = min(sum(spec.column_widths.values()) * 0.19, 24.0)
        spec.chart = ChartSpec(
            label("summary.chart", lang),
            anchor=f"A{anchor_row}",
            category_col=2,
            value_cols=(3, 4),
            header_row=hr,
            first_row=first,
            last_row=last,
            y_title=label("common.dong", lang),
            value_format=fmt.amount,
            height_cm=height,
            width_cm=max(width, 16.0),
        )
        rows_for_chart = int(height / 0.53) + 2
        assert spec.page is not None
        _page(spec, lang, plan_code=allocation.plan_code, title=str(spec.rows[0][0]), header_row=None,
              last_col=6, extra_rows=rows_for_chart + 1, breaks=(anchor_row - 1,))
    return spec


# ---------------------------------------------------------------------------------------------
# Chỉ tiêu đạt


def attainment_sheet(allocation: Allocation, *, lang: str = "vi") -> SheetSpec:
    fmt = number_formats(lang)
    spec = _spec(result_sheet_name("attainment", lang), label("attainment.title", lang))
    hr = _add(
        spec,
        [label(f"attainment.{k}", lang) if k != "year" else label("common.year", lang) for k in ("target", "name", "year", "required", "funded", "shortfall", "met", "note")],
        bold=True,
    )
    for a in allocation.attainment:
        met = label("common.yes" if a.met else "common.no", lang)
        spec.rows.append([a.target, a.name, a.year, a.required, a.funded, a.shortfall, met, _text(a, "note", lang)])
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([label("attainment.none", lang)])
    spec.tables.append(TableSpec("KQ_ChiTieu", range_ref(hr, 1, last, 8)))
    spec.column_formats = {2: fmt.year, 3: fmt.number, 4: fmt.number, 5: fmt.number}
    spec.format_from_row = hr + 1
    spec.freeze = f"A{hr + 1}"
    return _finish(spec, lang, allocation.plan_code, header_row=hr, caps={1: 36.0, 7: 48.0})


# ---------------------------------------------------------------------------------------------
# Giải thích: Answer and Sensitivity reports (as Excel Solver), then plain-language lines


def _bounded(x: float | None, lang: str | Lang) -> CellValue:
    """Ranging limits: an unbounded side (HiGHS reports ±1e30, or ∞) is written in words."""
    if x is None:
        return None
    if not math.isfinite(x) or abs(x) >= 1e20:
        return label("common.unlimited", lang)
    return x


def explanation_sheet(allocation: Allocation, explanation: Sequence[str], *, lang: str = "vi") -> SheetSpec:
    fmt = number_formats(lang)
    spec = _spec(result_sheet_name("explanation", lang), label("explanation.title", lang))
    named = getattr(allocation, "objective_name", None)
    objective = (named(lang) if callable(named) else _text(allocation, "objective_label", lang)) or label("explanation.objective", lang)
    # Value first, then the long words (they run on into the empty cells to the right).
    r = _add(spec, [label("explanation.objective", lang), allocation.objective, objective])
    spec.cell_formats[f"B{r}"] = fmt.number
    _add(spec, [label("explanation.status", lang), term_label("status", allocation.status, lang), f"{allocation.solver} {allocation.solver_version}".strip()])
    prose: list[int] = [r, r + 1]
    headers: list[int] = []
    titles: list[int] = []

    _add(spec, [])
    titles.append(_add(spec, [label("explanation.answer", lang)], bold=True))
    hr = _add(spec, [label(f"explanation.{k}" if k != "year" else "common.year", lang) for k in ("constraint", "kind", "task", "unit", "year", "final", "bound", "state", "slack", "why")], bold=True)
    headers.append(hr)
    for c in allocation.constraints:
        state = label("status.binding" if c.binding else "status.not_binding", lang)
        spec.rows.append([c.name, term_label("kind", c.kind, lang), c.task, c.unit, c.year, c.value, c.bound, state, c.slack, _text(c, "explanation", lang)])
    last = len(spec.rows)
    for col in (6, 7, 9):
        _fmt_range(spec, col, hr + 1, last, fmt.amount)
    _fmt_range(spec, 5, hr + 1, last, fmt.year)

    _add(spec, [])
    titles.append(_add(spec, [label("explanation.sensitivity", lang)], bold=True))
    hr2 = _add(spec, [label(f"explanation.{k}", lang) for k in ("constraint", "final", "shadow", "rhs", "increase", "decrease")], bold=True)
    headers.append(hr2)
    for c in allocation.constraints:
        spec.rows.append([c.name, c.value, c.shadow_price, c.bound, _bounded(c.allowable_increase, lang), _bounded(c.allowable_decrease, lang)])
    last2 = len(spec.rows)
    for col in (2, 4, 5, 6):
        _fmt_range(spec, col, hr2 + 1, last2, fmt.amount)
    _fmt_range(spec, 3, hr2 + 1, last2, fmt.number)

    if allocation.diagnosis is not None:
        d = allocation.diagnosis
        _add(spec, [])
        titles.append(_add(spec, [label("explanation.diagnosis", lang)], bold=True))
        prose.append(_add(spec, [_text(d, "summary", lang)]))
        headers.append(_add(spec, [label(f"explanation.{k}", lang) for k in ("constraint", "kind", "message", "amounts")], bold=True))
        sep = "." if as_lang(lang) is Lang.VI else ","
        for conflict in d.conflicts:
            amounts = "; ".join(f"{k}: {v:,}".replace(",", sep) for k, v in conflict.amounts.items())
            spec.rows.append([conflict.name, term_label("kind", conflict.kind, lang), _text(conflict, "message", lang), amounts])

    _add(spec, [])
    titles.append(_add(spec, [label("explanation.plain", lang)], bold=True))
    for line in explanation:
        prose.append(_add(spec, [line]))
    _finish(spec, lang, allocation.plan_code, header_row=None, prose_rows=[*prose, *titles], header_rows=headers, caps={0: 30.0, 2: 20.0, 9: 48.0})
    return spec


# ---------------------------------------------------------------------------------------------
# Phụ lục: the official annex (Nghị định 30/2020/NĐ-CP layout)


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV")


def issuer_lines(authority: str) -> list[str]:
    """The issuing body in capitals, on two lines for a People's Committee (Nghị định 30)."""
    text = authority.strip()
    m = re.match(r"(?i)^(ủy ban nhân dân|uỷ ban nhân dân|ubnd)\s+(.+)$", text)
    if m:
        return ["ỦY BAN NHÂN DÂN", m.group(2).upper()]
    return [text.upper()] if text else []


def annex_sheet(plan: Plan | None, allocation: Allocation, *, lang: str = "vi", tables: Sequence[AnnexTable] | None = None) -> SheetSpec:
    """The ``Phụ lục`` sheet: issuing body, national title and motto, title, one unit × task table
    for the period and one per year in the plan's display unit (totals that add up), notes,
    place and date, and a signature block to fill in by hand."""
    lang_ = as_lang(lang)
    if tables is None:
        tables = annex_tables(plan, allocation, lang=lang_.value)
    from ...core.money import MoneyUnit

    unit = tables[0].unit if tables else 1
    try:
        unit_label = tr(f"money.unit.{MoneyUnit(unit).name.lower()}", lang_)
    except ValueError:
        unit_label = label("common.dong", lang_)
    program = plan.program if plan is not None else None
    nt = len(allocation.tasks)
    last_col = 3 + nt  # STT, name, tasks…, total
    # The motto block on the right needs ~40 character widths: it starts where enough columns remain.
    figure_width = max(
        11.0, max((len(f"{int(v):,}") for t in tables for v in (*t.shown.rows.tolist(), t.shown.total)), default=4) + 2.5
    )
    right = last_col
    while right > 3 and (last_col - right + 1) * figure_width < 40.0:
        right -= 1
    spec = SheetSpec(result_sheet_name("annex", lang_), [], font=_ANNEX_FONT, tab_color=_TITLE_COLOR)
    bold_c = CellStyle(bold=True, align="center", valign="center", wrap=True)

    def put(row: Sequence[CellValue], style: CellStyle | None = None, merge: tuple[int, int] | None = None, col: int = 1) -> int:
        spec.rows.append(list(row))
        r = len(spec.rows)
        if style is not None:
            spec.styles[f"{column_letter(col)}{r}"] = style
        if merge is not None and merge[1] > merge[0]:
            spec.merges.append(f"{column_letter(merge[0])}{r}:{column_letter(merge[1])}{r}")
        return r

    issuer = issuer_lines(program.authority if program is not None else "")
    motto = [label("annex.motto_country", lang_), label("annex.motto", lang_)]
    for i in range(max(len(issuer), 2)):
        left = issuer[i] if i < len(issuer) else None
        r = put([left, *([None] * (right - 2)), motto[i] if i < 2 else None], bold_c if left else None, (1, right - 1))
        if i < 2:
            spec.styles[f"{column_letter(right)}{r}"] = CellStyle(bold=True, align="center", underline=(i == 1))
            spec.merges.append(f"{column_letter(right)}{r}:{column_letter(last_col)}{r}")
    put([])
    full = (1, last_col)
    put([label("annex.label", lang_)], CellStyle(bold=True, align="center", size=13), full)
    put([label("annex.title", lang_)], CellStyle(bold=True, align="center", size=13, wrap=True), full)
    if program is not None:
        r = put([program.name], CellStyle(bold=True, align="center", wrap=True), full)
        spec.row_heights[r] = 32.0
        attached = label("annex.attached", lang_, document=program.document) if program.document else label("annex.attached_plain", lang_, code=program.code)
        r = put([attached], CellStyle(italic=True, align="center", wrap=True), full)
        spec.row_heights[r] = 32.0
    r = put([None] * (right - 1) + [label("annex.unit", lang_, unit=unit_label)], None, None)
    spec.styles[f"{column_letter(right)}{r}"] = CellStyle(italic=True, align="right")
    spec.merges.append(f"{column_letter(right)}{r}:{column_letter(last_col)}{r}")

    breaks: list[int] = []
    header_rows: list[int] = []
    for k, table in enumerate(tables):
        roman = _ROMAN[k] if k < len(_ROMAN) else str(k + 1)
        if table.year is None and program is not None:
            heading = label("annex.period", lang_, roman=roman, first=program.first_year, last=program.last_year)
        else:
            heading = label("annex.year", lang_, roman=roman, year=str(table.year))
        breaks.append(len(spec.rows))
        put([])
        put([heading], CellStyle(bold=True), (1, last_col))
        hr = put([label("annex.number", lang_), label("common.unit_name", lang_), *table.task_names, label("common.total", lang_)])
        header_rows.append(hr)
        shown = table.shown
        for i, name in enumerate(table.unit_names):
            r = put([i + 1, name or table.unit_codes[i], *shown.cells[i].tolist(), int(shown.rows[i])])
            spec.styles[f"A{r}"] = CellStyle(align="center", border=True)
            spec.styles[f"B{r}"] = CellStyle(wrap=True, border=True)
        r = put([None, label("common.total", lang_), *shown.cols.tolist(), shown.total])
        spec.merges.append(f"A{r}:A{r}")
        for c in range(1, last_col + 1):
            spec.styles[f"{column_letter(c)}{r}"] = CellStyle(bold=True, border=True, align="center" if c <= 2 else None)
        spec.borders.append(f"A{hr}:{column_letter(last_col)}{r}")

    # Notes, then place and date, recipients and the signature block.
    period = tables[0] if tables else None
    breaks.append(len(spec.rows))
    put([])
    put([label("annex.notes", lang_)], CellStyle(bold=True, italic=True))
    notes: list[str] = []
    if period is not None and any(t.shown.changed != 0 or (t.exact % t.unit).any() for t in tables):
        exact_total = int(period.exact.sum())
        notes.append(label("annex.note_rounding", lang_, unit=unit_label, shown=period.shown.total, exact=exact_total))
        changed = sum(max(t.shown.changed, 0) for t in tables)
        if changed:
            notes.append(label("annex.note_adjusted", lang_, n=changed))
    else:
        notes.append(label("annex.note_rounding_exact", lang_))
    code = program.code if program is not None else allocation.plan_code
    notes.append(label("annex.note_source", lang_, n=len(notes) + 1, policy=term_label("policy", allocation.policy, lang_), code=code))
    note_rows = [put([n]) for n in notes]
    put([])
    place = (program.locality or program.authority) if program is not None else ""
    place = re.sub(r"(?i)^(thành phố|tỉnh|huyện|quận|thị xã)\s+", "", place)
    r = put([label("annex.recipients", lang_)] + [None] * (right - 2) + [label("annex.place_date", lang_, place=place)], CellStyle(bold=True, italic=True))
    spec.styles[f"{column_letter(right)}{r}"] = CellStyle(italic=True, align="center")
    spec.merges.append(f"{column_letter(right)}{r}:{column_letter(last_col)}{r}")
    body = issuer[0] if issuer else ""
    signer = [label("annex.signer_role", lang_, body=body), label("annex.signer_title", lang_), label("annex.signer_note", lang_), None, None, None, "……………………………"]
    recipients = label("annex.recipients_list", lang_).split("\n")
    for i, line in enumerate(signer):
        left = recipients[i] if i < len(recipients) else None
        r = put([left] + [None] * (right - 2) + [line])
        if left:
            spec.styles[f"A{r}"] = CellStyle(italic=True, size=10)
        if line:
            spec.styles[f"{column_letter(right)}{r}"] = CellStyle(bold=i < 2, italic=i == 2, align="center")
        spec.merges.append(f"{column_letter(right)}{r}:{column_letter(last_col)}{r}")

    # Widths: STT narrow, names wrap at 24, figures as wide as their largest value.
    widths = {0: 5.0, 1: 24.0}
    for c in range(2, last_col):
        col_vals = [abs(int(v)) for t in tables for v in (*t.shown.cells[:, c - 2].tolist(), int(t.shown.cols[c - 2]))] if c - 2 < nt else []
        if c == last_col - 1:
            col_vals = [abs(int(v)) for t in tables for v in (*t.shown.rows.tolist(), t.shown.total)]
        widths[c] = max(11.0, max((len(f"{v:,}") for v in col_vals), default=4) + 2.5)
    spec.column_widths = widths
    spec.column_formats = {c: number_formats(lang_).amount for c in range(2, last_col)}
    spec.format_from_row = header_rows[0] if header_rows else 1
    total_width = sum(widths.values())
    for r in header_rows:
        _header_wrap(spec, r, border=True, fill=None)
    for r in note_rows:
        text = spec.rows[r - 1][0]
        spec.merges.append(f"A{r}:{column_letter(last_col)}{r}")
        spec.styles[f"A{r}"] = CellStyle(wrap=True, valign="top", size=11)
        spec.row_heights[r] = round(max(1, math.ceil(len(str(text)) * 1.1 / total_width)) * 15.5, 1)
    for r, row in enumerate(spec.rows, start=1):
        if row and isinstance(row[0], str) and len(row) == 1 and f"A{r}" in spec.styles and r not in spec.row_heights and spec.styles[f"A{r}"].wrap:
            spec.row_heights[r] = round(max(1, math.ceil(len(row[0]) * 1.2 / total_width)) * 18.0, 1)
    orientation = "portrait"  # a document annex is portrait (Nghị định 30); wide tables are scaled to the width
    spec.page = PageSetup(
        orientation=orientation,
        area=f"A1:{column_letter(last_col)}{len(spec.rows)}",
        header=("", "", ""),
        footer=("", label("common.page", lang_), ""),
        breaks=_paginate(spec, breaks[1:] if breaks else [], orientation, total_width),
        margins_cm=(2.0, 1.5, 2.0, 3.0),  # NĐ 30: top 2, bottom 2, left 3, right 1,5 cm
    )
    return spec


def _paginate(spec: SheetSpec, starts: Sequence[int], orientation: str, width: float) -> tuple[int, ...]:
    """Manual page breaks so that no block (a table with its heading, or the notes and signature)
    is split: a block that does not fit below the previous ones starts a new page. ``starts`` are
    the 0-based row indices where blocks begin; a break after row ``b`` starts block ``b``."""
    page_pt = ((29.7 if orientation == "portrait" else 21.0) - 4.5) * 28.35
    scale = min(1.0, (_PORTRAIT_WIDTH if orientation == "portrait" else _LANDSCAPE_WIDTH) / max(width, 1.0))
    usable = page_pt / scale
    heights = [spec.row_heights.get(r, 15.75) for r in range(1, len(spec.rows) + 1)]
    bounds = [*starts, len(spec.rows)]
    breaks: list[int] = []
    used = sum(heights[: bounds[0]])
    for start, end in itertools.pairwise(bounds):
        block = sum(heights[start:end])
        if used and used + block > usable:
            breaks.append(start)
            used = block
        else:
            used += block
    return tuple(breaks)


# ---------------------------------------------------------------------------------------------
# Lỗi, Nhật ký


def error_sheets(problems: Sequence[Problem], *, lang: str = "vi") -> list[SheetSpec]:
    """The ``Lỗi`` sheet: location, message, severity, code and the value found."""
    spec = _spec(result_sheet_name("errors", lang), label("errors.title", lang, n=len(problems)), label("errors.subtitle", lang))
    hr = _add(spec, [label(f"errors.{k}", lang) for k in ("location", "message", "severity", "code", "value")], bold=True)
    for p in problems:
        value = p.value if isinstance(p.value, (str, int, float, bool)) or p.value is None else repr(p.value)
        spec.rows.append([p.location, p.message(lang), tr(f"severity.{p.severity.value}", lang), p.code, value])
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([])
    spec.tables.append(TableSpec("KQ_Loi", range_ref(hr, 1, last, 5), style="TableStyleMedium3"))
    spec.freeze = f"A{hr + 1}"
    return [_finish(spec, lang, "", header_row=hr, caps={0: 26.0, 1: 70.0, 4: 24.0})]


def log_sheet(log: Sequence[tuple[str, str]], *, lang: str = "vi") -> SheetSpec:
    spec = _spec(result_sheet_name("log", lang), label("log.title", lang))
    hr = _add(spec, [label("log.item", lang), label("log.value", lang)], bold=True)
    for k, v in log:
        spec.rows.append([k, v])
    last = max(len(spec.rows), hr + 1)
    spec.tables.append(TableSpec("KQ_NhatKy", range_ref(hr, 1, last, 2), style="TableStyleLight9"))
    return _finish(spec, lang, "", header_row=hr, caps={0: 32.0, 1: 70.0})


# ---------------------------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while the large sheets' rows are built.

    A national result has ~700 000 rows, each a new list: every 700 of them start a collection,
    and the full collections among those walk the whole (growing) heap — about half the time of
    building the sheets (0,7 of 1,6 s). These rows hold no reference cycles, so pausing loses
    nothing; the collector runs as before afterwards (and stays off if it was off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def result_sheets(
    plan: Plan | None,
    allocation: Allocation,
    *,
    lang: str = "vi",
    log: Sequence[tuple[str, str]] | None = None,
    explanation: Sequence[str] = (),
) -> list[SheetSpec]:
    """Phân bổ, Năm …, Tổng hợp, Chỉ tiêu đạt, Phụ lục, Giải thích, Nhật ký (infeasible: Giải
    thích, Nhật ký)."""
    sheets: list[SheetSpec] = []
    if allocation.ok:
        with _collector_paused():
            sheets.append(allocation_sheet(plan, allocation, lang=lang))
            sheets.extend(year_sheets(plan, allocation, lang=lang))
            sheets.append(summary_sheet(plan, allocation, lang=lang))
        sheets.append(attainment_sheet(allocation, lang=lang))
        sheets.append(annex_sheet(plan, allocation, lang=lang))
    sheets.append(explanation_sheet(allocation, explanation, lang=lang))
    if log is not None:
        sheets.append(log_sheet(log, lang=lang))
    return sheets


def comparison_sheet(plan: Plan | None, allocations: Sequence[tuple[str, Allocation]], *, lang: str = "vi") -> SheetSpec:
    """Totals per unit under several policies side by side, and each one's difference from the first."""
    fmt = number_formats(lang)
    spec = _spec(result_sheet_name("comparison", lang), label("comparison.title", lang), label("comparison.subtitle", lang))
    if not allocations:
        return spec
    first_alloc = allocations[0][1]
    units, _ = _names(plan, first_alloc)
    names = [term_label("policy", n, lang) for n, _ in allocations]
    k = len(names)
    hr = _add(
        spec,
        [label("common.unit_code", lang), label("common.unit_name", lang), *names,
         *(label("comparison.difference", lang, policy=n, first=names[0]) for n in names[1:])],
        bold=True,
    )
    totals = []
    for _, a in allocations:
        index = {u: i for i, u in enumerate(a.units)}
        by_unit = a.amounts.sum(axis=(1, 2, 3)) if a.ok else np.zeros(len(a.units), dtype=np.int64)
        totals.append({u: int(by_unit[index[u]]) for u in a.units})
    first = hr + 1
    for i, u in enumerate(first_alloc.units):
        r = first + i
        spec.rows.append(
            [u, units.get(u, ""), *(t.get(u, 0) for t in totals), *(Formula(f"={column_letter(3 + j)}{r}-C{r}") for j in range(1, k))]
        )
    last = first + len(first_alloc.units) - 1
    _add(spec, [label("common.total", lang), None, *(Formula(f"=SUM({range_ref(first, c, last, c)})") for c in range(3, 3 + k + (k - 1)))], bold=True)
    spec.column_formats = {c: fmt.amount for c in range(2, 2 + k + (k - 1))}
    spec.format_from_row = first
    spec.freeze = f"C{first}"
    _finish(spec, lang, first_alloc.plan_code, header_row=hr, caps={1: 30.0, **{c: 18.0 for c in range(2, 2 + 2 * k)}})
    if len(first_alloc.units) <= 120:
        anchor_row = len(spec.rows) + 2
        height = max(8.0, 0.75 * len(first_alloc.units) + 4)
        spec.chart = ChartSpec(
            label("comparison.chart", lang),
            anchor=f"A{anchor_row}",
            category_col=2,
            value_cols=tuple(range(3, 3 + k)),
            header_row=hr,
            first_row=first,
            last_row=last,
            value_format=fmt.amount,
            height_cm=height,
            width_cm=max(16.0, min(sum(spec.column_widths.values()) * 0.19, 24.0)),
        )
        last_col = 2 + k + (k - 1)
        _page(spec, lang, plan_code=first_alloc.plan_code, title=str(spec.rows[0][0]), header_row=hr, last_col=last_col,
              extra_rows=int(height / 0.53) + 3, breaks=(anchor_row - 1,))
    return spec


def read_allocation_records(book: Any, *, lang: str = "vi") -> dict[tuple[str, str, int, str], int]:
    """Read the ``Phân bổ`` sheet back: ``{(unit, task, year, source): amount}`` (round-trip checks,
    and front ends that post-process a result workbook). ``book`` is any GridBook."""
    grid = book.grid(result_sheet_name("allocation", lang))
    out: dict[tuple[str, str, int, str], int] = {}
    header = None
    heads = {label("common.unit_code", lg) for lg in Lang}
    for r in range(grid.n_rows):
        row = [grid.value(r, c) for c in range(6)]
        if header is None:
            if row[0] in heads:
                header = r
            continue
        if row[0] is None:
            continue
        unit = str(int(row[0])) if isinstance(row[0], float) and row[0].is_integer() else str(row[0])
        out[(unit, str(row[2]), int(row[3]), str(row[4]))] = int(row[5])
    return out

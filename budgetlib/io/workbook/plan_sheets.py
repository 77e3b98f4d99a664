"""A plan as input sheets (the planning template): every field of :class:`~budgetlib.model.plan.Plan`.

Layout of every input sheet: row 1 title, row 2 a one-line hint, row 3 the table header, data
from row 4. The policy sheet stacks four tables (settings, constraints, prior-year amounts,
response curves), each with its own title row. No spreadsheet library is imported here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Sequence

from ...core.money import MoneyUnit, amount_from_number, format_amount
from ...model.plan import Plan, Program
from ...model.policy import AllocationPolicy
from ..grid import (
    AMOUNT_FORMAT,
    CellValue,
    SheetSpec,
    TableSpec,
    ValidationSpec,
    cell_ref,
    column_letter,
    quote_sheet,
    range_ref,
)
from .fields import ATTRIBUTE_LABELS, KEYVALUE_HEADERS, SHEETS, TABLE_BY_KEY, Field, TableDef, enum_label, enum_options

__all__ = ["plan_sheets", "blank_plan", "template_sheets", "guide_sheet", "money_cell", "number_cell", "need_text", "HEADER_ROW", "INPUT_SHEET_KEYS"]

HEADER_ROW = 3
EXTRA_ROWS = 200  # dropdowns reach this many rows below the data, for rows officers add
INPUT_SHEET_KEYS = tuple(SHEETS)


def number_cell(x: float | int | None) -> CellValue:
    """Floats that are whole numbers are written as ints (``96111.0`` → ``96111``)."""
    if x is None:
        return None
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def money_cell(amount: int, unit: MoneyUnit) -> CellValue:
    """Integer đồng as a number in ``unit``; exact or, failing that, as text in đồng."""
    if amount % int(unit) == 0:
        return amount // int(unit)
    value = float(Decimal(amount) / int(unit))
    if amount_from_number(value, unit) == amount:
        return value
    return format_amount(amount)  # "1.234.567 đ": read back exactly whatever the unit


def _num_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def need_text(need: Any) -> str:
    parts = [a if c == 1 else f"{_num_text(c)}*{a}" for a, c in need.terms.items()]
    if need.constant or not parts:
        parts.append(_num_text(need.constant))
    return " + ".join(parts)


def _list_text(values: Sequence[Any] | None) -> str | None:
    if values is None:
        return None
    if not values:
        return "-"
    return ", ".join(str(v) for v in values)


def _cell(f: Field, value: Any, lang: str, unit: MoneyUnit) -> CellValue:
    if value is None:
        return None
    if f.kind == "money":
        return money_cell(int(value), unit)
    if f.kind == "dong":
        return int(value)
    if f.kind == "enum":
        return enum_label(f.enum, value, lang)
    if f.kind == "bool":
        return ("Có" if value else "Không") if lang == "vi" else bool(value)
    if f.kind in ("list", "years"):
        return _list_text(value)
    if f.kind == "need":
        return need_text(value)
    if f.kind in ("float", "opt_float"):
        return number_cell(float(value))
    if f.kind in ("text", "opt_text") and value == "":
        return None
    return value


def _comment(f: Field, lang: str) -> str:
    other = f"English: {f.en}" if lang == "vi" else f"Tiếng Việt: {f.vi}"
    return f"{other}\n{f.help_vi}"


def _validation(f: Field, ref: str, lang: str, lists: dict[str, str]) -> ValidationSpec | None:
    if f.kind == "enum" and f.enum:
        return ValidationSpec(ref, values=tuple(enum_options(f.enum, lang)), allow_blank=not f.required)
    if f.kind == "bool" and lang == "vi":
        return ValidationSpec(ref, values=("Có", "Không"))
    if f.dropdown and f.dropdown in lists and f.kind not in ("list",):
        return ValidationSpec(ref, source=lists[f.dropdown], allow_blank=not f.required)
    return None


def _number_format(f: Field, unit: MoneyUnit, values: list[CellValue]) -> str | None:
    if f.kind == "dong":
        return AMOUNT_FORMAT
    if f.kind == "money":
        return AMOUNT_FORMAT if all(not isinstance(v, float) for v in values) else "#,##0.0##"
    if f.kind in ("int", "opt_int"):
        return "0"
    return None


class _SheetBuilder:
    """Accumulates rows, tables and formats of one input sheet."""

    def __init__(self, name: str, lang: str) -> None:
        self.spec = SheetSpec(name, [], kind="input", tab_color="1F4E78")
        self.lang = lang

    def row(self, values: list[CellValue]) -> int:
        self.spec.rows.append(values)
        return len(self.spec.rows)

    def title(self, text: str, hint: str = "") -> None:
        r = self.row([text])
        self.spec.title_rows.add(r)
        self.row([hint] if hint else [])

    def width(self, col: int, w: float) -> None:
        self.spec.column_widths[col] = max(self.spec.column_widths.get(col, 0), w)


def _table(
    b: _SheetBuilder,
    tdef: TableDef,
    headers: list[str],
    fields: list[Field | None],
    data: list[list[CellValue]],
    *,
    lang: str,
    unit: MoneyUnit,
    lists: dict[str, str],
    comments: list[str],
    widths: list[float],
    formats: list[str | None],
) -> tuple[int, int]:
    """Write header + data; return (header row, last data row), 1-based."""
    header_row = b.row(list(headers))
    b.spec.bold_rows.add(header_row)
    for c, (text, w) in enumerate(zip(comments, widths)):
        if text:
            b.spec.comments[cell_ref(header_row, c + 1)] = text
        b.width(c, w)
    for values in data:
        b.row(values)
    last = header_row + max(len(data), 1)
    if not data:
        b.row([])
    ncol = len(headers)
    b.spec.tables.append(TableSpec(tdef.table, range_ref(header_row, 1, last, ncol)))
    for c, (f, fmt) in enumerate(zip(fields, formats)):
        col = column_letter(c + 1)
        if fmt:
            for r in range(header_row + 1, last + EXTRA_ROWS + 1):
                if r <= last:
                    b.spec.cell_formats[f"{col}{r}"] = fmt
        if f is not None:
            v = _validation(f, f"{col}{header_row + 1}:{col}{last + EXTRA_ROWS}", lang, lists)
            if v:
                b.spec.validations.append(v)
    return header_row, last


def _records_table(b: _SheetBuilder, tdef: TableDef, records: list[dict[str, Any]], *, lang: str, unit: MoneyUnit, lists: dict[str, str], extra: list[tuple[str, str, str, list[CellValue], float]] | None = None) -> tuple[int, int]:
    """A table whose rows are records; ``extra`` adds dynamic columns (header, key, comment, values, width)."""
    fields = list(tdef.fields)
    headers = [f.header(lang) for f in fields]
    data = [[_cell(f, rec.get(f.key), lang, unit) for f in fields] for rec in records]
    comments = [_comment(f, lang) for f in fields]
    widths = [f.width for f in fields]
    formats = [_number_format(f, unit, [row[i] for row in data]) for i, f in enumerate(fields)]
    all_fields: list[Field | None] = list(fields)
    for header, _key, comment, values, width in extra or []:
        headers.append(header)
        comments.append(comment)
        widths.append(width)
        all_fields.append(None)
        for row, v in zip(data, values):
            row.append(v)
        nums = [v for v in values if v is not None]
        formats.append("#,##0" if nums and all(isinstance(v, int) for v in nums) else None)
    return _table(b, tdef, headers, all_fields, data, lang=lang, unit=unit, lists=lists, comments=comments, widths=widths, formats=formats)


def _keyvalue_table(b: _SheetBuilder, tdef: TableDef, values: dict[str, Any], *, lang: str, unit: MoneyUnit, lists: dict[str, str]) -> tuple[int, int]:
    h = KEYVALUE_HEADERS[lang]
    header_row = b.row(list(h))
    b.spec.bold_rows.add(header_row)
    for i, f in enumerate(tdef.fields):
        cell = _cell(f, values.get(f.key), lang, unit)
        r = b.row([f.header(lang), cell, f.help_vi])
        b.spec.comments[cell_ref(r, 1)] = _comment(f, lang)
        fmt = _number_format(f, unit, [cell])
        if fmt:
            b.spec.cell_formats[cell_ref(r, 2)] = fmt
        v = _validation(f, cell_ref(r, 2), lang, lists)
        if v:
            b.spec.validations.append(v)
    last = header_row + len(tdef.fields)
    b.spec.tables.append(TableSpec(tdef.table, range_ref(header_row, 1, last, 3)))
    b.width(0, 26)
    b.width(1, 40)
    b.width(2, 70)
    b.spec.wrap_cols.add(2)
    return header_row, last


def _list_source(sheet: str, col: int, first: int, last: int) -> str:
    return f"={quote_sheet(sheet)}!{range_ref(first, col, last + EXTRA_ROWS, col, absolute=True)}"


def plan_sheets(plan: Plan, *, lang: str = "vi") -> list[SheetSpec]:
    """Input sheets for ``plan`` (a filled template): Hướng dẫn, Chương trình, …, Giả định.

    Reading them back with :func:`budgetlib.io.workbook.reader.read_plan_grids` gives an equal plan.
    """
    unit = MoneyUnit(plan.program.display_unit)
    n = lambda key: SHEETS[key][0 if lang == "vi" else 1]  # noqa: E731
    first = HEADER_ROW + 1
    lists = {
        "tasks": _list_source(n("tasks"), 1, first, first + len(plan.tasks) - 1),
        "agencies": _list_source(n("agencies"), 1, first, first + len(plan.agencies) - 1),
        "sources": _list_source(n("sources"), 1, first, first + len(plan.sources) - 1),
        "units": _list_source(n("units"), 1, first, first + len(plan.units) - 1),
        "targets": _list_source(n("targets"), 1, first, first + len(plan.targets) - 1),
    }
    vi = lang == "vi"
    hint_vi = "Mỗi dòng một mục; các cột có mũi tên là danh sách chọn. Rê chuột lên tiêu đề cột để xem giải thích."
    hint_en = "One item per row; columns with an arrow are dropdowns. Hover over a header for its explanation."
    hint = hint_vi if vi else hint_en
    sheets: list[SheetSpec] = [guide_sheet(lang=lang, plan=plan)]

    def simple(key: str, tkey: str, records: list[dict[str, Any]], extra=None, freeze: str = "A4") -> SheetSpec:
        tdef = TABLE_BY_KEY[tkey]
        b = _SheetBuilder(n(key), lang)
        b.title(tdef.title_vi if vi else tdef.title_en, hint)
        _records_table(b, tdef, records, lang=lang, unit=unit, lists=lists, extra=extra)
        b.spec.freeze = freeze
        return b.spec

    # Chương trình
    b = _SheetBuilder(n("program"), lang)
    b.title(plan.program.name, "Điền cột Giá trị. Mọi ô số tiền trong tệp tính theo Đơn vị tiền." if vi else "Fill in the Value column. Every amount in this file is in the Money unit.")
    prog = plan.program.model_dump()
    prog["display_unit"] = str(int(plan.program.display_unit))
    prog["schema_version"] = plan.schema_version
    _keyvalue_table(b, TABLE_BY_KEY["program"], prog, lang=lang, unit=unit, lists=lists)
    b.spec.freeze = "A4"
    sheets.append(b.spec)

    sheets.append(simple("sources", "sources", [s.model_dump() for s in plan.sources]))
    sheets.append(simple("tasks", "tasks", [t.model_dump() | {"need": t.need} for t in plan.tasks], freeze="B4"))
    sheets.append(simple("agencies", "agencies", [a.model_dump() for a in plan.agencies], freeze="B4"))
    roles = [{"task": t.code, "agency": r.agency, "role": r.role} for t in plan.tasks for r in t.agencies]
    sheets.append(simple("roles", "roles", roles))

    # Địa bàn: one column per attribute, in order of first appearance.
    attrs: list[str] = list(dict.fromkeys(k for u in plan.units for k in u.attributes))
    extra = []
    for a in attrs:
        label = ATTRIBUTE_LABELS.get(a)
        header = (label[0] if vi else a) if label else a
        comment = (f"Thuộc tính: {a}" + (f"\n{label[1]}" if label else "")) if vi else (f"{label[0]}: {label[1]}" if label else a)
        extra.append((header, a, comment, [number_cell(u.attributes.get(a)) for u in plan.units], 13.0))
    sheets.append(simple("units", "units", [u.model_dump() for u in plan.units], extra=extra, freeze="C4"))

    # Chỉ tiêu: one column per year with a value.
    years = sorted(set(plan.program.years) | {y for t in plan.targets for y in t.values})
    yextra = [
        (str(y), str(y), ("Giá trị chỉ tiêu năm " if vi else "Target value in ") + str(y), [number_cell(t.values.get(y)) for t in plan.targets], 9.0)
        for y in years
    ]
    sheets.append(simple("targets", "targets", [t.model_dump() for t in plan.targets], extra=yextra, freeze="C4"))
    sheets.append(simple("budget", "budget_lines", [line.model_dump() for line in plan.budget_lines]))

    # Chính sách phân bổ: four stacked tables.
    policy: AllocationPolicy | None = plan.allocation
    b = _SheetBuilder(n("policy"), lang)
    b.title(TABLE_BY_KEY["policy"].title_vi if vi else TABLE_BY_KEY["policy"].title_en,
            "Để trống Phương pháp phân bổ nếu kế hoạch chưa có chính sách phân bổ." if vi else "Leave Method empty if the plan has no allocation policy.")
    settings = policy.model_dump() if policy else {}
    if policy:
        settings["years"] = policy.years
    _keyvalue_table(b, TABLE_BY_KEY["policy"], settings, lang=lang, unit=unit, lists=lists)
    b.row([])
    ctdef = TABLE_BY_KEY["constraints"]
    b.title(ctdef.title_vi if vi else ctdef.title_en, "Mỗi dòng một ràng buộc; chỉ điền các cột dùng cho loại ràng buộc đó." if vi else "One constraint per row; fill only the columns its type uses.")
    constraints = [c.model_dump(exclude={"prior"}) for c in (policy.constraints if policy else [])]
    c_header, c_last = _records_table(b, ctdef, constraints, lang=lang, unit=unit, lists=lists)
    lists["constraints"] = _list_source(n("policy"), 2, c_header + 1, c_last)
    b.row([])
    ptdef = TABLE_BY_KEY["priors"]
    b.title(ptdef.title_vi if vi else ptdef.title_en)
    priors = [
        {"constraint": c.name, **p.model_dump()}
        for c in (policy.constraints if policy else [])
        if getattr(c, "prior", None)
        for p in c.prior
    ]
    _records_table(b, ptdef, priors, lang=lang, unit=unit, lists=lists)
    b.row([])
    rtdef = TABLE_BY_KEY["curves"]
    b.title(rtdef.title_vi if vi else rtdef.title_en)
    segs = [
        {"task": cv.task, "outcome": cv.outcome, **s.model_dump()}
        for cv in (policy.response_curves if policy else [])
        for s in cv.segments
    ]
    _records_table(b, rtdef, segs, lang=lang, unit=unit, lists=lists)
    b.spec.freeze = "A3"
    sheets.append(b.spec)

    sheets.append(simple("reporting", "reporting", [r.model_dump() for r in plan.reporting]))
    sheets.append(simple("assumptions", "assumptions", [a.model_dump() for a in plan.assumptions]))
    if plan.scenarios:  # the Kịch bản sheet (batch helper's module)
        from .scenarios import scenario_sheet

        sheets.append(scenario_sheet(plan, lang=lang))
    return sheets


def guide_sheet(*, lang: str = "vi", plan: Plan | None = None) -> SheetSpec:
    """Hướng dẫn: how to fill the workbook and what every column means, in plain Vietnamese."""
    vi = lang == "vi"
    rows: list[list[CellValue]] = [
        ["Hướng dẫn sử dụng tệp kế hoạch" if vi else "How to use this planning workbook"],
        [],
        ["1. Điền lần lượt các sheet: Chương trình, Nguồn kinh phí, Nhiệm vụ, Cơ quan, Phân công, Địa bàn, Chỉ tiêu, Dự toán, Chính sách phân bổ."
         if vi else "1. Fill in the sheets in order: Program, Funding sources, Tasks, Agencies, Assignments, Units, Targets, Budget, Allocation policy."],
        ["2. Mọi số tiền tính theo Đơn vị tiền ở sheet Chương trình; có thể ghi số (22.500) hoặc chữ (22,5 tỷ đồng)."
         if vi else "2. Amounts are in the Money unit of the Program sheet; write numbers (22,500) or text (22,5 tỷ đồng)."],
        ["3. Kiểm tra: budgetlib validate kehoach.xlsx — mọi lỗi được báo một lần, kèm ô bị lỗi (ví dụ Địa bàn!D7)."
         if vi else "3. Check: budgetlib validate plan.xlsx — every problem at once, with its cell (e.g. Units!D7)."],
        ["4. Phân bổ: budgetlib allocate kehoach.xlsx -o ket_qua.xlsx — kết quả ở các sheet Phân bổ, Năm …, Tổng hợp, Chỉ tiêu đạt, Giải thích, Nhật ký."
         if vi else "4. Allocate: budgetlib allocate plan.xlsx -o results.xlsx — results on the Allocation, Year …, Summary, Targets met, Explanation and Run log sheets."],
        ["5. Không đổi tên bảng; có thể thêm cột ghi chú riêng, thêm dòng, đổi thứ tự cột."
         if vi else "5. Keep table names; you may add your own columns, add rows and reorder columns."],
        [],
        ["Sheet", "Cột" if vi else "Column", "Tiếng Anh" if vi else "Vietnamese", "Giải thích" if vi else "Explanation (Vietnamese)"],
    ]
    header_row = len(rows)
    from .fields import TABLES

    for tdef in TABLES:
        sheet = tdef.sheet_name(lang)
        for f in tdef.fields:
            rows.append([sheet, f.header(lang), f.en if vi else f.vi, f.help_vi])
        if tdef.dynamic == "attributes":
            rows.append([sheet, "…", "attributes", "Mỗi thuộc tính một cột (dân số, số xã…); tên cột dùng trong Công thức nhu cầu."])
        if tdef.dynamic == "years":
            rows.append([sheet, "2011, 2012, …", "values by year", "Giá trị chỉ tiêu từng năm; mỗi năm một cột, tiêu đề là năm."])
    spec = SheetSpec(
        SHEETS["guide"][0 if vi else 1],
        rows,
        column_widths={0: 20, 1: 26, 2: 26, 3: 90},
        bold_rows={header_row},
        title_rows={1},
        wrap_cols={3},
        freeze=f"A{header_row + 1}",
        kind="input",
        tab_color="1F4E78",
    )
    return spec


def blank_plan(lang: str = "vi") -> Plan:
    """The empty plan behind a new workbook (``budgetlib template`` and the add-in's "Sổ mới")."""
    vi = lang == "vi"
    return Plan(
        program=Program(
            code="MA-CHUONG-TRINH" if vi else "PROGRAM-CODE",
            name="Tên kế hoạch, chương trình" if vi else "Plan or program name",
            authority="Ủy ban nhân dân tỉnh …" if vi else "Provincial People's Committee",
            first_year=2026,
            last_year=2030,
            total=0,
            display_unit=MoneyUnit.TRIEU,
        )
    )


def template_sheets(*, lang: str = "vi") -> list[SheetSpec]:
    """The input sheets of a new, empty planning workbook."""
    return plan_sheets(blank_plan(lang), lang=lang)

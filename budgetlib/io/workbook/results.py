"""Result sheets as :class:`~budgetlib.io.grid.SheetSpec`: what the CLI and the add-in both draw.

Totals are written as ``SUM`` formulas over the amounts on the same sheet so finance staff can
audit them, and are checked against Python's totals by recalculating with LibreOffice in the tests.
Only the run log (``Nhật ký``) carries a timestamp; every other cell depends on the inputs alone.
No spreadsheet library is imported here.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from ...core.problems import Problem
from ...model.plan import Plan
from ...model.result import Allocation
from ..grid import AMOUNT_FORMAT, DECIMAL_FORMAT, PERCENT_FORMAT, CellValue, ChartSpec, Formula, SheetSpec, TableSpec, cell_ref, column_letter, range_ref

__all__ = [
    "RESULT_SHEETS",
    "EXCEL_MAX_ROWS",
    "is_result_sheet",
    "result_sheet_name",
    "year_sheet_name",
    "result_sheets",
    "allocation_sheet",
    "year_sheets",
    "summary_sheet",
    "attainment_sheet",
    "explanation_sheet",
    "error_sheets",
    "log_sheet",
    "comparison_sheet",
    "read_allocation_records",
]

EXCEL_MAX_ROWS = 1_048_576

# key → (Vietnamese name, English name)
RESULT_SHEETS: dict[str, tuple[str, str]] = {
    "allocation": ("Phân bổ", "Allocation"),
    "summary": ("Tổng hợp", "Summary"),
    "attainment": ("Chỉ tiêu đạt", "Targets met"),
    "explanation": ("Giải thích", "Explanation"),
    "errors": ("Lỗi", "Errors"),
    "log": ("Nhật ký", "Run log"),
    "comparison": ("So sánh", "Comparison"),
}
_YEAR_SHEET = re.compile(r"^(Năm|Year) (\d{4})$")
_TITLE_COLOR = "C00000"


def result_sheet_name(key: str, lang: str) -> str:
    return RESULT_SHEETS[key][0 if lang == "vi" else 1]


def year_sheet_name(year: int, lang: str) -> str:
    return f"{'Năm' if lang == 'vi' else 'Year'} {year}"


def is_result_sheet(name: str) -> bool:
    """True for every sheet budgetlib writes as a result (in either language)."""
    return any(name in pair for pair in RESULT_SHEETS.values()) or bool(_YEAR_SHEET.match(name))


def _names(plan: Plan | None, allocation: Allocation) -> tuple[dict[str, str], dict[str, str]]:
    units = dict(allocation.unit_names)
    tasks = dict(allocation.task_names)
    if plan is not None:
        units.update({u.code: u.name for u in plan.units if u.code not in units})
        tasks.update({t.code: t.name for t in plan.tasks if t.code not in tasks})
    return units, tasks


def _spec(name: str, title: str, subtitle: str = "") -> SheetSpec:
    spec = SheetSpec(name, [[title], [subtitle] if subtitle else []], title_rows={1}, tab_color=_TITLE_COLOR)
    return spec


def _add(spec: SheetSpec, row: list[CellValue], *, bold: bool = False) -> int:
    spec.rows.append(row)
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
# Phân bổ: flat table


def allocation_sheet(plan: Plan | None, allocation: Allocation, *, lang: str = "vi") -> SheetSpec:
    """Flat table: unit code, unit name, task, year, source, amount (non-zero amounts, index order)."""
    vi = lang == "vi"
    units, _ = _names(plan, allocation)
    spec = _spec(
        result_sheet_name("allocation", lang),
        "Kết quả phân bổ" if vi else "Allocation result",
        (f"Chính sách: {allocation.policy}; đơn vị: đồng" if vi else f"Policy: {allocation.policy}; amounts in VND"),
    )
    header = (
        ["Mã địa bàn", "Tên địa bàn", "Mã nhiệm vụ", "Năm", "Mã nguồn", "Số tiền"]
        if vi
        else ["Unit code", "Unit name", "Task", "Year", "Source", "Amount"]
    )
    hr = _add(spec, header, bold=True)
    a = allocation.amounts
    by_source = True
    if np.count_nonzero(a) > EXCEL_MAX_ROWS - hr - 1:
        # Too many rows for one sheet: one row per unit × task × year, all sources together.
        a = a.sum(axis=3, keepdims=True)
        by_source = False
    idx = np.argwhere(a != 0)
    u_codes, t_codes, yrs, s_codes = allocation.units, allocation.tasks, allocation.years, allocation.sources
    all_sources = "(mọi nguồn)" if vi else "(all sources)"
    for u, t, y, s in idx:
        spec.rows.append(
            [u_codes[u], units.get(u_codes[u], ""), t_codes[t], int(yrs[y]), s_codes[s] if by_source else all_sources, int(a[u, t, y, s])]
        )
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([])
    spec.tables.append(TableSpec("KQ_PhanBo", range_ref(hr, 1, last, 6)))
    spec.column_formats = {5: AMOUNT_FORMAT, 3: "0"}
    spec.format_from_row = hr + 1
    spec.column_widths = {0: 12, 1: 26, 2: 12, 3: 8, 4: 14, 5: 18}
    spec.freeze = f"A{hr + 1}"
    return spec


# ---------------------------------------------------------------------------------------------
# Năm …: units × tasks with SUM totals


def year_sheets(plan: Plan | None, allocation: Allocation, *, lang: str = "vi") -> list[SheetSpec]:
    """One sheet per year: units × tasks (all sources), row and column totals as SUM formulas."""
    vi = lang == "vi"
    units, tasks = _names(plan, allocation)
    per = allocation.amounts.sum(axis=3)  # [U, T, Y]
    nt, nu = len(allocation.tasks), len(allocation.units)
    out = []
    for yi, year in enumerate(allocation.years):
        spec = _spec(
            year_sheet_name(int(year), lang),
            (f"Phân bổ năm {year} theo địa bàn và nhiệm vụ (đồng)" if vi else f"Allocation {year} by unit and task (VND)"),
            ("Dòng và cột Tổng cộng là công thức SUM." if vi else "Total row and column are SUM formulas."),
        )
        total = "Tổng cộng" if vi else "Total"
        hr = _add(spec, ["Mã địa bàn" if vi else "Unit code", "Tên địa bàn" if vi else "Unit name", *allocation.tasks, total], bold=True)
        for c, t in enumerate(allocation.tasks):
            spec.comments[cell_ref(hr, c + 3)] = tasks.get(t, t)
        first = hr + 1
        last_col = 2 + nt
        for u in range(nu):
            r = first + u
            spec.rows.append(
                [allocation.units[u], units.get(allocation.units[u], ""), *(int(v) for v in per[u, :, yi]), Formula(f"=SUM({range_ref(r, 3, r, last_col)})")]
            )
        last = first + nu - 1
        tr = _add(
            spec,
            [total, None, *(Formula(f"=SUM({range_ref(first, c, last, c)})") for c in range(3, last_col + 2))],
            bold=True,
        )
        spec.column_formats = {c: AMOUNT_FORMAT for c in range(2, last_col + 1)}
        spec.format_from_row = first
        spec.column_widths = {0: 12, 1: 26, **{c: 15 for c in range(2, last_col)}, last_col: 17}
        spec.freeze = f"C{first}"
        _ = tr
        out.append(spec)
    return out


# ---------------------------------------------------------------------------------------------
# Tổng hợp: by unit, task, year, with the proportional baseline and the difference


def summary_sheet(plan: Plan | None, allocation: Allocation, *, lang: str = "vi", chart_max_units: int = 120) -> SheetSpec:
    vi = lang == "vi"
    units, tasks = _names(plan, allocation)
    spec = _spec(
        result_sheet_name("summary", lang),
        "Tổng hợp phân bổ so với chia theo tỷ lệ nhu cầu (đồng)" if vi else "Allocation against the proportional share (VND)",
        ("Chênh lệch = Phân bổ − Theo tỷ lệ; các dòng Tổng cộng là công thức SUM." if vi else "Difference = Allocated − Proportional; Total rows are SUM formulas."),
    )
    amounts = allocation.amounts.sum(axis=3)  # [U, T, Y]
    total = "Tổng cộng" if vi else "Total"
    chart_rows: tuple[int, int, int] | None = None

    def section(title: str, code_label: str, keys: Sequence[Any], labels: dict[Any, str], alloc: np.ndarray, prop: np.ndarray) -> tuple[int, int, int]:
        _add(spec, [])
        r = _add(spec, [title], bold=True)
        spec.title_rows.add(r)
        hr = _add(
            spec,
            [code_label, "Tên" if vi else "Name", "Phân bổ" if vi else "Allocated", "Theo tỷ lệ" if vi else "Proportional",
             "Chênh lệch" if vi else "Difference", "Chênh lệch %" if vi else "Difference %"],
            bold=True,
        )
        first = hr + 1
        for i, key in enumerate(keys):
            r = first + i
            spec.rows.append(
                [key, labels.get(key, ""), int(alloc[i]), int(prop[i]), Formula(f"=C{r}-D{r}"), Formula(f'=IF(D{r}=0,"",E{r}/D{r})')]
            )
        last = first + len(keys) - 1
        tr = _add(spec, [total, None, Formula(f"=SUM(C{first}:C{last})"), Formula(f"=SUM(D{first}:D{last})"), Formula(f"=C{last + 1}-D{last + 1}"), Formula(f'=IF(D{last + 1}=0,"",E{last + 1}/D{last + 1})')], bold=True)
        _fmt_range(spec, 3, first, tr, AMOUNT_FORMAT)
        _fmt_range(spec, 4, first, tr, AMOUNT_FORMAT)
        _fmt_range(spec, 5, first, tr, AMOUNT_FORMAT)
        _fmt_range(spec, 6, first, tr, PERCENT_FORMAT)
        return hr, first, last

    years = {y: str(y) for y in allocation.years}
    chart_rows = section("Theo địa bàn" if vi else "By unit", "Mã địa bàn" if vi else "Unit", allocation.units, units, amounts.sum(axis=(1, 2)), allocation.baseline_by("unit"))
    section("Theo nhiệm vụ" if vi else "By task", "Mã nhiệm vụ" if vi else "Task", allocation.tasks, tasks, amounts.sum(axis=(0, 2)), allocation.baseline_by("task"))
    section("Theo năm" if vi else "By year", "Năm" if vi else "Year", list(allocation.years), years, amounts.sum(axis=(0, 1)), allocation.baseline_by("year"))
    spec.column_widths = {0: 14, 1: 30, 2: 18, 3: 18, 4: 16, 5: 12}
    if chart_rows is not None and len(allocation.units) <= chart_max_units:
        hr, first, last = chart_rows
        spec.chart = ChartSpec(
            "Phân bổ theo địa bàn" if vi else "Allocation by unit",
            anchor="H3",
            category_col=2,
            value_cols=(3, 4),
            header_row=hr,
            first_row=first,
            last_row=last,
            y_title="đồng" if vi else "VND",
            height_cm=max(8.0, 0.6 * len(allocation.units) + 3),
        )
    spec.freeze = "A3"
    return spec


# ---------------------------------------------------------------------------------------------
# Chỉ tiêu đạt


def attainment_sheet(allocation: Allocation, *, lang: str = "vi") -> SheetSpec:
    vi = lang == "vi"
    spec = _spec(result_sheet_name("attainment", lang), "Mức đạt chỉ tiêu với phương án phân bổ" if vi else "Target attainment of the allocation")
    hr = _add(
        spec,
        (["Mã chỉ tiêu", "Tên chỉ tiêu", "Năm", "Cần đạt", "Được cấp kinh phí", "Còn thiếu", "Đạt", "Ghi chú"]
         if vi else ["Target", "Name", "Year", "Required", "Funded", "Shortfall", "Met", "Note"]),
        bold=True,
    )
    for a in allocation.attainment:
        spec.rows.append(
            [a.target, a.name, a.year, a.required, a.funded, a.shortfall, ("Có" if a.met else "Không") if vi else a.met, a.note(lang)]
        )
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append(["(không có chỉ tiêu gắn với kinh phí)" if vi else "(no funded targets)"])
    spec.tables.append(TableSpec("KQ_ChiTieu", range_ref(hr, 1, last, 8)))
    spec.column_formats = {3: DECIMAL_FORMAT, 4: DECIMAL_FORMAT, 5: DECIMAL_FORMAT}
    spec.format_from_row = hr + 1
    spec.column_widths = {0: 12, 1: 44, 2: 8, 3: 12, 4: 14, 5: 12, 6: 8, 7: 50}
    spec.freeze = f"A{hr + 1}"
    return spec


# ---------------------------------------------------------------------------------------------
# Giải thích: Answer and Sensitivity reports (as Excel Solver), then plain-language lines


def explanation_sheet(allocation: Allocation, explanation: Sequence[str], *, lang: str = "vi") -> SheetSpec:
    vi = lang == "vi"
    spec = _spec(result_sheet_name("explanation", lang), "Giải thích phương án phân bổ" if vi else "Why this allocation")
    label = allocation.objective_name(lang) or ("Hàm mục tiêu" if vi else "Objective")
    r = _add(spec, ["Hàm mục tiêu" if vi else "Objective", label, allocation.objective], bold=False)
    spec.cell_formats[f"C{r}"] = "#,##0.######"
    _add(spec, ["Trạng thái" if vi else "Status", allocation.status.label(lang), f"{allocation.solver} {allocation.solver_version}".strip()])

    _add(spec, [])
    t = _add(spec, ["Báo cáo kết quả (Answer report)" if vi else "Answer report"], bold=True)
    spec.title_rows.add(t)
    hr = _add(
        spec,
        (["Ràng buộc", "Loại", "Nhiệm vụ", "Địa bàn", "Năm", "Giá trị cuối", "Giới hạn", "Trạng thái", "Phần dư", "Giải thích"]
         if vi else ["Constraint", "Kind", "Task", "Unit", "Year", "Final value", "Bound", "Status", "Slack", "Explanation"]),
        bold=True,
    )
    for c in allocation.constraints:
        status = ("Chặt (binding)" if c.binding else "Không chặt") if vi else ("Binding" if c.binding else "Not binding")
        spec.rows.append([c.name, c.kind.label(lang), c.task, c.unit, c.year, c.value, c.bound, status, c.slack, c.explanation(lang)])
    last = len(spec.rows)
    _fmt_range(spec, 6, hr + 1, last, DECIMAL_FORMAT)
    _fmt_range(spec, 7, hr + 1, last, DECIMAL_FORMAT)
    _fmt_range(spec, 9, hr + 1, last, DECIMAL_FORMAT)

    _add(spec, [])
    t = _add(spec, ["Báo cáo độ nhạy (Sensitivity report)" if vi else "Sensitivity report"], bold=True)
    spec.title_rows.add(t)
    hr2 = _add(
        spec,
        (["Ràng buộc", "Giá trị cuối", "Giá đối ngẫu (mỗi triệu đồng)", "Vế phải", "Mức tăng cho phép", "Mức giảm cho phép"]
         if vi else ["Constraint", "Final value", "Shadow price (per million VND)", "Constraint R.H. side", "Allowable increase", "Allowable decrease"]),
        bold=True,
    )
    for c in allocation.constraints:
        spec.rows.append([c.name, c.value, c.shadow_price, c.bound, c.allowable_increase, c.allowable_decrease])
    last2 = len(spec.rows)
    for col in (2, 3, 4, 5, 6):
        _fmt_range(spec, col, hr2 + 1, last2, DECIMAL_FORMAT)

    if allocation.diagnosis is not None:
        d = allocation.diagnosis
        _add(spec, [])
        t = _add(spec, ["Chẩn đoán: vì sao không phân bổ được" if vi else "Diagnosis: why no allocation exists"], bold=True)
        spec.title_rows.add(t)
        _add(spec, [d.summary(lang)])
        _add(spec, ["Ràng buộc" if vi else "Constraint", "Loại" if vi else "Kind", "Thông báo" if vi else "Message", "Số tiền" if vi else "Amounts"], bold=True)
        for c in d.conflicts:
            amounts = "; ".join(f"{k}: {v:,}".replace(",", "." if vi else ",") for k, v in c.amounts.items())
            spec.rows.append([c.name, c.kind.label(lang), c.message(lang), amounts])

    _add(spec, [])
    t = _add(spec, ["Diễn giải" if vi else "In plain words"], bold=True)
    spec.title_rows.add(t)
    for line in explanation:
        spec.rows.append([line])
    spec.column_widths = {0: 46, 1: 14, 2: 16, 3: 12, 4: 8, 5: 16, 6: 16, 7: 16, 8: 14, 9: 60}
    return spec


# ---------------------------------------------------------------------------------------------
# Lỗi, Nhật ký


def error_sheets(problems: Sequence[Problem], *, lang: str = "vi") -> list[SheetSpec]:
    """The ``Lỗi`` sheet: location, message in the chosen language, the other language, code, value."""
    vi = lang == "vi"
    spec = _spec(
        result_sheet_name("errors", lang),
        (f"{len(problems)} lỗi cần sửa trong kế hoạch" if vi else f"{len(problems)} problem(s) to fix in the plan"),
        ("Vị trí chỉ ô cần sửa, ví dụ Địa bàn!D7." if vi else "Location is the cell to fix, e.g. Units!D7."),
    )
    hr = _add(
        spec,
        (["Vị trí", "Thông báo", "Tiếng Anh", "Mức độ", "Mã lỗi", "Giá trị nhận được"]
         if vi else ["Location", "Message", "Vietnamese", "Severity", "Code", "Value found"]),
        bold=True,
    )
    for p in problems:
        value = p.value if isinstance(p.value, (str, int, float, bool)) or p.value is None else repr(p.value)
        spec.rows.append([p.location, p.message(lang), p.message("en" if vi else "vi"), str(p.severity.value), p.code, value])
    last = max(len(spec.rows), hr + 1)
    if len(spec.rows) == hr:
        spec.rows.append([])
    spec.tables.append(TableSpec("KQ_Loi", range_ref(hr, 1, last, 6), style="TableStyleMedium3"))
    spec.column_widths = {0: 26, 1: 80, 2: 60, 3: 9, 4: 20, 5: 20}
    spec.wrap_cols = {1, 2}
    spec.freeze = f"A{hr + 1}"
    return [spec]


def log_sheet(log: Sequence[tuple[str, str]], *, lang: str = "vi") -> SheetSpec:
    vi = lang == "vi"
    spec = _spec(result_sheet_name("log", lang), "Nhật ký lần chạy" if vi else "Run log")
    hr = _add(spec, ["Thông tin" if vi else "Item", "Giá trị" if vi else "Value"], bold=True)
    for k, v in log:
        spec.rows.append([k, v])
    last = max(len(spec.rows), hr + 1)
    spec.tables.append(TableSpec("KQ_NhatKy", range_ref(hr, 1, last, 2), style="TableStyleLight9"))
    spec.column_widths = {0: 32, 1: 90}
    return spec


# ---------------------------------------------------------------------------------------------


def result_sheets(
    plan: Plan | None,
    allocation: Allocation,
    *,
    lang: str = "vi",
    log: Sequence[tuple[str, str]] | None = None,
    explanation: Sequence[str] = (),
) -> list[SheetSpec]:
    """Phân bổ, Năm …, Tổng hợp, Chỉ tiêu đạt, Giải thích, Nhật ký (infeasible: Giải thích, Nhật ký)."""
    sheets: list[SheetSpec] = []
    if allocation.ok:
        sheets.append(allocation_sheet(plan, allocation, lang=lang))
        sheets.extend(year_sheets(plan, allocation, lang=lang))
        sheets.append(summary_sheet(plan, allocation, lang=lang))
        sheets.append(attainment_sheet(allocation, lang=lang))
    sheets.append(explanation_sheet(allocation, explanation, lang=lang))
    if log is not None:
        sheets.append(log_sheet(log, lang=lang))
    return sheets


def comparison_sheet(plan: Plan | None, allocations: Sequence[tuple[str, Allocation]], *, lang: str = "vi") -> SheetSpec:
    """Totals per unit under several policies side by side, and each one's difference from the first."""
    vi = lang == "vi"
    spec = _spec(
        result_sheet_name("comparison", lang),
        "So sánh các phương án phân bổ theo địa bàn (đồng)" if vi else "Allocation by unit under each policy (VND)",
        ("Chênh lệch so với phương án đầu tiên là công thức." if vi else "Differences from the first policy are formulas."),
    )
    if not allocations:
        return spec
    first_alloc = allocations[0][1]
    units, _ = _names(plan, first_alloc)
    names = [n for n, _ in allocations]
    k = len(names)
    hr = _add(
        spec,
        ["Mã địa bàn" if vi else "Unit code", "Tên địa bàn" if vi else "Unit name", *names,
         *((f"{n} − {names[0]}") for n in names[1:])],
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
            [u, units.get(u, ""), *(t.get(u, 0) for t in totals),
             *(Formula(f"={column_letter(3 + j)}{r}-C{r}") for j in range(1, k))]
        )
    last = first + len(first_alloc.units) - 1
    _add(spec, ["Tổng cộng" if vi else "Total", None, *(Formula(f"=SUM({range_ref(first, c, last, c)})") for c in range(3, 3 + k + (k - 1)))], bold=True)
    spec.column_formats = {c: AMOUNT_FORMAT for c in range(2, 2 + k + (k - 1))}
    spec.format_from_row = first
    spec.column_widths = {0: 12, 1: 26, **{c: 18 for c in range(2, 2 + 2 * k)}}
    if len(first_alloc.units) <= 120:
        spec.chart = ChartSpec(
            "So sánh phân bổ theo địa bàn" if vi else "Allocation by unit, by policy",
            anchor=f"{column_letter(3 + 2 * k)}3",
            category_col=2,
            value_cols=tuple(range(3, 3 + k)),
            header_row=hr,
            first_row=first,
            last_row=last,
            height_cm=max(8.0, 0.6 * len(first_alloc.units) + 3),
        )
    spec.freeze = f"C{first}"
    return spec


def read_allocation_records(book: Any, *, lang: str = "vi") -> dict[tuple[str, str, int, str], int]:
    """Read the ``Phân bổ`` sheet back: ``{(unit, task, year, source): amount}`` (round-trip checks,
    and front ends that post-process a result workbook). ``book`` is any GridBook."""
    grid = book.grid(result_sheet_name("allocation", lang))
    out: dict[tuple[str, str, int, str], int] = {}
    header = None
    for r in range(grid.n_rows):
        row = [grid.value(r, c) for c in range(6)]
        if header is None:
            if row[0] in ("Mã địa bàn", "Unit code"):
                header = r
            continue
        if row[0] is None:
            continue
        unit = str(int(row[0])) if isinstance(row[0], float) and row[0].is_integer() else str(row[0])
        out[(unit, str(row[2]), int(row[3]), str(row[4]))] = int(row[5])
    return out

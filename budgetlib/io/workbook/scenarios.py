"""The ``Kịch bản`` (Scenarios) input sheet: write a plan's scenarios, read them back located.

One row per change: ``Kịch bản | Mô tả | Thay đổi | Đối tượng | Trường | Giá trị | Nhiệm vụ | Năm``.
Rows of one scenario share its name (a blank name continues the scenario above); the description
is read from any of its rows. What each column means for each kind of change:

==================  =========================  ===================  =========================================
Thay đổi            Đối tượng                  Trường               Giá trị
==================  =========================  ===================  =========================================
Nhân ngân sách      mã nguồn (trống: tất cả)   —                    hệ số: ``90%`` hoặc ``0,9``
Đặt tổng ngân sách  mã nguồn (trống: tất cả)   —                    số tiền (đơn vị tiền của kế hoạch)
Bỏ nguồn            mã nguồn                   —                    —
Đổi chính sách      —                          phương pháp / độ     phương pháp phân bổ, cách tính độ lệch,
                                               lệch / làm tròn      đơn vị làm tròn (số tiền)
Đổi ràng buộc       tên ràng buộc              (tùy chọn) amount…   giá trị mới (số tiền theo đơn vị tiền)
Bỏ ràng buộc        tên ràng buộc              —                    —
Đổi chỉ tiêu        mã chỉ tiêu                —                    giá trị chỉ tiêu (cột Năm: năm)
==================  =========================  ===================  =========================================

``Nhiệm vụ`` and ``Năm`` narrow a budget change to some tasks and years. The reader takes the
cells as :class:`~budgetlib.io.grid.Grid` values (no spreadsheet library) and returns plain
scenario data, every problem located at its cell (``Kịch bản!F5``) and a map from JSON paths
(``scenarios[0].changes[1].source``) to cells, so later checks are located too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from ...core.i18n import Msg, tr
from ...core.lang import Lang
from ...core.money import MoneyUnit, amount_from_number, parse_amount
from ...core.problems import Problem, Source
from ...core.text import fold, nfc
from ...model.plan import Plan
from ...model.scenario import (
    MONEY_FIELDS,
    DropConstraint,
    DropSource,
    ScaleBudget,
    Scenario,
    SetConstraint,
    SetPolicy,
    SetTarget,
)
from ...planning.scenarios import problem, value_field
from ..grid import PERCENT_FORMAT, CellValue, Grid, GridBook, SheetSpec, TableSpec, ValidationSpec, cell_ref, range_ref
from .plan_sheets import money_cell, number_cell

__all__ = ["scenario_sheet", "read_scenario_sheet", "default_fields", "COLUMNS", "CHANGE_KINDS", "sheet_name"]

COLUMNS = ("scenario", "description", "change", "target", "field", "value", "tasks", "years")
CHANGE_KINDS = ("scale", "set_total", "drop_source", "set_policy", "set_constraint", "drop_constraint", "set_target")
POLICY_FIELDS = ("kind", "deviation", "rounding_unit")
_HEADER_ROW = 3
_EXTRA_ROWS = 100


def sheet_name(lang: str | Lang) -> str:
    return tr("scenario.input.sheet", lang)


def _label(kind: str, lang: str | Lang) -> str:
    return tr(f"scenario.input.kind.{kind}", lang)


def _percent(x: float) -> float:
    return float(Decimal(repr(x)))


def default_fields(plan: Plan) -> dict[str, str]:
    """Constraint name → the field a ``Đổi ràng buộc`` row without ``Trường`` changes."""
    return {c.name: value_field(c) for c in (plan.allocation.constraints if plan.allocation else [])}


def _rows_of(sc: Scenario, unit: MoneyUnit, lang: str, fields: dict[str, str]) -> list[list[CellValue]]:
    rows: list[list[CellValue]] = []

    def add(kind: str, target: CellValue = None, field: CellValue = None, value: CellValue = None, tasks: Any = None, years: Any = None) -> None:
        rows.append([sc.name, None, _label(kind, lang), target, field, value,
                     ", ".join(tasks) if tasks else None, ", ".join(str(y) for y in years) if years else None])

    for ch in sc.changes:
        if isinstance(ch, ScaleBudget):
            if ch.total is not None:
                add("set_total", ch.source, None, money_cell(int(ch.total), unit), ch.tasks, ch.years)
            else:
                assert ch.factor is not None
                add("scale", ch.source, None, _percent(ch.factor), ch.tasks, ch.years)
        elif isinstance(ch, DropSource):
            add("drop_source", ch.source)
        elif isinstance(ch, SetPolicy):
            if ch.kind is not None:
                add("set_policy", None, tr("scenario.input.policy_field.kind", lang), ch.kind.value)
            if ch.deviation is not None:
                add("set_policy", None, tr("scenario.input.policy_field.deviation", lang), ch.deviation.value)
            if ch.rounding_unit is not None:
                add("set_policy", None, tr("scenario.input.policy_field.rounding_unit", lang), money_cell(int(ch.rounding_unit), unit))
        elif isinstance(ch, SetConstraint):
            money = (ch.field or fields.get(ch.constraint, "")) in MONEY_FIELDS
            value: CellValue = money_cell(int(ch.value), unit) if money and float(ch.value).is_integer() else number_cell(ch.value)
            add("set_constraint", ch.constraint, ch.field, value)
        elif isinstance(ch, DropConstraint):
            add("drop_constraint", ch.constraint)
        elif isinstance(ch, SetTarget):
            add("set_target", ch.target, None, number_cell(ch.value), None, [ch.year] if ch.year is not None else None)
    if not rows:
        rows.append([sc.name, None, None, None, None, None, None, None])
    rows[0][1] = sc.description or None
    return rows


def scenario_sheet(plan: Plan, *, lang: str | Lang = Lang.VI) -> SheetSpec:
    """The ``Kịch bản`` input sheet of ``plan`` (reading it back gives the same scenarios)."""
    lang = str(lang)
    unit = MoneyUnit(plan.program.display_unit)
    spec = SheetSpec(sheet_name(lang), [[tr("scenario.input.title", lang)], [tr("scenario.input.hint", lang)]],
                     title_rows={1}, kind="input", tab_color="1F4E78")
    header = [tr(f"scenario.input.col.{c}", lang) for c in COLUMNS]
    spec.rows.append(list(header))
    spec.bold_rows.add(_HEADER_ROW)
    for c, col in enumerate(COLUMNS):
        spec.comments[cell_ref(_HEADER_ROW, c + 1)] = tr(f"scenario.input.help.{col}", lang)
    fields = default_fields(plan)
    for sc in plan.scenarios:
        spec.rows.extend(_rows_of(sc, unit, lang, fields))
    last = max(len(spec.rows), _HEADER_ROW + 1)
    if len(spec.rows) == _HEADER_ROW:
        spec.rows.append([])
    spec.tables.append(TableSpec("KichBan", range_ref(_HEADER_ROW, 1, last, len(COLUMNS))))
    for r in range(_HEADER_ROW + 1, last + 1):
        if spec.cell(f"C{r}") == _label("scale", lang):
            spec.cell_formats[f"F{r}"] = PERCENT_FORMAT
    spec.validations.append(ValidationSpec(f"C{_HEADER_ROW + 1}:C{last + _EXTRA_ROWS}", tuple(_label(k, lang) for k in CHANGE_KINDS),
                                            error=tr("workbook.dropdown_error", lang)))
    spec.column_widths = {0: 28, 1: 40, 2: 20, 3: 36, 4: 16, 5: 16, 6: 16, 7: 12}
    spec.wrap_cols = {1, 3}
    spec.freeze = f"A{_HEADER_ROW + 1}"
    return spec


# ---------------------------------------------------------------------------------------------
# Reading


def _cell_problem(code: str, address: str, **params: Any) -> Problem:
    """A problem at ``Sheet!D7`` (or a whole row ``Sheet!7:7``)."""
    sheet, _, cell = address.rpartition("!")
    return Problem(code, Source(sheet=sheet or None, cell=cell or None), params) if sheet else problem(code, address, **params)


def _spellings(code_prefix: str, keys: tuple[str, ...], raw: bool = True) -> dict[str, str]:
    out: dict[str, str] = {}
    for key in keys:
        for lang in Lang:
            out[fold(tr(f"{code_prefix}.{key}", lang))] = key
        if raw:
            out[fold(key)] = key
            out[fold(key.replace("_", " "))] = key
    return out


def _find_sheet(book: GridBook) -> str | None:
    names = {fold(n): n for n in book.sheet_names()}
    for lang in Lang:
        hit = names.get(fold(sheet_name(lang)))
        if hit is not None:
            return hit
    return None


def _text(v: CellValue) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    text = nfc(str(v)).strip()
    return text or None


def _number(v: CellValue) -> float:
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, (int, float)):
        return float(v)
    s = str(v).strip().replace("\u00a0", "").replace(" ", "")
    pct = s.endswith("%")
    s = s.removesuffix("%")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", s):
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", ".")
    try:
        x = float(Decimal(s))
    except InvalidOperation:
        raise ValueError(v) from None
    return x / 100 if pct else x


def _money(v: CellValue, unit: MoneyUnit) -> int:
    if isinstance(v, str):
        return parse_amount(v, unit=unit)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(v)
    return amount_from_number(v, unit)


def _list(v: CellValue) -> list[str] | None:
    text = _text(v)
    if text is None:
        return None
    return [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]


def read_scenario_sheet(
    book: GridBook, *, unit: MoneyUnit = MoneyUnit.DONG, constraint_fields: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[Problem], dict[str, str]]:
    """``(scenarios as plain data, problems, {json path: cell})`` from the book's ``Kịch bản`` sheet.

    ``unit`` is the plan's money unit (amounts are read in it); ``constraint_fields`` maps constraint
    names to the field a change without ``Trường`` sets (:func:`default_fields`), so a ``Đổi ràng
    buộc`` value is read as money exactly when that field holds money.
    No sheet: no scenarios. Scenarios with a problem are left out (the problem says where).
    """
    sheet = _find_sheet(book)
    if sheet is None:
        return [], [], {}
    grid: Grid = book.grid(sheet)
    headers = _spellings("scenario.input.col", COLUMNS)
    cols: dict[str, int] = {}
    header_row = None
    for r in range(grid.n_rows):
        found = {}
        for c in range(grid.n_cols):
            key = fold(_text(grid.value(r, c)) or "")
            if key in headers and headers[key] not in found:
                found[headers[key]] = c
        if len(found) >= 3 and "scenario" in found and "change" in found:
            cols, header_row = found, r
            break
    if header_row is None:
        return [], [_cell_problem("scenario.input.no_header", grid.sheet, sheet=grid.sheet)], {}
    kinds = _spellings("scenario.input.kind", CHANGE_KINDS)
    policy_fields = _spellings("scenario.input.policy_field", POLICY_FIELDS)
    policy_values = _spellings("scenario.policy", ("proportional", "min_deviation", "max_min", "max_outcome"))
    policy_values |= {fold("absolute"): "absolute", fold("relative"): "relative", fold("tuyệt đối"): "absolute", fold("tương đối"): "relative"}
    defaults = constraint_fields or {}
    problems: list[Problem] = []
    scenarios: list[dict[str, Any]] = []
    locs: dict[str, str] = {}
    index: dict[str, int] = {}
    failed: set[int] = set()

    def cell(r: int, key: str) -> CellValue:
        return grid.value(r, cols[key]) if key in cols else None

    def where(r: int, key: str) -> str:
        return grid.address(r, cols[key]) if key in cols else grid.row_address(r)

    current: int | None = None
    for r in range(header_row + 1, grid.n_rows):
        if all(cell(r, k) is None for k in cols):
            continue
        name = _text(cell(r, "scenario"))
        if name is None:
            if current is None:
                problems.append(_cell_problem("scenario.input.no_name", where(r, "scenario")))
                continue
            i = current
        else:
            if name not in index:
                index[name] = len(scenarios)
                scenarios.append({"name": name, "description": "", "changes": []})
                locs[f"scenarios[{index[name]}]"] = grid.row_address(r)
                locs[f"scenarios[{index[name]}].name"] = where(r, "scenario")
            i = current = index[name]
        sc = scenarios[i]
        desc = _text(cell(r, "description"))
        if desc and not sc["description"]:
            sc["description"] = desc
            locs[f"scenarios[{i}].description"] = where(r, "description")
        raw_kind = _text(cell(r, "change"))
        if raw_kind is None:
            continue
        kind = kinds.get(fold(raw_kind))
        if kind is None:
            problems.append(_cell_problem("scenario.input.bad_kind", where(r, "change"), value=raw_kind, allowed=[Msg(f"scenario.input.kind.{k}") for k in CHANGE_KINDS]))
            failed.add(i)
            continue
        j = len(sc["changes"])
        path = f"scenarios[{i}].changes[{j}]"
        locs[path] = grid.row_address(r)
        target, field, value = _text(cell(r, "target")), _text(cell(r, "field")), cell(r, "value")
        tasks, years_raw = _list(cell(r, "tasks")), _list(cell(r, "years"))
        ch: dict[str, Any] = {}
        try:
            years = [int(_number(y)) for y in years_raw] if years_raw else None
        except ValueError:
            problems.append(_cell_problem("scenario.input.bad_years", where(r, "years"), value=_text(cell(r, "years"))))
            failed.add(i)
            continue
        for key, col in (("source", "target"), ("constraint", "target"), ("target", "target"), ("tasks", "tasks"), ("years", "years"),
                         ("year", "years"), ("factor", "value"), ("total", "value"), ("value", "value"), ("field", "field"),
                         ("kind", "value"), ("deviation", "value"), ("rounding_unit", "value")):
            locs[f"{path}.{key}"] = where(r, col)
        try:
            if kind in ("scale", "set_total"):
                ch = {"type": "scale_budget", "source": target, "tasks": tasks, "years": years}
                if value is None:
                    raise ValueError("missing")
                ch["factor" if kind == "scale" else "total"] = _number(value) if kind == "scale" else _money(value, unit)
            elif kind == "drop_source":
                ch = {"type": "drop_source", "source": target}
            elif kind == "set_policy":
                pf = policy_fields.get(fold(field or "kind"))
                if pf is None:
                    problems.append(_cell_problem("scenario.input.bad_policy_field", where(r, "field"), value=field, allowed=list(POLICY_FIELDS)))
                    failed.add(i)
                    continue
                if value is None:
                    raise ValueError("missing")
                if pf == "rounding_unit":
                    v: Any = _money(value, unit)
                else:
                    v = policy_values.get(fold(_text(value) or ""), _text(value))
                merged = sc["changes"][-1] if sc["changes"] and sc["changes"][-1].get("type") == "set_policy" and pf not in sc["changes"][-1] else None
                if merged is not None:  # one Đổi chính sách per row; consecutive rows are one change
                    merged[pf] = v
                    locs[f"scenarios[{i}].changes[{j - 1}].{pf}"] = where(r, "value")
                    continue
                ch = {"type": "set_policy", pf: v}
            elif kind == "set_constraint":
                if value is None:
                    raise ValueError("missing")
                money = (field or defaults.get(target or "", "")) in MONEY_FIELDS
                ch = {"type": "set_constraint", "constraint": target, "field": field, "value": float(_money(value, unit)) if money else _number(value)}
            elif kind == "drop_constraint":
                ch = {"type": "drop_constraint", "constraint": target}
            else:
                if value is None:
                    raise ValueError("missing")
                ch = {"type": "set_target", "target": target, "year": years[0] if years else None, "value": _number(value)}
        except (ValueError, ArithmeticError):
            problems.append(_cell_problem("scenario.input.bad_value", where(r, "value"), value=_text(value), kind=Msg(f"scenario.input.kind.{kind}")))
            failed.add(i)
            continue
        sc["changes"].append({k: v for k, v in ch.items() if v is not None})
    kept: list[dict[str, Any]] = []
    kept_locs: dict[str, str] = {}
    from ...planning.validation import problems_from_validation_error

    for i, sc in enumerate(scenarios):
        if i in failed:
            continue
        try:
            Scenario.model_validate(sc)
        except ValidationError as exc:
            for p in problems_from_validation_error(exc, prefix=f"scenarios[{i}]"):
                path = p.location
                while path and path not in locs:
                    cut = max(path.rfind("."), path.rfind("["))
                    path = path[:cut] if cut > 0 else ""
                addr = locs.get(path, grid.sheet)
                sheet, _, ref = addr.rpartition("!")
                problems.append(p.relocated(Source(sheet=sheet or addr, cell=ref or None)))
            continue
        k = len(kept)
        kept.append(sc)
        prefix = f"scenarios[{i}]"
        for path, addr in locs.items():
            if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
                kept_locs[f"scenarios[{k}]" + path[len(prefix):]] = addr
    return kept, problems, kept_locs

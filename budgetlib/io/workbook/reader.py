"""Read a plan from the cells of a planning workbook, reporting every problem at its cell.

Tables are found by their Excel table name when the book knows it, otherwise by their header
row (Vietnamese with or without diacritics, or English), anywhere on the sheet: title rows above,
blank rows inside, extra columns and any column order are fine. Amounts are numbers in the
workbook's money unit (``Đơn vị tiền`` on the program sheet) or text such as ``22,5 tỷ đồng``.

Problems come from three places and are all reported in one pass, each located at a cell:
cell reading (``Địa bàn!H7: Dân số phải là số``), the model's field checks (one item at a time, so
one bad row does not hide the others), and :func:`~budgetlib.planning.validation.validate_plan`,
whose JSON paths (``tasks[2].agencies``) are mapped back to the cells they came from.
No spreadsheet library is imported here; see :class:`~budgetlib.io.grid.GridBook`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from pydantic import BaseModel, TypeAdapter, ValidationError

from ...core.money import AmountError, MoneyUnit, amount_from_number, parse_amount
from ...core.problems import PlanInvalid, Problem, Severity
from ...core.text import fold, nfc
from ...model.plan import (
    AdminUnit,
    Agency,
    Assumption,
    BudgetLine,
    FundingSource,
    Plan,
    Program,
    ReportingRule,
    Target,
    Task,
)
from ...model.policy import AllocationPolicy, Constraint, ResponseCurve
from ...planning.validation import REFERENCE_CODES, partial_total_problem, problems_from_validation_error, validate_plan
from ..grid import Grid, GridBook, TableRef, column_index
from .fields import ATTRIBUTE_LABELS, ENUM_LABELS, KEYVALUE_HEADERS, SHEETS, TABLE_BY_KEY, TABLES, Field, TableDef

__all__ = ["read_plan_grids", "read_plan_grids_with_problems", "read_plan_grids_located"]

_CONSTRAINT = TypeAdapter(Constraint)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _CellError(Exception):
    def __init__(self, vi: str, en: str):
        super().__init__(en)
        self.vi, self.en = vi, en


def _strip_paren(text: str) -> str:
    return re.sub(r"\s*\([^)]*\)\s*", " ", text).strip()


def _folded(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return _fold_cached(str(v)) if isinstance(v, str) and len(v) < 80 else fold(str(v))


@lru_cache(maxsize=65536)
def _fold_cached(text: str) -> str:
    return fold(text)


# ---------------------------------------------------------------------------------------------
# Cell conversion


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return nfc(str(v))


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise _CellError("phải là số nguyên", "must be a whole number")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"\s*-?\d+\s*", v):
        return int(v)
    raise _CellError("phải là số nguyên", "must be a whole number")


def _float(v: Any) -> float:
    if isinstance(v, bool):
        raise _CellError("phải là số", "must be a number")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip().replace("\u00a0", "").replace(" ", "")
        if re.fullmatch(r"-?\d+(,\d+)?", s):
            return float(s.replace(",", "."))
        if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", s):  # 1.234,5 (vi-VN)
            return float(s.replace(".", "").replace(",", "."))
        if re.fullmatch(r"-?\d+\.\d+", s):
            return float(s)
        if re.fullmatch(r"-?\d+(\.\d+)?%", s):
            return float(s[:-1]) / 100
    raise _CellError("phải là số", "must be a number")


def _money(v: Any, unit: MoneyUnit) -> int:
    try:
        if isinstance(v, str):
            return parse_amount(v, unit=unit)
        if isinstance(v, bool):
            raise AmountError("money.whole")
        return amount_from_number(v, unit)
    except AmountError as exc:
        raise _CellError(exc.message_vi, exc.message_en) from None


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    key = _folded(v)
    if key in ("co", "x", "yes", "true", "dung", "1", "y"):
        return True
    if key in ("khong", "no", "false", "sai", "0", "n", ""):
        return False
    raise _CellError("phải là Có hoặc Không", "must be yes or no")


@lru_cache(maxsize=None)
def _enum_lookup(enum: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, (vi, en) in ENUM_LABELS[enum].items():
        for spelling in (en, vi, value):
            out[fold(spelling)] = value
    return out


def _enum(v: Any, enum: str) -> str:
    key = _folded(v)
    if key in _enum_lookup(enum):
        return _enum_lookup(enum)[key]
    if enum == "money_unit":
        try:
            return str(int(MoneyUnit.parse(str(v))))
        except AmountError:
            pass
    options = ", ".join(vi for vi, _ in ENUM_LABELS[enum].values())
    options_en = ", ".join(en for _, en in ENUM_LABELS[enum].values())
    raise _CellError(f"phải là một trong: {options}", f"must be one of: {options_en}")


def _split(v: Any) -> list[str] | None:
    text = _text(v).strip()
    if text in ("-", "—", "–", "[]"):
        return []
    return [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]


def _years(v: Any) -> list[int] | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return [_int(v)]
    parts = _split(v)
    if parts is None:
        return None
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise _CellError("phải là các năm cách nhau bằng dấu phẩy, ví dụ 2011, 2012", "must be years separated by commas, e.g. 2011, 2012") from None


def _convert(f: Field, v: Any, unit: MoneyUnit) -> Any:
    k = f.kind
    if k in ("text", "opt_text", "code", "opt_code"):
        return _text(v)
    if k in ("int", "opt_int"):
        return _int(v)
    if k in ("float", "opt_float"):
        return _float(v)
    if k == "money":
        return _money(v, unit)
    if k == "dong":
        return _money(v, MoneyUnit.DONG)
    if k == "bool":
        return _bool(v)
    if k == "enum":
        return _enum(v, f.enum or "")
    if k == "list":
        return _split(v)
    if k == "years":
        return _years(v)
    if k == "need":
        return _text(v)
    raise AssertionError(k)


# ---------------------------------------------------------------------------------------------
# Finding tables


@dataclass
class _Loc:
    address: str
    label_vi: str = ""
    label_en: str = ""


@dataclass
class _Table:
    tdef: TableDef
    grid: Grid
    header: int  # 0-based grid row
    cols: dict[str, int]  # field key → 0-based grid col
    extra: dict[int, Any]  # other header columns: col → header value
    rows: list[int]  # data rows (0-based grid rows), blank rows removed


def _header_score(tdef: TableDef, row: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for c, cell in enumerate(row):
        if not isinstance(cell, str) or not cell:
            continue  # headers are text; numbers and dates are data
        key = _folded(cell)
        key2 = _folded(_strip_paren(cell)) if "(" in cell else key
        for f in tdef.fields:
            names = f.names()
            if (key in names or key2 in names) and f.key not in found:
                found[f.key] = c
                break
    return found


def _kv_header(row: list[Any], lang_headers=KEYVALUE_HEADERS) -> tuple[int, int] | None:
    keys = [_folded(c) for c in row]
    for lang in ("vi", "en"):
        label, value, _ = (fold(h) for h in lang_headers[lang])
        if label in keys and value in keys:
            return keys.index(label), keys.index(value)
    return None


def _row_values(grid: Grid, r: int) -> list[Any]:
    return [grid.value(r, c) for c in range(grid.n_cols)]


def _ref_rows(ref: str) -> tuple[int, int, int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)", ref.upper())
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), column_index(m.group(1)), int(m.group(4)), column_index(m.group(3))


class _Finder:
    """Locates every table of :data:`TABLES` in a book."""

    def __init__(self, book: GridBook):
        self.book = book
        self.names = {fold(n): n for n in book.sheet_names()}
        tables_fn: Callable[[], list[TableRef]] | None = getattr(book, "tables", None)
        self.refs = {fold(t.name): t for t in (tables_fn() if tables_fn else [])}
        self._grids: dict[str, Grid] = {}

    def grid(self, sheet: str) -> Grid:
        if sheet not in self._grids:
            self._grids[sheet] = self.book.grid(sheet)
        return self._grids[sheet]

    def sheet_for(self, tdef: TableDef) -> str | None:
        vi, en = SHEETS[tdef.sheet]
        for cand in (vi, en):
            if fold(cand) in self.names:
                return self.names[fold(cand)]
        return None

    def header_rows(self, sheet: str) -> dict[int, str]:
        """Header rows of every table that lives on this sheet (row → table key)."""
        grid = self.grid(sheet)
        out: dict[int, str] = {}
        for tdef in TABLES:
            if self.sheet_for(tdef) != sheet:
                continue
            r = self._find_header(tdef, grid)
            if r is not None:
                out[r] = tdef.key
        return out

    def _find_header(self, tdef: TableDef, grid: Grid) -> int | None:
        ref = self.refs.get(fold(tdef.table))
        if ref is not None and ref.sheet == grid.sheet:
            r1, _, _, _ = _ref_rows(ref.ref)
            return r1 - grid.origin_row
        best, best_score = None, 0
        need = 1 if len(tdef.fields) <= 2 else 2
        for r in range(grid.n_rows):
            row = _row_values(grid, r)
            if tdef.keyvalue:
                if _kv_header(row) is not None:
                    # The key/value header is shared by the program and policy tables; on the
                    # policy sheet the first one belongs to the policy settings.
                    return r
                continue
            matched = len(_header_score(tdef, row))
            if matched < need:
                continue
            # Prefer the row whose cells are mostly this table's headers (tables share some names).
            score = 2 * matched - sum(v is not None for v in row) + matched
            if best is None or score > best_score:
                best, best_score = r, score
        return best

    def find(self, tdef: TableDef) -> tuple[_Table | None, list[Problem]]:
        sheet = self.sheet_for(tdef)
        if sheet is None:
            return None, []
        grid = self.grid(sheet)
        header = self._find_header(tdef, grid)
        if header is None:
            return None, []
        ref = self.refs.get(fold(tdef.table))
        if ref is not None and ref.sheet == sheet:
            _, _, r2, _ = _ref_rows(ref.ref)
            end = min(r2 - grid.origin_row + 1, grid.n_rows)
        else:
            later = sorted(r for r in self.header_rows(sheet) if r > header)
            end = later[0] if later else grid.n_rows
            if later:  # title and hint rows of the next table are not data
                while end - 1 > header and sum(v is not None for v in _row_values(grid, end - 1)) <= 1:
                    end -= 1
        row = _row_values(grid, header)
        if tdef.keyvalue:
            kv = _kv_header(row) or (0, 1)
            cols = {"__label__": kv[0], "__value__": kv[1]}
            extra: dict[int, Any] = {}
        else:
            cols = _header_score(tdef, row)
            extra = {c: v for c, v in enumerate(row) if v is not None and c not in cols.values()}
        rows = [r for r in range(header + 1, end) if any(grid.value(r, c) is not None for c in (*cols.values(), *extra))]
        problems: list[Problem] = []
        for f in tdef.fields:
            if f.required and f.key not in cols and not tdef.keyvalue:
                problems.append(
                    Problem.legacy(
                        grid.row_address(header),
                        f"bảng {tdef.title_vi}: thiếu cột «{f.vi}»",
                        f"table {tdef.title_en}: missing column “{f.en}”",
                        "missing_column",
                    )
                )
        return _Table(tdef, grid, header, cols, extra, rows), problems


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class _Item:
    data: dict[str, Any]
    locs: dict[str, _Loc]  # suffix ("" = row, "code", "attributes.population") → location
    failed: set[str] = field(default_factory=set)  # suffixes whose cell could not be read


class _Reader:
    def __init__(self, book: GridBook):
        self.finder = _Finder(book)
        self.book = book
        self.problems: list[Problem] = []
        self.unit = MoneyUnit.DONG
        self.failed_attrs: set[str] = set()

    # -- cells ---------------------------------------------------------------------------------
    def cell(self, item: _Item, suffix: str, f: Field, grid: Grid, r: int, c: int, label: tuple[str, str] | None = None) -> Any:
        vi, en = label or (f.vi, f.en)
        item.locs[suffix] = _Loc(grid.address(r, c), vi, en)
        v = grid.value(r, c)
        if isinstance(v, str) and not v.strip():
            v = None
        if v is None:
            return None
        try:
            return _convert(f, v, self.unit)
        except _CellError as exc:
            item.failed.add(suffix)
            sep = ": " if f.kind in ("money", "dong") else " "
            self.problems.append(Problem.legacy(grid.address(r, c), f"{vi}{sep}{exc.vi}", f"{en}{sep}{exc.en}", "cell", Severity.ERROR, v))
            return _FAILED

    def records(self, key: str) -> list[_Item]:
        tdef = TABLE_BY_KEY[key]
        table, problems = self.finder.find(tdef)
        self.problems.extend(problems)
        if table is None:
            return []
        items = []
        for r in table.rows:
            item = _Item({}, {"": _Loc(table.grid.address(r, 0))})
            for f in tdef.fields:
                if f.key not in table.cols:
                    continue
                value = self.cell(item, f.key, f, table.grid, r, table.cols[f.key])
                if value is not None and value is not _FAILED:
                    item.data[f.key] = value
            if key == "units":
                self._attributes(item, table, r)
            if key == "targets":
                self._year_values(item, table, r)
            items.append(item)
        return items

    def _attributes(self, item: _Item, table: _Table, r: int) -> None:
        attrs: dict[str, float] = {}
        fl = Field("attr", "", "", "", "float")
        for c, header in table.extra.items():
            name = _attribute_name(header)
            if name is None:
                continue
            value = self.cell(item, f"attributes.{name}", fl, table.grid, r, c, (str(header), name))
            if value is _FAILED:
                self.failed_attrs.add(name)
            elif value is not None:
                attrs[name] = value
        item.data["attributes"] = attrs
        item.locs.setdefault("attributes", item.locs[""])

    def _year_values(self, item: _Item, table: _Table, r: int) -> None:
        values: dict[int, float] = {}
        fl = Field("value", "", "", "", "float")
        for c, header in table.extra.items():
            year = _year_header(header)
            if year is None:
                continue
            value = self.cell(item, f"values.{year}", fl, table.grid, r, c, (f"Chỉ tiêu năm {year}", f"target for {year}"))
            if value is not None and value is not _FAILED:
                values[year] = value
        item.data["values"] = values

    def keyvalue(self, key: str) -> tuple[_Item | None, _Table | None]:
        tdef = TABLE_BY_KEY[key]
        table, _ = self.finder.find(tdef)
        if table is None:
            return None, None
        item = _Item({}, {"": _Loc(table.grid.address(table.header, 0))})
        lc, vc = table.cols["__label__"], table.cols["__value__"]
        pending: list[tuple[Field, int]] = []
        for r in table.rows:
            label = table.grid.value(r, lc)
            if label is None:
                continue
            names = {_folded(label), fold(_strip_paren(str(label)))}
            f = next((f for f in tdef.fields if names & f.names()), None)
            if f is None:
                continue
            pending.append((f, r))
        # The money unit first: other amounts are read in it.
        pending.sort(key=lambda fr: fr[0].key != "display_unit")
        for f, r in pending:
            value = self.cell(item, f.key, f, table.grid, r, vc)
            if f.key == "display_unit" and value not in (None, _FAILED):
                self.unit = MoneyUnit(int(value))
                value = self.unit
            if value is not None and value is not _FAILED:
                item.data[f.key] = value
        return item, table

    def uncached(self) -> None:
        fn = getattr(self.book, "uncached_formulas", None)
        if fn is None:
            return
        for tdef in TABLES:
            sheet = self.finder.sheet_for(tdef)
            if sheet is None or tdef.table != next(t.table for t in TABLES if t.sheet == tdef.sheet):
                continue
            cells = fn(sheet)
            if cells:
                more_vi = f" và {len(cells) - 1} ô khác" if len(cells) > 1 else ""
                more_en = f" and {len(cells) - 1} more" if len(cells) > 1 else ""
                self.problems.append(
                    Problem.legacy(
                        f"{sheet}!{cells[0]}",
                        f"ô có công thức nhưng tệp không lưu giá trị đã tính{more_vi} (tệp được ghi bằng chương trình không "
                        "tính công thức). Hãy mở tệp bằng Excel hoặc LibreOffice, tính lại (F9) và lưu lại rồi chạy lại.",
                        f"formula without a cached value{more_en} (the file was saved by a program that does not calculate). "
                        "Open it in Excel or LibreOffice, recalculate (F9), save, and run again.",
                        "uncached_formula",
                    )
                )


_FAILED = object()


@lru_cache(maxsize=None)
def _attribute_names() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (vi, _) in ATTRIBUTE_LABELS.items():
        for spelling in (vi, name, _strip_paren(vi)):
            out[fold(spelling)] = name
    return out


@lru_cache(maxsize=4096)
def _attribute_name(header: Any) -> str | None:
    """The attribute a Địa bàn column holds: a known label (Dân số → population) or an identifier."""
    known = _attribute_names()
    for key in (_folded(header), fold(_strip_paren(str(header)))):
        if key in known:
            return known[key]
    text = _text(header).strip()
    return text if _IDENT.match(text) else None


def _year_header(header: Any) -> int | None:
    if isinstance(header, (int, float)) and not isinstance(header, bool) and float(header).is_integer() and 1900 < header < 2200:
        return int(header)
    m = re.fullmatch(r"(?:nam|year)?\s*(\d{4})", _folded(header))
    return int(m.group(1)) if m else None


class _LocMap:
    def __init__(self) -> None:
        self.map: dict[str, _Loc] = {}

    def add(self, prefix: str, item: _Item) -> None:
        for suffix, loc in item.locs.items():
            self.map[f"{prefix}.{suffix}" if suffix else prefix] = loc

    def locate(self, path: str) -> _Loc | None:
        while path:
            if path in self.map:
                return self.map[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return self.map.get(path)

    def relocate(self, p: Problem) -> Problem:
        loc = self.locate(p.location)
        if loc is None:
            return p
        vi, en = p.message("vi"), p.message("en")
        if loc.label_vi and not vi.lower().startswith(loc.label_vi.lower()):
            vi, en = f"{loc.label_vi}: {vi}", f"{loc.label_en or loc.label_vi}: {en}"
        return Problem.legacy(loc.address, vi, en, p.code, p.severity, p.value)


def _validate_items(
    reader: _Reader, path: str, items: list[_Item], model: type[BaseModel] | TypeAdapter, *, codes: set[str] | None = None
) -> list[tuple[dict[str, Any], _Item]]:
    """Validate items one by one; return the valid ones (as plain data) with their locations."""
    kept = []
    for i, item in enumerate(items):
        local = _LocMap()
        local.add(f"{path}[{i}]", item)
        try:
            obj = model.validate_python(item.data) if isinstance(model, TypeAdapter) else model.model_validate(item.data)
        except ValidationError as exc:
            failed = {f"{path}[{i}].{s}" for s in item.failed}
            for p in problems_from_validation_error(exc, prefix=f"{path}[{i}]"):
                tag = item.data.get("type")
                if isinstance(model, TypeAdapter) and isinstance(tag, str) and p.location.startswith(f"{path}[{i}].{tag}"):
                    # A tagged union puts the tag in the path: constraints[1].cap.amount → constraints[1].amount
                    p = p.relocated(f"{path}[{i}]" + p.location[len(f"{path}[{i}].{tag}"):])
                if any(p.location == f or p.location.startswith(f + ".") for f in failed):
                    continue  # already reported at the cell
                if failed and p.location == f"{path}[{i}]":
                    continue  # a whole-row check that the unreadable cell may have caused
                reader.problems.append(local.relocate(p))
            if codes is not None and isinstance(item.data.get("code"), str):
                codes.add(item.data["code"])
            continue
        if item.failed:
            if codes is not None and isinstance(item.data.get("code"), str):
                codes.add(item.data["code"])
            continue
        kept.append((obj.model_dump() if isinstance(obj, BaseModel) else obj, item))
    return kept


def read_plan_grids_with_problems(book: GridBook) -> tuple[Plan | None, list[Problem]]:
    """Read a plan from a book; return ``(plan or None, every problem)`` — never raises for bad data."""
    plan, problems, _ = read_plan_grids_located(book)
    return plan, problems


def read_plan_grids_located(book: GridBook) -> tuple[Plan | None, list[Problem], Callable[[str], str | None]]:
    """Like :func:`read_plan_grids_with_problems`, plus ``locate(json_path) -> "Sheet!D7" | None`` to
    place later findings (e.g. an infeasibility diagnosis naming ``allocation.constraints[2]``)."""
    locs = _LocMap()

    def locate(path: str) -> str | None:
        loc = locs.locate(path)
        return loc.address if loc is not None else None
    r = _Reader(book)
    r.uncached()
    prog_item, prog_table = r.keyvalue("program")
    if prog_item is None:
        vi, en = SHEETS["program"]
        r.problems.append(
            Problem.legacy(
                vi,
                f"không tìm thấy sheet «{vi}» với bảng Thông tin | Giá trị; hãy tạo tệp từ mẫu: budgetlib template kehoach.xlsx",
                f"no “{vi}”/“{en}” sheet with a Field | Value table; start from the template: budgetlib template plan.xlsx",
                "missing_sheet",
            )
        )
        return None, r.problems, locate
    schema_version = prog_item.data.pop("schema_version", 1)
    prog_item.data.setdefault("display_unit", r.unit)

    raw = {
        "units": r.records("units"),
        "agencies": r.records("agencies"),
        "tasks": r.records("tasks"),
        "sources": r.records("sources"),
        "targets": r.records("targets"),
        "budget_lines": r.records("budget_lines"),
        "reporting": r.records("reporting"),
        "assumptions": r.records("assumptions"),
    }
    role_items = r.records("roles")
    # Attach task × agency roles to their tasks, in row order.
    by_code: dict[str, _Item] = {}
    for it in raw["tasks"]:
        if isinstance(it.data.get("code"), str):
            by_code.setdefault(it.data["code"], it)
        it.data.setdefault("agencies", [])
    for role in role_items:
        task = role.data.get("task")
        owner = by_code.get(task) if isinstance(task, str) else None
        if owner is None:
            if task is not None and "task" not in role.failed:
                loc = role.locs.get("task", role.locs[""])
                r.problems.append(
                    Problem.legacy(loc.address, f"nhiệm vụ {task!r} không có trong sheet {SHEETS['tasks'][0]}",
                            f"task {task!r} is not on the {SHEETS['tasks'][1]} sheet", "unknown_task", Severity.ERROR, task)
                )
            continue
        j = len(owner.data["agencies"])
        owner.data["agencies"].append({k: v for k, v in role.data.items() if k in ("agency", "role")})
        for suffix, loc in role.locs.items():
            owner.locs[f"agencies[{j}]" + (f".{suffix}" if suffix and suffix != "task" else "")] = loc
        owner.failed |= {f"agencies[{j}].{s}" for s in role.failed}
        if j == 0:
            owner.locs["agencies"] = role.locs[""]
    for it in raw["tasks"]:
        it.locs.setdefault("agencies", it.locs[""])
    for it in raw["targets"]:
        it.locs.setdefault("values", it.locs[""])

    # Policy: settings, constraints (with prior amounts), response curves.
    policy_item, _ = r.keyvalue("policy")
    constraint_items = r.records("constraints")
    prior_items = r.records("priors")
    curve_rows = r.records("curves")
    by_name: dict[str, _Item] = {}
    for it in constraint_items:
        if isinstance(it.data.get("name"), str):
            by_name.setdefault(it.data["name"], it)
    for pr in prior_items:
        name = pr.data.get("constraint")
        owner = by_name.get(name) if isinstance(name, str) else None
        if owner is None:
            if name is not None:
                loc = pr.locs.get("constraint", pr.locs[""])
                r.problems.append(
                    Problem.legacy(loc.address, f"không có ràng buộc tên {name!r} trong bảng Ràng buộc phân bổ",
                            f"no constraint named {name!r} in the constraints table", "unknown_reference", Severity.ERROR, name)
                )
            continue
        prior = owner.data.setdefault("prior", [])
        j = len(prior)
        prior.append({k: v for k, v in pr.data.items() if k != "constraint"})
        for suffix, loc in pr.locs.items():
            if suffix != "constraint":
                owner.locs[f"prior[{j}]" + (f".{suffix}" if suffix else "")] = loc
        owner.failed |= {f"prior[{j}].{s}" for s in pr.failed}
    curves: list[_Item] = []
    for seg in curve_rows:
        key = (seg.data.get("task"), seg.data.get("outcome", ""))
        if not curves or (curves[-1].data.get("task"), curves[-1].data.get("outcome", "")) != key:
            curves.append(_Item({"task": seg.data.get("task"), "segments": []}, {"": seg.locs[""], "task": seg.locs.get("task", seg.locs[""])}))
            if "outcome" in seg.data:
                curves[-1].data["outcome"] = seg.data["outcome"]
            if "task" in seg.failed:
                curves[-1].failed.add("task")
        cur = curves[-1]
        j = len(cur.data["segments"])
        cur.data["segments"].append({k: v for k, v in seg.data.items() if k in ("width", "outcome_per_million")})
        for suffix in ("width", "outcome_per_million"):
            if suffix in seg.locs:
                cur.locs[f"segments[{j}].{suffix}"] = seg.locs[suffix]
        cur.locs[f"segments[{j}]"] = seg.locs[""]
        cur.failed |= {f"segments[{j}].{s}" for s in seg.failed if s in ("width", "outcome_per_million")}
    for it in constraint_items:
        if it.data.get("type") is None and "type" not in it.failed:
            it.data["type"] = "__missing__"

    # Validate item by item, so one bad row does not hide problems in the others.
    dropped: set[str] = set()
    models: dict[str, Any] = {
        "units": AdminUnit, "agencies": Agency, "tasks": Task, "sources": FundingSource, "targets": Target,
        "budget_lines": BudgetLine, "reporting": ReportingRule, "assumptions": Assumption,
    }
    kept = {k: _validate_items(r, k, items, models[k], codes=dropped) for k, items in raw.items()}
    kept_constraints = _validate_items(r, "allocation.constraints", constraint_items, _CONSTRAINT)
    kept_curves = _validate_items(r, "allocation.response_curves", curve_rows and curves, ResponseCurve)

    program = _validate_items(r, "program", [prog_item], Program)
    policy_data = None
    if policy_item is not None and (policy_item.data.get("kind") is not None or constraint_items or curves):
        pdata = dict(policy_item.data)
        pdata["constraints"] = [c for c, _ in kept_constraints]
        pdata["response_curves"] = [c for c, _ in kept_curves]
        policy_kept = _validate_items(r, "allocation", [_Item(pdata, policy_item.locs, policy_item.failed)], AllocationPolicy)
        policy_data = policy_kept[0][0] if policy_kept else None
        policy_failed = not policy_kept
    else:
        policy_failed = False
    if not program or policy_failed:
        return None, r.problems, locate

    data: dict[str, Any] = {"schema_version": schema_version, "program": program[0][0]}
    locs.add("program", program[0][1])
    for k, pairs in kept.items():
        data[k] = [d for d, _ in pairs]
        for i, (_, item) in enumerate(pairs):
            locs.add(f"{k}[{i}]", item)
    amount_locs = [it.locs["amount"].address for _, it in kept["budget_lines"] if "amount" in it.locs]
    if amount_locs:
        first, last = amount_locs[0], amount_locs[-1]
        locs.map["budget_lines"] = _Loc(f"{first}:{last.split('!', 1)[1]}", "Số tiền", "Amount")
    if policy_data is not None:
        data["allocation"] = policy_data
        if policy_item is not None:
            locs.add("allocation", policy_item)
        for i, (_, item) in enumerate(kept_constraints):
            locs.add(f"allocation.constraints[{i}]", item)
        for i, (_, item) in enumerate(kept_curves):
            locs.add(f"allocation.response_curves[{i}]", item)
    from .scenarios import read_scenario_sheet  # the Kịch bản sheet (batch helper's module)

    scenario_fields = {c["name"]: _default_field(c) for c in (policy_data or {}).get("constraints", [])}
    scenarios, scenario_problems, scenario_locs = read_scenario_sheet(book, unit=r.unit, constraint_fields=scenario_fields)
    r.problems.extend(scenario_problems)
    if scenarios:
        data["scenarios"] = scenarios
        locs.map.update({path: _Loc(addr) for path, addr in scenario_locs.items()})
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - items were validated one by one
        r.problems.extend(locs.relocate(p) for p in problems_from_validation_error(exc))
        return None, r.problems, locate

    any_dropped_line = len(kept["budget_lines"]) != len(raw["budget_lines"])
    for p in validate_plan(plan):
        if p.code in REFERENCE_CODES and p.value in dropped:
            continue  # the referenced row has its own problem already
        if p.code == "plan.missing_attribute" and p.params.get("attribute") in r.failed_attrs:
            continue
        if p.code.startswith("plan.total_mismatch") and any_dropped_line:
            partial = partial_total_problem(p, len(raw["budget_lines"]) - len(kept["budget_lines"]))
            if partial is None:
                continue
            p = partial
        r.problems.append(locs.relocate(p))
    return plan, r.problems, locate


def _default_field(constraint: dict[str, Any]) -> str:
    from ...planning.scenarios import value_field

    return value_field(_CONSTRAINT.validate_python(constraint))


def read_plan_grids(book: GridBook) -> Plan:
    """Read a plan from a :class:`~budgetlib.io.grid.GridBook`; raise :class:`PlanInvalid` with every
    error (warnings do not prevent reading)."""
    plan, problems = read_plan_grids_with_problems(book)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if plan is None or errors:
        raise PlanInvalid(problems)
    return plan

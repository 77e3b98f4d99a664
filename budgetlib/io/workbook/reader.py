"""Read a plan from the cells of a planning workbook, reporting every problem at its cell.

Reading is four steps, each in its own module:

1. **finding tables** (:mod:`.tables`) — by Excel table name or by header row, in either language;
2. **converting cells** (:mod:`.cells`) — ``22,5 tỷ đồng``, ``1.234,5``, dropdown labels; a cell
   that cannot be read is a problem located at it (``Địa bàn!H7: Dân số phải là số``);
3. **assembling items** (:mod:`.items`) — rows become plan data; assignments join their tasks,
   prior-year amounts their constraint, curve segments their curve, as :mod:`.fields` declares;
4. **locating** (:mod:`.locate`) — the plan data goes through
   :func:`~budgetlib.planning.validation.salvage_plan`, the same checks a JSON plan gets (each item
   on its own, then every cross-reference and reconciliation check on whatever could be read), and
   each finding's JSON path is mapped back to its cell. Findings that only repeat a problem
   already reported at a cell are left out.

So every independent problem comes out in one run: a missing column is one message naming the
column and its sheet, an unreadable amount does not hide the total that fails to reconcile, a
blank lead agency does not hide a wrong need formula. No spreadsheet library is imported here;
see :class:`~budgetlib.io.grid.GridBook`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.i18n import Msg
from ...core.problems import PlanInvalid, Problem, Severity, Source
from ...core.text import fold
from ...model.plan import NeedDriver, Plan
from ...planning.validation import salvage_plan
from ..grid import GridBook
from .cells import CellContext, is_blank, to_text
from .fields import TABLE_BY_KEY, TABLES, Kind, TableDef
from .items import Item, ItemReader, attach, default_attribute_name, group_rows, known_attribute
from .locate import LocMap, Unread, is_consequence, relocate
from .tables import Finder, FoundTable

__all__ = ["read_plan_grids", "read_plan_grids_with_problems", "read_plan_grids_located", "Locate"]

Locate = Callable[[str], "str | None"]
"""Maps a JSON path of the plan (``allocation.constraints[2]``) to its cell (``Chính sách phân bổ!A12``)."""

_POLICY_PARTS = ("constraints", "curves")


class _Reading:
    """One reading of one book: found tables, items, problems, and the cells of every value."""

    def __init__(self, book: GridBook) -> None:
        self.book = book
        self.finder = Finder(book)
        self.cells = ItemReader(CellContext())
        self.problems: list[Problem] = []
        self.found: dict[str, FoundTable | None] = {}
        self.unread = Unread()  # tables (missing, or a required column missing), attributes, …
        self.broken = self.unread.tables
        self.items: dict[str, list[Item]] = {}
        self.locs = LocMap()

    # -- step 1: tables -----------------------------------------------------------------------
    def table(self, key: str) -> FoundTable | None:
        if key not in self.found:
            tdef = TABLE_BY_KEY[key]
            found = self.finder.find(tdef)
            self.found[key] = found
            self._check_table(tdef, found)
        return self.found[key]

    def _check_table(self, tdef: TableDef, found: FoundTable | None) -> None:
        if found is None:
            if tdef.required:
                self.broken.add(tdef.key)
                sheet = self.finder.sheet_for(tdef)
                where = Source(sheet=sheet) if sheet else Source()
                self.problems.append(Problem("workbook.missing_table", where, {"table": tdef.title, "sheet": sheet or Msg(f"workbook.sheet.{tdef.sheet}")}))
            return
        if tdef.keyvalue:
            return
        for f in tdef.fields:
            if f.required and f.key not in found.cols:
                self.broken.add(tdef.key)
                self.problems.append(Problem("workbook.missing_column", found.header_source(), {"table": tdef.title, "column": tdef.label(f.key)}))

    # -- step 2: cells ------------------------------------------------------------------------
    def read_tables(self) -> bool:
        """Read every table into items; False if this is not a planning workbook at all."""
        program = self.table("program")
        if program is None:
            self.problems = [Problem("workbook.missing_program", Source(), {"sheet": Msg("workbook.sheet.program")})]
            return False
        self.items["program"] = [self.cells.keyvalue(program)]
        policy = self.table("policy")
        self.items["policy"] = [self.cells.keyvalue(policy)] if policy is not None else []
        for tdef in TABLES:
            if not tdef.keyvalue and tdef.key != "units":
                found = self.table(tdef.key)
                self.items[tdef.key] = self.cells.records(found) if found is not None else []
        units = self.table("units")
        self.items["units"] = self.cells.records(units, self._attribute_namer()) if units is not None else []
        return True

    def _attribute_namer(self) -> Callable[[Any, list[Any]], str | None]:
        """Names of unit attribute columns: a column named in a need formula or a constraint gets
        the spelling used there (``số trường học`` matches the header ``Số trường học``)."""
        referenced: dict[str, str] = {}
        for item in self.items.get("tasks", []):
            need = item.data.get("need")
            if isinstance(need, str) and need.strip():
                try:
                    terms = NeedDriver.parse(need).terms
                except ValueError:
                    continue  # reported by the plan checks
                for term in terms:
                    referenced.setdefault(fold(term), term)
        constraint = TABLE_BY_KEY["constraints"]
        for item in self.items.get("constraints", []):
            for f in constraint.fields:
                if f.kind is Kind.ATTRIBUTE and isinstance(item.data.get(f.key), str):
                    referenced.setdefault(fold(item.data[f.key]), item.data[f.key])

        def attribute_name(header: Any, values: list[Any]) -> str | None:
            if is_blank(header):
                return None
            return known_attribute(header) or referenced.get(fold(to_text(header))) or default_attribute_name(header, values)

        return attribute_name

    # -- step 3: items ------------------------------------------------------------------------
    def assemble(self) -> dict[str, Any]:
        """The plan data (JSON-shaped) of everything read, with the cell of every value in ``locs``."""
        for tdef in TABLES:
            if tdef.join is not None:
                parent = TABLE_BY_KEY[tdef.join.parent]
                self.problems += attach(self.items[tdef.key], self.items[parent.key], tdef.join, tdef, parent, parent_broken=parent.key in self.broken)
                if tdef.key in self.broken:
                    self._join_failed(tdef)
            elif tdef.group is not None:
                self.items[tdef.key] = group_rows(self.items[tdef.key], tdef.group)
        data: dict[str, Any] = {}
        program = self.items["program"][0]
        for name in TABLE_BY_KEY["program"].root_fields:
            if name in program.data:
                data[name] = program.data.pop(name)
        program.data.setdefault("display_unit", self.cells.ctx.unit)
        data["program"] = program.data
        self.locs.add("program", program)
        for tdef in TABLES:
            if tdef.path and not tdef.keyvalue and not tdef.path.startswith("allocation."):
                data[tdef.path] = [it.data for it in self.items[tdef.key]]
                self.locs.add_list(tdef.path, self.items[tdef.key])
        self._amount_range()
        policy = self._policy()
        if policy is not None:
            data["allocation"] = policy
        scenarios = self._scenarios(policy)
        if scenarios:
            data["scenarios"] = scenarios
        return data

    def _scenarios(self, policy: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The Kịch bản sheet (the batch helper's reader, :mod:`.scenarios`), located the same way."""
        from .scenarios import read_scenario_sheet

        fields = {}
        for c in (policy or {}).get("constraints", []):
            field = _value_field(c)
            if field is not None:
                fields[c["name"]] = field
        scenarios, problems, cells = read_scenario_sheet(self.book, unit=self.cells.ctx.unit, constraint_fields=fields)
        self.problems += problems
        for path, address in cells.items():
            sheet, _, cell = address.rpartition("!")
            self.locs.map[path] = Source(sheet=sheet or None, cell=cell or None)
        return scenarios

    def _join_failed(self, tdef: TableDef) -> None:
        """A joined table that could not be read: its parents' lists are unknown, not empty."""
        assert tdef.join is not None
        for parent in self.items[tdef.join.parent]:
            parent.failed.add(tdef.join.into)

    def _amount_range(self) -> None:
        """The budget total is located at the range of the amount cells."""
        cells = [it.locs["amount"] for it in self.items["budget_lines"] if "amount" in it.locs]
        if cells and cells[0].sheet == cells[-1].sheet:
            self.locs.map["budget_lines"] = Source(sheet=cells[0].sheet, cell=f"{cells[0].cell}:{cells[-1].cell}", row=cells[0].row)

    def _policy(self) -> dict[str, Any] | None:
        """The allocation policy, if the plan has one (a method, a constraint or a curve)."""
        settings = self.items["policy"][0] if self.items["policy"] else None
        parts = {key: self.items[key] for key in _POLICY_PARTS}
        if (settings is None or settings.data.get("kind") is None) and not any(parts.values()):
            return None
        policy = dict(settings.data) if settings is not None else {}
        if settings is not None:
            self.locs.add("allocation", settings)
        for key, items in parts.items():
            path = TABLE_BY_KEY[key].path or ""
            policy[path.removeprefix("allocation.")] = [it.data for it in items]
            self.locs.add_list(path, items)
        return policy

    # -- step 4: checks, located --------------------------------------------------------------
    def check(self, data: dict[str, Any]) -> Plan | None:
        self.unread.attributes |= self.cells.failed_attributes
        for line in self.items["budget_lines"]:
            if line.failed:
                for what in ("task", "source"):
                    if isinstance(line.data.get(what), str):
                        self.unread.line_refs[what].add(line.data[what])
        found = salvage_plan(data)
        for p in found.problems:
            if not is_consequence(p, self.locs, self.unread):
                self.problems.append(relocate(p, self.locs))
        # A plan only if its data validates as a whole; beside problems at cells it lacks what
        # they could not read (for information: front ends refuse to allocate with any error).
        valid = not any(p.severity is Severity.ERROR for p in found.problems)
        return found.plan if valid else None

    def uncached_formulas(self) -> None:
        """Formulas saved without their value (a file written by a program that does not
        calculate) read as blank: one problem per sheet, at the first such cell."""
        scan = getattr(self.book, "uncached_formulas", None)
        if scan is None:
            return
        sheets = dict.fromkeys(s for s in (self.finder.sheet_for(t) for t in TABLES) if s)
        for sheet in sheets:
            cells = scan(sheet)
            self.cells.uncached.update((sheet, cell) for cell in cells)
            if cells:
                self.problems.append(Problem("workbook.uncached_formula", Source(sheet=sheet, cell=cells[0]), {"count": len(cells)}))

    def all_problems(self) -> list[Problem]:
        """Every problem, in the order of the book's sheets, then row, then column."""
        order = {name: i for i, name in enumerate(self.book.sheet_names())}
        problems = [*self.cells.problems, *self.problems]
        return sorted(problems, key=lambda p: _position(p, order))

    def locate(self, path: str) -> str | None:
        src = self.locs.locate(path)
        return str(src) if src is not None else None


def _value_field(constraint: dict[str, Any]) -> str | None:
    """The field a scenario's change of this constraint sets by default (None if it is unreadable)."""
    from pydantic import TypeAdapter, ValidationError

    from ...model.policy import Constraint
    from ...planning.scenarios import value_field

    try:
        return value_field(TypeAdapter(Constraint).validate_python(constraint))
    except ValidationError:
        return None


def _position(p: Problem, order: dict[str, int]) -> tuple[int, int, int]:
    """Where a problem sorts: its sheet's place in the book, then row, then column."""
    src = p.source
    if src.sheet is None:
        return (-1, 0, 0)
    cell = (src.cell or "").split(":")[0]
    letters = "".join(ch for ch in cell if ch.isalpha()).upper()
    digits = "".join(ch for ch in cell if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    row = src.row if src.row is not None else int(digits) if digits else 0
    return (order.get(src.sheet, len(order)), row, col)


def read_plan_grids_located(book: GridBook) -> tuple[Plan | None, list[Problem], Locate]:
    """Read a plan from a book: ``(plan or None, every problem, locate)``. ``locate(json_path)``
    gives the cell a value came from (``"Sheet!D7"`` or None), to place later findings such as
    an infeasibility diagnosis naming ``allocation.constraints[2]``. Never raises for bad data.
    The plan is None when its data does not validate; when some cell could not be read, a plan
    may still come back, without what could not be read (every problem says so)."""
    reading = _Reading(book)
    reading.uncached_formulas()
    if not reading.read_tables():
        return None, reading.problems, reading.locate
    plan = reading.check(reading.assemble())
    return plan, reading.all_problems(), reading.locate


def read_plan_grids_with_problems(book: GridBook) -> tuple[Plan | None, list[Problem]]:
    """Read a plan from a book; return ``(plan or None, every problem)`` — never raises for bad data."""
    plan, problems, _ = read_plan_grids_located(book)
    return plan, problems


def read_plan_grids(book: GridBook) -> Plan:
    """Read a plan from a :class:`~budgetlib.io.grid.GridBook`; raise :class:`PlanInvalid` with every
    error (warnings do not prevent reading)."""
    plan, problems = read_plan_grids_with_problems(book)
    if plan is None or any(p.severity is Severity.ERROR for p in problems):
        raise PlanInvalid(problems)
    return plan

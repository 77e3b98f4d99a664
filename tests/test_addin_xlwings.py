"""The xlwings adapter against a small stand-in for xlwings' object model (no Excel needed).

The fake implements only the calls :mod:`budgetlib.addin.xlbook` makes (sheets, ranges, used
range, tables, notes, charts, status bar, alerts) and behaves like Excel where it matters here:
a leading apostrophe makes text, ``used_range`` starts at the first used cell, table names are
unique in the workbook, deleting a sheet deletes its tables.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from budgetlib.addin import dispatch
from budgetlib.addin.dispatch import EXIT_CRASH, EXIT_OK
from budgetlib.addin.xlbook import XlwingsBook, draw_sheet, excel_cell_value
from budgetlib.io import load_plan
from budgetlib.io.grid import SheetSpec, TableSpec, column_index
from budgetlib.io.workbook import plan_sheets

ROOT = Path(__file__).resolve().parent.parent
HAIPHONG = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"


def _rc(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    assert m, ref
    return int(m.group(2)), column_index(m.group(1))


class Font:
    def __init__(self, rng: "Range"):
        self.__dict__["_rng"] = rng

    def __setattr__(self, key: str, value: Any) -> None:
        for cell in self._rng.cells():
            self._rng.sheet.fonts.setdefault(cell, {})[key] = value


class Range:
    def __init__(self, sheet: "Sheet", r1: int, c1: int, r2: int, c2: int):
        self.sheet, self.row, self.column, self.r2, self.c2 = sheet, r1, c1, r2, c2

    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.row, self.r2 + 1) for c in range(self.column, self.c2 + 1)]

    def options(self, ndim: int = 1) -> "Range":
        return self

    @property
    def value(self) -> Any:
        return [[self.sheet.cells.get((r, c)) for c in range(self.column, self.c2 + 1)] for r in range(self.row, self.r2 + 1)]

    @value.setter
    def value(self, block: Any) -> None:
        self.sheet.log.append(("value", self.row, self.column))
        for i, row in enumerate(block):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("'"):
                    v = v[1:]  # Excel: an apostrophe makes text and is not part of the value
                key = (self.row + i, self.column + j)
                if v is None or v == "":
                    self.sheet.cells.pop(key, None)
                else:
                    self.sheet.cells[key] = v

    @property
    def number_format(self) -> str:
        return self.sheet.formats.get((self.row, self.column), "General")

    @number_format.setter
    def number_format(self, fmt: str) -> None:
        self.sheet.log.append(("format", self.row, self.column))
        for cell in self.cells():
            self.sheet.formats[cell] = fmt

    @property
    def font(self) -> Font:
        return Font(self)

    def __setattr__(self, key: str, value: Any) -> None:
        if key in ("wrap_text", "column_width"):
            self.sheet.attrs[(key, self.column)] = value
        else:
            object.__setattr__(self, key, value)

    def add_note(self, text: str) -> None:
        self.sheet.notes[(self.row, self.column)] = text

    @property
    def api(self) -> Any:
        raise NotImplementedError("COM only")

    @property
    def data_validation(self) -> Any:
        rng = self

        class Validation:
            def set_list(self, source: Any) -> None:
                shown = source if isinstance(source, list) else f"{source.sheet.name}!{source.address}"
                rng.sheet.validations[rng.address] = shown

            @property
            def api(self) -> Any:
                raise NotImplementedError("COM only")  # prompts are best effort

        return Validation()

    @property
    def address(self) -> str:
        from budgetlib.io.grid import range_ref

        return range_ref(self.row, self.column, self.r2, self.c2, absolute=True)


def _check_table_name(name: str) -> None:
    """Excel: a table name starts with a letter, "_" or "\\" and has no spaces or punctuation."""
    if not re.fullmatch(r"[^\W\d][\w.]*", name):
        raise ValueError(f"invalid table name {name!r}")


class Table:
    def __init__(self, book: "Book", sheet: "Sheet", name: str, rng: Range):
        self.book, self.sheet, self._name, self.range = book, sheet, name, rng

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        _check_table_name(value)
        if value in self.book.table_names():
            raise ValueError(f"table name {value} exists")
        self._name = value


class Tables(list):
    def __init__(self, book: "Book", sheet: "Sheet"):
        super().__init__()
        self.book, self.sheet = book, sheet

    def add(self, source: Range, name: str, table_style_name: str = "") -> Table:
        _check_table_name(name)
        if name in self.book.table_names():
            raise ValueError(f"A table named {name} already exists")
        t = Table(self.book, self.sheet, name, source)
        self.append(t)
        return t


class Freeze:
    def __init__(self, sheet: "Sheet"):
        self.sheet = sheet

    def freeze_at(self, ref: str) -> None:
        self.sheet.frozen = ref


class Charts(list):
    def add(self, **kwargs: Any) -> Any:
        chart = type("Chart", (), {})()
        chart.kwargs = kwargs
        self.append(chart)
        return chart


class Sheet:
    def __init__(self, book: "Book", name: str):
        self.book, self.name = book, name
        self.cells: dict[tuple[int, int], Any] = {}
        self.formats: dict[tuple[int, int], str] = {}
        self.fonts: dict[tuple[int, int], dict[str, Any]] = {}
        self.attrs: dict[Any, Any] = {}
        self.notes: dict[tuple[int, int], str] = {}
        self.validations: dict[str, Any] = {}
        self.log: list[tuple[str, int, int]] = []
        self.tables = Tables(book, self)
        self.charts = Charts()
        self.freeze_panes = Freeze(self)
        self.frozen: str | None = None
        self.visible = True

    def range(self, a: Any, b: Any = None) -> Range:
        if isinstance(a, str):
            if "," in a:
                return Range(self, 1, 1, 1, 1)
            first, _, last = a.partition(":")
            (r1, c1), (r2, c2) = _rc(first), _rc(last or first)
            return Range(self, r1, c1, r2, c2)
        (r1, c1), (r2, c2) = a, (b or a)
        return Range(self, r1, c1, r2, c2)

    @property
    def used_range(self) -> Range:
        if not self.cells:
            return Range(self, 1, 1, 1, 1)
        rows = [r for r, _ in self.cells]
        cols = [c for _, c in self.cells]
        return Range(self, min(rows), min(cols), max(rows), max(cols))

    def delete(self) -> None:
        self.book.sheets.remove(self)

    def activate(self) -> None:
        self.book.sheets.active = self

    @property
    def book(self) -> "Book":
        return self._book

    @book.setter
    def book(self, value: "Book") -> None:
        self._book = value


class Sheets(list):
    active: Sheet | None = None

    def __getitem__(self, key: Any) -> Sheet:
        if isinstance(key, str):
            for s in self:
                if s.name == key:
                    return s
            raise KeyError(key)
        return list.__getitem__(self, key)

    def add(self, name: str, after: Sheet | None = None) -> Sheet:
        if any(s.name == name for s in self):
            raise ValueError(f"sheet {name} exists")
        sheet = Sheet(self.book, name)
        self.insert(self.index(after) + 1 if after is not None else 0, sheet)
        self.active = sheet
        return sheet


class App:
    def __init__(self) -> None:
        self.screen_updating = True
        self.status_bar: Any = False
        self.statuses: list[Any] = []
        self.alerts: list[tuple[str, str | None, str | None]] = []
        self.books = type("Books", (), {"add": lambda _self: self._new_book()})()
        self.new: list[Book] = []

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "status_bar" and "statuses" in self.__dict__:
            self.statuses.append(value)
        object.__setattr__(self, key, value)

    def alert(self, prompt: str, title: str | None = None, buttons: str = "ok", mode: str | None = None) -> str:
        self.alerts.append((prompt, title, mode))
        return "ok"

    def _new_book(self) -> "Book":
        book = Book(self, "Book2")
        book.sheets.add("Sheet1")
        self.new.append(book)
        return book


class Book:
    def __init__(self, app: App, name: str):
        self.app, self.name, self.fullname = app, name, name
        self.sheets = Sheets()
        self.sheets.book = self

    def table_names(self) -> set[str]:
        return {t.name for s in self.sheets for t in s.tables}


def book_with(specs: list[SheetSpec]) -> Book:
    """A fake live workbook holding ``specs``, drawn the way the add-in draws them."""
    book = Book(App(), "kehoach.xlsx")
    for spec in specs:
        sheet = book.sheets.add(spec.name, after=book.sheets[len(book.sheets) - 1] if book.sheets else None)
        draw_sheet(sheet, spec)
        for t in spec.tables:
            sheet.tables.add(source=sheet.range(t.ref), name=t.name)
    return book


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(tmp_path / "addin.log"))


def test_grid_is_the_used_range_with_its_origin() -> None:
    book = Book(App(), "b.xlsx")
    sheet = book.sheets.add("Địa bàn")
    sheet.range((3, 2), (4, 3)).value = [["Mã", "Dân số"], ["303", 96111.0]]
    grid = XlwingsBook(book).grid("Địa bàn")
    assert (grid.origin_row, grid.origin_col) == (3, 2)
    assert grid.value(1, 1) == 96111 and isinstance(grid.value(1, 1), int)
    assert grid.address(1, 1) == "Địa bàn!C4"


def test_text_that_excel_would_convert_is_quoted() -> None:
    assert excel_cell_value("303") == "'303"
    assert excel_cell_value("1.234,5") == "'1.234,5"
    assert excel_cell_value("2011-12") == "'2011-12" and excel_cell_value("1/2") == "'1/2"
    assert excel_cell_value("=SUM(A1:A3)") == "=SUM(A1:A3)"
    assert excel_cell_value("Quận Một") == "Quận Một"
    assert excel_cell_value(5) == 5


def test_draw_sheet() -> None:
    book = Book(App(), "b.xlsx")
    sheet = book.sheets.add("X")
    spec = SheetSpec("X", [["Mã", "Tiền"], ["303", 1000], [None, "=SUM(B2:B2)"]], column_formats={0: "@", 1: "#,##0"},
                     format_from_row=2, bold_rows={1}, comments={"A1": "code"}, freeze="A2")
    draw_sheet(sheet, spec)
    kinds = [k for k, *_ in sheet.log]
    assert kinds[0] == "value"  # then formats, as the openpyxl renderer: numbers stay numbers
    assert sheet.cells[(2, 1)] == "303" and sheet.cells[(3, 2)] == "=SUM(B2:B2)"
    assert sheet.formats[(2, 2)] == "#,##0" and sheet.fonts[(1, 1)]["bold"] is True
    assert sheet.notes[(1, 1)] == "code"


def test_write_sheets_replaces_results_and_keeps_inputs() -> None:
    old = SheetSpec("Nhật ký", [["old"], ["x", "y"]], tables=[TableSpec("KQ_NhatKy", "A2:B2")])
    book = book_with([SheetSpec("Địa bàn", [["Mã"], ["303"]]), old])
    new = SheetSpec("Nhật ký", [["Nhật ký"], ["Thông tin", "Giá trị"], ["a", "b"]], tables=[TableSpec("KQ_NhatKy", "A2:B3")])
    XlwingsBook(book).write_sheets([new], remove=[])
    assert [s.name for s in book.sheets] == ["Địa bàn", "Nhật ký"]
    assert book.sheets["Nhật ký"].cells[(3, 1)] == "a"
    assert book.sheets["Địa bàn"].cells == {(1, 1): "Mã", (2, 1): "303"}
    assert book.table_names() == {"KQ_NhatKy"}
    assert book.app.screen_updating is True


def test_write_sheets_is_all_or_nothing(monkeypatch) -> None:
    old = SheetSpec("Nhật ký", [["old"], ["x", "y"]], tables=[TableSpec("KQ_NhatKy", "A2:B2")])
    book = book_with([SheetSpec("Địa bàn", [["Mã"], ["303"]]), old])
    before = {s.name: dict(s.cells) for s in book.sheets}
    calls = []

    def flaky(sheet: Any, spec: SheetSpec) -> None:
        calls.append(spec.name)
        if len(calls) == 2:
            raise RuntimeError("Excel is busy")
        draw_sheet(sheet, spec)

    monkeypatch.setattr("budgetlib.addin.xlbook.draw_sheet", flaky)
    specs = [SheetSpec("Phân bổ", [["a"]]), SheetSpec("Nhật ký", [["new"]])]
    with pytest.raises(RuntimeError, match="busy"):
        XlwingsBook(book).write_sheets(specs)
    assert {s.name: dict(s.cells) for s in book.sheets} == before
    assert book.table_names() == {"KQ_NhatKy"} and book.app.screen_updating is True


def test_allocate_through_the_xlwings_adapter() -> None:
    inputs = plan_sheets(load_plan(HAIPHONG))
    book = book_with(inputs)
    before = {s.name: dict(s.cells) for s in book.sheets}
    out = dispatch("btnAllocate", XlwingsBook(book))
    assert out.exit_code == EXIT_OK, book.app.alerts
    names = [s.name for s in book.sheets]
    assert names[: len(inputs)] == [s.name for s in inputs]
    assert {"Phân bổ", "Năm 2011", "Tổng hợp", "Nhật ký"} <= set(names)
    for name, cells in before.items():
        assert book.sheets[name].cells == cells, name
    assert any(isinstance(s, str) and "/5" in s for s in book.app.statuses), book.app.statuses
    assert book.app.statuses[-1] is False  # status bar handed back to Excel
    prompt, _title, mode = book.app.alerts[-1]
    assert "22.500.000.000" in prompt and mode == "info"
    assert not any(s.name.startswith("~bl") for s in book.sheets)


def test_an_excel_failure_mid_write_is_reported_and_rolled_back(monkeypatch) -> None:
    book = book_with(plan_sheets(load_plan(HAIPHONG)))
    names = [s.name for s in book.sheets]

    def boom(*a: Any, **k: Any) -> None:
        raise OSError("the workbook is protected")

    monkeypatch.setattr(Tables, "add", boom)
    out = dispatch("btnAllocate", XlwingsBook(book))
    assert out.exit_code == EXIT_CRASH
    assert [s.name for s in book.sheets] == names
    assert book.app.alerts[-1][2] == "critical" and "protected" in book.app.alerts[-1][0]


def test_new_book_draws_the_template() -> None:
    book = Book(App(), "Book1")
    book.sheets.add("Sheet1")
    assert dispatch("btnNew", XlwingsBook(book)).exit_code == EXIT_OK
    (new,) = book.app.new
    assert "Sheet1" not in [s.name for s in new.sheets] and "Chương trình" in [s.name for s in new.sheets]
    # dropdowns that point at other sheets are drawn (every sheet exists before any is drawn)
    dropdowns = [v for s in new.sheets for v in s.validations.values()]
    assert any(isinstance(v, str) and v.startswith("Cơ quan!") for v in dropdowns), dropdowns[:5]

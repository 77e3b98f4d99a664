"""The buttons' Python side without Excel: dispatch(button_id, book) on an in-memory book."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pytest

import budgetlib.addin as addin
from budgetlib import __version__
from budgetlib.addin import BUTTON_IDS, dispatch, log_path, python_command
from budgetlib.addin.dispatch import EXIT_CRASH, EXIT_INVALID, EXIT_OK, EXIT_USAGE
from budgetlib.io import load_plan
from budgetlib.io.grid import DictBook, Grid, SheetSpec
from budgetlib.io.workbook import plan_sheets

ROOT = Path(__file__).resolve().parent.parent
HAIPHONG = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"
XLWINGS = importlib.metadata.version("xlwings")


@dataclass
class MemoryBook:
    """A BookAdapter over sheet name → rows; records what a user would see."""

    sheets: dict[str, list[list[Any]]]
    name: str = "kehoach.xlsx"
    path: Path | None = None
    saved_file: Path | None = None
    alerts: list[tuple[str, bool]] = field(default_factory=list)
    statuses: list[str | None] = field(default_factory=list)
    opened: list[Path] = field(default_factory=list)
    new_books: list[list[SheetSpec]] = field(default_factory=list)
    writes: int = 0

    @classmethod
    def of_plan(cls, path: Path = HAIPHONG) -> "MemoryBook":
        return cls({s.name: [list(r) for r in s.rows] for s in plan_sheets(load_plan(path))})

    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def grid(self, name: str) -> Grid:
        return DictBook(self.sheets).grid(name)

    def tables(self) -> list:
        return []

    def write_sheets(self, specs: Sequence[SheetSpec], *, remove: Sequence[str] = ()) -> None:
        self.writes += 1
        for n in remove:
            self.sheets.pop(n, None)
        for s in specs:
            self.sheets[s.name] = [list(r) for r in s.rows]

    def new_book(self, specs: Sequence[SheetSpec], *, name: str) -> None:
        self.new_books.append(list(specs))

    def status(self, text: str | None) -> None:
        self.statuses.append(text)

    def alert(self, text: str, *, title: str = "", critical: bool = False) -> None:
        self.alerts.append((text, critical))

    def open_path(self, path: Path) -> None:
        self.opened.append(path)


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "home" / ".budgetlib" / "addin.log"
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(path))
    return path


def _snapshot(book: MemoryBook, names: Sequence[str]) -> dict[str, list[list[Any]]]:
    return {n: [list(r) for r in book.sheets[n]] for n in names}


def test_validate_a_valid_plan_leaves_inputs_untouched() -> None:
    book = MemoryBook.of_plan()
    inputs = list(book.sheets)
    before = _snapshot(book, inputs)
    book.sheets["Lỗi"] = [["stale"]]  # from an earlier run
    out = dispatch("btnValidate", book, addin_version=__version__, xlwings_vba=XLWINGS)
    assert out.exit_code == EXIT_OK, book.alerts
    assert out.written == ["Nhật ký"] and out.removed == ["Lỗi"]
    assert "Lỗi" not in book.sheets
    assert _snapshot(book, inputs) == before
    assert book.alerts and "Kế hoạch hợp lệ" in book.alerts[-1][0] and not book.alerts[-1][1]
    assert book.statuses[-1] is None  # the status bar is given back to Excel


def test_validate_reports_every_problem_with_its_cell() -> None:
    book = MemoryBook.of_plan()
    sheet = "Địa bàn"
    rows = book.sheets[sheet]
    r = next(i for i, row in enumerate(rows) if row and row[0] not in (None, "") and i >= 3)
    c = next(j for j, v in enumerate(rows[r]) if isinstance(v, int) and not isinstance(v, bool))
    rows[r][c] = "nhiều lắm"
    out = dispatch("btnValidate", book)
    assert out.exit_code == EXIT_INVALID
    assert {"Lỗi", "Nhật ký"} <= set(out.written)
    cell = DictBook(book.sheets).grid(sheet).address(r, c)
    assert any(p.location == cell for p in out.problems), [p.location for p in out.problems]
    text, critical = book.alerts[-1]
    assert critical and cell in text
    assert any(row and row[0] == cell for row in book.sheets["Lỗi"])


def test_validate_an_empty_workbook() -> None:
    book = MemoryBook({"Sheet1": [[None]]})
    out = dispatch("btnValidate", book)
    assert out.exit_code == EXIT_INVALID
    assert book.sheets["Sheet1"] == [[None]]
    assert "Chương trình" in book.alerts[-1][0]


def test_unknown_button_says_reinstall() -> None:
    book = MemoryBook({})
    out = dispatch("btnFromTheFuture", book)
    assert out.exit_code == EXIT_USAGE
    assert "budgetlib addin install" in book.alerts[-1][0] and book.alerts[-1][1]
    assert book.writes == 0


def test_crash_is_shown_readably_logged_and_writes_nothing(monkeypatch, _log: Path) -> None:
    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr("budgetlib.pipeline.run_validate", boom)
    book = MemoryBook.of_plan()
    before = _snapshot(book, list(book.sheets))
    out = dispatch("btnValidate", book)
    assert out.exit_code == EXIT_CRASH
    text, critical = book.alerts[-1]
    assert critical and "RuntimeError: solver exploded" in text and str(_log) in text
    assert book.writes == 0 and _snapshot(book, list(book.sheets)) == before
    logged = _log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "solver exploded" in logged


def test_a_result_never_overwrites_an_input_sheet(monkeypatch) -> None:
    book = MemoryBook.of_plan()
    book.sheets["Nhật ký"] = [["nhật ký công tác của tôi"]]
    monkeypatch.setattr("budgetlib.pipeline.is_result_sheet", lambda name: name != "Nhật ký")
    out = dispatch("btnValidate", book)
    assert out.exit_code == EXIT_USAGE
    assert book.sheets["Nhật ký"] == [["nhật ký công tác của tôi"]] and book.writes == 0
    assert "Nhật ký" in book.alerts[-1][0]


def test_version_mismatch_warns_and_goes_on() -> None:
    book = MemoryBook.of_plan()
    out = dispatch("btnValidate", book, addin_version="0.0.1", xlwings_vba="0.1.0")
    assert out.exit_code == EXIT_OK
    warning = book.alerts[0][0]
    assert "0.0.1" in warning and __version__ in warning and "0.1.0" in warning and XLWINGS in warning


def test_version_button() -> None:
    book = MemoryBook({})
    assert dispatch("btnVersion", book, addin_version=__version__, xlwings_vba=XLWINGS).exit_code == EXIT_OK
    text = book.alerts[-1][0]
    assert f"budgetlib (Python): {__version__}" in text and XLWINGS in text and "khớp" in text
    assert dispatch("btnVersion", book, addin_version="9.9.9", xlwings_vba=XLWINGS).exit_code == EXIT_USAGE


def test_log_button_opens_the_run_log(_log: Path) -> None:
    book = MemoryBook({})
    dispatch("btnVersion", book)
    out = dispatch("btnLog", book)
    assert book.opened == [log_path()] == [_log]
    assert "click btnVersion" in _log.read_text(encoding="utf-8")
    assert out.exit_code == EXIT_OK


def test_guide_button_opens_the_guide_as_html() -> None:
    book = MemoryBook({})
    dispatch("btnGuide", book)
    (page,) = book.opened
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<h1>" in html and "Trust Center" in html
    for b in addin.BUTTONS:
        assert b.label_vi in html, f"the guide does not explain {b.label_vi}"


def test_new_workbook_button_draws_the_template() -> None:
    book = MemoryBook({})
    out = dispatch("btnNew", book)
    assert out.exit_code == EXIT_OK
    (specs,) = book.new_books
    names = [s.name for s in specs]
    assert "Chương trình" in names and "Địa bàn" in names
    assert not any(s.kind != "input" and s.name != "Hướng dẫn" for s in specs), [(s.name, s.kind) for s in specs]


def test_the_exact_ribbon_command_runs_dispatch(monkeypatch) -> None:
    """What RunPython executes: the command string from the add-in, against a stand-in caller."""
    book = MemoryBook.of_plan()
    monkeypatch.setattr("budgetlib.addin.xlbook.XlwingsBook.caller", classmethod(lambda cls: book))
    for button_id in ("btnValidate", "btnVersion"):
        exec(python_command(button_id, addin=__version__, xlwings=XLWINGS), {})  # noqa: S102
    assert "Nhật ký" in book.sheets
    assert len(book.alerts) == 2 and not any(critical for _, critical in book.alerts)


def test_every_button_has_a_handler() -> None:
    from budgetlib.addin.dispatch import _HANDLERS

    assert {addin.buttons.button(b).action for b in BUTTON_IDS} == set(_HANDLERS)


def test_xlwings_is_imported_only_when_excel_calls() -> None:
    import subprocess
    import sys

    code = (
        "import sys, budgetlib, budgetlib.pipeline, budgetlib.cli, budgetlib.addin, budgetlib.addin.build, "
        "budgetlib.addin.install, budgetlib.addin.xlbook, budgetlib.addin.filebook; "
        "assert 'xlwings' not in sys.modules, 'xlwings was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

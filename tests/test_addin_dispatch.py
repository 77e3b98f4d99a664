"""What each button does, through the live-workbook adapter on the stand-in for Excel: messages in
both languages, problems located, crashes logged and shown without claiming more than is known."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import pytest

import budgetlib.addin as addin
from budgetlib import __version__
from budgetlib.addin import BUTTON_IDS, dispatch, log_path, python_command
from budgetlib.addin.dispatch import EXIT_CRASH, EXIT_INVALID, EXIT_OK, EXIT_USAGE, resolve_lang
from budgetlib.addin.xlbook import XlwingsBook
from budgetlib.core.lang import Lang
from budgetlib.io.workbook import write_plan_workbook

from .addin_standin import StandIn
from .conftest import tiny_plan_data

XLWINGS = importlib.metadata.version("xlwings")


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "home" / ".budgetlib" / "addin.log"
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(path))
    monkeypatch.delenv("BUDGETLIB_LANG", raising=False)
    return path


@pytest.fixture(scope="module")
def plan_xlsx(tmp_path_factory) -> Path:
    from budgetlib.planning.validation import load_plan_data

    return write_plan_workbook(load_plan_data(tiny_plan_data()), tmp_path_factory.mktemp("plan") / "kehoach.xlsx")


@pytest.fixture
def excel():
    with StandIn() as s:
        yield s


@pytest.fixture
def live(excel: StandIn, plan_xlsx: Path) -> XlwingsBook:
    return XlwingsBook(excel.open(plan_xlsx))


def _last(excel: StandIn) -> tuple[str, bool]:
    prompt, _title, style = excel.alerts[-1]
    return prompt, bool(style & 0x30) and not style & 0x40  # MB_ICONWARNING: the add-in's "critical"


def _cells(book: XlwingsBook, name: str) -> list[list[Any]]:
    return book.book.sheets[name].used_range.options(ndim=2).value


def test_validate_a_valid_plan_leaves_inputs_untouched(live: XlwingsBook, excel: StandIn) -> None:
    inputs = live.sheet_names()
    before = {n: _cells(live, n) for n in inputs}
    out = dispatch("btnValidate", live, addin_version=__version__, xlwings_vba=XLWINGS)
    assert out.exit_code == EXIT_OK and out.written == ["Nhật ký"]
    assert {n: _cells(live, n) for n in inputs} == before
    text, critical = _last(excel)
    assert text.startswith("Kế hoạch hợp lệ.") and "1.200.000.000 đ" in text and not critical
    assert live.book.app.status_bar in (False, None, "")  # handed back to Excel


@pytest.mark.parametrize(("lang", "solving", "other"), [("vi", "budgetlib: Giải bài toán phân bổ (2/5)", "Solving"),
                                                        ("en", "budgetlib: Solving the allocation (2/5)", "Giải")])
def test_status_bar_texts_are_in_the_ribbon_language(live: XlwingsBook, monkeypatch, lang: str, solving: str, other: str) -> None:
    """The allocator reports its steps as catalogue messages; Excel's status bar shows them in the ribbon's language."""
    shown: list[str | None] = []
    original = XlwingsBook.status_text
    monkeypatch.setattr(XlwingsBook, "status_text", lambda self, text: (shown.append(text), original(self, text))[1])
    assert dispatch("btnAllocate", live, lang=lang).exit_code == EXIT_OK
    texts = [t for t in shown if t]
    assert solving in texts and not any(other in t for t in texts), texts
    assert shown[-1] is None  # the bar is handed back to Excel


def test_a_stale_errors_sheet_goes_after_a_clean_check(live: XlwingsBook, excel: StandIn) -> None:
    sheet = live.book.sheets["Địa bàn"]
    good = sheet.range("E4").value
    sheet.range("E4").value = "'nhiều lắm"
    assert dispatch("btnValidate", live).exit_code == EXIT_INVALID and "Lỗi" in live.sheet_names()
    sheet.range("E4").value = good
    out = dispatch("btnValidate", live)
    assert out.exit_code == EXIT_OK and out.removed == ["Lỗi"] and "Lỗi" not in live.sheet_names()


def test_validate_reports_every_problem_with_its_cell(live: XlwingsBook, excel: StandIn) -> None:
    live.book.sheets["Địa bàn"].range("E4").value = "'nhiều lắm"
    out = dispatch("btnValidate", live)
    assert out.exit_code == EXIT_INVALID and {"Lỗi", "Nhật ký"} <= set(out.written)
    text, critical = _last(excel)
    assert critical and "Địa bàn!E4" in text and "«Lỗi»" in text
    assert any(row and row[0] == "Địa bàn!E4" for row in _cells(live, "Lỗi"))


def test_the_messages_follow_the_language(live: XlwingsBook, excel: StandIn) -> None:
    out = dispatch("btnValidate", live, lang="en")
    assert out.exit_code == EXIT_OK and out.written == ["Run log"]
    text, _ = _last(excel)
    assert text.startswith("The plan is valid.") and "1,200,000,000 VND" in text and "Kế hoạch" not in text.split("\n")[0]
    assert excel.alerts[-1][1] == "budgetlib – Budget"


def test_language_resolution(monkeypatch) -> None:
    assert resolve_lang("en") is Lang.EN and resolve_lang(None) is Lang.VI
    monkeypatch.setenv("BUDGETLIB_LANG", "en")
    assert resolve_lang(None) is Lang.EN and resolve_lang("vi") is Lang.VI
    assert resolve_lang("fr") is Lang.EN  # an unknown value falls through to the next source, never fails a click


def test_validate_an_empty_workbook(excel: StandIn) -> None:
    book = XlwingsBook(excel.new())
    out = dispatch("btnValidate", book)
    assert out.exit_code == EXIT_INVALID
    assert "Chương trình" in _last(excel)[0]


def test_unknown_button_says_reinstall(live: XlwingsBook, excel: StandIn) -> None:
    before = live.sheet_names()
    out = dispatch("btnFromTheFuture", live)
    assert out.exit_code == EXIT_USAGE and live.sheet_names() == before
    text, critical = _last(excel)
    assert critical and "budgetlib addin install" in text and "«btnFromTheFuture»" in text


def test_a_crash_before_writing_says_nothing_was_written(live: XlwingsBook, excel: StandIn, monkeypatch, _log: Path) -> None:
    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr("budgetlib.pipeline.run_validate", boom)
    before = live.sheet_names()
    out = dispatch("btnValidate", live)
    assert out.exit_code == EXIT_CRASH and live.sheet_names() == before
    text, critical = _last(excel)
    assert critical and "RuntimeError: solver exploded" in text and str(_log) in text
    assert "Chưa có trang kết quả nào được ghi." in text and "«Nhật ký chạy»" in text
    logged = _log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "solver exploded" in logged


def test_a_crash_after_writing_names_what_was_written(live: XlwingsBook, excel: StandIn, monkeypatch) -> None:
    import sys

    d = sys.modules["budgetlib.addin.dispatch"]  # the package re-exports the function under this name

    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("message box failed to render")

    monkeypatch.setattr(d, "_ok_message", boom)
    out = dispatch("btnValidate", live)
    assert out.exit_code == EXIT_CRASH and out.written == ["Nhật ký"]
    text, _ = _last(excel)
    assert "Các trang kết quả đã ghi xong trước khi lỗi: «Nhật ký»." in text and "Chưa có trang" not in text


def test_version_mismatch_warns_and_goes_on(live: XlwingsBook, excel: StandIn) -> None:
    out = dispatch("btnValidate", live, addin_version="0.0.1", xlwings_vba="0.1.0")
    assert out.exit_code == EXIT_OK
    warning = excel.alerts[0][0]
    assert "0.0.1" in warning and __version__ in warning and "0.1.0" in warning and XLWINGS in warning


def test_version_button(live: XlwingsBook, excel: StandIn) -> None:
    assert dispatch("btnVersion", live, addin_version=__version__, xlwings_vba=XLWINGS).exit_code == EXIT_OK
    text = _last(excel)[0]
    assert f"budgetlib (Python): {__version__}" in text and XLWINGS in text and "khớp" in text
    assert dispatch("btnVersion", live, addin_version="9.9.9", xlwings_vba=XLWINGS).exit_code == EXIT_USAGE
    assert dispatch("btnVersion", live, lang="en").exit_code == EXIT_OK and "Add-in: unknown" in _last(excel)[0]


def test_log_button_opens_the_run_log(live: XlwingsBook, monkeypatch, _log: Path) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(XlwingsBook, "open_path", lambda self, p: opened.append(p))  # the OS's file opener
    dispatch("btnVersion", live)
    out = dispatch("btnLog", live)
    assert opened == [log_path()] == [_log] and out.exit_code == EXIT_OK
    assert "click btnVersion" in _log.read_text(encoding="utf-8")


def test_guide_button_opens_the_guide_as_html(live: XlwingsBook, monkeypatch) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(XlwingsBook, "open_path", lambda self, p: opened.append(p))
    dispatch("btnGuide", live)
    (page,) = opened
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<h1 id=" in html and "Trust Center" in html and "Mark of the Web" in html
    for b in addin.BUTTONS:
        assert b.label("vi") in html, f"the guide does not explain {b.label('vi')}"


def test_the_exact_ribbon_command_runs_dispatch(live: XlwingsBook, excel: StandIn) -> None:
    """What RunPython executes: the command string from the add-in, with this book as xw.Book.caller()."""
    excel.caller(live.book)
    for button_id in ("btnValidate", "btnVersion"):
        exec(python_command(button_id, addin=__version__, xlwings=XLWINGS, lang="vi"), {})
    assert "Nhật ký" in live.sheet_names()
    assert len(excel.alerts) == 2 and not any(style & 0x30 for _, _, style in excel.alerts)


def test_every_button_has_a_handler_and_texts() -> None:
    from budgetlib.addin.dispatch import _HANDLERS
    from budgetlib.core.i18n import catalogue

    assert {addin.buttons.button(b).action for b in BUTTON_IDS} <= set(_HANDLERS)
    for lang in ("vi", "en"):
        codes = catalogue(lang)
        for b in addin.BUTTONS:
            for kind in ("label", "screentip", "supertip"):
                assert f"addin.ribbon.{b.key}.{kind}" in codes
            if b.action == "pipeline":
                assert f"addin.done.{b.key}" in codes and b.pipeline


def test_xlwings_is_imported_only_when_excel_calls() -> None:
    import subprocess
    import sys

    code = (
        "import sys, budgetlib, budgetlib.pipeline, budgetlib.cli, budgetlib.addin, budgetlib.addin.build, "
        "budgetlib.addin.install, budgetlib.addin.xlbook, budgetlib.addin.filebook, budgetlib.addin.doctor; "
        "assert 'xlwings' not in sys.modules, 'xlwings was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

"""The buttons on an ``.xlsx`` file without Excel (:class:`~budgetlib.addin.filebook.OpenpyxlAdapter`):
the same result sheets as the CLI, marked, written atomically; a missing, non-``.xlsx`` or locked
file is a located, translated message, never an "unexpected error"."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from budgetlib import __version__
from budgetlib.addin import python_command
from budgetlib.addin.dispatch import EXIT_CRASH, EXIT_INVALID, EXIT_OK, EXIT_USAGE, dispatch
from budgetlib.addin.filebook import OpenpyxlAdapter, marked_sheets
from budgetlib.io.workbook import OpenpyxlBook, write_plan_workbook, write_result_workbook
from budgetlib.io.workbook.results import is_result_sheet

ROOT = Path(__file__).resolve().parent.parent
HAIPHONG = ROOT / "examples" / "haiphong_2011_2015" / "plan.json"
XLWINGS = importlib.metadata.version("xlwings")
RUN_TIME_LABELS = {"Thời điểm chạy (UTC)", "Run time (UTC)"}


@pytest.fixture(scope="module")
def plan_xlsx(tmp_path_factory) -> Path:
    """A small valid plan (the Hải Phòng plan goes through the stand-in in test_addin_buttons)."""
    from budgetlib.planning.validation import load_plan_data

    from .conftest import tiny_plan_data

    return write_plan_workbook(load_plan_data(tiny_plan_data()), tmp_path_factory.mktemp("plan") / "kehoach.xlsx")


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BUDGETLIB_ADDIN_LOG", str(tmp_path / "addin.log"))


def _click(button_id: str, book: OpenpyxlAdapter, monkeypatch) -> None:
    """Run the exact statement the add-in passes to RunPython, with ``book`` as the calling workbook."""
    monkeypatch.setattr("budgetlib.addin.xlbook.XlwingsBook.caller", classmethod(lambda cls: book))
    exec(python_command(button_id, addin=__version__, xlwings=XLWINGS, lang="vi"), {})


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _cells(wb: Any, sheet: str) -> list[tuple[str, Any, str, bool]]:
    """(cell, value, number format, bold) of every non-empty cell; the run's timestamp masked."""
    if isinstance(wb, Path):
        wb = openpyxl.load_workbook(wb)
    out = []
    for row in wb[sheet].iter_rows():
        label = row[0].value if row else None
        for cell in row:
            if cell.value is None:
                continue
            value = "<time>" if label in RUN_TIME_LABELS and cell.column > 1 else cell.value
            out.append((cell.coordinate, value, cell.number_format, bool(cell.font and cell.font.b)))
    return out


def _assert_same_workbooks(ours: Path, theirs: Path) -> None:
    a, b = openpyxl.load_workbook(ours), openpyxl.load_workbook(theirs)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        assert _cells(a, name) == _cells(b, name), name
        assert [c.data_type == "f" for r in a[name].iter_rows() for c in r if c.value is not None] == [
            c.data_type == "f" for r in b[name].iter_rows() for c in r if c.value is not None
        ], name
        assert dict(a[name].tables.items()) == dict(b[name].tables.items()), name
        assert a[name].freeze_panes == b[name].freeze_panes


def _pipeline_like_cli(src: Path, out: Path) -> Path:
    """What `budgetlib allocate SRC -o OUT` does: the pipeline, then the openpyxl writer."""
    from budgetlib.pipeline import run_allocate, sha256_file

    book = OpenpyxlBook(src)
    outcome = run_allocate(book, source_name=src.name, input_sha256=sha256_file(src))
    book.close()
    assert outcome.exit_code == 0, outcome.problems
    return write_result_workbook(outcome.sheets, out, source=src)


def test_allocate_button_writes_what_the_pipeline_writes(plan_xlsx: Path, tmp_path: Path, monkeypatch) -> None:
    ours = _copy(plan_xlsx, tmp_path / "addin" / plan_xlsx.name)
    book = OpenpyxlAdapter(ours)
    _click("btnAllocate", book, monkeypatch)
    assert not any(a.critical for a in book.alerts), book.alerts
    theirs = _pipeline_like_cli(plan_xlsx, tmp_path / "cli" / plan_xlsx.name)
    _assert_same_workbooks(ours, theirs)
    # input sheets untouched
    original, after = openpyxl.load_workbook(plan_xlsx), openpyxl.load_workbook(ours)
    for name in original.sheetnames:
        assert _cells(after, name) == _cells(original, name), name


def test_allocate_button_matches_the_cli(plan_xlsx: Path, tmp_path: Path, monkeypatch) -> None:
    from budgetlib.cli import main

    ours = _copy(plan_xlsx, tmp_path / "addin" / plan_xlsx.name)
    _click("btnAllocate", OpenpyxlAdapter(ours), monkeypatch)
    theirs = _copy(plan_xlsx, tmp_path / "cli" / plan_xlsx.name)
    assert main(["allocate", str(theirs), "-o", str(tmp_path / "cli" / "out.xlsx")]) == 0
    _assert_same_workbooks(ours, tmp_path / "cli" / "out.xlsx")


def test_validate_compare_allocate_refresh(plan_xlsx: Path, tmp_path: Path, monkeypatch) -> None:
    path = _copy(plan_xlsx, tmp_path / plan_xlsx.name)
    book = OpenpyxlAdapter(path)

    def sheets() -> list[str]:
        return openpyxl.load_workbook(path).sheetnames

    _click("btnValidate", book, monkeypatch)
    assert "Nhật ký" in sheets()
    _click("btnRefresh", book, monkeypatch)  # nothing to refresh yet
    assert "Phân bổ" in book.alerts[-1].text and "Tổng hợp" not in sheets()
    _click("btnCompare", book, monkeypatch)
    comparison = ["So sánh kịch bản", "KB theo địa bàn", "KB theo nhiệm vụ", "KB theo năm", "KB theo nguồn"]
    assert set(comparison) <= set(sheets()) and "Phân bổ" not in sheets()
    assert book.alerts[-1].text.startswith("Đã so sánh «Kế hoạch gốc» với 2 phương án: «Phương pháp theo tỷ lệ nhu cầu»")
    overview = [v for _, v, *_ in _cells(path, "So sánh kịch bản")]
    assert "Phương pháp công bằng (nâng mức thấp nhất)" in overview, overview[:30]
    _click("btnRefresh", book, monkeypatch)
    assert "So sánh kịch bản" in book.alerts[-1].text and book.alerts[-1].text.startswith("Đã làm mới")
    _click("btnAllocate", book, monkeypatch)
    assert {"Phân bổ", "Năm 2021", "Tổng hợp", "Nhật ký"} <= set(sheets()) and not set(comparison) & set(sheets())
    _click("btnRefresh", book, monkeypatch)
    assert "Phân bổ" in book.alerts[-1].text and "Đã làm mới" in book.alerts[-1].text
    assert not any(a.critical for a in book.alerts), [a.text for a in book.alerts if a.critical]


def test_a_failure_while_drawing_leaves_the_file_as_it_was(plan_xlsx: Path, tmp_path: Path, monkeypatch) -> None:
    path = _copy(plan_xlsx, tmp_path / plan_xlsx.name)
    before = path.read_bytes()
    import budgetlib.io.workbook.xlsx as xlsx

    real = xlsx.render_sheet
    drawn: list[str] = []

    def flaky(wb: Any, spec: Any, index: int | None = None) -> Any:
        drawn.append(spec.name)
        if len(drawn) == 3:
            raise OSError("disk full")
        return real(wb, spec, index)

    monkeypatch.setattr(xlsx, "render_sheet", flaky)
    book = OpenpyxlAdapter(path)
    out = dispatch("btnAllocate", book)
    assert out.exit_code == EXIT_CRASH
    assert path.read_bytes() == before
    assert book.alerts[-1].critical and "OSError: disk full" in book.alerts[-1].text


def test_new_workbook_button_writes_the_cli_template(tmp_path: Path) -> None:
    from budgetlib.cli import main

    anchor = tmp_path / "Book1.xlsx"
    openpyxl.Workbook().save(anchor)
    book = OpenpyxlAdapter(anchor)
    assert dispatch("btnNew", book).exit_code == EXIT_OK
    (new,) = book.new_books
    assert main(["template", str(tmp_path / "cli.xlsx")]) == 0
    _assert_same_workbooks(new, tmp_path / "cli.xlsx")
    assert not any(is_result_sheet(n) for n in openpyxl.load_workbook(new).sheetnames)


def test_written_sheets_are_marked_and_a_users_sheet_is_left_alone(plan_xlsx: Path, tmp_path: Path) -> None:
    path = _copy(plan_xlsx, tmp_path / plan_xlsx.name)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Nhật ký")["A1"] = "nhật ký công tác của tôi"
    wb.save(path)
    book = OpenpyxlAdapter(path)
    out = dispatch("btnAllocate", book)
    assert out.exit_code == EXIT_OK and out.renamed == {"Nhật ký": "Nhật ký (2)"}
    after = openpyxl.load_workbook(path)
    assert after["Nhật ký"]["A1"].value == "nhật ký công tác của tôi"
    assert marked_sheets(path) == set(out.written) and "Nhật ký" not in marked_sheets(path)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_missing_file_is_a_located_message(tmp_path: Path, lang: str) -> None:
    book = OpenpyxlAdapter(tmp_path / "khong_co.xlsx")
    out = dispatch("btnAllocate", book, lang=lang)
    assert out.exit_code == EXIT_USAGE
    text = book.alerts[-1].text
    assert "khong_co.xlsx" in text and ("Không tìm thấy" if lang == "vi" else "was not found") in text
    assert "Unexpected" not in text and "không mong đợi" not in text


def test_a_file_that_is_not_a_workbook_is_a_located_message(tmp_path: Path) -> None:
    for name, data in (("ke_hoach.csv", b"a,b\n1,2\n"), ("hong.xlsx", b"this is not a zip")):
        path = tmp_path / name
        path.write_bytes(data)
        book = OpenpyxlAdapter(path)
        out = dispatch("btnValidate", book)
        assert out.exit_code == EXIT_USAGE, name
        assert name in book.alerts[-1].text and ".xlsx" in book.alerts[-1].text and "không mong đợi" not in book.alerts[-1].text
        assert path.read_bytes() == data


def test_a_workbook_open_in_excel_is_refused_before_any_work(plan_xlsx: Path, tmp_path: Path) -> None:
    path = _copy(plan_xlsx, tmp_path / plan_xlsx.name)
    (tmp_path / f"~${path.name}").write_bytes(b"owner")  # Excel's lock file beside an open workbook
    before = path.read_bytes()
    book = OpenpyxlAdapter(path)
    out = dispatch("btnAllocate", book, lang="en")
    assert out.exit_code == EXIT_USAGE and path.read_bytes() == before
    assert "open in another program" in book.alerts[-1].text and path.name in book.alerts[-1].text


def test_a_folder_named_like_a_workbook(tmp_path: Path) -> None:
    (tmp_path / "x.xlsx").mkdir()
    book = OpenpyxlAdapter(tmp_path / "x.xlsx")
    assert dispatch("btnValidate", book).exit_code == EXIT_USAGE and "thư mục" in book.alerts[-1].text


def test_a_plan_with_errors_writes_the_errors_sheet(plan_xlsx: Path, tmp_path: Path) -> None:
    path = _copy(plan_xlsx, tmp_path / plan_xlsx.name)
    wb = openpyxl.load_workbook(path)
    wb["Địa bàn"]["E4"] = "nhiều lắm"  # the population of the first district
    wb.save(path)
    book = OpenpyxlAdapter(path)
    assert dispatch("btnValidate", book).exit_code == EXIT_INVALID
    assert "Địa bàn!E4" in book.alerts[-1].text and "Lỗi" in openpyxl.load_workbook(path).sheetnames

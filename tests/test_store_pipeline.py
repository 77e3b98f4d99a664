"""The front-end hooks (what the ribbon and Calc buttons call): save a workbook as a version, show
the history, allocate a version with the run log citing it, compare versions."""

from __future__ import annotations

import json

import pytest

from budgetlib import pipeline
from budgetlib.core.i18n import tr
from budgetlib.io.grid import DictBook
from budgetlib.io.workbook import open_book
from budgetlib.planning.validation import load_plan_data
from budgetlib.store import Store, TamperedRecord
from budgetlib.store.sheets import TIME_FORMAT

from .conftest import EXAMPLES, tiny_plan_data

WORKBOOK = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"


@pytest.fixture
def book():
    b = open_book(WORKBOOK)
    yield b
    close = getattr(b, "close", None)
    if close:
        close()


def test_save_workbook_as_a_version_then_unchanged(tmp_path, book):
    kho = tmp_path / "kho.sqlite"
    first = pipeline.save_version(book, store=kho, user="lan", source_name=WORKBOOK.name, source_sha256=pipeline.sha256_file(WORKBOOK))
    assert first.ok and first.version is not None and first.version.created
    assert first.version.source_name == "plan.xlsx" and first.version.source_sha256 == pipeline.sha256_file(WORKBOOK)
    assert [s.name for s in first.sheets] == ["Lịch sử phiên bản", "Phiên bản"]
    assert first.message("vi").startswith("Đã lưu phiên bản") and first.message("en").startswith("Saved version")
    again = pipeline.save_version(book, store=kho, user="lan")
    assert again.ok and again.version.ref == first.version.ref and not again.version.created
    assert "không tạo phiên bản mới" in again.message("vi")
    history = again.sheets[0]
    assert history.column_formats[0] == TIME_FORMAT
    assert sum(1 for row in history.rows if len(row) > 1 and row[1] == "Lưu") == 1


def test_invalid_workbook_is_not_saved_and_says_why(tmp_path):
    outcome = pipeline.save_version(DictBook({}), store=tmp_path / "kho.sqlite", lang="en")
    assert outcome.exit_code == 1 and outcome.version is None and outcome.problems
    assert "error" in outcome.message("en") and "lỗi" in outcome.message("vi")
    assert not (tmp_path / "kho.sqlite").exists()


def test_a_file_that_is_not_a_store_comes_back_as_an_error(tmp_path):
    bogus = tmp_path / "kehoach.xlsx"
    bogus.write_bytes(WORKBOOK.read_bytes())
    outcome = pipeline.save_version(load_plan_data(tiny_plan_data()), store=bogus)
    assert outcome.exit_code == 1 and outcome.error is not None and outcome.version is None
    assert "không phải là kho phiên bản budgetlib" in outcome.message("vi")
    assert bogus.read_bytes() == WORKBOOK.read_bytes()


def test_save_and_allocate_cites_the_version_in_the_run_log(tmp_path, book):
    kho = tmp_path / "kho.sqlite"
    outcome = pipeline.save_and_allocate(book, store=kho, user="lan", source_name=WORKBOOK.name, source_sha256=pipeline.sha256_file(WORKBOOK))
    assert outcome.ok and outcome.run is not None and outcome.version is not None
    label = tr("log.store_version", "vi")
    log_rows = [row for s in outcome.sheets for row in s.rows if row and row[0] == label]
    assert log_rows == [[label, f"{outcome.version.ref} · {outcome.version.content_hash[:12]}…"]]
    assert outcome.sheets[-1].name == "Lịch sử phiên bản"
    assert outcome.run.input_sha256 == outcome.version.content_hash
    assert outcome.run.source_sha256 == pipeline.sha256_file(WORKBOOK)
    assert outcome.run.output_sha256 == __import__("hashlib").sha256(outcome.allocation.allocation.to_json().encode()).hexdigest()
    assert "Đã phân bổ phiên bản" in outcome.message("vi")


def test_allocate_a_stored_version_compare_and_history(tmp_path):
    kho = tmp_path / "kho.sqlite"
    a = pipeline.save_version(load_plan_data(tiny_plan_data()), store=kho)
    data = tiny_plan_data()
    data["budget_lines"][1]["amount"] = 400_000_000
    data["program"]["total"] = "1,3 tỷ đồng"
    b = pipeline.save_version(load_plan_data(data), store=kho)
    for v in (a.version, b.version):
        run = pipeline.allocate_version(v.ref, store=kho, lang="en")
        assert run.ok and run.run is not None
        assert any(row and row[0] == tr("log.store_version", "en") for s in run.sheets for row in s.rows)
    compared = pipeline.compare_versions(a.version.ref, b.version.ref, store=kho, lang="en")
    assert compared.ok and compared.diff is not None and compared.sheets[0].name == "Version comparison"
    assert sum(c.delta for c in compared.diff.amounts) == 100_000_000
    assert compared.message("en") == "2 changes to the plan, 2 allocation cells changed"
    shown = pipeline.version_history("T", store=kho, lang="en")
    assert [e.kind.value for e in shown.events] == ["saved", "saved", "run", "run"]
    assert [s.name for s in shown.sheets] == ["Version history", "Versions"]
    by_book = pipeline.version_history(load_plan_data(tiny_plan_data()), store=kho)
    assert [e.id for e in by_book.events] == [e.id for e in shown.events]


def test_allocating_a_tampered_version_is_refused(tmp_path):
    import sqlite3

    kho = tmp_path / "kho.sqlite"
    saved = pipeline.save_version(load_plan_data(tiny_plan_data()), store=kho)
    with sqlite3.connect(kho) as conn:
        conn.execute("DROP TRIGGER budgetlib_versions_guard_update")
        doc = json.loads(conn.execute("SELECT document FROM budgetlib_versions").fetchone()[0])
        doc["program"]["name"] = "Đã sửa lén"
        conn.execute("UPDATE budgetlib_versions SET document = ?", (json.dumps(doc, ensure_ascii=False),))
    outcome = pipeline.allocate_version(saved.version.ref, store=kho)
    assert outcome.exit_code == 1 and isinstance(outcome.error, TamperedRecord) and outcome.run is None
    with Store.open(kho) as s:
        assert s.runs(saved.version.ref) == []


def test_missing_store_for_history_is_an_error_not_a_new_file(tmp_path):
    outcome = pipeline.version_history("T", store=tmp_path / "none.sqlite", lang="en")
    assert outcome.exit_code == 1 and "budgetlib store init" in outcome.message("en")
    assert not (tmp_path / "none.sqlite").exists()

"""The buttons shared by the Excel ribbon and the Calc menu (:mod:`budgetlib.pipeline.desktop`), on
the budgetlib side of the Calc bridge: the version store beside the document, the stored version
cited by "Phân bổ", "Tiến độ thực hiện" on the document's Thực hiện sheets, the PDF beside the
document, and what goes stale. Requests are the snapshots the extension sends (read here with
openpyxl, the CLI's reader); the CLI runs in-process on the same files where it has an equivalent."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from budgetlib.addin.filebook import marked_sheets
from budgetlib.calc.dispatch import EXIT_INVALID, EXIT_OK, EXIT_USAGE, handle
from budgetlib.calc.protocol import PROTOCOL_VERSION
from budgetlib.core.i18n import tr
from budgetlib.io.workbook import OpenpyxlBook
from budgetlib.pipeline import desktop

from .conftest import EXAMPLES

HAIPHONG = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"
CODE = "HP-PCMD-2011-2015"
CYCLE = EXAMPLES / "haiphong_2011_2015_cycle"


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("BUDGETLIB_LO_LOG", str(tmp_path / "lo.log"))
    monkeypatch.setenv("BUDGETLIB_LO_CONFIG", str(tmp_path / "lo.json"))
    monkeypatch.delenv("BUDGETLIB_STORE", raising=False)
    monkeypatch.setenv("BUDGETLIB_USER", "Nguyễn Thị Lan")


def _copy(src: Path, folder: Path, name: str = "plan.xlsx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(src, folder / name))


def _request(command: str, path: Path | None, *, lang: str = "vi", saved: bool = True, edit: dict | None = None,
             source: Path | None = None) -> dict:
    """The request the extension sends for the document ``path`` (``source``: the file read when the
    document was never saved); ``edit`` = {(sheet, row, col): value} are unsaved edits (0-based)."""
    src = source or path
    assert src is not None
    book = OpenpyxlBook(src)
    marks = marked_sheets(src)
    sheets = []
    for n in book.sheet_names():
        rows = [] if n in marks else [[v if v is not None else "" for v in row] for row in book.grid(n).rows]
        sheets.append({"name": n, "marked": n in marks, "origin": [1, 1], "rows": rows})
    for (sheet, r, c), value in (edit or {}).items():
        next(s for s in sheets if s["name"] == sheet)["rows"][r][c] = value
    doc = {"name": src.name, "path": str(path) if path else None, "saved_file": str(path) if path and saved and not edit else None,
           "sheets": sheets, "tables": [t.__dict__ for t in book.tables()]}
    book.close()
    return json.loads(json.dumps({"protocol": PROTOCOL_VERSION, "command": command, "lang": lang, "extension_version": "", "book": doc}))


def _log_rows(reply: Any) -> dict[str, Any]:
    log = next(s for s in reply.write if s.name in ("Nhật ký", "Run log"))
    return {row[0]: row[1] for row in log.rows if len(row) >= 2}


def _cells(ws: Any) -> list[list[Any]]:
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    return [[v.replace(microsecond=0) if isinstance(v, datetime) else v for v in row] for row in rows]


def _spec_cells(spec: Any) -> list[list[Any]]:
    width = max((len(r) for r in spec.rows), default=0)
    return [[None if v == "" else (v.replace(microsecond=0) if isinstance(v, datetime) else v) for v in row] + [None] * (width - len(row))
            for row in spec.rows]


# ---------------------------------------------------------------------------------------------
# Shared rules


def test_result_families_by_sheet_name():
    f = desktop.family
    assert [f(n) for n in ("Phân bổ", "Năm 2011", "Tổng hợp (2)", "Phụ lục", "Allocation")] == ["report"] * 5
    assert [f(n) for n in ("So sánh", "So sánh kịch bản", "KB theo địa bàn (2)", "Scenario comparison")] == ["comparison"] * 4
    assert [f(n) for n in ("Tiến độ", "Báo cáo 6 tháng", "Báo cáo năm", "Progress")] == ["progress"] * 4
    assert [f(n) for n in ("Lịch sử phiên bản", "Phiên bản", "Versions")] == ["history"] * 3
    assert [f(n) for n in ("Lỗi", "Errors (3)", "Nhật ký", "Run log")] == ["errors", "errors", "log", "log"]


def test_pdf_names_never_overwrite(tmp_path):
    book = tmp_path / "ke hoạch.xlsx"
    assert desktop.pdf_path(book) == tmp_path / "ke hoạch_bao_cao.pdf"
    (tmp_path / "ke hoạch_bao_cao.pdf").write_bytes(b"x")
    assert desktop.pdf_path(book) == tmp_path / "ke hoạch_bao_cao (2).pdf"
    (tmp_path / "ke hoạch_bao_cao (2).pdf").write_bytes(b"x")
    assert desktop.pdf_path(book) == tmp_path / "ke hoạch_bao_cao (3).pdf"


def test_the_store_is_beside_the_document_unless_BUDGETLIB_STORE_says(tmp_path, monkeypatch):
    where = desktop.OpenBook("plan.xlsx", tmp_path / "a" / "plan.xlsx")
    beside = desktop.store_for(where)
    assert beside is not None and beside.address == str(tmp_path / "a" / "budgetlib-store.sqlite") and beside.origin == "beside"
    assert desktop.store_for(desktop.OpenBook("Untitled 1")) is None
    monkeypatch.setenv("BUDGETLIB_STORE", "postgresql://lan:bí-mật@db.local/kehoach")
    shared = desktop.store_for(desktop.OpenBook("Untitled 1"))
    assert shared is not None and shared.origin == "env" and "bí-mật" not in shared.display and "db.local/kehoach" in shared.display


# ---------------------------------------------------------------------------------------------
# Lưu phiên bản, Lịch sử phiên bản, and the version cited by Phân bổ


def test_save_version_history_and_the_cli_see_the_same_store(tmp_path):
    from budgetlib.cli import main

    path = _copy(HAIPHONG, tmp_path / "so")
    store = tmp_path / "so" / "budgetlib-store.sqlite"
    saved = handle(_request("btnSaveVersion", path))
    assert saved.exit_code == EXIT_OK and saved.severity == "info", saved.message
    assert [s.name for s in saved.write] == ["Lịch sử phiên bản", "Phiên bản"] and store.is_file()
    assert saved.message.startswith(f"Đã lưu phiên bản {CODE}@1 (Dự thảo), mã kiểm tra ")
    assert f"Kho phiên bản: {store} (cạnh sổ)." in saved.message
    again = handle(_request("btnSaveVersion", path))
    assert again.message.startswith(f"Nội dung không đổi so với phiên bản {CODE}@1 (Dự thảo)")
    # The CLI, run in the workbook's folder, uses the same store; what it saves the buttons see.
    edited = tmp_path / "so" / "plan_sua.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Địa bàn"]
    col = [c.value for c in ws[3]].index("Dân số") + 1
    ws.cell(7, col).value = ws.cell(7, col).value + 1000
    wb.save(edited)
    assert main(["store", "save", str(edited), "--store", str(store), "-u", "Trần Văn Bình"]) == 0
    history = handle(_request("btnHistory", path))
    assert history.exit_code == EXIT_OK
    assert history.message.startswith(f"Kho có 2 phiên bản của kế hoạch {CODE} (2 sự kiện); mới nhất là {CODE}@2 (Dự thảo).")
    cli_xlsx = tmp_path / "lich_su.xlsx"
    assert main(["store", "history", CODE, "--store", str(store), "--xlsx", str(cli_xlsx)]) == 0
    cli = openpyxl.load_workbook(cli_xlsx)
    for spec in history.write:
        assert _spec_cells(spec) == _cells(cli[spec.name]), spec.name
    versions = next(s for s in history.write if s.name == "Phiên bản")
    assert [r[3] for r in versions.rows[4:]] == ["Nguyễn Thị Lan", "Trần Văn Bình"]


def test_allocate_cites_the_stored_version_the_document_is(tmp_path):
    path = _copy(HAIPHONG, tmp_path / "so")
    plain = handle(_request("btnAllocate", path))
    assert "Phiên bản kế hoạch trong kho" not in _log_rows(plain) and "kho" not in plain.message  # no store yet: nothing looked up
    assert handle(_request("btnSaveVersion", path)).exit_code == EXIT_OK
    cited = handle(_request("btnAllocate", path))
    ref = _log_rows(cited)["Phiên bản kế hoạch trong kho"]
    assert ref.startswith(f"{CODE}@1 · ") and ref.endswith("…")
    assert f"Nhật ký ghi phiên bản {ref} của kho {tmp_path / 'so' / 'budgetlib-store.sqlite'}" in cited.message
    # An unsaved edit makes the document another plan: no version is cited.
    units = OpenpyxlBook(path).grid("Địa bàn").rows
    col = list(units[2]).index("Dân số")
    edited = handle(_request("btnAllocate", path, edit={("Địa bàn", 6, col): units[6][col] + 1}))
    assert edited.exit_code == EXIT_OK and "Phiên bản kế hoạch trong kho" not in _log_rows(edited)
    english = handle(_request("btnAllocate", path, lang="en"))
    assert _log_rows(english)["Stored plan version"] == ref and "The run log cites version" in english.message


def test_a_file_that_is_not_a_store_is_left_alone_and_allocating_still_works(tmp_path):
    path = _copy(HAIPHONG, tmp_path / "so")
    junk = tmp_path / "so" / "budgetlib-store.sqlite"
    junk.write_bytes(b"not a database, an officer's notes")
    reply = handle(_request("btnSaveVersion", path))
    assert reply.exit_code == EXIT_INVALID and reply.severity == "error" and reply.write == []
    assert reply.message.startswith("Không dùng được kho phiên bản: ") and "không phải là kho phiên bản budgetlib" in reply.message
    assert junk.read_bytes() == b"not a database, an officer's notes"
    allocated = handle(_request("btnAllocate", path))
    assert allocated.exit_code == EXIT_OK and "Không tra được kho phiên bản" in allocated.message
    assert "Phiên bản kế hoạch trong kho" not in _log_rows(allocated)


def test_an_unsaved_document_needs_saving_or_BUDGETLIB_STORE(tmp_path, monkeypatch):
    request = _request("btnSaveVersion", None, source=HAIPHONG)
    reply = handle(request)
    assert reply.exit_code == EXIT_USAGE and reply.severity == "warning" and reply.write == []
    assert reply.message.startswith("Sổ chưa được lưu nên chưa biết đặt kho phiên bản ở đâu.") and "BUDGETLIB_STORE" in reply.message
    assert handle(_request("btnHistory", None, source=HAIPHONG)).exit_code == EXIT_USAGE
    store = tmp_path / "chung" / "kho.sqlite"
    store.parent.mkdir()
    monkeypatch.setenv("BUDGETLIB_STORE", str(store))
    reply = handle(request)
    assert reply.exit_code == EXIT_OK and store.is_file()
    assert f"Kho phiên bản: {store} (theo biến môi trường BUDGETLIB_STORE)." in reply.message


def test_history_before_the_first_save_and_of_an_invalid_plan(tmp_path):
    path = _copy(HAIPHONG, tmp_path / "so")
    none = handle(_request("btnHistory", path))
    assert none.exit_code == EXIT_USAGE and none.write == [] and "Bấm «Lưu phiên bản» để lưu phiên bản đầu tiên" in none.message
    assert not (tmp_path / "so" / "budgetlib-store.sqlite").exists()  # looking never creates a store
    units = OpenpyxlBook(path).grid("Địa bàn").rows
    col = list(units[2]).index("Dân số")
    bad = handle(_request("btnSaveVersion", path, edit={("Địa bàn", 6, col): "nhiều lắm"}))
    assert bad.exit_code == EXIT_INVALID and [s.name for s in bad.write] == ["Lỗi"]
    assert bad.message.startswith("Kế hoạch còn 1 lỗi nên chưa lưu được thành phiên bản")
    assert f"Địa bàn!{chr(65 + col)}7" in bad.message
    assert not (tmp_path / "so" / "budgetlib-store.sqlite").exists()


# ---------------------------------------------------------------------------------------------
# Tiến độ thực hiện


@pytest.fixture(scope="module")
def cycle_xlsx(tmp_path_factory) -> Path:
    """The Hải Phòng plan workbook holding its own Thực hiện sheets, reported up to mid-2013."""
    from budgetlib.cycle import original_state
    from budgetlib.io import load_plan
    from budgetlib.io.workbook import write_plan_workbook
    from budgetlib.io.workbook.actuals import actuals_sheets
    from budgetlib.model.actuals import Actuals, Period

    plan = load_plan(CYCLE / "plan.json")
    doc = Actuals.from_json((CYCLE / "actuals.json").read_text(encoding="utf-8")).up_to(Period(2013, 1))
    return write_plan_workbook(plan, tmp_path_factory.mktemp("cycle") / "ke_hoach.xlsx",
                               extra=actuals_sheets(plan, original_state(plan), actuals=doc))


def test_progress_reports_the_latest_period_as_the_cli_does(cycle_xlsx, tmp_path):
    from budgetlib.pipeline import run_progress

    path = _copy(cycle_xlsx, tmp_path / "so", cycle_xlsx.name)
    reply = handle(_request("btnProgress", path))
    assert reply.exit_code == EXIT_OK, reply.message
    book = OpenpyxlBook(path)
    cli = run_progress(book, "2013H1", source_name=path.name)  # what `budgetlib progress … --period 2013H1` draws
    p = cli.progress
    assert p is not None and 0 < p.total_disbursed < p.total_allocated
    assert reply.message.startswith(tr("desktop.progress.done", "vi", period=p.period.label(), allocated=int(p.total_allocated),
                                       disbursed=int(p.total_disbursed), rate=p.total_disbursed / p.total_allocated, flags=len(p.flags)))
    assert reply.message.startswith("Tiến độ thực hiện 6 tháng đầu năm 2013: đã giải ngân ")
    assert "Lưu ý: số liệu thực hiện được đánh dấu là số liệu minh họa." in reply.message
    assert [s.name for s in reply.write] == [s.name for s in cli.sheets] == [
        "Tiến độ", "Tiến độ nhiệm vụ", "Tiến độ chỉ tiêu", "Báo cáo 6 tháng", "Nhật ký"]
    for got, want in zip(reply.write, cli.sheets):
        if got.name != "Nhật ký":
            assert got.rows == want.rows and got.chart == want.chart, got.name
    english = handle(_request("btnProgress", path, lang="en"))
    assert english.message.startswith(tr("desktop.progress.done", "en", period=p.period.label(), allocated=int(p.total_allocated),
                                         disbursed=int(p.total_disbursed), rate=p.total_disbursed / p.total_allocated, flags=len(p.flags)))
    assert english.message.startswith("Progress first half of 2013: ")


def test_progress_replaces_its_stale_sheets_and_locates_bad_actuals(cycle_xlsx, tmp_path):
    path = _copy(cycle_xlsx, tmp_path / "so", cycle_xlsx.name)
    wb = openpyxl.load_workbook(path)
    from budgetlib.io.grid import RESULT_MARKER_NAME

    for name in ("Báo cáo năm", "Lỗi"):  # left by earlier runs of budgetlib
        ws = wb.create_sheet(name)
        ws.defined_names[RESULT_MARKER_NAME] = openpyxl.workbook.defined_name.DefinedName(RESULT_MARKER_NAME, attr_text=f"'{name}'!$A$1")
    wb.save(path)
    reply = handle(_request("btnProgress", path))
    assert reply.exit_code == EXIT_OK and sorted(reply.remove) == ["Báo cáo năm", "Lỗi"]
    # A disbursement above the allocation: the Lỗi sheet and the dialog name its cell.
    actuals = OpenpyxlBook(path).grid("Thực hiện").rows
    header = next(i for i, row in enumerate(actuals) if "Đã giải ngân (đồng)" in row)
    col = actuals[header].index("Đã giải ngân (đồng)")
    period = actuals[header].index("Kỳ báo cáo")
    row = next(i for i in range(header + 1, len(actuals)) if actuals[i][period] == "2013H1" and actuals[i][col])
    bad = handle(_request("btnProgress", path, edit={("Thực hiện", row, col): 10**12}))
    assert bad.exit_code == EXIT_INVALID and bad.severity == "error"
    assert [s.name for s in bad.write] == ["Lỗi", "Nhật ký"]
    assert f"Thực hiện!{chr(65 + col)}{row + 1}" in bad.message
    assert bad.message.startswith("Chưa tính được tiến độ thực hiện 6 tháng đầu năm 2013:")


def test_progress_without_a_thuc_hien_sheet_says_how_to_add_one(tmp_path):
    path = _copy(HAIPHONG, tmp_path / "so")
    reply = handle(_request("btnProgress", path))
    assert reply.exit_code == EXIT_USAGE and reply.severity == "warning" and reply.write == [] and reply.remove == []
    assert reply.message.startswith("Sổ «plan.xlsx» chưa có trang «Thực hiện», «Kết quả chỉ tiêu»") and "budgetlib actuals-template" in reply.message
    english = handle(_request("btnProgress", path, lang="en"))
    assert english.message.startswith("The workbook “plan.xlsx” has no “Actuals”, “Indicator results” sheet")


# ---------------------------------------------------------------------------------------------
# Xuất báo cáo PDF


BOUNDARIES = EXAMPLES / "haiphong_2011_2015" / "boundaries.geojson"


def test_pdf_goes_beside_the_document_is_the_clis_book_and_never_overwrites(tmp_path):
    from budgetlib.cli import main

    path = _copy(HAIPHONG, tmp_path / "so", "ke_hoach.xlsx")
    shutil.copyfile(BOUNDARIES, tmp_path / "so" / "boundaries.geojson")
    first = handle(_request("btnPdf", path))
    pdf = tmp_path / "so" / "ke_hoach_bao_cao.pdf"
    assert first.exit_code == EXIT_OK and first.severity == "info" and first.write == [] and pdf.is_file()
    assert first.message == f"Đã xuất báo cáo PDF: {pdf}"  # the map was drawn: no note about it
    cli = _copy(HAIPHONG, tmp_path / "cli", "ke_hoach.xlsx")
    shutil.copyfile(BOUNDARIES, tmp_path / "cli" / "boundaries.geojson")
    assert main(["report", str(cli), "--pdf", str(tmp_path / "cli" / "so.pdf")]) == 0
    assert pdf.read_bytes() == (tmp_path / "cli" / "so.pdf").read_bytes()  # the same book, byte for byte
    same = handle(_request("btnPdf", path))
    assert same.message.startswith(f"Báo cáo không đổi so với tệp đã có: {pdf}")
    assert sorted(p.name for p in pdf.parent.glob("*.pdf")) == ["ke_hoach_bao_cao.pdf"]
    units = OpenpyxlBook(path).grid("Địa bàn").rows
    col = list(units[2]).index("Dân số")
    changed = handle(_request("btnPdf", path, edit={("Địa bàn", 6, col): units[6][col] * 2}))
    second = tmp_path / "so" / "ke_hoach_bao_cao (2).pdf"
    assert changed.message == f"Đã xuất báo cáo PDF: {second}" and second.read_bytes() != pdf.read_bytes()
    english = handle(_request("btnPdf", path, lang="en"))
    assert english.message == f"PDF report written: {tmp_path / 'so' / 'ke_hoach_bao_cao (3).pdf'}"


def test_pdf_of_an_unsaved_document_an_invalid_plan_and_folders_that_cannot_take_it(tmp_path):
    unsaved = handle(_request("btnPdf", None, source=HAIPHONG))
    assert unsaved.exit_code == EXIT_USAGE and unsaved.message.startswith("Sổ chưa được lưu nên chưa biết ghi báo cáo PDF vào đâu.")
    path = _copy(HAIPHONG, tmp_path / "so")
    units = OpenpyxlBook(path).grid("Địa bàn").rows
    col = list(units[2]).index("Dân số")
    bad = handle(_request("btnPdf", path, edit={("Địa bàn", 6, col): "nhiều lắm"}))
    assert bad.exit_code == EXIT_INVALID and "Lỗi" in [s.name for s in bad.write] and not list((tmp_path / "so").glob("*.pdf"))
    assert bad.message.startswith("Kế hoạch có 1 lỗi; chưa xuất báo cáo.") and f"Địa bàn!{chr(65 + col)}7" in bad.message
    no_map = handle(_request("btnPdf", path))
    assert no_map.exit_code == EXIT_OK and no_map.message.endswith("Báo cáo không có bản đồ: cạnh sổ không có tệp ranh giới các địa bàn (boundaries.geojson).")
    assert no_map.remove == []  # (the Lỗi sheet of the request above was never written into this snapshot)
    # A folder nobody can write in (even root: /proc): nothing written, the dialog says why.
    blocked = handle(_request("btnPdf", Path("/proc/self/ke_hoach.xlsx"), source=path))
    assert blocked.exit_code == EXIT_USAGE and blocked.severity == "warning" and blocked.write == []
    assert blocked.message.startswith("Không ghi được báo cáo PDF /proc/self/ke_hoach_bao_cao.pdf:"), blocked.message
    (tmp_path / "so" / "boundaries.geojson").write_text('{"type": "Point"}', encoding="utf-8")
    broken = handle(_request("btnPdf", path))
    assert broken.exit_code == EXIT_USAGE and broken.message.startswith(f"Tệp ranh giới các địa bàn {tmp_path / 'so' / 'boundaries.geojson'} không dùng được")
    assert sorted(p.name for p in (tmp_path / "so").glob("*.pdf")) == ["plan_bao_cao.pdf"]


def test_the_buttons_messages_speak_one_language():
    """Vietnamese texts have no English words and English texts no Vietnamese letters (identifiers,
    file names and commands aside): every message of the shared buttons and the new buttons' labels."""
    import re
    import tomllib

    from budgetlib.core.i18n import catalogue

    from .conftest import ROOT

    vietnamese = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
    english = re.compile(
        r"\b(the|and|of|is|are|not|error|errors|warning|budget|total|file|value|missing|unit|units|task|tasks|source|"
        r"sources|allocation|allocated|amount|year|years|plan|policy|must|with|for|to|in|by|from|no|none|found|invalid|"
        r"unknown|sheet|page|run|time|version|outcome|need|share|name|code|kind|level|yes|store|report|save|history|"
        r"progress|scenario|scenarios|compare|refresh|click)\b", re.IGNORECASE)
    def flat(table: dict, prefix: str = "") -> list[str]:
        return [c for k, v in table.items() for c in (flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"])]

    codes = flat(tomllib.loads((ROOT / "budgetlib" / "locales" / "en" / "desktop.toml").read_text(encoding="utf-8")))
    assert len(codes) > 30
    for key in ("progress", "pdf", "saveversion", "history", "compare", "refresh"):
        codes += [f"addin.ribbon.{key}.{k}" for k in ("label", "screentip", "supertip")]
    codes += [f"addin.ribbon.group.{g}" for g in ("cycle", "store")]
    codes += [f"calc.button.{c}" for c in ("btnProgress", "btnPdf", "btnSaveVersion", "btnHistory", "btnCompare", "btnRefresh")]
    commands = re.compile(r"`[^`]*`|\{[^}]*\}|[\w.-]*_[\w.-]*|[\w-]+\.(?:sqlite|geojson|pdf|xlsx)|postgresql://\S*")
    for code in codes:
        vi, en = commands.sub(" ", catalogue("vi")[code]), commands.sub(" ", catalogue("en")[code])
        leaks = [m.group(0) for m in english.finditer(vi) if m.group(0).lower() not in {"budgetlib", "pdf"}]
        assert not leaks, (code, leaks, vi)
        assert not vietnamese.search(en), (code, en)

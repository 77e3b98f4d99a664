"""The budgetlib side of the Calc extension: the protocol, and what each command answers for a
snapshot of a document (the same snapshot the extension sends: read here from the example
workbook with openpyxl, the reader the CLI uses)."""

from __future__ import annotations

import json
import math

import pytest

from budgetlib.calc.dispatch import EXIT_CRASH, EXIT_INVALID, EXIT_OK, EXIT_USAGE, handle
from budgetlib.calc.protocol import (
    PROTOCOL_VERSION,
    ProtocolError,
    book_from_request,
    decode_spec,
    encode_cell,
    encode_spec,
)
from budgetlib.io.grid import Formula
from budgetlib.io.workbook import OpenpyxlBook, read_plan_grids, read_workbook
from budgetlib.pipeline import run_allocate

from .conftest import EXAMPLES

EXAMPLE = EXAMPLES / "haiphong_2011_2015" / "plan.xlsx"


@pytest.fixture(autouse=True)
def _log(tmp_path, monkeypatch):
    monkeypatch.setenv("BUDGETLIB_LO_LOG", str(tmp_path / "lo.log"))
    monkeypatch.setenv("BUDGETLIB_LO_CONFIG", str(tmp_path / "lo.json"))


def _sheets(extra: dict | None = None, marked: set[str] = frozenset()) -> list[dict]:
    book = OpenpyxlBook(EXAMPLE)
    out = [{"name": n, "marked": False, "origin": [1, 1], "rows": [[v if v is not None else "" for v in row] for row in book.grid(n).rows]}
           for n in book.sheet_names()]
    for name, rows in (extra or {}).items():
        out.append({"name": name, "marked": name in marked, "origin": [1, 1], "rows": [] if name in marked else rows})
    return out


def _request(command: str, *, lang: str = "vi", sheets: list[dict] | None = None, **book) -> dict:
    tables = [t.__dict__ for t in OpenpyxlBook(EXAMPLE).tables()]
    return {"protocol": PROTOCOL_VERSION, "command": command, "lang": lang, "extension_version": "",
            "book": {"name": "plan.xlsx", "saved_file": None, "sheets": sheets if sheets is not None else _sheets(), "tables": tables, **book}}


def _roundtrip(request: dict) -> dict:
    """What the bridge sees: the request after JSON."""
    return json.loads(json.dumps(request, ensure_ascii=True))


# ---------------------------------------------------------------------------------------------
# Protocol


def test_specs_round_trip_through_json():
    outcome = run_allocate(read_workbook(EXAMPLE))
    for spec in outcome.sheets:
        data = json.loads(json.dumps(encode_spec(spec)))
        assert decode_spec(data) == spec
    formulas = [v for s in outcome.sheets for row in s.rows for v in row if isinstance(v, Formula)]
    assert formulas and all(encode_cell(f) == {"f": str(f)} for f in formulas)


def test_only_formula_values_travel_as_formulas():
    assert encode_cell('=HYPERLINK("x")') == '=HYPERLINK("x")'  # user text stays text
    assert encode_cell(Formula("=SUM(A1:A2)")) == {"f": "=SUM(A1:A2)"}
    assert encode_cell(3) == 3 and encode_cell(True) is True and encode_cell(None) is None
    with pytest.raises(ValueError):
        encode_cell(math.nan)
    with pytest.raises(TypeError):
        encode_cell(object())


def test_snapshot_reads_the_same_plan_as_openpyxl():
    book = book_from_request(_roundtrip(_request("btnValidate"))["book"])
    assert read_plan_grids(book) == read_workbook(EXAMPLE)
    shifted = book_from_request({"sheets": [{"name": "Địa bàn", "origin": [3, 2], "rows": [["Mã", 96111.0, ""]]}]})
    grid = shifted.grid("Địa bàn")
    assert grid.address(0, 1) == "Địa bàn!C3" and grid.value(0, 1) == 96111 and isinstance(grid.value(0, 1), int)
    assert grid.value(0, 2) is None
    with pytest.raises(ProtocolError):
        book_from_request({"sheets": [{"rows": []}]})


# ---------------------------------------------------------------------------------------------
# Commands


def test_allocate_answers_the_cli_sheets():
    reply = handle(_roundtrip(_request("btnAllocate")))
    expected = run_allocate(read_workbook(EXAMPLE)).sheets
    assert reply.exit_code == EXIT_OK and reply.severity == "info"
    assert [s.name for s in reply.write] == [s.name for s in expected]
    for got, want in zip(reply.write, expected):
        if got.name != "Nhật ký":
            assert got.rows == want.rows, got.name
    assert reply.remove == [] and reply.activate == "Phân bổ"
    assert reply.message.startswith("Đã phân bổ 22.500.000.000 đ; đã ghi 11 trang: «Phân bổ», «Năm 2011»")
    assert json.loads(json.dumps(reply.to_json()))["write"][0]["name"] == "Phân bổ"


@pytest.mark.parametrize(("lang", "solving", "other"), [("vi", "budgetlib: Giải bài toán phân bổ …", "Solving"),
                                                        ("en", "budgetlib: Solving the allocation …", "Giải")])
def test_progress_texts_are_in_the_ui_language(lang, solving, other):
    """The allocator reports its steps as catalogue messages; the status bar shows them in the UI's language."""
    seen: list[tuple[str, int | None, int | None]] = []
    reply = handle(_roundtrip(_request("btnAllocate", lang=lang)), progress=lambda text, done, total: seen.append((text, done, total)))
    assert reply.exit_code == EXIT_OK
    texts = [t for t, _, _ in seen]
    assert solving in texts and not any(other in t for t in texts), texts
    assert all(isinstance(d, int) and isinstance(n, int) and 0 <= d <= n for _, d, n in seen)


def test_allocate_replaces_ours_removes_stale_ones_and_keeps_the_users():
    extra = {"Tổng hợp": [["ghi chú của tôi"]], "Tổng hợp (2)": [], "Năm 2009": [], "Lỗi": []}
    reply = handle(_roundtrip(_request("btnAllocate", sheets=_sheets(extra, marked={"Tổng hợp (2)", "Năm 2009", "Lỗi"}))))
    names = [s.name for s in reply.write]
    assert "Tổng hợp (2)" in names and "Tổng hợp" not in names  # the user's sheet keeps its name
    assert sorted(reply.remove) == ["Lỗi", "Năm 2009"]  # stale results of ours go, the one we rewrite is replaced
    assert "«Tổng hợp»" in reply.message and "«Tổng hợp (2)»" in reply.message


def test_unmarked_sheets_are_never_removed():
    extra = {"Lỗi": [["của tôi"]], "Năm 2009": [["của tôi"]]}
    reply = handle(_roundtrip(_request("btnAllocate", sheets=_sheets(extra))))
    assert reply.remove == []
    assert "Lỗi" not in [s.name for s in reply.write]


def test_validate_locates_every_problem_and_drops_a_stale_error_sheet():
    sheets = _sheets()
    units = next(s for s in sheets if s["name"] == "Địa bàn")
    col = units["rows"][2].index("Dân số")
    units["rows"][6][col] = "nhiều lắm"
    reply = handle(_roundtrip(_request("btnValidate", sheets=sheets)))
    assert reply.exit_code == EXIT_INVALID and reply.severity == "error"
    ref = f"Địa bàn!{chr(65 + col)}7"
    assert ref in reply.message
    errors = next(s for s in reply.write if s.name == "Lỗi")
    assert any(row and row[0] == ref for row in errors.rows)
    clean = handle(_roundtrip(_request("btnValidate", sheets=_sheets({"Lỗi": []}, marked={"Lỗi"}))))
    assert clean.exit_code == EXIT_OK and clean.remove == ["Lỗi"]
    assert clean.message.startswith("Kế hoạch hợp lệ.\n")
    assert [s.name for s in clean.write] == ["Nhật ký"]


def test_english():
    reply = handle(_roundtrip(_request("btnAllocate", lang="en")))
    assert reply.message.startswith("Allocated 22,500,000,000 VND; wrote 11 sheets: “Allocation”")
    assert reply.title == "budgetlib – Budget"
    assert [s.name for s in reply.write][:2] == ["Allocation", "Year 2011"]


COMPARISON = ["So sánh kịch bản", "KB theo địa bàn", "KB theo nhiệm vụ", "KB theo năm", "KB theo nguồn", "KB chỉ tiêu"]


def test_compare_is_the_scenario_comparison():
    """A plan without a Kịch bản sheet compares the allocation methods, as the pipeline does."""
    from budgetlib.pipeline import run_scenarios

    reply = handle(_roundtrip(_request("btnCompare")))
    expected = run_scenarios(read_workbook(EXAMPLE), fallback_policies=("proportional", "max_min"))
    assert [s.name for s in reply.write] == [s.name for s in expected.sheets] == COMPARISON
    assert [s.rows for s in reply.write] == [s.rows for s in expected.sheets]
    assert reply.exit_code == EXIT_OK and reply.severity == "info" and reply.remove == []
    assert reply.message.startswith(
        "Đã so sánh «Kế hoạch gốc» với 2 phương án: «Phương pháp theo tỷ lệ nhu cầu», «Phương pháp công bằng (nâng mức thấp nhất)».\n"
        "Đã ghi 6 trang: «So sánh kịch bản», «KB theo địa bàn»")
    english = handle(_roundtrip(_request("btnCompare", lang="en")))
    assert english.message.startswith("Compared “Base plan” with 2 alternatives:") and english.write[0].name == "Scenario comparison"


def test_refresh_rebuilds_every_family_the_document_has():
    none = handle(_roundtrip(_request("btnRefresh")))
    assert none.exit_code == EXIT_USAGE and none.write == [] and none.message.startswith("Sổ này chưa có trang báo cáo nào")
    assert "«Phân bổ», «So sánh phương án» hoặc «Tiến độ thực hiện»" in none.message
    ours = {"Tổng hợp": [], "So sánh": [], "Nhật ký": []}  # "So sánh": the policy comparison of an older budgetlib
    refreshed = handle(_roundtrip(_request("btnRefresh", sheets=_sheets(ours, marked=set(ours)))))
    assert [s.name for s in refreshed.write] == ["Tổng hợp", "Nhật ký", *COMPARISON]
    assert refreshed.remove == ["So sánh"]  # replaced by the scenario comparison
    assert refreshed.exit_code == EXIT_OK and refreshed.message.startswith("Đã làm mới các trang báo cáo từ dữ liệu nhập hiện tại.\nĐã ghi 7 trang")


def test_new_workbook_is_the_template():
    from budgetlib.io.workbook import template_sheets

    reply = handle(_roundtrip(_request("btnNew", sheets=[])))
    assert reply.exit_code == EXIT_OK and reply.message == "" and reply.write == []
    assert [s.name for s in reply.new_document] == [s.name for s in template_sheets(lang="vi")]
    assert {s.kind for s in reply.new_document} == {"input"}


def test_version_and_mismatch_warning():
    from budgetlib import __version__

    request = _request("btnVersion", sheets=[])
    request["host"] = {"office_version": "LibreOffice 7.4.7.2", "office_python": "3.11.2 (CPython)"}
    request["extension_version"] = __version__
    reply = handle(_roundtrip(request))
    assert reply.exit_code == EXIT_OK
    assert "LibreOffice: LibreOffice 7.4.7.2" in reply.message and "Các phiên bản khớp nhau." in reply.message
    request["extension_version"] = "0.0.1"
    assert handle(_roundtrip(request)).severity == "warning"
    allocate = _request("btnAllocate")
    allocate["extension_version"] = "0.0.1"
    reply = handle(_roundtrip(allocate))
    assert reply.message.startswith("Phần mở rộng được tạo bởi budgetlib 0.0.1") and reply.severity == "warning"


def test_saved_file_checksum_only_for_a_saved_document(tmp_path):
    import hashlib
    import shutil

    saved = tmp_path / "plan.xlsx"
    shutil.copyfile(EXAMPLE, saved)
    reply = handle(_roundtrip(_request("btnAllocate", saved_file=str(saved))))
    log = dict(next(s for s in reply.write if s.name == "Nhật ký").rows[3:])
    assert log["Mã kiểm tra SHA-256 đầu vào"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    unsaved = handle(_roundtrip(_request("btnAllocate")))
    assert "Mã kiểm tra SHA-256 đầu vào" not in dict(next(s for s in unsaved.write if s.name == "Nhật ký").rows[3:])


def test_bad_requests_and_crashes_become_readable_replies(monkeypatch, tmp_path):
    assert handle({"protocol": 99, "command": "btnAllocate", "lang": "vi"}).exit_code == EXIT_USAGE
    unknown = handle(_request("btnNope", sheets=[]))
    assert unknown.exit_code == EXIT_USAGE and "«btnNope»" in unknown.message
    local = handle(_request("btnLog", sheets=[]))
    assert local.exit_code == EXIT_CRASH  # the extension answers btnLog itself; asking budgetlib is a bug
    from budgetlib.calc import dispatch

    def boom(ctx):
        raise RuntimeError("hỏng")

    monkeypatch.setitem(dispatch._HANDLERS, "allocate", boom)
    reply = handle(_request("btnAllocate"))
    assert reply.exit_code == EXIT_CRASH and "RuntimeError: hỏng" in reply.message and "Chưa trang nào được ghi" in reply.message
    log = (tmp_path / "lo.log").read_text(encoding="utf-8")
    assert "crash btnAllocate" in log and "Traceback" in log and "click btnAllocate" in log

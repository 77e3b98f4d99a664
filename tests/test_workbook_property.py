"""Property: writing results never touches the input sheets, whatever they hold."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from budgetlib import Problem
from budgetlib.core.problems import Source
from budgetlib.io.grid import SheetSpec
from budgetlib.io.workbook import write_result_workbook, write_sheets
from budgetlib.io.workbook.results import error_sheets, is_result_sheet, log_sheet

_text = st.text(alphabet=st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyÀẢÃÁẠ 0123456789,.-"), min_size=1, max_size=12)
_cell = st.one_of(st.none(), _text, st.integers(-10**12, 10**12), st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False))
_rows = st.lists(st.lists(_cell, min_size=0, max_size=5), min_size=1, max_size=6)
_names = st.sampled_from(["Địa bàn", "Dự toán", "Chương trình", "Ghi chú của tôi", "Sheet1", "Năm học", "Phân bổ cũ"])


@st.composite
def input_books(draw):
    names = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    return [SheetSpec(n, draw(_rows), kind="input") for n in names if not is_result_sheet(n)]


def _values(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets if not is_result_sheet(ws.title)}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=input_books(), messages=st.lists(_text, min_size=0, max_size=3), in_place=st.booleans())
def test_writing_results_never_touches_input_sheets(inputs, messages, in_place):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.xlsx"
        # A stale result sheet from an earlier run must be replaced, not kept.
        write_sheets([*inputs, log_sheet([("old", "run")])], src)
        before = _values(src)
        results = [*error_sheets([Problem("schema.value_error", Source(sheet="Sheet1", cell=f"A{i + 1}"), {"detail": m}) for i, m in enumerate(messages)]), log_sheet([("k", "v")])]
        out = write_result_workbook(results, Path(tmp) / "out.xlsx", source=src, in_place=in_place)
        assert _values(out) == before
        wb = load_workbook(out)
        assert [n for n in wb.sheetnames if not is_result_sheet(n)] == [s.name for s in inputs]
        assert wb.sheetnames.count("Nhật ký") == 1 and wb["Nhật ký"]["A4"].value == "k"
        if not in_place:
            assert _values(src) == before

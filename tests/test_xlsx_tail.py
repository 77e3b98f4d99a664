"""The rows of a large sheet are written as generated XML (``xlsx._Tail``), not through openpyxl:
the same sheet drawn both ways must read back the same, cell by cell (value, type, number format,
bold), whatever the mix of cell types, irregular rows and runs of rows of different types."""

from __future__ import annotations

import numpy as np
import pytest
from openpyxl import load_workbook

from budgetlib.io.grid import Formula, SheetSpec
from budgetlib.io.workbook import write_sheets, xlsx


class Code(str):
    """A str subclass (written as text)."""


def mixed_sheet() -> SheetSpec:
    rows: list[list] = [["Tiêu đề <&> dài"], ["Mã", "Tên", "Số", "Tỷ lệ", "Công thức", "Cờ"]]
    for i in range(120):
        r = len(rows) + 1
        if i % 17 == 5:
            rows.append([])  # an empty row
        elif i % 13 == 7:
            rows.append([f"X{i}", None, np.int64(i), np.float64(i / 7), Formula(f"=C{r}*2"), bool(i % 2)])
        elif i % 11 == 3:
            rows.append([Code(f"c{i}"), "=not a formula", 1.5e-7 * i, None])  # ragged: fewer cells
        elif 60 <= i < 70:
            rows.append([f"U{i}", f"Xã {i} \x07 ‘ngoặc’", -i * 1000, i / 3, Formula(f'=IF(C{r}<0,"âm","dương")'), True])
        else:
            rows.append([f"U{i % 9}", f"Tên {i % 4} & <b>", i * 10**9, float(i), Formula(f"=SUM(C{r}:D{r})"), False])
    rows.append(["Tổng", None, Formula(f"=SUM(C3:C{len(rows)})")])
    spec = SheetSpec("Dữ liệu", rows)
    spec.title_rows = {1}
    spec.bold_rows = {2, len(rows)}
    spec.column_formats = {2: "#,##0", 3: "0.00%"}
    spec.format_from_row = 3
    spec.row_heights = {40: 30.0, 41: 45.0}
    return spec


def cells(path) -> dict:
    """Each cell's value, type, number format and boldness (floats to 12 digits: openpyxl writes
    fewer digits than the generated rows, which write the float's exact ``repr``)."""
    ws = load_workbook(path)["Dữ liệu"]
    return {
        c.coordinate: (float(f"{c.value:.12g}") if isinstance(c.value, float) else c.value, c.data_type, c.number_format, bool(c.font and c.font.b))
        for row in ws.iter_rows()
        for c in row
        if c.value is not None or c.has_style
    }


@pytest.mark.parametrize("head", [1, 3, 50])
def test_generated_rows_read_back_as_openpyxls(tmp_path, monkeypatch, head):
    by_openpyxl = write_sheets([mixed_sheet()], tmp_path / "openpyxl.xlsx")
    monkeypatch.setattr(xlsx, "FAST_ROWS", 5)
    monkeypatch.setattr(xlsx, "FAST_HEAD", head)
    monkeypatch.setattr(xlsx, "_BLOCK_ROWS", 7)  # blocks end inside runs and between them
    generated = write_sheets([mixed_sheet()], tmp_path / "generated.xlsx")
    assert cells(generated) == cells(by_openpyxl)


def test_same_sheet_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "FAST_ROWS", 5)
    monkeypatch.setattr(xlsx, "FAST_HEAD", 3)
    a = write_sheets([mixed_sheet()], tmp_path / "a.xlsx").read_bytes()
    b = write_sheets([mixed_sheet()], tmp_path / "b.xlsx").read_bytes()
    assert a == b


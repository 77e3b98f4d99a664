"""Column widths of the result sheets: the column-by-column measure (``_content_widths``) against
the plain cell-by-cell one it replaced, on rows of every kind of value."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from budgetlib.io.grid import Formula
from budgetlib.io.workbook.results import _content_widths, _header_width, _shown_width


def cell_by_cell(rows, headers) -> tuple[dict[int, float], dict[int, float], set[int], int]:
    widths: dict[int, float] = {}
    numeric: dict[int, float] = {}
    formulas: set[int] = set()
    for row, header in zip(rows, headers):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, Formula):
                formulas.add(c)
                continue
            w = _header_width(v) if header and isinstance(v, str) else _shown_width(v)
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                numeric[c] = max(numeric.get(c, 0.0), w)
            widths[c] = max(widths.get(c, 0.0), w)
    largest = max((int(abs(v)) for row in rows for v in row if isinstance(v, (int, np.integer)) and not isinstance(v, bool)), default=0)
    return widths, numeric, formulas, largest


values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.integers(-10**15, 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=30),
    st.integers(-10**9, 10**9).map(np.int64),
    st.sampled_from([Formula("=A1"), Formula("=SUM(B2:B9)")]),
)


def same(got, want) -> None:
    assert list(got[0].items()) == list(want[0].items())  # the same widths, in the same order
    assert got[1] == want[1] and got[2] == want[2] and list(got[2]) == list(want[2]) and got[3] == want[3]


@given(st.lists(st.tuples(st.lists(values, max_size=6), st.booleans()), max_size=25))
def test_any_rows(rows_and_headers):
    rows = [row for row, _ in rows_and_headers]
    headers = [header for _, header in rows_and_headers]
    same(_content_widths(rows, headers), cell_by_cell(rows, headers))


@given(st.lists(st.integers(-10**16, 10**16), min_size=1, max_size=40), st.lists(st.text(max_size=40), min_size=1, max_size=40))
def test_columns_of_integers_and_of_text_below_a_header(numbers, texts):
    """The shortcut cases: a header row, then integer and text columns (and a formula column)."""
    rows: list[list[Any]] = [["Mã địa bàn", "Số tiền được phân bổ", "Tổng"]]
    rows += [[texts[i % len(texts)], n, Formula(f"=B{i + 2}")] for i, n in enumerate(numbers)]
    headers = [True] + [False] * len(numbers)
    same(_content_widths(rows, headers), cell_by_cell(rows, headers))

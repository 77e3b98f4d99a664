"""The annex (Phụ lục) rounds to the display unit and still adds up: controlled rounding.

Checked independently of the implementation: integer arithmetic on the exact đồng, and a brute
force search for the smallest possible rounding error on tiny tables.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from budgetlib.io import load_plan
from budgetlib.io.workbook.annex import annex_tables, controlled_round
from budgetlib.io.workbook.results import annex_sheet
from budgetlib.pipeline import run_allocate

from .conftest import EXAMPLES

UNITS = st.sampled_from([1_000, 1_000_000, 1_000_000_000, 7, 10])


def _tables(max_side: int = 7, max_value: int = 5_000_000_000):
    return st.tuples(st.integers(1, max_side), st.integers(1, max_side)).flatmap(
        lambda rc: st.lists(st.lists(st.integers(0, max_value), min_size=rc[1], max_size=rc[1]), min_size=rc[0], max_size=rc[0])
    )


@given(_tables(), UNITS)
def test_controlled_rounding_adds_up_and_stays_adjacent(rows, unit):
    a = np.array(rows, dtype=np.int64)
    r = controlled_round(a, unit)
    assert r.changed >= 0, "the transportation LP always has an integral optimum"
    lo, hi = a // unit, -(-a // unit)
    assert ((r.cells >= lo) & (r.cells <= hi)).all()
    assert (r.cells.sum(axis=1) == r.rows).all() and (r.cells.sum(axis=0) == r.cols).all()
    assert r.total == int(r.cells.sum()) == (int(a.sum()) + unit // 2) // unit
    for axis, shown in ((1, r.rows), (0, r.cols)):
        exact = a.sum(axis=axis)
        assert ((shown >= exact // unit) & (shown <= -(-exact // unit))).all()


@given(_tables(max_side=3, max_value=3_000), st.sampled_from([1_000, 7]))
def test_controlled_rounding_error_is_the_smallest_possible(rows, unit):
    """Brute force over every up/down choice of a table of at most 3 × 3 cells."""
    a = np.array(rows, dtype=np.int64)
    r = controlled_round(a, unit)
    frac = [(i, j) for i in range(a.shape[0]) for j in range(a.shape[1]) if a[i, j] % unit]
    base = a // unit
    grand = (int(a.sum()) + unit // 2) // unit
    best = None
    for ups in itertools.product((0, 1), repeat=len(frac)):
        cells = base.copy()
        for (i, j), u in zip(frac, ups):
            cells[i, j] += u
        if int(cells.sum()) != grand:
            continue
        ok = all(
            ((cells.sum(axis=ax) >= a.sum(axis=ax) // unit) & (cells.sum(axis=ax) <= -(-a.sum(axis=ax) // unit))).all() for ax in (0, 1)
        )
        if ok:
            err = float(np.abs(cells * unit - a).sum())
            best = err if best is None else min(best, err)
    assert best is not None
    assert float(np.abs(r.cells * unit - a).sum()) == pytest.approx(best)


def test_the_textbook_case_rounds_half_the_cells_up():
    r = controlled_round(np.array([[400_000, 600_000], [600_000, 400_000]]), 1_000_000)
    assert r.cells.tolist() == [[0, 1], [1, 0]] and r.total == 2


@pytest.mark.parametrize("folder", ["haiphong_2011_2015", "tanchau_2022", "cantho_2016"])
def test_annex_of_each_example_reconciles_in_the_display_unit(folder):
    plan = load_plan(EXAMPLES / folder / "plan.json")
    outcome = run_allocate(plan)
    assert outcome.exit_code == 0
    a = outcome.allocation
    tables = annex_tables(plan, a)
    assert tables[0].year is None and [t.year for t in tables[1:]] == list(a.years)
    unit = int(plan.program.display_unit)
    assert tables[0].shown.total == (a.total + unit // 2) // unit
    for t in tables:
        assert int(t.exact.sum()) == (a.total if t.year is None else int(a.by("year")[a.years.index(t.year)]))
        assert (t.shown.cells.sum(axis=1) == t.shown.rows).all() and int(t.shown.cols.sum()) == t.shown.total
    spec = annex_sheet(plan, a)
    text = " ".join(str(v) for row in spec.rows for v in row if isinstance(v, str))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "(Ký, ghi rõ họ tên, đóng dấu)" in text and "Ghi chú:" in text
    exact_everywhere = all(not (t.exact % t.unit).any() for t in tables)
    assert ("chính xác" in text) == exact_everywhere
    if not exact_everywhere:
        assert "làm tròn có kiểm soát" in text


def test_a_national_annex_is_shown_by_district():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    import workbook_scale

    plan = workbook_scale.synthetic_plan(900)
    alloc = workbook_scale.synthetic_allocation(plan)
    tables = annex_tables(plan, alloc)
    assert len(tables[0].unit_codes) == 60  # 900 communes in 60 districts
    assert tables[0].shown.total == (alloc.total + 500_000) // 1_000_000

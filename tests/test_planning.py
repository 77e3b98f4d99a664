"""Phasing, splits and summaries reconcile to the đồng."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from budgetlib import (
    FundingSource,
    NeedDriver,
    Role,
    Task,
    TaskRole,
    budget_pivot,
    build_budget_lines,
    load_plan,
    phase_years,
)


def test_phase_even_weights_growth():
    assert phase_years(22_500_000_000, range(2011, 2016)).tolist() == [4_500_000_000] * 5
    assert phase_years(100, [1, 2], weights=[3, 1]).tolist() == [75, 25]
    assert phase_years(100, [2020, 2021], weights={2020: 1, 2021: 3}).tolist() == [25, 75]
    grown = phase_years(1_000_000_000, [1, 2, 3], growth=0.1, unit=1_000_000)
    assert grown.sum() == 1_000_000_000 and grown[0] < grown[1] < grown[2]


def _tasks(n):
    return [
        Task(code=f"T{i}", name=f"Nhiệm vụ {i}", agencies=[TaskRole(agency="A", role=Role.LEAD)], need=NeedDriver())
        for i in range(n)
    ]


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(0, 10**12),
    n_tasks=st.integers(1, 6),
    n_years=st.integers(1, 6),
    growth=st.floats(-0.5, 0.5),
    unit=st.sampled_from([1, 1000, 1_000_000]),
    data=st.data(),
)
def test_budget_lines_reconcile_at_every_level(total, n_tasks, n_years, growth, unit, data):
    tasks = _tasks(n_tasks)
    shares = {t.code: data.draw(st.floats(0.01, 1)) for t in tasks}
    sources = [
        FundingSource(code="S1", name="Ngân sách tỉnh"),
        FundingSource(code="S2", name="Xã hội hóa", tasks=["T0"]),
    ]
    years = list(range(2020, 2020 + n_years))
    lines = build_budget_lines(
        total, years, tasks, sources, task_shares=shares, source_shares={"S1": 0.8, "S2": 0.2}, growth=growth, unit=unit
    )
    assert sum(line.amount for line in lines) == total
    assert all(line.source == "S1" or line.task == "T0" for line in lines)  # restriction respected
    per_year = phase_years(total, years, growth=growth, unit=unit)
    for year, expected in zip(years, per_year):
        assert sum(line.amount for line in lines if line.year == year) == expected


def test_haiphong_pivot(haiphong_path):
    plan = load_plan(haiphong_path)
    pivot = budget_pivot(plan, rows=("task",), cols=("year",))
    assert pivot.total == 22_500_000_000
    assert pivot.row_keys == ("TT", "KT", "HT", "XP", "NL", "PH")  # document order
    assert pivot.col_keys == (2011, 2012, 2013, 2014, 2015)
    assert int(pivot.col_totals.sum()) == int(pivot.row_totals.sum()) == 22_500_000_000
    by_source = budget_pivot(plan, rows=("source",), cols=())
    assert by_source.total == 22_500_000_000
    two = budget_pivot(plan, rows=("year", "source"), cols=("task",))
    assert two.total == 22_500_000_000 and isinstance(two.row_keys[0], tuple)


def test_pivot_to_dataframe(haiphong_path):
    df = budget_pivot(load_plan(haiphong_path)).to_dataframe()
    assert int(df.to_numpy().sum()) == 22_500_000_000


def test_allocation_baseline_reports_reconcile(haiphong_path):
    from budgetlib import allocate

    result = allocate(load_plan(haiphong_path))
    for dim in ("unit", "task", "year"):
        base = result.baseline_by(dim)
        assert base.dtype.kind == "i" and int(base.sum()) == result.total
        assert abs(base - result.baseline.sum(axis=tuple(i for i, n in enumerate(("unit", "task", "year")) if n != dim))).max() < 1
    assert result.baseline_by("unit", "year").shape == (len(result.units), len(result.years))

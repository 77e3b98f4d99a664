"""The official annex (Phụ lục): unit × task tables in the plan's display unit, totals that add up.

An annex shows amounts in the plan's declared display unit (``triệu đồng`` for Hải Phòng). Rounding
each cell on its own would make rows and columns disagree with their printed totals, which no
finance office accepts. :func:`controlled_round` rounds every cell to one of its two neighbouring
whole display units so that

* every row, every column and the grand total add up exactly to the printed totals;
* each printed total is itself its exact value rounded to a neighbouring whole unit, and the grand
  total is the exact total rounded half up (22.500.000.000 đ → 22.500 triệu đồng);
* the total rounding error ``Σ |shown − exact|`` is as small as possible.

This is *controlled rounding* of a two-way table (Cox & Ernst, 1982): a transportation problem
whose constraint matrix is totally unimodular, so the simplex optimum of its linear relaxation is
integral. It always exists for a two-way table. HiGHS solves it; the result is checked exactly in
integers before use. The same tables feed the ``Phụ lục`` sheet and the PDF budget book.

No spreadsheet library is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...model.plan import Plan
from ...model.result import Allocation

__all__ = ["AnnexTable", "Rounded", "controlled_round", "annex_tables", "ANNEX_MAX_ROWS"]

ANNEX_MAX_ROWS = 400
"""An annex lists at most this many units; a larger allocation (communes nationwide) is shown by
their parent units (districts), which is what a signed annex carries."""


@dataclass(frozen=True)
class Rounded:
    """A table of integer đồng shown in whole display units, with totals that add up."""

    cells: np.ndarray  # int64 [R, C], display units
    rows: np.ndarray  # int64 [R]
    cols: np.ndarray  # int64 [C]
    total: int
    changed: int  # number of cells rounded against the nearest-unit direction to keep the sums


def _round_half_up(amount: np.ndarray | int, unit: int) -> np.ndarray | int:
    return (amount + unit // 2) // unit


def controlled_round(amounts: np.ndarray, unit: int) -> Rounded:
    """Round a non-negative integer đồng table ``amounts`` [R, C] to whole ``unit`` s, keeping sums.

    >>> r = controlled_round(np.array([[400_000, 600_000], [600_000, 400_000]]), 1_000_000)
    >>> r.cells.tolist(), r.rows.tolist(), r.cols.tolist(), r.total
    ([[0, 1], [1, 0]], [1, 1], [1, 1], 2)
    """
    a = np.asarray(amounts, dtype=np.int64)
    if a.ndim != 2:
        raise ValueError("controlled_round needs a two-way table")
    if (a < 0).any():
        raise ValueError("controlled_round needs non-negative amounts")
    unit = int(unit)
    base = a // unit
    rem = a % unit
    grand = int(_round_half_up(int(a.sum()), unit))
    extra_total = grand - int(base.sum())
    if not rem.any() or unit == 1:
        cells = base
        return Rounded(cells, cells.sum(axis=1), cells.sum(axis=0), int(cells.sum()), 0)
    rows_rem, cols_rem = rem.sum(axis=1), rem.sum(axis=0)
    frac_idx = np.argwhere(rem > 0)
    extra = _solve_extra(frac_idx, rem[rem > 0] / unit, a.shape, rows_rem, cols_rem, unit, extra_total)
    cells = base.copy()
    if extra is not None:
        cells[frac_idx[:, 0], frac_idx[:, 1]] += extra
    if extra is None or not _valid(cells, a, unit, grand):
        # Not expected (the problem always has an integral optimum); fall back to rounding each cell
        # to the nearest unit and say so through ``changed = -1``.
        cells = np.asarray(_round_half_up(a, unit), dtype=np.int64)
        return Rounded(cells, cells.sum(axis=1), cells.sum(axis=0), int(cells.sum()), -1)
    nearest = _round_half_up(a, unit)
    return Rounded(cells, cells.sum(axis=1), cells.sum(axis=0), int(cells.sum()), int((cells != nearest).sum()))


def _valid(cells: np.ndarray, exact: np.ndarray, unit: int, grand: int) -> bool:
    lo, hi = exact // unit, -(-exact // unit)
    if ((cells < lo) | (cells > hi)).any() or int(cells.sum()) != grand:
        return False
    for axis in (0, 1):
        s, e = cells.sum(axis=axis), exact.sum(axis=axis)
        if ((s < e // unit) | (s > -(-e // unit))).any():
            return False
    return True


def _solve_extra(
    idx: np.ndarray, frac: np.ndarray, shape: tuple[int, ...], rows_rem: np.ndarray, cols_rem: np.ndarray, unit: int, total: int
) -> np.ndarray | None:
    """0/1 per fractional cell: which cells go up, as a transportation LP solved by HiGHS."""
    import highspy

    n = len(idx)
    n_rows, n_cols = int(shape[0]), int(shape[1])
    from ...allocator._lp import new_highs

    h = new_highs()  # silent: no banner on the terminal
    h.setOptionValue("solver", "simplex")
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = n_rows + n_cols + 1
    # Σ|error| = Σ f + Σ e·(1 − 2f): going up costs 1 − 2f (negative when f > ½).
    lp.col_cost_ = (1.0 - 2.0 * frac).astype(float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lower = np.concatenate([rows_rem // unit, cols_rem // unit, [total]]).astype(float)
    upper = np.concatenate([-(-rows_rem // unit), -(-cols_rem // unit), [total]]).astype(float)
    lp.row_lower_ = lower
    lp.row_upper_ = upper
    # Column k (cell i, j) has a 1 in row i, row n_rows + j and the total row.
    starts = np.arange(0, 3 * n + 1, 3, dtype=np.int32)
    index = np.empty(3 * n, dtype=np.int32)
    index[0::3] = idx[:, 0]
    index[1::3] = n_rows + idx[:, 1]
    index[2::3] = n_rows + n_cols
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(3 * n)
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    x = np.asarray(h.getSolution().col_value)
    up = np.rint(x).astype(np.int64)
    if np.abs(x - up).max(initial=0.0) > 1e-6:
        return None
    return up


@dataclass(frozen=True)
class AnnexTable:
    """One table of the annex: the whole period (``year=None``) or one year, units × tasks."""

    year: int | None
    unit_codes: tuple[str, ...]
    unit_names: tuple[str, ...]
    task_codes: tuple[str, ...]
    task_names: tuple[str, ...]
    exact: np.ndarray  # int64 đồng [U, T]
    shown: Rounded
    unit: int  # đồng per display unit


def _grouping(plan: Plan | None, allocation: Allocation) -> tuple[list[str], list[str], np.ndarray]:
    """Row keys, their names and the unit → row index map (parents when there are too many units)."""
    names = dict(allocation.unit_names)
    if plan is not None:
        names.update({u.code: u.name for u in plan.units if u.code not in names})
    units = list(allocation.units)
    if len(units) <= ANNEX_MAX_ROWS or plan is None:
        return units, [names.get(u, "") for u in units], np.arange(len(units))
    parent = {u.code: u.parent for u in plan.units}
    keys: list[str] = []
    pos: dict[str, int] = {}
    index = np.empty(len(units), dtype=np.int64)
    for i, u in enumerate(units):
        p = parent.get(u) or u
        if p not in pos:
            pos[p] = len(keys)
            keys.append(p)
        index[i] = pos[p]
    return keys, [names.get(k, "") for k in keys], index


def annex_tables(plan: Plan | None, allocation: Allocation, unit: int | None = None, *, lang: str = "vi") -> list[AnnexTable]:
    """The period table then one table per year, in the display unit (``unit`` đồng, default the
    plan's ``display_unit``), each controlled-rounded so its totals add up. Task names are the
    English ones in English (``name_en``) when the plan has them."""
    if unit is None:
        unit = int(plan.program.display_unit) if plan is not None else 1
    keys, key_names, index = _grouping(plan, allocation)
    tasks = dict(allocation.task_names)
    if plan is not None:
        tasks.update({t.code: (t.name_en if str(lang) == "en" and t.name_en else t.name) for t in plan.tasks})
    per = allocation.amounts.sum(axis=3)  # [U, T, Y]
    grouped = np.zeros((len(keys), per.shape[1], per.shape[2]), dtype=np.int64)
    np.add.at(grouped, index, per)
    out = []
    for year in (None, *allocation.years):
        exact = grouped.sum(axis=2) if year is None else grouped[:, :, allocation.years.index(year)]
        out.append(
            AnnexTable(
                year=None if year is None else int(year),
                unit_codes=tuple(keys),
                unit_names=tuple(key_names),
                task_codes=tuple(allocation.tasks),
                task_names=tuple(tasks.get(t, t) for t in allocation.tasks),
                exact=exact,
                shown=controlled_round(exact, unit),
                unit=unit,
            )
        )
    return out

"""Totals of a plan's budget pivoted by any dimensions (year, task, agency, source).

>>> from budgetlib.planning.summary import Pivot
>>> p = Pivot.from_columns({"year": [2011, 2011, 2012], "task": ["A", "B", "A"]}, [5, 7, 9], rows=("year",), cols=("task",))
>>> p.matrix.tolist(), p.total
([[5, 7], [9, 0]], 21)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.text import vi_sort_key
from ..model.plan import Plan

__all__ = ["Pivot", "budget_pivot", "BUDGET_DIMENSIONS"]

BUDGET_DIMENSIONS = ("year", "task", "agency", "source")


def _label_order(values: Sequence[Any], order: Sequence[Any] | None) -> list[Any]:
    present = list(dict.fromkeys(values))
    if order is not None:
        known = [v for v in order if v in set(present)]
        return known + sorted((v for v in present if v not in set(order)), key=lambda v: vi_sort_key(str(v)))
    if all(isinstance(v, int) for v in present):
        return sorted(present)
    return sorted(present, key=lambda v: vi_sort_key(str(v)))


@dataclass(frozen=True)
class Pivot:
    """Integer totals: ``matrix[i, j]`` for row key ``row_keys[i]`` and column key ``col_keys[j]``.

    Keys are tuples when several dimensions are combined. Totals are exact integers.
    """

    rows: tuple[str, ...]
    cols: tuple[str, ...]
    row_keys: tuple[Any, ...]
    col_keys: tuple[Any, ...]
    matrix: np.ndarray

    @property
    def row_totals(self) -> np.ndarray:
        return self.matrix.sum(axis=1)

    @property
    def col_totals(self) -> np.ndarray:
        return self.matrix.sum(axis=0)

    @property
    def total(self) -> int:
        return int(self.matrix.sum())

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Sequence[Any]],
        amounts: Sequence[int] | np.ndarray,
        *,
        rows: Sequence[str],
        cols: Sequence[str] = (),
        orders: Mapping[str, Sequence[Any]] | None = None,
    ) -> Pivot:
        orders = orders or {}
        amounts = np.asarray(amounts, dtype=np.int64)

        def keys_for(dims: Sequence[str]) -> tuple[list[Any], np.ndarray]:
            if not dims:
                return [()], np.zeros(amounts.size, dtype=np.int64)
            per_dim = []
            for d in dims:
                labels = _label_order(columns[d], orders.get(d))
                lookup = {v: i for i, v in enumerate(labels)}
                per_dim.append((labels, np.fromiter((lookup[v] for v in columns[d]), dtype=np.int64, count=amounts.size)))
            sizes = [len(labels) for labels, _ in per_dim]
            flat = np.ravel_multi_index([idx for _, idx in per_dim], sizes) if amounts.size else np.zeros(0, np.int64)
            used = np.unique(flat)
            combos = [tuple(per_dim[k][0][i] for k, i in enumerate(np.unravel_index(f, sizes))) for f in used]
            remap = np.searchsorted(used, flat)
            labels = [c[0] if len(dims) == 1 else c for c in combos]
            return labels, remap

        row_labels, row_idx = keys_for(rows)
        col_labels, col_idx = keys_for(cols)
        matrix = np.zeros((len(row_labels), len(col_labels)), dtype=np.int64)
        np.add.at(matrix, (row_idx, col_idx), amounts)
        return cls(tuple(rows), tuple(cols), tuple(row_labels), tuple(col_labels), matrix)

    def to_dataframe(self):
        """As a pandas DataFrame (rows × columns), needs pandas."""
        import pandas as pd

        columns = [str(c) for c in self.col_keys] if self.cols else ["amount"]
        return pd.DataFrame(self.matrix, index=list(self.row_keys), columns=columns)


def budget_pivot(plan: Plan, rows: Sequence[str] = ("year",), cols: Sequence[str] = ("task",)) -> Pivot:
    """Pivot the plan's budget lines; dimensions from :data:`BUDGET_DIMENSIONS`.

    Task, agency and source keys keep the plan's own order (the order of the document).
    """
    for d in (*rows, *cols):
        if d not in BUDGET_DIMENSIONS:
            raise ValueError(f"unknown dimension {d!r}; use one of {BUDGET_DIMENSIONS}")
    lines = plan.budget_lines
    columns = {d: [getattr(line, d) for line in lines] for d in BUDGET_DIMENSIONS}
    orders: dict[str, list[Any]] = {
        "task": [t.code for t in plan.tasks],
        "agency": [a.code for a in plan.agencies],
        "source": [s.code for s in plan.sources],
        "year": plan.program.years,
    }
    return Pivot.from_columns(columns, [line.amount for line in lines], rows=rows, cols=cols, orders=orders)

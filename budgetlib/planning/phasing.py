"""Turn a multi-year total into budget lines: phase across years, split by tasks and sources.

Every split goes through :func:`budgetlib.core.money.apportion`, so each level reconciles to
the đồng with the level above it.

>>> phase_years(22_500_000_000, [2011, 2012, 2013, 2014, 2015]).tolist()
[4500000000, 4500000000, 4500000000, 4500000000, 4500000000]
>>> phase_years(1_000, [2011, 2012], growth=0.1).tolist()
[476, 524]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..core.money import apportion
from ..model.plan import BudgetLine, FundingSource, Task

__all__ = ["phase_years", "build_budget_lines"]


def phase_years(
    total: int,
    years: Sequence[int],
    *,
    weights: Sequence[float] | Mapping[int, float] | None = None,
    growth: float | None = None,
    unit: int = 1,
) -> np.ndarray:
    """Split ``total`` across ``years``: evenly, by ``weights``, or growing by ``growth`` a year."""
    if weights is not None and growth is not None:
        raise ValueError("give weights or growth, not both")
    if isinstance(weights, Mapping):
        weights = [float(weights.get(y, 0.0)) for y in years]
    if growth is not None:
        if growth <= -1:
            raise ValueError("growth must be above -100 %")
        weights = [(1.0 + growth) ** i for i in range(len(years))]
    if weights is None:
        weights = [1.0] * len(years)
    return apportion(total, weights, unit=unit)


def build_budget_lines(
    total: int,
    years: Sequence[int],
    tasks: Sequence[Task],
    sources: Sequence[FundingSource],
    *,
    task_shares: Mapping[str, float],
    source_shares: Mapping[str, float],
    year_weights: Sequence[float] | Mapping[int, float] | None = None,
    growth: float | None = None,
    unit: int = 1,
) -> list[BudgetLine]:
    """Budget lines task × lead agency × year × source that add up exactly to ``total``.

    Year totals come from :func:`phase_years`; each year is split by ``task_shares``; each task-year
    by ``source_shares`` among the sources allowed to fund that task (restrictions respected,
    shares renormalised over the allowed sources).
    """
    per_year = phase_years(total, years, weights=year_weights, growth=growth, unit=unit)
    task_weights = np.array([float(task_shares.get(t.code, 0.0)) for t in tasks])
    lines: list[BudgetLine] = []
    for year, year_total in zip(years, per_year):
        for task, task_total in zip(tasks, apportion(int(year_total), task_weights, unit=unit)):
            if task.lead is None:
                raise ValueError(f"task {task.code} needs exactly one lead agency")
            allowed = [s for s in sources if s.tasks is None or task.code in s.tasks]
            shares = np.array([float(source_shares.get(s.code, 0.0)) for s in allowed])
            if task_total and not shares.any():
                raise ValueError(f"no funding source may fund task {task.code}")
            for source, amount in zip(allowed, apportion(int(task_total), shares, unit=unit)):
                if amount:
                    lines.append(
                        BudgetLine(task=task.code, agency=task.lead, year=year, source=source.code, amount=int(amount))
                    )
    return lines

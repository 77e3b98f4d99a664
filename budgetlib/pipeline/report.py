"""The printable budget book from a plan: the one entry point for the CLI, the ribbon and Calc.

>>> from budgetlib.io import load_plan                                   # doctest: +SKIP
>>> outcome = write_budget_book(load_plan("plan.json"), "so_ngan_sach.pdf")  # doctest: +SKIP
>>> outcome.exit_code, outcome.path                                      # doctest: +SKIP
(0, PosixPath('so_ngan_sach.pdf'))

Nothing here raises for problems with the user's data: a plan with errors comes back with
``exit_code`` 1 and its problems (no PDF is written), an infeasible one with 2 (the PDF then holds
the summary and the diagnosis). A file that cannot be written raises
:class:`~budgetlib.io.atomic.OutputError` (the CLI's exit code 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.problems import Problem
from ..io.grid import GridBook
from ..model.plan import Plan
from .run import EXIT_INVALID, RunOutcome, run_allocate

__all__ = ["BookOutcome", "write_budget_book", "budget_book_bytes"]


@dataclass
class BookOutcome:
    """The run behind the book, and where the PDF went (``None`` when the plan has errors)."""

    run: RunOutcome
    path: Path | None
    boundaries: Path | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.run.exit_code


def budget_book_bytes(run: RunOutcome, *, boundaries: str | Path | None = None) -> bytes:
    """The PDF of an allocation run (``run.allocation`` must exist)."""
    from ..report import budget_book, load_boundaries

    assert run.plan is not None and run.allocation is not None
    shapes = load_boundaries(boundaries) if boundaries is not None else None
    return budget_book(run.plan, run.allocation, explanation=run.explanation(), lang=run.lang, boundaries=shapes)


def write_budget_book(
    book: GridBook | Plan,
    out: str | Path,
    *,
    policy: Any = None,
    years: Sequence[int] | None = None,
    lang: str = "vi",
    boundaries: str | Path | None = None,
    plan_path: str | Path | None = None,
    source_name: str = "",
) -> BookOutcome:
    """Validate and allocate ``book`` then write its budget book to ``out`` (atomically).

    ``boundaries`` is a GeoJSON of the units (see :mod:`budgetlib.report.geo`); without it, a
    ``boundaries.geojson`` beside ``plan_path`` is used when there is one, else the book says that
    no map could be drawn.
    """
    from ..io.atomic import atomic_path, check_target
    from ..report import find_boundaries

    out = Path(out)
    check_target(out)  # an output that cannot be written fails before any work
    run = run_allocate(book, policy=policy, years=years, lang=lang, source_name=source_name)
    if run.exit_code == EXIT_INVALID or run.allocation is None:
        return BookOutcome(run, None, problems=list(run.problems))
    shapes = Path(boundaries) if boundaries is not None else find_boundaries(plan_path)
    data = budget_book_bytes(run, boundaries=shapes)
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
    return BookOutcome(run, out, shapes, list(run.problems))

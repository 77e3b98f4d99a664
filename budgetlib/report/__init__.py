"""Printable reports: the PDF budget book (``budgetlib report PLAN --pdf OUT.pdf``).

* :func:`budget_book` — PDF bytes for one plan and its allocation: programme summary, the annex
  tables in the plan's display unit (controlled rounding, the same tables as the ``Phụ lục``
  sheet), charts (allocation against need share per unit, task × year, target attainment), the
  plain-language explanation and a choropleth map of money per inhabitant by district;
* :func:`load_boundaries` / :func:`find_boundaries` — the simplified district boundaries a map
  needs (GeoJSON with the units' codes; the examples ship theirs).

Front ends do not call this package directly: they go through
:func:`budgetlib.pipeline.write_budget_book`. Engine: reportlab (layout, embedded TrueType
subsets, a reproducible ``invariant`` mode) with matplotlib for the pictures; both are
pure-``pip`` wheels, so CI and an office laptop build the same bytes without system packages.
"""

from .book import budget_book
from .geo import BOUNDARY_FILE, Boundaries, find_boundaries, load_boundaries

__all__ = ["budget_book", "Boundaries", "load_boundaries", "find_boundaries", "BOUNDARY_FILE"]

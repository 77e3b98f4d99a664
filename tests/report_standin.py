"""A test double of the report helper's ``budgetlib.pipeline.report.write_budget_book``, with the
real function's shape, for the "Xuất báo cáo PDF" buttons' tests until that module lands on main.

Named as what it is: it does not draw a budget book. Like the real function it checks the target
before any work (an ``OSError`` for a folder it cannot write), validates and allocates with
:func:`~budgetlib.pipeline.run_allocate`, writes nothing for a plan with errors, returns the run,
the path written, the boundaries used (none here) and the problems, and writes bytes that depend
only on the plan, the allocation and the language (the real book is deterministic). It is never
friendlier than the real thing: every path the real function can fail on is one it fails on too.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest


class ReportStandIn:
    """The double; ``calls`` records every call's target, language, plan path and source name."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def write_budget_book(self, book: Any, out: Any, *, policy: Any = None, years: Any = None, lang: str = "vi",
                          boundaries: Any = None, plan_path: Any = None, source_name: str = "") -> Any:
        import hashlib
        import os

        from budgetlib.pipeline import run_allocate
        from budgetlib.store.canonical import plan_hash

        out = Path(out)
        self.calls.append({"out": out, "lang": lang, "plan_path": plan_path, "source_name": source_name})
        if not os.access(out.parent, os.W_OK):
            raise PermissionError(13, "Permission denied", str(out.parent))
        run = run_allocate(book, policy=policy, years=years, lang=lang, source_name=source_name)
        outcome = types.SimpleNamespace(run=run, path=None, boundaries=None, problems=list(run.problems), exit_code=run.exit_code)
        if run.allocation is None:
            return outcome
        digest = hashlib.sha256((plan_hash(run.plan) + str(run.allocation.total) + lang).encode()).hexdigest()
        out.write_bytes(b"%PDF-1.7\n% budgetlib report stand-in " + digest.encode() + b"\n%%EOF\n")
        outcome.path = out
        return outcome


def install_report_standin(monkeypatch: pytest.MonkeyPatch) -> ReportStandIn:
    """Make ``budgetlib.pipeline.report`` the double for the rest of the test; the double is returned."""
    double = ReportStandIn()
    module = types.ModuleType("budgetlib.pipeline.report")
    module.write_budget_book = double.write_budget_book  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "budgetlib.pipeline.report", module)
    return double

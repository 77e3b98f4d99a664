"""Golden layout of the workbooks: sheet names, table names, headers and column order.

Officers' macros, the add-in and training material depend on this layout; a change must be a
decision. Regenerate after an intended change with ``BUDGETLIB_UPDATE_GOLDEN=1 pytest tests/test_workbook_golden.py``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from budgetlib.io.grid import SheetSpec
from budgetlib.io.workbook import plan_sheets
from budgetlib.pipeline import run_allocate
from budgetlib.planning.validation import load_plan_data

from .conftest import tiny_plan_data

GOLDEN = Path(__file__).parent / "golden" / "workbook_layout.json"


def _row(spec: SheetSpec, r: int) -> list:
    return [v for v in spec.rows[r - 1]] if r - 1 < len(spec.rows) else []


def layout(specs: list[SheetSpec]) -> list[dict]:
    out = []
    for s in specs:
        tables = []
        for t in s.tables:
            header_row = int(re.match(r"[A-Z]+(\d+)", t.ref).group(1))
            tables.append({"name": t.name, "header_row": header_row, "headers": [str(v) for v in _row(s, header_row) if v is not None]})
        bold = [[str(v) for v in _row(s, r) if isinstance(v, str)] for r in sorted(s.bold_rows)]
        out.append({"sheet": s.name, "kind": s.kind, "freeze": s.freeze, "tables": tables, "bold_rows": bold})
    return out


def current() -> dict:
    plan = load_plan_data(tiny_plan_data())
    result = {}
    for lang in ("vi", "en"):
        outcome = run_allocate(plan, lang=lang)
        assert outcome.exit_code == 0
        results = [s for s in outcome.sheets if s.name not in ("Nhật ký", "Run log")]
        result[lang] = {"template": layout(plan_sheets(plan, lang=lang)), "results": layout(results)}
    return result


def test_layout_matches_golden():
    got = current()
    if os.environ.get("BUDGETLIB_UPDATE_GOLDEN") == "1":  # an intended change, made on purpose
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    # A missing golden file fails: a test that writes its own expectation cannot fail.
    assert GOLDEN.exists(), f"{GOLDEN} is missing; regenerate it on purpose with BUDGETLIB_UPDATE_GOLDEN=1"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for lang in ("vi", "en"):
        for part in ("template", "results"):
            assert [s["sheet"] for s in got[lang][part]] == [s["sheet"] for s in expected[lang][part]], (lang, part)
            for g, e in zip(got[lang][part], expected[lang][part]):
                assert g == e, (lang, part, g["sheet"])

"""Rebuild, allocate and summarise every worked example; exit non-zero on any failure.

For each example folder: run its builder (rewrites the plan JSON files deterministically), then for
each plan file allocate it with its own policy, check that the allocation reconciles to the đồng
with the plan's budget lines (task × year × source), that every target is reported as met or with
its shortfall, and print a short summary. If a ``plan.xlsx`` sits next to a plan file and the
workbook reader is installed, the workbook is allocated too and must give the same amounts.

``--workbooks`` also rewrites each ``plan.xlsx`` from its JSON (what ``budgetlib template OUT.xlsx
--example PLAN.json`` does); the same plan gives a byte-identical workbook.

Run: ``python examples/run_all.py [--lang en] [--no-rebuild] [--workbooks] [folder …]``
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    EXAMPLE_DIRS,
    attainment_lines,
    load_builder,
    reconcile,
    unit_table,
    write_plans,
)

from budgetlib import format_amount, load_plan  # noqa: E402
from budgetlib.allocator import allocate  # noqa: E402


def workbook_for(json_path: Path) -> Path:
    return json_path.with_suffix(".xlsx")


def run_plan(path: Path, lang: str) -> list[str]:
    """Allocate one plan file, print its summary, return the failures found."""
    failures: list[str] = []
    plan = load_plan(path)
    started = time.perf_counter()
    allocation = allocate(plan)
    elapsed = time.perf_counter() - started
    rel = path.relative_to(HERE.parent)
    print(f"\n== {rel} — {plan.program.name}")
    shape = f"{len(allocation.units)} địa bàn/units × {len(allocation.tasks)} nhiệm vụ/tasks × {len(allocation.years)} năm/years"
    print(f"   {shape}; "
          f"status {allocation.status}; {elapsed:.2f} s")
    if not allocation.ok:
        diagnosis = allocation.diagnosis
        summary = "" if diagnosis is None else diagnosis.summary(lang)
        return [f"{rel}: allocation {allocation.status}: {summary}"]
    total, planned = format_amount(allocation.total, lang=lang), format_amount(plan.program.total, lang=lang)
    print(f"   Tổng/total {total} (kế hoạch/plan {planned})")
    failures += [f"{rel}: {p}" for p in reconcile(plan, allocation)]
    for line in unit_table(plan, allocation, limit=12, lang=lang):
        print("   " + line)
    reported = {a.target for a in allocation.attainment}
    for line in attainment_lines(allocation, lang):
        print("   " + line)
    missing = [t.code for t in plan.targets if t.code not in reported]
    if missing:
        failures.append(f"{rel}: targets not reported in the allocation: {', '.join(missing)}")
    book = workbook_for(path)
    if book.exists():
        try:
            from budgetlib.io.workbook import read_workbook
        except ImportError:
            print(f"   ({book.name}: workbook reader not installed, skipped)")
        else:
            other = allocate(read_workbook(book))
            same = other.amounts.shape == allocation.amounts.shape and (other.amounts == allocation.amounts).all()
            if not same:
                failures.append(f"{rel}: {book.name} and {path.name} give different allocations")
            else:
                print(f"   {book.name}: cùng kết quả / same allocation ✓")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["vi", "en"], default="vi")
    parser.add_argument("--no-rebuild", action="store_true", help="allocate the plan files as they are")
    parser.add_argument("--workbooks", action="store_true", help="also rewrite each plan.xlsx from its JSON")
    parser.add_argument("examples", nargs="*", default=EXAMPLE_DIRS, help="example folders (default: all)")
    args = parser.parse_args(argv)
    failures: list[str] = []
    for folder in args.examples:
        try:
            plans = load_builder(folder).build_all()
            if not args.no_rebuild:
                write_plans(HERE / folder, plans)
            if args.workbooks:
                from budgetlib.io.workbook import write_plan_workbook

                for name in plans:
                    book = workbook_for(HERE / folder / name)
                    write_plan_workbook(load_plan(HERE / folder / name), book)
                    print(f"wrote {book}")
            for name in plans:
                failures += run_plan(HERE / folder / name, args.lang)
        except Exception:
            failures.append(f"{folder}: {traceback.format_exc(limit=3)}")
    print()
    if failures:
        print(f"{len(failures)} lỗi / failure(s):", file=sys.stderr)
        for f in failures:
            print(f"  • {f}", file=sys.stderr)
        return 1
    print(f"✓ {len(args.examples)} ví dụ chạy thành công / examples ran successfully")
    return 0


if __name__ == "__main__":
    sys.exit(main())

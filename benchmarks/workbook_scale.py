"""Workbook scale benchmark: read and write a national-size planning workbook and its results.

National size: ~10 600 communes (in ~700 districts) × 6 tasks × 5 years × 2 sources, allocated at
commune level. The allocation is synthetic (seeded random integers): this measures I/O, not the LP
(see ``benchmarks/allocate_scale.py`` for the solver).

Steps, each in a fresh subprocess so that its peak RSS (``ru_maxrss``) is its own:

* ``write_plan``        — the planning template filled with the plan (openpyxl write-only);
* ``read_plan``         — read it back into a Plan (openpyxl normal mode: tables by name);
* ``read_plan_stream``  — the same in read-only (streaming) mode (tables by header);
* ``read_plan_calamine``— the same with python-calamine;
* ``result_specs``      — build the result SheetSpecs (no I/O);
* ``write_results_new`` — plan sheets + result sheets into a new file (write-only);
* ``write_results_src`` — result sheets added to the input workbook (normal mode, as ``-o`` with
  an ``.xlsx`` input and ``--in-place`` do);
* ``read_results``      — read the flat ``Phân bổ`` table back (calamine).

Run: ``python benchmarks/workbook_scale.py [--units 10600] [--only write_plan,read_plan]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STEPS = ["write_plan", "read_plan", "read_plan_stream", "read_plan_calamine", "result_specs", "write_results_new", "write_results_src", "read_results"]


def synthetic_plan(n_communes: int, seed: int = 7):
    from budgetlib.model.plan import AdminUnit, Agency, BudgetLine, FundingSource, Plan, Program, Task, TaskRole
    from budgetlib.model.policy import AllocationPolicy

    rng = np.random.default_rng(seed)
    n_districts = max(1, n_communes // 15)
    years = list(range(2026, 2031))
    units = [AdminUnit(code=f"D{d:03d}", name=f"Huyện {d}", kind="Huyện", parent="P01", attributes={"population": float(rng.integers(50_000, 400_000))}) for d in range(n_districts)]
    for c in range(n_communes):
        units.append(
            AdminUnit(
                code=f"{c + 10000:05d}",
                name=f"Xã Thử Nghiệm {c}",
                kind="Xã",
                parent=f"D{c % n_districts:03d}",
                attributes={"population": float(rng.integers(2_000, 40_000)), "communes": 1.0, "hotspots": float(rng.integers(0, 5))},
            )
        )
    tasks = [Task(code=f"T{i}", name=f"Nhiệm vụ {i}", agencies=[TaskRole(agency="LD", role="lead")], need="population + 1000*hotspots") for i in range(6)]
    sources = [FundingSource(code="NS_T", name="Ngân sách tỉnh", kind="province_budget"), FundingSource(code="TW", name="Trung ương", kind="central_support")]
    lines = [BudgetLine(task=t.code, agency="LD", year=y, source=s.code, amount=50_000_000_000) for t in tasks for y in years for s in sources]
    total = sum(line.amount for line in lines)
    return Plan(
        program=Program(code="QG", name="Chương trình quốc gia (thử tải)", authority="Bộ", first_year=years[0], last_year=years[-1], total=total, display_unit=1_000_000),
        units=units,
        agencies=[Agency(code="LD", name="Bộ LĐ-TB&XH")],
        tasks=tasks,
        sources=sources,
        budget_lines=lines,
        allocation=AllocationPolicy(level="commune", rounding_unit=1000),
    )


def synthetic_allocation(plan):
    from budgetlib.model.result import Allocation, AllocationStatus

    rng = np.random.default_rng(3)
    units = tuple(u.code for u in plan.units if u.kind == "Xã")
    tasks = tuple(t.code for t in plan.tasks)
    years = tuple(plan.program.years)
    sources = tuple(s.code for s in plan.sources)
    amounts = (rng.integers(1, 10_000, size=(len(units), len(tasks), len(years), len(sources))) * 1000).astype(np.int64)
    baseline = amounts.sum(axis=3).astype(float) * rng.uniform(0.9, 1.1, size=amounts.shape[:3])
    return Allocation(plan.program.code, "min_deviation", AllocationStatus.OPTIMAL, units, tasks, years, sources, amounts, baseline, objective=1.0)


def _step(name: str, n: int, workdir: Path) -> dict:
    from budgetlib.io.workbook import (
        CalamineBook,
        OpenpyxlBook,
        read_plan_grids,
        write_plan_workbook,
        write_result_workbook,
    )
    from budgetlib.io.workbook.results import read_allocation_records
    from budgetlib.pipeline import result_sheets

    plan_path, new_path, src_path = workdir / "plan.xlsx", workdir / "results_new.xlsx", workdir / "results_src.xlsx"
    info: dict = {}
    if name in ("write_plan", "result_specs", "write_results_new", "write_results_src"):
        plan = synthetic_plan(n)
    t0 = time.perf_counter()
    if name == "write_plan":
        write_plan_workbook(plan, plan_path)
        info["size_mb"] = plan_path.stat().st_size / 1e6
    elif name in ("read_plan", "read_plan_stream"):
        book = OpenpyxlBook(plan_path, read_only=(name == "read_plan_stream"))
        info["units"] = len(read_plan_grids(book).units)
    elif name == "read_plan_calamine":
        info["units"] = len(read_plan_grids(CalamineBook(plan_path)).units)
    elif name == "result_specs":
        specs = result_sheets(plan, synthetic_allocation(plan), log=[("run", "bench")], explanation=["…"])
        info["cells"] = sum(len(r) for s in specs for r in s.rows)
    elif name in ("write_results_new", "write_results_src"):
        alloc = synthetic_allocation(plan)
        t1 = time.perf_counter()
        specs = result_sheets(plan, alloc, log=[("run", "bench")], explanation=["…"])
        info["specs_s"] = round(time.perf_counter() - t1, 2)
        if name == "write_results_new":
            write_result_workbook(specs, new_path, plan=plan)
            info["size_mb"] = new_path.stat().st_size / 1e6
        else:
            write_result_workbook(specs, src_path, source=plan_path)
            info["size_mb"] = src_path.stat().st_size / 1e6
    elif name == "read_results":
        info["rows"] = len(read_allocation_records(CalamineBook(new_path)))
    info["seconds"] = round(time.perf_counter() - t0, 2)
    info["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_600, help="number of communes")
    ap.add_argument("--only", default="", help="comma-separated steps")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.units, Path(args.workdir))))
        return
    steps = args.only.split(",") if args.only else STEPS
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'step':<20} {'seconds':>8} {'peak RSS MB':>12}  details   ({args.units} communes × 6 tasks × 5 years × 2 sources)")
        for step in steps:
            out = subprocess.run(
                [sys.executable, __file__, "--step", step, "--units", str(args.units), "--workdir", tmp],
                capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            if out.returncode != 0:
                print(f"{step:<20} FAILED\n{out.stderr[-2000:]}")
                continue
            info = json.loads(out.stdout.strip().splitlines()[-1])
            secs, rss = info.pop("seconds"), info.pop("peak_rss_mb")
            details = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items())
            print(f"{step:<20} {secs:>8.2f} {rss:>12.1f}  {details}", flush=True)


if __name__ == "__main__":
    main()

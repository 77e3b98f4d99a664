"""Allocator scale benchmark: model-build time, solve time, end-to-end time and peak memory.

Scenarios (synthetic attributes, seeded):

* ``city``      — 15 districts × 6 tasks × 5 years (Hải Phòng-sized);
* ``province``  — 223 communes × 6 tasks × 5 years (commune level);
* ``national``  — ~10 600 communes × 6 tasks × 5 years.

Each scenario × policy runs in a fresh subprocess so that the peak RSS (``ru_maxrss``, which
includes HiGHS's own C++ memory) belongs to that run alone.

Run: ``python benchmarks/allocate_scale.py [--only national] [--policies proportional,min_deviation]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

SCENARIOS = {"city": (15, "district"), "province": (223, "commune"), "national": (10_600, "commune")}
POLICIES = ["proportional", "min_deviation", "max_min"]


def synthetic_plan(n_units: int, level: str, kind: str, seed: int = 7):
    from budgetlib import (
        AdminUnit, Agency, AllocationPolicy, BudgetLine, CapConstraint, FloorConstraint, FundingSource, Plan, Program,
        StabilityConstraint, Task, TaskRole,
    )

    rng = np.random.default_rng(seed)
    years = list(range(2021, 2026))
    n_districts = max(1, n_units // 15) if level == "commune" else n_units
    units = []
    if level == "commune":
        units += [AdminUnit(code=f"D{d:04d}", name=f"Huyện {d}", kind="Huyện", parent="P") for d in range(n_districts)]
    for i in range(n_units):
        units.append(AdminUnit(
            code=f"U{i:05d}", name=f"{'Xã' if level == 'commune' else 'Huyện'} {i}", kind="Xã" if level == "commune" else "Huyện",
            parent=f"D{i % n_districts:04d}" if level == "commune" else "P",
            attributes={"population": float(rng.integers(1_000, 60_000)), "communes": float(rng.integers(1, 30)),
                        "hotspots": float(rng.integers(0, 10)), "border": float(rng.random() < 0.1)},
        ))
    tasks = [Task(code=f"T{t}", name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="A", role="lead")],
                  need={"terms": {"population": 1.0, "hotspots": float(1000 * t), "communes": 500.0}}) for t in range(6)]
    sources = [FundingSource(code="NS", name="Ngân sách"), FundingSource(code="TW", name="Trung ương")]
    per_unit = 40_000_000 if level == "commune" else 600_000_000
    lines = []
    for t in range(6):
        for j, y in enumerate(years):
            total = per_unit * n_units * (1 + 0.05 * j) / 6
            lines.append(BudgetLine(task=f"T{t}", agency="A", year=y, source="NS", amount=int(total * 0.7) // 1000 * 1000))
            lines.append(BudgetLine(task=f"T{t}", agency="A", year=y, source="TW", amount=int(total * 0.3) // 1000 * 1000))
    avg = per_unit / 6
    cons = [FloorConstraint(name="Sàn mỗi địa bàn", amount=int(avg * 0.25) // 1000 * 1000, tasks=["T0", "T1"]),
            CapConstraint(name="Trần 3 lần phần theo nhu cầu", times_proportional=3.0, tasks=["T2", "T3", "T4", "T5"]),
            CapConstraint(name="Trần 20% ngân sách nhiệm vụ", share_of_budget=0.2)]
    if kind != "proportional":
        cons.append(StabilityConstraint(name="Ổn định ±30%", max_change=0.3))
    policy = AllocationPolicy(kind=kind, level=level, rounding_unit=1000, constraints=cons)
    return Plan(program=Program(code="BENCH", name="Benchmark", authority="UBND", first_year=2021, last_year=2025,
                                total=sum(l.amount for l in lines)),
                units=units, agencies=[Agency(code="A", name="Sở")], tasks=tasks, sources=sources, budget_lines=lines, allocation=policy)


def run_one(scenario: str, kind: str) -> dict:
    from budgetlib.allocator import allocate, assert_allocation_conserves
    from budgetlib.allocator._data import build_data
    from budgetlib.allocator._lp import _highs_lp
    from budgetlib.allocator._model import Builder

    n_units, level = SCENARIOS[scenario]
    t0 = time.perf_counter()
    plan = synthetic_plan(n_units, level, kind)
    t_plan = time.perf_counter() - t0
    out = {"scenario": scenario, "policy": kind, "units": n_units, "plan_build_s": round(t_plan, 3)}
    # 1. end to end, first, so that the peak RSS is that of allocate() alone
    t0 = time.perf_counter()
    a = allocate(plan)
    out["allocate_end_to_end_s"] = round(time.perf_counter() - t0, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["status"] = str(a.status)
    out["solver"] = a.solver
    assert_allocation_conserves(plan, a)
    del a
    from budgetlib.allocator._maxmin import BISECTION_MIN_CELLS
    from budgetlib.allocator._model import covered_cells

    d = build_data(plan, plan.allocation, None)
    if kind == "max_min" and covered_cells(d).size >= BISECTION_MIN_CELLS:
        # allocate() took the bisection path (warm-started min-deviation solves); the one-shot
        # stage-1 LP below is what it avoids (minutes at national size), so it is not timed.
        out.update(method="bisection", covered_cells=int(covered_cells(d).size))
        return out
    if kind != "proportional":
        # 2. phases of the LP path: modelling (arrays → CSR → passModel) vs HiGHS run
        import highspy

        t0 = time.perf_counter()
        d = build_data(plan, plan.allocation, None)
        b = Builder(d, "dev" if kind == "min_deviation" else "x")
        b.common()
        if kind == "min_deviation":
            b.deviation_cost(False)
        else:
            b.maxmin_rows()
        lp, _ = b.done()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if kind == "max_min":
            h.setOptionValue("solver", "ipm")  # as allocate() does for stage 1
        h.passModel(_highs_lp(lp, False))
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        h.run()
        t_solve = time.perf_counter() - t0
        out.update(columns=lp.n_cols, rows=lp.n_rows, model_build_s=round(t_model, 3), solve_s=round(t_solve, 3),
                   modelling_over_solve=round(t_model / t_solve, 3), lp_status=h.modelStatusToString(h.getModelStatus()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=list(SCENARIOS), action="append")
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--child", nargs=2, metavar=("SCENARIO", "POLICY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(*args.child)))
        return
    for scenario in args.only or list(SCENARIOS):
        for kind in args.policies.split(","):
            proc = subprocess.run([sys.executable, __file__, "--child", scenario, kind], capture_output=True, text=True)
            if proc.returncode:
                print(f"{scenario} {kind}: FAILED\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()

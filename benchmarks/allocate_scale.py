"""Allocator scale benchmark: model-build time, solve time, end-to-end time and peak memory.

Scenarios (synthetic attributes, seeded):

* ``city``      — 15 districts × 6 tasks × 5 years (Hải Phòng-sized);
* ``province``  — 223 communes × 6 tasks × 5 years (commune level);
* ``national``  — ~10 600 communes × 6 tasks × 5 years.

Each run is a fresh subprocess so that the peak RSS (``ru_maxrss``, which includes HiGHS's own C++
memory) belongs to that run alone. Printed per policy: a scale curve over 1 000, 3 000, 10 600
(national) and 30 000 communes × 6 tasks × 5 years (median of 3 runs, end to end), the fitted
growth exponent (time ≈ a·units^b), the solver's own time (HiGHS ``run``) and the modelling
overhead share (everything else: arrays, model building, pre-checks, rounding, source split,
reports), peak RSS, and whether the national run meets the issue-11 target. The machine's load
average is printed first: the machine is shared. With ``BENCH_BINDING=1`` the stability constraint
is also checked against prior-year amounts that differ from the need shares, so that it binds.

Run: ``python benchmarks/allocate_scale.py [--policies proportional,min_deviation] [--repeat 3]
[--curve 1000,3000,10600,30000] [--timeout 600]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

SCENARIOS = {"city": (15, "district"), "province": (223, "commune"), "national": (10_600, "commune")}
POLICIES = ["proportional", "min_deviation", "max_min"]
ALL_POLICIES = ["proportional", "min_deviation", "max_min", "max_outcome"]


def synthetic_plan(n_units: int, level: str, kind: str, seed: int = 7):
    from budgetlib import (
        AdminUnit,
        Agency,
        AllocationPolicy,
        BudgetLine,
        CapConstraint,
        FloorConstraint,
        FundingSource,
        Plan,
        Program,
        StabilityConstraint,
        Task,
        TaskRole,
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
        prior = None
        if os.environ.get("BENCH_BINDING"):
            # last year's amounts 0.7–1.4 × this year's need share for tasks T2–T5: ±30 % against
            # them binds for many communes, so the LP path (not the reference share) is measured
            need = np.array([[float(u.attributes["population"]) + 1000 * t * float(u.attributes["hotspots"]) + 500 * float(u.attributes["communes"])
                              for u in units[-n_units:]] for t in range(6)])
            first = per_unit * n_units / 6
            prior = [{"unit": u.code, "task": f"T{t}", "amount": int(first * need[t, i] / need[t].sum() * rng.uniform(0.7, 1.4))}
                     for t in range(2, 6) for i, u in enumerate(units[-n_units:])]
        cons.append(StabilityConstraint(name="Ổn định ±30%", max_change=0.3, prior=prior))
    curves = []
    if kind == "max_outcome":
        curves = [{"task": f"T{t}", "outcome": "lượt người", "segments": [{"width": 0.8, "outcome_per_million": 5.0 - t * 0.5},
                                                                      {"width": 0.6, "outcome_per_million": 2.0}, {"outcome_per_million": 0.2}]}
                  for t in range(3)]
    policy = AllocationPolicy(kind=kind, level=level, rounding_unit=1000, constraints=cons, response_curves=curves)
    return Plan(program=Program(code="BENCH", name="Benchmark", authority="UBND", first_year=2021, last_year=2025,
                                total=sum(line.amount for line in lines)),
                units=units, agencies=[Agency(code="A", name="Sở")], tasks=tasks, sources=sources, budget_lines=lines, allocation=policy)


def run_one(scenario: str, kind: str) -> dict:
    """One allocate() of a scenario in this (fresh) process: end-to-end time, the solver's own time
    (HiGHS ``run`` and Clarabel, timed by wrapping them), peak RSS, status."""
    import highspy

    from budgetlib.allocator import allocate, assert_allocation_conserves

    n_units, level = scenario_size(scenario)
    plan = synthetic_plan(n_units, level, kind)
    solver_time = [0.0]
    run = highspy.Highs.run

    def timed(self, *args, **kwargs):
        t = time.perf_counter()
        try:
            return run(self, *args, **kwargs)
        finally:
            solver_time[0] += time.perf_counter() - t

    highspy.Highs.run = timed
    # the fair stage's interior point (Clarabel) is the solver's time too
    from budgetlib.allocator import _qp

    clarabel = _qp._clarabel

    def timed_clarabel(*args, **kwargs):
        t = time.perf_counter()
        try:
            return clarabel(*args, **kwargs)
        finally:
            solver_time[0] += time.perf_counter() - t

    _qp._clarabel = timed_clarabel
    t0 = time.perf_counter()
    a = allocate(plan)
    total = time.perf_counter() - t0
    rss_allocate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    text = a.to_json()  # what --json writes
    json_s = time.perf_counter() - t0
    assert_allocation_conserves(plan, a)
    return {
        "to_json_s": round(json_s, 3), "to_json_mb": round(len(text.encode()) / 1e6, 1),
        "to_json_extra_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_allocate, 1),
        "scenario": scenario, "policy": kind, "units": n_units, "status": str(a.status), "solver": a.solver,
        "end_to_end_s": round(total, 3), "solver_s": round(solver_time[0], 3),
        "overhead_share": round((total - solver_time[0]) / total, 3) if total else None,
        "peak_rss_mb": round(rss_allocate, 1),
    }


def scenario_size(scenario: str) -> tuple[int, str]:
    if scenario in SCENARIOS:
        return SCENARIOS[scenario]
    return int(scenario), "commune"  # a scale-curve point: that many communes


def child(scenario: str, kind: str, timeout: float) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--child", scenario, kind], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"scenario": scenario, "policy": kind, "status": f"timeout after {timeout:.0f} s"}
    if proc.returncode:
        return {"scenario": scenario, "policy": kind, "status": "FAILED", "stderr": proc.stderr[-500:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    ok = [r for r in runs if "end_to_end_s" in r]
    if not ok:
        return runs[0]
    ok.sort(key=lambda r: r["end_to_end_s"])
    out = dict(ok[len(ok) // 2])
    out["runs_s"] = [r["end_to_end_s"] for r in runs if "end_to_end_s" in r]
    out["to_json_runs_s"] = [r["to_json_s"] for r in runs if "to_json_s" in r]
    out["to_json_s"] = float(np.median(out["to_json_runs_s"]))  # its own median, not that of the median run
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ok)
    return out


def fitted_exponent(points: list[tuple[int, float]]) -> float | None:
    """b in time ≈ a·units^b (least squares on logs)."""
    pts = [(n, t) for n, t in points if t and t > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([n for n, _ in pts]), np.log([t for _, t in pts])
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", default=",".join(ALL_POLICIES))
    ap.add_argument("--repeat", type=int, default=3, help="runs per point (the median is printed)")
    ap.add_argument("--curve", default="1000,3000,10600,30000", help="scale-curve sizes (communes)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    ap.add_argument("--child", nargs=2, metavar=("SCENARIO", "POLICY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(*args.child)))
        return
    load = os.getloadavg()
    print(json.dumps({"machine": {"cores": os.cpu_count(), "load_1_5_15": [round(v, 2) for v in load]}}))
    targets = {"proportional": 0.3, "min_deviation": 5.0, "max_min": 5.0, "max_outcome": 10.0}
    for kind in args.policies.split(","):
        curve = []
        for size in [int(s) for s in args.curve.split(",")]:
            runs = []
            for _ in range(args.repeat):
                r = child(str(size), kind, args.timeout)
                runs.append(r)
                if "end_to_end_s" not in r:
                    break  # a timeout or a failure is not repeated
            m = median_of(runs)
            if "end_to_end_s" in m:
                curve.append((size, m["end_to_end_s"]))
            if size == 10_600:
                m["target_s"] = targets[kind]
                m["meets_target"] = "end_to_end_s" in m and m["end_to_end_s"] < targets[kind] and m["peak_rss_mb"] < 2048
            print(json.dumps(m, ensure_ascii=False), flush=True)
        print(json.dumps({"policy": kind, "scale_curve_s": curve, "fitted_exponent": fitted_exponent(curve)}), flush=True)


if __name__ == "__main__":
    main()

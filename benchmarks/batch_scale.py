"""Batch benchmark: every district of Vietnam as a district plan allocated to its communes, × 3 scenarios.

Plans: one per district in ``examples/data/vn_2022_districts.csv`` (705 district-level units of
10/04/2022 with their real commune counts by type and their 2019 census population). Each plan
allocates one year of a five-task anti-prostitution budget (2 sources) to the district's communes;
the communes are the real *number* of phường / xã / thị trấn of the district, with synthetic names
and attributes (population: the district's 2019 population split by seeded random weights; border
and hotspot flags seeded per district). Policy ``min_deviation`` at commune level with a floor and a
cap. Three scenarios per plan: the whole budget −10%, the central support source dropped, and
``max_min`` instead of ``min_deviation``. So each district is 1 + 4 tasks (read; base + 3
scenarios), each allocation writes its JSON result (``--xlsx`` also writes result workbooks).

Measured: the same batch serially (in-process, no dask) and on a ``distributed.LocalCluster`` of
2 worker processes (started by the batch, its start-up timed apart): wall time, throughput (plans ×
scenarios per second), the speed-up, and the scheduler overhead per task — the cluster's wall time
× workers minus the time the tasks themselves measured, per task, against the mean task time. The
outputs of the two runs are compared byte for byte.

Run: ``python benchmarks/batch_scale.py [--quick] [--districts N] [--workers 2] [--xlsx]``
(``--quick``: 40 districts). The machine is shared: note its load (printed) with the figures.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "examples" / "data" / "vn_2022_districts.csv"
TASKS = {"TT": 0.30, "HT": 0.20, "NL": 0.15, "PH": 0.10, "KT": 0.25}
PER_COMMUNE = 20_000_000  # đồng per commune and year (synthetic)


def district_plan(row: dict[str, str]):
    from budgetlib import (
        AdminUnit,
        Agency,
        AllocationPolicy,
        CapConstraint,
        DropSource,
        FloorConstraint,
        FundingSource,
        Plan,
        Program,
        ScaleBudget,
        Scenario,
        SetPolicy,
        Task,
        TaskRole,
        build_budget_lines,
    )

    code = row["district_code"]
    rng = np.random.default_rng(int(code))
    counts = [("Phường", int(row["n_phuong"] or 0)), ("Xã", int(row["n_xa"] or 0)), ("Thị trấn", int(row["n_thi_tran"] or 0))]
    n = sum(c for _, c in counts)
    population = float(row["population_2019_census"] or 0) or 10_000.0 * n
    weights = rng.gamma(2.0, 1.0, n)
    pops = np.round(population * weights / weights.sum())
    units = [AdminUnit(code=code, name=row["district_name"], kind=row["district_type"], parent=row["province_code"],
                       attributes={"population": population, "communes": float(n)})]
    k = 0
    for kind, count in counts:
        for i in range(count):
            units.append(AdminUnit(
                code=f"{code}-{k + 1:02d}", name=f"{kind} {i + 1} ({row['district_name']})", kind=kind, parent=code,
                attributes={"population": float(pops[k]), "border": float(rng.random() < 0.08), "hotspots": float(rng.integers(0, 4))},
            ))
            k += 1
    tasks = [Task(code=t, name=f"Nhiệm vụ {t}", agencies=[TaskRole(agency="LD", role="lead")],
                  need={"terms": {"population": 1.0, "hotspots": 2000.0, "border": 5000.0}, "constant": 500.0}) for t in TASKS]
    sources = [FundingSource(code="NS", name="Ngân sách huyện", kind="district_budget"), FundingSource(code="TW", name="Trung ương hỗ trợ", kind="central_support")]
    total = PER_COMMUNE * n
    lines = build_budget_lines(total, [2024], tasks, sources, task_shares=TASKS, source_shares={"NS": 0.8, "TW": 0.2}, unit=100_000)
    policy = AllocationPolicy(kind="min_deviation", level="commune", rounding_unit=100_000, deviation="relative", constraints=[
        FloorConstraint(name="Sàn 500 nghìn đồng/xã", tasks=["TT", "KT"], amount=500_000),
        CapConstraint(name="Trần 5 lần phần theo nhu cầu", times_proportional=5.0),
    ])
    scenarios = [
        Scenario(name="Ngân sách −10%", changes=[ScaleBudget(factor=0.9)]),
        Scenario(name="Không có trung ương hỗ trợ", changes=[DropSource(source="TW")]),
        Scenario(name="Công bằng", changes=[SetPolicy(kind="max_min")]),
    ]
    return Plan(
        program=Program(code=f"PCMD-{code}-2024", name=f"Kế hoạch phòng, chống mại dâm năm 2024, {row['district_name']} (tổng hợp)",
                        authority=f"UBND {row['district_name']}", level="district", first_year=2024, last_year=2024,
                        total=sum(line.amount for line in lines)),
        units=units, agencies=[Agency(code="LD", name="Phòng Lao động - Thương binh và Xã hội")], tasks=tasks, sources=sources,
        budget_lines=lines, allocation=policy, scenarios=scenarios,
    )


def write_plans(folder: Path, limit: int | None) -> int:
    from budgetlib import save_plan

    with open(DATA, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if int(r["n_communes"] or 0) > 0]
    if limit is not None:
        step = max(1, len(rows) // limit)
        rows = rows[::step][:limit]  # spread over the country
    for r in rows:
        path = folder / r["province_code"] / f"{r['district_code']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_plan(district_plan(r), path)
    return len(rows)


def run(plans: Path, out: Path, workers: int, xlsx: bool):
    from budgetlib.pipeline.batch import MANIFEST_NAME, BatchOptions, discover, plan_batch, run_batch

    options = BatchOptions(kind="allocate", scenarios=("Ngân sách −10%", "Không có trung ương hỗ trợ", "Công bằng"), xlsx=xlsx,
                           json=True, run_time="2024-01-01T00:00:00+00:00")
    jobs, collisions = plan_batch(discover([plans], recursive=True), options, out_dir=out)
    assert not collisions
    report = run_batch(jobs, options, workers=workers, manifest=out / MANIFEST_NAME)
    return report


def _files(folder: Path) -> dict[str, bytes]:
    from budgetlib.pipeline.batch import MANIFEST_NAME

    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST_NAME}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 districts")
    ap.add_argument("--districts", type=int, default=None, help="how many districts (default: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--xlsx", action="store_true", help="also write a result workbook per task")
    args = ap.parse_args(argv)
    limit = 40 if args.quick and args.districts is None else args.districts
    tmp = Path(tempfile.mkdtemp(prefix="budgetlib_batch_bench_"))
    try:
        t0 = time.perf_counter()
        n = write_plans(tmp / "plans", limit)
        print(f"{n} district plans written in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        results = {}
        for label, workers in (("serial", 1), (f"LocalCluster ×{args.workers}", args.workers)):
            out = tmp / f"out_{workers}"
            report = run(tmp / "plans", out, workers, args.xlsx)
            runs = [r for r in report.records if r.timings.get("solve") is not None]
            task_time = sum(r.timings.get("solve", 0) + r.timings.get("write", 0) for r in runs)
            read_time = sum(r.timings.get("read", 0) for r in report.records if "#" not in r.key)
            startup = report.executor.get("startup_seconds", 0.0) + report.executor.get("shutdown_seconds", 0.0)
            busy = report.wall_seconds - startup
            results[label] = (report, busy, task_time + read_time, len(runs), workers, out)
            bad = {s: c for s, c in report.counts().items() if s != "ok"}
            print(f"{label:>18}: {len(runs)} plan × scenario runs in {report.wall_seconds:7.1f} s wall "
                  f"({startup:.1f} s cluster start/stop), {len(runs) / busy:6.1f} runs/s; "
                  f"task time {task_time + read_time:.1f} s (mean run {1000 * task_time / max(1, len(runs)):.1f} ms)"
                  + (f"; not ok: {bad}" if bad else ""))
        (serial, s_busy, _, _, _, s_out), (cluster, c_busy, c_work, _, w, c_out) = results.values()
        speedup = s_busy / c_busy
        n_tasks = len(cluster.records) + sum(1 for r in cluster.records if "#" not in r.key)  # runs + one read per plan
        overhead = (c_busy * w - c_work) / max(1, n_tasks)
        mean_task = c_work / max(1, n_tasks)
        print(f"speed-up with {w} workers: {speedup:.2f}× (target ≥ 1.6×), "
              f"{speedup * 100 / w:.0f}% of linear; with cluster start-up: {serial.wall_seconds / cluster.wall_seconds:.2f}×")
        print(f"scheduler overhead per task: {1000 * overhead:.1f} ms = {100 * overhead / mean_task:.1f}% of the mean task "
              f"({1000 * mean_task:.1f} ms; target < 10%)")
        same = _files(s_out) == _files(c_out)
        print(f"outputs serial vs cluster: {'byte-identical' if same else 'DIFFERENT'} ({len(_files(s_out))} files)")
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Stress the allocator with random small plans (degenerate budgets included) and check every result
independently of the allocator (``budgetlib.allocator.testing.allocation_violations``).

Each policy runs in its own worker process, so a crash of the solver (a signal) is counted, not
fatal. Prints, per policy: plans run, optimal / infeasible results, violations, exceptions,
signals, and the time per plan.

Run: ``python benchmarks/stress_allocate.py`` (10 000 plans per policy) or ``--quick`` (500).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

POLICIES = ["proportional", "min_deviation", "max_min", "max_outcome"]


def worker(kind: str, start: int, count: int) -> None:
    """Run plans ``start … start+count−1``; print one JSON line per problem, then a summary line."""
    from budgetlib.allocator import allocate
    from budgetlib.allocator.testing import allocation_violations, random_plan
    from budgetlib.core.problems import PlanInvalid

    stats = {"optimal": 0, "infeasible": 0, "invalid": 0, "violations": 0, "exceptions": 0}
    t0 = time.perf_counter()
    for seed in range(start, start + count):
        print(json.dumps({"seed": seed}), flush=True)  # the last seed printed names a crash
        try:
            plan = random_plan(seed, kind)
            a = allocate(plan)
        except PlanInvalid:
            stats["invalid"] += 1
            continue
        except Exception as exc:
            stats["exceptions"] += 1
            print(json.dumps({"seed": seed, "exception": f"{type(exc).__name__}: {exc}"[:400]}), flush=True)
            continue
        stats["optimal" if a.ok else "infeasible"] += 1
        try:
            bad = allocation_violations(plan, a)
        except Exception as exc:
            bad = [f"checker: {type(exc).__name__}: {exc}"]
        if bad:
            stats["violations"] += 1
            print(json.dumps({"seed": seed, "violations": bad[:3]}, ensure_ascii=False), flush=True)
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    print(json.dumps({"summary": stats}), flush=True)


def run(kind: str, count: int) -> dict:
    """Run ``count`` plans of one policy, restarting the worker after a crash."""
    totals = {"plans": 0, "optimal": 0, "infeasible": 0, "invalid": 0, "violations": 0, "exceptions": 0, "signals": 0, "seconds": 0.0}
    problems: list[dict] = []
    start = 0
    while start < count:
        proc = subprocess.run([sys.executable, __file__, "--worker", kind, str(start), str(count - start)], capture_output=True, text=True)
        lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        summary = next((r["summary"] for r in lines if "summary" in r), None)
        problems += [r for r in lines if "exception" in r or "violations" in r]
        if summary is not None:
            for k in ("optimal", "infeasible", "invalid", "violations", "exceptions", "seconds"):
                totals[k] += summary[k]
            totals["plans"] += count - start
            break
        # the worker died (a signal, or the interpreter itself failed): skip the seed it was on
        last = max((r["seed"] for r in lines if "seed" in r), default=start)
        totals["signals"] += 1
        problems.append({"seed": last, "signal": proc.returncode, "stderr": proc.stderr[-300:]})
        totals["plans"] += last + 1 - start
        start = last + 1
    totals["ms_per_plan"] = round(1000 * totals["seconds"] / max(1, totals["plans"]), 2)
    return {"policy": kind, **totals, "problems": problems[:10]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 plans per policy instead of 10 000")
    ap.add_argument("--count", type=int)
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return
    count = args.count or (500 if args.quick else 10_000)
    failed = False
    for kind in args.policies.split(","):
        result = run(kind, count)
        failed |= bool(result["violations"] or result["exceptions"] or result["signals"])
        print(json.dumps(result, ensure_ascii=False), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""How long a mid-year revision and a next-year split take as the number of units grows.

A revision passes one floor (what is disbursed) and possibly one cap (the unit's estimate) per
unit × task to the allocator as named constraints. Run: ``python benchmarks/cycle_scale.py [units…]``;
prints seconds per step. No timing is asserted anywhere (figures only).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from budgetlib.cycle import carry_over, original_state, revise
from budgetlib.model.actuals import Actuals, Disbursement, Period
from budgetlib.planning.validation import load_plan_data

TASKS = ["TT", "KT", "HT", "XP", "NL", "PH"]


def plan_with(units: int):
    rng = np.random.default_rng(units)
    base = {(t, s): int(rng.integers(1, 50)) * units * 1_000_000 for t in TASKS for s in ("A", "B")}
    lines = [{"task": t, "agency": "LD", "year": y, "source": s, "amount": base[(t, s)] * (100 + 5 * (y - 2021)) // 100}
             for t in TASKS for y in (2021, 2022) for s in ("A", "B")]
    return load_plan_data({
        "program": {"code": "S", "name": "Quy mô", "authority": "UBND", "first_year": 2021, "last_year": 2022, "total": sum(x["amount"] for x in lines)},
        "units": [{"code": f"{i:05d}", "name": f"Xã {i}", "kind": "Huyện", "attributes": {"population": float(rng.integers(1_000, 50_000))}}
                  for i in range(units)],
        "agencies": [{"code": "LD", "name": "Sở"}],
        "tasks": [{"code": t, "name": t, "agencies": [{"agency": "LD", "role": "lead"}], "need": "population"} for t in TASKS],
        "sources": [{"code": "A", "name": "A", "carry_over": "pool"}, {"code": "B", "name": "B", "carry_over": "unit"}],
        "budget_lines": lines,
        "allocation": {"kind": "min_deviation", "level": "district", "rounding_unit": 1000,
                       "constraints": [{"type": "stability", "name": "ổn định", "max_change": 0.3}]},
    })


def spend(state, year, rng, half=None, forecasts=False):
    y = state.year_index(year)
    out = []
    for u, t, s in np.argwhere(state.amounts[:, :, y, :] > 0):
        a = int(state.amounts[u, t, y, s])
        amount = int(a * rng.uniform(0.3, 0.9))
        out.append(Disbursement(unit=state.units[u], task=state.tasks[t], source=state.sources[s], period=Period(year, half), amount=amount,
                                forecast=int(a * 0.95) if forecasts and u % 10 == 0 else None))
    return out


def main(sizes: list[int]) -> None:
    print(f"{'units':>6} {'cells':>7} {'allocate':>9} {'carry-over':>11} {'revise':>8}")
    for n in sizes:
        rng = np.random.default_rng(0)
        plan = plan_with(n)
        t0 = time.perf_counter()
        state = original_state(plan)
        t1 = time.perf_counter()
        doc = Actuals(plan="S", disbursements=spend(state, 2021, rng))
        res = carry_over(plan, state, doc, 2021)
        t2 = time.perf_counter()
        h1 = Actuals(plan="S", disbursements=[*doc.disbursements, *spend(res.state, 2022, rng, half=1, forecasts=True)])
        rev = revise(plan, res.state, h1, Period(2022, 1))
        t3 = time.perf_counter()
        assert res.ok and rev.ok
        print(f"{n:>6} {n * len(TASKS):>7} {t1 - t0:>8.2f}s {t2 - t1:>10.2f}s {t3 - t2:>7.2f}s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [15, 100, 500, 1000])

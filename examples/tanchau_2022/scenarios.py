"""Allocate Tân Châu's two 2022 scenarios and print them side by side, commune by commune.

* ``plan.json`` — without the province's allocation (state budget and mobilised resources);
* ``plan_with_province.json`` — with it (the province funds the pilot model, II.1.b).

Run: ``python examples/tanchau_2022/scenarios.py [--lang en]`` (reads the plan files; rebuild them
with ``build_plan.py``). Exits non-zero if either allocation fails or does not reconcile.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import attainment_lines, reconcile  # noqa: E402

from budgetlib import load_plan  # noqa: E402
from budgetlib.allocator import allocate  # noqa: E402

SCENARIOS = [
    ("plan.json", "Không có tỉnh / without province"),
    ("plan_with_province.json", "Có tỉnh / with province"),
]


def fmt(v: int) -> str:
    return f"{v:,}".replace(",", ".")


def main(lang: str = "vi") -> int:
    results = []
    for name, label in SCENARIOS:
        plan = load_plan(HERE / name)
        allocation = allocate(plan)
        if not allocation.ok:
            print(f"{name}: {allocation.status}", file=sys.stderr)
            return 2
        problems = reconcile(plan, allocation)
        if problems:
            print(f"{name}: " + "; ".join(problems), file=sys.stderr)
            return 1
        results.append((plan, allocation, label))
    base_plan = results[0][0]
    names = {u.code: u.name for u in base_plan.units}
    codes = list(results[0][1].units)
    labels = "".join(f"{label:>28}" for _, _, label in results)
    head = f"{'mã':>6} {'xã, thị trấn':<20}{labels}{'chênh lệch / diff':>20}"
    print(head)
    print("-" * len(head))
    per = [dict(zip(a.units, (int(v) for v in a.by("unit")))) for _, a, _ in results]
    for code in codes:
        a, b = per[0].get(code, 0), per[1].get(code, 0)
        print(f"{code:>6} {names[code]:<20}{fmt(a):>28}{fmt(b):>28}{fmt(b - a):>20}")
    ta, tb = results[0][1].total, results[1][1].total
    print("-" * len(head))
    print(f"{'':>6} {'Tổng / total':<20}{fmt(ta):>28}{fmt(tb):>28}{fmt(tb - ta):>20}")
    for plan, allocation, label in results:
        print(f"\n{label} — {plan.program.code}:")
        for line in attainment_lines(allocation, lang):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main("en" if "--lang" in sys.argv and sys.argv[-1] == "en" else "vi"))

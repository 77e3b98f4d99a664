"""Quảng Bình 2017: allocate, report target attainment, and find the cheapest budget meeting every target.

1. allocate ``plan.json`` (2,4 tỷ đồng, assumption A1) and print each target as met or short;
2. ``budgetlib.allocator.cheapest_budget``: the smallest budget (each task keeping its year profile)
   that meets every costed target, floor and earmark, by task;
3. a what-if with only 1 tỷ đồng (same shares): what that budget reaches and the shortfall per target.

Run: ``python examples/quangbinh_2017/run.py [--lang en]``. Exits non-zero on any failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from common import attainment_lines, load_builder, num, reconcile  # noqa: E402

from budgetlib import format_amount, load_plan, parse_amount  # noqa: E402
from budgetlib.allocator import allocate, cheapest_budget  # noqa: E402

WHAT_IF = parse_amount("1 tỷ đồng")


def money(v: int, lang: str) -> str:
    return format_amount(v, lang=lang)


def show_cheapest(plan, lang: str) -> bool:
    result = cheapest_budget(plan)
    if not result.ok:
        print("  " + result.diagnosis.summary(lang))
        return False
    least, planned, diff = money(result.total, lang), money(result.plan_total, lang), money(result.difference, lang)
    if lang == "vi":
        print(f"  Ngân sách tối thiểu đạt mọi chỉ tiêu: {least} (kế hoạch: {planned}, chênh lệch {diff})")
    else:
        print(f"  Cheapest budget meeting every target: {least} (plan: {planned}, difference {diff})")
    print(f"  {'task':<6}{'kế hoạch / plan':>22}{'tối thiểu / minimum':>22}")
    for task, amount in result.plan_by_task.items():
        print(f"  {task:<6}{money(amount, lang):>22}{money(result.by_task.get(task, 0), lang):>22}")
    for t in result.targets:
        if t.met:
            state = "đạt" if lang == "vi" else "met"
        else:
            state = f"thiếu {num(t.shortfall, lang)}" if lang == "vi" else f"short by {num(t.shortfall, lang)}"
        reach = "ngân sách kế hoạch đạt" if lang == "vi" else "plan budget reaches"
        reached, needed = num(t.achievable_with_plan, lang), num(t.required, lang)
        print(f"  {t.target} ({t.task}): {reach} {reached} / {needed} → {state}")
    return True


def main(lang: str = "vi") -> int:
    plan = load_plan(HERE / "plan.json")
    allocation = allocate(plan)
    if not allocation.ok or reconcile(plan, allocation):
        print(f"allocation failed: {allocation.status} {reconcile(plan, allocation)}", file=sys.stderr)
        return 1
    print(f"1. {plan.program.name}: {money(plan.program.total, lang)}")
    for line in attainment_lines(allocation, lang):
        print("  " + line)
    print("\n2. cheapest_budget(plan.json)")
    ok = show_cheapest(plan, lang)
    print(f"\n3. {'Giả sử chỉ có' if lang == 'vi' else 'What if only'} {money(WHAT_IF, lang)}")
    ok = show_cheapest(load_builder("quangbinh_2017").build(total=WHAT_IF), lang) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main("en" if sys.argv[1:] == ["--lang", "en"] else "vi"))

"""Feasibility repair (issue 11): an infeasible plan says which change of one named constraint makes
it feasible, in both languages — and re-running with the suggested value is feasible."""

from __future__ import annotations

from pathlib import Path

import pytest

from budgetlib import AbsorptionConstraint, CapConstraint, FloorConstraint, load_plan_file
from budgetlib.allocator import allocate, apply_repair, explain_text
from budgetlib.allocator.testing import allocation_violations, random_plan

HAIPHONG = Path(__file__).resolve().parent.parent / "examples" / "haiphong_2011_2015" / "plan.json"


def _apply(plan, change):
    """The plan with one repair change (or every change of an option) applied, the way an officer
    would edit the policy or the budget."""
    return apply_repair(plan, change)


@pytest.fixture(scope="module")
def haiphong():
    return load_plan_file(HAIPHONG)


def test_a_floor_above_what_caps_allow_gets_both_ways_out(haiphong):
    bach_long_vi = next(u.code for u in haiphong.units if "Bạch Long Vĩ" in u.name)
    cons = [FloorConstraint(name="Sàn riêng Bạch Long Vĩ", units=[bach_long_vi], tasks=["TT"], amount=300_000_000),
            CapConstraint(name="Trần 25% ngân sách nhiệm vụ", tasks=["TT"], share_of_budget=0.25)]
    plan = haiphong.model_copy(update={"allocation": haiphong.allocation.model_copy(update={"constraints": cons})})
    a = allocate(plan)
    assert not a.ok and a.diagnosis.repair is not None
    options = a.diagnosis.repair.options
    fields = {(o.changes[0].name, o.changes[0].field) for o in options}
    tt = next(t.name for t in haiphong.tasks if t.code == "TT")
    assert fields == {("Sàn riêng Bạch Long Vĩ", "amount"), ("Trần 25% ngân sách nhiệm vụ", "share_of_budget"), (tt, "budget")}
    floor = next(o.changes[0] for o in options if o.changes[0].field == "amount")
    assert floor.new < floor.old and floor.new == int(floor.new)
    vi, en = explain_text(a, "vi"), explain_text(a, "en")
    assert "hạ «Sàn riêng Bạch Long Vĩ» từ 300.000.000 đ xuống" in vi and "nâng «Trần 25% ngân sách nhiệm vụ» từ 25%" in vi
    assert "lower “Sàn riêng Bạch Long Vĩ” from 300,000,000 VND to" in en
    for option in options:
        fixed = allocate(_apply(plan, option))
        assert fixed.ok, option.message("en")
        assert allocation_violations(_apply(plan, option), fixed) == []


def test_the_constraints_in_conflict_can_be_changed_together(haiphong):
    """Beside the single fixes, one option moves the floor and the cap together, each by the same
    least share of its own fix: feasible, and 2 % less of each is not."""
    bach_long_vi = next(u.code for u in haiphong.units if "Bạch Long Vĩ" in u.name)
    cons = [FloorConstraint(name="Sàn riêng Bạch Long Vĩ", units=[bach_long_vi], tasks=["TT"], amount=300_000_000),
            CapConstraint(name="Trần 25% ngân sách nhiệm vụ", tasks=["TT"], share_of_budget=0.25)]
    plan = haiphong.model_copy(update={"allocation": haiphong.allocation.model_copy(update={"constraints": cons})})
    options = allocate(plan).diagnosis.repair.options
    (joint,) = [o for o in options if len(o.changes) > 1]
    single = {o.changes[0].field: o.changes[0] for o in options if len(o.changes) == 1}
    floor, cap = sorted(joint.changes, key=lambda ch: ch.field)
    assert (floor.field, cap.field) == ("amount", "share_of_budget")
    # each moves part of the way to its single fix, both by about the same share
    shares = [(ch.new - ch.old) / (single[ch.field].new - ch.old) for ch in (floor, cap)]
    assert all(0 < x < 1 for x in shares) and abs(shares[0] - shares[1]) < 0.02, shares
    assert allocate(_apply(plan, joint)).ok
    less = tuple(type(ch)(**{**ch.__dict__, "new": ch.old + (ch.new - ch.old) * 0.98}) for ch in joint.changes)
    assert not allocate(_apply(plan, type(joint)(**{**joint.__dict__, "changes": less}))).ok
    vi, en = explain_text(allocate(plan), "vi"), explain_text(allocate(plan), "en")
    assert "sửa đồng thời các ràng buộc, mỗi ràng buộc chỉ đổi" in vi and "change them together, each by" in en
    # on the Lỗi sheet the suggestion is located at both constraints it changes
    from budgetlib.pipeline import run_allocate

    problems = [p for p in run_allocate(plan).problems if p.code == "alloc.repair.problem" and "đồng thời" in str(p.params["message"].render("vi"))]
    assert [p.source.path for p in problems] == ["allocation.constraints[0], allocation.constraints[1]"]


def test_absorption_below_the_budget_is_raised(haiphong):
    cons = [AbsorptionConstraint(name="Hấp thụ tối đa 70 triệu/quận/năm", amount=70_000_000)]
    plan = haiphong.model_copy(update={"allocation": haiphong.allocation.model_copy(update={"constraints": cons})})
    a = allocate(plan)
    (option,) = a.diagnosis.repair.options
    change = option.changes[0]
    assert change.field == "amount" and change.new > 70_000_000
    assert allocate(_apply(plan, change)).ok
    # the suggestion is the smallest such amount in whole rounding units (a figure an officer writes)
    unit = plan.allocation.rounding_unit
    assert change.new % unit == 0
    assert not allocate(_apply(plan, type(change)(**{**change.__dict__, "new": change.new - unit}))).ok


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("kind", ["min_deviation", "proportional"])
def test_every_suggestion_on_random_infeasible_plans_is_feasible(seed, kind):
    plan = random_plan(1000 + seed, kind)
    a = allocate(plan)
    if a.ok or a.diagnosis.repair is None:
        return
    options = a.diagnosis.repair.options
    for option in options:
        fixed = _apply(plan, option)
        assert allocate(fixed).ok, (seed, option.message("en"))
        if option.msg.code == "alloc.repair.least":  # offered only when it is the cheapest way out
            assert len(option.changes) >= 2 and all(option.cost < o.cost for o in options if o is not option)


@pytest.mark.parametrize("seed", [35, 125, 126])
def test_a_suggestion_at_the_edge_of_the_proportional_split_is_feasible(seed):
    """Plans whose single fix lands where the pre-checks and the water-filling disagreed (125, 126):
    floors of 1,06 đ on a 1 đ budget passed a half-đồng pre-check that the split refused. The
    pre-checks now use the split's tolerance, at most half a đồng — the split's relative tolerance
    alone would pass (35) a cap 84 146 đ short of its 84 146 400 000 000 đ year, and the split
    then failed to reconcile to the đồng."""
    plan = random_plan(1000 + seed, "proportional")
    a = allocate(plan)
    assert not a.ok and a.diagnosis.repair is not None
    for option in a.diagnosis.repair.options:
        assert allocate(_apply(plan, option)).ok, (seed, option.message("en"))


def test_a_whole_target_without_an_explicit_requirement_is_offered_a_whole_lower_one(haiphong):
    """CT2 takes its requirement from the plan (178 − 149 = 29 communes); with a quarter of the XP
    budget only fewer whole communes fit, and the way out is a whole number of communes."""
    lines = [ln.model_copy(update={"amount": ln.amount // 4}) if ln.task == "XP" else ln for ln in haiphong.budget_lines]
    plan = haiphong.model_copy(update={"budget_lines": lines, "program": haiphong.program.model_copy(
        update={"total": sum(ln.amount for ln in lines)})})
    a = allocate(plan)
    assert not a.ok
    change = next(o.changes[0] for o in a.diagnosis.repair.options if o.changes[0].field == "required")
    assert change.old == 29 and change.new < 29 and float(change.new).is_integer()
    fixed = allocate(_apply(plan, change))
    assert fixed.ok
    ct2 = next(t for t in fixed.attainment if t.target == "CT2")
    assert ct2.met and ct2.funded >= change.new
    assert f"từ 29 xuống {int(change.new)}" in explain_text(a, "vi")


def test_floors_above_the_budget_offer_the_budget_that_pays_for_them(haiphong):
    """100 triệu a year for each of 15 districts is 1,5 tỷ, above every year's TT budget: besides a
    lower floor, the TT budget scaled (every year alike) until its smallest year pays the floors."""
    cons = [FloorConstraint(name="Sàn 100 triệu", tasks=["TT"], amount=100_000_000)]
    plan = haiphong.model_copy(update={"allocation": haiphong.allocation.model_copy(update={"constraints": cons})})
    a = allocate(plan)
    budget = next(o.changes[0] for o in a.diagnosis.repair.options if o.changes[0].field == "budget")
    assert budget.task == "TT" and budget.location == "budget_lines" and budget.new % plan.allocation.rounding_unit == 0
    fixed = apply_repair(plan, budget)
    assert allocate(fixed).ok
    first = min(fixed.program.years)
    assert sum(ln.amount for ln in fixed.budget_lines if ln.task == "TT" and ln.year == first) >= 15 * 100_000_000
    smaller = apply_repair(plan, type(budget)(**{**budget.__dict__, "new": budget.new - plan.allocation.rounding_unit}))
    assert not allocate(smaller).ok  # the smallest such budget, in whole rounding units
    tt = next(t for t in plan.tasks if t.code == "TT")
    assert f"nâng ngân sách nhiệm vụ TT — {tt.name}" in explain_text(a, "vi")
    assert f"raise the budget of task TT — {tt.name_en}" in explain_text(a, "en")  # the plan's English name


@pytest.mark.parametrize("xp_floor", [400_000_000, 100_000_000_000])
@pytest.mark.parametrize("second_floor", [False, True])
def test_two_conflicts_without_a_common_constraint_get_the_least_change_over_both(haiphong, second_floor, xp_floor):
    """The Bạch Long Vĩ floor against the 25 % cap on TT, and a 400-triệu floor on XP above XP's
    budget: no single change is enough, so the elastic LP's option is the only way out — feasible
    when applied, and equal to the cheapest single fix of each conflict on its own (an independent
    oracle: each conflict repaired in a plan without the other); one rounding unit less on either
    change is infeasible. ``second_floor``: a 20-triệu floor on XP too, so a cell's floor is the
    larger of two and not affine in the 400-triệu one (the first elastic LP lowers it too far; the
    next one moves it back). ``xp_floor`` 100 tỷ: moved over so wide a range that the LP's
    tolerance alone is off by a million đồng, which the tightening after it takes back."""
    import dataclasses

    bach_long_vi = next(u.code for u in haiphong.units if "Bạch Long Vĩ" in u.name)
    tt = [FloorConstraint(name="Sàn riêng Bạch Long Vĩ", units=[bach_long_vi], tasks=["TT"], amount=300_000_000),
          CapConstraint(name="Trần 25% ngân sách nhiệm vụ", tasks=["TT"], share_of_budget=0.25)]
    xp = [FloorConstraint(name="Sàn 400 triệu XP", tasks=["XP"], amount=xp_floor)]
    if second_floor:
        xp.append(FloorConstraint(name="Sàn 20 triệu XP", tasks=["XP"], amount=20_000_000))

    def with_constraints(cons):
        return haiphong.model_copy(update={"allocation": haiphong.allocation.model_copy(update={"constraints": cons})})

    plan = with_constraints(tt + xp)
    a = allocate(plan)
    assert not a.ok
    (least,) = a.diagnosis.repair.options
    assert least.msg.code == "alloc.repair.least" and len(least.changes) == 2
    assert allocate(_apply(plan, least)).ok
    # the oracle: each conflict alone, its cheapest single fix
    alone = [min(allocate(with_constraints(cons)).diagnosis.repair.options, key=lambda o: o.cost) for cons in (tt, xp)]
    assert least.cost == sum(o.cost for o in alone)
    assert sorted((ch.name, ch.new) for ch in least.changes) == sorted((o.changes[0].name, o.changes[0].new) for o in alone)
    unit = plan.allocation.rounding_unit
    for k, ch in enumerate(least.changes):
        tighter = list(least.changes)
        tighter[k] = dataclasses.replace(ch, new=ch.new + unit if ch.new < ch.old else ch.new - unit)
        assert not allocate(_apply(plan, dataclasses.replace(least, changes=tuple(tighter)))).ok
    vi, en = explain_text(a, "vi"), explain_text(a, "en")
    assert "cách sửa kết hợp có tổng mức thay đổi nhỏ nhất (quy ra đồng): hạ «Sàn riêng Bạch Long Vĩ» từ 300.000.000 đ xuống" in vi
    assert "the least change in all (counted in VND), combining: lower “Sàn riêng Bạch Long Vĩ”" in en


def test_the_least_change_on_a_coupled_plan_cannot_be_made_smaller_one_change_at_a_time():
    """60 communes with ±30 % stability, a 10¹²-đồng floor against a 1 % cap on T0 and a 10¹¹-đồng
    floor on T1: parameters moved over such ranges leave the elastic LP's answer off by its
    tolerances (thousands of rounding units); after the tightening no change of the option can be
    made one rounding unit (or 10⁻⁴ of a share) smaller with the others kept, and it is feasible."""
    import dataclasses
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    from allocate_scale import synthetic_plan

    base = synthetic_plan(60, "commune", "min_deviation")
    first = next(u.code for u in base.units if u.kind == "Xã")
    cons = [*base.allocation.constraints,
            FloorConstraint(name="Sàn riêng", units=[first], tasks=["T0"], amount=10**12),
            CapConstraint(name="Trần 1%", tasks=["T0"], share_of_budget=0.01),
            FloorConstraint(name="Sàn chung", tasks=["T1"], amount=10**11)]
    plan = base.model_copy(update={"allocation": base.allocation.model_copy(update={"constraints": cons})})
    (least,) = [o for o in allocate(plan).diagnosis.repair.options if o.msg.code == "alloc.repair.least"]
    assert allocate(_apply(plan, least)).ok
    unit = plan.allocation.rounding_unit
    for k, ch in enumerate(least.changes):
        step = unit if ch.field == "amount" else 1e-4 * max(1.0, abs(ch.new))
        tighter = list(least.changes)
        tighter[k] = dataclasses.replace(ch, new=ch.new + step if ch.new < ch.old else ch.new - step)
        assert not allocate(_apply(plan, dataclasses.replace(least, changes=tuple(tighter)))).ok, ch
    # The oracle, by bisections on the feasibility LP alone (no elastic LP): T0's budget is spent
    # only if the 1 % cap rises to the least share c* that lets 60 communes take it all (10⁻⁴
    # steps, floors out of the way); a share costs its change times the whole budget, far more than
    # the floor it would let rise, so the least change raises the cap to c* and lowers each floor to
    # the largest value c* allows. Before the elastic LP's costs were normalised per scaled column
    # it raised the cap to 2,29 % (costs at HiGHS's dual tolerance): 79 million đồng more.
    from budgetlib.allocator._repair import _feasible

    def feasible(floor: int, cap: float, common: int) -> bool:
        values = {"Sàn riêng": {"amount": floor}, "Trần 1%": {"share_of_budget": cap}, "Sàn chung": {"amount": common}}
        changed = [c.model_copy(update=values.get(c.name, {})) for c in cons]
        policy = plan.allocation.model_copy(update={"constraints": changed})
        return _feasible(plan.model_copy(update={"allocation": policy}), policy, None, True)

    def largest(ok, lo: int, hi: int) -> int:  # ok(lo) holds, ok(hi) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        return lo

    c_star = round(0.01 + (largest(lambda k: not feasible(0, 0.01 + k * 1e-4, 0), 0, 100) + 1) * 1e-4, 4)
    floor_star = largest(lambda k: feasible(k * unit, c_star, 0), 0, 10**12 // unit) * unit
    common_star = largest(lambda k: feasible(0, c_star, k * unit), 0, 10**11 // unit) * unit
    assert feasible(floor_star, c_star, common_star)
    got = {ch.name: ch.new for ch in least.changes}
    assert got == pytest.approx({"Sàn riêng": floor_star, "Trần 1%": c_star, "Sàn chung": common_star}, rel=1e-12)


def test_the_reference_share_decides_feasibility_only_when_the_lp_agrees():
    """A repair's feasibility checks skip HiGHS when the reference share keeps every row of the
    feasibility model (29,7 → 3,0 s on a 600-commune repair): on random plans, whenever it says so,
    HiGHS finds the same model feasible; and the shortcut is taken on some plans and not on others."""
    from budgetlib.allocator._data import build_data
    from budgetlib.allocator._lp import solve_highspy
    from budgetlib.allocator._model import Builder
    from budgetlib.allocator.policies.base import reference_keeps

    kept = refused = 0
    for seed in range(300):
        plan = random_plan(5000 + seed, "min_deviation")
        try:
            d = build_data(plan, plan.allocation, None)
        except ValueError:
            continue
        b = Builder(d)
        b.common()
        lp, lay = b.done()
        if reference_keeps(d, lp, lay):
            kept += 1
            assert solve_highspy(lp).status == "optimal", seed
        else:
            refused += 1
    assert kept >= 20 and refused >= 20, (kept, refused)

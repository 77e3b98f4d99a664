"""Allocator behaviour on the Hải Phòng example and on small inline plans: diagnoses, explanations, API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import budgetlib
from budgetlib import (
    AbsorptionConstraint,
    AllocationPolicy,
    AllocationStatus,
    EarmarkConstraint,
    FloorConstraint,
    PlanInvalid,
    TargetConstraint,
    load_plan_file,
)
from budgetlib.allocator import allocate, assert_allocation_conserves, cheapest_budget, explain_text

from .test_allocator_support import make_plan

HAIPHONG = Path(__file__).resolve().parent.parent / "examples" / "haiphong_2011_2015" / "plan.json"


@pytest.fixture(scope="module")
def haiphong():
    return load_plan_file(HAIPHONG)


@pytest.fixture(scope="module")
def haiphong_allocation(haiphong):
    return allocate(haiphong)


def _budget(plan, task, year):
    return sum(line.amount for line in plan.budget_lines if line.task == task and line.year == year)


def _with(plan, **update):
    return plan.model_copy(update={"allocation": plan.allocation.model_copy(update=update)})


def test_haiphong_min_deviation_with_healthy_commune_target(haiphong, haiphong_allocation):
    a = haiphong_allocation
    assert haiphong.allocation.kind == "min_deviation"
    assert any(isinstance(c, TargetConstraint) and c.target == "CT2" for c in haiphong.allocation.constraints)
    assert a.ok and a.policy == "min_deviation"
    assert_allocation_conserves(haiphong, a)
    assert a.total == haiphong.program.total == 22_500_000_000
    assert a.amounts.shape == (len(haiphong.units_at(budgetlib.Level.DISTRICT)), len(haiphong.tasks), 5, len(haiphong.sources))
    assert (a.amounts.sum(axis=3) % 1_000_000 == 0).mean() > 0.95  # rounding_unit 1 triệu
    ct2 = next(t for t in a.attainment if t.target == "CT2")
    assert ct2.required == 29 and ct2.met and ct2.funded >= 29
    text = explain_text(a)
    assert "CT2" in text and "lành mạnh" in text
    assert "Thêm 1 triệu đồng cho" in text
    en = explain_text(a, "en")
    assert "Healthy communes" in en and "Adding 1 million VND to" in en
    budget_rows = [c for c in a.constraints if c.kind == "budget"]
    assert len(budget_rows) == 30 and all(c.binding and c.shadow_price is not None for c in budget_rows)
    # the fair objective is quadratic: shadow prices are derivatives, there is no ranging, and the
    # explanation says so in both languages
    assert all(c.allowable_increase is None and c.allowable_decrease is None for c in budget_rows)
    assert "không có khoảng cho phép tăng, giảm" in text and "allowable increases and decreases are not available" in en
    assert {c.name for c in a.constraints} >= {c.name for c in haiphong.allocation.constraints}


def test_haiphong_every_policy_and_determinism(haiphong, haiphong_allocation):
    assert allocate(haiphong).to_json() == haiphong_allocation.to_json()
    for kind in ("proportional", "max_min", "max_outcome"):
        plan = _with(haiphong, kind=kind, response_curves=[{"task": "TT", "segments": [{"width": 1.0, "outcome_per_million": 4}, {"outcome_per_million": 1}]}])
        a = allocate(plan)
        assert a.ok, a.diagnosis
        assert_allocation_conserves(plan, a)
        assert allocate(plan).to_json() == a.to_json()
    prop = allocate(_with(haiphong, kind="proportional"))
    assert any("không áp dụng được cho chính sách theo tỷ lệ" in s for s in prop.explanation("vi"))


def test_backends_agree_on_haiphong(haiphong, haiphong_allocation):
    """The LP stage (max_min's coverage) through PuLP or straight into highspy; the fair stage is a
    QP (HiGHS's, polished, on a plan of this size) either way, and its optimum is unique: the same
    amounts to the đồng."""
    plan = _with(haiphong, kind="max_min")
    a, b = allocate(plan, backend="pulp"), allocate(plan, backend="highspy")
    assert (a.solver, b.solver) == ("pulp-highs+highspy-qp", "highspy+highspy-qp")
    assert abs(b.objective - a.objective) <= 1e-6 * abs(b.objective)
    assert (a.amounts == b.amounts).all()
    assert haiphong_allocation.solver == "highspy-qp"


def test_floors_above_budget_are_diagnosed_with_amounts(haiphong):
    plan = _with(haiphong, constraints=[FloorConstraint(name="Sàn 100 triệu", tasks=["TT"], amount=100_000_000)])
    a = allocate(plan)
    assert a.status is AllocationStatus.INFEASIBLE and not a.amounts.any()
    d = a.diagnosis
    assert d.method == "precheck"
    c = d.conflicts[0]
    assert c.name == "Sàn 100 triệu" and c.locations == ("allocation.constraints[0]",)
    budget = _budget(haiphong, "TT", 2011)
    floors = 100_000_000 * len(haiphong.units_at(budgetlib.Level.DISTRICT))
    assert c.amounts == {"floors": floors, "budget": budget, "excess": floors - budget}
    assert budgetlib.format_amount(floors) in c.message("vi") and budgetlib.format_amount(budget) in c.message("vi")
    text = explain_text(a)
    assert "KHÔNG CÓ LỜI GIẢI" in text and "Sàn 100 triệu" in text
    assert "Infeasible" not in explain_text(a, "en").split("\n", 1)[1] or "Sàn 100 triệu" in explain_text(a, "en")


def test_unaffordable_target_is_diagnosed(haiphong):
    plan = _with(haiphong, constraints=[TargetConstraint(name="Đạt 219/223", target="CT2", task="XP", unit_cost=80_000_000, required=70)])
    a = allocate(plan)
    assert not a.ok
    c = a.diagnosis.conflicts[0]
    assert c.kind == "target" and c.name == "Đạt 219/223"
    xp = sum(_budget(haiphong, "XP", y) for y in haiphong.program.years)
    assert xp < 5_600_000_000
    assert c.amounts["required_cost"] == 5_600_000_000 and c.amounts["budget"] == xp
    assert "5.600.000.000 đ" in c.message("vi")


def test_lp_conflict_is_reduced_to_the_named_constraints(haiphong):
    plan = _with(haiphong, constraints=[
        FloorConstraint(name="Sàn 40 triệu", tasks=["TT", "KT"], amount=40_000_000),
        FloorConstraint(name="Sàn không liên quan", tasks=["NL"], amount=1_000_000),
        AbsorptionConstraint(name="Hấp thụ tối đa 70 triệu/quận/năm", amount=70_000_000),
    ])
    a = allocate(plan)
    assert not a.ok
    assert a.diagnosis.method in ("iis", "deletion_filter")
    names = {c.name for c in a.diagnosis.conflicts}
    # with the budgets (data, always kept) the 70-triệu absorption cap alone cannot hold: 15 districts
    # cannot absorb 4,5 tỷ a year; neither floor is needed for the conflict
    assert names == {"Hấp thụ tối đa 70 triệu/quận/năm"}
    assert all(c.location.startswith("allocation.constraints[") for c in a.diagnosis.conflicts)
    absorb = next(c for c in a.diagnosis.conflicts if c.kind == "absorption")
    assert absorb.amounts["amount"] == 70_000_000


def test_deletion_filter_gives_the_same_set(haiphong):
    from budgetlib.allocator._data import build_data
    from budgetlib.allocator._diagnose import deletion_filter
    from budgetlib.allocator._model import Builder

    plan = _with(haiphong, constraints=[
        FloorConstraint(name="Sàn 40 triệu", tasks=["TT", "KT"], amount=40_000_000),
        AbsorptionConstraint(name="Hấp thụ", amount=70_000_000),
    ])
    d = build_data(plan, plan.allocation, None)
    b = Builder(d)
    b.common()
    lp, _ = b.done()
    kinds = {d.groups[g].kind for g in deletion_filter(d, lp)}
    assert kinds == {"absorption"}  # the budgets are kept as data; the floor is not needed for the conflict


def test_earmark_and_years_and_progress(haiphong):
    plan = _with(haiphong, constraints=[EarmarkConstraint(name="Mô hình thí điểm Đồ Sơn", unit="308", task="HT", years=[2013], amount=123_456_789)])
    calls = []
    a = allocate(plan, years=[2013, 2014], progress=lambda i, n, msg: calls.append((i, n)))
    assert a.ok and a.years == (2013, 2014)
    assert a.amounts[a.units.index("308"), a.tasks.index("HT"), 0].sum() == 123_456_789
    assert_allocation_conserves(plan, a)
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1]


def test_invalid_plan_raises(haiphong):
    bad = _with(haiphong, constraints=[FloorConstraint(name="Sàn", tasks=["KHONG_CO"], amount=1)])
    with pytest.raises(PlanInvalid) as exc:
        allocate(bad)
    assert any("KHONG_CO" in p.message("en") for p in exc.value.problems)


def test_default_policy_without_plan_policy():
    plan = make_plan(3, U=4, T=2, Y=2)
    plan = plan.model_copy(update={"allocation": None})
    a = allocate(plan)
    assert a.ok and a.policy == "min_deviation"
    assert_allocation_conserves(plan, a)
    assert a.objective == 0  # no constraints: the proportional split itself


def test_zero_need_is_a_located_diagnosis():
    plan = make_plan(4, U=3, T=1, Y=1)
    task = plan.tasks[0].model_copy(update={"need": budgetlib.NeedDriver.parse("border")})
    units = [u.model_copy(update={"attributes": {**u.attributes, "border": 0.0}}) for u in plan.units]
    plan = plan.model_copy(update={"tasks": [task], "units": units, "allocation": AllocationPolicy()})
    a = allocate(plan)
    assert not a.ok and a.diagnosis.conflicts[0].location == "tasks[0].need"


def test_cheapest_budget_haiphong(haiphong):
    cb = cheapest_budget(haiphong)
    assert cb.ok and 0 < cb.total < cb.plan_total == 22_500_000_000
    assert cb.difference == cb.total - cb.plan_total
    ct2 = next(t for t in cb.targets if t.target == "CT2")
    assert ct2.met and ct2.achievable_with_plan >= 29
    # 29 communes × 80 triệu are needed at least
    assert cb.by_task["XP"] >= 29 * 80_000_000
    # profile kept: every XP year scaled by the same multiplier
    k = cb.multipliers["XP"]
    plan_xp = {y: sum(line.amount for line in haiphong.budget_lines if line.task == "XP" and line.year == y) for y in haiphong.program.years}
    for y, v in cb.by_task_year["XP"].items():
        assert abs(v - k * plan_xp[y]) <= haiphong.allocation.rounding_unit


def test_cheapest_budget_reports_shortfall(haiphong):
    plan = _with(haiphong, constraints=[TargetConstraint(name="Đạt 219/223", target="CT2", task="XP", unit_cost=80_000_000, required=70)])
    cb = cheapest_budget(plan)
    assert cb.ok
    t = cb.targets[0]
    assert not t.met and t.shortfall > 0 and abs(t.achievable_with_plan + t.shortfall - 70) < 1e-6
    assert cb.by_task["XP"] >= 70 * 80_000_000


def test_public_api_exported():
    assert budgetlib.allocate is allocate
    for name in ("allocate",):
        assert name in budgetlib.__all__
    assert set(budgetlib.allocator.__all__) >= {"allocate", "explain_text", "cheapest_budget", "assert_allocation_conserves"}


def test_result_json_is_integer_money(haiphong_allocation):
    import json

    data = json.loads(haiphong_allocation.to_json())
    assert all(isinstance(r["amount"], int) for r in data["allocations"])
    assert data["total"] == 22_500_000_000
    assert np.isfinite(data["objective"])


def test_to_json_is_the_to_dict_document(haiphong_allocation):
    import json

    text = haiphong_allocation.to_json()
    assert json.loads(text) == json.loads(json.dumps(haiphong_allocation.to_dict(), ensure_ascii=False))
    assert text.endswith("\n") and '\n  {"amount": ' in text  # one record per line
    assert haiphong_allocation.to_dict(cells=False)["allocations"] == []

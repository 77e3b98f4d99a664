"""Property tests: for random plans and random disbursements the conservation identities hold to the
đồng after carry-over and revision, a revision never allocates less than what is disbursed, and
chaining reconciles across levels."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from budgetlib.cycle import carry_over, chain, check_state, original_state, plan_budget, revise
from budgetlib.model.actuals import Actuals, Disbursement, Period
from budgetlib.planning.validation import load_plan_data

YEARS = [2021, 2022]


@st.composite
def plans(draw: Any) -> Any:
    n_units = draw(st.integers(2, 4))
    n_tasks = draw(st.integers(1, 3))
    rules = [draw(st.sampled_from(["pool", "unit", None])) for _ in range(2)]
    kind = draw(st.sampled_from(["proportional", "min_deviation", "max_min"]))
    rounding = draw(st.sampled_from([1, 1000]))
    stability = kind == "min_deviation" and draw(st.booleans())
    units = [{"code": f"7{i:02d}", "name": f"Huyện {i}", "kind": "Huyện",
              "attributes": {"population": draw(st.integers(1_000, 200_000))}} for i in range(n_units)]
    tasks = [{"code": f"T{j}", "name": f"Nhiệm vụ {j}", "agencies": [{"agency": "LD", "role": "lead"}], "need": "population"} for j in range(n_tasks)]
    lines = []
    for j in range(n_tasks):
        for y in YEARS:
            for s in ("A", "B"):
                amount = draw(st.integers(0, 500_000)) * 1000 + draw(st.integers(0, 999))
                if amount:
                    lines.append({"task": f"T{j}", "agency": "LD", "year": y, "source": s, "amount": amount})
    if not lines:
        lines.append({"task": "T0", "agency": "LD", "year": 2021, "source": "A", "amount": 1_000_000})
    sources = [{"code": "A", "name": "Nguồn A"}, {"code": "B", "name": "Nguồn B"}]
    for s, rule in zip(sources, rules):
        if rule:
            s["carry_over"] = rule
    constraints = [{"type": "stability", "name": "ổn định", "max_change": 0.3}] if stability else []
    data = {
        "program": {"code": "P", "name": "Ngẫu nhiên", "authority": "UBND", "first_year": 2021, "last_year": 2022,
                    "total": sum(ln["amount"] for ln in lines)},
        "units": units, "agencies": [{"code": "LD", "name": "Sở"}], "tasks": tasks, "sources": sources, "budget_lines": lines,
        "allocation": {"kind": kind, "level": "district", "rounding_unit": rounding, "constraints": constraints},
    }
    return load_plan_data(data)


def _start(plan: Any) -> Any:
    from budgetlib.allocator import allocate

    first = allocate(plan)
    assume(first.ok)  # degenerate budgets (1 đồng with a ±30 % rule) have no allocation to start from
    return original_state(plan, first)


def _spend(state: Any, year: int, rng: np.random.Generator, *, half: int | None = None, forecasts: bool = False) -> list[Disbursement]:
    y = state.year_index(year)
    out = []
    for u, t, s in np.argwhere(state.amounts[:, :, y, :] > 0):
        a = int(state.amounts[u, t, y, s])
        amount = int(rng.integers(0, a + 1)) if rng.random() > 0.1 else a
        forecast = None
        if forecasts and u > 0 and rng.random() < 0.5:  # unit 0 never caps itself, so the freed money has somewhere to go
            forecast = int(rng.integers(amount, max(a, amount) + 1))
        out.append(Disbursement(unit=state.units[u], task=state.tasks[t], source=state.sources[s], period=Period(year, half),
                                amount=amount, forecast=forecast))
    return out


@settings(max_examples=30)
@given(plans(), st.integers(0, 2**32 - 1), st.sampled_from(["spending", "allocation", "none"]))
def test_carry_over_conserves_every_dong(plan, seed, prior):
    rng = np.random.default_rng(seed)
    state = _start(plan)
    doc = Actuals(plan="P", disbursements=_spend(state, 2021, rng))
    res = carry_over(plan, state, doc, 2021, prior=prior)
    c = res.closing
    assert np.all(c.residual() == 0) and np.all(c.carried >= 0) and np.all(c.recalled >= 0)
    assert res.ok, res.allocation.diagnosis if res.allocation else None
    new = res.state
    assert check_state(plan, new) == []
    y = new.year_index(2022)
    assert np.array_equal(new.carried_in[:, :, y, :], c.carried)
    assert np.all(new.amounts >= new.carried_in)
    # Over the whole program nothing appears or disappears: budget = disbursed 2021 + allocated 2022 (+ nothing else).
    assert int(c.disbursed.sum()) + int(new.amounts[:, :, y, :].sum()) == plan.budget_total
    # Closing 2022 too: the plan total is disbursed + carried + recalled, to the đồng.
    doc2 = Actuals(plan="P", disbursements=[*doc.disbursements, *_spend(new, 2022, rng)])
    last = carry_over(plan, new, doc2, 2022)
    assert last.next_year is None
    assert int(c.disbursed.sum()) + int(last.closing.disbursed.sum() + last.closing.carried.sum() + last.closing.recalled.sum()) == plan.budget_total


@settings(max_examples=30)
@given(plans(), st.integers(0, 2**32 - 1))
def test_a_revision_conserves_and_never_goes_below_what_is_disbursed(plan, seed):
    rng = np.random.default_rng(seed)
    state = _start(plan)
    doc = Actuals(plan="P", disbursements=_spend(state, 2021, rng))
    state = carry_over(plan, state, doc, 2021).state
    assert state is not None
    h1 = _spend(state, 2022, rng, half=1, forecasts=True)
    rev = revise(plan, state, Actuals(plan="P", disbursements=[*doc.disbursements, *h1]), Period(2022, 1))
    stable = any(c.type == "stability" for c in plan.allocation.constraints)
    if not rev.ok:
        # Only the plan's ±δ rule can stop the freed money from being re-split (unit 0 never caps
        # itself); then the diagnosis says so, as data.
        assert stable and rev.allocation.diagnosis is not None
        assert any(c.kind == "stability" for c in rev.allocation.diagnosis.conflicts)
        return
    assert np.all(rev.revised >= rev.disbursed)
    assert np.all(rev.revised >= rev.carried_in)
    assert np.array_equal(rev.revised.sum(axis=0), rev.original.sum(axis=0))
    assert check_state(plan, rev.state) == []
    for (unit, task), cap in rev.caps.items():
        u, t = state.units.index(unit), state.tasks.index(task)
        assert rev.revised[u, t].sum() <= max(cap, rev.disbursed[u, t].sum())
    # Closing the revised year still conserves every cell.
    full = Actuals(plan="P", disbursements=[*doc.disbursements, *h1])
    res = carry_over(plan, rev.state, full, 2022)
    assert np.all(res.closing.residual() == 0)
    assert int(res.closing.allocated.sum()) == int(plan_budget(plan, rev.state)[:, 1, :].sum() + rev.state.pooled_in[:, 1, :].sum()
                                                   + rev.state.carried_in[:, :, 1, :].sum())


@st.composite
def chains(draw: Any) -> list[tuple[str, Any]]:
    n_districts = draw(st.integers(2, 3))
    n_tasks = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["proportional", "min_deviation"]))
    tasks = [{"code": f"T{j}", "name": f"Nhiệm vụ {j}", "agencies": [{"agency": "LD", "role": "lead"}], "need": "population"} for j in range(n_tasks)]
    districts = [{"code": f"7{i:02d}", "name": f"Huyện {i}", "kind": "Huyện", "parent": "70",
                  "attributes": {"population": draw(st.integers(1_000, 200_000))}} for i in range(n_districts)]
    lines = [{"task": f"T{j}", "agency": "LD", "year": 2022, "source": "TINH", "amount": draw(st.integers(1, 900_000)) * 1000 + draw(st.integers(0, 999))}
             for j in range(n_tasks)]
    province = {
        "program": {"code": "TINH", "name": "Tỉnh", "authority": "UBND tỉnh", "level": "province", "first_year": 2022, "last_year": 2022,
                    "total": sum(ln["amount"] for ln in lines)},
        "units": districts, "agencies": [{"code": "LD", "name": "Sở"}], "tasks": tasks,
        "sources": [{"code": "TINH", "name": "Ngân sách tỉnh"}], "budget_lines": lines,
        "allocation": {"kind": kind, "level": "district", "rounding_unit": draw(st.sampled_from([1, 1000]))},
    }
    out = [("tinh.json", load_plan_data(province))]
    for d in districts:
        n_communes = draw(st.integers(1, 3))
        communes = [{"code": f"{d['code']}{k}", "name": f"Xã {k}", "kind": "Xã", "parent": d["code"],
                     "attributes": {"population": draw(st.integers(100, 20_000))}} for k in range(n_communes)]
        own = draw(st.integers(0, 100_000)) * 1000
        child_lines = [{"task": "T0", "agency": "LD", "year": 2022, "source": "HUYEN", "amount": own}] if own else []
        child = {
            "program": {"code": f"H{d['code']}", "name": d["name"], "authority": "UBND huyện", "level": "district", "first_year": 2022,
                        "last_year": 2022, "total": own},
            "units": [{**d, "parent": None}, *communes], "agencies": [{"code": "LD", "name": "Phòng"}], "tasks": tasks,
            "sources": [{"code": "HUYEN", "name": "Ngân sách huyện"}, {"code": "TINH", "name": "Ngân sách tỉnh"}],
            "budget_lines": child_lines,
            "allocation": {"kind": kind, "level": "commune", "rounding_unit": 1},
        }
        out.append((f"{d['code']}.json", load_plan_data(child)))
    return out


@settings(max_examples=15)
@given(chains())
def test_chaining_reconciles_across_levels(plans):
    result = chain(plans)
    assert result.ok, [p.render("en") for p in result.problems if p.severity == "error"]
    top = result.nodes[0].allocation
    assert top is not None and result.nodes[0].parent is None
    for node in result.nodes[1:]:
        assert node.allocation is not None and node.allocation.ok
        u = top.units.index(node.home)
        below = node.allocation.by("task", "year", "source")
        for t, task in enumerate(top.tasks):
            s = node.allocation.sources.index("TINH")
            assert int(below[node.allocation.tasks.index(task), 0, s]) == int(top.amounts[u, t, 0, 0])
        own = sum(ln.amount for ln in node.plan.budget_lines)
        assert node.allocation.total == own + int(top.amounts[u].sum())
    assert all(r.from_above == r.allocated_below for r in result.rows)
    assert sum(r.from_above for r in result.rows) == top.total

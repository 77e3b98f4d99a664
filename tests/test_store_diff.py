"""Comparing versions: plan fields keyed by identity, allocations per unit × task × year.

Properties: diff(A, A) is empty; the diff is empty exactly when the canonical documents are equal;
every reported change reads back from the two documents; the amount changes are the allocations'
difference (each old/new is that allocation's cell, deltas add up to the difference of totals).
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budgetlib.allocator import allocate
from budgetlib.model.plan import Plan
from budgetlib.model.policy import AllocationPolicy
from budgetlib.planning.validation import load_plan_data
from budgetlib.store import Store, canonical_plan_json
from budgetlib.store.diff import ChangeKind, Key, _item_key, diff_allocations, diff_documents, diff_versions
from budgetlib.store.sheets import diff_sheet

from .conftest import tiny_plan_data


def doc(data: dict) -> dict:
    return json.loads(canonical_plan_json(Plan.model_validate(data)))


def resolve(document, path):
    """Follow a change's path in a document (an independent reading of the path rules)."""
    node, shape = document, ()
    for seg in path:
        if isinstance(seg, Key):
            matches = [item for item in node if _item_key(shape, item) == seg.value.split("#")[0]]
            n = int(seg.value.split("#")[1]) if "#" in seg.value else 1
            node, shape = matches[n - 1], (*shape, "*")
        elif isinstance(seg, int):
            node, shape = node[seg], (*shape, "*")
        else:
            node, shape = node[seg], (*shape, seg)
    return node


def test_identical_documents_have_no_changes():
    d = doc(tiny_plan_data())
    assert diff_documents(d, copy.deepcopy(d)) == []


def test_changes_are_located_by_identity_not_position():
    a = tiny_plan_data()
    b = copy.deepcopy(a)
    b["units"].insert(0, {"code": "000", "name": "Quận Mới", "kind": "Quận", "attributes": {"population": 1000}})
    b["units"][2]["attributes"]["population"] = 60000  # Huyện Hai (002), now third
    b["budget_lines"][3]["amount"] = 250_000_000
    b["tasks"][0]["agencies"][1]["role"] = "lead"
    changes = {(c.where, c.kind) for c in diff_documents(doc(a), doc(b))}
    assert changes == {
        ("units[000]", ChangeKind.ADDED),
        ("units[002].attributes.population", ChangeKind.CHANGED),
        ("tasks[TT].agencies[CA].role", ChangeKind.CHANGED),
        ("budget_lines[KT/CA/2022/NS].amount", ChangeKind.CHANGED),
    }


def test_reordering_is_a_change():
    a = tiny_plan_data()
    b = copy.deepcopy(a)
    b["units"].reverse()
    (change,) = diff_documents(doc(a), doc(b))
    assert change.kind is ChangeKind.REORDERED and change.where == "units"
    assert change.old == ["001", "002"] and change.new == ["002", "001"]


def test_sections_follow_the_plan_model_order():
    a = tiny_plan_data()
    b = copy.deepcopy(a)
    b["program"]["name"] = "Tên khác"
    b["budget_lines"][0]["amount"] = 1
    b["units"][0]["name"] = "Quận 1"
    assert [c.section for c in diff_documents(doc(a), doc(b))] == ["program", "units", "budget_lines"]


# -- properties of plan diffs ---------------------------------------------------------------------

mutations = st.lists(
    st.one_of(
        st.tuples(st.just("amount"), st.integers(0, 3), st.integers(0, 10**9)),
        st.tuples(st.just("population"), st.integers(0, 1), st.integers(0, 10**6)),
        st.tuples(st.just("name"), st.integers(0, 1), st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=12).filter(str.strip)),
        st.tuples(st.just("drop_unit"), st.integers(0, 1), st.none()),
        st.tuples(st.just("add_unit"), st.integers(0, 2), st.sampled_from(["003", "004", "001"])),
        st.tuples(st.just("reverse"), st.sampled_from(["units", "budget_lines", "tasks"]), st.none()),
        st.tuples(st.just("floor"), st.integers(0, 5), st.integers(0, 10**8)),
    ),
    max_size=6,
)


def mutate(data: dict, steps) -> dict:
    data = copy.deepcopy(data)
    for op, i, v in steps:
        if op == "amount":
            data["budget_lines"][i]["amount"] = v
        elif op == "population" and i < len(data["units"]):
            data["units"][i].setdefault("attributes", {})["population"] = v
        elif op == "name" and i < len(data["units"]):
            data["units"][i]["name"] = v
        elif op == "drop_unit" and i < len(data["units"]):
            data["units"].pop(i)
        elif op == "add_unit":
            data["units"].insert(min(i, len(data["units"])), {"code": v, "name": f"Xã {v}", "kind": "Xã"})
        elif op == "reverse":
            data[i].reverse()
        elif op == "floor":
            data.setdefault("allocation", {"kind": "min_deviation", "constraints": []})
            data["allocation"]["constraints"].append({"type": "floor", "name": f"Sàn {i}", "amount": v})
    return data


@given(mutations, mutations)
def test_plan_diff_properties(steps_a, steps_b):
    a = doc(mutate(tiny_plan_data(), steps_a))
    b = doc(mutate(tiny_plan_data(), steps_b))
    assert diff_documents(a, a) == []
    changes = diff_documents(a, b)
    assert (changes == []) == (json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True))
    for c in changes:
        if c.kind is ChangeKind.CHANGED:
            assert resolve(a, c.path) == c.old and resolve(b, c.path) == c.new
        elif c.kind is ChangeKind.ADDED:
            assert resolve(b, c.path) == c.new
        elif c.kind is ChangeKind.REMOVED:
            assert resolve(a, c.path) == c.old


# -- allocations ----------------------------------------------------------------------------------

cells = st.dictionaries(
    st.tuples(st.sampled_from(["001", "002", "003"]), st.sampled_from(["TT", "KT"]), st.sampled_from([2021, 2022]), st.sampled_from(["NS", "XH"])),
    st.integers(0, 10**10),
    max_size=20,
)


def allocation_doc(found: dict) -> dict:
    records = [{"unit": u, "task": t, "year": y, "source": s, "amount": a} for (u, t, y, s), a in found.items() if a]
    return {"units": sorted({u for u, *_ in found}), "tasks": ["TT", "KT"], "years": [2021, 2022], "allocations": records, "total": sum(found.values())}


def cell_sum(found: dict, unit: str, task: str, year: int) -> int:
    return sum(a for (u, t, y, _), a in found.items() if (u, t, y) == (unit, task, year))


@given(cells, cells)
def test_amount_diff_is_the_difference_of_the_allocations(a, b):
    da, db = allocation_doc(a), allocation_doc(b)
    assert diff_allocations(da, da) == []
    changes = diff_allocations(da, db)
    seen = {(c.unit, c.task, c.year) for c in changes}
    assert len(seen) == len(changes)
    for c in changes:
        assert c.old == cell_sum(a, c.unit, c.task, c.year) and c.new == cell_sum(b, c.unit, c.task, c.year) and c.delta != 0
    assert sum(c.delta for c in changes) == sum(b.values()) - sum(a.values())
    every = {(u, t, y) for (u, t, y, _) in (*a, *b)}
    for k in every - seen:
        assert cell_sum(a, *k) == cell_sum(b, *k)


# -- versions in a store --------------------------------------------------------------------------


def test_diff_of_stored_versions_with_their_allocations(store_url):
    with Store.open(store_url, create=True, user="lan") as store:
        plan_a = load_plan_data(tiny_plan_data())
        data = tiny_plan_data()
        data["budget_lines"][0]["amount"] = 400_000_000
        data["program"]["total"] = "1,3 tỷ đồng"
        plan_b = load_plan_data(data)
        va, vb = store.save(plan_a), store.save(plan_b)
        policy = AllocationPolicy()
        alloc_a, alloc_b = allocate(plan_a, policy), allocate(plan_b, policy)
        store.record_run(va.ref, alloc_a, policy=policy)
        store.record_run(vb.ref, alloc_b, policy=policy)

        same = diff_versions(store, va.ref, va.ref)
        assert same.is_empty and same.same_content and same.compared_allocations

        d = diff_versions(store, va.ref, vb.ref)
        assert {c.where for c in d.fields} == {"program.total", "budget_lines[TT/LD/2021/NS].amount"}
        assert (d.a_total, d.b_total) == (alloc_a.total, alloc_b.total)
        by_a, by_b = alloc_a.by("unit", "task", "year"), alloc_b.by("unit", "task", "year")
        for c in d.amounts:
            ua, ta, ya = alloc_a.units.index(c.unit), alloc_a.tasks.index(c.task), alloc_a.years.index(c.year)
            assert c.old == by_a[ua, ta, ya] and c.new == by_b[ua, ta, ya]
        assert sum(c.delta for c in d.amounts) == alloc_b.total - alloc_a.total == 100_000_000
        assert json.loads(json.dumps(d.to_dict()))["allocations"][0]["delta"] == d.amounts[0].delta


def test_diff_without_runs_says_so(tmp_path):
    with Store.open(tmp_path / "kho.sqlite", create=True) as store:
        v = store.save(load_plan_data(tiny_plan_data()))
        d = diff_versions(store, v.ref, v.ref)
    assert d.is_empty and not d.compared_allocations
    assert [n.code for n in d.notes] == ["store.diff.no_run", "store.diff.no_run"]
    sheet = diff_sheet(d, lang="vi")
    texts = [row[0] for row in sheet.rows if row]
    assert any("chưa có lần phân bổ" in str(t) for t in texts) and any("Không so sánh được phân bổ" in str(t) for t in texts)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_diff_sheet_totals_are_formulas_over_the_written_cells(tmp_path, lang):
    from budgetlib.io.grid import Formula

    with Store.open(tmp_path / "kho.sqlite", create=True) as store:
        plan_a = load_plan_data(tiny_plan_data())
        data = tiny_plan_data()
        data["budget_lines"][2]["amount"] = 500_000_000
        data["program"]["total"] = "1,4 tỷ đồng"
        plan_b = load_plan_data(data)
        va, vb = store.save(plan_a), store.save(plan_b)
        for v, p in ((va, plan_a), (vb, plan_b)):
            store.record_run(v.ref, allocate(p, AllocationPolicy()), policy=AllocationPolicy())
        d = diff_versions(store, va.ref, vb.ref)
    sheet = diff_sheet(d, lang=lang)
    formulas = [v for row in sheet.rows for v in row if isinstance(v, Formula)]
    assert len(formulas) == 3 and all(f.startswith("=SUM(") for f in formulas)
    amount_rows = [row for row in sheet.rows if len(row) == 8 and isinstance(row[5], int)]
    assert sum(r[7] for r in amount_rows if r[0] in ("001", "002")) == 200_000_000
    assert sheet.name == ("So sánh phiên bản" if lang == "vi" else "Version comparison")

"""``Allocation.to_json``: its fast record writer against the document it promises to be.

The promise (its docstring): ``json.dumps(to_dict(), indent=1, sort_keys=True)``, except that each
amount record sits on one line. The oracle below writes that document with the json module alone,
record by record, and the fast writer must give the same text, byte for byte."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from budgetlib.model.result import Allocation, AllocationStatus

HOSTILE_CODES = ["U1", 'a"b', "x%dy", "%%", "{u}", "}{", "Xã Đông", "tab\there", "back\\slash", "\x01", "%s{0}"]


def oracle_json(a: Allocation) -> str:
    """The documented format, written with the json module: every record one ``json.dumps`` line."""
    doc = a.to_dict()
    records = {key: doc[key] for key in ("allocations", "baseline", "reference")}
    doc.update({key: f"\x00{key}" for key in records})
    text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True)
    for key, rows in records.items():
        lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows]
        text = text.replace(json.dumps(f"\x00{key}"), "[\n  " + ",\n  ".join(lines) + "\n ]" if lines else "[]")
    return text + "\n"


def allocation(units, tasks, years, sources, amounts, baseline, reference=None) -> Allocation:
    return Allocation("P", "proportional", AllocationStatus.OPTIMAL, tuple(units), tuple(tasks), tuple(years), tuple(sources),
                      np.asarray(amounts, dtype=np.int64), np.asarray(baseline, dtype=float),
                      None if reference is None else np.asarray(reference, dtype=float))


def test_hostile_codes_sparse_and_empty_units():
    """Codes with quotes, ``%``, braces, control characters; units with no, some and every cell set."""
    units, tasks, sources = HOSTILE_CODES, ["T%1", "{t}"], ["S%", '"s"']
    years = [2026, 2027]
    rng = np.random.default_rng(5)
    amounts = rng.integers(-3, 4, size=(len(units), 2, 2, 2)) * 1000
    amounts[0] = 0  # a unit without money
    amounts[1] = 7  # a unit with every cell set
    baseline = rng.uniform(-2, 2, size=(len(units), 2, 2)) * (rng.random((len(units), 2, 2)) < 0.5)
    a = allocation(units, tasks, years, sources, amounts, baseline, reference=baseline * 3)
    assert a.to_json() == oracle_json(a)
    assert json.loads(a.to_json())["allocations"] == a.to_dict()["allocations"]


def test_nothing_allocated_and_no_units():
    a = allocation(["U1", "U2"], ["T"], [2026], ["S"], np.zeros((2, 1, 1, 1)), np.zeros((2, 1, 1)))
    assert a.to_json() == oracle_json(a)
    assert '"allocations": []' in a.to_json()
    empty = allocation([], ["T"], [2026], ["S"], np.zeros((0, 1, 1, 1)), np.zeros((0, 1, 1)))
    assert empty.to_json() == oracle_json(empty)


@given(
    shape=st.tuples(st.integers(0, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2)),
    seed=st.integers(0, 2**32 - 1),
    codes=st.lists(st.text(min_size=1, max_size=4), min_size=4, max_size=4, unique=True),
)
def test_same_text_as_the_json_module(shape, seed, codes):
    n_units, n_tasks, n_years, n_sources = shape
    rng = np.random.default_rng(seed)
    amounts = rng.integers(-10**12, 10**12, size=shape) * (rng.random(shape) < 0.6)
    baseline = rng.normal(0, 1e9, size=shape[:3]) * (rng.random(shape[:3]) < 0.6)
    a = allocation([f"{codes[0]}{u}" for u in range(n_units)], [f"{codes[1]}{t}" for t in range(n_tasks)],
                   list(range(2026, 2026 + n_years)), [f"{codes[2]}{s}" for s in range(n_sources)], amounts, baseline)
    assert a.to_json() == oracle_json(a)

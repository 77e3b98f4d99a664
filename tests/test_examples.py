"""Every worked example under ``examples/`` builds, matches its data and allocates consistently.

* the committed plan JSON is exactly what the example's builder writes (deterministic, up to date);
* every unit code, name, kind, parent, commune count, population and area in a plan matches the
  copied data files in ``examples/data`` (which carry their sources);
* allocating the workbook and the JSON gives identical amounts; the allocation reconciles to the
  đồng with the budget lines (task × year × source) and the program total; every target is
  reported as met or with its shortfall.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import budgetlib
from budgetlib import Level, load_plan, plan_to_json
from budgetlib.allocator import allocate, cheapest_budget

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))

import common  # noqa: E402  (examples/common.py)

# Which copied data files describe each example's units.
DATA_FILES = {
    "haiphong_2011_2015": ("haiphong_2011_districts.csv", "haiphong_2011_communes.csv"),
    "hanoi_2014": ("hanoi_2014_districts.csv", "hanoi_2014_communes.csv"),
    "cantho_2016": ("cantho_2016_districts.csv", "cantho_2016_communes.csv"),
    "quangbinh_2017": ("quangbinh_2017_districts.csv", "quangbinh_2017_communes.csv"),
    "tanchau_2022": ("tanchau_tayninh_2022_districts.csv", "tanchau_tayninh_2022_communes.csv"),
}

# Commune-level figures not in the district/commune lists: their unit label in locality_extra_facts.csv.
COMMUNE_FACTS = {"25516": "Thị trấn Tân Châu (25516)"}


@cache
def builder(folder: str):
    return common.load_builder(folder)


@cache
def built(folder: str) -> dict:
    return builder(folder).build_all()


PLAN_FILES = [(folder, name) for folder in common.EXAMPLE_DIRS for name in built(folder)]
IDS = [f"{folder}/{name}" for folder, name in PLAN_FILES]


def test_every_example_is_listed():
    on_disk = sorted(p.parent.name for p in EXAMPLES.glob("*/build_plan.py"))
    assert on_disk == sorted(common.EXAMPLE_DIRS) == sorted(DATA_FILES)
    for folder in common.EXAMPLE_DIRS:
        assert (EXAMPLES / folder / "README.md").exists(), folder


@pytest.mark.parametrize(("folder", "name"), PLAN_FILES, ids=IDS)
def test_plan_json_is_what_the_builder_writes(folder, name):
    path = EXAMPLES / folder / name
    assert path.read_text(encoding="utf-8") == plan_to_json(built(folder)[name]), (
        f"{path} is stale: run python examples/{folder}/build_plan.py"
    )
    plan = load_plan(path)
    assert budgetlib.validate_plan(plan) == []
    assert plan.budget_total == plan.program.total
    assert plan.assumptions, "every example labels its assumptions"
    assert [a.code for a in plan.assumptions] == [f"A{i}" for i in range(1, len(plan.assumptions) + 1)]


def test_copied_data_files_carry_their_sources():
    listed = (EXAMPLES / "data" / "SOURCES.md").read_text(encoding="utf-8")
    for path in sorted((EXAMPLES / "data").glob("*.csv")):
        assert f"| {path.name} |" in listed, f"{path.name} has no row in examples/data/SOURCES.md"
        rows = common.read_csv(path.name)
        assert rows and all(r.get("source") for r in rows), f"{path.name}: every row needs a source"


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


@pytest.mark.parametrize(("folder", "name"), PLAN_FILES, ids=IDS)
def test_units_match_copied_data(folder, name):
    plan = load_plan(EXAMPLES / folder / name)
    districts_csv, communes_csv = DATA_FILES[folder]
    districts = {r["district_code"]: r for r in common.read_csv(districts_csv)}
    communes = {r["commune_code"]: r for r in common.read_csv(communes_csv)}
    # the data files agree with each other: commune counts = rows in the commune list
    for code, row in districts.items():
        assert int(row["n_communes"]) == sum(1 for c in communes.values() if c["district_code"] == code), code

    for unit in plan.units:
        attrs = unit.attributes
        if unit.level is Level.DISTRICT:
            row = districts.get(unit.code)
            assert row is not None, f"{unit.code} {unit.name} not in {districts_csv}"
            expected = (row["district_name"], row["district_type"], row["province_code"])
            assert (unit.name, unit.kind.value, unit.parent) == expected
            assert attrs["communes"] == int(row["n_communes"]), unit.name
            assert attrs["population"] == int(row["population_2019_census"]), unit.name
            if "area_km2" in attrs:
                assert _close(attrs["area_km2"], float(row["area_km2_computed_gis"])), unit.name
        else:
            row = communes.get(unit.code)
            assert row is not None, f"{unit.code} {unit.name} not in {communes_csv}"
            expected = (row["commune_name"], row["commune_type"], row["district_code"])
            assert (unit.name, unit.kind.value, unit.parent) == expected
            if "population" in attrs or "area_km2" in attrs:
                label = COMMUNE_FACTS[unit.code]
                assert attrs["population"] == common.extra_fact(label, "population"), unit.name
                assert _close(attrs["area_km2"], common.extra_fact(label, "area")), unit.name

    # every unit of the allocation level in the data is in the plan (nothing dropped)
    level = plan.allocation.level if plan.allocation else "district"
    in_plan = {u.code for u in plan.units_at(Level(level))}
    if level == "district":
        assert in_plan == set(districts)
    else:
        parents = {u.code for u in plan.units_at(Level.DISTRICT)}
        assert in_plan == {c for c, r in communes.items() if r["district_code"] in parents}


# --- allocation ---------------------------------------------------------------------------------


@cache
def allocation_of(path: str):
    p = Path(path)
    if p.suffix == ".xlsx":
        from budgetlib.io.workbook import read_workbook

        plan = read_workbook(p)
    else:
        plan = load_plan(p)
    return plan, allocate(plan)


@pytest.mark.parametrize(("folder", "name"), PLAN_FILES, ids=IDS)
def test_allocation_reconciles_and_reports_every_target(folder, name):
    plan, allocation = allocation_of(str(EXAMPLES / folder / name))
    assert allocation.ok, allocation.diagnosis
    assert allocation.amounts.min() >= 0
    assert common.reconcile(plan, allocation) == []
    assert allocation.total == plan.program.total
    reported = {a.target: a for a in allocation.attainment}
    for target in plan.targets:
        assert target.code in reported, f"target {target.code} is not reported"
        a = reported[target.code]
        assert a.met == (a.shortfall <= 0), a
        if not a.met:
            assert a.shortfall > 0


@pytest.mark.parametrize(("folder", "name"), PLAN_FILES, ids=IDS)
def test_workbook_and_json_give_identical_allocations(folder, name):
    book = (EXAMPLES / folder / name).with_suffix(".xlsx")
    assert book.exists(), f"{book} missing: budgetlib template {book} --example {book.with_suffix('.json')}"
    plan_json, from_json = allocation_of(str(EXAMPLES / folder / name))
    plan_book, from_book = allocation_of(str(book))
    stale = f"{book.name} is stale: python examples/run_all.py --workbooks {folder}"
    assert plan_to_json(plan_book) == plan_to_json(plan_json), stale
    assert (from_book.units, from_book.tasks, from_book.years, from_book.sources) == (
        from_json.units,
        from_json.tasks,
        from_json.years,
        from_json.sources,
    )
    np.testing.assert_array_equal(from_book.amounts, from_json.amounts)
    assert [a.to_dict() for a in from_book.attainment] == [a.to_dict() for a in from_json.attainment]


# --- example-specific facts -----------------------------------------------------------------------


def test_document_figures():
    hp = built("haiphong_2011_2015")["plan.json"]
    assert hp.program.total == 22_500_000_000
    healthy = next(t for t in hp.targets if t.code == "CT2")
    assert (healthy.baseline, healthy.values[2015], healthy.denominator) == (149, 178, 223)
    assert sum(u.attributes["communes"] for u in hp.units) == 223

    qb = built("quangbinh_2017")["plan.json"]
    assert sum(u.attributes["communes"] for u in qb.units) == 159
    assert next(t for t in qb.targets if t.code == "CT1").values[2017] == 120  # ⌈0.75 × 159⌉
    assert [u.code for u in qb.units if u.attributes["pilot_site"]] == ["450"]  # Đồng Hới

    ct = built("cantho_2016")["plan.json"]
    earmarks = {(c.task, c.unit) for c in ct.allocation.constraints if c.type == "earmark"}
    # Cái Răng, Ninh Kiều, Bình Thủy
    assert earmarks == {("MH1", "919"), ("MH2", "916"), ("MH3", "918")}

    hn = built("hanoi_2014")["plan.json"]
    assert len(hn.units) == 30 and {"019", "021"} <= {u.code for u in hn.units}  # Nam / Bắc Từ Liêm
    assert {r.cadence.value for r in hn.reporting} == {"semiannual", "annual", "ad_hoc"}

    tc = built("tanchau_2022")
    without = budgetlib.apply_scenario(tc["plan.json"], tc["plan.json"].scenarios[0])
    assert tc["plan.json"].program.total - without.program.total == 100_000_000
    units = tc["plan.json"].units
    kinds = [u.kind.value for u in units]
    assert kinds.count("Xã") == 11 and kinds.count("Thị trấn") == 1
    assert all(u.parent == "706" for u in units if u.level is Level.COMMUNE)


def test_tanchau_provincial_money_only_adds_the_pilot():
    folder = EXAMPLES / "tanchau_2022"
    plan, more = allocation_of(str(folder / "plan.json"))
    (scenario,) = plan.scenarios  # «Không có kinh phí tỉnh»: the province allocates nothing
    without = budgetlib.apply_scenario(plan, scenario)
    assert without.budget_total == without.program.total == plan.program.total - 100_000_000
    base = allocate(without)
    assert base.ok and common.reconcile(without, base) == []
    assert more.total - base.total == 100_000_000
    assert not base.by("unit", "task")[:, base.tasks.index("MH")].any()  # no pilot without the province
    for t, task in enumerate(base.tasks):
        if task == "MH":
            continue
        other = more.tasks.index(task)
        np.testing.assert_array_equal(base.by("unit", "task")[:, t], more.by("unit", "task")[:, other])
    pilot = more.by("unit", "task")[:, more.tasks.index("MH")]
    assert {more.units[i]: int(v) for i, v in enumerate(pilot) if v} == {"25516": 100_000_000}


def test_quangbinh_cheapest_budget_and_shortfall():
    plan, allocation = allocation_of(str(EXAMPLES / "quangbinh_2017" / "plan.json"))
    assert all(a.met for a in allocation.attainment)
    cheapest = cheapest_budget(plan)
    assert cheapest.ok and cheapest.plan_total == plan.program.total
    assert 0 < cheapest.total <= plan.program.total
    assert all(t.met for t in cheapest.targets)
    # the targets' own costs are a lower bound: 120 communes × 6 triệu, the 200 triệu pilot, 1 × 50 triệu
    assert cheapest.by_task["TT"] >= 120 * 6_000_000
    assert cheapest.by_task["MH"] >= 200_000_000
    assert cheapest.by_task["XP"] >= 50_000_000
    # with 1 tỷ đồng the plan cannot reach every target: the shortfall is reported, not raised
    small = builder("quangbinh_2017").build(total=1_000_000_000)
    short = cheapest_budget(small)
    assert short.total == cheapest.total
    assert any(not t.met and t.shortfall > 0 for t in short.targets)


def test_readme_outputs_are_what_their_commands_print_now():
    """The excerpts pasted in the example READMEs are re-run and compared (timings masked): a
    change that moves a figure must refresh them (``python examples/refresh_outputs.py``)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "examples/refresh_outputs.py", "--check"], cwd=root, capture_output=True,
                         text=True, encoding="utf-8")
    assert out.returncode == 0, "stale README outputs — run python examples/refresh_outputs.py\n" + out.stdout + out.stderr

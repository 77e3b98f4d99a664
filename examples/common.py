"""Helpers shared by the example builders: read the copied data files, make units, write plans.

Every builder reads administrative data only from ``examples/data/`` (copied from the project's
shared data with a source line per file in ``examples/data/SOURCES.md``) so that the examples run
from a clean checkout. Builders import this module after putting ``examples/`` on ``sys.path``.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from budgetlib import AdminUnit, Assumption, Plan, Role, TaskRole, UnitKind, save_plan, validate_plan

EXAMPLES = Path(__file__).resolve().parent
DATA = EXAMPLES / "data"

__all__ = [
    "EXAMPLES",
    "DATA",
    "EXAMPLE_DIRS",
    "read_csv",
    "district_units",
    "commune_rows",
    "extra_fact",
    "roles",
    "assumptions",
    "write_plans",
    "main",
    "load_builder",
    "plan_files",
    "reconcile",
    "attainment_lines",
    "num",
    "unit_table",
]

EXAMPLE_DIRS = ["haiphong_2011_2015", "hanoi_2014", "cantho_2016", "quangbinh_2017", "tanchau_2022"]
"""The worked examples, in the order of examples/README.md."""


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of ``examples/data/<name>`` as dicts (UTF-8, header row)."""
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def district_units(
    name: str, extra: Callable[[dict[str, str]], Mapping[str, float]] | None = None
) -> list[AdminUnit]:
    """District-level units from a ``<loc>_districts.csv`` file, in file order.

    Attributes taken from the data: ``population`` (2019 census), ``area_km2`` (GIS-computed) and
    ``communes`` (number of commune-level units); ``extra(row)`` adds the builder's own attributes.
    """
    units = []
    for row in read_csv(name):
        attributes = {
            "population": float(row["population_2019_census"]),
            "area_km2": float(row["area_km2_computed_gis"]),
            "communes": float(row["n_communes"]),
        }
        if extra is not None:
            attributes.update(extra(row))
        units.append(
            AdminUnit(
                code=row["district_code"],
                name=row["district_name"],
                kind=UnitKind(row["district_type"]),
                parent=row["province_code"],
                attributes=attributes,
            )
        )
    return units


def commune_rows(name: str, district_code: str | None = None) -> list[dict[str, str]]:
    rows = read_csv(name)
    return [r for r in rows if district_code is None or r["district_code"] == district_code]


def extra_fact(unit_label: str, fact: str) -> float:
    """A number from ``locality_extra_facts.csv``, e.g. ``("Thị trấn Tân Châu (25516)", "population")``."""
    for row in read_csv("locality_extra_facts.csv"):
        if row["unit"] == unit_label and row["fact"] == fact:
            return float(row["value"])
    raise KeyError(f"{unit_label} / {fact} not in locality_extra_facts.csv")


def roles(lead: str, *support: str) -> list[TaskRole]:
    """One lead agency (chủ trì) then the supporting ones (phối hợp)."""
    return [TaskRole(agency=lead, role=Role.LEAD)] + [TaskRole(agency=a, role=Role.SUPPORT) for a in support]


def assumptions(items: Iterable[tuple[str, str, str]]) -> list[Assumption]:
    return [Assumption(code=c, text_vi=vi, text_en=en) for c, vi, en in items]


def write_plans(here: Path, plans: Mapping[str, Plan]) -> None:
    """Validate each plan (stop on any problem) and write it deterministically as ``here/<file>``."""
    for filename, plan in plans.items():
        problems = validate_plan(plan)
        if problems:
            raise SystemExit(f"{filename}:\n" + "\n".join(p.render("en") for p in problems))
        save_plan(plan, here / filename)
        counts = f"{len(plan.units)} units, {len(plan.tasks)} tasks, {len(plan.budget_lines)} budget lines"
        print(f"wrote {here / filename}: {counts}")


def load_builder(folder: str):
    """Import ``examples/<folder>/build_plan.py`` as a module (builders are scripts, not a package)."""
    import importlib.util

    path = EXAMPLES / folder / "build_plan.py"
    spec = importlib.util.spec_from_file_location(f"examples_{folder}_build_plan", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def plan_files(folder: str) -> list[Path]:
    """The plan JSON files an example's builder writes (``plan.json`` first)."""
    return [EXAMPLES / folder / name for name in load_builder(folder).build_all()]


def reconcile(plan: Plan, allocation) -> list[str]:
    """Differences between an allocation and the plan's budget lines, in đồng (empty: reconciles).

    Each task × year × source total over units must equal the plan's budget for that cell exactly,
    and the grand total must equal the program total.
    """
    problems = []
    if allocation.total != plan.program.total:
        diff = allocation.total - plan.program.total
        problems.append(f"total {allocation.total:,} != program total {plan.program.total:,} ({diff:+,} đ)")
    by_cell = allocation.by("task", "year", "source")
    budget: dict[tuple[str, int, str], int] = {}
    for line in plan.budget_lines:
        key = (line.task, line.year, line.source)
        budget[key] = budget.get(key, 0) + line.amount
    for (task, year, source), amount in budget.items():
        t, y, s = allocation.tasks.index(task), allocation.years.index(year), allocation.sources.index(source)
        got = int(by_cell[t, y, s])
        if got != amount:
            problems.append(f"{task} {year} {source}: allocated {got:,} != budget {amount:,} ({got - amount:+,} đ)")
    return problems


def num(value: float, lang: str = "vi") -> str:
    """A count such as 4.8 communes: up to 4 decimals, decimal comma in Vietnamese."""
    text = f"{round(value, 4):g}"
    return text.replace(".", ",") if lang == "vi" else text


def attainment_lines(allocation, lang: str = "vi") -> list[str]:
    """One line per reported target: met, or the shortfall."""
    out = []
    for a in allocation.attainment:
        if lang == "vi":
            state = "đạt" if a.met else f"THIẾU {num(a.shortfall, lang)}"
            need, funded = num(a.required, lang), num(a.funded, lang)
            out.append(f"{a.target} {a.name}: cần {need}, có kinh phí cho {funded} → {state}")
        else:
            state = "met" if a.met else f"SHORT by {num(a.shortfall, lang)}"
            need, funded = num(a.required, lang), num(a.funded, lang)
            out.append(f"{a.target} {a.name}: required {need}, funded {funded} → {state}")
    return out


def unit_table(plan: Plan, allocation, *, limit: int | None = None, lang: str = "vi") -> list[str]:
    """Allocation per unit and task in triệu đồng (all years and sources), largest unit first."""
    per = allocation.by("unit", "task")
    totals = per.sum(axis=1)
    names = {u.code: u.name for u in plan.units}
    order = sorted(range(len(allocation.units)), key=lambda i: (-int(totals[i]), allocation.units[i]))

    def tr(v: int) -> str:  # triệu đồng, one decimal only when needed
        text = f"{v / 1e6:,.1f}".removesuffix(".0") if v % 1_000_000 else f"{v // 1_000_000:,}"
        return text.translate(str.maketrans(",.", ".,")) if lang == "vi" else text

    width = max(7, *(len(t) + 1 for t in allocation.tasks))
    label = "triệu đồng" if lang == "vi" else "million VND"
    columns = "".join(f"{t:>{width}}" for t in allocation.tasks)
    head = f"{'':>6} {label:<22}{columns}{'Σ':>{width + 2}}"
    rows = [head]
    for i in order[: limit if limit is not None else None]:
        code = allocation.units[i]
        cells = "".join(f"{tr(int(v)):>{width}}" for v in per[i])
        rows.append(f"{code:>6} {names[code][:22]:<22}{cells}{tr(int(totals[i])):>{width + 2}}")
    if limit is not None and len(order) > limit:
        more = "địa bàn khác" if lang == "vi" else "more units"
        rows.append(f"{'':>6} … {len(order) - limit} {more}")
    return rows


def main(here: Path, build_all: Callable[[], Mapping[str, Plan]]) -> None:
    write_plans(here, build_all())
    sys.stdout.flush()

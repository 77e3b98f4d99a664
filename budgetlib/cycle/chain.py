"""Province → district → commune: a higher level's allocation becomes the budget of the plans below.

A plan allocated to districts (policy level ``district``) feeds every district plan in the set: the
district's own plan (``program.level = district``, its communes as units) gets, for every task,
year and source of the higher plan, exactly what the higher plan allocated to that district — as
its budget lines, replacing whatever it had planned from those sources for those years. Its own
sources (the district budget, donations) stay as planned. The district plan is then allocated to
its communes under its own policy, so for every district, task, year and source
Σ communes = what the province allocated, to the đồng (:attr:`Chain.rows` lists each one).

Which plan feeds which is read from the plans: a plan's *home unit* is its only unit at its own
level (Huyện Tân Châu, 706, in the Tân Châu plan), or the common parent of the units it allocates
to; a plan whose allocation includes that unit, at that level, is its parent. Any number of levels
chain the same way. A problem below names the level and the unit it belongs to ("the commune-level
plan of Huyện Tân Châu (706): …").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.money import apportion
from ..core.problems import Problem, Severity, Source
from ..model.plan import BudgetLine, Level, Plan
from ..model.result import Allocation
from ..planning.execution import allocation_level
from ..planning.validation import validate_plan

__all__ = ["ChainNode", "ChainRow", "Chain", "home_unit", "chain", "feed_plan"]


def home_unit(plan: Plan) -> str | None:
    """The unit a district (or commune) plan belongs to: its only unit at the plan's own level, else
    the common parent of the units it allocates to; ``None`` for a province plan or when unclear."""
    if plan.program.level is Level.PROVINCE:
        return None
    own = plan.units_at(plan.program.level)
    if len(own) == 1:
        return own[0].code
    parents = {u.parent for u in plan.units_at(allocation_level(plan))}
    if len(parents) == 1:
        (only,) = parents
        return only
    return None


@dataclass(frozen=True, eq=False)
class ChainNode:
    """One plan of the chain: as given (``plan``) and as allocated (``fed``: with the budget lines
    from above, the same as ``plan`` for a top plan), where it sits and what came of it."""

    name: str
    plan: Plan
    fed: Plan | None
    home: str | None
    parent: int | None
    allocation: Allocation | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class ChainRow:
    """What a higher plan allocated to ``unit`` for one task, year and source, and what that unit's
    plan allocated below it (equal, to the đồng)."""

    level: str
    unit: str
    name: str
    task: str
    year: int
    source: str
    from_above: int
    allocated_below: int


@dataclass(frozen=True, eq=False)
class Chain:
    nodes: tuple[ChainNode, ...]
    rows: tuple[ChainRow, ...]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)

    @property
    def infeasible(self) -> bool:
        return any(p.code == "cycle.chain.infeasible" for p in self.problems)


def _at(level: Level, unit: str, name: str, file: str, p: Problem) -> Problem:
    """A problem of a plan below, prefixed with the level and the unit it belongs to."""
    where = Source(file=p.source.file or file, sheet=p.source.sheet, cell=p.source.cell, path=p.source.path, row=p.source.row)
    return Problem("cycle.chain.at", where, {"level": level.value, "name": name, "unit": unit, "detail": p.msg, "code": p.code}, p.severity)


def feed_plan(child: Plan, parent: Allocation, unit: str, parent_plan: Plan) -> tuple[Plan, list[Problem]]:
    """``child`` with its budget lines for the parent's sources and years replaced by what
    ``parent`` allocated to ``unit`` (per task, year and source); sources it lacks are added."""
    u = parent.units.index(unit)
    amounts = parent.amounts[u]  # [T, Y, S]
    problems: list[Problem] = []
    child_tasks = {t.code: t for t in child.tasks}
    child_sources = {s.code: s for s in child.sources}
    years = set(child.program.years)
    fed_sources = set(parent.sources)
    fed_years = set(parent.years)
    unit_name = next((x.name for x in parent_plan.units if x.code == unit), unit)
    level = allocation_level(child)
    where = Source(path="budget_lines")
    lines = [ln for ln in child.budget_lines if not (ln.source in fed_sources and ln.year in fed_years)]
    dropped = [ln for ln in child.budget_lines if ln.source in fed_sources and ln.year in fed_years]
    sources = list(child.sources)
    for s, source in enumerate(parent.sources):
        if source not in child_sources and amounts[:, :, s].sum() > 0:
            sources.append(next(x for x in parent_plan.sources if x.code == source))
    new: list[BudgetLine] = []
    for t, task in enumerate(parent.tasks):
        for y, year in enumerate(parent.years):
            for s, source in enumerate(parent.sources):
                amount = int(amounts[t, y, s])
                if amount <= 0:
                    continue
                params = {"task": task, "year": year, "source": source, "amount": amount, "name": unit_name, "unit": unit, "level": level.value}
                if task not in child_tasks:
                    problems.append(Problem("cycle.chain.unknown_task", where, params))
                    continue
                if year not in years:
                    problems.append(Problem("cycle.chain.year_outside", where, params))
                    continue
                planned = [ln for ln in dropped if ln.task == task and ln.year == year and ln.source == source]
                agencies: dict[str, int] = {}
                for ln in planned:
                    agencies[ln.agency] = agencies.get(ln.agency, 0) + ln.amount
                if not agencies:
                    lead = child_tasks[task].lead or (child.agencies[0].code if child.agencies else "")
                    agencies = {lead: 1}
                names = list(agencies)
                parts = apportion(amount, [float(agencies[a]) for a in names])
                new += [BudgetLine(task=task, agency=a, year=year, source=source, amount=int(p),
                                   note=parent_plan.program.code)
                        for a, p in zip(names, parts) if p > 0]
    lines += new
    before = sum(ln.amount for ln in dropped)
    after = sum(ln.amount for ln in new)
    if before != after:
        problems.append(Problem("cycle.chain.changed", Source(path="budget_lines"), {"name": unit_name, "unit": unit, "planned": before,
                                                                                     "allocated": after, "plan": parent_plan.program.code},
                                Severity.WARNING))
    total = sum(ln.amount for ln in lines)
    fed = child.model_copy(update={"budget_lines": lines, "sources": sources, "program": child.program.model_copy(update={"total": total})})
    return Plan.model_validate(fed.model_dump()), problems


def chain(plans: Sequence[tuple[str, Plan]]) -> Chain:
    """Allocate every plan, top down, each fed by the allocation of the plan above it (see the module
    docstring). ``plans`` are (name, plan) pairs; names locate problems (file names)."""
    from ..allocator import allocate

    homes = [home_unit(p) for _, p in plans]
    problems: list[Problem] = []
    parents: list[int | None] = []
    for i, (name, plan) in enumerate(plans):
        cands = [
            j for j, (_, q) in enumerate(plans)
            if j != i and homes[i] is not None and allocation_level(q) is plan.program.level
            and any(u.code == homes[i] for u in q.units_at(allocation_level(q)))
        ]
        if len(cands) > 1:
            problems.append(Problem("cycle.chain.ambiguous", Source(file=name), {"unit": homes[i], "plans": [plans[j][0] for j in cands]}))
        parents.append(cands[0] if cands else None)
    order: list[int] = [i for i, p in enumerate(parents) if p is None]
    k = 0
    while k < len(order):
        order += [i for i, p in enumerate(parents) if p == order[k] and i not in order]
        k += 1
    for i in range(len(plans)):
        if i not in order:  # a cycle of parents
            problems.append(Problem("cycle.chain.cycle", Source(file=plans[i][0]), {"unit": homes[i] or ""}))
    nodes: dict[int, ChainNode] = {}
    rows: list[ChainRow] = []
    for i in order:
        name, plan = plans[i]
        parent = parents[i]
        node_problems: list[Problem] = []
        fed: Plan | None = plan
        if parent is not None:
            up = nodes.get(parent)
            unit = homes[i]
            assert unit is not None
            unit_name = next((u.name for u in plans[parent][1].units if u.code == unit), unit)
            if up is None or up.allocation is None or not up.allocation.ok:
                node_problems.append(Problem("cycle.chain.no_parent_allocation", Source(file=name), {"unit": unit, "name": unit_name,
                                                                                                      "plan": plans[parent][0]}))
                fed = None
            else:
                fed, fed_problems = feed_plan(plan, up.allocation, unit, plans[parent][1])
                level = allocation_level(plan)
                node_problems += [p.relocated(Source(file=name, path=p.source.path)) for p in fed_problems]
                node_problems += [_at(level, unit, unit_name, name, p) for p in validate_plan(fed)]
        allocation = None
        if fed is not None and not any(p.severity is Severity.ERROR for p in node_problems):
            allocation = allocate(fed)
            if not allocation.ok:
                d = allocation.diagnosis
                level = allocation_level(plan)
                unit = homes[i] or plan.program.code
                unit_name = next((u.name for u in plan.units if u.code == unit), plan.program.name)
                where = Source(file=name, path="allocation")
                node_problems.append(Problem("cycle.chain.infeasible", where, {"level": level.value, "name": unit_name, "unit": unit,
                                                                               "detail": d.msg if d else ""}))
                for c in (d.conflicts if d else ()):
                    node_problems.append(Problem("cycle.chain.conflict", Source(file=name, path=c.location or "allocation"),
                                                 {"level": level.value, "name": unit_name, "unit": unit, "detail": c.msg}))
        if parent is not None and allocation is not None and allocation.ok:
            up_alloc = nodes[parent].allocation
            assert up_alloc is not None
            unit = homes[i]
            assert unit is not None
            u = up_alloc.units.index(unit)
            below = allocation.amounts.sum(axis=0)  # [T, Y, S] of the child
            level = allocation_level(plans[parent][1])
            unit_name = next((x.name for x in plans[parent][1].units if x.code == unit), unit)
            for t, y, s in np.argwhere(up_alloc.amounts[u] > 0):
                task, year, source = up_alloc.tasks[t], up_alloc.years[y], up_alloc.sources[s]
                got = 0
                if task in allocation.tasks and year in allocation.years and source in allocation.sources:
                    got = int(below[allocation.tasks.index(task), allocation.years.index(year), allocation.sources.index(source)])
                rows.append(ChainRow(level.value, unit, unit_name, task, int(year), source, int(up_alloc.amounts[u, t, y, s]), got))
                if got != int(up_alloc.amounts[u, t, y, s]):
                    node_problems.append(Problem("cycle.chain.mismatch", Source(file=name), {"name": unit_name, "unit": unit, "task": task,
                                                                                             "year": int(year), "source": source,
                                                                                             "above": int(up_alloc.amounts[u, t, y, s]), "below": got}))
        nodes[i] = ChainNode(name, plan, fed, homes[i], parent, allocation, tuple(node_problems))
        problems += node_problems
    ordered = tuple(nodes[i] for i in order)
    return Chain(ordered, tuple(rows), tuple(problems))


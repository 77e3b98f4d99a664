"""The steps of the budget cycle: close a year and split the next, revise a year mid-way, replay.

* :func:`carry_over` closes year ``y`` (:func:`~budgetlib.planning.execution.close_year`): each
  unit's undisbursed money stays with it (:attr:`~budgetlib.model.plan.CarryOver.UNIT`, added to its
  allocation of the same task and source in ``y + 1``) or returns to the pool
  (:attr:`~budgetlib.model.plan.CarryOver.POOL`, re-split with the budget of ``y + 1``). Year ``y + 1``
  is then re-split under the plan's policy; its stability constraints compare with what each unit
  actually spent in ``y`` (``prior="spending"``, the spending pattern scaled to the new budget of the
  task), with the allocation in force of ``y`` (``"allocation"``, scaled the same way), or are
  dropped (``"none"``).
* :func:`revise` re-allocates what is not yet disbursed of the current year (điều chỉnh dự toán):
  what each unit has disbursed is a hard floor per unit × task (and per source in the final split),
  a unit's own full-year estimate (``forecast``) caps its allocation, stability compares with the
  allocation in force; money carried in from the previous year stays with its unit.
* :func:`in_force` replays the cycle from the plan's allocation: every year before ``as_of`` is
  closed and the next year re-split, so the allocation in force needs no file of its own.

Every step keeps the conservation identities to the đồng (checked by :func:`check_state`): per task,
year and source Σ allocated = plan budget + pooled in + Σ carried in; per cell of a closed year
allocated = disbursed + carried + recalled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from ..core.i18n import Msg, tr
from ..core.lang import Lang
from ..core.money import apportion
from ..core.problems import Problem, Severity, Source
from ..model.actuals import Actuals, Period
from ..model.cycle import CycleState, CycleStep, StepKind
from ..model.plan import Plan
from ..model.result import Allocation
from ..planning.execution import Closing, Disbursed, Locate, check_disbursed, close_year, disbursed
from ._resplit import CellBound, resplit, split_with_floors

__all__ = [
    "Prior",
    "CarryOverResult",
    "carry_over",
    "Revision",
    "UnitChange",
    "revise",
    "Replay",
    "in_force",
    "missing_reports",
    "plan_budget",
    "check_state",
    "original_state",
]


class Prior(StrEnum):
    """What a next-year split's stability constraints compare with."""

    SPENDING = "spending"  # what each unit disbursed in the closed year, scaled to the new budget
    ALLOCATION = "allocation"  # the closed year's allocation in force, scaled to the new budget
    NONE = "none"  # no stability constraint for the split year


def original_state(plan: Plan, allocation: Allocation | None = None) -> CycleState:
    """The state right after the plan's allocation (computed when not given). An infeasible
    allocation has no amounts to start a cycle from: :class:`ValueError` (``in_force`` reports it)."""
    if allocation is None:
        from ..allocator import allocate

        allocation = allocate(plan)
    if not allocation.ok:
        raise ValueError("the plan's allocation is infeasible; there is no allocation in force to start the cycle from")
    return CycleState.original(allocation)


def plan_budget(plan: Plan, state: CycleState) -> np.ndarray:
    """The plan's budget lines on the state's axes, ``[T, Y, S]`` integer đồng."""
    ti = {t: i for i, t in enumerate(state.tasks)}
    yi = {y: i for i, y in enumerate(state.years)}
    si = {s: i for i, s in enumerate(state.sources)}
    out = np.zeros((len(state.tasks), len(state.years), len(state.sources)), np.int64)
    for line in plan.budget_lines:
        if line.task in ti and line.year in yi and line.source in si:
            out[ti[line.task], yi[line.year], si[line.source]] += line.amount
    return out


def check_state(plan: Plan, state: CycleState) -> list[str]:
    """Where the state breaks Σ_u allocated = plan budget + pooled in + Σ_u carried in (empty: it holds)."""
    expected = plan_budget(plan, state) + state.pooled_in + state.carried_in.sum(axis=0)
    got = state.amounts.sum(axis=0)
    bad = np.argwhere(got != expected)
    return [
        f"{state.tasks[t]} {state.years[y]} {state.sources[s]}: {int(got[t, y, s])} != {int(expected[t, y, s])}" for t, y, s in bad
    ]


def _names(plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    return {u.code: u.name for u in plan.units}, {t.code: t.name for t in plan.tasks}


# ---------------------------------------------------------------------------------------------
# Closing a year and splitting the next


@dataclass(frozen=True, eq=False)
class CarryOverResult:
    """A closed year and the next year's split. ``state`` is the new allocation in force (``None``
    when the split is infeasible: ``allocation.diagnosis`` says why); ``next_year`` is ``None`` after
    the program's last year. ``prior`` holds the stability prior per (unit, task) of the split."""

    closing: Closing
    next_year: int | None
    allocation: Allocation | None
    state: CycleState | None
    pooled: np.ndarray | None  # [T, S] recalled money re-split with the next year's budget
    prior: Mapping[tuple[str, str], int] | None
    prior_kind: Prior

    @property
    def ok(self) -> bool:
        return self.state is not None


def _prior(
    kind: Prior, state: CycleState, closing: Closing, budget: np.ndarray
) -> dict[tuple[str, str], int] | None:
    if kind is Prior.NONE:
        return None
    out: dict[tuple[str, str], int] = {}
    for t, task in enumerate(state.tasks):
        # The pattern of the closed year (what was spent, or allocated), scaled to the new budget of
        # the task: stability then bounds how far the split may move from that pattern, and the
        # pattern itself is always a feasible split (budgets of different years may differ a lot).
        base = (closing.allocated if kind is Prior.ALLOCATION else closing.disbursed)[:, t, :].sum(axis=1)
        total = int(budget[t].sum())
        if base.sum() <= 0 or total <= 0:
            continue
        shares = apportion(total, base.astype(float))
        for u, unit in enumerate(state.units):
            if shares[u] > 0:
                out[(unit, task)] = int(shares[u])
    return out


def carry_over(
    plan: Plan, state: CycleState, actuals: Actuals, year: int, *, prior: Prior | str = Prior.SPENDING
) -> CarryOverResult:
    """Close ``year`` and re-split ``year + 1`` (see the module docstring). Disbursed amounts above
    the allocation are a :func:`~budgetlib.planning.execution.check_disbursed` error; check first."""
    kind = Prior(prior)
    spent = disbursed(state, actuals, Period(year))
    closing = close_year(plan, state, spent, year)
    nxt = year + 1
    if nxt not in state.years:
        return CarryOverResult(closing, None, None, state, None, None, kind)
    y1 = state.year_index(nxt)
    pooled = closing.recalled.sum(axis=0)  # [T, S]
    budget = plan_budget(plan, state)[:, y1, :] + pooled
    prior_map = _prior(kind, state, closing, budget)
    result = resplit(plan, state, nxt, budget, prior=prior_map)
    if not result.ok:
        return CarryOverResult(closing, nxt, result, None, pooled, prior_map, kind)
    amounts = result.amounts[:, :, 0, :] + closing.carried
    step = CycleStep(StepKind.NEXT_YEAR, year=nxt, policy=result.policy, prior=str(kind))
    new = state.with_year(nxt, amounts, carried_in=closing.carried, pooled_in=pooled, step=step, allocation=result)
    return CarryOverResult(closing, nxt, result, new, pooled, prior_map, kind)


# ---------------------------------------------------------------------------------------------
# Mid-year revision


@dataclass(frozen=True)
class UnitChange:
    """One unit's revision: original and revised totals for the year and the reasons (messages)."""

    unit: str
    name: str
    original: int
    revised: int
    disbursed: int
    reasons: tuple[Msg, ...]

    @property
    def change(self) -> int:
        return self.revised - self.original

    def to_dict(self, lang: str | Lang = Lang.VI) -> dict[str, Any]:
        return {
            "unit": self.unit, "name": self.name, "original": self.original, "revised": self.revised, "change": self.change,
            "disbursed": self.disbursed, "reasons": [m.render(lang) for m in self.reasons],
        }


@dataclass(frozen=True, eq=False)
class Revision:
    """A mid-year revision of ``year`` as of ``period`` (arrays ``[U, T, S]``, integer đồng)."""

    period: Period
    year: int
    units: tuple[str, ...]
    tasks: tuple[str, ...]
    sources: tuple[str, ...]
    original: np.ndarray
    revised: np.ndarray | None
    disbursed: np.ndarray
    carried_in: np.ndarray
    caps: Mapping[tuple[str, str], int]  # full-year estimate per (unit, task), all sources
    allocation: Allocation
    state: CycleState | None
    changes: tuple[UnitChange, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.revised is not None

    def to_dict(self, lang: str | Lang = Lang.VI) -> dict[str, Any]:
        cells = []
        if self.revised is not None:
            for u, t, s in np.argwhere((self.original != 0) | (self.revised != 0)):
                cells.append({"unit": self.units[u], "task": self.tasks[t], "source": self.sources[s],
                              "original": int(self.original[u, t, s]), "revised": int(self.revised[u, t, s]),
                              "disbursed": int(self.disbursed[u, t, s]), "carried_in": int(self.carried_in[u, t, s])})
        return {
            "period": str(self.period), "year": self.year, "ok": self.ok,
            "total": int(self.original.sum()), "units": [c.to_dict(lang) for c in self.changes], "cells": cells,
            "explanation": self.allocation.explanation(lang),
        }


def _reasons(
    task_names: Mapping[str, str], rev: np.ndarray, orig: np.ndarray, floor: np.ndarray, caps: Mapping[tuple[str, str], int],
    u: int, unit: str, tasks: Sequence[str], binding: Sequence[str], carried: np.ndarray, added: set[str],
) -> list[Msg]:
    out: list[Msg] = []
    for t, task in enumerate(tasks):
        r, o = int(rev[u, t].sum()), int(orig[u, t].sum())
        if r == o:
            continue
        delta = r - o
        cap = caps.get((unit, task))
        f = int(floor[u, t].sum()) + int(carried[u, t].sum())
        name = task_names.get(task, task)
        if cap is not None and cap < o and r <= cap:
            out.append(Msg("cycle.revision.reason_forecast", task=task, name=name, forecast=cap, amount=abs(delta)))
        elif delta < 0 and r == f and f > 0:
            out.append(Msg("cycle.revision.reason_floor", task=task, name=name, disbursed=f, amount=abs(delta)))
        elif delta > 0:
            out.append(Msg("cycle.revision.reason_more", task=task, name=name, amount=abs(delta)))
        else:
            out.append(Msg("cycle.revision.reason_less", task=task, name=name, amount=abs(delta)))
    # the plan's own constraints that bind for the unit (the revision's floors and caps are the reasons above)
    for name in dict.fromkeys(n for n in binding if n not in added):
        out.append(Msg("cycle.revision.reason_binding", constraint=name))
    return out


def revise(plan: Plan, state: CycleState, actuals: Actuals, period: Period, *, lang: str | Lang = Lang.VI) -> Revision:
    """Re-allocate the undisbursed part of ``period.year`` as of ``period`` (see the module docstring).

    ``lang`` names the added floor and cap constraints in the explanation. Disbursed amounts above
    the allocation are a :func:`~budgetlib.planning.execution.check_disbursed` error; check first.
    """
    year = period.year
    y = state.year_index(year)
    spent: Disbursed = disbursed(state, actuals, period)
    current = state.amounts[:, :, y, :]
    carried = state.carried_in[:, :, y, :]
    new_money = current - carried
    paid = np.minimum(spent.amounts[:, :, y, :], current)
    floor = np.maximum(paid - carried, 0)  # disbursements draw first on money carried in
    budget = new_money.sum(axis=0)  # [T, S]
    units, tasks = state.units, state.tasks
    unit_names, task_names = _names(plan)
    floors: list[CellBound] = []
    caps: list[CellBound] = []
    cap_total: dict[tuple[str, str], int] = {}
    prior: dict[tuple[str, str], int] = {}
    has_f = spent.has_forecast[:, :, y, :]
    fc = spent.forecast[:, :, y, :]
    for u, unit in enumerate(units):
        for t, task in enumerate(tasks):
            f = int(floor[u, t].sum())
            label = {"unit": unit_names.get(unit, unit), "task": task}
            if f > 0:
                floors.append(CellBound(unit, task, f, tr("cycle.revision.floor_name", lang, period=period.label(), **label)))
            current_new = int(new_money[u, t].sum())
            if has_f[u, t].any():
                estimate = int(np.where(has_f[u, t], fc[u, t], current[u, t]).sum())
                cap = max(estimate - int(carried[u, t].sum()), f)
                cap_total[(unit, task)] = cap + int(carried[u, t].sum())
                caps.append(CellBound(unit, task, cap, tr("cycle.revision.cap_name", lang, year=year, **label)))
                current_new = min(current_new, cap)
            if current_new > 0:
                prior[(unit, task)] = current_new
    result = resplit(plan, state, year, budget, floors=floors, caps=caps, prior=prior)
    if not result.ok:
        return Revision(period, year, units, tasks, state.sources, current.copy(), None, paid, carried.copy(), cap_total, result, None)
    x = result.amounts[:, :, 0, :].sum(axis=2)  # [U, T]
    unit_step = plan.allocation.rounding_unit if plan.allocation is not None else 1
    split = np.zeros_like(new_money)
    for t in range(len(tasks)):
        split[:, t, :] = split_with_floors(x[:, t], budget[t], floor[:, t, :], unit_step)
    revised = split + carried
    step = CycleStep(StepKind.REVISION, year=year, period=str(period), policy=result.policy)
    new_state = state.with_year(year, revised, step=step, allocation=result)
    added = {b.name for b in (*floors, *caps)}
    binding: dict[str, list[str]] = {}
    for c in result.constraints:
        if c.unit is not None and c.binding and c.kind != "budget":
            binding.setdefault(c.unit, []).append(c.name)
    changes = tuple(
        UnitChange(
            unit, unit_names.get(unit, unit), int(current[u].sum()), int(revised[u].sum()), int(paid[u].sum()),
            tuple(_reasons(task_names, revised, current, floor, cap_total, u, unit, tasks, binding.get(unit, []), carried, added)),
        )
        for u, unit in enumerate(units)
    )
    return Revision(period, year, units, tasks, state.sources, current.copy(), revised, paid, carried.copy(), cap_total, result, new_state, changes)


# ---------------------------------------------------------------------------------------------
# Replaying the cycle


@dataclass(frozen=True, eq=False)
class Replay:
    """The allocation in force as of a period, the closings and splits that led to it, and every
    problem met on the way (disbursed above the allocation of a closed year, a split that is
    infeasible, reports missing for a closed year)."""

    state: CycleState
    steps: tuple[CarryOverResult, ...]
    problems: tuple[Problem, ...]
    infeasible: Allocation | None = None  # the plan's own allocation, when it is infeasible

    @property
    def ok(self) -> bool:
        return not any(p.severity is Severity.ERROR for p in self.problems)


def missing_reports(plan: Plan, state: CycleState, actuals: Actuals, year: int, *, where: Source | None = None) -> list[Problem]:
    """A warning naming the units with an allocation for ``year`` but no disbursement record for it
    (they are counted as having disbursed nothing)."""
    return _missing_reports(plan, state, disbursed(state, actuals, Period(year)), year, where or Source(path="disbursements"))


def _missing_reports(plan: Plan, state: CycleState, spent: Disbursed, year: int, where: Source) -> list[Problem]:
    y = state.year_index(year)
    names, _ = _names(plan)
    allocated = state.amounts[:, :, y, :].sum(axis=(1, 2))
    missing = [names.get(u, u) for i, u in enumerate(state.units) if allocated[i] > 0 and not spent.reported[i, y]]
    if not missing:
        return []
    return [Problem("cycle.replay.missing_reports", where, {"year": year, "units": missing[:8], "count": len(missing)}, Severity.WARNING)]


def in_force(
    plan: Plan,
    actuals: Actuals,
    as_of: Period,
    *,
    start: CycleState | None = None,
    prior: Prior | str = Prior.SPENDING,
    locate: Locate | None = None,
) -> Replay:
    """The allocation in force for ``as_of``: from ``start`` (default: the plan's allocation), every
    program year before ``as_of.year`` is closed and the next year re-split (closing the period's
    own year is :func:`carry_over`, a decision taken explicitly). Years that ``start`` already
    re-split or revised (a step for them) are kept as they are."""
    if start is None:
        from ..allocator import allocate

        first = allocate(plan)
        if not first.ok:
            problem = Problem("cycle.replay.original_infeasible", Source(path="allocation"), {})
            return Replay(CycleState.original(first), (), (problem,), first)
        start = CycleState.original(first)
    state = start
    problems: list[Problem] = []
    steps: list[CarryOverResult] = []
    names, _ = _names(plan)
    done = {s.year for s in state.steps if s.kind in (StepKind.NEXT_YEAR, StepKind.REVISION) and s.year is not None}
    where = Source(path="disbursements")
    for year in [yr for yr in state.years if yr < as_of.year]:
        spent = disbursed(state, actuals, Period(year))
        problems.extend(_missing_reports(plan, state, spent, year, where))
        over = check_disbursed(state, actuals, as_of=Period(year), years=[year], locate=locate, unit_names=names)
        problems.extend(over)
        if over:  # later years would be compared with allocations built on a closing that is wrong
            return Replay(state, tuple(steps), tuple(problems))
        if year + 1 in done or year + 1 not in state.years:
            continue
        step = carry_over(plan, state, actuals, year, prior=prior)
        steps.append(step)
        if step.state is None:
            problems.append(Problem("cycle.replay.infeasible", Source(path="allocation"), {"year": year + 1, "closed": year}))
            break
        state = step.state
    problems.extend(check_disbursed(state, actuals, as_of=as_of, years=[as_of.year], locate=locate, unit_names=names))
    return Replay(state, tuple(steps), tuple(problems))

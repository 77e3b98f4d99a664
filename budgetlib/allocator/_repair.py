"""Ways out of an infeasible plan: for each named constraint of the conflicting set, the smallest
change of its own parameter that makes the whole plan feasible, the others unchanged; and for the
tasks those constraints concern, the smallest budget (all years scaled alike, so the year profile
stays) with which the plan is feasible as it stands.

Each kind relaxes in one direction (a floor, an earmark or a target down; a cap, an absorption
capacity, a stability band or a unit's share up), and feasibility is monotone in that direction,
so the critical value is found by bisection over feasibility checks of the whole plan (pre-checks,
then the LP without objective): on whole đồng for amounts, on 10⁻⁴ for fractions, always
rounded in the safe direction. A constraint without a numeric parameter (eligibility) is offered
for removal when that alone restores feasibility. When two or more named constraints have a fix,
one more option changes them together, each by the same least share of its own fix
(:func:`_joint_option`). Every option is verified by a last check at the suggested values, so
re-running with it is feasible (a test does exactly that).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core.i18n import Msg
from ..core.problems import PlanInvalid
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.result import ConstraintKind, Diagnosis, Named, Repair, RepairChange, RepairOption
from ._data import Data, build_data
from ._diagnose import precheck
from ._lp import solve_highspy
from ._model import Builder

__all__ = ["suggest_repair", "apply_repair", "REPAIR_MAX_CELLS", "BUDGET_REPAIR_MAX_TASKS"]

REPAIR_MAX_CELLS = 60_000
"""Repair options are searched for models up to this many cells (each option costs ~30 LP solves)."""

# kind → (field, direction) in the order tried; direction −1: the constraint relaxes downwards
_FIELDS: dict[ConstraintKind, tuple[tuple[str, int], ...]] = {
    ConstraintKind.FLOOR: (("amount", -1), ("share_of_budget", -1), ("times_proportional", -1)),
    ConstraintKind.CAP: (("amount", +1), ("share_of_budget", +1), ("times_proportional", +1)),
    ConstraintKind.EARMARK: (("amount", -1), ("amount", +1)),
    ConstraintKind.ABSORPTION: (("amount", +1),),
    ConstraintKind.STABILITY: (("max_change", +1),),
    ConstraintKind.TARGET: (("required", -1),),
    ConstraintKind.UNIT_SHARE: (("share", +1),),
}
_MONEY = {"amount"}
BUDGET_REPAIR_MAX_TASKS = 3
"""Budget options are searched for at most this many tasks (each costs ~40 feasibility checks)."""
BUDGET_REPAIR_MAX_FACTOR = 10
"""A task's budget is raised at most tenfold: a way out that needs more is not one."""
_ITEMS = {"required"}


_CONSTRAINT_PATH = "allocation.constraints["


def _constraint_index(location: str) -> int:
    """The index in ``allocation.constraints[i]`` (a change's or a conflict's JSON path)."""
    return int(location[len(_CONSTRAINT_PATH):-1])


def _feasible(plan: Plan, policy: AllocationPolicy, years: list[int] | None, applies_coupling: bool) -> bool:
    d = build_data(plan, policy, years)
    if precheck(d, proportional=not applies_coupling) is not None:
        return False
    if not applies_coupling:
        return True
    b = Builder(d)
    b.common()
    lp, _ = b.done()
    return solve_highspy(lp).status == "optimal"


def _with(policy: AllocationPolicy, index: int, change: dict[str, Any] | None) -> AllocationPolicy:
    constraints = list(policy.constraints)
    if change is None:
        del constraints[index]
    else:
        constraints[index] = constraints[index].model_copy(update=change)
    return policy.model_copy(update={"constraints": constraints})


def _bisect(ok: Callable[[float], bool], good: float, bad: float, *, whole: bool, steps: int = 60) -> float:
    """The value nearest ``bad`` at which ``ok`` holds, ``good`` known to hold."""
    for _ in range(steps):
        if whole:
            mid = float((int(good) + int(bad)) // 2)
            if mid in (good, bad):
                break
        else:
            if abs(good - bad) <= 1e-4 * max(1.0, abs(good)):
                break
            mid = (good + bad) / 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _safe(value: float, direction: int, whole: bool) -> float:
    """Round a suggested value in the direction that keeps it feasible (away from the critical one)."""
    if whole:
        return float(math.floor(value) if direction < 0 else math.ceil(value))
    scale = 1e4
    return (math.floor(value * scale) if direction < 0 else math.ceil(value * scale)) / scale


def suggest_repair(plan: Plan, policy: AllocationPolicy, diagnosis: Diagnosis, years: list[int] | None,
                   applies_coupling: bool) -> Repair | None:
    """Options that each restore feasibility by changing one named constraint of the diagnosis."""
    d = build_data(plan, policy, years)
    if d.n > REPAIR_MAX_CELLS:
        return None
    budget = float(d.B.sum()) or 1.0
    options: list[RepairOption] = []
    seen: set[int] = set()
    for conflict in diagnosis.conflicts:
        for loc in conflict.locations:
            if not loc.startswith(_CONSTRAINT_PATH):
                continue
            i = _constraint_index(loc)
            if i in seen:
                continue
            seen.add(i)
            c = policy.constraints[i]
            kind = ConstraintKind(c.type)
            option = _option_for(plan, policy, years, applies_coupling, i, c, kind, budget, d)
            if option is not None:
                options.append(option)
    joint = _joint_option(plan, policy, years, applies_coupling, options, budget)
    options += _budget_options(plan, policy, years, applies_coupling, [policy.constraints[i] for i in sorted(seen)])
    if joint is not None:
        options.append(joint)
    if not options:
        return None
    options.sort(key=lambda o: (o.cost, o.changes[0].location, o.changes[0].task or ""))
    return Repair(options=tuple(options), msg=Msg("alloc.repair.summary", count=len(options)))


def _option_for(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool, i: int, c: Any,
                kind: ConstraintKind, budget: float, d: Data) -> RepairOption | None:
    location = f"allocation.constraints[{i}]"

    def feasible_with(change: dict[str, Any] | None) -> bool:
        try:
            return _feasible(plan.model_copy(update={"allocation": _with(policy, i, change)}), _with(policy, i, change), years, coupling)
        except ValueError:  # a value the model refuses (e.g. a share above 1)
            return False

    for field, direction in _FIELDS.get(kind, ()):
        old = getattr(c, field, None)
        if old is None and field == "required":  # the default: the target's last value minus its baseline
            old = next((ts.required for ts in d.targets if ts.constraint == c), None)
        if old is None:
            continue
        whole = field in _MONEY or (field == "required" and bool(getattr(c, "integer", False)))
        if direction < 0:
            limit = 0.0
        elif field in ("share_of_budget", "share"):
            limit = 1.0
        elif field == "times_proportional":
            limit = max(float(old) * 100, 100.0)
        elif field == "max_change":
            limit = max(float(old) * 100, 100.0)
        else:  # money upwards: the whole budget
            limit = float(budget)
        if (limit - float(old)) * direction <= 0:
            continue

        def ok(v: float, field: str = field, whole: bool = whole) -> bool:
            return feasible_with({field: int(v) if whole and field in _MONEY else float(v)})

        if not ok(limit):
            continue
        new = _bisect(ok, limit, float(old), whole=whole)
        new = _safe(new, direction, whole)
        if not ok(new):  # the rounding crossed back: step once more towards the limit
            new = float(limit)
        unit = float(policy.rounding_unit or 1)
        if whole and unit > 1 and field in _MONEY:  # a figure an officer would write: whole rounding units, still feasible
            rounded = float(math.floor(new / unit) * unit if direction < 0 else math.ceil(new / unit) * unit)
            if rounded != new and (limit - rounded) * direction >= 0 and ok(rounded):
                new = rounded
        value: Any = int(new) if whole else float(new)
        change = RepairChange(name=c.name, kind=kind, field=field, old=float(old), new=float(value), location=location,
                              msg=_change_msg(c.name, field, direction, old, value))
        return RepairOption(changes=(change,), cost=_cost(c, field, whole, float(old), float(value), budget), msg=change.msg)
    if kind == ConstraintKind.ELIGIBILITY and feasible_with(None):
        change = RepairChange(name=c.name, kind=kind, field="", old=0.0, new=0.0, location=location,
                              msg=Msg("alloc.repair.remove", name=c.name))
        return RepairOption(changes=(change,), cost=float(budget), msg=change.msg)
    return None


def _cost(c: Any, field: str, whole: bool, old: float, new: float, budget: float) -> float:
    """The size of a change in đồng: money as is, a fraction of the budget at the budget, items at their unit cost."""
    cost = abs(new - old) * (1.0 if whole else budget)
    if field in _ITEMS:
        cost = abs(new - old) * float(getattr(c, "unit_cost", 1))
    return float(np.round(cost, 6))


JOINT_MAX_CHANGES = 6
"""A joint option changes at most this many constraints (each feasibility check is a full LP)."""


def _joint_option(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool,
                  singles: list[RepairOption], budget: float) -> RepairOption | None:
    """Every named constraint relaxed together, each by the same share λ of its own single fix —
    the least λ with which the plan is feasible (bisection over feasibility checks; λ = 1, every
    single fix at once, is feasible since each alone is). It spreads the change over the
    constraints in conflict instead of putting all of it on one: with two floors against one cap,
    "lower each floor by 40 % of what it alone would need and raise the cap by 40 %". None when
    fewer than two named constraints have a numeric fix, or when λ is 1 (nothing is gained)."""
    moves = [o.changes[0] for o in singles if len(o.changes) == 1 and o.changes[0].field and o.changes[0].location.startswith(_CONSTRAINT_PATH)]
    moves = moves[:JOINT_MAX_CHANGES]
    if len(moves) < 2:
        return None
    unit = float(policy.rounding_unit or 1)

    def whole_field(ch: RepairChange) -> bool:
        c = policy.constraints[_constraint_index(ch.location)]
        return ch.field in _MONEY or (ch.field == "required" and bool(getattr(c, "integer", False)))

    def value_at(ch: RepairChange, share: float) -> float:
        direction = 1 if ch.new > ch.old else -1
        whole = whole_field(ch)
        value = _safe(ch.old + share * (ch.new - ch.old), direction, whole)
        if whole and unit > 1 and ch.field in _MONEY:  # whole rounding units, still relaxing
            value = float(math.floor(value / unit) * unit if direction < 0 else math.ceil(value / unit) * unit)
        # never past the single fix (feasible on its own), never back past the old value
        return float(min(max(value, min(ch.old, ch.new)), max(ch.old, ch.new)))

    def changed(share: float) -> Plan:
        out = plan
        for ch in moves:
            out = apply_repair(out, dataclasses.replace(ch, new=value_at(ch, share)))
        return out

    def ok(share: float) -> bool:
        try:
            candidate = changed(share)
        except ValueError:
            return False
        return _feasible(candidate, candidate.allocation or policy, years, coupling)

    share = _bisect(ok, 1.0, 0.0, whole=False, steps=16)
    if share >= 0.999 or not ok(share):
        return None
    changes: list[RepairChange] = []
    for ch in moves:
        new = value_at(ch, share)
        if new == ch.old:
            continue
        direction = 1 if new > ch.old else -1
        value: Any = int(new) if whole_field(ch) else float(new)
        changes.append(RepairChange(name=ch.name, kind=ch.kind, field=ch.field, old=ch.old, new=float(value), location=ch.location,
                                    msg=_change_msg(ch.name, ch.field, direction, ch.old, value)))
    if len(changes) < 2:
        return None
    cost = sum(_cost(policy.constraints[_constraint_index(ch.location)], ch.field, whole_field(ch), ch.old, ch.new, budget)
               for ch in changes)
    msg = Msg("alloc.repair.together", changes=[ch.msg for ch in changes], share=float(share))
    return RepairOption(changes=tuple(changes), cost=float(np.round(cost, 6)), msg=msg)


def _change_msg(name: str, field: str, direction: int, old: Any, new: Any) -> Msg:
    verb = "lower" if direction < 0 else "raise"
    if field in _MONEY:
        return Msg(f"alloc.repair.{verb}_money", name=name, old=int(old), new=int(new))
    if field in ("share_of_budget", "share", "max_change"):
        return Msg(f"alloc.repair.{verb}_share", name=name, old=float(old), new=float(new))
    return Msg(f"alloc.repair.{verb}_number", name=name, old=float(old), new=float(new))


def _with_task_budget(plan: Plan, task: str, total: int) -> Plan:
    from ..model.scenario import ScaleBudget, Scenario
    from ..planning.scenarios import apply_scenario

    return apply_scenario(plan, Scenario(name="repair", changes=[ScaleBudget(total=int(total), tasks=[task])]))


def _budget_options(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool,
                    named: list[Any]) -> list[RepairOption]:
    """For the tasks the named constraints concern (every funded task when one concerns all), the
    least budget — in whole rounding units, every year scaled alike — with which the plan is
    feasible unchanged otherwise (floors above the budget, a target the money cannot reach)."""
    funded = {line.task for line in plan.budget_lines if line.amount > 0}
    wanted: list[str] = []
    for c in named:
        codes = getattr(c, "tasks", None)
        if codes is None and getattr(c, "task", None) is not None:
            codes = [c.task]
        for t in plan.tasks:
            if t.code in funded and (codes is None or t.code in codes) and t.code not in wanted:
                wanted.append(t.code)
    unit = int(policy.rounding_unit or 1)
    out: list[RepairOption] = []
    for code in wanted[:BUDGET_REPAIR_MAX_TASKS]:
        old = sum(line.amount for line in plan.budget_lines if line.task == code)

        def ok(total: float, code: str = code) -> bool:
            try:
                changed = _with_task_budget(plan, code, int(total))
            except PlanInvalid:  # a budget the plan refuses is no way out
                return False
            return _feasible(changed, policy, years, coupling)

        # searched in whole rounding units (the lines are split in them, so feasibility steps there)
        top = math.ceil(old * BUDGET_REPAIR_MAX_FACTOR / unit)
        if not ok(top * unit):
            continue
        new = _bisect(lambda k: ok(k * unit), float(top), float(old // unit), whole=True) * unit
        if new <= old:
            continue
        task = next(t for t in plan.tasks if t.code == code)
        # the task's English name in English messages when the plan gives one (user text otherwise)
        label = Named(f"{task.code} — {task.name}", f"{task.code} — {task.name_en or task.name}")
        msg = Msg("alloc.repair.raise_budget", task=label, old=int(old), new=int(new))
        change = RepairChange(name=task.name, kind=ConstraintKind.BUDGET, field="budget", old=float(old), new=float(new),
                              location="budget_lines", task=code, msg=msg)
        out.append(RepairOption(changes=(change,), cost=float(new - old), msg=msg))
    return out


def apply_repair(plan: Plan, change: RepairChange | RepairOption) -> Plan:
    """The plan with one suggested change made, the way an officer would make it: a constraint's
    parameter set (or the constraint removed), or a task's budget set with its year profile kept;
    for an option, every change it names."""
    if isinstance(change, RepairOption):
        for each in change.changes:
            plan = apply_repair(plan, each)
        return plan
    if change.field == "budget" and change.task is not None:
        return _with_task_budget(plan, change.task, int(change.new))
    policy = plan.allocation or AllocationPolicy()
    i = _constraint_index(change.location)
    constraints = list(policy.constraints)
    if change.field:
        value: Any = int(change.new) if change.field in _MONEY else change.new
        constraints[i] = constraints[i].model_copy(update={change.field: value})
    else:
        del constraints[i]
    return plan.model_copy(update={"allocation": policy.model_copy(update={"constraints": constraints})})

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
(:func:`_joint_option`); and the least total change over the named constraints and the task
budgets together — an elastic LP, which also finds a way out when no single change is enough
(:func:`_elastic_option`). Every option is verified by a last check at the suggested values, so
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
from ._data import INF, Data, build_data
from ._diagnose import precheck
from ._lp import solve_highspy
from ._model import Builder
from .policies.base import reference_keeps

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
    lp, lay = b.done()
    # the reference share often keeps every row already (a repair's checks are mostly of plans the
    # change made feasible): then no LP — at 18 000 cells HiGHS needs ~1 s to find a feasible point
    return reference_keeps(d, lp, lay) or solve_highspy(lp).status == "optimal"


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
    """Options that each restore feasibility: one named constraint of the diagnosis changed, one
    task's budget, the named constraints together, or the least change over all of them."""
    d = build_data(plan, policy, years)
    if d.n > REPAIR_MAX_CELLS:
        return None
    plan = plan.model_copy(update={"allocation": policy})  # options are applied to the policy being repaired
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
    named = [policy.constraints[i] for i in sorted(seen)]
    options += _budget_options(plan, policy, years, applies_coupling, named)
    if joint is not None:
        options.append(joint)
    least = _elastic_option(plan, policy, years, applies_coupling, [i for i in seen], _budget_tasks(plan, named), d, options)
    if least is not None:
        options.append(least)
    if not options:
        return None
    options.sort(key=lambda o: (o.cost, o.changes[0].location, o.changes[0].task or ""))
    return Repair(options=tuple(options), msg=Msg("alloc.repair.summary", count=len(options)))


def _parameters(c: Any, kind: ConstraintKind, d: Data, budget: float) -> list[tuple[str, int, float, bool, float]]:
    """The parameters of a constraint that relax it, in the order tried: (field, direction, its
    value, whether it is whole, the farthest value a repair may go to)."""
    out: list[tuple[str, int, float, bool, float]] = []
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
        elif field in ("times_proportional", "max_change"):
            limit = max(float(old) * 100, 100.0)
        else:  # money upwards: the whole budget
            limit = float(budget)
        if (limit - float(old)) * direction > 0:
            out.append((field, direction, float(old), whole, limit))
    return out


def _option_for(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool, i: int, c: Any,
                kind: ConstraintKind, budget: float, d: Data) -> RepairOption | None:
    location = f"allocation.constraints[{i}]"

    def feasible_with(change: dict[str, Any] | None) -> bool:
        try:
            return _feasible(plan.model_copy(update={"allocation": _with(policy, i, change)}), _with(policy, i, change), years, coupling)
        except ValueError:  # a value the model refuses (e.g. a share above 1)
            return False

    for field, direction, old, whole, limit in _parameters(c, kind, d, budget):

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


ELASTIC_TIGHTEN_CHECKS = 48
"""Feasibility checks spent at most per change of the least-change option to tighten it."""


def _tightened(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool,
               changes: list[RepairChange]) -> list[RepairChange]:
    """Each change made as small as the others allow, one after the other: steps of 1, 2, 4, …
    rounding units (10⁻⁴ for a fraction) back towards its old value while the plan stays feasible,
    then halved. The LP's answer is exact only to its tolerances — a fraction of a đồng, which the
    rounding in the relaxing direction can turn into one unit too many (39 999 000 đ for a floor that
    40 000 000 đ keeps), and on parameters moved over a wide range (a floor of 10¹¹ đ towards 0) to
    10⁻⁵ of the range, a million đồng."""
    out = list(changes)
    for k, ch in enumerate(out):
        whole = _whole(policy, ch)
        base_step = _tighter_step(policy, ch.field, whole, ch.new)
        direction = 1.0 if ch.new > ch.old else -1.0

        def ok(value: float, k: int = k, ch: RepairChange = ch) -> bool:
            trial = list(out)
            trial[k] = _changes_at(plan, policy, [(dataclasses.replace(ch, new=value), 1.0)])[0] if value != ch.old else ch
            return value != ch.old and _feasible_changes(plan, policy, years, coupling, trial)

        good, bad, step, checks = ch.new, None, base_step, 0
        while checks < ELASTIC_TIGHTEN_CHECKS:
            trial_value = ch.new - direction * step
            if (trial_value - ch.old) * direction <= 0:
                trial_value = ch.old + direction * base_step if whole else ch.old
            checks += 1
            if trial_value == good or not ok(trial_value):
                bad = trial_value
                break
            good, step = trial_value, step * 2
        while bad is not None and checks < ELASTIC_TIGHTEN_CHECKS and abs(good - bad) > base_step * 1.5:
            mid = (good + bad) / 2  # rounded in the relaxing direction where it is made (_changes_at)
            checks += 1
            if ok(mid):
                good = mid
            else:
                bad = mid
        if good != ch.new:
            out[k] = _changes_at(plan, policy, [(dataclasses.replace(ch, new=good), 1.0)])[0]
    return out


def _tighter_step(policy: AllocationPolicy, field: str, whole: bool, value: float) -> float:
    """How far a suggested value is tightened to check it is the least one: one rounding unit for
    money (the figure is written in whole units), one for whole items, else the bisection's 10⁻⁴."""
    if field in _MONEY:
        return float(policy.rounding_unit or 1)
    return 1.0 if whole else 1e-4 * max(1.0, abs(value))


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

    def changed(share: float) -> Plan:
        out = plan
        for ch in moves:
            out = apply_repair(out, dataclasses.replace(ch, new=_moved(policy, ch, share)))
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
    changes = _changes_at(plan, policy, [(ch, share) for ch in moves])
    if len(changes) < 2:
        return None
    msg = Msg("alloc.repair.together", changes=[ch.msg for ch in changes], share=float(share))
    return RepairOption(changes=tuple(changes), cost=_total_cost(policy, changes, budget), msg=msg)


ELASTIC_ROUNDS = 5
"""Successive elastic LPs tried before the last-resort line search (each: one build, one LP, one check)."""
ELASTIC_MIN_SAVING = 1e-3
"""The least-change option is offered when it costs at least this share less than every other."""


def _feasibility_model(d: Data, coupling: bool) -> tuple[np.ndarray, ...]:
    """The arrays of the feasibility LP :func:`_feasible` solves (without coupling rows for a
    policy that does not apply them), rows deduplicated so two builds compare entry by entry."""
    b = Builder(d)
    if coupling:
        b.common()
    else:
        b.common(only=lambda _row: False)
    lp, _ = b.done()
    return lp.arrays(dedupe=True)


def _shift(base: np.ndarray, moved: np.ndarray) -> np.ndarray | None:
    """moved − base, 0 where both are the same infinity; None when a bound appears or vanishes
    (the parameter does not move it linearly)."""
    same = base == moved
    if not np.all(same | (np.isfinite(base) & np.isfinite(moved))):
        return None
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, moved - base)


def _changed_plan(plan: Plan, changes: list[RepairChange]) -> Plan | None:
    """The plan with every one of ``changes`` made, or None when it refuses one of the values."""
    try:
        return apply_repair(plan, RepairOption(changes=tuple(changes), cost=0.0))
    except (ValueError, PlanInvalid):
        return None


def _feasible_changes(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool,
                      changes: list[RepairChange]) -> bool:
    """Whether the plan with every one of ``changes`` made is feasible."""
    candidate = _changed_plan(plan, changes)
    return candidate is not None and _feasible(candidate, candidate.allocation or policy, years, coupling)


def _shifts(base: tuple[np.ndarray, ...], moved: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...] | None:
    """How a change moves the feasibility model's column bounds and row limits (lb, ub, row lo,
    row hi), or None when it also changes the matrix or the model's size (its parameter does not
    enter the model linearly: a stability band), or moves nothing."""
    if any(a.shape != b.shape for a, b in zip(base, moved, strict=True)) or not all(
            np.array_equal(base[k], moved[k]) for k in (5, 6, 7)):
        return None
    parts = [_shift(base[k], moved[k]) for k in (0, 1, 3, 4)]
    if any(p is None for p in parts) or not any(np.any(p) for p in parts if p is not None):
        return None
    return tuple(p for p in parts if p is not None)


def _elastic_option(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool,
                    named: list[int], tasks: list[str], d: Data, options: list[RepairOption]) -> RepairOption | None:
    """The least total change (in đồng, :func:`_cost`) over the named constraints and the task
    budgets together — an elastic LP. Each candidate parameter i moves a share λᵢ ∈ [0, 1] of the
    way to its farthest value (a floor to 0, a share to 1, a budget tenfold); the feasibility LP's
    bounds and row limits are affine in a parameter that enters them linearly, so the model at λ is
    the base model plus Σ λᵢ·(its shift at λᵢ = 1), read off a second build with the parameter at
    its farthest value. Minimising Σ λᵢ·costᵢ over that model gives the cheapest combination —
    which a single fix cannot beat and which exists even when no single change is enough (two
    conflicts that share no constraint). A parameter that enters the matrix (a stability band's
    factor on last year's amount) cannot be moved this way and stays fixed. Where the model is not
    affine in a parameter (the larger of two floors, a floor clipped by a cap) successive LPs
    around the current values correct the answer; it is rounded in the relaxing direction and
    verified on the real plan. Offered when it changes two or more parameters and costs less than
    every other option (docs/allocation.md, "Infeasibility")."""
    budget = float(d.B.sum()) or 1.0
    candidates: list[RepairChange] = []
    for i in sorted(named):
        c = policy.constraints[i]
        kind = ConstraintKind(c.type)
        for field, _direction, old, _whole_value, limit in _parameters(c, kind, d, budget)[:1]:
            candidates.append(RepairChange(name=c.name, kind=kind, field=field, old=old, new=limit,
                                           location=f"allocation.constraints[{i}]"))
    for code in tasks:
        old = sum(line.amount for line in plan.budget_lines if line.task == code)
        unit = int(policy.rounding_unit or 1)
        top = math.ceil(old * BUDGET_REPAIR_MAX_FACTOR / unit) * unit
        candidates.append(_budget_change(plan, code, int(old), int(top)))
    if len(candidates) < 2:
        return None
    base = _feasibility_model(d, coupling)
    moves: list[RepairChange] = []
    farthest: list[tuple[np.ndarray, ...]] = []  # each move's feasibility model at its farthest value
    for ch in candidates:
        moved_plan = _changed_plan(plan, [ch])
        if moved_plan is None:
            continue
        try:
            moved_data = build_data(moved_plan, moved_plan.allocation or policy, years)
        except ValueError:  # a value the model refuses
            continue
        if moved_data.M != d.M:  # another money scale: the two models are not in the same units
            continue
        moved = _feasibility_model(moved_data, coupling)
        if _shifts(base, moved) is not None:
            moves.append(ch)
            farthest.append(moved)
    if len(moves) < 2:
        return None
    cost = np.array([_total_cost(policy, [ch], budget) for ch in moves])
    found = _least_moves(plan, policy, years, coupling, base, moves, farthest, cost, budget)
    if found is None:
        return None
    changes = _tightened(plan, policy, years, coupling, found)
    if len(changes) < 2:
        return None
    total = _total_cost(policy, changes, budget)
    others = min((o.cost for o in options), default=math.inf)
    if total >= others * (1.0 - ELASTIC_MIN_SAVING):
        return None
    return RepairOption(changes=tuple(changes), cost=total, msg=Msg("alloc.repair.least", changes=[ch.msg for ch in changes]))


def _least_moves(plan: Plan, policy: AllocationPolicy, years: list[int] | None, coupling: bool, base: tuple[np.ndarray, ...],
                 moves: list[RepairChange], farthest: list[tuple[np.ndarray, ...]], cost: np.ndarray,
                 budget: float) -> list[RepairChange] | None:
    """The least-cost changes — each move a share of the way from its old value (``ch.old``) to its
    farthest one (``ch.new``) — with which the plan is feasible: successive elastic LPs, verified on
    the real plan; None when none is found. ``base`` is the plan's feasibility model, ``farthest``
    each move's model at its farthest value, ``cost`` each whole move's size in đồng and ``budget``
    the one shares of the budget are costed at (:func:`_elastic_option`)."""
    share = np.zeros(len(moves))  # how far each move has gone from its old value towards its farthest one

    def at(shares: np.ndarray) -> list[RepairChange]:
        return _changes_at(plan, policy, [(ch, float(x)) for ch, x in zip(moves, shares, strict=True) if x > 0])

    def ok(shares: np.ndarray) -> bool:
        return _feasible_changes(plan, policy, years, coupling, at(shares))

    # Successive elastic LPs, each around the current values: a move may go on towards its farthest
    # value or back towards its old one, each read as affine between here and there. Where the
    # model is not affine the answer is off — short (a floor clipped by a cap moves the cell bound
    # only once below the cap: the next LP starts from the infeasible answer) or too far (the larger
    # of two floors: the next LP moves back) — and the LPs stop when a feasible answer no longer
    # gets cheaper.
    best: tuple[float, np.ndarray] | None = None
    for _ in range(ELASTIC_ROUNDS):
        here = plan if not share.any() else _changed_plan(plan, at(share))
        if here is None:
            break
        model = base if here is plan else _feasibility_model(build_data(here, here.allocation or policy, years), coupling)
        current = np.array([_moved(policy, ch, float(x)) for ch, x in zip(moves, share, strict=True)])
        span = np.maximum(np.array([abs(ch.new - ch.old) for ch in moves]), 1e-300)
        ahead = np.abs(np.array([ch.new for ch in moves]) - current) / span  # shares of the whole way
        behind = np.abs(current - np.array([ch.old for ch in moves])) / span
        columns: list[tuple[int, float, tuple[np.ndarray, ...]]] = []  # (move, signed share of the whole way, shifts)
        for i, moved in enumerate(farthest):
            for sign, way, end in ((1.0, ahead[i], 1.0), (-1.0, behind[i], 0.0)):
                if way <= 0:
                    continue
                if here is plan:  # the first round: the farthest models are already built
                    target = moved
                else:  # here, with this one move at its farthest (or its old) value
                    shares = share.copy()
                    shares[i] = end
                    other = _changed_plan(plan, at(shares))
                    if other is None:
                        continue
                    target = _feasibility_model(build_data(other, other.allocation or policy, years), coupling)
                shifts = _shifts(model, target)
                if shifts is not None:
                    columns.append((i, sign * way, shifts))
        if not columns:
            break
        dlb, dub, dlo, dhi = (np.vstack([c[2][k] for c in columns]) for k in range(4))
        weights = np.array([cost[i] * way for i, way, _ in columns])
        step = _least_shares(model[0], model[1], model[3], model[4], model[5], model[6], model[7], dlb, dub, dlo, dhi,
                             weights)
        if step is None:
            break
        moved_to = behind.copy()  # where ``here`` is, in shares of the whole way
        for (i, way, _), x in zip(columns, step, strict=True):
            moved_to[i] += way * float(x)
        moved_to = np.clip(moved_to, 0.0, 1.0)
        settled = bool(np.max(np.abs(moved_to - share)) <= 1e-9)
        share = moved_to
        if ok(share):
            total = _total_cost(policy, at(share), budget)
            if best is not None and total >= best[0]:
                break
            best = (total, share.copy())
        if settled:
            break
    if best is not None:
        return at(best[1])
    # last resort: along the line towards each chosen move's farthest value
    support = share > 1e-9
    if not support.any() or not ok(np.where(support, 1.0, 0.0)):
        return None
    line = lambda t: np.where(support, share + t * (1.0 - share), 0.0)  # noqa: E731
    return at(line(_bisect(lambda t: ok(line(t)), 1.0, 0.0, whole=False, steps=12)))


def _least_shares(lb0: np.ndarray, ub0: np.ndarray, rlo0: np.ndarray, rhi0: np.ndarray, start: np.ndarray, col: np.ndarray,
                  val: np.ndarray, dlb: np.ndarray, dub: np.ndarray, dlo: np.ndarray, dhi: np.ndarray,
                  cost: np.ndarray) -> np.ndarray | None:
    """min cost·λ over 0 ≤ λ ≤ 1 such that some x keeps the base model with every bound and row
    limit moved by Σ λᵢ·(its shift i) — the elastic LP; λ, or None when it is infeasible. ``cost``
    in any unit (it is normalised here)."""
    from ._lp import LP

    lb0, ub0, rlo0, rhi0, start, col, val, dlb, dub, dlo, dhi = _touched_parts(
        lb0, ub0, rlo0, rhi0, start, col, val, dlb, dub, dlo, dhi)
    k, n = dlb.shape
    # λᵢ's column is scaled to its largest shift (a floor of 10¹² đ moved to 0 shifts its cells by
    # 10⁶ LP units against cell amounts near 1): the solver sees coefficients of at most 1
    scale = np.maximum.reduce([np.abs(a).max(axis=1) if a.size else np.zeros(k) for a in (dlb, dub, dlo, dhi)])
    scale = np.where(scale > 0, scale, 1.0)
    lp = LP()
    # a moving column bound becomes a row x − Σ λᵢ·shiftᵢ ≥ lb (≤ ub); the column keeps the widest bound
    moving_lb, moving_ub = np.any(dlb != 0, axis=0), np.any(dub != 0, axis=0)
    lp.add_vars(n, np.where(moving_lb, lb0 + np.minimum(dlb, 0).sum(axis=0), lb0),
                np.where(moving_ub, ub0 + np.maximum(dub, 0).sum(axis=0), ub0))
    dlb, dub, dlo, dhi = (a / scale[:, None] for a in (dlb, dub, dlo, dhi))
    # and the costs per scaled unit divided by the largest: a floor moved by 10¹² đ costs 10⁻⁷ per
    # scaled unit otherwise, HiGHS's dual tolerance, and the LP stops at a dearer mix (a cap raised
    # to 2,29 % where 1,67 % is enough)
    per_unit = cost / scale
    lam = lp.add_vars(k, 0.0, scale, per_unit / max(float(np.abs(per_unit).max()), 1e-300))
    m = rlo0.size
    row_of = np.repeat(np.arange(m), np.diff(start))
    # a row whose two finite limits move differently is split into a lower and an upper row
    moving = np.any(dlo != 0, axis=0) | np.any(dhi != 0, axis=0)
    split = moving & np.isfinite(rlo0) & np.isfinite(rhi0) & np.any(dlo != dhi, axis=0)
    shift = np.where(np.isfinite(rlo0), dlo, dhi)  # one shift for the rows that are not split
    rows_m = np.flatnonzero(moving)
    lam_r = np.repeat(rows_m, k)
    lam_c = np.tile(lam, rows_m.size)
    lam_v = -shift[:, rows_m].T.ravel()
    lp.add_rows(rlo0, np.where(split, INF, rhi0), np.concatenate([row_of, lam_r]), np.concatenate([col, lam_c]),
                np.concatenate([val, lam_v]), 0)
    upper = np.flatnonzero(split)
    if upper.size:
        local = np.arange(upper.size)
        counts = np.diff(start)[upper]
        entries = np.concatenate([np.arange(start[r], start[r + 1]) for r in upper])
        lp.add_rows(np.full(upper.size, -INF), rhi0[upper], np.concatenate([np.repeat(local, counts), np.repeat(local, k)]),
                    np.concatenate([col[entries], np.tile(lam, upper.size)]), np.concatenate([val[entries], -dhi[:, upper].T.ravel()]), 0)
    for moving_bound, shifts, base, lower in ((moving_lb, dlb, lb0, True), (moving_ub, dub, ub0, False)):
        cols = np.flatnonzero(moving_bound)
        if not cols.size:
            continue
        local = np.arange(cols.size)
        lo_b, hi_b = (base[cols], np.full(cols.size, INF)) if lower else (np.full(cols.size, -INF), base[cols])
        lp.add_rows(lo_b, hi_b, np.concatenate([local, np.repeat(local, k)]), np.concatenate([cols, np.tile(lam, cols.size)]),
                    np.concatenate([np.ones(cols.size), -shifts[:, cols].T.ravel()]), 0)
    sol = solve_highspy(lp)
    if sol.status != "optimal" or sol.col_value is None:
        return None
    return np.clip(np.asarray(sol.col_value)[lam] / scale, 0.0, 1.0)


def _touched_parts(lb: np.ndarray, ub: np.ndarray, rlo: np.ndarray, rhi: np.ndarray, start: np.ndarray, col: np.ndarray,
                   val: np.ndarray, dlb: np.ndarray, dub: np.ndarray, dlo: np.ndarray, dhi: np.ndarray) -> tuple[np.ndarray, ...]:
    """The model cut down to its connected parts (columns linked through shared rows) that some
    move touches: a part no move touches stays as it is whatever the λ, so it does not change the
    answer (if it is infeasible no move helps, and the check of the answer on the real plan says so)."""
    import scipy.sparse as sp

    from ._reduce import _parts

    m, n = rlo.size, lb.size
    A = sp.csr_matrix((val, col, start), shape=(m, n))
    row_label, col_label, _idle = _parts(A, np.ones(n, bool))
    touched = np.zeros(int(max(row_label.max(initial=-1), col_label.max(initial=-1))) + 1, bool)
    touched[col_label[np.any(dlb != 0, axis=0) | np.any(dub != 0, axis=0)]] = True
    touched[row_label[np.any(dlo != 0, axis=0) | np.any(dhi != 0, axis=0)]] = True
    keep_cols, keep_rows = touched[col_label], touched[row_label]
    if keep_cols.all() and keep_rows.all():
        return lb, ub, rlo, rhi, start, col, val, dlb, dub, dlo, dhi
    B = A[np.flatnonzero(keep_rows)][:, np.flatnonzero(keep_cols)].tocsr()
    B.sort_indices()
    return (lb[keep_cols], ub[keep_cols], rlo[keep_rows], rhi[keep_rows], B.indptr.astype(np.int64), B.indices.astype(np.int64),
            B.data.astype(float), dlb[:, keep_cols], dub[:, keep_cols], dlo[:, keep_rows], dhi[:, keep_rows])


def _whole(policy: AllocationPolicy, ch: RepairChange) -> bool:
    """Whether a change's parameter is written in whole numbers (đồng, a budget, whole items)."""
    if ch.field == "budget" or ch.field in _MONEY:
        return True
    c = policy.constraints[_constraint_index(ch.location)]
    return ch.field == "required" and bool(getattr(c, "integer", False))


def _moved(policy: AllocationPolicy, ch: RepairChange, share: float) -> float:
    """The parameter moved ``share`` of the way from ``ch.old`` to ``ch.new``, rounded in the relaxing
    direction (money and budgets to whole rounding units, a figure an officer would write), never
    past ``ch.new`` nor back past ``ch.old``."""
    direction = 1 if ch.new > ch.old else -1
    whole = _whole(policy, ch)
    unit = float(policy.rounding_unit or 1)
    value = _safe(ch.old + share * (ch.new - ch.old), direction, whole)
    if whole and unit > 1 and (ch.field in _MONEY or ch.field == "budget"):
        value = float(math.floor(value / unit) * unit if direction < 0 else math.ceil(value / unit) * unit)
    return float(min(max(value, min(ch.old, ch.new)), max(ch.old, ch.new)))


def _changes_at(plan: Plan, policy: AllocationPolicy, moves: list[tuple[RepairChange, float]]) -> list[RepairChange]:
    """Each (change to its farthest value, share) as the change an officer makes, with its message;
    the moves that round to no change are left out."""
    out: list[RepairChange] = []
    for ch, share in moves:
        new = _moved(policy, ch, share)
        if new == ch.old:
            continue
        if ch.field == "budget" and ch.task is not None:
            out.append(_budget_change(plan, ch.task, int(ch.old), int(new)))
            continue
        direction = 1 if new > ch.old else -1
        value: Any = int(new) if _whole(policy, ch) else float(new)
        out.append(dataclasses.replace(ch, new=float(value), msg=_change_msg(ch.name, ch.field, direction, ch.old, value)))
    return out


def _total_cost(policy: AllocationPolicy, changes: list[RepairChange] | tuple[RepairChange, ...], budget: float) -> float:
    """The size of a set of changes in đồng (see :func:`_cost`; a budget by its own change)."""
    cost = 0.0
    for ch in changes:
        if ch.field == "budget":
            cost += abs(ch.new - ch.old)
        else:
            c = policy.constraints[_constraint_index(ch.location)]
            cost += _cost(c, ch.field, _whole(policy, ch), ch.old, ch.new, budget)
    return float(np.round(cost, 6))


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
    unit = int(policy.rounding_unit or 1)
    out: list[RepairOption] = []
    for code in _budget_tasks(plan, named):
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
        change = _budget_change(plan, code, int(old), int(new))
        out.append(RepairOption(changes=(change,), cost=float(new - old), msg=change.msg))
    return out


def _budget_tasks(plan: Plan, named: list[Any]) -> list[str]:
    """The funded tasks the named constraints concern (every funded task when one concerns all),
    at most BUDGET_REPAIR_MAX_TASKS, in the plan's order."""
    funded = {line.task for line in plan.budget_lines if line.amount > 0}
    wanted: list[str] = []
    for c in named:
        codes = getattr(c, "tasks", None)
        if codes is None and getattr(c, "task", None) is not None:
            codes = [c.task]
        for t in plan.tasks:
            if t.code in funded and (codes is None or t.code in codes) and t.code not in wanted:
                wanted.append(t.code)
    return wanted[:BUDGET_REPAIR_MAX_TASKS]


def _budget_change(plan: Plan, code: str, old: int, new: int) -> RepairChange:
    """A task's budget over the period set from ``old`` to ``new`` đồng (every year alike)."""
    task = next(t for t in plan.tasks if t.code == code)
    # the task's English name in English messages when the plan gives one (user text otherwise)
    label = Named(f"{task.code} — {task.name}", f"{task.code} — {task.name_en or task.name}")
    msg = Msg("alloc.repair.raise_budget", task=label, old=int(old), new=int(new))
    return RepairChange(name=task.name, kind=ConstraintKind.BUDGET, field="budget", old=float(old), new=float(new),
                        location="budget_lines", task=code, msg=msg)


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

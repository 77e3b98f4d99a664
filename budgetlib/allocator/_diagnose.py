"""Why no allocation exists: quick pre-checks with amounts, then an irreducible conflicting set.

Pre-checks are pure functions over the arrays of :mod:`._data` (:data:`PRECHECKS`); each finding
is a :class:`~budgetlib.model.result.Conflict` that names the constraints and gives the đồng
amounts. When they pass and the LP is still infeasible, HiGHS computes an IIS (``getIis``); its
rows and column bounds are mapped back to the named constraint groups. If the IIS is not
available, a deletion filter over the named groups finds a minimal conflicting set.
"""

from __future__ import annotations

import numpy as np

from ..core.i18n import Msg
from ..model.result import Conflict, ConstraintKind, Diagnosis, DiagnosisMethod
from ._data import INF, Data, Group
from ._lp import LP, solve_highspy


def _money(x: float) -> int:
    return round(float(x))


def location(d: Data, g: Group) -> str:
    """The JSON path of the plan where the group was declared."""
    if g.constraint is not None:
        for i, c in enumerate(d.policy.constraints):
            if c is g.constraint:
                return f"allocation.constraints[{i}]"
    if g.kind == ConstraintKind.BUDGET:
        return "budget_lines"
    return ""


def place(unit: str | None = None, task: str | Msg | None = None, year: int | None = None) -> Msg | str:
    """Where a cell or row is: ``Huyện A, Tuyên truyền, năm 2013`` (any part may be missing)."""
    parts = {k: v for k, v in (("unit", unit), ("task", task), ("year", year)) if v not in (None, "")}
    if not parts:
        return ""
    return Msg("alloc.place." + "_".join(parts), **parts)


def join(msgs: list[Msg]) -> Msg | str:
    """``a; b; c`` as one message (each part rendered in the outer language)."""
    if not msgs:
        return ""
    out: Msg = msgs[-1]
    for m in reversed(msgs[:-1]):
        out = Msg("alloc.join.semicolon", first=m, rest=out)
    return out


def _groups(d: Data, gids) -> list[int]:
    return sorted({int(g) for g in gids if g >= 0})


def _named(d: Data, gids: list[int]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(d.groups[g].name for g in gids), tuple(location(d, d.groups[g]) for g in gids)


def check_need(d: Data, proportional: bool) -> list[Conflict]:
    out = []
    for t, task in enumerate(d.tasks):
        if d.B[t].sum() > 0 and d.w[t].sum() <= 0:
            i = d.plan.tasks.index(task)
            budget = _money(d.B[t].sum())
            out.append(
                Conflict(
                    name=task.name,
                    kind=ConstraintKind.NEED,
                    msg=Msg("alloc.conflict.need", task=task.code, budget=budget, formula=task.need.formula()),
                    amounts={"budget": budget},
                    names=(task.name,),
                    locations=(f"tasks[{i}].need",),
                )
            )
    return out


def check_bounds(d: Data, proportional: bool) -> list[Conflict]:
    out: list[Conflict] = []
    T, Y, _U = d.shape
    lo, hi, lsrc, hsrc = d.lo, d.hi, d.lo_src, d.hi_src
    if proportional:  # zero-need units are pinned at their floor by the water-filling
        hi = np.where(d.w[:, None, :] > 0, hi, lo)
    for t in range(T):
        for y in range(Y):
            task, year, B = d.tasks[t], d.years[y], d.B[t, y]
            bad = np.flatnonzero(lo[t, y] > hi[t, y] + 0.5)
            for u in bad[:5]:
                a = d.groups[lsrc[t, y, u]]
                where = place(d.unit_name(u), d.task_labels[task.code], year)
                floor, cap = _money(lo[t, y, u]), _money(hi[t, y, u])
                if hsrc[t, y, u] >= 0:
                    b = d.groups[hsrc[t, y, u]]
                    msg = Msg("alloc.conflict.floor_above_cap", place=where, floor_name=a.name, floor=floor, cap_name=b.name, cap=cap)
                    names, locs = (a.name, b.name), (location(d, a), location(d, b))
                else:  # proportional: a zero-need unit cannot go above its floor
                    msg = Msg("alloc.conflict.floor_above_zero_need", place=where, floor_name=a.name, floor=floor)
                    i = d.plan.tasks.index(task)
                    names, locs = (a.name, task.name), (location(d, a), f"tasks[{i}].need")
                out.append(Conflict(name=a.name, kind=a.kind, msg=msg, amounts={"floor": floor, "cap": cap}, names=names, locations=locs))
            if bad.size:
                continue
            flo = lo[t, y].sum()
            if flo > B + 0.5:
                gids = _groups(d, lsrc[t, y][lo[t, y] > 0])
                names, locs = _named(d, gids)
                amounts = {"floors": _money(flo), "budget": _money(B), "excess": _money(flo - B)}
                out.append(
                    Conflict(
                        name=names[0],
                        kind=d.groups[gids[0]].kind,
                        msg=Msg("alloc.conflict.floors_exceed", task=d.task_labels[task.code], year=year, names=list(names), **amounts),
                        amounts=amounts,
                        names=names,
                        locations=locs,
                    )
                )
            fhi = hi[t, y].sum()
            if B > 0 and fhi < B - 0.5:
                gids = _groups(d, hsrc[t, y][np.isfinite(hi[t, y])])
                names, locs = _named(d, gids)
                listed: list[str | Msg] = list(names)
                if proportional and np.any(d.w[t] <= 0):
                    listed.append(Msg("alloc.conflict.zero_need_units"))
                    i = d.plan.tasks.index(task)
                    names, locs = (*names, task.name), (*locs, f"tasks[{i}].need")
                amounts = {"caps": _money(fhi), "budget": _money(B), "shortfall": _money(B - fhi)}
                out.append(
                    Conflict(
                        name=names[0] if names else task.name,
                        kind=d.groups[gids[0]].kind if gids else ConstraintKind.NEED,
                        msg=Msg("alloc.conflict.caps_short", task=d.task_labels[task.code], year=year, names=listed, **amounts),
                        amounts=amounts,
                        names=names,
                        locations=locs,
                    )
                )
    return out


def check_targets(d: Data, proportional: bool) -> list[Conflict]:
    out: list[Conflict] = []
    if proportional:  # the proportional policy does not apply targets
        return out
    _T, _Y, U = d.shape
    for ts in d.targets:
        c = ts.constraint
        g = d.groups[ts.group]
        ys = np.asarray(ts.years, np.int64)
        budget = float(d.B[ts.task, ys].sum()) if ys.size else 0.0
        reach = d.hi[ts.task][ys].sum(axis=0) if ys.size else np.zeros(U)
        by_budget = budget / c.unit_cost
        by_units = float(np.minimum(ts.capacity, reach / c.unit_cost).sum())
        capacity = float(ts.capacity.sum())
        best = min(by_budget, by_units, capacity)
        if ts.required > best + 1e-9 * max(1.0, ts.required):
            task = d.tasks[ts.task]
            years = Msg("alloc.join.years", first=d.years[ys[0]], last=d.years[ys[-1]]) if ys.size else Msg("alloc.join.none")
            names: tuple[str, ...] = (g.name,)
            locs: tuple[str, ...] = (location(d, g),)
            common = {"name": g.name, "required": ts.required, "best": best}
            if capacity <= min(by_budget, by_units):
                msg = Msg("alloc.conflict.target_capacity", **common, capacity_attribute=c.capacity_attribute,
                          baseline_attribute=c.baseline_attribute, capacity=capacity)
            elif by_budget <= by_units:
                msg = Msg("alloc.conflict.target_budget", **common, unit_cost=c.unit_cost, cost=_money(ts.required * c.unit_cost),
                          task=d.task_labels[task.code], years=years, budget=_money(budget))
                names, locs = (*names, d.groups[int(d.budget_group[ts.task, ys[0]])].name), (*locs, "budget_lines")
            else:
                # caps and eligibility limit what the task can spend where the target can progress
                limiting = _groups(d, d.hi_src[ts.task][ys][:, ts.capacity > 0].ravel()) if ys.size else []
                lnames, llocs = _named(d, limiting)
                names, locs = (*names, *lnames), (*locs, *llocs)
                room = reach[ts.capacity > 0]
                msg = Msg("alloc.conflict.target_bounds", **common, names=list(lnames), task=d.task_labels[task.code],
                          reach=_money(float(np.minimum(room, ts.capacity[ts.capacity > 0] * c.unit_cost).sum())))
            out.append(
                Conflict(
                    name=g.name,
                    kind=ConstraintKind.TARGET,
                    msg=msg,
                    amounts={"required_cost": _money(ts.required * c.unit_cost), "budget": _money(budget), "unit_cost": int(c.unit_cost)},
                    names=names,
                    locations=locs,
                )
            )
    return out


PRECHECKS = [check_need, check_bounds, check_targets]
"""Quick checks run before any LP; each returns conflicts with the amounts involved."""


def precheck(d: Data, *, proportional: bool = False) -> Diagnosis | None:
    conflicts: list[Conflict] = []
    for check in PRECHECKS:
        conflicts.extend(check(d, proportional))
    if not conflicts:
        return None
    return Diagnosis(
        method=DiagnosisMethod.PRECHECK,
        msg=Msg("alloc.diagnosis.precheck", count=len(conflicts), first=conflicts[0].msg),
        conflicts=tuple(conflicts),
    )


# -- LP conflict sets --------------------------------------------------------------------------


def _cell_groups(d: Data, lp: LP, cols: np.ndarray, bounds: np.ndarray | None) -> list[int]:
    """Groups behind the bounds of the cell columns (form x: columns 0..n−1) in the IIS.

    HiGHS marks each IIS column bound as lower (2), upper (3) or boxed (4).
    """
    out = []
    lsrc, hsrc = d.lo_src.ravel(), d.hi_src.ravel()
    for i, c in enumerate(cols):
        if c < d.n:
            b = int(bounds[i]) if bounds is not None and i < len(bounds) else 4
            if b in (2, 4):
                out.append(int(lsrc[c]))
            if b in (3, 4):
                out.append(int(hsrc[c]))
    return [g for g in out if g >= 0]


def member_detail(d: Data, g: int) -> tuple[Msg, dict[str, int]]:
    """The amounts of one named group, as the tail of a conflict line (``: 40.000.000 đ …``)."""
    grp = d.groups[g]
    c = grp.constraint
    if grp.kind == ConstraintKind.BUDGET and grp.task is not None and grp.year is not None:
        budget = _money(d.B[grp.task, grp.year])
        return Msg("alloc.detail.budget", budget=budget), {"budget": budget}
    if grp.kind in (ConstraintKind.FLOOR, ConstraintKind.CAP) and c is not None:
        if c.amount is not None:
            return Msg("alloc.detail.amount", amount=int(c.amount)), {"amount": int(c.amount)}
        if c.share_of_budget is not None:
            return Msg("alloc.detail.share", share=float(c.share_of_budget)), {}
        return Msg("alloc.detail.times", times=float(c.times_proportional)), {}
    if grp.kind == ConstraintKind.EARMARK and c is not None:
        return Msg("alloc.detail.earmark", amount=int(c.amount)), {"amount": int(c.amount)}
    if grp.kind == ConstraintKind.ABSORPTION and c is not None:
        amounts = {"amount": int(c.amount), "per_attribute_amount": int(c.per_attribute_amount)}
        if c.attribute:
            return Msg("alloc.detail.absorption_attribute", amount=int(c.amount), per=int(c.per_attribute_amount), attribute=c.attribute), amounts
        return Msg("alloc.detail.absorption", amount=int(c.amount)), amounts
    if grp.kind == ConstraintKind.STABILITY and c is not None:
        return Msg("alloc.detail.stability", change=float(c.max_change)), {}
    if grp.kind in (ConstraintKind.TARGET, ConstraintKind.TARGET_UNIT):
        ts = next(t for t in d.targets if t.group == g or t.unit_group == g)
        cost = _money(ts.required * ts.constraint.unit_cost)
        msg = Msg("alloc.detail.target", required=ts.required, unit_cost=int(ts.constraint.unit_cost), cost=cost)
        return msg, {"unit_cost": int(ts.constraint.unit_cost), "required_cost": cost}
    return Msg("alloc.detail.none"), {}


def _conflict_for_group(d: Data, g: int) -> Conflict:
    grp = d.groups[g]
    detail, amounts = member_detail(d, g)
    return Conflict(
        name=grp.name,
        kind=grp.kind,
        msg=Msg("alloc.conflict.member", name=grp.name, kind=Msg(f"alloc.kind.{grp.kind.value}"), detail=detail),
        amounts=amounts,
        names=(grp.name,),
        locations=(location(d, grp),),
    )


def _diagnosis(d: Data, groups: list[int], method: DiagnosisMethod) -> Diagnosis:
    seen: list[int] = []
    for g in groups:
        # one conflict per named constraint (target rows and their per-unit rows share a name)
        if d.groups[g].kind == ConstraintKind.TARGET_UNIT:
            g = next(t.group for t in d.targets if t.unit_group == g)
        if g not in seen:
            seen.append(g)
    seen.sort()
    conflicts = [_conflict_for_group(d, g) for g in seen]
    return Diagnosis(
        method=method,
        msg=Msg("alloc.diagnosis.conflicting", members=join([c.msg for c in conflicts])),
        conflicts=tuple(conflicts),
    )


def diagnose_lp(d: Data, lp: LP) -> Diagnosis:
    """Minimal conflicting set for an infeasible form-x model: HiGHS IIS, else a deletion filter."""
    sol = solve_highspy(lp, iis=True)
    rg = lp.row_group
    if sol.iis_rows is not None or sol.iis_cols is not None:
        groups = [int(rg[r]) for r in (sol.iis_rows if sol.iis_rows is not None else [])]
        groups += _cell_groups(d, lp, sol.iis_cols if sol.iis_cols is not None else np.zeros(0, np.int64), sol.iis_col_bound)
        if groups:
            # HiGHS's IIS may keep redundant bounds; a deletion filter over its few groups makes it minimal
            return _diagnosis(d, deletion_filter(d, lp, set(groups)), DiagnosisMethod.IIS)
    return _diagnosis(d, deletion_filter(d, lp), DiagnosisMethod.DELETION_FILTER)


def deletion_filter(d: Data, lp: LP, candidates: set[int] | None = None) -> list[int]:
    """Drop one named group at a time; keep it out if the rest stays infeasible.

    With ``candidates`` (e.g. the groups of an IIS) every other group is relaxed from the start,
    provided the candidates alone are infeasible.
    """
    lb, ub, _cost, rlo, rhi, start, idx, val = lp.arrays()
    rg = lp.row_group
    lsrc, hsrc = d.lo_src.ravel(), d.hi_src.ravel()
    cand = sorted(set(rg.tolist()) | set(int(g) for g in np.concatenate([lsrc, hsrc]) if g >= 0))
    active = set(cand)

    def infeasible(groups: set[int]) -> bool:
        sub = LP()
        l2, u2 = lb.copy(), ub.copy()
        n = min(d.n, lb.size)
        drop_lo = ~np.isin(lsrc[:n], list(groups)) & (lsrc[:n] >= 0)
        drop_hi = ~np.isin(hsrc[:n], list(groups)) & (hsrc[:n] >= 0)
        l2[:n] = np.where(drop_lo, 0.0, l2[:n])
        u2[:n] = np.where(drop_hi, INF, u2[:n])
        keep = np.isin(rg, list(groups))
        sub.add_vars(lb.size, l2, u2, 0.0)
        rows = np.repeat(np.arange(lp.n_rows), np.diff(start))
        sub.add_rows(np.where(keep, rlo, -INF), np.where(keep, rhi, INF), rows, idx, val, rg)
        return solve_highspy(sub).status == "infeasible"

    if candidates is not None and infeasible(set(candidates)):
        cand = sorted(candidates)
        active = set(cand)
    for g in cand:
        trial = active - {g}
        if infeasible(trial):
            active = trial
    return sorted(active)

"""Why no allocation exists: quick pre-checks with amounts, then an irreducible conflicting set.

Pre-checks are pure functions over the arrays of :mod:`._data` (:data:`PRECHECKS`); each finding
is a :class:`~budgetlib.model.result.Conflict` that names the constraints and gives the đồng
amounts. When they pass and the LP is still infeasible, HiGHS computes an IIS (``getIis``); its
rows and column bounds are mapped back to the named constraint groups. If the IIS is not
available, a deletion filter over the named groups finds a minimal conflicting set.
"""

from __future__ import annotations

import numpy as np

from ..constraints.registry import kind_of
from ..core.i18n import Msg
from ..model.result import Conflict, ConstraintKind, Diagnosis, DiagnosisMethod
from ._data import INF, Data, Group
from ._lp import LP, solve_highspy


def _money(x: float) -> int:
    return round(float(x))


def location(d: Data, g: Group) -> str:
    """The JSON path of the plan where the group was declared."""
    return d.location(g)


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
    hi, lo = d.hi, d.lo
    for t, task in enumerate(d.tasks):
        if d.B[t].sum() <= 0:
            continue
        i = d.plan.tasks.index(task)
        budget = _money(d.B[t].sum())
        if d.w[t].sum() <= 0:
            out.append(Conflict(name=task.name, kind=ConstraintKind.NEED, amounts={"budget": budget},
                                msg=Msg("alloc.conflict.need", task=task.code, budget=budget, formula=task.need.formula()),
                                names=(task.name,), locations=(f"tasks[{i}].need",)))
            continue
        # the need that counts is that of the units that can receive money: an ineligible unit's
        # need is no basis for splitting among the others
        for y in range(len(d.years)):
            if d.B[t, y] > lo[t, y].sum() + 0.5 and (d.w[t] * (hi[t, y] > 0)).sum() <= 0:
                closing = _groups(d, d.hi_src[t, y][(d.w[t] > 0) & (hi[t, y] <= 0)])
                names, locs = _named(d, closing)
                out.append(Conflict(name=task.name, kind=ConstraintKind.NEED, amounts={"budget": _money(d.B[t, y])},
                                    msg=Msg("alloc.conflict.need_receivable", task=task.code, year=d.years[y], budget=_money(d.B[t, y]),
                                            formula=task.need.formula(), names=list(names)),
                                    names=(task.name, *names), locations=(f"tasks[{i}].need", *locs)))
                break
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
            # within the water-filling's own tolerance (core.money.capped_proportional) and never more
            # than half a đồng: a check looser than the split it guards passes plans the split then
            # refuses (floors of 1,3 đ on a 1 đ budget; caps 84 146 đ short of 84 tỷ triệu đồng)
            tol = min(0.5, 1e-9 * max(1.0, float(B)))
            bad = np.flatnonzero(lo[t, y] > hi[t, y] + np.minimum(0.5, 1e-9 * np.maximum(1.0, np.abs(hi[t, y]))))
            for u in bad[:5]:
                a = d.groups[lsrc[t, y, u]]
                where = place(d.unit_name(u), d.task_labels[task.code], year)
                floor, cap = _money(lo[t, y, u]), _money(hi[t, y, u])
                names: tuple[str, ...]
                locs: tuple[str, ...]
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
            if flo > B + tol:
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
            if B > 0 and fhi < B - tol:
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


def check_constraints(d: Data, proportional: bool) -> list[Conflict]:
    """Each constraint kind's own pre-check (the proportional policy applies no row constraint)."""
    out: list[Conflict] = []
    if proportional:
        return out
    for r in d.row_specs:
        out += r.kind.precheck(d, r.constraint, r.group, r.spec)
    return out


PRECHECKS = [check_need, check_bounds, check_constraints]
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
    if grp.kind == ConstraintKind.BUDGET and grp.task is not None and grp.year is not None:
        budget = _money(d.B[grp.task, grp.year])
        return Msg("alloc.detail.budget", budget=budget), {"budget": budget}
    if grp.constraint is not None:
        return kind_of(grp.constraint).detail(d, grp.constraint, g)  # type: ignore[arg-type]
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
        msg=Msg("alloc.diagnosis.conflicting", members=join([c.msg for c in conflicts])) if conflicts else Msg("alloc.diagnosis.budgets_alone"),
        conflicts=tuple(conflicts),
    )


IIS_MIN_CELLS = 20_000
"""Below this many cells the deletion filter runs over every named group without HiGHS's IIS."""


def diagnose_lp(d: Data, lp: LP) -> Diagnosis:
    """Minimal conflicting set for an infeasible form-x model: a deletion filter over the named
    groups (small models), or over the groups of HiGHS's IIS (large models, where one LP per group
    would be slow). Either way the set is minimal: every member was tested for removal."""
    if d.n <= IIS_MIN_CELLS:
        return _diagnosis(d, deletion_filter(d, lp), DiagnosisMethod.DELETION_FILTER)
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
    # the task-year budgets are the plan's data, always kept: a conflicting set is a minimal set of
    # named constraints that cannot hold together with the budgets
    budgets = {g for g, grp in enumerate(d.groups) if grp.kind == ConstraintKind.BUDGET}
    cand = sorted((set(rg.tolist()) | {int(g) for g in np.concatenate([lsrc, hsrc]) if g >= 0}) - budgets)
    active = set(cand)

    def infeasible(groups: set[int]) -> bool:
        groups = groups | budgets
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

    if candidates is not None and infeasible(set(candidates) - budgets):
        cand = sorted(set(candidates) - budgets)
        active = set(cand)
    for g in cand:
        trial = active - {g}
        if infeasible(trial):
            active = trial
    return sorted(active)

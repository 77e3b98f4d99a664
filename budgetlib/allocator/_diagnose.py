"""Why no allocation exists: quick pre-checks with amounts, then an irreducible conflicting set.

Pre-checks are pure functions over the arrays of :mod:`._data` (:data:`PRECHECKS`); each finding
is a :class:`~budgetlib.model.result.Conflict` that names the constraints and gives the đồng
amounts. When they pass and the LP is still infeasible, HiGHS computes an IIS (``getIis``); its
rows and column bounds are mapped back to the named constraint groups. If the IIS is not
available, a deletion filter over the named groups finds a minimal conflicting set.
"""

from __future__ import annotations

import numpy as np

from ..core.money import format_amount
from ..model.result import Conflict, Diagnosis
from ._data import INF, Data, Group
from ._lp import LP, solve_highspy

_KIND_VI = {
    "budget": "ngân sách nhiệm vụ",
    "floor": "mức sàn",
    "cap": "mức trần",
    "earmark": "kinh phí bố trí riêng",
    "eligibility": "điều kiện được hưởng",
    "absorption": "khả năng hấp thụ",
    "stability": "ổn định giữa các năm",
    "target": "chỉ tiêu",
    "target_unit": "chi phí đạt chỉ tiêu",
    "need": "nhu cầu",
}


def _vnd(x: float, lang: str = "vi") -> str:
    return format_amount(int(round(x)), lang=lang)


def location(d: Data, g: Group) -> str:
    if g.constraint is not None:
        for i, c in enumerate(d.policy.constraints):
            if c is g.constraint:
                return f"allocation.constraints[{i}]"
    if g.kind == "budget" and g.task is not None:
        return f"budget_lines (task {d.tasks[g.task].code}, year {d.years[g.year]})"
    return ""


def _names(d: Data, gids) -> list[str]:
    return [d.groups[int(g)].name for g in sorted(set(int(g) for g in gids if g >= 0))]


def check_need(d: Data, proportional: bool) -> list[Conflict]:
    out = []
    for t, task in enumerate(d.tasks):
        if d.B[t].sum() > 0 and d.w[t].sum() <= 0:
            i = d.plan.tasks.index(task)
            out.append(
                Conflict(
                    name=f"Nhu cầu của nhiệm vụ {task.name}",
                    kind="need",
                    message_vi=f"nhiệm vụ {task.code} có kinh phí {_vnd(d.B[t].sum())} nhưng công thức nhu cầu "
                    f"«{task.need.formula()}» bằng 0 ở mọi địa bàn: không có căn cứ để chia",
                    message_en=f"task {task.code} has {_vnd(d.B[t].sum(), 'en')} of budget but its need formula "
                    f"“{task.need.formula()}” is zero for every unit: there is no basis for the split",
                    amounts={"budget": int(d.B[t].sum())},
                    location=f"tasks[{i}].need",
                )
            )
    return out


def check_bounds(d: Data, proportional: bool) -> list[Conflict]:
    out: list[Conflict] = []
    T, Y, U = d.shape
    lo, hi, lsrc, hsrc = d.lo, d.hi, d.lo_src, d.hi_src
    if proportional:  # zero-need units are pinned at their floor by the water-filling
        hi = np.where(d.w[:, None, :] > 0, hi, lo)
    for t in range(T):
        for y in range(Y):
            task, year, B = d.tasks[t], d.years[y], d.B[t, y]
            bad = np.flatnonzero(lo[t, y] > hi[t, y] + 0.5)
            for u in bad[:5]:
                a, b = d.groups[lsrc[t, y, u]], d.groups[hsrc[t, y, u]] if hsrc[t, y, u] >= 0 else None
                bname = b.name if b else "không có nhu cầu"
                out.append(
                    Conflict(
                        name=a.name,
                        kind=a.kind,
                        message_vi=f"{d.unit_name(u)}, {task.name} năm {year}: «{a.name}» đòi ít nhất {_vnd(lo[t, y, u])} "
                        f"nhưng «{bname}» cho nhiều nhất {_vnd(hi[t, y, u])}",
                        message_en=f"{d.unit_name(u)}, {task.name} {year}: “{a.name}” requires at least {_vnd(lo[t, y, u], 'en')} "
                        f"but “{bname}” allows at most {_vnd(hi[t, y, u], 'en')}",
                        amounts={"floor": int(round(lo[t, y, u])), "cap": int(round(hi[t, y, u]))},
                        location=location(d, a),
                    )
                )
            if bad.size:
                continue
            flo = lo[t, y].sum()
            if flo > B + 0.5:
                names = _names(d, lsrc[t, y][lo[t, y] > 0])
                out.append(
                    Conflict(
                        name=" + ".join(names),
                        kind="floor",
                        message_vi=f"{task.name} năm {year}: mức sàn và kinh phí bố trí riêng ({', '.join('«' + n + '»' for n in names)}) "
                        f"cộng lại {_vnd(flo)}, vượt ngân sách {_vnd(B)} (thừa {_vnd(flo - B)})",
                        message_en=f"{task.name} {year}: floors and earmarks ({', '.join('“' + n + '”' for n in names)}) "
                        f"add up to {_vnd(flo, 'en')}, more than the budget {_vnd(B, 'en')} ({_vnd(flo - B, 'en')} too much)",
                        amounts={"floors": int(round(flo)), "budget": int(B), "excess": int(round(flo - B))},
                        location=location(d, d.groups[int(lsrc[t, y][lo[t, y] > 0][0])]),
                    )
                )
            fhi = hi[t, y].sum()
            if B > 0 and fhi < B - 0.5:
                names = _names(d, hsrc[t, y][np.isfinite(hi[t, y])])
                if proportional and np.any(d.w[t] <= 0):
                    names.append("nhu cầu bằng 0")
                out.append(
                    Conflict(
                        name=" + ".join(names),
                        kind="cap",
                        message_vi=f"{task.name} năm {year}: mức trần và điều kiện được hưởng ({', '.join('«' + n + '»' for n in names)}) "
                        f"cho phép tối đa {_vnd(fhi)}, thấp hơn ngân sách {_vnd(B)} (thiếu {_vnd(B - fhi)})",
                        message_en=f"{task.name} {year}: caps and eligibility ({', '.join('“' + n + '”' for n in names)}) "
                        f"allow at most {_vnd(fhi, 'en')}, less than the budget {_vnd(B, 'en')} ({_vnd(B - fhi, 'en')} short)",
                        amounts={"caps": int(round(fhi)), "budget": int(B), "shortfall": int(round(B - fhi))},
                        location=location(d, d.groups[int(hsrc[t, y][np.isfinite(hi[t, y])][0])]) if names else "",
                    )
                )
    return out


def check_targets(d: Data, proportional: bool) -> list[Conflict]:
    out = []
    T, Y, U = d.shape
    for ts in d.targets:
        c = ts.constraint
        g = d.groups[ts.group]
        ys = np.asarray(ts.years, np.int64)
        budget = float(d.B[ts.task, ys].sum()) if ys.size else 0.0
        reach = np.minimum(d.hi[ts.task][ys].sum(axis=0), np.inf) if ys.size else np.zeros(U)
        by_budget = budget / c.unit_cost
        by_units = float(np.minimum(ts.capacity, reach / c.unit_cost).sum())
        capacity = float(ts.capacity.sum())
        best = min(by_budget, by_units, capacity)
        if ts.required > best + 1e-9 * max(1.0, ts.required):
            task = d.tasks[ts.task]
            years = f"{d.years[ys[0]]}–{d.years[ys[-1]]}" if ys.size else "—"
            if capacity <= min(by_budget, by_units):
                why_vi = f"toàn bộ khả năng tăng thêm ({c.capacity_attribute} − {c.baseline_attribute}) chỉ là {capacity:g}"
                why_en = f"the whole room for progress ({c.capacity_attribute} − {c.baseline_attribute}) is only {capacity:g}"
            else:
                why_vi = (f"với {_vnd(c.unit_cost)} cho mỗi đơn vị, cần {_vnd(ts.required * c.unit_cost)} nhưng ngân sách "
                          f"{task.name} {years} chỉ có {_vnd(budget)}" + (f" và các mức trần/điều kiện chỉ cho phép đạt {best:g}" if by_units < by_budget else ""))
                why_en = (f"at {_vnd(c.unit_cost, 'en')} each it needs {_vnd(ts.required * c.unit_cost, 'en')} but the "
                          f"{task.name} budget {years} is only {_vnd(budget, 'en')}" + (f" and caps/eligibility allow only {best:g}" if by_units < by_budget else ""))
            out.append(
                Conflict(
                    name=g.name,
                    kind="target",
                    message_vi=f"chỉ tiêu «{g.name}» cần {ts.required:g} nhưng tối đa chỉ đạt {best:g}: {why_vi}",
                    message_en=f"target “{g.name}” needs {ts.required:g} but at most {best:g} can be reached: {why_en}",
                    amounts={"required_cost": int(round(ts.required * c.unit_cost)), "budget": int(round(budget)), "unit_cost": int(c.unit_cost)},
                    location=location(d, g),
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
        method="precheck",
        summary_vi=f"Không thể phân bổ: {len(conflicts)} mâu thuẫn giữa ngân sách và các ràng buộc. " + conflicts[0].message_vi,
        summary_en=f"No allocation exists: {len(conflicts)} conflict(s) between the budget and the constraints. " + conflicts[0].message_en,
        conflicts=conflicts,
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


def _conflict_for_group(d: Data, g: int) -> Conflict:
    grp = d.groups[g]
    kind_vi = _KIND_VI.get(grp.kind, grp.kind)
    amounts: dict[str, int] = {}
    detail_vi = detail_en = ""
    if grp.kind == "budget":
        B = d.B[grp.task, grp.year]
        amounts = {"budget": int(B)}
        detail_vi, detail_en = f": {_vnd(B)}", f": {_vnd(B, 'en')}"
    elif grp.kind in ("floor", "cap", "earmark") and grp.constraint is not None:
        c = grp.constraint
        if getattr(c, "amount", None) is not None:
            amounts = {"amount": int(c.amount)}
            detail_vi, detail_en = f": {_vnd(c.amount)} mỗi địa bàn, nhiệm vụ, năm", f": {_vnd(c.amount, 'en')} per unit, task and year"
        elif getattr(c, "share_of_budget", None) is not None:
            detail_vi, detail_en = f": {c.share_of_budget:.0%} ngân sách nhiệm vụ", f": {c.share_of_budget:.0%} of the task budget"
        else:
            detail_vi, detail_en = f": {c.times_proportional:g} lần phần theo nhu cầu", f": {c.times_proportional:g} × the need-based share"
    elif grp.kind == "absorption":
        c = grp.constraint
        amounts = {"amount": int(c.amount), "per_attribute_amount": int(c.per_attribute_amount)}
        detail_vi = f": tối đa {_vnd(c.amount)}" + (f" + {_vnd(c.per_attribute_amount)} × {c.attribute}" if c.attribute else "") + " mỗi địa bàn mỗi năm"
        detail_en = f": at most {_vnd(c.amount, 'en')}" + (f" + {_vnd(c.per_attribute_amount, 'en')} × {c.attribute}" if c.attribute else "") + " per unit and year"
    elif grp.kind == "stability":
        detail_vi, detail_en = f": ±{grp.constraint.max_change:.0%} mỗi năm", f": ±{grp.constraint.max_change:.0%} a year"
    elif grp.kind in ("target", "target_unit"):
        ts = next(t for t in d.targets if t.group == g or t.unit_group == g)
        amounts = {"unit_cost": int(ts.constraint.unit_cost), "required_cost": int(round(ts.required * ts.constraint.unit_cost))}
        detail_vi = f": cần {ts.required:g} × {_vnd(ts.constraint.unit_cost)} = {_vnd(ts.required * ts.constraint.unit_cost)}"
        detail_en = f": needs {ts.required:g} × {_vnd(ts.constraint.unit_cost, 'en')} = {_vnd(ts.required * ts.constraint.unit_cost, 'en')}"
    return Conflict(
        name=grp.name,
        kind=grp.kind,
        message_vi=f"«{grp.name}» ({kind_vi}){detail_vi}",
        message_en=f"“{grp.name}” ({grp.kind}){detail_en}",
        amounts=amounts,
        location=location(d, grp),
    )


def _diagnosis(d: Data, groups: list[int], method: str) -> Diagnosis:
    seen: list[int] = []
    for g in groups:
        # one conflict per named constraint (target rows and their per-unit rows share a name)
        if d.groups[g].kind == "target_unit":
            g = next(t.group for t in d.targets if t.unit_group == g)
        if g not in seen:
            seen.append(g)
    seen.sort()
    conflicts = [_conflict_for_group(d, g) for g in seen]
    names_vi = "; ".join(c.message_vi for c in conflicts)
    names_en = "; ".join(c.message_en for c in conflicts)
    return Diagnosis(
        method=method,
        summary_vi=f"Không thể phân bổ: các ràng buộc sau mâu thuẫn với nhau (bỏ hoặc nới một trong số đó sẽ có lời giải): {names_vi}.",
        summary_en=f"No allocation exists: these constraints conflict (relaxing any one of them removes the conflict): {names_en}.",
        conflicts=conflicts,
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
            return _diagnosis(d, deletion_filter(d, lp, set(groups)), "iis")
    return _diagnosis(d, deletion_filter(d, lp), "deletion_filter")


def deletion_filter(d: Data, lp: LP, candidates: set[int] | None = None) -> list[int]:
    """Drop one named group at a time; keep it out if the rest stays infeasible.

    With ``candidates`` (e.g. the groups of an IIS) every other group is relaxed from the start,
    provided the candidates alone are infeasible.
    """
    lb, ub, cost, rlo, rhi, start, idx, val = lp.arrays()
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

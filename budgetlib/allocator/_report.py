"""Answer/Sensitivity report, target attainment and plain-language explanations of an allocation."""

from __future__ import annotations

import numpy as np

from ..constraints.registry import kind_of
from ..core.i18n import Msg
from ..model.policy import PolicyKind
from ..model.result import Allocation, AllocationStatus, ConstraintKind, ConstraintReport, Named, TargetAttainment
from ._data import Data
from ._diagnose import place
from ._model import TRIEU, covered_cells, reference_outcome
from ._whole import WholeNote, funding

MAX_ROWS_PER_GROUP = 5
"""Binding rows reported individually for each named constraint (the group row summarises all)."""


def _r(v: float | None) -> float | None:
    """Round for stable JSON: 9 significant digits, no negative zero, inf → None."""
    if v is None or not np.isfinite(v):
        return None
    out = float(f"{float(v):.9g}")
    return 0.0 if out == 0 else out


class Objective:
    """What the reported objective measures: its words and whether it is in đồng."""

    def __init__(self, label: Msg | None, money: bool):
        self.label = label
        self.money = money


def objective_labels(d: Data) -> Objective:
    from .policies import POLICIES

    policy = POLICIES[d.policy.kind]
    return Objective(policy.objective(d), policy.in_money(d))


class _RowView:
    """Rows of an LP in the plan's own terms (the rounding margin added back)."""

    def __init__(self, lp, lay, sol):
        self.group = lp.row_group
        self.elem = lp.row_elem
        shift = lay.row_shift
        self.lp_lo = np.concatenate(lp._rlo) if lp._rlo else np.zeros(0)
        self.lp_hi = np.concatenate(lp._rhi) if lp._rhi else np.zeros(0)
        self.lo = self.lp_lo - shift
        self.hi = self.lp_hi + shift
        self.act = sol.row_value
        self.dual = sol.row_dual
        self.up, self.dn = sol.row_up, sol.row_dn


def _row_reports(d: Data, solved, g: int, rows: np.ndarray, fin: _RowView, dual: _RowView | None, money: bool, obj, x: np.ndarray) -> list[ConstraintReport]:
    grp = d.groups[g]
    _T, Y, U = d.shape
    rs = d.M if money else 1.0
    assert fin.act is not None
    act = fin.act[rows].copy()
    lo, hi = fin.lo[rows], fin.hi[rows]
    if grp.kind == "target":
        # Σc in the LP is only a lower bound on what the money buys: report the fundable maximum
        ts = next(t for t in d.targets if t.group == g)
        act[:] = float(ts.funded(funding(d, ts, x)).sum())
    eq = lo == hi
    bound = np.where(np.isfinite(lo), lo, hi)
    slack = np.where(eq, 0.0, np.where(np.isfinite(hi), hi - act, act - lo))
    slack = np.maximum(slack, 0.0)
    tol = 1e-6 * np.maximum(1.0, np.abs(bound))
    binding = eq | (slack <= tol)
    duals = np.zeros(rows.size)
    if dual is not None and dual.dual is not None:
        ok = rows < dual.dual.size
        duals[ok] = dual.dual[rows[ok]]
    shadow = solved.sign * duals * solved.scale * (TRIEU / d.M if money else 1.0)  # per triệu đồng (per item)
    shadow = np.where(np.abs(shadow) < 1e-9, 0.0, shadow)

    def ranging(r):
        if dual is None or dual.up is None or r >= dual.up.size:
            return None, None
        b = dual.lp_lo[r] if np.isfinite(dual.lp_lo[r]) else dual.lp_hi[r]
        return (dual.up[r] - b) * rs, (b - dual.dn[r]) * rs

    def where(r):
        e = int(fin.elem[r])
        t = u = y = None
        element = kind_of(grp.constraint).row_element if grp.constraint is not None else ""  # type: ignore[arg-type]
        if grp.kind == ConstraintKind.BUDGET:
            t, y = divmod(e, Y)
        elif element == "unit_year":
            y, u = divmod(e, U)
        elif element == "cell" and e >= 0:
            ty, u = divmod(e, U)
            t, y = divmod(ty, Y)
        elif grp.kind == ConstraintKind.TARGET_UNIT:
            u = e
            t = next(ts.task for ts in d.targets if ts.unit_group == g)
        elif grp.kind == "target":
            t = next(ts.task for ts in d.targets if ts.group == g)
        return (d.tasks[t].code if t is not None else None, d.units[u].code if u is not None else None, d.years[y] if y is not None else None)

    def report(i, summary):
        r = rows[i]
        task, unit, year = where(r)
        inc, dec = ranging(r)
        sp = float(shadow[i]) if dual is not None else None
        n_bind = int(binding.sum())
        msg = _sentence(d, obj, grp, sp, task, unit, year, bool(binding[i]), float(slack[i] * rs), money, n_bind if summary else None, rows.size)
        return ConstraintReport(
            name=grp.name,
            kind=grp.kind,
            task=task,
            unit=unit,
            year=year,
            value=_r(act[i] * rs),
            bound=_r(bound[i] * rs),
            binding=bool(binding[i]),
            slack=_r(slack[i] * rs),
            shadow_price=_r(sp) if sp is not None else None,
            allowable_increase=_r(inc),
            allowable_decrease=_r(dec),
            msg=msg,
        )

    if rows.size == 1:
        return [report(0, False)]
    rep = int(np.lexsort((np.arange(rows.size), slack, -np.abs(shadow)))[0])
    out = [report(rep, True)]
    order = np.lexsort((np.arange(rows.size), -np.abs(shadow)))
    order = order[binding[order] & (shadow[order] != 0)]
    out += [report(int(i), False) for i in order[:MAX_ROWS_PER_GROUP]]
    return out


def _bound_reports(d: Data, solved, g: int, x: np.ndarray, obj) -> list[ConstraintReport]:
    grp = d.groups[g]
    _T, Y, U = d.shape
    lo, hi = d.lo.ravel(), d.hi.ravel()
    funded = np.repeat((d.B > 0).ravel(), U)
    is_lo = (d.lo_src.ravel() == g) & funded
    is_hi = (d.hi_src.ravel() == g) & (funded | (grp.kind == "earmark"))
    cells = np.flatnonzero(is_lo | is_hi)
    if not cells.size:
        return []
    use_hi = is_hi[cells] & ~is_lo[cells]
    bound = np.where(use_hi, hi[cells], lo[cells])
    val = x[cells]
    slack = np.abs(val - bound)
    binding = slack <= 1e-6 * np.maximum(1.0, np.abs(bound)) + 1e-3
    dual = np.zeros(cells.size)
    has_duals = solved is not None and solved.duals is not None
    if has_duals and solved.duals.col_dual is not None:
        dual = np.where(binding, solved.duals.col_dual[solved.duals_lay.x[cells]], 0.0)
    shadow = (solved.sign * dual * solved.scale * TRIEU / d.M) if solved is not None else dual
    shadow = np.where(np.abs(shadow) < 1e-9, 0.0, shadow)

    def report(i, summary):
        k = int(cells[i])
        ty, u = divmod(k, U)
        t, y = divmod(ty, Y)
        sp = float(shadow[i]) if has_duals else None
        msg = _sentence(d, obj, grp, sp, d.tasks[t].code, d.units[u].code, d.years[y], bool(binding[i]), float(slack[i]), True,
                           int(binding.sum()) if summary else None, cells.size)
        return ConstraintReport(
            name=grp.name, kind=grp.kind, task=d.tasks[t].code, unit=d.units[u].code, year=d.years[y],
            value=_r(val[i]), bound=_r(bound[i]), binding=bool(binding[i]), slack=_r(slack[i]),
            shadow_price=_r(sp) if sp is not None else None, msg=msg,
        )

    strength = np.abs(shadow)
    # the representative: the strongest shadow price, then the smallest slack, then cell order
    top = np.flatnonzero(strength == strength.max())
    rep = int(top[np.argmin(slack[top])])  # argmin: the first (earliest) of equal slacks
    out = [report(rep, True)]
    priced = np.flatnonzero(binding & (shadow != 0))
    priced = priced[priced != rep]
    order = priced[np.lexsort((priced, -strength[priced]))]
    out += [report(int(i), False) for i in order[:MAX_ROWS_PER_GROUP]]
    return out


def _effect(obj: Objective, sp: float | None) -> Msg | None:
    if sp is None or obj.label is None:
        return None
    sp = _r(sp) or 0.0
    if sp == 0:
        return Msg("alloc.effect.none", objective=obj.label)
    direction = "up" if sp > 0 else "down"
    if obj.money:
        return Msg(f"alloc.effect.{direction}_money", objective=obj.label, amount=round(abs(sp)))
    return Msg(f"alloc.effect.{direction}_number", objective=obj.label, amount=abs(sp))


def _sentence(d: Data, obj: Objective, grp, sp, task, unit, year, binding, slack, money, n_binding, n_total) -> Msg:
    tname = d.task_labels.get(task, "") if task else ""
    uname = d.unit_names.get(unit, "") if unit else ""
    per = Msg("alloc.explain.per_money") if money else Msg("alloc.explain.per_item")
    effect = _effect(obj, sp)
    if grp.kind == ConstraintKind.BUDGET:
        if effect is None:
            return Msg("alloc.explain.budget_full", task=tname, year=year)
        return Msg("alloc.explain.budget_shadow", per=per, task=tname, year=year, effect=effect)
    count: Msg | str = Msg("alloc.explain.count", binding=n_binding, total=n_total) if n_binding is not None and n_total > 1 else ""
    if binding:
        where = place(uname, tname, year)
        return Msg(
            "alloc.explain.binding",
            name=grp.name,
            count=count,
            where=Msg("alloc.explain.at", place=where) if where else "",
            effect=Msg("alloc.explain.raise", per=per, effect=effect) if effect is not None else "",
        )
    if money:
        return Msg("alloc.explain.slack_money", name=grp.name, count=count, slack=round(slack))
    return Msg("alloc.explain.slack_items", name=grp.name, count=count, slack=slack)


def constraint_reports(d: Data, x: np.ndarray, solved) -> list[ConstraintReport]:
    obj = objective_labels(d)
    out: list[ConstraintReport] = []
    if solved is None:  # proportional: no duals; bounds only
        for g, grp in enumerate(d.groups):
            if grp.constraint is not None and kind_of(grp.constraint).bounds:  # type: ignore[arg-type]
                out += _bound_reports(d, None, g, x, obj)
        return out
    fin = _RowView(solved.final_lp, solved.final_lay, solved.final)
    dual = _RowView(solved.duals_lp, solved.duals_lay, solved.duals) if solved.duals is not None else None
    # each group's rows, in row order (a stable sort: national models have ~10⁶ rows)
    order = np.argsort(fin.group, kind="stable")
    present, first = np.unique(fin.group[order], return_index=True)
    by_group = dict(zip(present.tolist(), np.split(order, first[1:]), strict=True)) if order.size else {}
    for g, grp in enumerate(d.groups):
        if grp.kind in ("coverage", "outcome", "target_unit"):
            continue
        if grp.constraint is not None and kind_of(grp.constraint).bounds:  # type: ignore[arg-type]
            out += _bound_reports(d, solved, g, x, obj)
        elif g in by_group:
            out += _row_reports(d, solved, g, by_group[g], fin, dual, grp.kind != "target", obj, x)
    return out


def attainment(d: Data, cells: np.ndarray) -> list[TargetAttainment]:
    out = []
    for i, ts in enumerate(d.targets):
        funded = float(ts.funded(funding(d, ts, cells)).sum())
        short = max(0.0, ts.required - funded)
        met = short <= 1e-9 * max(1.0, ts.required)
        t = ts.target
        name = t.name if t else ts.constraint.name
        shown = Named(name, t.name_en if t else "")
        params = dict(target=ts.constraint.target, name=shown, required=ts.required, unit=(t.unit if t and t.unit else ""),
                      funded=funded, cost=int(ts.constraint.unit_cost))
        prefix = "alloc.attainment.whole_" if ts.whole else "alloc.attainment.costed_"
        msg = Msg(prefix + "met", **params) if met else Msg(prefix + "short", **params, short=short)
        note = d.whole.get(i)
        if isinstance(note, WholeNote):
            msg = _whole_note(d, note, msg, params)
        out.append(TargetAttainment(target=ts.constraint.target, name=name, year=ts.year_label, required=_r(ts.required), funded=_r(funded),
                                    shortfall=_r(0.0 if met else short), met=met, whole=ts.whole, msg=msg))
    costed = {ts.constraint.target for ts in d.targets}
    for t in d.plan.targets:
        if t.code in costed:
            continue
        last = max(t.values) if t.values else None
        required = float(t.values[last]) - float(t.baseline or 0.0) if last is not None else 0.0
        required = max(required, 0.0)
        ti = next((i for i, task in enumerate(d.tasks) if task.code == t.task), None)
        money = int(cells[ti].sum()) if ti is not None else 0
        met = money > 0 or required == 0
        task = Msg("alloc.attainment.task", task=t.task) if t.task else Msg("alloc.attainment.no_task")
        params = dict(target=t.code, name=Named(t.name, t.name_en), task=task, money=money)
        msg = Msg("alloc.attainment.uncosted_met" if met else "alloc.attainment.uncosted_short", **params)
        out.append(TargetAttainment(target=t.code, name=t.name, year=last, required=_r(required), funded=_r(required if met else 0.0),
                                    shortfall=_r(0.0 if met else required), met=met, msg=msg, costed=False))
    return out


def _whole_note(d: Data, note: WholeNote, msg: Msg, params: dict) -> Msg:
    """The attainment line of a whole target, followed by what the whole-number stage did."""
    if note.failed:
        return Msg("alloc.join.sentences", first=msg, second=Msg("alloc.attainment.whole_failed", **params))
    if note.raised:
        units = [Named(d.units[u].name, getattr(d.units[u], "name_en", "") or "") for u in note.raised]
        extra = Msg("alloc.attainment.whole_raised_mip" if note.by_mip else "alloc.attainment.whole_raised", **params,
                    continuous=note.continuous, before=note.whole, units=units)
        return Msg("alloc.join.sentences", first=msg, second=extra)
    if note.continuous - note.whole > 1e-6:
        return Msg("alloc.join.sentences", first=msg, second=Msg("alloc.attainment.whole_fraction", **params, continuous=note.continuous))
    return msg


def rounding_residuals(d: Data, cells: np.ndarray) -> list[Msg]:
    """Coupling constraints checked on the integer amounts (rounding can move them by < 1 unit per cell)."""
    out: list[Msg] = []
    for r in d.row_specs:
        out += r.kind.rounded_violations(d, r.constraint, r.group, r.spec, cells)
    return out


def closed_form_objective(d: Data) -> float | None:
    """The objective of an LP policy solved without an LP (the reference share is optimal)."""
    if d.policy.kind is PolicyKind.MIN_DEVIATION:
        return 0.0
    if d.policy.kind is PolicyKind.MAX_MIN:
        return 1.0 if covered_cells(d).size else 0.0
    if d.policy.kind is PolicyKind.MAX_OUTCOME:
        return reference_outcome(d)
    return None


def explanations(d: Data, solved, reports, att, cells, searched: int = 0, moved: int = 0) -> list[Msg]:
    policy = d.policy
    obj = objective_labels(d)
    if not d.years:
        years = Msg("alloc.join.none")
    elif d.years[0] == d.years[-1]:
        years = Msg("alloc.join.one_year", year=d.years[0])
    else:
        years = Msg("alloc.join.years", first=d.years[0], last=d.years[-1])
    notes = [Msg("alloc.explain.policy", policy=Msg(f"policy.{policy.kind.value}"), units=len(d.units),
                 level=Msg(f"alloc.level.{policy.level}"), tasks=len(d.tasks), years=years)]
    if solved is not None:
        v = solved.objective
        if obj.money:
            notes.append(Msg("alloc.explain.objective_money", label=obj.label, value=round(v)))
        else:
            notes.append(Msg("alloc.explain.objective_number", label=obj.label, value=float(v)))
        if solved.duals is None:
            notes.append(Msg("alloc.explain.bisection"))
        elif solved.duals.row_up is None and solved.duals_lp is not None and solved.duals_lp.quadratic:
            notes.append(Msg("alloc.explain.quadratic_duals"))
        if solved.final_lp.quadratic and solved.final.solver == "highspy-l1":
            notes.append(Msg("alloc.explain.l1_fallback"))
        elif solved.final_lp.quadratic and solved.final.solver == "clarabel-projected":
            notes.append(Msg("alloc.explain.projected"))
        elif solved.final_lp.quadratic:
            stage = "fair" if policy.kind is PolicyKind.MIN_DEVIATION else "tiebreak"
            notes.append(Msg(f"alloc.explain.{stage}_{'relative' if policy.deviation == 'relative' else 'absolute'}"))
    elif policy.kind is PolicyKind.PROPORTIONAL:
        skipped = [c for c in policy.constraints if kind_of(c).coupling]
        notes += [Msg("alloc.explain.not_applied", name=c.name) for c in skipped]
    else:  # an LP policy whose optimum is the reference share itself (no coupling row binds)
        value = closed_form_objective(d)
        if value is not None:
            notes.append(Msg("alloc.explain.objective_number", label=obj.label, value=value))
        notes.append(Msg("alloc.explain.reference_optimal"))
        notes += [Msg("alloc.explain.slack_at_reference", name=c.name) for c in policy.constraints if kind_of(c).coupling]
    budget = [r for r in reports if r.kind == ConstraintKind.BUDGET and r.shadow_price]
    budget.sort(key=lambda r: (-abs(r.shadow_price), r.task or "", r.year or 0))
    notes += [r.msg for r in budget[:3] if r.msg is not None]
    seen = set()
    for r in reports:
        if r.kind == ConstraintKind.BUDGET or r.name in seen:
            continue
        seen.add(r.name)
        if r.msg is not None:
            notes.append(r.msg)
    notes += [a.msg for a in att if a.msg is not None]
    notes.append(Msg("alloc.explain.rounding", unit=int(policy.rounding_unit)))
    if searched:
        notes.append(Msg("alloc.explain.rounding_whole", unit=int(policy.rounding_unit), cells=searched))
    if moved:
        notes.append(Msg("alloc.explain.rounding_searched", unit=int(policy.rounding_unit), cells=moved))
    notes += rounding_residuals(d, cells)
    return notes


def build_allocation(d: Data, amounts: np.ndarray, cells: np.ndarray, x: np.ndarray, solved, *, searched: int = 0, moved: int = 0) -> Allocation:
    reports = constraint_reports(d, x, solved)
    att = attainment(d, cells)
    notes = explanations(d, solved, reports, att, cells, searched, moved)
    solver = version = ""
    if solved is not None:
        solver, version = solved.final.solver, solved.final.version
        first = solved.duals
        if first is not None and first is not solved.final and first.solver != solved.final.solver:
            # a lexicographic policy: stage 1 (an LP) and the fair stage 2 (a QP) by different solvers
            solver, version = f"{first.solver}+{solver}", f"{first.version}+{version}"
    return Allocation(
        status=AllocationStatus.OPTIMAL,
        amounts=amounts,
        **allocation_identity(d),
        objective=_r(solved.objective) if solved is not None else closed_form_objective(d),
        objective_label=objective_labels(d).label,
        constraints=tuple(reports),
        attainment=tuple(att),
        notes=tuple(notes),
        solver=solver or "closed-form",
        solver_version=version,
    )


def allocation_identity(d: Data) -> dict:
    """The fields every Allocation of ``d`` shares, solved or not: labels, names, baseline, rounding."""
    return dict(
        plan_code=d.plan.program.code,
        policy=str(d.policy.kind),
        units=tuple(u.code for u in d.units),
        tasks=tuple(t.code for t in d.tasks),
        years=tuple(d.years),
        sources=tuple(s.code for s in d.sources),
        baseline=np.transpose(d.p, (2, 0, 1)).copy(),
        reference=np.transpose(d.ref, (2, 0, 1)).copy(),
        rounding_unit=d.policy.rounding_unit,
        unit_names=dict(d.unit_names),
        task_names=dict(d.task_names),
        source_names={s.code: s.name for s in d.sources},
    )

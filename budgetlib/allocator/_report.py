"""Answer/Sensitivity report, target attainment and plain-language explanations of an allocation."""

from __future__ import annotations

import numpy as np

from ..core.money import format_amount
from ..model.policy import DeviationWeighting, PolicyKind, StabilityConstraint, AbsorptionConstraint, TargetConstraint
from ..model.result import Allocation, AllocationStatus, ConstraintReport, TargetAttainment
from ._data import Data
from ._model import M

MAX_ROWS_PER_GROUP = 5
"""Binding rows reported individually for each named constraint (the group row summarises all)."""


def _r(v: float | None) -> float | None:
    """Round for stable JSON: 9 significant digits, no negative zero, inf → None."""
    if v is None or not np.isfinite(v):
        return None
    out = float(f"{float(v):.9g}")
    return 0.0 if out == 0 else out


def _num(v: float, lang: str) -> str:
    text = f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".") if lang == "vi" else text


def objective_labels(d: Data) -> tuple[str, str, str, str]:
    """(label vi, label en, unit vi, unit en) of the policy's objective."""
    kind = d.policy.kind
    if kind is PolicyKind.MIN_DEVIATION:
        if d.policy.deviation is DeviationWeighting.RELATIVE:
            return ("tổng độ lệch tương đối so với phần theo nhu cầu", "total relative deviation from the need-based shares", "", "")
        return ("tổng độ lệch so với phần theo nhu cầu", "total deviation from the need-based shares", "đồng", "VND")
    if kind is PolicyKind.MAX_MIN:
        return ("mức bao phủ thấp nhất (tỷ lệ so với phần theo nhu cầu)", "lowest coverage (ratio to the need-based share)", "", "")
    if kind is PolicyKind.MAX_OUTCOME:
        outs = ", ".join(c.outcome or c.task for c in d.policy.response_curves) or "—"
        return (f"tổng kết quả ({outs})", f"total outcome ({outs})", "", "")
    return ("phân bổ theo tỷ lệ nhu cầu (không có hàm mục tiêu)", "need-proportional split (no objective)", "", "")


class _RowView:
    """Rows of an LP in natural LP units (constant offsets of form dev added back)."""

    def __init__(self, lp, lay, sol):
        self.group = lp.row_group
        self.elem = lp.row_elem
        const = lay.row_const
        self.lo = (np.concatenate(lp._rlo) if lp._rlo else np.zeros(0)) + const
        self.hi = (np.concatenate(lp._rhi) if lp._rhi else np.zeros(0)) + const
        self.act = (sol.row_value + const) if sol.row_value is not None else None
        self.dual = sol.row_dual
        self.up, self.dn = sol.row_up, sol.row_dn
        self.lp_lo = self.lo - const
        self.lp_hi = self.hi - const


def _row_reports(d: Data, solved, g: int, rows: np.ndarray, fin: _RowView, dual: _RowView, money: bool, obj, x: np.ndarray) -> list[ConstraintReport]:
    grp = d.groups[g]
    T, Y, U = d.shape
    rs = M if money else 1.0
    act = fin.act[rows].copy()
    lo, hi = fin.lo[rows], fin.hi[rows]
    if grp.kind == "target":
        # Σc in the LP is only a lower bound on what the money buys: report the fundable maximum
        ts = next(t for t in d.targets if t.group == g)
        T_, Y_, U_ = d.shape
        ys = np.asarray(ts.years, np.int64)
        funding = x.reshape(T_, Y_, U_)[ts.task][ys].sum(axis=0) if ys.size else np.zeros(U_)
        act[:] = float(np.minimum(ts.capacity, funding / ts.constraint.unit_cost).sum())
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
    shadow = solved.sign * duals * solved.scale
    shadow = np.where(np.abs(shadow) < 1e-9, 0.0, shadow)

    def ranging(r):
        if dual is None or dual.up is None or r >= dual.up.size:
            return None, None
        b = dual.lp_lo[r] if np.isfinite(dual.lp_lo[r]) else dual.lp_hi[r]
        return (dual.up[r] - b) * rs, (b - dual.dn[r]) * rs

    def where(r):
        e = int(fin.elem[r])
        t = u = y = None
        if grp.kind == "budget":
            t, y = divmod(e, Y)
        elif grp.kind == "absorption":
            y, u = divmod(e, U)
        elif grp.kind == "stability" and e >= 0:
            ty, u = divmod(e, U)
            t, y = divmod(ty, Y)
        elif grp.kind == "target_unit":
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
        vi, en = _sentence(d, obj, grp, sp, task, unit, year, bool(binding[i]), float(slack[i] * rs), money, n_bind if summary else None, rows.size)
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
            explanation_vi=vi,
            explanation_en=en,
        )

    if rows.size == 1:
        return [report(0, False)]
    rep = int(np.lexsort((np.arange(rows.size), slack, -np.abs(shadow)))[0])
    out = [report(rep, True)]
    order = [int(i) for i in np.lexsort((np.arange(rows.size), -np.abs(shadow))) if binding[i] and shadow[i] != 0]
    out += [report(i, False) for i in order[:MAX_ROWS_PER_GROUP]]
    return out


def _bound_reports(d: Data, solved, g: int, x: np.ndarray, obj) -> list[ConstraintReport]:
    grp = d.groups[g]
    T, Y, U = d.shape
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
        lay, cd = solved.duals_lay, solved.duals.col_dual
        if lay.form == "x":
            dual = cd[lay.x[cells]]
        else:
            p = d.p.ravel()[cells]
            dp, dn = cd[lay.dp[cells]], cd[lay.dn[cells]]
            dual = np.where(bound > p, dp, 0.0) - np.where(bound < p, dn, 0.0)
        dual = np.where(binding, dual, 0.0)
    shadow = (solved.sign * dual * solved.scale) if solved is not None else dual
    shadow = np.where(np.abs(shadow) < 1e-9, 0.0, shadow)

    def report(i, summary):
        k = int(cells[i])
        ty, u = divmod(k, U)
        t, y = divmod(ty, Y)
        sp = float(shadow[i]) if has_duals else None
        vi, en = _sentence(d, obj, grp, sp, d.tasks[t].code, d.units[u].code, d.years[y], bool(binding[i]), float(slack[i]), True,
                           int(binding.sum()) if summary else None, cells.size)
        return ConstraintReport(
            name=grp.name, kind=grp.kind, task=d.tasks[t].code, unit=d.units[u].code, year=d.years[y],
            value=_r(val[i]), bound=_r(bound[i]), binding=bool(binding[i]), slack=_r(slack[i]),
            shadow_price=_r(sp) if sp is not None else None, explanation_vi=vi, explanation_en=en,
        )

    rep = int(np.lexsort((np.arange(cells.size), slack, -np.abs(shadow)))[0])
    out = [report(rep, True)]
    order = [int(i) for i in np.lexsort((np.arange(cells.size), -np.abs(shadow))) if binding[i] and shadow[i] != 0 and i != rep]
    out += [report(i, False) for i in order[:MAX_ROWS_PER_GROUP]]
    return out


def _sentence(d: Data, obj, grp, sp, task, unit, year, binding, slack, money, n_binding, n_total) -> tuple[str, str]:
    lab_vi, lab_en, unit_vi, unit_en = obj
    tname = d.plan.task(task).name if task else ""
    uname = next((u.name for u in d.units if u.code == unit), "") if unit else ""
    where_vi = ", ".join(s for s in (uname, tname, f"năm {year}" if year else "") if s)
    where_en = ", ".join(s for s in (uname, tname, str(year) if year else "") if s)
    per_vi, per_en = ("1 triệu đồng", "1 million VND") if money else ("1 đơn vị chỉ tiêu", "1 unit of the target")

    def effect(lang):
        if sp is None:
            return ""
        if sp == 0:
            return "không làm thay đổi " + lab_vi if lang == "vi" else "leaves the " + lab_en + " unchanged"
        up = sp > 0
        amount = _num(abs(sp), lang) + (" " + (unit_vi if lang == "vi" else unit_en) if (unit_vi if lang == "vi" else unit_en) else "")
        if lang == "vi":
            return f"làm {lab_vi} {'tăng' if up else 'giảm'} {amount}"
        return f"{'raises' if up else 'lowers'} the {lab_en} by {amount}"

    if grp.kind == "budget":
        if sp is None:
            return (f"Ngân sách {tname} năm {year} được chia hết.", f"The {tname} budget for {year} is fully allocated.")
        return (f"Thêm {per_vi} cho {tname} năm {year} sẽ {effect('vi')}.", f"Adding {per_en} to {tname} in {year} {effect('en')}.")
    count_vi = f" ({n_binding}/{n_total} ô đang chặt)" if n_binding is not None and n_total > 1 else ""
    count_en = f" ({n_binding} of {n_total} cells binding)" if n_binding is not None and n_total > 1 else ""
    if binding:
        vi = f"Ràng buộc «{grp.name}» đang chặt{count_vi}" + (f" tại {where_vi}" if where_vi else "")
        en = f"Constraint “{grp.name}” is binding{count_en}" + (f" at {where_en}" if where_en else "")
        if sp is not None:
            vi += f"; nâng giới hạn này thêm {per_vi} sẽ {effect('vi')}"
            en += f"; raising this bound by {per_en} {effect('en')}"
        return vi + ".", en + "."
    s_vi = format_amount(int(round(slack))) if money else _num(slack, "vi")
    s_en = format_amount(int(round(slack)), lang="en") if money else _num(slack, "en")
    return (f"Ràng buộc «{grp.name}» chưa chặt{count_vi}: còn dư ít nhất {s_vi}.", f"Constraint “{grp.name}” is not binding{count_en}: at least {s_en} of room.")


def constraint_reports(d: Data, x: np.ndarray, solved) -> list[ConstraintReport]:
    obj = objective_labels(d)
    out: list[ConstraintReport] = []
    if solved is None:  # proportional: no duals; bounds only
        for g, grp in enumerate(d.groups):
            if grp.kind in ("floor", "cap", "earmark", "eligibility"):
                out += _bound_reports(d, None, g, x, obj)
        return out
    fin = _RowView(solved.final_lp, solved.final_lay, solved.final)
    dual = _RowView(solved.duals_lp, solved.duals_lay, solved.duals) if solved.duals is not None else None
    by_group: dict[int, list[int]] = {}
    for r, g in enumerate(fin.group.tolist()):
        by_group.setdefault(g, []).append(r)
    for g, grp in enumerate(d.groups):
        if grp.kind in ("coverage", "outcome", "target_unit"):
            continue
        if grp.kind in ("floor", "cap", "earmark", "eligibility"):
            out += _bound_reports(d, solved, g, x, obj)
        elif g in by_group:
            out += _row_reports(d, solved, g, np.array(by_group[g]), fin, dual, grp.kind != "target", obj, x)
    return out


def attainment(d: Data, cells: np.ndarray) -> list[TargetAttainment]:
    out = []
    for ts in d.targets:
        ys = np.asarray(ts.years, np.int64)
        funding = cells[ts.task][ys].sum(axis=0).astype(float) if ys.size else np.zeros(len(d.units))
        funded = float(np.minimum(ts.capacity, funding / ts.constraint.unit_cost).sum())
        short = max(0.0, ts.required - funded)
        met = short <= 1e-9 * max(1.0, ts.required)
        t = ts.target
        name = t.name if t else ts.constraint.name
        unit = (t.unit if t and t.unit else "")
        vi = (f"Chỉ tiêu {ts.constraint.target} «{name}»: cần thêm {ts.required:g} {unit}, phân bổ tài trợ được "
              f"{_num(funded, 'vi')} (chi phí {format_amount(ts.constraint.unit_cost)} mỗi đơn vị) — "
              + ("đạt." if met else f"còn thiếu {_num(short, 'vi')}."))
        en = (f"Target {ts.constraint.target} “{t.name_en or name if t else name}”: {ts.required:g} more {unit} needed, the allocation funds "
              f"{_num(funded, 'en')} (at {format_amount(ts.constraint.unit_cost, lang='en')} each) — "
              + ("met." if met else f"short by {_num(short, 'en')}."))
        out.append(TargetAttainment(target=ts.constraint.target, name=name, year=ts.year_label, required=_r(ts.required), funded=_r(funded),
                                    shortfall=_r(0.0 if met else short), met=met, note_vi=vi, note_en=en))
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
        task_vi = f"nhiệm vụ {t.task}" if t.task else "không gắn nhiệm vụ"
        vi = (f"Chỉ tiêu {t.code} «{t.name}»: chưa có định mức chi phí (ràng buộc chỉ tiêu) nên chỉ kiểm tra {task_vi} có kinh phí "
              f"({format_amount(money)}) — " + ("coi là đạt." if met else "không có kinh phí."))
        en = (f"Target {t.code} “{t.name_en or t.name}”: no unit cost (target constraint) is given, so only whether task {t.task or '—'} has money "
              f"({format_amount(money, lang='en')}) is checked — " + ("counted as met." if met else "it has none."))
        out.append(TargetAttainment(target=t.code, name=t.name, year=last, required=_r(required), funded=_r(required if met else 0.0),
                                    shortfall=_r(0.0 if met else required), met=met, note_vi=vi, note_en=en, costed=False))
    return out


def _rounding_residuals(d: Data, cells: np.ndarray) -> list[tuple[str, str]]:
    """Coupling constraints checked on the integer amounts (rounding can move them by < 1 unit per cell)."""
    out = []
    T, Y, U = d.shape
    for g, us, ys, cap in d.absorption:
        if us.size and ys.size:
            tot = cells[:, ys][:, :, us].sum(axis=0)  # [Y', U']
            excess = float((tot - cap[None, :]).max())
            if excess > 0:
                out.append((f"Sau làm tròn, «{d.groups[g].name}» bị vượt tối đa {format_amount(int(excess))}.",
                            f"After rounding, “{d.groups[g].name}” is exceeded by at most {format_amount(int(excess), lang='en')}."))
    return out


def explanations(d: Data, solved, reports, att, cells) -> tuple[list[str], list[str]]:
    policy = d.policy
    lab_vi, lab_en, unit_vi, unit_en = objective_labels(d)
    level_vi = "xã, phường, thị trấn" if policy.level == "commune" else "quận, huyện"
    years = f"{d.years[0]}–{d.years[-1]}" if d.years else "—"
    vi = [f"Chính sách: {policy.kind.label_vi}; phân bổ cho {len(d.units)} {level_vi}, {len(d.tasks)} nhiệm vụ, {years}."]
    en = [f"Policy: {policy.kind.value}; {len(d.units)} {policy.level} units, {len(d.tasks)} tasks, {years}."]
    if solved is not None:
        v = solved.objective
        shown_vi = format_amount(int(round(v))) if unit_vi == "đồng" else _num(v, "vi")
        shown_en = format_amount(int(round(v)), lang="en") if unit_en == "VND" else _num(v, "en")
        vi.append(f"Giá trị mục tiêu ({lab_vi}): {shown_vi}.")
        en.append(f"Objective ({lab_en}): {shown_en}.")
        if solved.duals is None:
            vi.append("Mô hình lớn: mức bao phủ thấp nhất được tìm bằng phương pháp chia đôi (sai số tương đối 10⁻⁷), "
                      "nên không có giá đối ngẫu (giá bóng) của bước này.")
            en.append("Large model: the minimum coverage was found by bisection (relative tolerance 10⁻⁷), "
                      "so this stage has no shadow prices.")
    else:
        skipped = [c for c in policy.constraints if isinstance(c, (AbsorptionConstraint, StabilityConstraint, TargetConstraint))]
        for c in skipped:
            vi.append(f"Ràng buộc «{c.name}» không áp dụng được cho chính sách theo tỷ lệ (mỗi nhiệm vụ – năm được chia riêng); "
                      "hãy dùng chính sách min_deviation để áp dụng ràng buộc này.")
            en.append(f"Constraint “{c.name}” does not apply to the proportional policy (each task-year is split on its own); "
                      "use the min_deviation policy to enforce it.")
    budget = [r for r in reports if r.kind == "budget" and r.shadow_price]
    budget.sort(key=lambda r: (-abs(r.shadow_price), r.task or "", r.year or 0))
    for r in budget[:3]:
        vi.append(r.explanation_vi)
        en.append(r.explanation_en)
    seen = set()
    for r in reports:
        if r.kind in ("budget",) or r.name in seen:
            continue
        seen.add(r.name)
        vi.append(r.explanation_vi)
        en.append(r.explanation_en)
    for a in att:
        vi.append(a.note_vi)
        en.append(a.note_en)
    ru = policy.rounding_unit
    vi.append(f"Số tiền làm tròn đến {format_amount(ru)}; tổng từng nhiệm vụ – năm – nguồn khớp đúng đến từng đồng.")
    en.append(f"Amounts are rounded to {format_amount(ru, lang='en')}; every task-year-source total reconciles to the đồng.")
    for a, b in _rounding_residuals(d, cells):
        vi.append(a)
        en.append(b)
    return vi, en


def build_allocation(d: Data, amounts: np.ndarray, cells: np.ndarray, x: np.ndarray, solved) -> Allocation:
    reports = constraint_reports(d, x, solved)
    att = attainment(d, cells)
    vi, en = explanations(d, solved, reports, att, cells)
    lab_vi, lab_en, _, _ = objective_labels(d)
    solver = version = ""
    if solved is not None:
        solver, version = solved.final.solver, solved.final.version
    return Allocation(
        status=AllocationStatus.OPTIMAL,
        amounts=amounts,
        **allocation_identity(d),
        objective=_r(solved.objective) if solved is not None else None,
        objective_label_vi=lab_vi,
        objective_label_en=lab_en,
        constraints=tuple(reports),
        attainment=tuple(att),
        explanation_vi=tuple(vi),
        explanation_en=tuple(en),
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
        rounding_unit=d.policy.rounding_unit,
        unit_names={u.code: u.name for u in d.units},
        task_names={t.code: t.name for t in d.tasks},
        source_names={s.code: s.name for s in d.sources},
    )

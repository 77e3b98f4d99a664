"""``allocate(plan, policy)``: split every task-year budget across units; infeasibility is data.

Pipeline: validate → arrays (:mod:`._data`) → pre-checks (:mod:`._diagnose`) → LP or closed-form
water-filling → integer rounding and source split (:mod:`._rounding`) → reports, target
attainment and plain-language explanations (:mod:`._report`). The mathematics is in
``docs/allocation.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.i18n import Msg, tr
from ..core.lang import Lang
from ..core.money import ApportionError
from ..core.money import capped_proportional as water_fill
from ..core.problems import PlanInvalid, Severity
from ..model.plan import Plan
from ..model.policy import AllocationPolicy, DeviationWeighting, PolicyKind
from ..model.result import Allocation, AllocationStatus, Conflict, ConstraintKind, Diagnosis, DiagnosisMethod
from ..planning.validation import validate_plan
from . import _maxmin, _report
from ._data import Data, build_data
from ._diagnose import diagnose_lp, precheck
from ._lp import LP, Solution, highs_version, solve
from ._model import Builder, Layout, M, covered_cells
from ._rounding import round_cells, to_amounts

__all__ = ["allocate"]

Progress = Callable[[int, int, Msg], None]
"""``progress(done, total, message)``; ``message`` is a :class:`~budgetlib.core.i18n.Msg` (render it
in the user's language)."""
_LEXI_TOLERANCES = (1e-7, 1e-5, 1e-3)


def _check(plan: Plan, policy: AllocationPolicy) -> None:
    checked = plan if plan.allocation == policy else plan.model_copy(update={"allocation": policy})
    errors = [p for p in validate_plan(checked) if p.severity is Severity.ERROR]
    if errors:
        raise PlanInvalid(errors)


def resolve_policy(plan: Plan, policy: AllocationPolicy | None) -> AllocationPolicy:
    chosen = policy if policy is not None else (plan.allocation if plan.allocation is not None else AllocationPolicy())
    # re-validate: a policy made with model_copy(update=…) skips pydantic's coercion
    return AllocationPolicy.model_validate({name: getattr(chosen, name) for name in AllocationPolicy.model_fields})


def allocate(
    plan: Plan,
    policy: AllocationPolicy | None = None,
    *,
    years: list[int] | None = None,
    progress: Progress | None = None,
    backend: str = "auto",
) -> Allocation:
    """Allocate the plan's task budgets across its units under ``policy``.

    ``policy`` defaults to ``plan.allocation``, else a min-deviation district policy; ``years``
    restricts the allocation to some years of the program. ``backend`` chooses how the LP reaches
    HiGHS: ``"pulp"`` (PuLP objects, ``pulp.HiGHS``), ``"highspy"`` (numpy arrays straight into
    highspy) or ``"auto"`` (PuLP for small models, highspy for large ones). ``policy.solver="cbc"``
    solves with PuLP's CBC instead.

    Never raises for infeasibility: returns ``status=INFEASIBLE`` with a :class:`Diagnosis`.
    Raises :class:`~budgetlib.PlanInvalid` when the plan itself has errors.
    """
    policy = resolve_policy(plan, policy)
    steps = 5
    tick = progress or (lambda i, n, msg: None)
    tick(0, steps, Msg("alloc.progress.validating"))
    _check(plan, policy)
    d = build_data(plan, policy, years)
    tick(1, steps, Msg("alloc.progress.prechecks"))
    proportional = policy.kind is PolicyKind.PROPORTIONAL
    diag = precheck(d, proportional=proportional)
    if diag is not None:
        tick(steps, steps, Msg("alloc.progress.infeasible"))
        return _infeasible(d, diag, "")
    tick(2, steps, Msg("alloc.progress.solving"))
    if proportional:
        x, diag = _proportional(d)
        solved = None
        if diag is not None:
            return _infeasible(d, diag, "")
    else:
        solved = _solve_lp(d, backend)
        if isinstance(solved, Diagnosis):
            tick(steps, steps, Msg("alloc.progress.infeasible"))
            return _infeasible(d, solved, "highs")
        x = solved.x
    tick(3, steps, Msg("alloc.progress.rounding"))
    cells = round_cells(d, x, policy.rounding_unit)
    amounts = to_amounts(d, cells, policy.rounding_unit)
    tick(4, steps, Msg("alloc.progress.explaining"))
    alloc = _report.build_allocation(d, amounts, cells, x, solved)
    tick(steps, steps, Msg("alloc.progress.done"))
    return alloc


@dataclass(frozen=True)
class Solved:
    """LP outcome: the final cell amounts, the solution they come from, and the solution whose duals
    are reported (stage 1 of a lexicographic policy; ``None`` when a stage has no duals)."""

    x: np.ndarray
    objective: float
    final: Solution
    final_lay: Layout
    final_lp: LP
    duals: Solution | None
    duals_lay: Layout | None
    duals_lp: LP | None
    sign: int  # +1: objective minimised as is; −1: maximised (the LP minimises −objective)
    scale: float  # reported objective per LP objective unit


def _proportional(d: Data) -> tuple[np.ndarray, Diagnosis | None]:
    T, Y, U = d.shape
    x = np.zeros((T, Y, U))
    lo, hi = d.lo, d.hi
    for t in range(T):
        for y in range(Y):
            if d.B[t, y] > 0:
                try:
                    x[t, y] = water_fill(d.B[t, y], d.w[t], lo[t, y], hi[t, y])
                except ApportionError as exc:  # pre-checks catch these; keep a located answer anyway
                    g = d.groups[int(d.budget_group[t, y])]
                    msg = Msg("alloc.diagnosis.apportion", task=d.task_labels[d.tasks[t].code], year=d.years[y], reason=exc.msg)
                    c = Conflict(name=g.name, kind=ConstraintKind.BUDGET, msg=msg, amounts={"budget": int(d.B[t, y])},
                                 names=(g.name,), locations=("budget_lines",))
                    return x.ravel(), Diagnosis(method=DiagnosisMethod.PRECHECK, msg=msg, conflicts=(c,))
    return x.ravel(), None


def _dev_builder(d: Data, lo=None) -> Builder:
    b = Builder(d, "dev", lo)
    b.common()
    b.deviation_cost(d.policy.deviation is DeviationWeighting.RELATIVE)
    return b


def _solve_lp(d: Data, backend: str):
    policy = d.policy
    relative = policy.deviation is DeviationWeighting.RELATIVE
    def run(lp, ranging=True, ipm=False):
        return solve(lp, backend=backend, solver=policy.solver, ranging=ranging, ipm=ipm)

    def infeasible() -> Diagnosis:
        b = Builder(d, "x")
        b.common()
        lp, _ = b.done()
        return diagnose_lp(d, lp)

    if policy.kind is PolicyKind.MIN_DEVIATION:
        lp, lay = _dev_builder(d).done()
        sol = run(lp)
        if sol.status == "infeasible":
            return infeasible()
        _ok(sol)
        scale = 1.0 if relative else M
        return Solved(lay.x_value(sol.col_value), sol.objective * scale, sol, lay, lp, sol, lay, lp, 1, scale)

    if policy.kind is PolicyKind.MAX_MIN:
        if policy.solver == "highs" and backend != "pulp" and covered_cells(d).size >= _maxmin.BISECTION_MIN_CELLS:
            found = _maxmin.maxmin_bisection(d, relative=relative)
            if found is None:
                return infeasible()
            z, final, lay, lp = found
            _ok(final)
            return Solved(lay.x_value(final.col_value), z, final, lay, lp, None, None, None, -1, 1.0)
        b = Builder(d, "x")
        b.common()
        b.maxmin_rows()
        lp1, lay1 = b.done()
        s1 = run(lp1, ipm=True)  # simplex stalls on the degenerate max-min stage of large models
        if s1.status == "infeasible":
            return infeasible()
        _ok(s1)
        z = -s1.objective
        covered = covered_cells(d)
        for tol in _LEXI_TOLERANCES:
            zf = max(0.0, z - tol * max(1.0, abs(z)))
            lo = d.lo.ravel().copy()
            lo[covered] = np.minimum(np.maximum(lo[covered], zf * d.p.ravel()[covered]), d.hi.ravel()[covered])
            lp2, lay2 = _dev_builder(d, lo).done()
            s2 = run(lp2, ranging=False)
            if s2.status == "optimal":
                return Solved(lay2.x_value(s2.col_value), z, s2, lay2, lp2, s1, lay1, lp1, -1, 1.0)
        return Solved(lay1.x_value(s1.col_value), z, s1, lay1, lp1, s1, lay1, lp1, -1, 1.0)

    # MAX_OUTCOME
    b = Builder(d, "x")
    b.common()
    b.outcome(sign=-1.0)
    lp1, lay1 = b.done()
    s1 = run(lp1)
    if s1.status == "infeasible":
        return infeasible()
    _ok(s1)
    best = -s1.objective
    for tol in _LEXI_TOLERANCES:
        b2 = Builder(d, "dev")
        b2.common()
        b2.outcome(sign=0.0)
        b2.outcome_floor(best - tol * max(1.0, abs(best)))
        b2.deviation_cost(relative)
        lp2, lay2 = b2.done()
        s2 = run(lp2, ranging=False)
        if s2.status == "optimal":
            return Solved(lay2.x_value(s2.col_value), best, s2, lay2, lp2, s1, lay1, lp1, -1, 1.0)
    return Solved(lay1.x_value(s1.col_value), best, s1, lay1, lp1, s1, lay1, lp1, -1, 1.0)


def _ok(sol: Solution) -> None:
    if sol.status != "optimal":  # unbounded or solver failure: a programmer error, not user data
        raise RuntimeError(tr("alloc.error.solver", Lang.EN, status=sol.status, solver=sol.solver))


def _infeasible(d: Data, diag: Diagnosis, solver: str) -> Allocation:
    T, Y, U = d.shape
    return Allocation(
        status=AllocationStatus.INFEASIBLE,
        amounts=np.zeros((U, T, Y, len(d.sources)), np.int64),
        diagnosis=diag,
        notes=(diag.msg,),
        solver=solver,
        solver_version=highs_version() if solver else "",
        **_report.allocation_identity(d),
    )

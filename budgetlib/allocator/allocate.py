"""``allocate(plan, policy)``: split every task-year budget across units; infeasibility is data.

Pipeline: validate → arrays (:mod:`._data`) → pre-checks (:mod:`._diagnose`) → LP or closed-form
water-filling → integer rounding and source split (:mod:`._rounding`) → reports, target
attainment and plain-language explanations (:mod:`._report`). The mathematics is in
``docs/allocation.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..core.i18n import Msg
from ..core.problems import PlanInvalid, Severity
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.result import Allocation, AllocationStatus, Diagnosis
from ..planning.validation import validate_plan
from . import _report
from ._data import Data, build_data
from ._diagnose import precheck
from ._lp import highs_version
from ._repair import suggest_repair
from ._rounding import repair_mip, round_cells, to_amounts
from ._whole import short_targets, whole_targets
from .policies import POLICIES
from .policies.base import Outcome, PolicyType, Solved, feasible, infeasible

__all__ = ["allocate"]

Progress = Callable[[int, int, Msg], None]
"""``progress(done, total, message)``; ``message`` is a :class:`~budgetlib.core.i18n.Msg` (render it
in the user's language)."""


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
    highspy) or ``"auto"`` (highspy; PuLP's objects cost more than the solve). ``policy.solver="cbc"``
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
    chosen = POLICIES[policy.kind]
    diag = precheck(d, proportional=not chosen.applies_coupling)
    if diag is not None:
        tick(steps, steps, Msg("alloc.progress.infeasible"))
        return _infeasible(d, _with_repair(plan, policy, diag, years, chosen.applies_coupling), "")
    tick(2, steps, Msg("alloc.progress.solving"))
    outcome = _solve(d, chosen, backend)
    if isinstance(outcome, Diagnosis):
        tick(steps, steps, Msg("alloc.progress.infeasible"))
        return _infeasible(d, _with_repair(plan, policy, outcome, years, chosen.applies_coupling), "highs" if chosen.applies_coupling else "")
    assert outcome is not None
    x, solved = outcome
    tick(3, steps, Msg("alloc.progress.rounding"))
    cells, searched, moved = _rounded(d, x, chosen.applies_coupling)
    if chosen.applies_coupling and any(ts.whole for ts in d.targets):
        # whole items funded short (in the LP amounts or after rounding): whole counts chosen and
        # the policy solved again; either way the stage records what it did for the attainment
        short = sorted(set(short_targets(d, x)) | set(short_targets(d, cells)))
        x, solved = whole_targets(d, x, solved, lambda: _resolve(d, chosen, backend), short)
        if short:
            cells, searched, moved = _rounded(d, x, True)
    amounts = to_amounts(d, cells, policy.rounding_unit)
    tick(4, steps, Msg("alloc.progress.explaining"))
    alloc = _report.build_allocation(d, amounts, cells, x, solved, searched=searched, moved=moved)
    tick(steps, steps, Msg("alloc.progress.done"))
    return alloc


def _solve(d: Data, chosen: PolicyType, backend: str, *, diagnose: bool = True) -> Outcome:
    """The policy's solution with the rounding margin on coupling rows, else without it (rounding
    may then break a row: repaired or reported); a diagnosis (or None: ``diagnose=False``) when
    the plan is infeasible."""
    d.row_margin = 2.0 * d.policy.rounding_unit if chosen.applies_coupling else 0.0
    outcome = chosen.solve(d, backend)
    if outcome is None:  # infeasible with the rounding margin
        d.row_margin = 0.0
        # HiGHS's simplex decides feasibility (diagnoses and repairs use it too); the interior-point
        # solver of the fair stage would accept a plan infeasible by a few đồng within its tolerance
        if feasible(d):
            outcome = chosen.solve(d, backend)
        else:
            outcome = infeasible(d) if diagnose else None
    return outcome


def _resolve(d: Data, chosen: PolicyType, backend: str) -> tuple[np.ndarray, Solved | None] | None:
    outcome = _solve(d, chosen, backend, diagnose=False)
    return None if outcome is None or isinstance(outcome, Diagnosis) else outcome


def _rounded(d: Data, x: np.ndarray, coupling: bool) -> tuple[np.ndarray, int, int]:
    """Cells [T, Y, U] in whole rounding units; when rounding broke a coupling row (tiny budgets,
    or a model only feasible without the margin), the roundings of the LP amounts are searched for
    one that keeps every row: in multiples of the rounding unit, else in whole đồng. With it, how
    many cells the search left off the rounding unit, and how many it rounded otherwise than the
    plain rounding in units (the explanation says both)."""
    unit = int(d.policy.rounding_unit or 1)
    cells = round_cells(d, x, unit)
    broken = _report.rounding_residuals(d, cells) if coupling else []
    # whole counts the whole-number stage chose must still be paid for in full after rounding
    whole_short = coupling and any(ts.whole and ts.lower is not None for ts in d.targets) and bool(short_targets(d, cells))
    if not broken and not whole_short:
        return cells, 0, 0
    if unit > 1:  # first in multiples of the rounding unit, each cell one just below or above its amount
        repaired = repair_mip(d, x, unit=unit)
        if repaired is not None:
            return repaired, 0, int((repaired != cells).sum())
    # then in whole đồng — but not for the first year against last year's amounts alone: a band of
    # ±x % around a small amount often holds no multiple of the unit, and amounts to the đồng in a
    # plan rounded to triệu are worse than the break, which the explanation reports with its amount
    if whole_short or any(m.code != "alloc.explain.rounding_prior" for m in broken):
        repaired = repair_mip(d, x)
        if repaired is not None:
            return repaired, int(((repaired != cells) & (repaired % unit != 0)).sum()), 0
    # Not searched: multiples further than one unit from the LP amounts. They keep some bands that
    # no nearer rounding keeps, but move units with identical data apart (by two units and more:
    # found by the fairness properties), which is worse than a break the officer is told about.
    return cells, 0, 0


def _with_repair(plan: Plan, policy: AllocationPolicy, diag: Diagnosis, years: list[int] | None, coupling: bool) -> Diagnosis:
    repair = suggest_repair(plan, policy, diag, years, coupling)
    return dataclasses.replace(diag, repair=repair) if repair is not None else diag


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

"""What every allocation policy declares, and the solve helpers the LP policies share.

A policy is one module of this package with a :class:`PolicyType` instance ``POLICY``: its kind,
what its objective measures (words and unit), the policy-sheet fields it reads besides the common
ones (``kind``, ``level``, ``rounding_unit``, ``years``, ``solver``), whether it applies the
constraints that couple task-years, and how it solves: ``solve(d, backend)`` returns the cell
amounts and their :class:`Solved` record, or a :class:`~budgetlib.model.result.Diagnosis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ...core.i18n import Msg, tr
from ...core.lang import Lang
from ...model.policy import DeviationWeighting, PolicyKind
from ...model.result import Diagnosis
from .._data import Data
from .._diagnose import diagnose_lp
from .._lp import LP, Solution, solve, solve_highspy
from .._model import Builder, Layout, deviation_size
from .._qp import HIGHS_QP_CHECK_ITERATIONS, HIGHS_QP_MAX_COLUMNS, solve_l1, solve_qp, solve_qp_highs

__all__ = ["PolicyType", "Solved", "Outcome", "LEXI_TOLERANCES", "fair_builder", "fair_scale", "infeasible", "check_optimal", "run", "run_pooled"]

LEXI_TOLERANCES = (1e-7, 1e-5, 1e-3)
"""Relative slack on the stage-1 optimum when stage 2 re-optimises (retried if numerically infeasible)."""


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


Outcome = tuple[np.ndarray, Solved | None] | Diagnosis | None
"""What ``solve`` returns: (cell amounts in đồng, flat; the LP record or None), a diagnosis, or
None: infeasible only because of the rounding margin (``d.row_margin``); solve again without it."""


class PolicyType:
    kind: ClassVar[PolicyKind]
    fields: ClassVar[tuple[str, ...]] = ()
    """Policy-sheet fields this policy reads besides the common ones (``deviation``, ``response_curves``)."""
    applies_coupling: ClassVar[bool] = True
    """Applies constraints that couple task-years (absorption, stability, targets, a unit's share)."""
    objective_in_money: ClassVar[bool] = False

    def label(self, lang: str | Lang) -> str:
        return tr(f"policy.{self.kind.value}", lang)

    def objective(self, d: Data) -> Msg | None:
        """What the reported objective measures, in words (None: the policy has no objective)."""
        return None

    def in_money(self, d: Data) -> bool:
        """Whether the reported objective is in đồng."""
        return self.objective_in_money

    def solve(self, d: Data, backend: str) -> Outcome:
        raise NotImplementedError


def relative(d: Data) -> bool:
    return d.policy.deviation is DeviationWeighting.RELATIVE


def fair_builder(d: Data, lo: np.ndarray | None = None) -> Builder:
    """The fair final stage: every constraint (optionally with raised lower bounds) and the squared
    deviation from the reference share (χ² for ``deviation="relative"``) as the objective."""
    b = Builder(d, lo)
    b.common()
    b.fair_objective(relative(d))
    return b


def fair_scale(d: Data, value: float) -> float:
    """d(equivalent deviation in đồng)/d(LP objective) at ``value`` (for shadow prices):
    V = √(K·c·S) with S = Σ ω_LP(x − r)² = 2·(LP objective + constant), c = đồng² per LP unit of S."""
    if value <= 1e-9 * max(1.0, float(d.B.sum())):
        return 0.0
    c = d.M if relative(d) else d.M * d.M
    return deviation_size(d, relative(d)) * c / value


def run(d: Data, lp: LP, backend: str, *, ranging: bool = True, ipm: bool = False) -> Solution:
    sol = solve(lp, backend=backend, solver=d.policy.solver, ranging=ranging, ipm=ipm)
    if lp.quadratic and sol.status != "optimal":
        return _qp_rescue(lp, sol)
    if sol.status.startswith("error") and d.policy.solver == "highs":
        # a numerical failure of one method: the other (interior point with crossover, or simplex)
        sol = solve_highspy(lp, ranging=ranging, ipm=not ipm)
    return sol


POOLED_MIN_COLUMNS = 1_500
"""LP stages and curve tie-breaks with more columns than this are first solved on pooled models
(:func:`budgetlib.allocator._reduce.solve_pooled`); small ones, as ever, on the whole model."""


def run_pooled(d: Data, lp: LP, lay: Layout, backend: str, local_groups: list[int], *, ranging: bool = True, ipm: bool = False,
               carry: dict | None = None, objective_parts_only: bool = False) -> Solution:
    """:func:`run`, first on pooled models when the model is large (HiGHS only): the cells no
    coupling row touches pooled at equal coverage — exact for the LP stages and the χ² tie-break
    (``docs/allocation.md``); the whole model when the pooled answer does not verify."""
    if backend != "pulp" and d.policy.solver == "highs" and lp.n_cols > POOLED_MIN_COLUMNS:
        from .._qp import _solve_fair_whole
        from .._reduce import solve_by_parts, solve_pooled

        inner = _solve_fair_whole if lp.quadratic else interior_vertex
        got = None
        if lp.quadratic:  # tasks not coupled to one another: each part on its own reduced model
            got = solve_by_parts(lp, lay.pM, local_groups, inner, segments=lay.seg, carry=carry)
        if got is None:
            got = solve_pooled(lp, lay.pM, local_groups, inner, segments=lay.seg, explore=None if lp.quadratic else interior_point,
                               carry=carry, objective_parts_only=objective_parts_only)
        if got is not None and got.status == "optimal":
            return got
        # infeasible (a relaxation is) or not verified: the whole model decides, as ever
    return run(d, lp, backend, ranging=ranging, ipm=ipm)


def interior_point(lp: LP) -> Solution:
    """HiGHS's interior point without crossover (the pooled models' search for binding rows)."""
    return solve_highspy(lp, ipm=True, crossover=False)


def interior_vertex(lp: LP) -> Solution:
    """HiGHS's interior point with crossover: the exact vertex of a pooled LP stage when its
    interior point does not verify (dual simplex stalls on max_min's degenerate stage 1)."""
    return solve_highspy(lp, ipm=True)


def _qp_rescue(lp: LP, sol: Solution) -> Solution:
    """Clarabel did not solve the fair stage: HiGHS (simplex) decides whether the rows can hold at
    all; if they can, Clarabel once more with looser tolerances, then HiGHS's own QP solver on small
    models, then (last resort, a model too ill-scaled for any QP solver) the weighted L1 version of
    the objective by HiGHS's simplex. The allocator's feasibility is always HiGHS's (diagnoses and
    repairs use it too)."""
    if feasibility(lp).status == "infeasible":
        return Solution("infeasible", solver=sol.solver, version=sol.version)
    retry = solve_qp(lp, tol=1e-7)
    if retry.status == "optimal":
        return retry
    if lp.n_cols <= HIGHS_QP_MAX_COLUMNS:
        exact = solve_qp_highs(lp, iteration_limit=HIGHS_QP_CHECK_ITERATIONS)  # its active set can stall on degenerate stages
        if exact.status == "optimal":
            return exact
    return solve_l1(lp)


def feasibility(lp: LP) -> Solution:
    """HiGHS on the rows and bounds of ``lp`` without its objective (a feasibility problem)."""
    return solve_highspy(lp.with_objective(np.zeros(lp.n_cols)))


def feasible(d: Data) -> bool:
    """Whether the plan's rows and bounds (with the current rounding margin) can hold: HiGHS decides."""
    b = Builder(d)
    b.common()
    lp, _ = b.done()
    return feasibility(lp).status == "optimal"


def infeasible(d: Data) -> Diagnosis | None:
    """A minimal conflicting set of the plan's constraints (form x model); None while the rows are
    tightened by the rounding margin (the caller solves again without it)."""
    if d.row_margin > 0:
        return None
    b = Builder(d)
    b.common()
    lp, _ = b.done()
    return diagnose_lp(d, lp)


def reference_if_feasible(d: Data) -> np.ndarray | None:
    """The reference share (flat, đồng) when it already satisfies every coupling row (tightened by
    the rounding margin): then it is the unique optimum of min_deviation (deviation 0) and of
    max_min (coverage 1, and stage 2 deviation 0), and no LP is needed. Not when a block could not
    be water-filled (the reference then breaks a bound: the solver decides)."""
    if d.ref_failed.any():
        return None
    if not d.row_specs:
        return d.ref.ravel().copy()
    b = Builder(d)
    b.common()
    lp, lay = b.done()
    return d.ref.ravel().copy() if reference_keeps(d, lp, lay) else None


def reference_keeps(d: Data, lp: LP, lay: Layout) -> bool:
    """Whether the reference share keeps every row of ``lp`` (a model of :class:`Builder` over
    ``d``'s cells alone), to 10⁻⁹ of each row's activity: then that model is feasible."""
    if d.ref_failed.any() or lp.n_cols != lay.x.size:  # target columns: the reference says nothing about them
        return False
    lb, ub, _cost, rlo, rhi, start, idx, val = lp.arrays()
    v = np.zeros(lp.n_cols)
    v[lay.x] = d.ref.ravel() / lay.M
    rows = np.repeat(np.arange(lp.n_rows), np.diff(start))
    act = np.bincount(rows, weights=val * v[idx], minlength=lp.n_rows)
    tol, col_tol = 1e-9 * np.maximum(1.0, np.abs(act)), 1e-9 * np.maximum(1.0, np.abs(v))
    return not ((act < rlo - tol) | (act > rhi + tol)).any() and not ((v < lb - col_tol) | (v > ub + col_tol)).any()


def check_optimal(sol: Solution) -> None:
    if sol.status != "optimal":  # unbounded or solver failure: a programmer error, not user data
        raise RuntimeError(tr("alloc.error.solver", Lang.EN, status=sol.status, solver=sol.solver))

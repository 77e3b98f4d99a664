"""The allocator against independent formulations of docs/allocation.md (scipy linprog, bisection)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budgetlib.allocator import allocate, assert_allocation_conserves
from budgetlib.allocator._lp import cbc_available

from .test_allocator_support import Oracle, arrays, make_plan, water_fill

FAST = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
sizes = dict(seed=st.integers(0, 10_000), U=st.integers(3, 6), T=st.integers(1, 3), Y=st.integers(1, 3))


def _close(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _margin_allowance(plan, allocation):
    """How far the reported objective may sit from the textbook optimum: coupling rows are tightened
    by two rounding units per coefficient so that whole-đồng amounts keep them (docs/allocation.md),
    which moves the optimum by at most a few rounding units per cell, in the objective's own unit."""
    _B, p, _lo, _hi = arrays(plan)
    unit = plan.allocation.rounding_unit
    if plan.allocation.kind == "min_deviation":
        return 8 * unit * p.size
    if plan.allocation.kind == "max_min":
        return 8 * unit / float(p[p > 0].min())
    return 8 * unit * p.size * 5 / 1e6  # max_outcome: at most 5 outcome units per triệu


AMOUNT_TOLERANCE = 1e-6
"""Allocated amounts against the oracle's fair optimum: within this share of the task-year budget
(SLSQP's accuracy), plus one rounding unit."""


def _check_result(plan, allocation, expected):
    if expected is None:
        assert not allocation.ok
        assert allocation.diagnosis is not None and allocation.diagnosis.conflicts
        return
    value, want = expected
    assert allocation.ok, allocation.diagnosis
    has_coupling = any(c.type in ("absorption", "stability", "target", "unit_share") for c in plan.allocation.constraints)
    slack = _margin_allowance(plan, allocation) if has_coupling else 0.0
    B, _p, lo, hi = arrays(plan)
    # the equivalent deviation of min_deviation is in đồng: SLSQP's accuracy is a share of the budget
    floor = 1e-6 * float(B.sum()) if plan.allocation.kind == "min_deviation" else 0.0
    assert abs(allocation.objective - value) <= 1e-5 * max(1.0, abs(value)) + slack + floor, (allocation.objective, value)
    assert_allocation_conserves(plan, allocation)
    # bounds in whole đồng: floors (amounts) exactly, caps (share of budget, fractional đồng) to
    # within one đồng, eligibility exactly
    x = allocation.amounts.sum(axis=3).transpose(1, 2, 0)  # [T, Y, U]
    assert (x >= np.ceil(lo - 1e-6)).all()
    assert (x <= np.ceil(hi - 1e-6)).all()
    assert (x[hi == 0] == 0).all()
    # the fair optimum is unique: the amounts are the oracle's (up to its accuracy and the rounding)
    tol = AMOUNT_TOLERANCE * B[:, :, None] + plan.allocation.rounding_unit + (8 * plan.allocation.rounding_unit if has_coupling else 0)
    assert (np.abs(x - want) <= tol).all(), np.abs(x - want).max()


@FAST
@given(**sizes, relative=st.booleans(), coupling=st.booleans(), eligibility=st.booleans())
def test_min_deviation_matches_linprog(seed, U, T, Y, relative, coupling, eligibility):
    plan = make_plan(seed, U=U, T=T, Y=Y, deviation="relative" if relative else "absolute", coupling=coupling, eligibility=eligibility)
    _check_result(plan, allocate(plan), Oracle(plan).min_deviation(relative))


@FAST
@given(**sizes, coupling=st.booleans(), eligibility=st.booleans())
def test_max_min_first_stage_matches_linprog(seed, U, T, Y, coupling, eligibility):
    plan = make_plan(seed, U=U, T=T, Y=Y, kind="max_min", coupling=coupling, eligibility=eligibility)
    _check_result(plan, allocate(plan), Oracle(plan).max_min(plan.allocation.deviation == "relative"))


@FAST
@given(**sizes, coupling=st.booleans(), eligibility=st.booleans())
def test_max_min_bisection_matches_linprog(seed, U, T, Y, coupling, eligibility):
    """The large-model path (bisection over warm-started min-deviation solves), forced on small instances."""
    from budgetlib.allocator import _maxmin

    plan = make_plan(seed, U=U, T=T, Y=Y, kind="max_min", coupling=coupling, eligibility=eligibility)
    saved = _maxmin.BISECTION_MIN_CELLS
    _maxmin.BISECTION_MIN_CELLS = 0
    try:
        result = allocate(plan, backend="highspy")
    finally:
        _maxmin.BISECTION_MIN_CELLS = saved
    _check_result(plan, result, Oracle(plan).max_min(plan.allocation.deviation == "relative"))
    if result.ok and result.solver != "closed-form":  # the reference share is optimal when nothing couples
        assert all(c.shadow_price is None for c in result.constraints if c.kind == "budget")
        assert any("chia đôi" in line for line in result.explanation("vi"))


@FAST
@given(**sizes, coupling=st.booleans())
def test_max_outcome_matches_linprog(seed, U, T, Y, coupling):
    plan = make_plan(seed, U=U, T=T, Y=Y, kind="max_outcome", coupling=coupling, curves=True)
    _check_result(plan, allocate(plan), Oracle(plan).max_outcome())


@FAST
@given(**sizes, eligibility=st.booleans())
def test_proportional_matches_bisection_water_filling(seed, U, T, Y, eligibility):
    plan = make_plan(seed, U=U, T=T, Y=Y, kind="proportional", eligibility=eligibility)
    a = allocate(plan)
    assert_allocation_conserves(plan, a)
    B, _p, lo, hi = arrays(plan)
    w = np.array([[t.need.constant + sum(c * u.attributes[k] for k, c in t.need.terms.items()) for u in plan.units] for t in plan.tasks])
    eff_hi = np.where(w[:, None, :] > 0, hi, lo)
    if (eff_hi.sum(axis=2) < B).any() or (lo.sum(axis=2) > B).any():
        assert not a.ok and a.diagnosis.method == "precheck"
        return
    assert a.ok, a.diagnosis
    x = a.amounts.sum(axis=3).transpose(1, 2, 0)
    for t in range(len(plan.tasks)):
        for y in range(len(plan.program.years)):
            want = water_fill(B[t, y], w[t], lo[t, y], hi[t, y])
            assert np.abs(x[t, y] - want).max() <= 1.0 + 1e-6 * B[t, y], (x[t, y], want)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["min_deviation", "max_min", "max_outcome"]))
def test_pulp_and_highspy_backends_agree(seed, kind):
    plan = make_plan(seed, U=4, T=2, Y=2, kind=kind, coupling=seed % 2 == 0, curves=True)
    a = allocate(plan, backend="pulp")
    b = allocate(plan, backend="highspy")
    assert a.status == b.status
    if a.ok:
        assert _close(a.objective, b.objective)
        # the LP stage goes through PuLP or straight into highspy; the fair stage is HiGHS's QP
        # (small models) or Clarabel's, either polished (the same on both back ends)
        assert (a.solver, b.solver) in (("pulp-highs+clarabel", "highspy+clarabel"), ("clarabel", "clarabel"), ("closed-form", "closed-form"),
                                        ("highspy-qp", "highspy-qp"), ("pulp-highs+highspy-qp", "highspy+highspy-qp"))
        assert np.abs(a.amounts.astype(np.int64) - b.amounts).max() <= plan.allocation.rounding_unit  # one optimum


@pytest.mark.skipif(not cbc_available(), reason="CBC is not available in this PuLP")
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["min_deviation", "max_min", "max_outcome"]))
def test_cbc_cross_check(seed, kind):
    plan = make_plan(seed, U=4, T=2, Y=2, kind=kind, coupling=True, curves=True)
    a = allocate(plan)
    b = allocate(plan, plan.allocation.model_copy(update={"solver": "cbc"}))
    assert a.status == b.status
    if a.ok:
        # CBC solves the LP stages; the fair stage (a QP) is Clarabel's whatever the LP solver
        assert b.solver in ("clarabel" if kind == "min_deviation" else "pulp-cbc+clarabel", "highspy-qp", "pulp-cbc+highspy-qp")
        assert _close(a.objective, b.objective)
        assert_allocation_conserves(plan, b)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["proportional", "min_deviation", "max_min", "max_outcome"]),
       unit=st.sampled_from([1, 1000, 1_000_000]))
def test_deterministic_and_conserving_with_rounding(seed, kind, unit):
    plan = make_plan(seed, U=5, T=2, Y=3, kind=kind, coupling=kind != "proportional", curves=True, rounding_unit=unit)
    a, b = allocate(plan), allocate(plan)
    assert a.to_json() == b.to_json()
    assert_allocation_conserves(plan, a)
    if a.ok:
        # unit totals are whole rounding units except one residue cell per task-year
        x = a.amounts.sum(axis=3)
        odd = (x % unit != 0).sum(axis=0)
        assert (odd <= 1).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(64, 400), unit=st.sampled_from([1, 1000, 1_000_000]),
       zeros=st.booleans(), bounded=st.booleans())
def test_core_water_filling_at_scale_matches_bisection(seed, n, unit, zeros, bounded):
    """The sweep in core.money (used for national blocks) against the test's bisection oracle."""
    from budgetlib import ApportionError, apportion, capped_proportional

    rng = np.random.default_rng(seed)
    w = rng.integers(0, 100, n).astype(float) if zeros else rng.random(n) * 100 + 0.01
    total = int(rng.integers(1, 10**12))
    lo = (rng.random(n) < 0.3) * rng.random(n) * total / n
    hi = np.where(rng.random(n) < 0.3, lo + rng.random(n) * 2 * total / n, np.inf) if bounded else np.full(n, np.inf)
    try:
        got = capped_proportional(total, w, lo, hi)
    except ApportionError:
        eff_hi = np.where(w > 0, hi, lo)
        assert total < lo.sum() * (1 - 1e-9) or total > eff_hi.sum() * (1 + 1e-9)
        return
    want = water_fill(total, w, lo, hi)
    assert np.allclose(got, want, rtol=1e-7, atol=1e-6 * total / n)
    lo_i, hi_i = np.ceil(lo).astype(np.int64), np.where(np.isfinite(hi), np.floor(hi), 4 * total).astype(np.int64)
    try:
        parts = apportion(total, w, unit=unit, lower=lo_i, upper=hi_i)
    except ApportionError:
        return
    assert parts.sum() == total
    assert (parts >= lo_i).all() and (parts <= hi_i).all()

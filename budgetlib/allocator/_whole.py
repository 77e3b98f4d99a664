"""Whole-number targets: fund whole communes and pilot models, never 0,19 of one.

The policies' LP and QP stages treat a target's items c[u] as continuous. For a target declared
``integer`` a unit counts only the items its money pays for in full (⌊funding / unit cost⌋). When
the continuous optimum x* funds fewer whole items than required, whole counts c̄[u] are chosen and
the policy is solved again with c[u] ≥ c̄[u] (so its own objective decides everything else):

1. **Rounding** — c̄ = ⌊f⌋ where f is the continuous count per unit, plus one item for the units
   with the largest fractional parts (closest to a whole item; ties by unit order) until Σ c̄
   reaches the requirement. This is the minimiser of Σ|c̄ − f| subject to Σ c̄ ≥ required, i.e.
   the whole counts closest to the continuous optimum.
2. **MIP** — when that re-solve is infeasible (caps, eligibility or coupling rows leave no room
   where the fractions are largest), HiGHS chooses every whole target's counts at once: integer
   c over all the plan's rows, minimising Σ|c − f|, bounded by a node count (deterministic).
3. Otherwise the continuous split stays and the attainment reports the shortfall in whole items.

Re-solving can move another whole target below its requirement; rounds repeat (lower bounds only
grow) until every whole target holds. docs/allocation.md, "Whole-number targets".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ..constraints.target import WHOLE_TOLERANCE, TargetSpec
from ._data import INF, Data
from ._lp import LP

__all__ = ["WholeNote", "funding", "whole_targets", "short_targets", "whole_max", "solve_whole"]

WHOLE_MIP_MAX_NODES = 20_000
"""Branch-and-bound nodes for the whole-count MIP (a count, not seconds: results never depend on the
machine's load)."""
WHOLE_MIP_MAX_COLUMNS = 400_000
"""No MIP above this many LP columns: the stage reports the shortfall instead."""
WHOLE_MIP_HANG_GUARD_SECONDS = 600.0


@dataclass(frozen=True)
class WholeNote:
    """What the whole-number stage did for one target (index into ``Data.targets``)."""

    continuous: float  # items the continuous optimum pays for, fractions included
    whole: float  # whole items the continuous optimum pays for
    raised: tuple[int, ...]  # units whose whole count was rounded up (empty: nothing changed)
    by_mip: bool = False
    failed: bool = False  # no split funds the required whole items under the plan's rows


def funding(d: Data, ts: TargetSpec, x: np.ndarray) -> np.ndarray:
    """đồng per unit of the target's task over its years, from cell amounts (flat or [T, Y, U])."""
    T, Y, U = d.shape
    ys = np.asarray(ts.years, np.int64)
    if not ys.size:
        return np.zeros(U)
    return np.asarray(x, float).reshape(T, Y, U)[ts.task][ys].sum(axis=0)


def _continuous(d: Data, ts: TargetSpec, x: np.ndarray) -> np.ndarray:
    """Items per unit that ``x`` (and the committed money) pays for, fractions included."""
    return ts.items(funding(d, ts, x))


def short_targets(d: Data, x: np.ndarray) -> list[int]:
    """Indices of the whole targets whose whole funded items fall short of the requirement."""
    return [i for i, ts in enumerate(d.targets)
            if ts.whole and ts.funded(funding(d, ts, x)).sum() < ts.required - WHOLE_TOLERANCE]


def _rounded_up(ts: TargetSpec, f: np.ndarray) -> np.ndarray | None:
    """⌊f⌋ (never below the current lower bounds) plus one item where the fraction is largest,
    until the requirement is reached; None when the units' capacities cannot hold it."""
    whole = np.floor(f + WHOLE_TOLERANCE)
    if ts.lower is not None:
        whole = np.maximum(whole, ts.lower)
    missing = round(float(ts.required - whole.sum()))
    if missing <= 0:  # short only after rounding to the rounding unit: pin the whole counts
        return whole
    room = np.flatnonzero(whole < ts.capacity)
    if room.size < missing:
        return None
    frac = np.clip(f[room] - np.floor(f[room] + WHOLE_TOLERANCE), 0.0, 1.0)
    order = np.lexsort((room, -np.round(frac, 9)))  # largest fraction first, then unit order
    out = whole.copy()
    out[room[order[:missing]]] += 1.0
    return out


def whole_mip(d: Data, x: np.ndarray, *, max_nodes: int = WHOLE_MIP_MAX_NODES) -> dict[int, np.ndarray] | None:
    """Whole counts for every whole target under all the plan's rows (with the current rounding
    margin), closest to the continuous counts of ``x`` in Σ|c − f|; None when HiGHS finds none
    within its node limit (or the model is too large)."""
    from ._model import Builder

    b = Builder(d)
    b.common()
    whole = [i for i, ts in enumerate(d.targets) if ts.whole]
    for i in whole:
        ts = d.targets[i]
        cols = b.lay.c[i]
        f = _continuous(d, ts, x)
        n = cols.size
        e = b.lp.add_vars(n, 0.0, INF, 1.0)
        # e ≥ c − f and e ≥ f − c
        rows = np.concatenate([np.arange(n), np.arange(n), np.arange(n, 2 * n), np.arange(n, 2 * n)])
        idx = np.concatenate([e, cols, e, cols])
        val = np.concatenate([np.ones(n), -np.ones(n), np.ones(n), np.ones(n)])
        b.rows(np.concatenate([-f, f]), np.full(2 * n, INF), rows, idx, val, ts.group)
    lp, lay = b.done()
    if lp.n_cols > WHOLE_MIP_MAX_COLUMNS:
        return None
    col = solve_whole(lp, np.concatenate([lay.c[i] for i in whole]), max_nodes=max_nodes)
    if col is None:
        return None
    return {i: np.rint(col[lay.c[i]]) for i in whole}


S = TypeVar("S")


def whole_targets(d: Data, x: np.ndarray, solved: S, solve: Callable[[], tuple[np.ndarray, S] | None],
                  short: list[int]) -> tuple[np.ndarray, S]:
    """Make every whole target fund its required whole items (see the module docstring), starting
    from the ``short`` ones (their whole items fall short in ``x`` or in its rounded amounts);
    records a :class:`WholeNote` per whole target in ``d.whole`` and returns the solution to use.
    ``solve()`` solves the policy again with the targets' current lower bounds (None: infeasible)."""
    x0, solved0 = x, solved
    first = {i: _continuous(d, ts, x) for i, ts in enumerate(d.targets) if ts.whole}
    base = {i: ts.lower for i, ts in enumerate(d.targets)}
    used_mip = False
    for _round in range(len(first) + 1):
        if not short:
            break
        lowers = {i: _rounded_up(d.targets[i], _continuous(d, d.targets[i], x)) for i in short}
        result = None
        if all(v is not None for v in lowers.values()):
            kept = {i: d.targets[i].lower for i in lowers}
            for i, v in lowers.items():
                d.targets[i].lower = v
            result = solve()
            if result is None:  # back to the last feasible bounds before the MIP chooses
                for i, v in kept.items():
                    d.targets[i].lower = v
        if result is None:
            chosen = whole_mip(d, x)
            if chosen is None:
                break
            for i, v in chosen.items():
                d.targets[i].lower = v
            used_mip = True
            result = solve()
            if result is None:
                break
        x, solved = result
        short = short_targets(d, x)
    if short:  # no split funds the whole items: the continuous one stays, the attainment says so
        for i, ts in enumerate(d.targets):
            ts.lower = base[i]
        x, solved = x0, solved0
    for i, f in first.items():
        ts = d.targets[i]
        whole = np.floor(f + WHOLE_TOLERANCE)
        raised = () if ts.lower is None else tuple(int(u) for u in np.flatnonzero(ts.lower > whole))
        d.whole[i] = WholeNote(float(f.sum()), float(whole.sum()), raised, used_mip and bool(raised), i in short)
    return x, solved


def solve_whole(lp: LP, integer_cols: np.ndarray, *, max_nodes: int = WHOLE_MIP_MAX_NODES) -> np.ndarray | None:
    """Column values of ``lp`` (a linear objective) with ``integer_cols`` whole, by HiGHS MIP
    within a node limit; None when it proves no optimum (infeasible, or the limit is reached)."""
    from ._lp import _highs_lp, solve_mip

    return solve_mip(_highs_lp(lp, True), integer_cols, max_nodes=max_nodes, hang_guard_seconds=WHOLE_MIP_HANG_GUARD_SECONDS)


def whole_max(lp: LP, cols: np.ndarray, relaxed: float) -> float:
    """The most whole items ``lp`` (minimising −Σ items over ``cols``) allows; the relaxed value
    rounded down when the MIP proves no optimum within its node limit (then an upper bound)."""
    got = solve_whole(lp, cols)
    if got is None:
        return float(np.floor(relaxed + WHOLE_TOLERANCE))
    cost = np.concatenate(lp.cost) if lp.cost else np.zeros(0)
    return float(round(-float(cost @ got)))

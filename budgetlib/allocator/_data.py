"""From a plan and a policy to arrays: budgets B, needs w, proportional shares p, bounds with provenance.

Cells are indexed ``k = (t·Y + y)·U + u`` so that each task-year block is contiguous. Money is
float đồng here; the LP layer rescales to triệu đồng.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..constraints.base import ConstraintType
from ..constraints.registry import kind_of
from ..constraints.target import TargetSpec, target_required
from ..model.plan import Level, Plan
from ..model.policy import AllocationPolicy
from ..model.result import ConstraintKind, Named

__all__ = ["INF", "Data", "Group", "RowSpec", "TargetSpec", "build_data", "target_required"]

INF = float("inf")


@dataclass
class Group:
    """A named family of LP rows or bounds, as the user declared it (or a task-year budget)."""

    name: str
    kind: ConstraintKind
    constraint: object | None = None
    task: int | None = None
    year: int | None = None


@dataclass(frozen=True)
class RowSpec:
    """A constraint that adds LP rows: its kind's behaviour, the constraint, its group, its data."""

    kind: ConstraintType
    constraint: object
    group: int
    spec: object


@dataclass
class Data:
    plan: Plan
    policy: AllocationPolicy
    units: list
    tasks: list
    years: list[int]
    sources: list
    B3: np.ndarray  # [T, Y, S] int64
    B: np.ndarray  # [T, Y] float
    w: np.ndarray  # [T, U]
    p: np.ndarray  # [T, Y, U]
    lo_amt: np.ndarray  # [T, Y, U] bounds in đồng, "amount" kind (fixed when the budget scales)
    lo_rel: np.ndarray  # bounds relative to the budget (share_of_budget, times_proportional) at k = 1
    hi_amt: np.ndarray
    hi_rel: np.ndarray
    lo_amt_src: np.ndarray
    lo_rel_src: np.ndarray
    hi_amt_src: np.ndarray
    hi_rel_src: np.ndarray
    budget_group: np.ndarray  # [T, Y] group ids
    groups: list[Group] = field(default_factory=list)
    row_specs: list[RowSpec] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    ineligible: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), bool))  # [T, Y, U]
    ref: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    """[T, Y, U] the reference share: the need-based split over the units that can receive money
    (the proportional policy's water-filling: eligibility, earmarks, floors and caps respected)."""
    ref_failed: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))  # [T, Y] blocks that cannot be split
    row_margin: float = 0.0
    """đồng per unit of |coefficient| by which constraint rows are tightened so that rounding to
    the rounding unit keeps them (2 rounding units; 0 when the tightened model is infeasible)."""
    M: float = 1e6
    """đồng per LP money unit (``_model.money_scale``)."""
    whole: dict[int, object] = field(default_factory=dict)
    """What the whole-number stage did, per index of ``targets`` (``_whole.WholeNote``)."""

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.tasks), len(self.years), len(self.units)

    @property
    def n(self) -> int:
        T, Y, U = self.shape
        return T * Y * U

    @property
    def lo(self) -> np.ndarray:
        return np.maximum(self.lo_amt, self.lo_rel)

    @property
    def hi(self) -> np.ndarray:
        return np.minimum(self.hi_amt, self.hi_rel)

    @property
    def lo_int(self) -> np.ndarray:
        """Cell floors for whole-đồng amounts: amounts as given; a floor relative to the budget or the
        need share (fractional đồng) is met to within one đồng — a ×1,0 proportional floor is
        exactly the proportional split, whose whole-đồng amounts are ⌊p⌋ or ⌈p⌉."""
        return np.maximum(self.lo_amt, np.floor(self.lo_rel + 1e-6))

    @property
    def hi_int(self) -> np.ndarray:
        """Cell caps for whole-đồng amounts (relative caps to within one đồng, as for floors)."""
        return np.minimum(self.hi_amt, np.ceil(self.hi_rel - 1e-6))

    @property
    def lo_src(self) -> np.ndarray:
        return np.where(self.lo_rel > self.lo_amt, self.lo_rel_src, self.lo_amt_src)

    @property
    def hi_src(self) -> np.ndarray:
        return np.where(self.hi_rel < self.hi_amt, self.hi_rel_src, self.hi_amt_src)

    @cached_property
    def unit_codes(self) -> list[str]:
        return [u.code for u in self.units]

    @cached_property
    def task_codes(self) -> list[str]:
        return [t.code for t in self.tasks]

    def add_group(self, name: str, kind: ConstraintKind, constraint: object | None = None) -> int:
        self.groups.append(Group(name, kind, constraint))
        return len(self.groups) - 1

    def add_rows(self, kind: ConstraintType, constraint: object, group: int, spec: object) -> None:
        self.row_specs.append(RowSpec(kind, constraint, group, spec))

    def _put(self, arr: np.ndarray, src: np.ndarray, mask: np.ndarray, values: np.ndarray, g: int, better) -> None:
        # keep the tighter bound (max for floors, min for caps) and remember which constraint set it
        cur = arr[mask]
        new = np.broadcast_to(values, arr.shape)[mask]
        take = better(new, cur)
        arr[mask] = np.where(take, new, cur)
        src[mask] = np.where(take, g, src[mask])

    def put_floor(self, mask: np.ndarray, values: np.ndarray, g: int, *, relative: bool, ties: bool = False) -> None:
        """Raise the lower bound of the ``mask`` cells to ``values`` (amount or budget-relative
        bound); ``ties``: this constraint also takes over cells where it equals the current bound
        (an earmark is named even when a floor asks the same amount)."""
        better = np.greater_equal if ties else np.greater
        if relative:
            self._put(self.lo_rel, self.lo_rel_src, mask, values, g, better)
        else:
            self._put(self.lo_amt, self.lo_amt_src, mask, values, g, better)

    def put_cap(self, mask: np.ndarray, values: np.ndarray, g: int, *, relative: bool, ties: bool = False) -> None:
        """Lower the upper bound of the ``mask`` cells to ``values``."""
        better = np.less_equal if ties else np.less
        if relative:
            self._put(self.hi_rel, self.hi_rel_src, mask, values, g, better)
        else:
            self._put(self.hi_amt, self.hi_amt_src, mask, values, g, better)

    def location(self, g: Group) -> str:
        """The JSON path of the plan where a group was declared (``allocation.constraints[2]``)."""
        if g.constraint is not None:
            for i, c in enumerate(self.policy.constraints):
                if c is g.constraint:
                    return f"allocation.constraints[{i}]"
        if g.kind == ConstraintKind.BUDGET:
            return "budget_lines"
        return ""

    @cached_property
    def unit_names(self) -> dict[str, str]:
        return {u.code: u.name for u in self.units}

    @cached_property
    def task_names(self) -> dict[str, str]:
        return {t.code: t.name for t in self.tasks}

    @cached_property
    def task_labels(self) -> dict[str, Named]:
        """Task names as messages: the English name (``name_en``) in English output when the plan gives one."""
        return {t.code: Named(t.name, t.name_en) for t in self.tasks}

    def unit_name(self, u: int) -> str:
        return self.units[u].name

    def task_name(self, t: int) -> str:
        return self.tasks[t].name


def _need(task, units, columns: dict[str, np.ndarray]) -> np.ndarray:
    w = np.full(len(units), float(task.need.constant))
    for attr, coef in task.need.terms.items():
        if attr not in columns:  # one pass over the units per attribute, shared by every task
            columns[attr] = np.array([float(u.attributes.get(attr, 0.0)) for u in units])
        w += coef * columns[attr]
    return w


def build_data(plan: Plan, policy: AllocationPolicy, years: list[int] | None) -> Data:
    level = Level.COMMUNE if policy.level == "commune" else Level.DISTRICT
    units = plan.units_at(level)
    tasks = list(plan.tasks)
    years = list(years if years is not None else (policy.years if policy.years is not None else plan.program.years))
    sources = list(plan.sources)
    T, Y, U, S = len(tasks), len(years), len(units), len(sources)
    ti = {t.code: i for i, t in enumerate(tasks)}
    yi = {y: i for i, y in enumerate(years)}
    si = {s.code: i for i, s in enumerate(sources)}
    B3 = np.zeros((T, Y, S), np.int64)
    for line in plan.budget_lines:
        if line.task in ti and line.year in yi and line.source in si:
            B3[ti[line.task], yi[line.year], si[line.source]] += line.amount
    B = B3.sum(axis=2).astype(float)
    columns: dict[str, np.ndarray] = {}
    w = np.array([_need(t, units, columns) for t in tasks]).reshape(T, U)
    wsum = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(wsum[:, None] > 0, w / np.where(wsum[:, None] > 0, wsum[:, None], 1.0), 0.0)
    p = B[:, :, None] * share[:, None, :]

    shape = (T, Y, U)
    d = Data(
        plan, policy, units, tasks, years, sources, B3, B, w, p,
        np.zeros(shape), np.zeros(shape), np.full(shape, INF), np.full(shape, INF),
        np.full(shape, -1), np.full(shape, -1), np.full(shape, -1), np.full(shape, -1),
        budget_group=np.zeros((T, Y), np.int64), ineligible=np.zeros(shape, bool),
    )
    from ._model import money_scale

    d.M = money_scale(B)
    for t in range(T):
        for y in range(Y):
            d.budget_group[t, y] = len(d.groups)
            d.groups.append(Group(f"{tasks[t].name} {years[y]}", ConstraintKind.BUDGET, None, t, y))
    earmarks = []
    for c in policy.constraints:
        kind = kind_of(c)
        g = d.add_group(c.name, kind.kind, c)
        kind.apply(d, c, g)
        if kind.kind == ConstraintKind.EARMARK:
            earmarks.append((kind, c, g))
    # Eligibility takes precedence over floors (a floor for "every unit" means every eligible unit);
    # an earmark on an ineligible unit stays a conflict.
    kinds = np.array([g.kind.value for g in d.groups] + [""])  # index −1 → ""
    for arr, src in ((d.lo_amt, d.lo_amt_src), (d.lo_rel, d.lo_rel_src)):
        clear = d.ineligible & (kinds[src] == ConstraintKind.FLOOR.value)
        arr[clear] = 0.0
        src[clear] = -1
    # an earmark stands even where a larger floor (now cleared by eligibility) had taken its cell:
    # an earmark on an ineligible unit remains a conflict
    for kind, c, g in earmarks:
        kind.apply(d, c, g)
    d.ref = reference_share(d)
    return d


def reference_share(d: Data) -> np.ndarray:
    """Water-fill each funded task-year over its units: x = clip(λ·w, lo, hi), Σx = B[t,y]
    (zero-need units stay at their floor). A block that cannot be split that way (floors above the
    budget, caps below it: the pre-checks name it; or caps that only units without need can fill,
    which the LP policies may do) keeps the need share over the units that can receive money
    (hi > 0; the raw share if none has need), so that an ineligible unit never shapes it."""
    from ..core.money import ApportionError, capped_proportional

    T, Y, _U = d.shape
    ref = d.p.copy()
    lo, hi = d.lo, d.hi
    d.ref_failed = np.zeros((T, Y), bool)
    for t in range(T):
        for y in range(Y):
            if d.B[t, y] > 0:
                try:
                    ref[t, y] = capped_proportional(d.B[t, y], d.w[t], lo[t, y], hi[t, y])
                except (ApportionError, ValueError):
                    d.ref_failed[t, y] = True
                    w = np.where(hi[t, y] > 0, d.w[t], 0.0)
                    if w.sum() > 0:
                        ref[t, y] = d.B[t, y] * w / w.sum()
    return ref

"""The allocation in force through the budget cycle, and how it got there.

A plan is allocated once; then every year is disbursed, closed (undisbursed money carried over to
the unit or returned to the pool, per :class:`~budgetlib.model.plan.CarryOver`), and the next year
re-split; a year may also be revised mid-year. :class:`CycleState` is the allocation *in force*
after those steps — integer đồng per unit × task × year × source, like an
:class:`~budgetlib.model.result.Allocation` — together with the two amounts that explain it:

* ``carried_in[u, t, y, s]`` — the part of a unit's allocation for year ``y`` that is its own
  unspent money of ``y − 1`` (chuyển nguồn);
* ``pooled_in[t, y, s]`` — money recalled from units at the close of ``y − 1`` and re-split with
  the budget of ``y``.

So, for every task, year and source, Σ_u allocated = plan budget + pooled_in + Σ_u carried_in, and a
closed year satisfies allocated = disbursed + carried + recalled in every cell (see
:func:`budgetlib.planning.execution.close_year`). ``steps`` records the provenance (original
allocation, next-year splits, revisions). :meth:`CycleState.to_json` is deterministic.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from .result import Allocation, AllocationStatus

__all__ = ["StepKind", "CycleStep", "CycleState", "allocation_from_dict", "CYCLE_STATE_SCHEMA"]

CYCLE_STATE_SCHEMA = "budgetlib.cycle_state"
_STATE_KEYS = frozenset({"plan", "policy", "status", "rounding_unit", "total", "objective", "solver", "solver_version", "units", "tasks",
                         "years", "sources", "allocations", "baseline", "reference"})


class StepKind(StrEnum):
    ORIGINAL = "original"  # the plan's allocation as first made
    NEXT_YEAR = "next_year"  # a year re-split after the previous year closed
    REVISION = "revision"  # a mid-year revision (điều chỉnh dự toán)


@dataclass(frozen=True)
class CycleStep:
    """One step that produced the state: what was done, for which year, as of which period."""

    kind: StepKind
    year: int | None = None
    period: str | None = None  # "2013H1" for a revision
    policy: str = ""
    prior: str = ""  # stability prior of a next-year split: "spending" | "allocation" | "none"

    def to_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in dataclasses.asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CycleStep:
        return cls(StepKind(data["kind"]), data.get("year"), data.get("period"), data.get("policy", ""), data.get("prior", ""))


def _index(names: tuple[Any, ...]) -> dict[Any, int]:
    return {n: i for i, n in enumerate(names)}


def allocation_from_dict(data: dict[str, Any]) -> Allocation:
    """An :class:`Allocation` from its :meth:`~Allocation.to_dict` form (``budgetlib allocate --json``).

    The amounts, the need shares and the identity of the solve come back; its reports (binding
    constraints, attainment, explanation) describe that solve and are not restored.
    """
    units = tuple(str(u) for u in data["units"])
    tasks = tuple(str(t) for t in data["tasks"])
    years = tuple(int(y) for y in data["years"])
    sources = tuple(str(s) for s in data["sources"])
    ui, ti, yi, si = _index(units), _index(tasks), _index(years), _index(sources)
    amounts = np.zeros((len(units), len(tasks), len(years), len(sources)), np.int64)
    for r in data.get("allocations", []):
        amounts[ui[str(r["unit"])], ti[str(r["task"])], yi[int(r["year"])], si[str(r["source"])]] += int(r["amount"])

    def shares(key: str) -> np.ndarray:
        out = np.zeros((len(units), len(tasks), len(years)))
        for r in data.get(key, []):
            out[ui[str(r["unit"])], ti[str(r["task"])], yi[int(r["year"])]] = float(r["amount"])
        return out

    baseline = shares("baseline")
    return Allocation(
        plan_code=str(data.get("plan", "")),
        policy=str(data.get("policy", "")),
        status=AllocationStatus(data.get("status", "optimal")),
        units=units,
        tasks=tasks,
        years=years,
        sources=sources,
        amounts=amounts,
        baseline=baseline,
        reference=shares("reference") if "reference" in data else baseline,
        rounding_unit=int(data.get("rounding_unit", 1)),
        objective=data.get("objective"),
        solver=str(data.get("solver", "")),
        solver_version=str(data.get("solver_version", "")),
    )


@dataclass(frozen=True, eq=False)
class CycleState:
    """The allocation in force (``allocation.amounts[u, t, y, s]``), what of it was carried in from
    the previous year (``carried_in``, same shape) and what was re-pooled (``pooled_in[t, y, s]``)."""

    allocation: Allocation
    carried_in: np.ndarray
    pooled_in: np.ndarray
    steps: tuple[CycleStep, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        a = self.allocation
        if self.carried_in.shape != a.amounts.shape or self.carried_in.dtype != np.int64:
            raise ValueError(f"carried_in must be int64 of shape {a.amounts.shape}")
        pooled_shape = (len(a.tasks), len(a.years), len(a.sources))
        if self.pooled_in.shape != pooled_shape or self.pooled_in.dtype != np.int64:
            raise ValueError(f"pooled_in must be int64 of shape {pooled_shape}")
        if np.any(self.carried_in < 0) or np.any(self.pooled_in < 0) or np.any(self.carried_in > a.amounts):
            raise ValueError("carried_in and pooled_in must be non-negative and carried_in within the allocation")
        self.carried_in.setflags(write=False)
        self.pooled_in.setflags(write=False)

    @classmethod
    def original(cls, allocation: Allocation) -> CycleState:
        """The state right after the plan is allocated: nothing carried, nothing pooled."""
        return cls(
            allocation,
            np.zeros(allocation.amounts.shape, np.int64),
            np.zeros((len(allocation.tasks), len(allocation.years), len(allocation.sources)), np.int64),
            (CycleStep(StepKind.ORIGINAL, policy=allocation.policy),),
        )

    # -- axes ----------------------------------------------------------------------------------
    @property
    def units(self) -> tuple[str, ...]:
        return self.allocation.units

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.allocation.tasks

    @property
    def years(self) -> tuple[int, ...]:
        return self.allocation.years

    @property
    def sources(self) -> tuple[str, ...]:
        return self.allocation.sources

    @property
    def amounts(self) -> np.ndarray:
        return self.allocation.amounts

    def year_index(self, year: int) -> int:
        return self.years.index(year)

    def year(self, year: int) -> np.ndarray:
        """Allocated amounts in force for one year, ``[U, T, S]``."""
        return self.amounts[:, :, self.year_index(year), :]

    def new_money(self, year: int) -> np.ndarray:
        """The year's allocation without what was carried in, ``[U, T, S]`` (the part a split decides)."""
        y = self.year_index(year)
        return self.amounts[:, :, y, :] - self.carried_in[:, :, y, :]

    # -- steps ---------------------------------------------------------------------------------
    def with_year(
        self,
        year: int,
        amounts: np.ndarray,
        *,
        carried_in: np.ndarray | None = None,
        pooled_in: np.ndarray | None = None,
        step: CycleStep,
        allocation: Allocation | None = None,
    ) -> CycleState:
        """The state with year ``year`` replaced by ``amounts[U, T, S]`` (and its carried/pooled parts).

        ``allocation`` (the solve that produced the year) lends its baseline for that year, its
        constraint reports and explanation lines to the new state's allocation.
        """
        y = self.year_index(year)
        new_amounts = self.amounts.copy()
        new_amounts[:, :, y, :] = amounts
        new_carried = self.carried_in.copy()
        if carried_in is not None:
            new_carried[:, :, y, :] = carried_in
        new_pooled = self.pooled_in.copy()
        if pooled_in is not None:
            new_pooled[:, y, :] = pooled_in
        baseline = self.allocation.baseline.copy()
        assert self.allocation.reference is not None
        reference = self.allocation.reference.copy()
        changes: dict[str, Any] = {"amounts": new_amounts, "baseline": baseline, "reference": reference}
        if allocation is not None:
            if year in allocation.years and allocation.units == self.units and allocation.tasks == self.tasks:
                k = allocation.years.index(year)
                baseline[:, :, y] = allocation.baseline[:, :, k]
                if allocation.reference is not None:
                    reference[:, :, y] = allocation.reference[:, :, k]
            changes.update(
                constraints=allocation.constraints,
                attainment=allocation.attainment,
                notes=allocation.notes,
                objective=allocation.objective,
                objective_label=allocation.objective_label,
                solver=allocation.solver,
                solver_version=allocation.solver_version,
            )
        new_alloc = dataclasses.replace(self.allocation, **changes)
        return CycleState(new_alloc, new_carried, new_pooled, (*self.steps, step))

    # -- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def records(arr: np.ndarray, names: tuple[str, ...], axes: tuple[tuple[Any, ...], ...]) -> list[dict[str, Any]]:
            out = []
            for idx in np.argwhere(arr != 0):
                row: dict[str, Any] = {n: (int(ax[i]) if n == "year" else ax[i]) for n, ax, i in zip(names, axes, idx)}
                row["amount"] = int(arr[tuple(idx)])
                out.append(row)
            return out

        a = self.allocation
        return {
            "schema": CYCLE_STATE_SCHEMA,
            "schema_version": 1,
            # The amounts in force and the identity of the last solve; its reports are the step's output.
            "allocation": {k: v for k, v in a.to_dict().items() if k in _STATE_KEYS},
            "carried_in": records(self.carried_in, ("unit", "task", "year", "source"), (a.units, a.tasks, a.years, a.sources)),
            "pooled_in": records(self.pooled_in, ("task", "year", "source"), (a.tasks, a.years, a.sources)),
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, records in index order, no timestamps)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CycleState:
        """A state from :meth:`to_dict`, or from a plain allocation (``budgetlib allocate --json``)."""
        if data.get("schema") != CYCLE_STATE_SCHEMA:
            return cls.original(allocation_from_dict(data))
        a = allocation_from_dict(data["allocation"])
        ui, ti, yi, si = _index(a.units), _index(a.tasks), _index(a.years), _index(a.sources)
        carried = np.zeros(a.amounts.shape, np.int64)
        for r in data.get("carried_in", []):
            carried[ui[str(r["unit"])], ti[str(r["task"])], yi[int(r["year"])], si[str(r["source"])]] = int(r["amount"])
        pooled = np.zeros((len(a.tasks), len(a.years), len(a.sources)), np.int64)
        for r in data.get("pooled_in", []):
            pooled[ti[str(r["task"])], yi[int(r["year"])], si[str(r["source"])]] = int(r["amount"])
        steps = tuple(CycleStep.from_dict(s) for s in data.get("steps", [])) or (CycleStep(StepKind.ORIGINAL, policy=a.policy),)
        return cls(a, carried, pooled, steps)

    @classmethod
    def from_json(cls, text: str) -> CycleState:
        return cls.from_dict(json.loads(text))

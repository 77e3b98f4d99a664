"""What changed between two versions: plan fields and constraints, and the allocated amounts.

Plan documents are compared as their canonical JSON. Lists whose items have an identity are
matched by it rather than by position — units, agencies, tasks, sources, targets and assumptions
by code, budget lines by task/agency/year/source, a task's agencies by agency, policy constraints
by name — so inserting a unit shows one added unit, not a cascade of shifted rows; a change of
order among the same items is reported as such. Allocations are compared per unit × task × year
(summed over funding sources) from each version's newest successful run.

Two invariants, checked by property tests: ``diff(A, A)`` is empty, and the amount changes are the
allocations' difference (each ``old``/``new`` is that version's amount, and the deltas add up to the
difference of the totals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..core.i18n import Msg

if TYPE_CHECKING:
    from .records import RunRecord
    from .store import Store

__all__ = ["ChangeKind", "Key", "FieldChange", "AmountChange", "PlanDiff", "diff_documents", "diff_allocations", "diff_versions", "format_path"]


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    REORDERED = "reordered"

    @property
    def label(self) -> Msg:
        return Msg(f"store.change.{self.value}")


@dataclass(frozen=True)
class Key:
    """A list item named by its identity (``units[303]``) rather than its position."""

    value: str

    def __str__(self) -> str:
        return self.value


Segment = str | int | Key


def _item_key(path: tuple[str, ...], item: Any) -> str | None:
    if not isinstance(item, Mapping):
        return None
    if path in (("units",), ("agencies",), ("tasks",), ("sources",), ("targets",), ("assumptions",)):
        return str(item.get("code"))
    if path == ("budget_lines",):
        return "/".join(str(item.get(k)) for k in ("task", "agency", "year", "source"))
    if path == ("tasks", "*", "agencies"):
        return str(item.get("agency"))
    if path == ("allocation", "constraints"):
        return str(item.get("name"))
    return None


def format_path(path: Sequence[Segment]) -> str:
    """``("units", Key("303"), "attributes", "population")`` → ``units[303].attributes.population``."""
    out = ""
    for seg in path:
        if isinstance(seg, (int, Key)):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


@dataclass(frozen=True)
class FieldChange:
    """One change of the plan document at ``path`` (JSON values ``old`` → ``new``; ``None`` when absent)."""

    path: tuple[Segment, ...]
    kind: ChangeKind
    old: Any = None
    new: Any = None

    @property
    def section(self) -> str:
        return str(self.path[0]) if self.path else ""

    @property
    def where(self) -> str:
        return format_path(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.where,
            "segments": [{"key": s.value} if isinstance(s, Key) else s for s in self.path],
            "kind": self.kind.value,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class AmountChange:
    """The allocated amount of one unit × task × year in A and in B (integer đồng)."""

    unit: str
    task: str
    year: int
    old: int
    new: int

    @property
    def delta(self) -> int:
        return self.new - self.old

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "task": self.task, "year": self.year, "old": self.old, "new": self.new, "delta": self.delta}


@dataclass(frozen=True)
class PlanDiff:
    """The comparison of version ``a`` with version ``b``."""

    a: str
    b: str
    a_hash: str
    b_hash: str
    fields: tuple[FieldChange, ...] = ()
    amounts: tuple[AmountChange, ...] = ()
    a_run: RunRecord | None = None
    b_run: RunRecord | None = None
    a_total: int | None = None
    b_total: int | None = None
    notes: tuple[Msg, ...] = ()
    unit_names: Mapping[str, str] = field(default_factory=dict)
    task_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing changed: the same content and the same allocated amounts."""
        return not self.fields and not self.amounts

    @property
    def same_content(self) -> bool:
        return self.a_hash == self.b_hash

    @property
    def compared_allocations(self) -> bool:
        return self.a_total is not None and self.b_total is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"version": self.a, "content_hash": self.a_hash, "run": self.a_run.id if self.a_run else None, "total": self.a_total},
            "b": {"version": self.b, "content_hash": self.b_hash, "run": self.b_run.id if self.b_run else None, "total": self.b_total},
            "same_content": self.same_content,
            "empty": self.is_empty,
            "fields": [c.to_dict() for c in self.fields],
            "allocations": [c.to_dict() for c in self.amounts],
            "notes": [n.to_dict() for n in self.notes],
        }


# ---------------------------------------------------------------------------------------------


def diff_documents(a: Any, b: Any) -> list[FieldChange]:
    """Every change from plan document ``a`` to ``b`` (JSON values): top-level sections in the
    order of the plan model (program, units, …, allocation), within them in document order."""
    out: list[FieldChange] = []
    _diff(a, b, (), (), out)
    return out


def _section_rank() -> dict[str, int]:
    from ..model.plan import Plan

    return {name: i for i, name in enumerate(Plan.model_fields)}


def _diff(a: Any, b: Any, path: tuple[Segment, ...], shape: tuple[str, ...], out: list[FieldChange]) -> None:
    if a == b and type(a) is type(b):
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = list(a) + [k for k in b if k not in a]
        if not path:
            rank = _section_rank()
            keys.sort(key=lambda k: (rank.get(k, len(rank)), k))
        for k in keys:
            if k not in b:
                out.append(FieldChange((*path, k), ChangeKind.REMOVED, a[k], None))
            elif k not in a:
                out.append(FieldChange((*path, k), ChangeKind.ADDED, None, b[k]))
            else:
                _diff(a[k], b[k], (*path, k), (*shape, k), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        keyed_a = _keyed(shape, a)
        keyed_b = _keyed(shape, b)
        if keyed_a is not None and keyed_b is not None:
            for k, item in keyed_a.items():
                if k not in keyed_b:
                    out.append(FieldChange((*path, Key(k)), ChangeKind.REMOVED, item, None))
                else:
                    _diff(item, keyed_b[k], (*path, Key(k)), (*shape, "*"), out)
            for k, item in keyed_b.items():
                if k not in keyed_a:
                    out.append(FieldChange((*path, Key(k)), ChangeKind.ADDED, None, item))
            common_a = [k for k in keyed_a if k in keyed_b]
            common_b = [k for k in keyed_b if k in keyed_a]
            if common_a != common_b:
                out.append(FieldChange(path, ChangeKind.REORDERED, common_a, common_b))
            return
        for i in range(min(len(a), len(b))):
            _diff(a[i], b[i], (*path, i), (*shape, "*"), out)
        for i in range(len(b), len(a)):
            out.append(FieldChange((*path, i), ChangeKind.REMOVED, a[i], None))
        for i in range(len(a), len(b)):
            out.append(FieldChange((*path, i), ChangeKind.ADDED, None, b[i]))
        return
    out.append(FieldChange(path, ChangeKind.CHANGED, a, b))


def _keyed(shape: tuple[str, ...], items: list[Any]) -> dict[str, Any] | None:
    """Items by identity (a repeated identity gets ``#2``, ``#3`` …); ``None`` for positional lists."""
    out: dict[str, Any] = {}
    for item in items:
        k = _item_key(shape, item)
        if k is None:
            return None
        name, n = k, 1
        while name in out:
            n += 1
            name = f"{k}#{n}"
        out[name] = item
    return out


def _cells(output: Mapping[str, Any] | None) -> dict[tuple[str, str, int], int]:
    cells: dict[tuple[str, str, int], int] = {}
    if not output:
        return cells
    for rec in output.get("allocations", ()):
        key = (str(rec["unit"]), str(rec["task"]), int(rec["year"]))
        cells[key] = cells.get(key, 0) + int(rec["amount"])
    return cells


def diff_allocations(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> list[AmountChange]:
    """Amount changes per unit × task × year between two allocation documents
    (:meth:`~budgetlib.model.result.Allocation.to_dict`), in B's unit/task/year order, then A's."""
    ca, cb = _cells(a), _cells(b)
    order: dict[str, dict[Any, int]] = {"unit": {}, "task": {}, "year": {}}
    for doc in (b, a):
        if doc:
            for dim, listed in (("unit", "units"), ("task", "tasks"), ("year", "years")):
                for v in doc.get(listed, ()):
                    order[dim].setdefault(int(v) if dim == "year" else str(v), len(order[dim]))
    keys = set(ca) | set(cb)

    def rank(k: tuple[str, str, int]) -> tuple[int, int, int, str, str]:
        big = 1 << 30
        return (order["unit"].get(k[0], big), order["task"].get(k[1], big), order["year"].get(k[2], big), k[0], k[1])

    out = []
    for k in sorted(keys, key=lambda k: (rank(k), k[2])):
        old, new = ca.get(k, 0), cb.get(k, 0)
        if old != new:
            out.append(AmountChange(k[0], k[1], k[2], old, new))
    return out


def diff_versions(store: Store, a: str, b: str, *, policy_kind: str | None = None) -> PlanDiff:
    """Compare versions ``a`` and ``b`` of a store: their documents (each checked against its hash)
    and the allocations of their newest successful runs (of ``policy_kind`` if given)."""
    import json

    va, vb = store.version(a), store.version(b)
    doc_a = json.loads(store.document(va.ref))
    doc_b = json.loads(store.document(vb.ref))
    fields = diff_documents(doc_a, doc_b)
    run_a = store.latest_run(va.ref, policy_kind=policy_kind)
    run_b = store.latest_run(vb.ref, policy_kind=policy_kind)
    notes: list[Msg] = []
    amounts: list[AmountChange] = []
    for ref, run in ((va.ref, run_a), (vb.ref, run_b)):
        if run is None:
            notes.append(Msg("store.diff.no_run", version=ref))
    if run_a is not None and run_b is not None:
        if run_a.policy_kind != run_b.policy_kind:
            notes.append(Msg("store.diff.policies_differ", a=run_a.policy_kind, b=run_b.policy_kind))
        amounts = diff_allocations(store.run_output(run_a.id), store.run_output(run_b.id))
    names_u = {str(u["code"]): str(u["name"]) for doc in (doc_a, doc_b) for u in doc.get("units", ())}
    names_t = {str(t["code"]): str(t["name"]) for doc in (doc_a, doc_b) for t in doc.get("tasks", ())}
    return PlanDiff(
        a=va.ref,
        b=vb.ref,
        a_hash=va.content_hash,
        b_hash=vb.content_hash,
        fields=tuple(fields),
        amounts=tuple(amounts),
        a_run=run_a,
        b_run=run_b,
        a_total=run_a.total if run_a and run_b else None,
        b_total=run_b.total if run_a and run_b else None,
        notes=tuple(notes),
        unit_names=names_u,
        task_names=names_t,
    )

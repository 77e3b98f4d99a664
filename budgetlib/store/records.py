"""What the store hands out: immutable records of versions, stages, runs, approvals, actuals and events.

Records are plain frozen dataclasses with ``to_dict()`` for JSON; nothing here talks to a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ..core.i18n import Msg
from .errors import BadVersionRef

__all__ = ["Stage", "EventKind", "VersionRef", "VersionInfo", "ApprovalRecord", "RunRecord", "ActualsRecord", "HistoryEvent"]


class Stage(StrEnum):
    """Where a version is on its way to money: Dự thảo → Trình → Phê duyệt, and Điều chỉnh.

    A version saved while its plan has no approved version is a *draft* (Dự thảo); one saved after
    an approval is a *revision* (Điều chỉnh) of the approved plan. Either is *submitted* (Trình)
    for approval, and either returns to its first stage if sent back. *Approved* (Phê duyệt) is
    final: an approved version never changes; any edit is saved as a new version.
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REVISION = "revision"

    @property
    def label(self) -> Msg:
        return Msg(f"store.stage.{self.value}")

    @property
    def editable(self) -> bool:
        return self is not Stage.APPROVED


class EventKind(StrEnum):
    """Kinds of entry in a plan's history."""

    SAVED = "saved"
    STAGE = "stage"
    APPROVED = "approved"
    RUN = "run"
    ACTUALS = "actuals"


@dataclass(frozen=True)
class VersionRef:
    """A reference to a version as users write it: ``CODE@3`` (version 3 of the plan whose program
    code is ``CODE``), ``CODE`` or ``CODE@latest`` (its newest version), ``CODE@approved`` (its
    newest approved version).

    >>> VersionRef.parse("HP-2011@3")
    VersionRef(plan='HP-2011', number=3, which='number')
    >>> str(VersionRef.parse("HP-2011@approved"))
    'HP-2011@approved'
    """

    plan: str
    number: int | None = None
    which: str = "number"  # "number" | "latest" | "approved"

    @classmethod
    def parse(cls, text: str) -> VersionRef:
        raw = text.strip()
        plan, at, which = raw.rpartition("@")
        if not at or not (which.isdigit() or which in ("latest", "approved")):
            plan, which = raw, "latest"  # no suffix: a code may itself contain "@"
        plan = plan.strip()
        if not plan:
            raise BadVersionRef(text)
        if which.isdigit():
            if int(which) < 1:
                raise BadVersionRef(text)
            return cls(plan, int(which), "number")
        return cls(plan, None, which)

    def __str__(self) -> str:
        if self.which == "number":
            return f"{self.plan}@{self.number}"
        return f"{self.plan}@{self.which}"


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


@dataclass(frozen=True)
class ApprovalRecord:
    """An approval: who approved which content (its hash at that moment), when, by which decision."""

    version: str
    content_hash: str
    approved_by: str
    approved_at: datetime
    decision: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "content_hash": self.content_hash,
            "approved_by": self.approved_by,
            "approved_at": _iso(self.approved_at),
            "decision": self.decision,
            "note": self.note,
        }


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of a plan (without its document; :meth:`Store.plan` loads that)."""

    id: int
    plan_code: str
    number: int
    content_hash: str
    stage: Stage
    program_name: str
    total: int
    created_at: datetime
    created_by: str
    note: str = ""
    source_name: str = ""
    source_sha256: str | None = None
    parent: str | None = None
    budgetlib_version: str = ""
    stage_changed_at: datetime | None = None
    stage_changed_by: str = ""
    approval: ApprovalRecord | None = None
    created: bool = True
    """False when :meth:`Store.save` found the content unchanged and returned the newest version."""

    @property
    def ref(self) -> str:
        """The version's name for people and logs: ``CODE@3``."""
        return f"{self.plan_code}@{self.number}"

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "id": self.id,
            "plan": self.plan_code,
            "number": self.number,
            "content_hash": self.content_hash,
            "stage": self.stage.value,
            "program_name": self.program_name,
            "total": self.total,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "note": self.note,
            "source_name": self.source_name,
            "source_sha256": self.source_sha256,
            "parent": self.parent,
            "budgetlib_version": self.budgetlib_version,
            "stage_changed_at": _iso(self.stage_changed_at),
            "stage_changed_by": self.stage_changed_by,
            "approval": self.approval.to_dict() if self.approval else None,
        }


@dataclass(frozen=True)
class RunRecord:
    """An allocation run of a stored version: what went in, what came out, with what, by whom, where."""

    id: int
    version: str
    policy_kind: str
    status: str
    total: int
    input_sha256: str
    output_sha256: str
    budgetlib_version: str
    solver: str
    solver_version: str
    python_version: str
    user: str
    machine: str
    started_at: datetime
    finished_at: datetime
    years: tuple[int, ...] | None = None
    source_sha256: str | None = None
    policy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "policy_kind": self.policy_kind,
            "policy": self.policy,
            "years": list(self.years) if self.years is not None else None,
            "status": self.status,
            "total": self.total,
            "input_sha256": self.input_sha256,
            "source_sha256": self.source_sha256,
            "output_sha256": self.output_sha256,
            "budgetlib_version": self.budgetlib_version,
            "solver": self.solver,
            "solver_version": self.solver_version,
            "python_version": self.python_version,
            "user": self.user,
            "machine": self.machine,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
        }


@dataclass(frozen=True)
class ActualsRecord:
    """A document of actual spending (thực hiện) for a plan, kept as canonical JSON with its hash."""

    id: int
    plan_code: str
    year: int | None
    content_hash: str
    document: Any
    created_at: datetime
    created_by: str
    version: str | None = None
    source_name: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plan": self.plan_code,
            "year": self.year,
            "version": self.version,
            "content_hash": self.content_hash,
            "document": self.document,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "source_name": self.source_name,
            "note": self.note,
        }


@dataclass(frozen=True)
class HistoryEvent:
    """One line of a plan's history, oldest first: a save, a stage change, an approval, a run, actuals."""

    id: int
    plan_code: str
    kind: EventKind
    at: datetime
    actor: str
    version: str | None
    detail: dict[str, Any]

    @property
    def summary(self) -> Msg:
        """What happened, as a catalogue message (``store.event.<kind>``) with its details."""
        d = self.detail
        if self.kind is EventKind.STAGE:
            return Msg("store.event.stage", version=self.version, old=Stage(d["from"]).label, new=Stage(d["to"]).label, note=d.get("note", ""))
        if self.kind is EventKind.APPROVED:
            return Msg("store.event.approved", version=self.version, decision=d.get("decision", ""), hash=str(d.get("content_hash", ""))[:12])
        if self.kind is EventKind.RUN:
            return Msg("store.event.run", version=self.version, run=d.get("run"), policy=d.get("policy", ""), status=Msg(f"store.run_status.{d.get('status', 'optimal')}"), total=int(d.get("total", 0)))
        if self.kind is EventKind.ACTUALS:
            year = d.get("year")
            return Msg("store.event.actuals", year=year if year is not None else "—", hash=str(d.get("content_hash", ""))[:12])
        return Msg("store.event.saved", version=self.version, stage=Stage(d.get("stage", "draft")).label, hash=str(d.get("content_hash", ""))[:12], note=d.get("note", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "plan": self.plan_code,
            "kind": self.kind.value,
            "at": _iso(self.at),
            "actor": self.actor,
            "version": self.version,
            "detail": self.detail,
        }

"""The plan store: versions with content hashes, stages, approvals, allocation runs, actuals, history.

One small interface over SQLite (the default, one file) and PostgreSQL (a shared office store):

>>> import tempfile, pathlib
>>> from budgetlib.io.jsonio import load_plan
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with Store.open(folder / "kho.sqlite", create=True, user="lan") as store:
...     v1 = store.save(load_plan("examples/haiphong_2011_2015/plan.json"), note="bản đầu")
...     _ = store.submit(v1.ref)
...     approved = store.approve(v1.ref, decision="QĐ 1234/QĐ-UBND")
>>> approved.stage.value, approved.ref == v1.ref
('approved', True)

Every method is one short transaction; writes are serialised and retried on conflict
(:meth:`budgetlib.store.engine.Database.write`), so concurrent savers never lose a version. A
version's document never changes after it is saved (the API has no way to, and database triggers
refuse it); approving it records the hash it had, so a later edit of the file is found by
:meth:`Store.verify` and refused by :meth:`Store.plan`.
"""

from __future__ import annotations

import json
import os
import platform
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .._version import __version__
from ..core.problems import PlanInvalid, Problem, Severity, Source
from ..model.plan import Plan
from ..model.policy import AllocationPolicy
from ..model.result import Allocation
from ..planning.validation import validate_plan
from .canonical import DOCUMENT_C14N, PLAN_C14N, canonical_json, canonical_plan_json, sha256_bytes, sha256_text
from .config import default_user
from .engine import Database, StoreAddress, connect
from .errors import ImmutableVersion, StageTransitionError, TamperedRecord, UnknownVersion
from .records import ActualsRecord, ApprovalRecord, EventKind, HistoryEvent, RunRecord, Stage, VersionInfo, VersionRef
from .schema import actuals, approvals, events, plans, runs, versions

__all__ = ["Store"]

Clock = Callable[[], datetime]


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


_parent = versions.alias("parent")


def _version_query() -> sa.Select[Any]:
    return (
        sa.select(
            versions,
            plans.c.code.label("plan_code"),
            _parent.c.number.label("parent_number"),
            approvals.c.content_hash.label("approved_hash"),
            approvals.c.approved_at,
            approvals.c.approved_by,
            approvals.c.decision,
            approvals.c.note.label("approval_note"),
        )
        .join(plans, plans.c.id == versions.c.plan_id)
        .outerjoin(_parent, _parent.c.id == versions.c.parent_id)
        .outerjoin(approvals, approvals.c.version_id == versions.c.id)
    )


def _version(row: Row[Any], *, created: bool = True) -> VersionInfo:
    m = row._mapping
    approval = None
    if m["approved_at"] is not None:
        approval = ApprovalRecord(
            version=f"{m['plan_code']}@{m['number']}",
            content_hash=m["approved_hash"],
            approved_by=m["approved_by"],
            approved_at=_utc(m["approved_at"]),  # type: ignore[arg-type]
            decision=m["decision"],
            note=m["approval_note"],
        )
    return VersionInfo(
        id=m["id"],
        plan_code=m["plan_code"],
        number=m["number"],
        content_hash=m["content_hash"],
        stage=Stage(m["stage"]),
        program_name=m["program_name"],
        total=int(m["total"]),
        created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
        created_by=m["created_by"],
        note=m["note"],
        source_name=m["source_name"],
        source_sha256=m["source_sha256"],
        parent=f"{m['plan_code']}@{m['parent_number']}" if m["parent_number"] is not None else None,
        budgetlib_version=m["budgetlib_version"],
        stage_changed_at=_utc(m["stage_changed_at"]),
        stage_changed_by=m["stage_changed_by"],
        approval=approval,
        created=created,
    )


def _run(row: Row[Any], ref: str) -> RunRecord:
    m = row._mapping
    return RunRecord(
        id=m["id"],
        version=ref,
        policy_kind=m["policy_kind"],
        status=m["status"],
        total=int(m["total"]),
        input_sha256=m["input_sha256"],
        output_sha256=m["output_sha256"],
        budgetlib_version=m["budgetlib_version"],
        solver=m["solver"],
        solver_version=m["solver_version"],
        python_version=m["python_version"],
        user=m["user_name"],
        machine=m["machine"],
        started_at=_utc(m["started_at"]),  # type: ignore[arg-type]
        finished_at=_utc(m["finished_at"]),  # type: ignore[arg-type]
        years=tuple(json.loads(m["years"])) if m["years"] is not None else None,
        source_sha256=m["source_sha256"],
        policy=json.loads(m["policy"]),
    )


class Store:
    """A budgetlib plan store. Open with :meth:`Store.open` (or :func:`budgetlib.store.open_store`).

    ``user`` is recorded as who saved, submitted, approved and ran (default :func:`default_user`);
    ``clock`` gives the time of each record (UTC; tests pass a fixed clock).
    """

    def __init__(self, db: Database, *, user: str | None = None, clock: Clock | None = None, machine: str | None = None) -> None:
        self.db = db
        self.user = user or default_user()
        self.machine = machine or platform.node() or "?"
        self._clock = clock or _now

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        store: str | os.PathLike[str] | StoreAddress | None = None,
        *,
        create: bool = False,
        user: str | None = None,
        clock: Clock | None = None,
    ) -> Store:
        """Open the store at ``store`` (a path or URL; default ``$BUDGETLIB_STORE`` or
        ``./budgetlib-store.sqlite``). ``create=True`` creates it when missing.

        Raises :class:`~budgetlib.store.errors.StoreMissing`, :class:`~budgetlib.store.errors.NotAStore`,
        :class:`~budgetlib.store.errors.StoreTooNew` or :class:`~budgetlib.store.errors.StoreUnavailable`.
        """
        return cls(connect(store, create=create, created_with=__version__), user=user, clock=clock)

    @property
    def address(self) -> StoreAddress:
        return self.db.address

    @property
    def display(self) -> str:
        """Where the store is, for people (a file path, or a URL without its password)."""
        return self.db.address.display

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _time(self) -> datetime:
        t = self._clock()
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)

    # -- looking versions up -----------------------------------------------------------------

    def _find(self, conn: Connection, ref: str | VersionRef) -> Row[Any]:
        vref = ref if isinstance(ref, VersionRef) else VersionRef.parse(ref)
        q = _version_query().where(plans.c.code == vref.plan)
        if vref.which == "number":
            q = q.where(versions.c.number == vref.number)
        elif vref.which == "approved":
            q = q.where(versions.c.stage == Stage.APPROVED.value).order_by(versions.c.number.desc()).limit(1)
        else:
            q = q.order_by(versions.c.number.desc()).limit(1)
        row = conn.execute(q).first()
        if row is None:
            raise UnknownVersion(str(ref))
        return row

    def version(self, ref: str | VersionRef) -> VersionInfo:
        """The version ``ref`` (``CODE@3``, ``CODE`` for the newest, ``CODE@approved``)."""
        with self.db.read() as conn:
            return _version(self._find(conn, ref))

    def versions(self, plan_code: str | None = None) -> list[VersionInfo]:
        """Every version (of one plan, or of all plans), by plan code then number."""
        q = _version_query().order_by(plans.c.code, versions.c.number)
        if plan_code is not None:
            q = q.where(plans.c.code == plan_code)
        with self.db.read() as conn:
            return [_version(r) for r in conn.execute(q)]

    def plan_codes(self) -> list[str]:
        with self.db.read() as conn:
            return list(conn.execute(sa.select(plans.c.code).order_by(plans.c.code)).scalars())

    def document(self, ref: str | VersionRef, *, verify: bool = True) -> str:
        """The canonical JSON document of a version; checked against its hash unless ``verify=False``."""
        with self.db.read() as conn:
            row = self._find(conn, ref)
        m = row._mapping
        info = _version(row)
        if verify:
            found = sha256_text(m["document"])
            if found != m["content_hash"]:
                raise TamperedRecord(_what("version"), info.ref, m["content_hash"], found)
            if info.approval is not None and info.approval.content_hash != m["content_hash"]:
                raise TamperedRecord(_what("approval"), info.ref, info.approval.content_hash, m["content_hash"])
        return str(m["document"])

    def plan(self, ref: str | VersionRef, *, verify: bool = True) -> Plan:
        """The plan of a version, checked against its content hash (and its approval's) first."""
        return Plan.model_validate(json.loads(self.document(ref, verify=verify)))

    # -- saving and stages -------------------------------------------------------------------

    def save(
        self,
        plan: Plan,
        *,
        note: str = "",
        source_name: str = "",
        source_sha256: str | None = None,
        user: str | None = None,
    ) -> VersionInfo:
        """Save ``plan`` as the next version of its program (``plan.program.code``).

        The new version is a draft (Dự thảo), or a revision (Điều chỉnh) once the program has an
        approved version. When the content equals the newest version's, nothing is written and
        that version is returned with ``created=False`` (saving twice makes one version).
        A plan with validation errors is refused (:class:`~budgetlib.core.problems.PlanInvalid`).
        """
        errors = [p for p in validate_plan(plan) if p.severity is Severity.ERROR]
        if errors:
            raise PlanInvalid(errors)
        document = canonical_plan_json(plan)
        digest = sha256_text(document)
        code = plan.program.code
        who = user or self.user

        def work(conn: Connection) -> VersionInfo:
            now = self._time()
            plan_id = conn.execute(sa.select(plans.c.id).where(plans.c.code == code)).scalar()
            if plan_id is None:
                plan_id = conn.execute(plans.insert().values(code=code, created_at=now)).inserted_primary_key[0]  # type: ignore[index]
            latest = conn.execute(
                sa.select(versions.c.id, versions.c.number, versions.c.content_hash)
                .where(versions.c.plan_id == plan_id)
                .order_by(versions.c.number.desc())
                .limit(1)
            ).first()
            if latest is not None and latest.content_hash == digest:
                return _version(self._find(conn, VersionRef(code, latest.number)), created=False)
            approved_before = conn.execute(
                sa.select(sa.func.count()).where(versions.c.plan_id == plan_id, versions.c.stage == Stage.APPROVED.value)
            ).scalar()
            stage = Stage.REVISION if approved_before else Stage.DRAFT
            number = (latest.number if latest is not None else 0) + 1
            version_id = conn.execute(
                versions.insert().values(
                    plan_id=plan_id,
                    number=number,
                    content_hash=digest,
                    c14n=PLAN_C14N,
                    document=document,
                    program_name=plan.program.name,
                    total=int(plan.program.total),
                    parent_id=latest.id if latest is not None else None,
                    created_at=now,
                    created_by=who,
                    note=note,
                    source_name=source_name,
                    source_sha256=source_sha256,
                    budgetlib_version=__version__,
                    stage=stage.value,
                    stage_changed_at=None,
                    stage_changed_by="",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self._event(conn, plan_id, version_id, EventKind.SAVED, now, who, {"content_hash": digest, "stage": stage.value, "note": note, "number": number})
            return _version(self._find(conn, VersionRef(code, number)))

        return self.db.write(work, ref=code)

    def _event(self, conn: Connection, plan_id: int, version_id: int | None, kind: EventKind, at: datetime, actor: str, detail: dict[str, Any]) -> None:
        conn.execute(events.insert().values(plan_id=plan_id, version_id=version_id, kind=kind.value, at=at, actor=actor, detail=canonical_json(detail)))

    def _move(self, ref: str | VersionRef, allowed: Sequence[Stage], target: Callable[[Connection, Row[Any]], Stage], *, user: str | None, note: str, on_approve: dict[str, str] | None = None) -> VersionInfo:
        who = user or self.user

        def work(conn: Connection) -> VersionInfo:
            row = self._find(conn, ref)
            m = row._mapping
            info = _version(row)
            if info.stage is Stage.APPROVED:
                raise ImmutableVersion(info.ref)
            if info.stage not in allowed:
                raise StageTransitionError(info.ref, info.stage.label, target(conn, row).label)
            new = target(conn, row)
            now = self._time()
            if new is Stage.APPROVED:
                found = sha256_text(m["document"])
                if found != m["content_hash"]:
                    raise TamperedRecord(_what("version"), info.ref, m["content_hash"], found)
                extra = on_approve or {}
                conn.execute(
                    approvals.insert().values(
                        version_id=info.id,
                        content_hash=info.content_hash,
                        approved_at=now,
                        approved_by=who,
                        decision=extra.get("decision", ""),
                        note=note,
                    )
                )
            updated = conn.execute(
                versions.update()
                .where(versions.c.id == info.id, versions.c.stage == info.stage.value)
                .values(stage=new.value, stage_changed_at=now, stage_changed_by=who)
            ).rowcount
            if updated != 1:  # pragma: no cover - the write transaction is serialised
                raise StageTransitionError(info.ref, info.stage.label, new.label)
            plan_id = m["plan_id"]
            self._event(conn, plan_id, info.id, EventKind.STAGE, now, who, {"from": info.stage.value, "to": new.value, "note": note})
            if new is Stage.APPROVED:
                self._event(conn, plan_id, info.id, EventKind.APPROVED, now, who, {"content_hash": info.content_hash, "decision": (on_approve or {}).get("decision", "")})
            return _version(self._find(conn, VersionRef(info.plan_code, info.number)))

        return self.db.write(work, ref=str(ref))

    def submit(self, ref: str | VersionRef, *, user: str | None = None, note: str = "") -> VersionInfo:
        """Trình: a draft or revision goes to the approving authority."""
        return self._move(ref, (Stage.DRAFT, Stage.REVISION), lambda conn, row: Stage.SUBMITTED, user=user, note=note)

    def approve(self, ref: str | VersionRef, *, user: str | None = None, decision: str = "", note: str = "") -> VersionInfo:
        """Phê duyệt: a submitted version becomes approved and immutable; ``decision`` is the
        reference of the approving document (``Quyết định số 1234/QĐ-UBND``)."""
        return self._move(ref, (Stage.SUBMITTED,), lambda conn, row: Stage.APPROVED, user=user, note=note, on_approve={"decision": decision})

    def send_back(self, ref: str | VersionRef, *, user: str | None = None, note: str = "") -> VersionInfo:
        """Trả lại: a submitted version returns to its first stage (draft, or revision after an approval)."""

        def first_stage(conn: Connection, row: Row[Any]) -> Stage:
            m = row._mapping
            earlier = conn.execute(
                sa.select(sa.func.count()).where(
                    versions.c.plan_id == m["plan_id"], versions.c.number < m["number"], versions.c.stage == Stage.APPROVED.value
                )
            ).scalar()
            return Stage.REVISION if earlier else Stage.DRAFT

        return self._move(ref, (Stage.SUBMITTED,), first_stage, user=user, note=note)

    # -- allocation runs ---------------------------------------------------------------------

    def record_run(
        self,
        ref: str | VersionRef,
        allocation: Allocation,
        *,
        policy: AllocationPolicy,
        years: Sequence[int] | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        source_sha256: str | None = None,
        user: str | None = None,
    ) -> RunRecord:
        """Record an allocation of the version ``ref``: the policy, the input hash (the version's
        content hash), the output (the allocation's JSON) and its SHA-256, the budgetlib and solver
        versions, who ran it, on which machine, and when."""
        output = allocation.to_json()
        output_hash = sha256_text(output)
        packed = zlib.compress(output.encode("utf-8"), 6)
        who = user or self.user
        policy_doc = canonical_json(policy.model_dump(mode="json"))

        def work(conn: Connection) -> RunRecord:
            row = self._find(conn, ref)
            info = _version(row)
            if info.plan_code != allocation.plan_code:
                raise ValueError(f"allocation of plan {allocation.plan_code!r} recorded against version {info.ref}")
            found = sha256_text(row._mapping["document"])
            if found != info.content_hash:
                raise TamperedRecord(_what("version"), info.ref, info.content_hash, found)
            now = self._time()
            run_id = conn.execute(
                runs.insert().values(
                    version_id=info.id,
                    policy_kind=str(policy.kind.value),
                    policy=policy_doc,
                    years=json.dumps(list(years)) if years else None,
                    status=str(allocation.status.value),
                    total=allocation.total,
                    input_sha256=info.content_hash,
                    source_sha256=source_sha256,
                    output_sha256=output_hash,
                    output=packed,
                    budgetlib_version=__version__,
                    solver=allocation.solver or "",
                    solver_version=allocation.solver_version or "",
                    python_version=platform.python_version(),
                    user_name=who,
                    machine=self.machine,
                    started_at=_utc(started_at) or now,
                    finished_at=_utc(finished_at) or now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            detail = {"run": run_id, "policy": policy.kind.value, "status": allocation.status.value, "total": allocation.total, "output_sha256": output_hash}
            self._event(conn, row._mapping["plan_id"], info.id, EventKind.RUN, now, who, detail)
            return _run(conn.execute(sa.select(runs).where(runs.c.id == run_id)).one(), info.ref)

        return self.db.write(work, ref=str(ref))

    def runs(self, ref: str | VersionRef) -> list[RunRecord]:
        """The allocation runs of a version, oldest first."""
        with self.db.read() as conn:
            info = _version(self._find(conn, ref))
            rows = conn.execute(sa.select(runs).where(runs.c.version_id == info.id).order_by(runs.c.id)).all()
        return [_run(r, info.ref) for r in rows]

    def latest_run(self, ref: str | VersionRef, *, policy_kind: str | None = None, optimal_only: bool = True) -> RunRecord | None:
        """The newest run of a version (of one policy kind; only successful ones by default)."""
        found = [r for r in self.runs(ref) if (policy_kind is None or r.policy_kind == policy_kind) and (not optimal_only or r.status == "optimal")]
        return found[-1] if found else None

    def run_output(self, run_id: int, *, verify: bool = True) -> dict[str, Any]:
        """The allocation JSON of a run (as :meth:`Allocation.to_dict` wrote it), checked against its hash."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(runs.c.output, runs.c.output_sha256, plans.c.code, versions.c.number)
                .join(versions, versions.c.id == runs.c.version_id)
                .join(plans, plans.c.id == versions.c.plan_id)
                .where(runs.c.id == run_id)
            ).first()
        if row is None:
            raise UnknownVersion(f"run {run_id}")
        text = _unpack(row.output)
        if verify:
            found = sha256_text(text) if text is not None else ""
            if found != row.output_sha256:
                raise TamperedRecord(_what("run"), f"{row.code}@{row.number}", row.output_sha256, found)
        return json.loads(text or "{}")

    # -- actuals -----------------------------------------------------------------------------

    def save_actuals(
        self,
        plan_code: str,
        document: Any,
        *,
        year: int | None = None,
        version: str | VersionRef | None = None,
        source_name: str = "",
        note: str = "",
        user: str | None = None,
    ) -> ActualsRecord:
        """Keep a document of actual spending (any JSON value, typically the yearly-cycle module's
        ``to_dict()``) for a plan, optionally for one ``year`` and against one ``version``.

        The document is stored canonicalised with its SHA-256; each call adds a record (the newest
        for a year is :meth:`latest_actuals`), nothing is overwritten. The plan must have a version.
        """
        text = canonical_json(document)
        digest = sha256_text(text)
        who = user or self.user

        def work(conn: Connection) -> ActualsRecord:
            plan_id = conn.execute(sa.select(plans.c.id).where(plans.c.code == plan_code)).scalar()
            if plan_id is None:
                raise UnknownVersion(plan_code)
            version_id = None
            if version is not None:
                info = _version(self._find(conn, version))
                if info.plan_code != plan_code:
                    raise UnknownVersion(str(version))
                version_id = info.id
            now = self._time()
            actuals_id = conn.execute(
                actuals.insert().values(
                    plan_id=plan_id,
                    version_id=version_id,
                    year=year,
                    content_hash=digest,
                    c14n=DOCUMENT_C14N,
                    document=text,
                    created_at=now,
                    created_by=who,
                    source_name=source_name,
                    note=note,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            self._event(conn, plan_id, version_id, EventKind.ACTUALS, now, who, {"actuals": actuals_id, "year": year, "content_hash": digest})
            return self._actuals_rows(conn, actuals.c.id == actuals_id)[0]

        return self.db.write(work, ref=plan_code)

    def _actuals_rows(self, conn: Connection, *where: Any, verify: bool = True) -> list[ActualsRecord]:
        q = (
            sa.select(actuals, plans.c.code.label("plan_code"), versions.c.number.label("version_number"))
            .join(plans, plans.c.id == actuals.c.plan_id)
            .outerjoin(versions, versions.c.id == actuals.c.version_id)
            .where(*where)
            .order_by(actuals.c.id)
        )
        out = []
        for row in conn.execute(q):
            m = row._mapping
            if verify:
                found = sha256_text(m["document"])
                if found != m["content_hash"]:
                    raise TamperedRecord(_what("actuals"), f"{m['plan_code']}#{m['id']}", m["content_hash"], found)
            out.append(
                ActualsRecord(
                    id=m["id"],
                    plan_code=m["plan_code"],
                    year=m["year"],
                    content_hash=m["content_hash"],
                    document=json.loads(m["document"]),
                    created_at=_utc(m["created_at"]),  # type: ignore[arg-type]
                    created_by=m["created_by"],
                    version=f"{m['plan_code']}@{m['version_number']}" if m["version_number"] is not None else None,
                    source_name=m["source_name"],
                    note=m["note"],
                )
            )
        return out

    def actuals(self, plan_code: str, *, year: int | None = None) -> list[ActualsRecord]:
        """Every actuals record of a plan (of one year), oldest first, each checked against its hash."""
        where = [plans.c.code == plan_code]
        if year is not None:
            where.append(actuals.c.year == year)
        with self.db.read() as conn:
            return self._actuals_rows(conn, *where)

    def latest_actuals(self, plan_code: str, year: int | None = None) -> ActualsRecord | None:
        """The newest actuals record of a plan for ``year`` (``None``: of any year)."""
        found = self.actuals(plan_code, year=year)
        return found[-1] if found else None

    # -- history -----------------------------------------------------------------------------

    def history(self, plan: str | VersionRef) -> list[HistoryEvent]:
        """Every event of a plan (``CODE``, or a version ref for its plan), oldest first."""
        code = plan.plan if isinstance(plan, VersionRef) else VersionRef.parse(plan).plan
        q = (
            sa.select(events, plans.c.code.label("plan_code"), versions.c.number.label("version_number"))
            .join(plans, plans.c.id == events.c.plan_id)
            .outerjoin(versions, versions.c.id == events.c.version_id)
            .where(plans.c.code == code)
            .order_by(events.c.id)
        )
        with self.db.read() as conn:
            rows = conn.execute(q).all()
            if not rows and conn.execute(sa.select(plans.c.id).where(plans.c.code == code)).first() is None:
                raise UnknownVersion(code)
        return [
            HistoryEvent(
                id=r.id,
                plan_code=r.plan_code,
                kind=EventKind(r.kind),
                at=_utc(r.at),  # type: ignore[arg-type]
                actor=r.actor,
                version=f"{r.plan_code}@{r.version_number}" if r.version_number is not None else None,
                detail=json.loads(r.detail),
            )
            for r in rows
        ]

    # -- integrity ---------------------------------------------------------------------------

    def verify(self, plan_code: str | None = None) -> list[Problem]:
        """Check every stored document against its hash; return one located problem per mismatch.

        Checked: each version's document against its content hash and its canonical form; each
        approved version against the hash its approval recorded (an edit of document *and* hash is
        still found); each run's output against its output hash and its input against the
        version's hash; each actuals document against its hash. An empty list: nothing was altered.
        """
        where_plan = [plans.c.code == plan_code] if plan_code is not None else []
        problems: list[Problem] = []
        file = self.display
        with self.db.read() as conn:
            for row in conn.execute(_version_query().where(*where_plan).order_by(plans.c.code, versions.c.number)):
                m = row._mapping
                ref = f"{m['plan_code']}@{m['number']}"
                where = Source(file=file, path=f"versions[{ref}].document")
                found = sha256_text(m["document"])
                if found != m["content_hash"]:
                    problems.append(Problem("store.tampered.version", where, {"ref": ref, "expected": m["content_hash"][:16], "found": found[:16]}))
                elif _recanonical(m["document"]) != m["document"]:
                    problems.append(Problem("store.tampered.not_canonical", where, {"ref": ref}))
                if m["stage"] == Stage.APPROVED.value and m["approved_hash"] is None:
                    problems.append(Problem("store.tampered.no_approval", Source(file=file, path=f"versions[{ref}].stage"), {"ref": ref}))
                if m["approved_hash"] is not None:
                    if m["stage"] != Stage.APPROVED.value:
                        problems.append(Problem("store.tampered.stage", Source(file=file, path=f"versions[{ref}].stage"), {"ref": ref, "stage": Stage(m["stage"]).label}))
                    if m["approved_hash"] != m["content_hash"] or m["approved_hash"] != found:
                        problems.append(
                            Problem(
                                "store.tampered.approval",
                                Source(file=file, path=f"approvals[{ref}].content_hash"),
                                {"ref": ref, "expected": m["approved_hash"][:16], "found": found[:16]},
                            )
                        )
            q = (
                sa.select(runs.c.id, runs.c.output, runs.c.output_sha256, runs.c.input_sha256, versions.c.content_hash, versions.c.number, plans.c.code)
                .join(versions, versions.c.id == runs.c.version_id)
                .join(plans, plans.c.id == versions.c.plan_id)
                .where(*where_plan)
                .order_by(runs.c.id)
            )
            for r in conn.execute(q):
                ref = f"{r.code}@{r.number}"
                text = _unpack(r.output)
                found = sha256_text(text) if text is not None else ""
                if found != r.output_sha256:
                    problems.append(Problem("store.tampered.run_output", Source(file=file, path=f"runs[{r.id}].output"), {"run": r.id, "ref": ref, "expected": r.output_sha256[:16], "found": found[:16]}))
                if r.input_sha256 != r.content_hash:
                    problems.append(Problem("store.tampered.run_input", Source(file=file, path=f"runs[{r.id}].input_sha256"), {"run": r.id, "ref": ref}))
            q2 = sa.select(actuals.c.id, actuals.c.document, actuals.c.content_hash, plans.c.code).join(plans, plans.c.id == actuals.c.plan_id).where(*where_plan).order_by(actuals.c.id)
            for a in conn.execute(q2):
                found = sha256_text(a.document)
                if found != a.content_hash:
                    problems.append(Problem("store.tampered.actuals", Source(file=file, path=f"actuals[{a.id}].document"), {"id": a.id, "plan": a.code, "expected": a.content_hash[:16], "found": found[:16]}))
        return problems


def _what(kind: str) -> Any:
    from ..core.i18n import Msg

    return Msg(f"store.record.{kind}")


def _unpack(blob: bytes) -> str | None:
    try:
        return zlib.decompress(blob).decode("utf-8")
    except (zlib.error, UnicodeDecodeError):
        return None


def _recanonical(document: str) -> str | None:
    try:
        return canonical_json(json.loads(document))
    except (ValueError, TypeError):
        return None


def sha256_of(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return sha256_bytes(Path(path).read_bytes())

"""The store's tables (SQLAlchemy Core), as the queries see them.

The migrations in :mod:`budgetlib.store.migrations` create these tables; a test compares the
migrated database with this metadata, so the two cannot drift apart. Every table name starts with
``budgetlib_`` so a shared PostgreSQL database can hold the store next to other applications.

Why Core and not the ORM: the store is a handful of append-mostly tables written in short explicit
transactions whose isolation and retries matter (several officers saving at once), and whose rows
become immutable records. Core statements say exactly what SQL runs in which transaction; an ORM
session's identity map and unit of work would add state between the statements and a second
model of data that already has one (the pydantic plan and the frozen records).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "FORMAT_NAME",
    "SCHEMA_HEAD",
    "VERSION_TABLE",
    "STAGES",
    "metadata",
    "meta",
    "plans",
    "versions",
    "approvals",
    "runs",
    "actuals",
    "events",
    "IMMUTABLE_MARK",
]

FORMAT_NAME = "budgetlib-store"
"""Value of the ``format`` row of ``budgetlib_meta``: the mark that a database is a budgetlib store."""

SCHEMA_HEAD = "0001"
"""The newest migration this budgetlib knows (a test checks it is the head of the migration scripts)."""

VERSION_TABLE = "budgetlib_alembic_version"
"""Alembic's revision table, under a name of ours (a shared database may have its own ``alembic_version``)."""

STAGES = ("draft", "submitted", "approved", "revision")

IMMUTABLE_MARK = "budgetlib_immutable"
"""Text in the error the database raises when a trigger refuses to change an immutable row."""

metadata = sa.MetaData()

Time = sa.DateTime(timezone=True)
Hash = sa.String(64)

meta = sa.Table(
    "budgetlib_meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

plans = sa.Table(
    "budgetlib_plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
)

versions = sa.Table(
    "budgetlib_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("budgetlib_plans.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("content_hash", Hash, nullable=False),
    sa.Column("c14n", sa.String(40), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("program_name", sa.Text, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("source_sha256", Hash, nullable=True),
    sa.Column("budgetlib_version", sa.String(40), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("stage_changed_at", Time, nullable=True),
    sa.Column("stage_changed_by", sa.Text, nullable=False),
    sa.UniqueConstraint("plan_id", "number", name="uq_budgetlib_versions_plan_number"),
    sa.CheckConstraint("number >= 1", name="ck_budgetlib_versions_number"),
    sa.CheckConstraint("stage IN ('draft', 'submitted', 'approved', 'revision')", name="ck_budgetlib_versions_stage"),
)

approvals = sa.Table(
    "budgetlib_approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=False, unique=True),
    sa.Column("content_hash", Hash, nullable=False),
    sa.Column("approved_at", Time, nullable=False),
    sa.Column("approved_by", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

runs = sa.Table(
    "budgetlib_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=False),
    sa.Column("policy_kind", sa.String(32), nullable=False),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("years", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("input_sha256", Hash, nullable=False),
    sa.Column("source_sha256", Hash, nullable=True),
    sa.Column("output_sha256", Hash, nullable=False),
    sa.Column("output", sa.LargeBinary, nullable=False),
    sa.Column("budgetlib_version", sa.String(40), nullable=False),
    sa.Column("solver", sa.String(64), nullable=False),
    sa.Column("solver_version", sa.String(64), nullable=False),
    sa.Column("python_version", sa.String(32), nullable=False),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("machine", sa.Text, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time, nullable=False),
)

actuals = sa.Table(
    "budgetlib_actuals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("budgetlib_plans.id"), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=True),
    sa.Column("year", sa.Integer, nullable=True),
    sa.Column("content_hash", Hash, nullable=False),
    sa.Column("c14n", sa.String(40), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("source_name", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

events = sa.Table(
    "budgetlib_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("budgetlib_plans.id"), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

sa.Index("ix_budgetlib_versions_hash", versions.c.content_hash)
sa.Index("ix_budgetlib_runs_version", runs.c.version_id)
sa.Index("ix_budgetlib_actuals_plan_year", actuals.c.plan_id, actuals.c.year)
sa.Index("ix_budgetlib_events_plan", events.c.plan_id, events.c.id)

"""The first schema: plans, versions with content hashes and stages, approvals, runs, actuals, events.

Immutability is enforced by the database as well as by the API: triggers refuse any change to a
stored version's content (and any change at all once it is approved) and any update or delete of
approvals, runs, actuals and history events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)
Hash = sa.String(64)

_MARK = "budgetlib_immutable"
_APPEND_ONLY = ("budgetlib_plans", "budgetlib_approvals", "budgetlib_runs", "budgetlib_actuals", "budgetlib_events")
# Columns of a version that never change after it is saved (only its stage moves, until approved).
_VERSION_FROZEN = (
    "id", "plan_id", "number", "content_hash", "c14n", "document", "program_name", "total", "parent_id",
    "created_at", "created_by", "note", "source_name", "source_sha256", "budgetlib_version",
)


def _tables() -> None:
    op.create_table(
        "budgetlib_meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "budgetlib_plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "budgetlib_versions",
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
    op.create_index("ix_budgetlib_versions_hash", "budgetlib_versions", ["content_hash"])
    op.create_table(
        "budgetlib_approvals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=False, unique=True),
        sa.Column("content_hash", Hash, nullable=False),
        sa.Column("approved_at", Time, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "budgetlib_runs",
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
    op.create_index("ix_budgetlib_runs_version", "budgetlib_runs", ["version_id"])
    op.create_table(
        "budgetlib_actuals",
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
    op.create_index("ix_budgetlib_actuals_plan_year", "budgetlib_actuals", ["plan_id", "year"])
    op.create_table(
        "budgetlib_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("budgetlib_plans.id"), nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("budgetlib_versions.id"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_budgetlib_events_plan", "budgetlib_events", ["plan_id", "id"])


def _sqlite_triggers() -> None:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _VERSION_FROZEN)
    op.execute(
        "CREATE TRIGGER budgetlib_versions_guard_update BEFORE UPDATE ON budgetlib_versions "
        f"WHEN OLD.stage = 'approved' OR {changed} "
        f"BEGIN SELECT RAISE(ABORT, '{_MARK}: a saved version never changes, and an approved one not even its stage'); END"
    )
    op.execute(
        "CREATE TRIGGER budgetlib_versions_guard_delete BEFORE DELETE ON budgetlib_versions "
        f"BEGIN SELECT RAISE(ABORT, '{_MARK}: versions are never deleted'); END"
    )
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{_MARK}: {table} is append-only'); END"
            )


def _postgresql_triggers() -> None:
    new = ", ".join(f"NEW.{c}" for c in _VERSION_FROZEN)
    old = ", ".join(f"OLD.{c}" for c in _VERSION_FROZEN)
    op.execute(
        "CREATE FUNCTION budgetlib_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{_MARK}: % on % refused (append-only)', TG_OP, TG_TABLE_NAME; END $$"
    )
    op.execute(
        "CREATE FUNCTION budgetlib_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{_MARK}: versions are never deleted'; END IF; "
        f"IF OLD.stage = 'approved' OR ROW({new}) IS DISTINCT FROM ROW({old}) THEN "
        f"RAISE EXCEPTION '{_MARK}: a saved version never changes, and an approved one not even its stage'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER budgetlib_versions_guard BEFORE UPDATE OR DELETE ON budgetlib_versions "
        "FOR EACH ROW EXECUTE FUNCTION budgetlib_versions_guard()"
    )
    for table in (*_APPEND_ONLY, "budgetlib_versions"):
        if table != "budgetlib_versions":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION budgetlib_refuse_change()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION budgetlib_refuse_change()"
        )


def upgrade() -> None:
    _tables()
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_triggers()
    elif dialect == "postgresql":
        _postgresql_triggers()
    else:  # pragma: no cover - the store supports SQLite and PostgreSQL
        raise NotImplementedError(f"budgetlib store: no immutability triggers for {dialect}")


def downgrade() -> None:
    raise NotImplementedError("the first schema of a budgetlib store is not downgraded; keep the file")

"""Alembic environment of the budgetlib store.

Migrations run programmatically (:func:`budgetlib.store.engine.migrate`), on ``store init`` and
when a store written by an older budgetlib is opened, inside the caller's transaction on the
caller's connection (``config.attributes["connection"]``). To write a new migration::

    alembic -c budgetlib/store/migrations/alembic.ini revision -m "what changes"

then raise :data:`budgetlib.store.schema.SCHEMA_HEAD` and :data:`budgetlib.store.schema.metadata`
to match (a test compares a migrated database with the metadata).
"""

from __future__ import annotations

from alembic import context

from budgetlib.store.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only for the alembic command line of developers
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///budgetlib-store.sqlite"
    with create_engine(url).begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, version_table=VERSION_TABLE, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()

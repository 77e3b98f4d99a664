"""Addresses, connections, transactions and migrations of a store.

An address is a file path (SQLite, the default: one file, nothing to start) or a database URL
(``postgresql://user@host/db`` for a store shared by an office). Writes run in short transactions
that serialise against each other — ``BEGIN IMMEDIATE`` on SQLite, ``SERIALIZABLE`` on PostgreSQL —
and are retried when the database reports a conflict, so officers saving at the same moment never
lose a version. Migrations run from Python on ``store init`` and when an older store is opened.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from .config import DEFAULT_STORE_FILE, STORE_ENV
from .errors import DriverMissing, ImmutableVersion, NotAStore, StoreBusy, StoreMissing, StoreTooNew, StoreUnavailable
from .schema import FORMAT_NAME, IMMUTABLE_MARK, SCHEMA_HEAD, VERSION_TABLE, meta

__all__ = [
    "STORE_ENV",
    "DEFAULT_STORE_FILE",
    "StoreAddress",
    "resolve_address",
    "connect",
    "Database",
]

_SQLITE_HEADER = b"SQLite format 3\x00"
T = TypeVar("T")


@dataclass(frozen=True)
class StoreAddress:
    """Where a store is: a SQLAlchemy URL, and the file for SQLite."""

    url: URL
    path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display(self) -> str:
        """The address as shown to people (the file path; a URL without its password)."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)


def resolve_address(store: str | os.PathLike[str] | StoreAddress | None = None) -> StoreAddress:
    """The store to use: ``store`` if given, else ``$BUDGETLIB_STORE``, else ``./budgetlib-store.sqlite``.

    A value with ``://`` is a database URL (``postgresql://…`` uses psycopg 3; ``sqlite:///x`` a
    file); anything else is the path of a SQLite file.

    >>> resolve_address("kho.sqlite").display
    'kho.sqlite'
    >>> resolve_address("postgresql://ldtbxh:secret@db.local/kehoach").url.drivername
    'postgresql+psycopg'
    """
    if isinstance(store, StoreAddress):
        return store
    raw = os.fspath(store) if store is not None else (os.environ.get(STORE_ENV) or DEFAULT_STORE_FILE)
    if "://" not in raw:
        path = Path(raw).expanduser()
        return StoreAddress(URL.create("sqlite", database=str(path)), path)
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StoreUnavailable(raw, "URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise StoreUnavailable(raw, "sqlite:///<file>")
        return StoreAddress(url, Path(url.database).expanduser())
    if backend in ("postgresql", "postgres"):
        return StoreAddress(url.set(drivername="postgresql+psycopg"))
    raise StoreUnavailable(url.render_as_string(hide_password=True), backend)


def _sqlite_engine(address: StoreAddress) -> Engine:
    engine = sa.create_engine(address.url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (the module would
        # otherwise start them lazily and never for reads), and make foreign keys real.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN so two of them never both read the newest version
        # number and then collide; readers use a deferred transaction (a consistent snapshot).
        mode = "IMMEDIATE" if conn.get_execution_options().get("budgetlib_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(address: StoreAddress) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise DriverMissing(address.display) from None
    return sa.create_engine(address.url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01", "23505", "42P07", "42710"):
        # serialisation failure, deadlock, unique violation (a version number or plan code taken
        # by a concurrent writer), duplicate table/object (two processes creating a store at once)
        return True
    name = getattr(orig, "sqlite_errorname", "")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(orig).lower()


def _is_immutable(exc: DBAPIError) -> bool:
    return IMMUTABLE_MARK in str(exc.orig)


class Database:
    """An open store: its address, an engine, and the transaction helpers every operation uses."""

    max_attempts = 12

    def __init__(self, address: StoreAddress, engine: Engine) -> None:
        self.address = address
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (one consistent view for all its statements)."""
        with self._translate(), self.engine.connect() as conn:
            if not self.address.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def write(self, work: Callable[[Connection], T], *, ref: str = "") -> T:
        """Run ``work(conn)`` in a serialised write transaction, retrying it on conflicts.

        ``work`` must do all its reads inside the transaction (it may run several times); the
        first attempt that commits wins. A trigger refusing a change raises
        :class:`ImmutableVersion` for ``ref``.
        """
        options: dict[str, Any] = {"budgetlib_write": True}
        if not self.address.is_sqlite:
            options["isolation_level"] = "SERIALIZABLE"
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._translate(retry=True), self.engine.connect() as conn:
                    conn = conn.execution_options(**options)
                    with conn.begin():
                        return work(conn)
            except _Retry:
                # Back off with jitter so colliding writers spread out (bounded: ~0.01 s … 0.5 s).
                time.sleep(min(0.5, 0.01 * 2 ** min(attempt, 6)) * (0.5 + random.random()))
            except DBAPIError as exc:
                if _is_immutable(exc):
                    raise ImmutableVersion(ref or "?") from None
                raise
        raise StoreBusy(self.address.display, self.max_attempts)

    @contextmanager
    def _translate(self, *, retry: bool = False) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if _is_immutable(exc):
                raise
            if retry and _retryable(exc):
                raise _Retry() from exc
            if exc.connection_invalidated or isinstance(exc, OperationalError):
                raise StoreUnavailable(self.address.display, _first_line(exc.orig)) from None
            raise


class _Retry(Exception):
    """Internal: the write transaction conflicted with another and is run again."""


def _first_line(err: Any) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


# ---------------------------------------------------------------------------------------------
# Opening, creating and migrating


def _check_sqlite_file(address: StoreAddress, *, create: bool) -> None:
    path = address.path
    assert path is not None
    if path.is_dir():
        raise NotAStore(address.display, _reason("directory"))
    if not path.exists():
        if not create:
            raise StoreMissing(address.display)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise StoreUnavailable(address.display, exc.strerror or str(exc)) from None
    if head and head != _SQLITE_HEADER:
        raise NotAStore(address.display, _reason("not_sqlite"))


def _reason(code: str, **params: Any) -> Any:
    from ..core.i18n import Msg

    return Msg(f"store.not_a_store.{code}", **params)


def _inspect(conn: Connection) -> tuple[set[str], dict[str, str], str | None]:
    names = set(sa.inspect(conn).get_table_names())
    values: dict[str, str] = {}
    revision = None
    if meta.name in names:
        values = {row.name: row.value for row in conn.execute(sa.select(meta.c.name, meta.c.value))}
    if VERSION_TABLE in names:
        revision = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return names, values, revision


def migrate(conn: Connection) -> None:
    """Bring the schema on ``conn`` to :data:`SCHEMA_HEAD` with the packaged Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "budgetlib.store:migrations")
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def script_head() -> str | None:
    """The head revision of the packaged migration scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "budgetlib.store:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "budgetlib.store:migrations")
    return {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}


def connect(store: str | os.PathLike[str] | StoreAddress | None = None, *, create: bool = False, created_with: str = "") -> Database:
    """Open (and with ``create``, create) the store at ``store``; bring an older schema up to date.

    Refuses, leaving it untouched: a file that is not SQLite, a SQLite file or database with tables
    but no budgetlib mark (``budgetlib_meta``), and a store written by a newer budgetlib.
    """
    address = resolve_address(store)
    if address.is_sqlite:
        _check_sqlite_file(address, create=create)
        engine = _sqlite_engine(address)
    else:
        engine = _postgres_engine(address)
    db = Database(address, engine)
    try:
        _open(db, create=create, created_with=created_with)
    except BaseException:
        engine.dispose()
        raise
    return db


def _open(db: Database, *, create: bool, created_with: str) -> None:
    address = db.address
    try:
        with db.read() as conn:
            names, values, revision = _inspect(conn)
    except DBAPIError as exc:
        if address.is_sqlite and "not a database" in str(exc.orig):
            raise NotAStore(address.display, _reason("not_sqlite")) from None
        raise
    if values.get("format") == FORMAT_NAME and revision == SCHEMA_HEAD:
        return  # the common case: an up-to-date store, no Alembic import at all
    if names and meta.name not in names and (address.is_sqlite or not create):
        raise NotAStore(address.display, _reason("no_mark", tables=sorted(names)[:5]))
    if meta.name in names and values.get("format") != FORMAT_NAME:
        raise NotAStore(address.display, _reason("wrong_mark", value=values.get("format", "")))
    if revision is not None and revision not in _known_revisions():
        raise StoreTooNew(address.display, revision)
    if not names and not create:
        raise StoreMissing(address.display)

    def upgrade(conn: Connection) -> None:
        _, values, revision = _inspect(conn)
        if values.get("format") == FORMAT_NAME and revision == SCHEMA_HEAD:
            return  # a concurrent process did it
        migrate(conn)
        if "format" not in values:
            from datetime import datetime

            conn.execute(
                meta.insert(),
                [
                    {"name": "format", "value": FORMAT_NAME},
                    {"name": "created_with", "value": created_with},
                    {"name": "created_at", "value": datetime.now(UTC).isoformat()},
                ],
            )

    db.write(upgrade)

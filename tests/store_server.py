"""A real, throwaway PostgreSQL server for the store tests, and the ``store_url`` fixture that runs
each store test against SQLite and against that server.

The session starts one cluster (``initdb`` into a temporary folder, ``pg_ctl start`` on a free
port of 127.0.0.1 and a private unix socket, trust authentication because nothing but this
machine's loopback can reach it) and stops it at the end; each test gets a database of its own.
As root the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).

Binaries are looked up in ``$BUDGETLIB_PG_BIN``, ``/usr/lib/postgresql/<newest>/bin`` and
``pg_config --bindir``. Without them the PostgreSQL half is skipped with what to install — except
under CI, where ``.ci/run`` installs them and their absence is a failure. A server that is there
but does not start is always a failure.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

INSTALL_HINT = "PostgreSQL server binaries not found; install them (Debian: apt-get install postgresql) or set BUDGETLIB_PG_BIN"


def find_pg_bin() -> Path | None:
    candidates: list[Path] = []
    if os.environ.get("BUDGETLIB_PG_BIN"):
        candidates.append(Path(os.environ["BUDGETLIB_PG_BIN"]))
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted((d for d in root.iterdir() if d.name.isdigit()), key=lambda d: int(d.name), reverse=True)
        candidates.extend(d / "bin" for d in versions)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running cluster; :meth:`new_database` gives each test an empty database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="budgetlib-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root and there is no 'postgres' user to run the test server (.ci/run creates it)")
            self.user = "postgres"
            shutil.chown(self.folder, user="postgres")
        self.folder.chmod(0o700)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), capture_output=True, text=True, user=self.user, cwd=self.folder, timeout=120)

    def start(self) -> None:
        out = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        if out.returncode != 0:
            out = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        if out.returncode != 0:
            pytest.fail(f"initdb failed:\n{out.stdout}\n{out.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=80"
        )
        out = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", "start")
        if out.returncode != 0:
            log = (self.folder / "server.log").read_text(errors="replace") if (self.folder / "server.log").exists() else ""
            pytest.fail(f"the PostgreSQL test server did not start:\n{out.stdout}\n{out.stderr}\n{log[-3000:]}")

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, schema: str | None = None) -> str:
        base = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return f"{base}?options=-csearch_path%3D{schema}" if schema else base

    def new_database(self) -> str:
        """An empty place for one store: a schema of its own, first on the search path of every
        connection made with the returned URL (as good as a fresh database for the store, and cheap:
        a new database per test would copy the template and fill the WAL)."""
        import psycopg

        name = f"store_test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = find_pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT + " (.ci/run installs them; under CI their absence is a failure)")
        pytest.skip(INSTALL_HINT)
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An address for a fresh store: a SQLite file, then a database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "kho.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()

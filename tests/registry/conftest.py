"""Fixtures for the registry: real `fedgate registry serve` processes on SQLite or a real PostgreSQL.

- `postgres_server`: Debian's `postgres` (installed by `make test` via scripts/ensure-postgres.sh),
  initdb'd in a temp dir and run as the `postgres` user on a free loopback port; stopped by pid.
- `database`: parametrised over both backends; each test gets an empty database.
- `start_registry(database)`: a registry process with admin token `ADMIN`, stopped at test end.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from registry_helpers import ADMIN, FEDGATE, Api


@dataclass
class PostgresServer:
    """A running PostgreSQL; `new_database()` creates an empty database and returns its URL."""

    port: int
    datadir: Path
    pid: int
    launcher: subprocess.Popen[bytes]
    counter: int = 0

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        import psycopg

        self.counter += 1
        name = f"registry_{os.getpid()}_{self.counter}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("PostgreSQL is not installed: run `make test` (it installs it) or `apt-get install postgresql`")
    return found[-1]


@pytest.fixture(scope="session")
def postgres_server(free_port_session: Callable[[], int]) -> Iterator[PostgresServer]:
    """A real PostgreSQL on a free loopback port, trust auth, no fsync; stopped by pid at session end."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    root = Path(tempfile.mkdtemp(prefix="fedgate-pg-"))
    datadir, sockdir = root / "data", root / "sock"
    sockdir.mkdir()
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    if as_root:
        # postgres refuses to run as root: the Debian package's `postgres` user runs it.
        shutil.chown(root, "postgres")
        shutil.chown(sockdir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*prefix, initdb, "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    port = free_port_session()
    log = (root / "postgres.log").open("wb")
    launcher = subprocess.Popen(
        [*prefix, postgres, "-D", str(datadir), "-p", str(port), "-k", str(sockdir), "-c", "listen_addresses=127.0.0.1",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
        stdout=log, stderr=subprocess.STDOUT)
    pid_file = datadir / "postmaster.pid"
    deadline = time.monotonic() + 30
    pid = 0
    while time.monotonic() < deadline:
        if launcher.poll() is not None:
            pytest.fail(f"postgres exited: {(root / 'postgres.log').read_text()[-2000:]}")
        try:
            import psycopg

            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=1):
                pid = int(pid_file.read_text().split()[0])
                break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    else:
        launcher.kill()
        pytest.fail("postgres did not start within 30 s")
    server = PostgresServer(port, datadir, pid, launcher)
    yield server
    os.kill(pid, signal.SIGINT)  # fast shutdown of the postmaster, by its pid
    try:
        launcher.wait(20)
    except subprocess.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        launcher.wait(5)
    log.close()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def free_port_session() -> Callable[[], int]:
    def find() -> int:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port

    return find


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty registry database: a SQLite file path, or a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
def start_registry(start_service: Callable[..., Any], free_port: Callable[[], int], tmp_path: Path
                   ) -> Callable[..., Any]:
    """Factory: `start_registry(database=None, port=None)` -> a ServiceProcess of `fedgate registry serve`."""

    def start(database: str | None = None, port: int | None = None, **kwargs: Any) -> Any:
        port = port or free_port()
        db = database or str(tmp_path / "registry.db")
        proc = start_service("registry", [*FEDGATE, "registry", "serve", "--database", db, "--port", str(port),
                                          "--admin-token", ADMIN, "--log-level", "warning"], port, **kwargs)
        proc.extra["database"] = db
        return proc

    return start


@pytest.fixture
def api_for() -> Callable[[Any], Api]:
    """`api_for(registry_process)` -> an admin Api for it."""
    return lambda proc: Api(proc.base_url)



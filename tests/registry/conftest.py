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
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "schema"
ADMIN = "test-admin-token"
FEDGATE = [sys.executable, "-m", "gateway"]


def fedgate(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `fedgate` CLI; the result has returncode, stdout and stderr."""
    return subprocess.run([*FEDGATE, *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout,
                          env={**os.environ, **(env or {})}, input=stdin)


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


class Api:
    """Calls to one registry with one token (raw HTTP, so tests see statuses and bodies)."""

    def __init__(self, base_url: str, token: str | None = ADMIN) -> None:
        self.base_url = base_url
        self.token = token

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base_url + path, json=json, headers={**self.headers(),
                             **kwargs.pop("headers", {})}, timeout=60, **kwargs)

    def with_token(self, token: str | None) -> Api:
        return Api(self.base_url, token)

    def make_token(self, kind: str, graph: str, subgraph: str | None = None) -> str:
        r = Api(self.base_url, ADMIN).call("POST", "/tokens", {"kind": kind, "graph": graph, "subgraph": subgraph})
        assert r.status_code == 201, r.text
        made: str = r.json()["token"]
        return made

    def publish(self, ref: str, name: str, sdl: str, url: str) -> httpx.Response:
        graph, _, variant = ref.partition("@")
        return self.call("PUT", f"/graphs/{graph}/variants/{variant}/subgraphs/{name}", {"sdl": sdl, "routing_url": url})

    def supergraph(self, ref: str) -> httpx.Response:
        graph, _, variant = ref.partition("@")
        return self.call("GET", f"/graphs/{graph}/variants/{variant}/supergraph")


@pytest.fixture
def api_for() -> Callable[[Any], Api]:
    """`api_for(registry_process)` -> an admin Api for it."""
    return lambda proc: Api(proc.base_url)


def shop_sdl(name: str) -> str:
    """The repository's SDL of one shop subgraph."""
    return (SCHEMA / f"{name}.graphql").read_text()


def publish_shop(api: Api, ref: str, subgraphs: dict[str, Any]) -> int:
    """Create the graph (if needed) and publish the three shop subgraphs at their running URLs; the version."""
    graph = ref.partition("@")[0]
    r = api.call("POST", "/graphs", {"name": graph})
    assert r.status_code in (201, 409), r.text
    version = 0
    for name in ("orders", "payments", "delivery"):
        r = api.publish(ref, name, shop_sdl(name), subgraphs[name].url)
        assert r.status_code in (200, 201), r.text
        version = r.json()["supergraph_version"]
    return version

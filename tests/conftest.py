"""Fixtures shared by every test folder: free ports, real subgraph processes, a real redis-server.

Anything that crosses a process boundary is tested against real processes over real HTTP:
- `free_port()` gives a loopback port nobody listens on;
- `start_subgraph(name)` runs `python -m subgraphs.<name>` on a free port with a fresh SQLite
  file and returns once it answers; it is stopped (by pid) when the test ends;
- `subgraphs` is the three subgraphs wired together, started once per session and shared:
  tests that write should create their own orders rather than change the seeded ones;
- `start_service(name, argv, port)` runs any other HTTP service (a gateway) until the test ends;
- `redis_server` is `redis-server` on a free port without persistence, stopped by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SUBGRAPH_NAMES = ("orders", "payments", "delivery")
# Generous: on a machine shared by several test runs a Python service can take 20 s to import.
STARTUP_TIMEOUT = 60.0


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServiceProcess:
    """A child process we started, with where it listens and where its output goes."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    db_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint (subgraphs serve it at /graphql)."""
        return f"{self.base_url}/graphql"

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL operation and return the decoded response body."""
        response = httpx.post(self.url, json={"query": query, "variables": variables or {}}, timeout=10)
        body: dict[str, Any] = response.json()
        return body

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM by pid, then SIGKILL if it has not exited within `timeout`; returns the exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def _wait_until(ready: Callable[[], bool], proc: ServiceProcess, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.process.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.log()[-3000:]}")
        try:
            if ready():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"{proc.name} did not become ready within {timeout}s:\n{proc.log()[-3000:]}")


def start_subgraph_process(
    name: str,
    workdir: Path,
    *,
    orders_url: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    db_path: Path | None = None,
) -> ServiceProcess:
    """Run `python -m subgraphs.<name>` with a fresh SQLite file in `workdir` (or `db_path`); return once it answers."""
    if name not in SUBGRAPH_NAMES:
        raise ValueError(f"unknown subgraph {name!r}")
    port = port or find_free_port()
    db_path = db_path or workdir / f"{name}-{port}.db"
    child_env = dict(env or {})
    if orders_url is not None:
        child_env["ORDERS_URL"] = orders_url
    argv = [sys.executable, "-m", f"subgraphs.{name}", "--port", str(port), "--db", str(db_path)]
    proc = start_service_process(name, argv, port, workdir, env=child_env)
    proc.db_path = db_path
    return proc


def start_service_process(
    name: str,
    argv: list[str],
    port: int,
    workdir: Path,
    *,
    health_path: str = "/health",
    env: dict[str, str] | None = None,
) -> ServiceProcess:
    """Run any HTTP service (e.g. `fedgate serve ...`) listening on `port`; return once `health_path` answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proc = ServiceProcess(name=name, port=port, process=process, log_path=log_path)
    _wait_until(lambda: httpx.get(f"{proc.base_url}{health_path}", timeout=1).status_code == 200, proc)
    return proc


def start_subgraph_stack(workdir: Path, envs: dict[str, dict[str, str]] | None = None) -> dict[str, ServiceProcess]:
    """orders, payments and delivery, the latter two reading orders from the first; `envs` adds
    environment variables per subgraph name (e.g. REDIS_URL to put them in the order saga)."""
    envs = envs or {}
    stack: dict[str, ServiceProcess] = {}
    try:
        stack["orders"] = start_subgraph_process("orders", workdir, env=envs.get("orders"))
        for name in ("payments", "delivery"):
            stack[name] = start_subgraph_process(name, workdir, orders_url=stack["orders"].url, env=envs.get(name))
    except BaseException:
        for proc in stack.values():
            proc.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return REPO_ROOT


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Call it to get a free loopback port."""
    return find_free_port


@pytest.fixture
def start_subgraph(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Factory: `start_subgraph("orders")` (kwargs: orders_url, port, env, db_path); stopped at test end."""
    started: list[ServiceProcess] = []

    def start(name: str, **kwargs: Any) -> ServiceProcess:
        proc = start_subgraph_process(name, tmp_path / "subgraphs", **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Factory: `start_service(name, argv, port, health_path="/health", env=None)`; stopped at test end."""
    started: list[ServiceProcess] = []

    def start(name: str, argv: list[str], port: int, **kwargs: Any) -> ServiceProcess:
        proc = start_service_process(name, argv, port, tmp_path / "services", **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


@pytest.fixture(scope="session")
def subgraph_stack_factory() -> Callable[..., dict[str, ServiceProcess]]:
    """`start_subgraph_stack(workdir, envs=None)`, for fixtures of other scopes; the caller stops what it starts."""
    return start_subgraph_stack


@pytest.fixture(scope="session")
def subgraphs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """The three subgraphs, seeded, shared by the whole session: {"orders": ..., "payments": ..., "delivery": ...}."""
    stack = start_subgraph_stack(tmp_path_factory.mktemp("subgraphs"))
    yield stack
    for proc in reversed(list(stack.values())):
        proc.stop()


@pytest.fixture
def fresh_subgraphs(tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    """Like `subgraphs`, but started for this test alone, on freshly seeded databases."""
    stack = start_subgraph_stack(tmp_path / "subgraphs")
    yield stack
    for proc in reversed(list(stack.values())):
        proc.stop()


@dataclass
class RedisServer:
    """A running redis-server on loopback."""

    host: str
    port: int
    process: ServiceProcess

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def _redis_ping(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real `redis-server` without persistence, shared by the session; flush it if you need it empty."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test` (it installs it) or `apt-get install redis-server`")
    workdir = tmp_path_factory.mktemp("redis")
    port = find_free_port()
    log_path = workdir / "redis.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proc = ServiceProcess(name="redis", port=port, process=process, log_path=log_path)
    _wait_until(lambda: _redis_ping("127.0.0.1", port), proc)
    yield RedisServer(host="127.0.0.1", port=port, process=proc)
    proc.stop()

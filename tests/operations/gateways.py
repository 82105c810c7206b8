"""Start real processes for the operations, security and fuzz tests: `fedgate serve` with a config,
and the echo subgraph. Every process is stopped by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PREFLIGHT = {"apollo-require-preflight": "true"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Proc:
    """A started child process listening on `port`; `log_path` has its output."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def post(self, query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> httpx.Response:
        """POST a GraphQL request as JSON (a preflighted content type)."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        payload.update(kwargs)
        return httpx.post(self.url, json=payload, headers=headers, timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def start(argv: list[str], port: int, workdir: Path, name: str, health: str = "/health") -> Proc:
    """Run `argv`; return once `health` answers 200 (or raise with the process's output)."""
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc = Proc(process, port, log_path)
    # Generous, as tests/conftest.py STARTUP_TIMEOUT: on a loaded machine an import can take 20 s.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{proc.log()[-3000:]}")
        try:
            if httpx.get(proc.base_url + health, timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.stop()
    raise RuntimeError(f"{name} did not start:\n{proc.log()[-3000:]}")


def start_gateway(supergraph_sdl: str, config: dict[str, Any], workdir: Path, name: str = "gateway") -> Proc:
    """`fedgate serve` for `supergraph_sdl` with `config` written as fedgate.yaml."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    sdl_path = workdir / f"{name}.graphql"
    sdl_path.write_text(supergraph_sdl)
    config_path = workdir / f"{name}.yaml"
    config_path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(sdl_path), "--port", str(port),
            "--config", str(config_path)]
    return start(argv, port, workdir, name, health="/ready")


def start_echo(workdir: Path) -> Proc:
    """The echo subgraph (tests/operations/echo_subgraph.py)."""
    port = free_port()
    return start([sys.executable, str(HERE / "echo_subgraph.py"), "--port", str(port)], port, workdir, "echo")


def domain_supergraph(subgraphs: dict[str, Any]) -> str:
    """schema/supergraph.graphql pointed at the test's subgraph processes."""
    sdl = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        sdl = sdl.replace(f"http://127.0.0.1:{default_port}/", f"{subgraphs[name].base_url}/")
    return sdl

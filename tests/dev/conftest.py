"""`fedgate dev` as a developer runs it: its own process (and session), SDL files in a temp folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "schema"


@dataclass
class DevProcess:
    """A running `fedgate dev`: where it serves, what it printed, how to stop it."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(self.url, json={"query": query, "variables": variables or {}}, timeout=10)
        body: dict[str, Any] = response.json()
        return body

    def fields(self, type_name: str) -> list[str]:
        """The fields of `type_name` in the schema served now (introspection)."""
        body = self.post("query($t: String!) { __type(name: $t) { fields { name } } }", {"t": type_name})
        found = body["data"]["__type"]
        return [f["name"] for f in found["fields"]] if found else []

    def wait_output(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if text in out:
                return out
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not printed within {timeout}s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with _suppress():
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is ProcessLookupError


def write_config(folder: Path, routing: dict[str, str], names: tuple[str, ...] = ("orders", "payments", "delivery")) -> Path:
    """A rover supergraph config listing `names`, their SDL files in `folder`, routed to `routing`."""
    lines = ["federation_version: =2.14.4", "subgraphs:"]
    for name in names:
        lines += [f"  {name}:", f"    routing_url: {routing[name]}", "    schema:", f"      file: ./{name}.graphql"]
    path = folder / "supergraph.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def sdl_folder(tmp_path: Path) -> Path:
    """Copies of the three subgraphs' SDL files."""
    folder = tmp_path / "schema"
    folder.mkdir()
    for name in ("orders", "payments", "delivery"):
        (folder / f"{name}.graphql").write_text((SCHEMA / f"{name}.graphql").read_text())
    return folder


@pytest.fixture
def start_dev(free_port: Callable[[], int]) -> Iterator[Callable[..., DevProcess]]:
    """Factory: `start_dev(config_path, *extra_args)`; killed (its whole session) at the end of the test."""
    started: list[DevProcess] = []

    def start(config: Path, *args: str) -> DevProcess:
        port = free_port()
        log_path = config.parent / f"dev-{port}.log"
        argv = [sys.executable, "-m", "gateway", "dev", "--config", str(config), "--port", str(port),
                "--poll-interval", "0.2", "--no-color", *args]
        with log_path.open("wb") as log:
            process = subprocess.Popen(argv, cwd=config.parent, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
        proc = DevProcess(process, port, log_path, config.parent)
        started.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"fedgate dev exited with {process.returncode}:\n{proc.output()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"fedgate dev did not start within 30s:\n{proc.output()}")

    yield start
    for proc in started:
        proc.stop()

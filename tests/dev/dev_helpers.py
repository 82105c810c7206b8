"""Helpers for the `fedgate dev` tests: the running process, a rover config for SDL files."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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

"""The pieces of a local fedgate cluster: nginx from deploy/nginx's template, replicas, Redis, a load.

Everything runs on loopback ports, is started by the tests and stopped by pid:
- `Nginx` (bench/nginx.py) runs Debian's nginx from `deploy/nginx/fedgate.conf.template`, the
  file docker-compose.yml mounts, rendered with the same `FEDGATE_` variables;
- `Replica` is one `fedgate serve` process that can be stopped with SIGTERM and started again
  on its port (a rolling restart);
- `Load` is a bounded, steady stream of GraphQL requests through nginx, run in threads, that
  counts what it sent and every failure (transport error, non-200, or a GraphQL error).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.nginx import Nginx

ROOT = Path(__file__).resolve().parents[2]
SECRET = "cluster-invalidation-secret"
KEY_PREFIX = "cluster:"
FEDGATE = str(Path(sys.executable).with_name("fedgate"))
REGISTRY_ADMIN = "cluster-registry-admin"
GRAPH, VARIANT = "shop", "cluster"
POLL_INTERVAL = 0.5  # lifecycle.poll_interval of the replicas: how often they ask the registry


class Registry:
    """The registry's JSON API (docs/registry.md) with the admin token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers = {"authorization": f"Bearer {REGISTRY_ADMIN}"}

    @property
    def supergraph_url(self) -> str:
        return f"{self.base_url}/graphs/{GRAPH}/variants/{VARIANT}/supergraph"

    def publish(self, name: str, sdl: str, routing_url: str) -> httpx.Response:
        return httpx.put(f"{self.base_url}/graphs/{GRAPH}/variants/{VARIANT}/subgraphs/{name}",
                         json={"sdl": sdl, "routing_url": routing_url}, headers=self.headers, timeout=30)

    def publish_all(self, urls: dict[str, str]) -> None:
        created = httpx.post(f"{self.base_url}/graphs", json={"name": GRAPH}, headers=self.headers, timeout=30)
        assert created.status_code in (201, 409), created.text
        for name, url in urls.items():
            published = self.publish(name, (ROOT / "schema" / f"{name}.graphql").read_text(), url)
            assert published.status_code in (200, 201), published.text

    def token(self, kind: str) -> str:
        made = httpx.post(f"{self.base_url}/tokens", json={"kind": kind, "graph": GRAPH}, headers=self.headers,
                          timeout=30)
        assert made.status_code == 201, made.text
        return str(made.json()["token"])


class Replica:
    """One `fedgate serve` on a fixed port, following the registry: stop (SIGTERM: drain) and start again."""

    def __init__(self, name: str, port: int, supergraph_url: str, config: Path, workdir: Path, token: str) -> None:
        self.name = name
        self.port = port
        self.supergraph_url = supergraph_url
        self.token = token
        self.config = config
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, timeout: float = 90.0) -> None:
        """Start the process and return once `/ready` is 200."""
        argv = [FEDGATE, "serve", "--supergraph-url", self.supergraph_url, "--config", str(self.config),
                "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "FEDGATE_SUPERGRAPH_TOKEN": self.token}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready within {timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM by pid (the gateway drains, then exits 0); SIGKILL after `timeout`."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        return self.process.returncode

    def restart(self) -> int | None:
        code = self.stop()
        self.start()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""

    def metric(self, name: str, **labels: str) -> float:
        """One sample of this replica's `/metrics` (0 when absent)."""
        text = httpx.get(f"{self.base_url}/metrics", timeout=5).text
        want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(want + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def post(self, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url, json=body, timeout=10, **kwargs)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq_body(query: str, with_query: bool) -> dict[str, Any]:
    """An Apollo automatic-persisted-query request: the hash, and the text when registering."""
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}}
    if with_query:
        body["query"] = query
    return body


LOAD_QUERIES = (
    '{ order(id: "1") { id status total { cents currency } restaurant { name } } }',
    '{ order(id: "2") { id status isPaid payment { status } delivery { status agent { name } } } }',
    "{ orders(first: 3) { edges { node { id status isPaid } } } }",
)
# Sent as an Apollo client sends an APQ: the hash first, the text only when it is not known.
LOAD_APQ_QUERY = '{ order(id: "3") { id status estimatedDeliveryMinutes restaurant { name averagePrepMinutes } } }'


@dataclass
class Load:
    """A steady, bounded stream of queries through `url` from `threads` clients at about `rate` req/s."""

    url: str
    rate: float = 30.0
    threads: int = 3
    max_requests: int = 20_000
    max_seconds: float = 240.0
    sent: int = 0
    failed: int = 0
    apq_misses: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    def _count(self, failure: str | None) -> None:
        with self._lock:
            self.sent += 1
            if failure is not None:
                self.failed += 1
                if len(self.failures) < 20:
                    self.failures.append(f"{time.strftime('%H:%M:%S')} {failure}")

    def _run(self, index: int) -> None:
        interval = self.threads / self.rate
        deadline = time.monotonic() + self.max_seconds
        step = index
        with httpx.Client(timeout=15) as client:
            next_at = time.monotonic()
            while not self._stop.is_set() and time.monotonic() < deadline and self.sent < self.max_requests:
                step += 1
                try:
                    failure = self._one(client, step)
                except httpx.HTTPError as exc:
                    failure = f"{type(exc).__name__}: {exc}"
                self._count(failure)
                next_at += interval
                self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _one(self, client: httpx.Client, step: int) -> str | None:
        if step % 4 == 3:
            response = client.post(self.url, json=apq_body(LOAD_APQ_QUERY, with_query=False))
            body = response.json() if response.status_code == 200 else None
            codes = [e.get("extensions", {}).get("code") for e in (body or {}).get("errors", [])]
            if "PERSISTED_QUERY_NOT_FOUND" in codes:
                with self._lock:
                    self.apq_misses += 1
                response = client.post(self.url, json=apq_body(LOAD_APQ_QUERY, with_query=True))
        else:
            response = client.post(self.url, json={"query": LOAD_QUERIES[step % len(LOAD_QUERIES)]})
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        body = response.json()
        if body.get("errors") or not body.get("data"):
            return f"errors: {str(body)[:300]}"
        return None


@dataclass
class Cluster:
    """Everything tests/cluster started, and how many answers crossed replicas."""

    redis: Any
    subgraphs: dict[str, Any]
    replicas: list[Replica]
    nginx: Nginx
    load: Load
    workdir: Path
    registry: Registry
    cross_replica_hits: int = 0
    publish_seconds: float | None = None  # from a publish answered to every replica serving it

    def hit(self, n: int = 1) -> None:
        """Count `n` answers one replica gave from what another one cached."""
        self.cross_replica_hits += n

"""The gateways under test: how to start each one on a supergraph file and a loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"


@dataclass(frozen=True)
class Gateway:
    """One gateway: a name for the table, and its command line for (supergraph, port)."""

    name: str
    label: str
    argv: tuple[str, ...]  # {supergraph} and {port} are filled in
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    peer: bool = True

    def command(self, supergraph: Path, port: int) -> list[str]:
        return [a.format(supergraph=supergraph, port=port) for a in self.argv]


def _node_major() -> int:
    node = shutil.which("node")
    if node is None:
        return 0
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    return int(out.lstrip("v").split(".")[0] or 0)


VARIANTS = {
    # name: (label, fixture) -- fedgate with one setting changed from its defaults
    "nodedup": ("fedgate, no fetch dedup", "fedgate-nodedup.yaml"),
    "httpx": ("fedgate, httpx client", "fedgate-httpx.yaml"),
    "reqdedup": ("fedgate, request dedup", "fedgate-reqdedup.yaml"),
}


def fedgate(workers: int | None = None, variant: str | None = None) -> Gateway:
    """fedgate serve, with BENCH_FEDGATE_CONFIG (a fedgate.yaml) when set.

    A variant uses fixtures/fedgate-<variant>.yaml instead: `nodedup` shares no identical
    concurrent subgraph fetches (the subgraphs see every request, as with the peers); `httpx`
    uses httpx for subgraph calls instead of fedgate's native client; `reqdedup` shares one
    execution between identical concurrent client queries (as Hive's inbound dedup).
    """
    fedgate_bin = str(Path(sys.executable).with_name("fedgate"))
    argv = [fedgate_bin, "serve", "--supergraph", "{supergraph}", "--host", "127.0.0.1", "--port", "{port}",
            "--log-level", "warning"]
    config = os.environ.get("BENCH_FEDGATE_CONFIG")
    name, label = "fedgate", "fedgate"
    if variant:
        label, fixture = VARIANTS[variant]
        config, name = str(BENCH / "fixtures" / fixture), f"fedgate-{variant}"
    if config:
        argv += ["--config", config]
    if workers:
        argv += ["--workers", str(workers)]
        name, label = f"{name}-w{workers}", f"{label} --workers {workers}"
    return Gateway(name, label, tuple(argv), peer=False)


def peers() -> list[Gateway]:
    """Apollo Gateway, Hive Gateway, Hive Gateway with the Rust planner (router runtime), and Grafbase.

    Each runs as one Node process, like fedgate without --workers. Hive Gateway runs as in The
    Guild's benchmark (--jit), but without inbound request deduplication unless BENCH_HIVE_DEDUP=1.
    """
    prod = {"NODE_ENV": "production"}
    hive_bin = str(PEERS / "node_modules" / ".bin" / "hive-gateway")
    hive = (hive_bin, "supergraph", "{supergraph}", "-c", "hive.config.mjs", "--host", "127.0.0.1",
            "--port", "{port}", "--fork", "1")
    rr_env = dict(prod)
    if _node_major() < 22:
        # the router runtime calls Promise.withResolvers, which Node 20 lacks
        rr_env["NODE_OPTIONS"] = (os.environ.get("NODE_OPTIONS", "") + " --import ./polyfill.mjs").strip()
    grafbase = (sys.executable, "-m", "bench.grafbase", "{supergraph}", "{port}")
    return [
        Gateway("apollo", "Apollo Gateway", ("node", "apollo.mjs", "{supergraph}", "{port}"), PEERS, prod),
        Gateway("hive", "Hive Gateway", (*hive, "--jit"), PEERS, prod),
        Gateway("hive-rr", "Hive Gateway + router runtime", (*hive, "--hive-router-runtime"), PEERS, rr_env),
        # Grafbase's Rust gateway (`grafbase dev`, offline): in-flight dedup on (its default) and off.
        Gateway("grafbase", "Grafbase (dedup on)", (*grafbase, "on"), ROOT),
        Gateway("grafbase-nodedup", "Grafbase (dedup off)", (*grafbase, "off"), ROOT),
    ]


def fedgate_has_workers() -> bool:
    """Whether `fedgate serve` has a --workers option (another engineer is adding it)."""
    fedgate_bin = str(Path(sys.executable).with_name("fedgate"))
    out = subprocess.run([fedgate_bin, "serve", "--help"], capture_output=True, text=True).stdout
    return "--workers" in out

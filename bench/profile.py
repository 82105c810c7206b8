"""Profile fedgate under workload 1: `python -m bench.profile [--config fedgate.yaml] [--seconds 15]`.

Starts the bench subgraphs and `fedgate serve` on the benchmark's supergraph, loads it with wrk
(50 connections), samples it with py-spy, and prints the top functions by self and inclusive
time. The raw samples go to bench/results/profile-<name>.txt (not committed: large).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .gateways import BENCH, fedgate
from .procs import Proc, wait_http
from .workloads import guild_load, guild_subgraphs, guild_supergraph


def _frame(raw: str) -> str:
    name, _, loc = raw.partition(" (")
    path = loc.rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:
        path = "stdlib/" + path.split("/lib/python3", 1)[1].split("/", 1)[1]
    else:
        path = path.replace(str(BENCH.parent) + "/", "")
    return f"{name} ({path})"


def summarize(raw_file: Path, top: int = 25) -> str:
    """Self and inclusive percentages per function from py-spy's raw (collapsed) output."""
    self_c: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";")]
        self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"{total} samples", "", "self time:"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in self_c.most_common(top)]
    out += ["", "inclusive time (below the event loop):"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in incl.most_common(top + 15)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--config", help="fedgate.yaml for the gateway")
    parser.add_argument("--name", default="fedgate", help="suffix of the output file")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("BENCH_PORT_BASE", 4450)) + 40)
    args = parser.parse_args()
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    tmp = Path(tempfile.mkdtemp(prefix="fedgate-profile-"))
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    raw = out / f"profile-{args.name}.txt"
    procs: list[Proc] = []
    try:
        sg, ports = guild_subgraphs(args.port_base, tmp)
        procs += sg
        supergraph = guild_supergraph(ports, tmp)
        gw = fedgate()
        argv = gw.command(supergraph, args.port_base + 10)
        if args.config:
            argv += ["--config", args.config]
        proc = Proc("fedgate", argv, log=tmp / "fedgate.log")
        procs.append(proc)
        load = guild_load()
        url = f"http://127.0.0.1:{args.port_base + 10}/graphql"
        wait_http(url, proc, body=load.bodies[0])
        bodies = tmp / "bodies.txt"
        bodies.write_bytes(load.bodies[0] + b"\n")
        wrk = subprocess.Popen(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds + 5}s", "--timeout=30s",
             "-s", str(BENCH / "load.lua"), url],
            env={**os.environ, "BENCH_BODIES": str(bodies)}, stdout=subprocess.PIPE, text=True,
        )
        time.sleep(3)
        subprocess.run([pyspy, "record", "-p", str(proc.pid), "-d", str(args.seconds), "-r", "200",
                        "--format", "raw", "-o", str(raw), "--nonblocking"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk_out, _ = wrk.communicate(timeout=args.seconds + 60)
        result = next((line for line in wrk_out.splitlines() if line.startswith("BENCH_RESULT")), "no wrk result")
        print(result)
        print(summarize(raw))
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

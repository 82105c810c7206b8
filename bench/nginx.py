"""Debian's nginx on loopback, configured from deploy/nginx/fedgate.conf.template.

The one template docker-compose.yml mounts (the nginx image fills its `${FEDGATE_*}` variables with
envsubst) is rendered the same way here, wrapped in a top-level config whose pid file, logs and
temp paths live in a prefix directory of our own, and run in the foreground; it is stopped by pid.
tests/cluster and bench/replicas.py use it.
"""

from __future__ import annotations

import os
import shutil
import signal
import string
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx" / "fedgate.conf.template"
# As docker-compose.yml sets them: a refused replica sits out 1 s, less than one replica's restart,
# so a rolling restart never has nginx count every replica out at once.
UPSTREAM_PARAMS = "max_fails=1 fail_timeout=1s"


def render_nginx_template(listen: str, upstreams: list[str]) -> str:
    """The template with its `${FEDGATE_*}` variables filled in, the way the nginx image's envsubst
    does with NGINX_ENVSUBST_FILTER=^FEDGATE_: nginx's own `$variables` are left alone."""
    servers = " ".join(f"server {u} {UPSTREAM_PARAMS};" for u in upstreams)
    return string.Template(TEMPLATE.read_text()).safe_substitute(
        FEDGATE_LISTEN=listen, FEDGATE_UPSTREAM_SERVERS=servers
    )


class Nginx:
    """Debian's nginx in front of the replicas, with everything it writes under `prefix`."""

    def __init__(self, prefix: Path, port: int, upstreams: list[str]) -> None:
        binary = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
        if binary is None:
            raise RuntimeError("nginx is not installed: run `make test` (it installs Debian's nginx)")
        self.binary = binary
        self.prefix = prefix
        self.port = port
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "fedgate.conf").write_text(render_nginx_template(f"127.0.0.1:{port}", upstreams))
        temp = "\n".join(
            f"    {kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # As root, nginx would hand its workers to `nobody`, who cannot enter pytest's temp dirs.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(
            f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$status|$upstream_addr|$upstream_status';
    access_log {prefix}/access.log upstream;
{temp}
    include {prefix}/fedgate.conf;
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        conf = str(self.prefix / "nginx.conf")
        check = subprocess.run(
            [self.binary, "-t", "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c", conf],
            capture_output=True, text=True,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused the rendered config:\n{check.stderr}")
        self.process = subprocess.Popen(
            [self.binary, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c", conf,
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/nginx-health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not answer: {self.error_log()}")

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def errors(self) -> list[str]:
        """Error-log lines other than the refused connections and sit-outs of a restart (those are retried)."""
        path = self.prefix / "error.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        expected = ("Connection refused", "temporarily disabled")
        return [line[:300] for line in lines if not any(e in line for e in expected)]

    def served_by(self) -> dict[str, int]:
        """Requests per upstream address that answered them, from the access log."""
        counts: dict[str, int] = {}
        path = self.prefix / "access.log"
        for line in path.read_text().splitlines() if path.exists() else []:
            _, addrs, _ = line.split("|")
            last = addrs.split(",")[-1].strip()  # after a retry: every address tried, the last answered
            if last != "-":
                counts[last] = counts.get(last, 0) + 1
        return counts

    def retried(self) -> int:
        """Requests nginx passed to a second replica (the first refused, reset or failed)."""
        path = self.prefix / "access.log"
        return sum("," in line.split("|")[1] for line in path.read_text().splitlines()) if path.exists() else 0

    def cpu_ms(self) -> float:
        """user+sys CPU milliseconds of the master and its workers so far."""
        if self.process is None:
            return 0.0
        from bench.procs import _TICK_MS, _stat_fields

        total = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat_fields(entry)
                if fields is not None and (int(entry) == self.process.pid or int(fields[1]) == self.process.pid):
                    total += int(fields[11]) + int(fields[12])
        return total * _TICK_MS

    def stop(self) -> None:
        """SIGQUIT (graceful) by pid, SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGQUIT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

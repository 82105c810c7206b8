"""Start processes in their own process group, stop them by group, and read their CPU time."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

_TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


class Proc:
    """One started process (and whatever it forks): its own session, so one killpg stops it all."""

    def __init__(self, name: str, argv: Sequence[str], *, cwd: str | Path | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.name = name
        self.log = log
        self.stats_url: str | None = None  # bench subgraphs count the requests they answer
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed by the child's exit
        self.popen = subprocess.Popen(
            list(argv), cwd=cwd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def cpu_ms(self) -> float:
        """user+sys CPU milliseconds of every live process in this process group."""
        return group_cpu_ms(self.pid)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the group, then SIGKILL what is left after timeout."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 2.0)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if self.popen.poll() is not None and not _group_alive(self.pid):
                    return
                time.sleep(0.05)

    def tail(self, n: int = 20) -> str:
        if not self.log or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def _stat_fields(pid: str) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def group_cpu_ms(pgid: int) -> float:
    """Sum utime+stime (fields 14 and 15 of /proc/<pid>/stat) over the live members of a group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        f = _stat_fields(entry)
        if f is None or int(f[2]) != pgid:
            continue
        total += int(f[11]) + int(f[12])
    return total * _TICK_MS


def _group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat_fields(entry)
            if f is not None and int(f[2]) == pgid and f[0] != "Z":
                return True
    return False


def group_pids(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            f = _stat_fields(entry)
            if f is not None and int(f[2]) == pgid:
                out.append(int(entry))
    return out


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def post(url: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url: str, proc: Proc, timeout: float = 60.0, body: bytes | None = None) -> None:
    """Wait until url answers (GET, or POST body), or raise with the process's log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            if body is None:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        return
            else:
                status, _ = post(url, body, timeout=5)
                if status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:.0f}s:\n{proc.tail()}")

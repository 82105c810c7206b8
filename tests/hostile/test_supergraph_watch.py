"""`fedgate serve --supergraph PATH` reloads on file-system notifications (watchfiles), with polling as the
fallback; a half-written file is refused as broken and the complete one then loads."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "operations"))

from gateways import ROOT, Proc, start_gateway  # noqa: E402

V1 = (ROOT / "tests" / "fixtures" / "simple_supergraph.graphql").read_text()
V2 = V1.replace(
    "  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS)\n",
    "  topProducts(first: Int = 5): [Product!]! @join__field(graph: PRODUCTS)\n"
    "  newField: String @join__field(graph: PRODUCTS)\n",
)
FIELDS = '{ __type(name: "Query") { fields { name } } }'


def _fields(proc: Proc) -> list[str]:
    body = proc.post(FIELDS).json()
    return [f["name"] for f in body["data"]["__type"]["fields"]]


def _wait_for(proc: Proc, field: str, seconds: float) -> float:
    """Seconds until `field` is served; fails after `seconds` (a bound for a hung watcher, not a timing check)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if field in _fields(proc):
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"{field} not served after {seconds}s:\n{proc.log()[-2000:]}")


def _ready(proc: Proc) -> dict:
    return httpx.get(proc.base_url + "/ready", timeout=5).json()["supergraph"]


def _write_in_two_steps(path: Path, text: str, proc: Proc) -> None:
    """Write in place like a slow copy: first half, a pause long enough to be noticed, then all of it."""
    half = text[: len(text) // 2]
    refused = _ready(proc)["refused"]
    path.write_text(half)
    deadline = time.monotonic() + 30
    while _ready(proc)["refused"] == refused:  # the half file is read and refused as broken
        assert time.monotonic() < deadline, proc.log()[-2000:]
        time.sleep(0.01)
    path.write_text(text)


def test_notifications_reload_without_polling(tmp_path: Path):
    # A poll every 10 minutes: only a notification can bring v2 in within the test.
    proc = start_gateway(V1, {"lifecycle": {"shutdown_delay": 0, "watch_interval": 600}}, tmp_path, "watched")
    try:
        path = tmp_path / "watched.graphql"
        assert "newField" not in _fields(proc)
        _write_in_two_steps(path, V2, proc)
        _wait_for(proc, "newField", 30)
        state = _ready(proc)
        assert state["reloads"] == 1 and state["refused"] >= 1 and state["last_error"] is None
        # An atomic replace (write elsewhere, rename over) is seen too: the folder is watched.
        tmp = tmp_path / "next.tmp"
        tmp.write_text(V1)
        tmp.replace(path)
        deadline = time.monotonic() + 30
        while "newField" in _fields(proc):
            assert time.monotonic() < deadline, proc.log()[-2000:]
            time.sleep(0.01)
        assert _ready(proc)["reloads"] == 2
    finally:
        proc.stop()


def test_polling_is_the_fallback(tmp_path: Path):
    config = {"lifecycle": {"shutdown_delay": 0, "watch_interval": 0.2, "file_notifications": False}}
    proc = start_gateway(V1, config, tmp_path, "polled")
    try:
        _write_in_two_steps(tmp_path / "polled.graphql", V2, proc)
        _wait_for(proc, "newField", 30)
        assert _ready(proc)["reloads"] == 1
    finally:
        proc.stop()

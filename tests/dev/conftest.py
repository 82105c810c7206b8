"""`fedgate dev` as a developer runs it: its own process (and session), SDL files in a temp folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from dev_helpers import SCHEMA, DevProcess


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

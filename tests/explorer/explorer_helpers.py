"""Helpers for the explorer tests: `fedgate serve` over the real subgraphs, the Chromium to drive."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any


def _root_helpers() -> Any:
    """tests/conftest.py's process helpers (a conftest is not importable by name in a sub-folder)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("fedgate_test_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_helpers = _root_helpers()
REPO_ROOT: Path = _helpers.REPO_ROOT
ServiceProcess = _helpers.ServiceProcess
find_free_port = _helpers.find_free_port
start_service_process = _helpers.start_service_process

CHROMIUM = os.environ.get("FEDGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
README_QUERY = (
    "query OrderStatus($id: ID!) { order(id: $id) { id status total { cents currency } customer { name } "
    "isPaid payment { method status } delivery { status agent { name vehicle } pickup { name } } "
    "estimatedDeliveryMinutes } }"
)


def routed_supergraph(subgraphs: dict[str, ServiceProcess], path: Path) -> Path:
    """schema/supergraph.graphql with its routing URLs pointed at the running subgraphs."""
    sdl = (REPO_ROOT / "schema" / "supergraph.graphql").read_text()
    for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        sdl = sdl.replace(f"http://127.0.0.1:{default_port}/", f"{subgraphs[name].base_url}/")
    path.write_text(sdl)
    return path


def serve(subgraphs: dict[str, ServiceProcess], workdir: Path, *args: str, config: str | None = None) -> ServiceProcess:
    """`fedgate serve` over the subgraphs with extra `args` (and a fedgate.yaml with `config`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    supergraph = routed_supergraph(subgraphs, workdir / "supergraph.graphql")
    port = find_free_port()
    argv = [sys.executable, "-m", "gateway", "serve", "--supergraph", str(supergraph), "--port", str(port), *args]
    if config is not None:
        (workdir / "fedgate.yaml").write_text(config)
        argv += ["--config", str(workdir / "fedgate.yaml")]
    return start_service_process("gateway", argv, port, workdir)

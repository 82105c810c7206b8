"""fedgate.yaml: the model, its loader, and docs/configuration.md and docs/operations.md kept in step with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.config import ConfigError, GatewayConfig, load_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
OPERATIONS = DOCS.with_name("operations.md")


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, info in model.model_fields.items():
        key = prefix + name
        out.append(key)
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_keys(ann, key + "."))
    return out


@pytest.mark.parametrize("doc", [DOCS, OPERATIONS], ids=["configuration.md", "operations.md"])
def test_every_config_key_is_documented(doc: Path):
    text = doc.read_text()
    missing = [key for key in _keys(GatewayConfig) if f"`{key}" not in text]
    assert missing == []


def test_load_config(tmp_path: Path):
    path = tmp_path / "fedgate.yaml"
    path.write_text("port: 4100\nexpose_query_plan: false\ntraffic_shaping:\n  subgraphs:\n    a: {timeout: 2}\n")
    config = load_config(path)
    assert config.port == 4100 and config.expose_query_plan is False
    assert config.traffic_shaping.for_subgraph("a").timeout == 2
    assert config.traffic_shaping.for_subgraph("b").timeout == 30
    assert load_config(None) == GatewayConfig()


@pytest.mark.parametrize("text", ["prot: 1\n", "port: x\n", "- a\n", "a: [\n"])
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str):
    path = tmp_path / "fedgate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "\n" not in info.value.message


def test_every_metric_is_in_operations_md():
    from gateway.observability.metrics import REGISTRY

    text = OPERATIONS.read_text()
    names = [f.name + ("_total" if f.type == "counter" else "") for f in REGISTRY.collect()]
    assert len(names) >= 13 and [name for name in names if f"`{name}`" not in text] == []


def test_invalidation_secret_can_come_from_a_file(tmp_path: Path):
    secret = tmp_path / "invalidation-secret"
    secret.write_text("s3cret-from-a-mounted-secret\n")
    path = tmp_path / "fedgate.yaml"
    path.write_text(f"cache:\n  invalidation:\n    secret_file: {secret}\n")
    assert load_config(path).cache.invalidation.secret == "s3cret-from-a-mounted-secret"

    for text, reason in (
        (f"cache:\n  invalidation:\n    secret: a\n    secret_file: {secret}\n", "one of `secret` and `secret_file`"),
        (f"cache:\n  invalidation:\n    secret_file: {tmp_path / 'missing'}\n", "cannot read secret_file"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=reason):
            load_config(path)

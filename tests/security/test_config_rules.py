"""Mistakes in the security/headers/auth sections of fedgate.yaml fail at startup with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("headers: {all: [{propagate: a, insert: b, value: c}]}", "exactly one of `propagate`, `matching`, `insert`"),
        ("headers: {all: [{matching: '('}]}", "is not a regex"),
        ("headers: {subgraphs: {orders: [{insert: x-user}]}}", "needs one of `value`, `from_claim`"),
        ("auth: {jwks: [{}]}", "exactly one of `file`, `url`"),
        ("auth: {jwks: [{file: /nonexistent/jwks.json}]}", "cannot read JWKS file"),
        ("limits: {max_depth: 0}", "limits.max_depth"),
        ("telemetry: {logging: {format: xml}}", "telemetry.logging.format"),
        ("security: {introspection: maybe}", "security.introspection"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str):
    path = tmp_path / "fedgate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in info.value.message and "\n" not in info.value.message


def test_limits_can_be_turned_off(tmp_path: Path):
    path = tmp_path / "fedgate.yaml"
    path.write_text("limits: {max_depth: null, max_tokens: null, max_cost: 500}\n")
    limits = load_config(path).limits
    assert limits.max_depth is None and limits.max_tokens is None and limits.max_cost == 500

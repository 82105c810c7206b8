"""The GraphQL-over-HTTP spec's own server audit (`graphql-http` from npm) against a real gateway.

`make test` installs it into tests/node/node_modules (npm ci); this test does the same when run alone.
MAY points are not required: the GET ones are refused by CSRF prevention on purpose (a GET without
`apollo-require-preflight` is a "simple" browser request), as Apollo Router does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def node_modules() -> Path:
    """tests/node/node_modules, installed with `npm ci` on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("machine capability missing: no node/npm on PATH (the graphql-http audit runs on Node)")
    target = NODE_DIR / "node_modules"
    if not (target / "graphql-http").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True, timeout=300)
    return target


def test_graphql_http_audit_passes_every_must_and_should(gateway_url: str) -> None:
    node_modules()
    run = subprocess.run(
        ["node", str(NODE_DIR / "graphql-http-audit.mjs"), gateway_url],
        capture_output=True, text=True, timeout=120, check=True,
    )
    result = json.loads(run.stdout)
    failed = [f for f in result["failures"] if not f["name"].startswith("MAY")]
    assert failed == []
    assert result["MUST"] == [13, 13]
    assert result["SHOULD"] == [23, 23]

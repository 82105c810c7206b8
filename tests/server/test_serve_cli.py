"""`fedgate serve` and `fedgate plan` as a user runs them: real processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson


def fedgate(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60, **kw)  # type: ignore[call-overload]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_missing_supergraph_exits_with_one_line(tmp_path: Path):
    result = fedgate("serve", "--supergraph", str(tmp_path / "nope.graphql"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot read supergraph" in lines[0]


def test_serve_with_invalid_supergraph_exits_with_one_line(tmp_path: Path):
    path = tmp_path / "bad.graphql"
    path.write_text("type Query { hello: String }")
    result = fedgate("serve", "--supergraph", str(path))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid supergraph" in lines[0]


def test_serve_with_invalid_config_exits_with_one_line(tmp_path: Path, shop_sdl: str):
    (tmp_path / "s.graphql").write_text(shop_sdl)
    (tmp_path / "fedgate.yaml").write_text("port: not-a-port\n")
    result = fedgate("serve", "--supergraph", str(tmp_path / "s.graphql"), "--config", str(tmp_path / "fedgate.yaml"))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "port" in result.stderr


def test_serve_answers_queries(tmp_path: Path, shop_sdl: str):
    (tmp_path / "s.graphql").write_text(shop_sdl)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--supergraph", str(tmp_path / "s.graphql"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded machine can take 20 s to import the gateway
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.1)
        response = httpx.post(f"{base}/graphql", json={"query": '{ product(upc: "1") { name inStock } }'})
        assert response.json() == {"data": {"product": {"name": "Table", "inStock": True}}}
    finally:
        proc.terminate()
        proc.wait(10)


def test_plan_prints_the_query_plan(tmp_path: Path, shop_sdl: str):
    (tmp_path / "s.graphql").write_text(shop_sdl)
    (tmp_path / "op.graphql").write_text('query ($u: String!) { product(upc: $u) { name inStock } }')
    result = fedgate("plan", "--supergraph", str(tmp_path / "s.graphql"), str(tmp_path / "op.graphql"),
                     "--variables", orjson.dumps({"u": "1"}).decode())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("QueryPlan {")
    assert 'Fetch(service: "products")' in out and 'Fetch(service: "inventory")' in out
    assert 'Flatten(path: "product")' in out


def test_plan_reports_invalid_operation(tmp_path: Path, shop_sdl: str):
    (tmp_path / "s.graphql").write_text(shop_sdl)
    (tmp_path / "op.graphql").write_text("{ nope }")
    result = fedgate("plan", "--supergraph", str(tmp_path / "s.graphql"), str(tmp_path / "op.graphql"))
    assert result.returncode != 0
    assert "nope" in result.stderr


def test_plan_variables_decide_skip_and_include(tmp_path: Path, shop_sdl: str):
    (tmp_path / "s.graphql").write_text(shop_sdl)
    (tmp_path / "op.graphql").write_text(
        'query ($u: String!, $stock: Boolean = true) { product(upc: $u) { name inStock @include(if: $stock) } }'
    )
    args = ["plan", "--supergraph", str(tmp_path / "s.graphql"), str(tmp_path / "op.graphql")]
    general = fedgate(*args)
    assert general.returncode == 0, general.stderr
    assert "Include(if: $stock)" in general.stdout and 'Fetch(service: "inventory")' in general.stdout
    without = fedgate(*args, "--variables", '{"u": "1", "stock": false}')
    assert without.returncode == 0, without.stderr
    assert 'Fetch(service: "inventory")' not in without.stdout and "Include" not in without.stdout
    defaulted = fedgate(*args, "--variables", '{"u": "1"}')  # the default, true, applies
    assert 'Fetch(service: "inventory")' in defaulted.stdout and "Include" not in defaulted.stdout
    wrong = fedgate(*args, "--variables", '{"u": 1, "stock": "yes"}')
    assert wrong.returncode != 0 and "stock" in wrong.stderr

"""Concurrent publishes from several processes to one variant: all land, in one order, none lost.

On PostgreSQL the publishers talk to two registry replicas sharing the database, as in production.
"""

from __future__ import annotations

import subprocess

from registry_helpers import ADMIN, FEDGATE, LINK, PRODUCTS, REPO_ROOT, Api

PUBLISHERS = 6


def test_concurrent_publishes_all_land_in_order(database, start_registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    replicas = [start_registry(database)]
    if database.startswith("postgresql://"):
        replicas.append(start_registry(database))
    api = Api(replicas[0].base_url)
    assert api.call("POST", "/graphs", {"name": "shop"}).status_code == 201
    assert api.publish("shop@prod", "products", PRODUCTS, "http://127.0.0.1:1/graphql").status_code == 201

    procs = []
    for i in range(PUBLISHERS):
        sdl = tmp_path / f"team{i}.graphql"
        sdl.write_text(LINK + f'type Product @key(fields: "id") {{ id: ID! extra{i}: Int }}\n')
        registry = replicas[i % len(replicas)].base_url
        procs.append(subprocess.Popen(
            [*FEDGATE, "publish", "--registry", registry, "--token", ADMIN, "--graph", "shop@prod",
             "--name", f"team{i}", "--schema", str(sdl), "--routing-url", f"http://127.0.0.1:{2000 + i}/graphql"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * PUBLISHERS, outputs
    got = sorted(int(out.strip().rsplit(" ", 1)[1]) for out, _ in outputs)
    assert got == list(range(2, 2 + PUBLISHERS))  # one version each, no gaps, none shared

    served = api.supergraph("shop@prod").text
    assert all(f"extra{i}: Int" in served for i in range(PUBLISHERS))
    history = api.call("GET", "/graphs/shop/variants/prod/versions").json()["versions"]
    assert [v["version"] for v in history] == list(range(PUBLISHERS + 1, 0, -1))
    # Each version holds every subgraph published before it: the order is one line, nothing lost.
    for v in history:
        assert len(v["subgraphs"]) == v["version"]

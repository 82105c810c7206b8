"""`POST /invalidation`: drop entity cache entries by subgraph, by type, or by type and key.

The body is one request or a list of them, in Apollo Router's shape:

    {"kind": "subgraph", "subgraph": "orders"}
    {"kind": "type", "type": "Order"}                         # "subgraph" optional: all by default
    {"kind": "entity", "type": "Order", "key": {"id": "1"}}   # "subgraph" optional

Authorization: the `Authorization` header must equal `cache.invalidation.secret`.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson

from gateway.cache.entities import EntityCache


async def handle_invalidation(
    secret: str | None, entities: EntityCache | None, authorization: str | None, body: bytes
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) answering one invalidation request."""
    if secret is None:
        return 404, {"error": "invalidation is not configured (cache.invalidation.secret)"}
    given = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), secret.encode()):
        return 401, {"error": "invalid or missing Authorization"}
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 400, {"error": "body is not valid JSON"}
    requests = raw if isinstance(raw, list) else [raw]
    parsed: list[tuple[str | None, str | None, Any]] = []
    for item in requests:
        if not isinstance(item, dict):
            return 400, {"error": "each invalidation request must be an object"}
        kind = item.get("kind")
        subgraph, typename, key = item.get("subgraph"), item.get("type"), item.get("key")
        if kind == "subgraph" and isinstance(subgraph, str):
            parsed.append((subgraph, None, None))
        elif kind == "type" and isinstance(typename, str):
            parsed.append((subgraph if isinstance(subgraph, str) else None, typename, None))
        elif kind == "entity" and isinstance(typename, str) and isinstance(key, dict) and key:
            parsed.append((subgraph if isinstance(subgraph, str) else None, typename, key))
        else:
            return 400, {"error": f"cannot understand invalidation request {orjson.dumps(item).decode()}"}
    if entities is None:
        return 200, {"count": 0}
    store = entities.store
    if not getattr(store, "available", True):
        return 503, {"error": "the cache backend is unavailable; nothing was invalidated", "count": 0}
    failures = getattr(store, "failures", 0)
    count = 0
    for subgraph, typename, key in parsed:
        count += await entities.invalidate(subgraph, typename, key)
    if getattr(store, "failures", 0) != failures:
        return 503, {"error": "the cache backend failed; some entries may remain", "count": count}
    return 200, {"count": count}

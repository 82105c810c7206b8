"""Automatic persisted queries (Apollo's protocol) and safelisting from a persisted-query manifest.

A request carries `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}` (POST body, or
the `extensions` query parameter of a GET as JSON). Codes and HTTP statuses follow Apollo Router:

| case | code | status |
| --- | --- | --- |
| hash unknown (APQ) | `PERSISTED_QUERY_NOT_FOUND` | 200 |
| query does not hash to `sha256Hash` | `PERSISTED_QUERY_HASH_MISMATCH` | 400 |
| a hash while `cache.apq.enabled` is false | `PERSISTED_QUERY_NOT_SUPPORTED` | 200 |
| safelist: id not in the manifest | `PERSISTED_QUERY_NOT_IN_LIST` | 404 |
| safelist: freeform query not in the manifest | `PERSISTED_QUERY_NOT_IN_LIST` | 403 |
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from gateway.cache.base import Cache
from gateway.cache.memory import LRU
from gateway.config import ApqConfig
from gateway.observability.metrics import CACHE_HITS, CACHE_MISSES

_HIT = CACHE_HITS.labels("apq")
_MISS = CACHE_MISSES.labels("apq")

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
BAD_REQUEST = "BAD_REQUEST"


class PersistedQueryError(Exception):
    """The request's persisted query cannot be used; `status` and `code` are what the client sees."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ManifestError(Exception):
    """The persisted-query manifest cannot be read."""

    code = "INVALID_CONFIG"


def load_manifest(path: str | Path) -> dict[str, str]:
    """id -> body from an Apollo persisted-query manifest (`{"format": "apollo-persisted-query-manifest", ...}`)."""
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read persisted-query manifest {path}: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("format") != "apollo-persisted-query-manifest":
        raise ManifestError(f"{path} is not an apollo-persisted-query-manifest")
    out: dict[str, str] = {}
    for op in raw.get("operations") or ():
        if isinstance(op, dict) and isinstance(op.get("id"), str) and isinstance(op.get("body"), str):
            out[op["id"]] = op["body"]
    return out


def sha256_hex(text: str) -> str:
    """The APQ hash of a query text."""
    return hashlib.sha256(text.encode()).hexdigest()


class PersistedQueries:
    """Resolves the query text of a request; raises PersistedQueryError when it cannot be served."""

    def __init__(self, config: ApqConfig, store: Cache, key_prefix: str = "fedgate:") -> None:
        self.config = config
        self.store = store
        self.prefix = key_prefix + "apq:"
        self._local: LRU[str, str] = LRU(4096)
        self.safelist: dict[str, str] | None = None
        self._bodies: frozenset[str] = frozenset()
        if config.safelist.enabled:
            if not config.safelist.manifest:
                raise ManifestError("cache.apq.safelist.enabled needs cache.apq.safelist.manifest")
            self.safelist = load_manifest(config.safelist.manifest)
            self._bodies = frozenset(self.safelist.values())

    async def resolve(self, query: Any, extensions: Any) -> Any:
        """The query to run: `query` itself, or the text its `persistedQuery` hash stands for."""
        if extensions is None and self.safelist is None:
            return query
        if isinstance(extensions, (str, bytes)):
            try:
                extensions = orjson.loads(extensions)
            except orjson.JSONDecodeError:
                raise PersistedQueryError(400, BAD_REQUEST, "`extensions` is not valid JSON.") from None
        pq = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if pq is not None and not isinstance(pq, dict):
            raise PersistedQueryError(400, BAD_REQUEST, "`extensions.persistedQuery` must be an object.")
        if self.safelist is not None:
            return self._safelisted(query, pq)
        if pq is None:
            return query
        digest = self._hash(pq)
        if not self.config.enabled:
            raise PersistedQueryError(200, PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported")
        if isinstance(query, str) and query:
            if sha256_hex(query) != digest:
                raise PersistedQueryError(400, PERSISTED_QUERY_HASH_MISMATCH, "provided sha does not match query")
            if self._local.get(digest) is None:
                self._local.put(digest, query)
                await self.store.set_many([(self.prefix + digest, query.encode(), self.config.ttl)])
            return query
        text = self._local.get(digest)
        if text is None:
            stored = await self.store.get(self.prefix + digest)
            if stored is not None:
                text = stored.decode()
                self._local.put(digest, text)
        if text is None:
            _MISS.inc()
            raise PersistedQueryError(200, PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
        _HIT.inc()
        return text

    def _hash(self, pq: dict[str, Any]) -> str:
        if pq.get("version", 1) != 1:
            raise PersistedQueryError(400, BAD_REQUEST, "Unsupported persisted query version.")
        digest = pq.get("sha256Hash")
        if not isinstance(digest, str) or not digest:
            raise PersistedQueryError(400, BAD_REQUEST, "`persistedQuery.sha256Hash` must be a non-empty string.")
        return digest.lower()

    def _safelisted(self, query: Any, pq: dict[str, Any] | None) -> str:
        assert self.safelist is not None
        if pq is not None:
            digest = self._hash(pq)
            body = self.safelist.get(digest)
            if body is None:
                _MISS.inc()
                raise PersistedQueryError(
                    404, PERSISTED_QUERY_NOT_IN_LIST, f"Persisted query '{digest}' not found in the persisted query list"
                )
            if isinstance(query, str) and query and query != body:
                raise PersistedQueryError(400, PERSISTED_QUERY_HASH_MISMATCH, "provided sha does not match query")
            _HIT.inc()
            return body
        if isinstance(query, str) and query in self._bodies:
            _HIT.inc()
            return query
        _MISS.inc()
        raise PersistedQueryError(
            403, PERSISTED_QUERY_NOT_IN_LIST, "The operation body was not found in the persisted query list"
        )

"""The entity and root-field cache: results of subgraph fetches, shared across requests and replicas.

An entry is one entity (or one root fetch's data) under the key

    {prefix}e:{subgraph}:{type}:{key tag}:{digest of selection, variables, vary headers, user, representation}

so invalidation by subgraph, by type, or by type and key is a prefix delete. The executor calls
`EntityCacheRun.fetch_root` / `fetch_entities` instead of sending when the cache is on: lookups first,
only the misses go to the subgraph, both are merged in representation order. Fetches that return
errors, mutations, `no-store` answers and `private` data without a user id are never stored.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, GraphQLObjectType, SelectionSetNode, get_named_type, is_object_type

from gateway.cache.base import Cache
from gateway.config import EntityCacheConfig, EntityTtlConfig
from gateway.execution.failures import fetch_failed
from gateway.observability.metrics import CACHE_HITS, CACHE_MISSES

if TYPE_CHECKING:
    from gateway.execution.operation import PreparedFetch, PreparedOperation
    from gateway.planning.nodes import FetchNode

log = logging.getLogger("fedgate.cache")

_HIT = CACHE_HITS.labels("entity")
_MISS = CACHE_MISSES.labels("entity")
_ROOT_TAG = "-"
_NO_STORE = -1.0


def parse_cache_control(value: str | None) -> tuple[float | None, bool, bool]:
    """(max-age seconds or None, private, no-store) of a `Cache-Control` header."""
    if not value:
        return None, False, False
    max_age: float | None = None
    private = no_store = False
    for part in value.lower().split(","):
        name, _, arg = part.strip().partition("=")
        if name in ("max-age", "s-maxage"):
            try:
                age = float(arg.strip().strip('"'))
            except ValueError:
                continue
            max_age = age if max_age is None else min(max_age, age)
        elif name == "private":
            private = True
        elif name in ("no-store", "no-cache"):
            no_store = True
    return max_age, private, no_store


def _project(value: Any, selection: SelectionSetNode) -> Any:
    """`value` restricted to a key's field set (nested keys included); KeyError when a field is missing."""
    if type(value) is list:
        return [_project(v, selection) for v in value]
    if type(value) is not dict:
        return value
    out: dict[str, Any] = {}
    for sel in selection.selections:
        if isinstance(sel, FieldNode):
            name = sel.name.value
            inner = value[name]
            out[name] = _project(inner, sel.selection_set) if sel.selection_set and inner is not None else inner
    return out


class EntityCache:
    """Configuration-derived lookup tables and the backend; one per pipeline (one supergraph)."""

    def __init__(self, config: EntityCacheConfig, store: Cache, supergraph: Any, key_prefix: str = "fedgate:") -> None:
        self.config = config
        self.store = store
        self.supergraph = supergraph
        self.prefix = key_prefix + "e:"
        self.vary = tuple(h.lower() for h in config.vary_headers)
        self.private_header = config.private_id_header.lower() if config.private_id_header else None
        self._keysets: dict[str, list[SelectionSetNode]] = {}
        # (subgraph, type) pairs that answered `Cache-Control: private`: looked up per user from then on.
        self.seen_private: set[tuple[str, str]] = set()

    def begin(self, prepared: PreparedOperation, headers: Mapping[str, str] | None) -> EntityCacheRun:
        """The per-request state for one operation."""
        return EntityCacheRun(self, prepared, headers)

    # -- configuration --------------------------------------------------------------------------

    def _settings(self, subgraph: str, typename: str) -> tuple[bool, float, bool]:
        """(enabled, ttl, private) for entries of `typename` from `subgraph`."""
        sg: EntityTtlConfig | None = self.config.subgraphs.get(subgraph)
        ty: EntityTtlConfig | None = self.config.types.get(typename)
        enabled = (sg is None or sg.enabled) and (ty is None or ty.enabled)
        ttl = self.config.ttl
        if sg is not None and sg.ttl is not None:
            ttl = sg.ttl
        if ty is not None and ty.ttl is not None:
            ttl = ty.ttl if sg is None or sg.ttl is None else min(ttl, ty.ttl)
        private = (sg is not None and sg.private) or (ty is not None and ty.private)
        return enabled, ttl, private

    # -- keys -----------------------------------------------------------------------------------

    def keysets(self, typename: str) -> list[SelectionSetNode]:
        """Every `@key` field set of `typename` in any subgraph, in a fixed order."""
        found = self._keysets.get(typename)
        if found is None:
            types = getattr(self.supergraph, "types", None) or {}
            meta = types.get(typename)
            by_text: dict[str, SelectionSetNode] = {}
            for jt in getattr(meta, "join_types", ()) or ():
                if jt.key is not None and jt.key_selection is not None:
                    by_text.setdefault(" ".join(jt.key.split()), jt.key_selection)
            found = self._keysets[typename] = [by_text[k] for k in sorted(by_text)]
        return found

    def key_tags(self, typename: str, value: Mapping[str, Any], first_only: bool) -> list[str]:
        """Digests of `value` projected on each key of `typename` it has all fields of."""
        tags: list[str] = []
        for selection in self.keysets(typename):
            try:
                projected = _project(dict(value), selection)
            except KeyError:
                continue
            tags.append(hashlib.sha256(orjson.dumps(projected, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32])
            if first_only:
                break
        return tags

    # -- invalidation ---------------------------------------------------------------------------

    async def invalidate(self, subgraph: str | None = None, typename: str | None = None, key: Any = None) -> int:
        """Delete entries by subgraph, by type (every subgraph unless one is named), or by type and key.

        By key, the entries that contain the entity (root fields, other entities) go too.
        """
        if typename is not None and key is not None:
            keys = [k for tag in self.key_tags(typename, key, False) for k in await self.store.pop_tag(self._tag(typename, tag))]
            if subgraph:
                keys = [k for k in keys if k.startswith(f"{self.prefix}{subgraph}:")]
            await self.store.delete(keys)
            return len(keys)
        subgraphs = [subgraph] if subgraph else list(getattr(self.supergraph, "subgraph_urls", {}) or {})
        count = 0
        for sg in subgraphs:
            count += await self.store.delete_prefix(f"{self.prefix}{sg}:" if typename is None else f"{self.prefix}{sg}:{typename}:")
        return count

    async def invalidate_returned(self, root: GraphQLObjectType | None, data: Any) -> None:
        """Drop the cached entries of every entity a mutation returned (and of results containing them)."""
        found: set[tuple[str, str]] = set()
        _walk_entities(self, root, data, found)
        keys: list[str] = []
        for typename, tag in found:
            keys.extend(await self.store.pop_tag(self._tag(typename, tag)))
        await self.store.delete(keys)

    def _tag(self, typename: str, key_tag: str) -> str:
        return f"{self.prefix}tag:{typename}:{key_tag}"

    def tags(
        self, key: str, own: tuple[str, dict[str, Any]] | None, parent: GraphQLObjectType | None, data: Any, ttl: float
    ) -> list[tuple[str, str, float]]:
        """(tag set, `key`, ttl) for the entity stored at `key` (`own`: its type and what is known of it:
        every key it has), and every entity its data contains, so invalidating any of them removes it."""
        found: set[tuple[str, str]] = set()
        if own is not None:
            found.update((own[0], tag) for tag in self.key_tags(own[0], own[1], False))
        _walk_entities(self, parent, data, found)
        return [(self._tag(typename, tag), key, ttl) for typename, tag in found]

    def object_type(self, typename: str) -> GraphQLObjectType | None:
        """The supergraph's object type `typename` (None for interfaces and unknown names)."""
        schema = getattr(self.supergraph, "full_schema", None)
        found = schema.get_type(typename) if schema is not None else None
        return found if is_object_type(found) else None  # type: ignore[return-value]


def _walk_entities(cache: EntityCache, parent: GraphQLObjectType | None, value: Any, found: set[tuple[str, str]]) -> None:
    if type(value) is list:
        for item in value:
            _walk_entities(cache, parent, item, found)
        return
    if type(value) is not dict or parent is None:
        return
    schema = getattr(cache.supergraph, "full_schema", None)
    for name, child in value.items():
        if type(child) not in (dict, list):
            continue
        field = parent.fields.get(name)
        if field is None:
            continue
        named = get_named_type(field.type)
        for item in child if type(child) is list else [child]:
            if type(item) is not dict:
                continue
            typename = item.get("__typename") or (named.name if is_object_type(named) else None)
            if typename is None:
                continue
            for tag in cache.key_tags(typename, item, False):
                found.add((typename, tag))
            obj = schema.get_type(typename) if schema is not None else None
            _walk_entities(cache, obj if is_object_type(obj) else None, item, found)  # type: ignore[arg-type]


class EntityCacheRun:
    """One request's use of the entity cache: lookups, stores, and the response's `Cache-Control`."""

    __slots__ = ("cache", "prepared", "headers", "mutation", "vary_digest", "user", "min_ttl", "private",
                 "no_store", "last_response", "stale")

    def __init__(self, cache: EntityCache, prepared: PreparedOperation, headers: Mapping[str, str] | None) -> None:
        self.cache = cache
        self.prepared = prepared
        self.headers = headers or {}
        self.mutation = prepared.kind.value != "query"
        vary = [f"{h}={self.headers.get(h, '')}" for h in cache.vary]
        self.vary_digest = "\n".join(vary)
        user = self.headers.get(cache.private_header) if cache.private_header else None
        self.user = hashlib.sha256(user.encode()).hexdigest() if user else None
        self.min_ttl: float | None = None
        self.private = False
        self.no_store = self.mutation
        self.last_response: Any = None
        self.stale: list[str] = []  # subgraphs answered from expired entries (stale-if-error)

    # -- response header ------------------------------------------------------------------------

    def _part(self, ttl: float, private: bool) -> None:
        if ttl <= 0:
            self.no_store = True
            return
        self.min_ttl = ttl if self.min_ttl is None else min(self.min_ttl, ttl)
        self.private = self.private or private

    def cache_control(self) -> str | None:
        """`Cache-Control` for the response: the minimum over the parts used."""
        if self.no_store:
            return "no-store"
        if self.min_ttl is None:
            return None
        return f"max-age={int(self.min_ttl)},{'private' if self.private else 'public'}"

    # -- helpers --------------------------------------------------------------------------------

    def _scope(self, subgraph: str, typename: str) -> tuple[bool, float, bool, str | None]:
        """(usable, ttl, private, user digest) for entries of `typename` from `subgraph`."""
        enabled, ttl, private = self.cache._settings(subgraph, typename)
        private = private or (subgraph, typename) in self.cache.seen_private
        if not enabled or (private and self.user is None):
            return False, ttl, private, None
        return True, ttl, private, self.user if private else None

    def _variables(self, fetch: PreparedFetch, run: Any) -> bytes:
        variables = run.variables
        return orjson.dumps([[name, variables.get(name)] for name, _ in fetch.variables])

    def _entry_key(self, subgraph: str, typename: str, tag: str, *parts: bytes | str) -> str:
        h = hashlib.sha256()
        for part in parts:
            h.update(part.encode() if isinstance(part, str) else part)
            h.update(b"\0")
        return f"{self.cache.prefix}{subgraph}:{typename}:{tag}:{h.hexdigest()}"

    def _response_policy(self, subgraph: str, typename: str, ttl: float) -> tuple[float, bool]:
        """(ttl to store with, private) after the subgraph's own `Cache-Control`."""
        header = getattr(self.last_response, "cache_control", None)
        max_age, private, no_store = parse_cache_control(header)
        if private:
            self.cache.seen_private.add((subgraph, typename))
        if no_store:
            return _NO_STORE, private
        if max_age is not None:
            ttl = min(ttl, max_age)
        return ttl, private

    def _decode(self, raw: bytes | None, now: float) -> tuple[Any, float] | None:
        if raw is None:
            return None
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        remaining = entry["x"] - now
        if remaining <= 0:
            return None
        return entry["d"], remaining

    def _stale(self, raw: bytes | None, now: float) -> Any:
        """The data of an expired entry still within `stale_if_error`, else None."""
        window = self.cache.config.stale_if_error
        if raw is None or window <= 0:
            return None
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return entry["d"] if now - window <= entry["x"] <= now else None

    def _keep(self, ttl: float) -> float:
        """How long the store keeps an entry fresh for `ttl`: longer by the stale-if-error window."""
        return ttl + self.cache.config.stale_if_error

    # -- the two executor hooks -----------------------------------------------------------------

    async def fetch_root(self, run: Any, node: FetchNode, fetch: PreparedFetch) -> tuple[Any, list[Any]]:
        """A root fetch: answered from the cache when a live entry exists, else sent and stored.

        Any failure of the cache's own logic falls back to a plain fetch: the cache never costs a request.
        """
        sent: list[tuple[Any, list[Any]]] = []

        async def send(body: bytes) -> tuple[Any, list[Any]]:
            sent.append(await run._send(node, body))
            return sent[-1]

        try:
            return await self._fetch_root(run, node, fetch, send)
        except Exception:  # noqa: BLE001
            log.exception("entity cache failed on a root fetch; fetching without it")
            self.no_store = True
            return sent[-1] if sent else await run._send(node, run._body(fetch, None))

    async def fetch_entities(
        self, run: Any, node: FetchNode, fetch: PreparedFetch, reps: list[bytes]
    ) -> tuple[Any, list[Any]]:
        """An `_entities` fetch: cached entities are taken as they are, only the misses are sent.

        Any failure of the cache's own logic falls back to fetching every representation.
        """

        async def send(body: bytes) -> tuple[Any, list[Any]]:
            return await run._send(node, body)  # type: ignore[no-any-return]

        try:
            return await self._fetch_entities(run, node, fetch, reps, send)
        except Exception:  # noqa: BLE001
            log.exception("entity cache failed on an entity fetch; fetching without it")
            self.no_store = True
            return await run._send(node, run._body(fetch, reps))  # type: ignore[no-any-return]

    async def _fetch_root(self, run: Any, node: FetchNode, fetch: PreparedFetch, send: Any) -> tuple[Any, list[Any]]:
        body = run._body(fetch, None)
        subgraph = fetch.service_name
        if self.mutation:
            data, errors = await send(body)
            if type(data) is dict:
                try:
                    await self.cache.invalidate_returned(self.prepared.schema.mutation_type, data)
                except Exception:  # noqa: BLE001 - invalidation is best effort
                    log.exception("invalidating a mutation's entities failed")
            return data, errors
        typename = self.prepared.root_type.name
        usable, ttl, private, user = self._scope(subgraph, typename)
        if not usable:
            self.no_store = True
            return await send(body)
        key = self._entry_key(subgraph, typename, _ROOT_TAG, body, self.vary_digest, user or "")
        raw = await self.cache.store.get(key)
        hit = self._decode(raw, time.time())
        if hit is not None:
            _HIT.inc()
            self._part(hit[1], private)
            return hit[0], []
        _MISS.inc()
        self.last_response = None
        data, errors = await send(body)
        if errors or type(data) is not dict:
            self.no_store = True
            stale = self._stale(raw, time.time()) if fetch_failed(data, errors) else None
            if stale is not None:
                self.stale.append(subgraph)
                return stale, []
            return data, errors
        ttl, fresh_private = self._response_policy(subgraph, typename, ttl)
        private = private or fresh_private
        if private and self.user is None:
            ttl = _NO_STORE
        elif private and user is None:  # learned just now: store under this user
            key = self._entry_key(subgraph, typename, _ROOT_TAG, body, self.vary_digest, self.user or "")
        self._part(ttl, private)
        if ttl > 0:
            value = orjson.dumps({"x": time.time() + ttl, "d": data})
            tags = self.cache.tags(key, None, self.prepared.root_type, data, self._keep(ttl))
            await self.cache.store.set_many([(key, value, self._keep(ttl))], tags)
        return data, errors

    async def _fetch_entities(
        self, run: Any, node: FetchNode, fetch: PreparedFetch, reps: list[bytes], send: Any
    ) -> tuple[Any, list[Any]]:
        subgraph = fetch.service_name
        if self.mutation:
            return await send(run._body(fetch, reps))
        selection = fetch.body_prefix + self._variables(fetch, run)
        keys: list[str | None] = []
        scopes: list[tuple[bool, float, bool, str | None]] = []
        typenames: list[str] = []
        parsed_reps: list[dict[str, Any]] = []
        for rep in reps:
            parsed = orjson.loads(rep)
            parsed_reps.append(parsed)
            typename = parsed.get("__typename", "")
            scope = self._scope(subgraph, typename)
            key_tags = self.cache.key_tags(typename, parsed, True) if scope[0] else []
            typenames.append(typename)
            scopes.append(scope)
            keys.append(
                self._entry_key(subgraph, typename, key_tags[0], selection, self.vary_digest, scope[3] or "", rep)
                if key_tags
                else None
            )
        lookup = [k for k in keys if k is not None]
        found = await self.cache.store.get_many(lookup) if lookup else []
        now = time.time()
        results: list[Any] = [None] * len(reps)
        misses: list[int] = []
        it = iter(found)
        raws: list[bytes | None] = []
        for i, key in enumerate(keys):
            raws.append(next(it) if key is not None else None)
            hit = self._decode(raws[i], now)
            if hit is None:
                misses.append(i)
                if key is None:
                    self.no_store = True
                continue
            results[i] = hit[0]
            self._part(hit[1], scopes[i][2])
        if len(misses) < len(reps):
            _HIT.inc(len(reps) - len(misses))
        if not misses:
            return {"_entities": results}, []
        if lookup:
            _MISS.inc(len(misses))
        self.last_response = None
        data, errors = await send(run._body(fetch, [reps[i] for i in misses]))
        if fetch_failed(data, errors):
            stale = [self._stale(raws[i], time.time()) for i in misses]
            if all(value is not None for value in stale):  # all or nothing: the executor takes one list
                self.no_store = True
                self.stale.append(subgraph)
                for i, value in zip(misses, stale, strict=True):
                    results[i] = value
                return {"_entities": results}, []
        fetched = data.get("_entities") if type(data) is dict else None
        if type(fetched) is not list or len(fetched) != len(misses):
            self.no_store = True
            return data, errors  # the executor reports the mismatch
        for j, i in enumerate(misses):
            results[i] = fetched[j]
        if errors:
            self.no_store = True
            return {**data, "_entities": results}, [_remap(err, misses) for err in errors]
        stores: list[tuple[str, bytes, float]] = []
        tags: list[tuple[str, str, float]] = []
        for j, i in enumerate(misses):
            key = keys[i]
            entity = fetched[j]
            if key is None or type(entity) is not dict:
                self.no_store = True
                continue
            usable, ttl, private, user = scopes[i]
            ttl, fresh_private = self._response_policy(subgraph, typenames[i], ttl)
            if fresh_private and not private:
                private = True
                if self.user is None:
                    ttl = _NO_STORE
                else:
                    tag = key.split(":")[-2]
                    key = self._entry_key(subgraph, typenames[i], tag, selection, self.vary_digest, self.user, reps[i])
            self._part(ttl, private)
            if ttl > 0:
                stores.append((key, orjson.dumps({"x": now + ttl, "d": entity}), self._keep(ttl)))
                own = (typenames[i], {**parsed_reps[i], **entity})
                tags.extend(self.cache.tags(key, own, self.cache.object_type(typenames[i]), entity, self._keep(ttl)))
        if stores:
            await self.cache.store.set_many(stores, tags)
        return {**data, "_entities": results}, errors


def _remap(err: Any, misses: list[int]) -> Any:
    """An error from the request of misses only, its `_entities` index put back in the full list."""
    if type(err) is not dict:
        return err
    path = err.get("path")
    if type(path) is list and len(path) >= 2 and path[0] == "_entities" and type(path[1]) is int:
        if 0 <= path[1] < len(misses):
            return {**err, "path": ["_entities", misses[path[1]], *path[2:]]}
    return err

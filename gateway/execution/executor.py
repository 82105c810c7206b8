"""Walk a QueryPlan: run fetches, build representations, merge results, map errors, shape the response."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from graphql import execute as graphql_execute

from gateway.errors import (
    DOWNSTREAM_SERVICE_ERROR,
    INTERNAL_SERVER_ERROR,
    SUBGRAPH_REQUEST_FAILED,
    GraphQLErrorDict,
    error_dict,
)
from gateway.execution.entities import (
    CollectMemo,
    ResponsePath,
    TypeMatcher,
    apply_rewrites,
    collect_at_path,
    collect_entities,
    wrong_typenames,
)
from gateway.execution.failures import failure_paths
from gateway.execution.merge import deep_merge, merge_entities
from gateway.execution.operation import PreparedFetch, PreparedOperation, SupergraphView
from gateway.execution.trace import FetchTrace
from gateway.observability.context import RequestContext
from gateway.observability.metrics import SUBGRAPH_ERRORS, SUBGRAPH_REQUESTS
from gateway.planning.nodes import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    SequenceNode,
    SubscriptionNode,
)
from gateway.transport import FetchRequest, Transport, TransportError

log = logging.getLogger("fedgate.execution")


_REPS_KEY = b'"representations":['
# Shaping only reads introspection data, so one answer can serve every request with those variables.
_INTROSPECTION_RESULTS_PER_OPERATION = 16
_REQUESTS: dict[str, Any] = {}  # subgraph -> its fedgate_subgraph_requests_total child (labels() is slow)
_ERRORS: dict[tuple[str, str], Any] = {}  # (subgraph, kind) -> its fedgate_subgraph_errors_total child


def count_subgraph_error(service: str, kind: str) -> None:
    """One more `fedgate_subgraph_errors_total{subgraph, kind}`: a subgraph answer not usable as sent."""
    counter = _ERRORS.get((service, kind))
    if counter is None:
        counter = _ERRORS[(service, kind)] = SUBGRAPH_ERRORS.labels(service, kind)
    counter.inc()


class Executor:
    """Executes prepared operations against one supergraph through one transport."""

    def __init__(self, supergraph: SupergraphView, transport: Transport) -> None:
        self.supergraph = supergraph
        self.transport = transport
        self.matcher = TypeMatcher(supergraph.satisfies)

    async def execute(
        self,
        prepared: PreparedOperation,
        variables: Mapping[str, Any],
        raw_variables: Mapping[str, Any] | None = None,
        context: RequestContext | None = None,
        cache: Any = None,
        trace: FetchTrace | None = None,
    ) -> dict[str, Any]:
        """The GraphQL response (`data`, and `errors` when any) for one request.

        `variables` are coerced (defaults applied); `raw_variables` are the client's, used only for
        introspection. `context`: the client request (headers, claims, tracer), handed to every fetch.
        `cache`: the request's `gateway.cache.EntityCacheRun`, None when the cache is off.
        `trace`: records each fetch's time and outcome (the explorer asked for it), None otherwise.
        """
        if prepared.plan_error is not None:
            return {"data": None, "errors": [prepared.plan_error]}
        run = _Run(self, prepared, variables, context, cache, trace)
        if prepared.plan is not None and prepared.plan.node is not None:
            await run.node(prepared.plan.node)
        return self._respond(run, prepared, variables, raw_variables)

    async def execute_event(
        self,
        prepared: PreparedOperation,
        variables: Mapping[str, Any],
        event: Mapping[str, Any],
        context: RequestContext | None = None,
        cache: Any = None,
    ) -> dict[str, Any]:
        """The response for one event of a subscription: `event` is what the primary fetch's stream sent
        (`data`/`errors`); the plan's `rest` runs on it, then the event is shaped like a query answer."""
        plan = prepared.plan
        if prepared.plan_error is not None or plan is None or not isinstance(plan.node, SubscriptionNode):
            return {"data": None, "errors": [prepared.plan_error or error_dict("Not a subscription.", INTERNAL_SERVER_ERROR)]}
        run = _Run(self, prepared, variables, context, cache)
        primary = plan.node.primary
        raw_errors = event.get("errors") or []
        run.merge_root(primary, prepared.fetches[id(primary)], event.get("data"), raw_errors if type(raw_errors) is list else [raw_errors])
        if plan.node.rest is not None and run.data:
            await run.node(plan.node.rest)
        return self._respond(run, prepared, variables, None)

    def _respond(
        self,
        run: _Run,
        prepared: PreparedOperation,
        variables: Mapping[str, Any],
        raw_variables: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        introspection = None
        if prepared.introspection_document is not None:
            introspection = self._introspect(prepared, raw_variables, run.errors)
        program = prepared.shaping_program(variables)
        data = program.shape(run.data, run.errors, introspection)
        response: dict[str, Any] = {"data": data}
        if run.errors:
            response["errors"] = run.errors
        return response

    def _introspect(
        self, prepared: PreparedOperation, raw_variables: Mapping[str, Any] | None, errors: list[GraphQLErrorDict]
    ) -> dict[str, Any] | None:
        assert prepared.introspection_document is not None
        key = orjson.dumps(raw_variables or {}, option=orjson.OPT_SORT_KEYS)
        cached = prepared.introspection_results.get(key)
        if cached is None:
            result = graphql_execute(
                self.supergraph.api_schema,
                prepared.introspection_document,
                variable_values=dict(raw_variables or {}),
                operation_name=prepared.operation_name,
            )
            if inspect.isawaitable(result):  # pragma: no cover - introspection resolvers are synchronous
                raise RuntimeError("introspection unexpectedly asynchronous")
            cached = (result.data, [err.formatted for err in result.errors or ()])
            if len(prepared.introspection_results) < _INTROSPECTION_RESULTS_PER_OPERATION:
                prepared.introspection_results[key] = cached
        errors.extend(cached[1])
        return cached[0]


class _Run:
    """The state of one request: merged data and errors so far."""

    __slots__ = (
        "executor", "prepared", "variables", "context", "data", "errors", "matcher", "cache", "collected", "trace",
        "spans",
    )

    def __init__(
        self,
        executor: Executor,
        prepared: PreparedOperation,
        variables: Mapping[str, Any],
        context: RequestContext | None,
        cache: Any = None,
        trace: FetchTrace | None = None,
    ) -> None:
        self.executor = executor
        self.prepared = prepared
        self.variables = variables
        self.context = context
        # Plan-node spans when the request is traced (the app's tracer, carried by the context).
        self.spans = context.tracing if context is not None else None
        self.data: dict[str, Any] = {}
        self.errors: list[GraphQLErrorDict] = []
        self.matcher = executor.matcher
        self.cache = cache
        # Objects found at Flatten path prefixes since the last merge: parallel Flattens over the
        # same or overlapping paths walk them once. Every change to `data` must clear it first.
        self.collected: CollectMemo = {}
        self.trace = trace

    async def node(self, node: PlanNode) -> None:
        if self.trace is not None and isinstance(node, (FetchNode, FlattenNode)):
            await self._traced(node)
            return
        if self.spans is not None:
            with self.spans.plan_node(node):
                await self._node(node)
            return
        await self._node(node)

    async def _node(self, node: PlanNode) -> None:
        if isinstance(node, FetchNode):
            await self._guarded(self.fetch_root(node))
        elif isinstance(node, FlattenNode):
            inner = node.node
            if isinstance(inner, FetchNode):
                await self._guarded(self.fetch_flatten(inner, node))
            else:  # not produced by the planner today; run the inner node at the root
                await self.node(inner)
        elif isinstance(node, SequenceNode):
            for child in node.nodes:
                await self.node(child)
        elif isinstance(node, ParallelNode):
            await asyncio.gather(*(self.node(child) for child in node.nodes))
        elif isinstance(node, ConditionNode):
            branch = node.if_clause if self.variables.get(node.condition) else node.else_clause
            if branch is not None:
                await self.node(branch)

    async def _traced(self, node: FetchNode | FlattenNode) -> None:
        assert self.trace is not None
        fetch = node.node if isinstance(node, FlattenNode) else node
        if not isinstance(fetch, FetchNode):
            await self._node(node)
            return
        started = self.trace.begin(fetch)
        try:
            if self.spans is not None:
                with self.spans.plan_node(node):
                    await self._node(node)
            else:
                await self._node(node)
        finally:
            self.trace.end(fetch, started)

    async def _guarded(self, coro: Any) -> None:
        """Run one fetch; a bug in it becomes an error for that fetch instead of failing the request."""
        try:
            await coro
        except Exception:  # noqa: BLE001
            log.exception("fetch failed unexpectedly")
            self.errors.append(error_dict("Internal error while executing a subgraph fetch.", INTERNAL_SERVER_ERROR))

    def _body(self, fetch: PreparedFetch, reps: list[bytes] | None, extra: bytes = b"") -> bytes:
        parts: list[bytes] = []
        if reps is not None:
            parts.append(_REPS_KEY + b",".join(reps) + b"]")
        variables = self.variables
        for name, key in fetch.variables:
            if name in variables:
                parts.append(key + orjson.dumps(variables[name]))
        return fetch.body_prefix + b",".join(parts) + extra + b"}}"

    async def _send(self, node: FetchNode, body: bytes) -> tuple[Any, list[Any]]:
        """(data, raw GraphQL errors) of one subgraph request; transport failures are recorded here."""
        fetch = self.prepared.fetches[id(node)]
        service = fetch.service_name
        if fetch.url is None:
            self.errors.append(
                error_dict(f"No URL for subgraph '{service}'.", SUBGRAPH_REQUEST_FAILED, serviceName=service)
            )
            return None, []
        counter = _REQUESTS.get(service)
        if counter is None:
            counter = _REQUESTS[service] = SUBGRAPH_REQUESTS.labels(service)
        counter.inc()
        try:
            request = FetchRequest(service, fetch.url, body, fetch.is_mutation, None, self.context)
            response = await self.executor.transport.fetch(request)
        except TransportError as exc:
            count_subgraph_error(service, exc.kind)
            if self.trace is not None:
                self.trace.failed(node, exc.code)
            # Returned, not recorded: the caller puts it at the paths of the fields the fetch would fill.
            return None, [error_dict(exc.message, exc.code)]
        if self.cache is not None:
            self.cache.last_response = response  # read by the cache right after this returns
        body_json = response.body
        if type(body_json) is not dict or ("data" not in body_json and "errors" not in body_json):
            count_subgraph_error(service, "not_graphql")
            message = f"HTTP fetch failed from '{service}': {response.status}: response is not a GraphQL response"
            if self.trace is not None:
                self.trace.failed(node, SUBGRAPH_REQUEST_FAILED)
            return None, [error_dict(message, SUBGRAPH_REQUEST_FAILED)]
        raw_errors = body_json.get("errors") or []
        if type(raw_errors) is not list:
            raw_errors = [raw_errors]
        data = body_json.get("data")
        if self.trace is not None:
            self.trace.sent(node, response.status, len(raw_errors))
        if "data" not in body_json:
            count_subgraph_error(service, "no_data")
        if response.status >= 400 and not raw_errors:
            self.errors.append(
                error_dict(f"HTTP fetch failed from '{service}': {response.status}", SUBGRAPH_REQUEST_FAILED, serviceName=service)
            )
        return data, raw_errors

    def _add_errors(
        self, service: str, raw_errors: list[Any], paths_for: Any = None, failed_at: list[list[Any]] | None = None
    ) -> None:
        """Record subgraph errors with `extensions.serviceName`; `paths_for(path)` maps a subgraph path to
        response paths (an empty list drops the path). `failed_at`: the fetch brought no data, so an
        error without a path is reported at each of these paths (the fields left null)."""
        aliases = self.prepared.internal_aliases
        if aliases and failed_at:
            failed_at = [_client_path(p, aliases) for p in failed_at]
        for raw in raw_errors:
            if type(raw) is not dict:
                raw = {"message": str(raw)}
            err: GraphQLErrorDict = {"message": raw.get("message") or "Subgraph error"}
            if raw.get("locations"):
                err["locations"] = raw["locations"]
            ext = dict(raw["extensions"]) if type(raw.get("extensions")) is dict else {}
            ext.setdefault("code", DOWNSTREAM_SERVICE_ERROR)
            ext["serviceName"] = service
            path = raw.get("path")
            if type(path) is not list or not path:
                err["extensions"] = ext
                if failed_at:
                    for target in failed_at:
                        copy = {k: v for k, v in err.items() if k != "extensions"}
                        copy["path"] = target
                        copy["extensions"] = ext
                        self.errors.append(copy)
                else:
                    self.errors.append(err)
                continue
            targets = paths_for(path) if paths_for is not None else [path]
            if aliases:
                targets = [_client_path(t, aliases) for t in targets]
            if not targets:
                err["extensions"] = ext
                self.errors.append(err)
                continue
            for target in targets:
                copy = dict(err)
                copy["path"] = target
                copy["extensions"] = ext
                self.errors.append(copy)

    async def fetch_root(self, node: FetchNode) -> None:
        fetch = self.prepared.fetches[id(node)]
        if self.cache is not None:
            data, raw_errors = await self.cache.fetch_root(self, node, fetch)
        else:
            data, raw_errors = await self._send(node, self._body(fetch, None))
        self.merge_root(node, fetch, data, raw_errors)

    def merge_root(self, node: FetchNode, fetch: PreparedFetch, data: Any, raw_errors: list[Any]) -> None:
        """Merge one root fetch's answer (or one subscription event) into the response data."""
        if raw_errors:
            self._add_errors(
                fetch.service_name, raw_errors, failed_at=failure_paths(node.operation) if data is None else None
            )
        if type(data) is dict:
            if node.output_rewrites:
                apply_rewrites(data, node.output_rewrites, self.matcher)
            self.collected.clear()
            deep_merge(self.data, data)

    async def fetch_flatten(self, node: FetchNode, flatten: FlattenNode) -> None:
        entities = collect_entities(self.data, flatten.path, self.matcher, self.collected)
        if not entities:
            return
        if node.context_rewrites and node.requires is not None:
            for group, extra in self._by_context(node, flatten):
                await self._fetch_entities(node, flatten, group, extra)
            return
        paths = _LazyPaths(self.data, flatten, self.matcher, entities)
        if node.requires is None:
            await self._fetch_reentry(node, entities, paths)
            return
        await self._fetch_entities(node, flatten, entities, b"", paths)

    def _by_context(self, node: FetchNode, flatten: FlattenNode) -> list[tuple[list[dict[str, Any]], bytes]]:
        """The Flatten's entities grouped by their `@fromContext` values, each group with those
        values as extra JSON variables (`,"name":value`): one request per distinct set of values."""
        found, paths = collect_at_path(self.data, flatten.path, self.matcher)
        groups: dict[bytes, list[dict[str, Any]]] = {}
        for entity, path in zip(found, paths, strict=True):
            extra = b""
            for rewrite in node.context_rewrites:
                value = _context_value(self.data, path, rewrite.up, rewrite.path)
                extra += b"," + orjson.dumps(rewrite.variable) + b":" + orjson.dumps(value)
            groups.setdefault(extra, []).append(entity)
        return [(entities, extra) for extra, entities in groups.items()]

    async def _fetch_entities(
        self,
        node: FetchNode,
        flatten: FlattenNode,
        entities: list[dict[str, Any]],
        extra: bytes,
        paths: _LazyPaths | None = None,
    ) -> None:
        """One `_entities` request for `entities`, merged back into them; `extra`: more JSON variables."""
        if paths is None:
            paths = _LazyPaths(self.data, flatten, self.matcher, entities)
        fetch = self.prepared.fetches[id(node)]
        matcher = self.matcher
        projector = fetch.projector
        assert projector is not None
        rep_index, reps = projector.representations(entities, matcher, node.input_rewrites)
        if not reps:
            return
        n_reps = len(reps)
        if self.trace is not None:
            self.trace.representations(node, n_reps)
        if self.cache is not None and not extra:
            data, raw_errors = await self.cache.fetch_entities(self, node, fetch, reps)
        else:
            data, raw_errors = await self._send(node, self._body(fetch, reps, extra))
        if raw_errors:
            failed_at = None
            if data is None:
                failed_at = failure_paths(
                    node.operation,
                    [p for p, i in zip(paths.get(), rep_index, strict=True) if i >= 0 and p is not None],
                )
            self._add_errors(fetch.service_name, raw_errors, _EntityPaths(paths, rep_index), failed_at)
        if data is None:
            return
        results = data.get("_entities") if type(data) is dict else None
        service = fetch.service_name
        if type(results) is not list or len(results) != n_reps:
            count_subgraph_error(service, "entities_count")
            if not raw_errors:
                # Which answer belongs to which entity is unknowable: none is merged, and every field
                # the fetch would have filled is reported.
                message = f"Subgraph '{service}' returned {_describe(results)} `_entities` for {n_reps} representations."
                parents = [p for p, i in zip(paths.get(), rep_index, strict=True) if i >= 0 and p is not None]
                targets: list[list[str | int] | None] = list(failure_paths(node.operation, parents)) or [None]
                for target in targets:
                    self.errors.append(
                        error_dict(message, SUBGRAPH_REQUEST_FAILED, path=target, serviceName=service)
                    )
            return
        wrong = wrong_typenames(entities, rep_index, results, matcher)
        if wrong:
            count_subgraph_error(service, "entity_typename")
            results = list(results)
            all_paths = paths.get()
            for j in wrong:
                idx = rep_index[j]
                got = results[idx].get("__typename") if type(results[idx]) is dict else None
                if got is None:
                    continue  # already dropped for another entity of the same representation
                results[idx] = None
                message = (
                    f"Subgraph '{service}' returned an entity of type '{got}' for a representation of type "
                    f"'{entities[j].get('__typename')}'."
                )
                parents = [p for p, i in zip(all_paths, rep_index, strict=True) if i == idx and p is not None]
                for target in failure_paths(node.operation, parents):
                    self.errors.append(error_dict(message, SUBGRAPH_REQUEST_FAILED, path=target, serviceName=service))
        if node.output_rewrites:
            apply_rewrites(results, node.output_rewrites, matcher)
        self.collected.clear()
        merge_entities(entities, rep_index, results)

    async def _fetch_reentry(self, node: FetchNode, entities: list[dict[str, Any]], lazy: _LazyPaths) -> None:
        """A non-entity fetch under a Flatten: one request, merged at every object on the path."""
        fetch = self.prepared.fetches[id(node)]
        data, raw_errors = await self._send(node, self._body(fetch, None))
        if raw_errors:
            paths = [p for p in lazy.get() if p is not None]
            self._add_errors(
                fetch.service_name,
                raw_errors,
                lambda path: [[*p, *path] for p in paths],
                failure_paths(node.operation, paths) if data is None else None,
            )
        if type(data) is dict:
            if node.output_rewrites:
                apply_rewrites(data, node.output_rewrites, self.matcher)
            self.collected.clear()
            for entity in entities:
                deep_merge(entity, data)


class _LazyPaths:
    """The response paths of a Flatten's entities, computed only when an error needs them.

    They are recomputed by walking the path again; if the data changed shape in between (a parallel
    fetch replaced a list), entities are matched by identity and unmatched ones get no path (None).
    """

    __slots__ = ("root", "flatten", "matcher", "entities", "_paths")

    def __init__(
        self, root: dict[str, Any], flatten: FlattenNode, matcher: TypeMatcher, entities: list[dict[str, Any]]
    ) -> None:
        self.root = root
        self.flatten = flatten
        self.matcher = matcher
        self.entities = entities
        self._paths: list[ResponsePath | None] | None = None

    def get(self) -> list[ResponsePath | None]:
        if self._paths is None:
            found, paths = collect_at_path(self.root, self.flatten.path, self.matcher)
            if len(found) == len(self.entities) and all(a is b for a, b in zip(found, self.entities, strict=True)):
                self._paths = list(paths)
            else:
                by_id: dict[int, ResponsePath] = {}
                for obj, p in zip(found, paths, strict=True):
                    by_id.setdefault(id(obj), p)
                self._paths = [by_id.get(id(e)) for e in self.entities]
        return self._paths


class _EntityPaths:
    """Maps `["_entities", i, ...rest]` to the response path of every entity that used representation i."""

    __slots__ = ("lazy", "rep_index", "_by_rep")

    def __init__(self, lazy: _LazyPaths, rep_index: list[int]) -> None:
        self.lazy = lazy
        self.rep_index = rep_index
        self._by_rep: dict[int, list[ResponsePath]] | None = None

    def __call__(self, path: list[Any]) -> list[list[Any]]:
        if len(path) < 2 or path[0] != "_entities" or type(path[1]) is not int:
            return []
        if self._by_rep is None:
            by_rep: dict[int, list[ResponsePath]] = {}
            for p, idx in zip(self.lazy.get(), self.rep_index, strict=True):
                if idx >= 0 and p is not None:
                    by_rep.setdefault(idx, []).append(p)
            self._by_rep = by_rep
        rest = path[2:]
        return [[*p, *rest] for p in self._by_rep.get(path[1], ())]


def _describe(value: Any) -> str:
    if type(value) is list:
        return f"{len(value)}"
    return "no" if value is None else "a non-list"


def _client_path(path: list[Any], aliases: dict[str, str]) -> list[Any]:
    """`path` with the planner's internal aliases replaced by the keys the client selected."""
    return [aliases.get(seg, seg) if type(seg) is str else seg for seg in path]


def _context_value(root: dict[str, Any], path: Sequence[Any], up: int, keys: tuple[str, ...]) -> Any:
    """The value `keys` selects on the object `up` object levels above the one at response `path`."""
    end = len(path)
    for _ in range(up):
        while end and type(path[end - 1]) is int:
            end -= 1
        end -= 1  # the field that led down to this object
    node: Any = root
    for seg in path[: max(end, 0)]:
        node = node[seg] if type(seg) is int else node.get(seg) if type(node) is dict else None
        if node is None:
            return None
    for key in keys:
        if type(node) is not dict:
            return None
        node = node.get(key)
    return node

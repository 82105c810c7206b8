"""The request pipeline: parse -> validate -> select operation -> coerce variables -> plan -> execute.

Everything that depends only on the query text and operation name is cached in bounded LRUs, so a
repeated operation costs a dict lookup before execution.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, OperationType, parse, validate

from gateway.cache import Caches
from gateway.cache.memory import LRU
from gateway.config import GatewayConfig
from gateway.errors import (
    BAD_REQUEST,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    METHOD_NOT_ALLOWED,
    SUBSCRIPTION_TRANSPORT_REQUIRED,
    GatewayRequestError,
    GraphQLErrorDict,
    error_dict,
)
from gateway.execution import (
    Executor,
    FetchTrace,
    Planner,
    PreparedOperation,
    SupergraphView,
    coerce_variables,
    prepare_operation,
)
from gateway.planning.nodes import print_plan
from gateway.server.query_plan_json import plan_to_json
from gateway.transport import Transport


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """What the HTTP layer sends: a status and a GraphQL response body."""

    status: int
    body: dict[str, Any]
    allow: str | None = None
    cache_control: str | None = None
    close: bool = False  # send `Connection: close` (a refused body was left unread)
    # A GraphQL request error (parse, validation, operation, variables) of a well-formed request:
    # its status depends on the response media type (see server/negotiation.py).
    request_error: bool = False


@dataclass(slots=True)
class _CachedDocument:
    document: DocumentNode | None
    errors: list[GraphQLErrorDict] | None


@dataclass(slots=True)
class _CachedOperation:
    prepared: PreparedOperation | None
    error: GatewayRequestError | None
    plan_extension: dict[str, Any] | None = None


def _graphql_error(err: GraphQLError, code: str) -> GraphQLErrorDict:
    locations = [{"line": loc.line, "column": loc.column} for loc in err.locations or ()]
    return error_dict(err.message, code, locations=locations or None)


# Client headers that differ on every request without changing its answer.
_PER_REQUEST_HEADERS = frozenset(
    ("content-length", "x-request-id", "traceparent", "tracestate", "connection", "accept-encoding")
)


def _canonical(variables: Any) -> bytes:
    return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""


def _varying(client_headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    """The client headers that may change an answer (they may reach subgraphs, caches or auth)."""
    if not client_headers:
        return ()
    return tuple(sorted((k.lower(), v) for k, v in client_headers.items() if k.lower() not in _PER_REQUEST_HEADERS))


def _percent(label: str) -> float:
    try:
        return float(label[len("percent(") : -1])
    except ValueError:
        return 0.0


class Pipeline:
    """Runs GraphQL requests against one loaded supergraph."""

    def __init__(
        self,
        supergraph: SupergraphView,
        config: GatewayConfig,
        planner: Planner,
        transport: Transport,
        caches: Caches | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.config = config
        self.planner = planner
        self.executor = Executor(supergraph, transport)
        self.plan_cache = caches.plans if caches is not None else None
        self.entity_cache = caches.entities_for(supergraph) if caches is not None else None
        size = config.plan_cache_size
        self._documents: LRU[str, _CachedDocument] = LRU(size)
        self._operations: LRU[tuple[Any, ...], _CachedOperation] = LRU(size)
        self._labels_on = frozenset(config.override_labels)
        # Inbound dedup: identical concurrent queries share one execution (see traffic_shaping).
        self._dedup = config.traffic_shaping.deduplicate_requests and not config.auth.jwks
        self._inflight: dict[tuple[Any, ...], asyncio.Future[PipelineResult]] = {}
        self._trace_allowed = config.explorer.enabled and config.explorer.trace

    def _document(self, query: str) -> _CachedDocument:
        cached = self._documents.get(query)
        if cached is not None:
            return cached
        try:
            document = parse(query)
        except GraphQLError as err:
            cached = _CachedDocument(None, [_graphql_error(err, GRAPHQL_PARSE_FAILED)])
        else:
            errors = validate(self.supergraph.api_schema, document)
            if errors:
                cached = _CachedDocument(None, [_graphql_error(e, GRAPHQL_VALIDATION_FAILED) for e in errors])
            else:
                cached = _CachedDocument(document, None)
        self._documents.put(query, cached)
        return cached

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        """The cached prepared operation; raises GatewayRequestError for parse/validation/operation errors."""
        return self._operation(query, operation_name)[0]

    def _override_labels(self) -> frozenset[str] | None:
        """Progressive-override labels on for this request; None when the supergraph has none."""
        labels = getattr(self.supergraph, "override_labels", None)
        if not labels:
            return None
        on = {label for label in labels if label in self._labels_on}
        for label in labels:
            if label.startswith("percent(") and random.random() * 100 < _percent(label):
                on.add(label)
        return frozenset(on)

    def _operation(self, query: str, operation_name: str | None) -> tuple[PreparedOperation, _CachedOperation]:
        labels = self._override_labels()
        key: tuple[Any, ...] = (query, operation_name) if not labels else (query, operation_name, labels)
        cached = self._operations.get(key)
        if self.plan_cache is not None:
            self.plan_cache.used((query, operation_name), cached is not None)
        if cached is None:
            doc = self._document(query)
            if doc.document is None:
                cached = _CachedOperation(None, GatewayRequestError(doc.errors or []))
            else:
                supergraph = self.supergraph.variant(labels) if labels else self.supergraph  # type: ignore[attr-defined]
                try:
                    prepared = prepare_operation(supergraph, doc.document, operation_name, self.planner)
                except GatewayRequestError as exc:
                    cached = _CachedOperation(None, exc)
                else:
                    cached = _CachedOperation(prepared, None)
            self._operations.put(key, cached)
        if cached.error is not None:
            raise cached.error
        assert cached.prepared is not None
        return cached.prepared, cached

    async def run(
        self,
        query: Any,
        operation_name: Any = None,
        variables: Any = None,
        *,
        allow_mutations: bool = True,
        expose_plan: bool = False,
        headers: Mapping[str, str] | None = None,
        client_headers: Mapping[str, str] | None = None,
        expose_trace: bool = False,
    ) -> PipelineResult:
        """Execute one GraphQL request (already decoded from HTTP) and return the response to send.

        `expose_trace`: the client asked for each fetch's time and status (`extensions.fedgateTrace`);
        honoured only while `explorer.enabled` and `explorer.trace` allow it.
        """
        expose_trace = expose_trace and self._trace_allowed
        if not isinstance(query, str) or not query.strip():
            return _request_error("GraphQL operations must contain a non-empty `query`.")
        if operation_name is not None and not isinstance(operation_name, str):
            return _request_error("`operationName` must be a string.")
        if operation_name == "":
            operation_name = None
        if variables is not None and not isinstance(variables, dict):
            return _request_error("`variables` must be a JSON object.")
        try:
            prepared, cached = self._operation(query, operation_name)
            if not allow_mutations and prepared.kind != OperationType.QUERY:
                return PipelineResult(
                    405,
                    {
                        "errors": [
                            error_dict(
                                f"Can only perform a {prepared.kind.value} operation from a POST request.",
                                METHOD_NOT_ALLOWED,
                            )
                        ]
                    },
                    allow="POST",
                )
            if prepared.kind == OperationType.SUBSCRIPTION:
                # As Router without a streaming accept header: the answer would be a stream.
                message = (
                    "Subscriptions need a streaming transport: a WebSocket with the graphql-transport-ws "
                    "protocol, or `accept: text/event-stream` (GraphQL over SSE)."
                )
                return PipelineResult(406, {"errors": [error_dict(message, SUBSCRIPTION_TRANSPORT_REQUIRED)]})
            coerced = coerce_variables(self.supergraph.api_schema, prepared.operation, variables)
        except GatewayRequestError as exc:
            return PipelineResult(exc.status, {"errors": exc.errors}, request_error=True)
        if self._dedup and prepared.kind == OperationType.QUERY:
            key = (id(prepared), _canonical(variables), expose_plan, expose_trace, _varying(client_headers))
            shared = self._inflight.get(key)
            if shared is not None:
                return await asyncio.shield(shared)
            future: asyncio.Future[PipelineResult] = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            try:
                result = await self._execute(
                    prepared, cached, coerced, variables, expose_plan, headers, client_headers, expose_trace
                )
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, none is a must
                raise
            else:
                future.set_result(result)
                return result
            finally:
                del self._inflight[key]
        return await self._execute(
            prepared, cached, coerced, variables, expose_plan, headers, client_headers, expose_trace
        )

    async def _execute(
        self,
        prepared: PreparedOperation,
        cached: _CachedOperation,
        coerced: dict[str, Any],
        variables: Any,
        expose_plan: bool,
        headers: Mapping[str, str] | None,
        client_headers: Mapping[str, str] | None,
        expose_trace: bool = False,
    ) -> PipelineResult:
        cache_run = self.entity_cache.begin(prepared, client_headers) if self.entity_cache is not None else None
        trace = FetchTrace() if expose_trace else None
        body = await self.executor.execute(prepared, coerced, variables, headers, cache=cache_run, trace=trace)
        if trace is not None:
            root = prepared.plan.node if prepared.plan is not None else None
            body.setdefault("extensions", {})["fedgateTrace"] = trace.to_json(root)
        if expose_plan and self.config.expose_query_plan and prepared.plan is not None:
            if cached.plan_extension is None:
                cached.plan_extension = {"object": plan_to_json(prepared.plan), "text": print_plan(prepared.plan)}
            body.setdefault("extensions", {})["apolloQueryPlan"] = cached.plan_extension
        if cache_run is not None and cache_run.stale:  # stale-if-error answered part of it: say so
            body.setdefault("extensions", {})["staleIfError"] = {"subgraphs": sorted(set(cache_run.stale))}
        return PipelineResult(200, body, cache_control=cache_run.cache_control() if cache_run is not None else None)


def _request_error(message: str) -> PipelineResult:
    return PipelineResult(400, {"errors": [error_dict(message, BAD_REQUEST)]})

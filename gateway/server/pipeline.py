"""The request pipeline: the prepared operation (parse, limits, validation, plan, auth analysis: once per
distinct operation, see preparation.py), then per request authorization, variables and execution.

A repeated operation costs two dict lookups before execution.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType

from gateway.cache import Caches
from gateway.config import GatewayConfig
from gateway.errors import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    SUBSCRIPTION_TRANSPORT_REQUIRED,
    GatewayRequestError,
    error_dict,
)
from gateway.execution import Executor, FetchTrace, PreparedOperation, coerce_variables
from gateway.observability.context import RequestContext
from gateway.observability.usage import UsageReporter, describe_operation
from gateway.planning import Planner, print_plan
from gateway.plugins import (
    OperationInfo,
    PlanView,
    PluginChain,
    PluginFailure,
    PluginRejection,
    failure_body,
    rejection_body,
)
from gateway.server.auth import Authorization, Denied, apply_denied
from gateway.server.limits import DocumentLimits
from gateway.server.preparation import OperationRecord, Preparation, PreparedDocument
from gateway.server.query_plan_json import plan_to_json
from gateway.supergraph import Supergraph
from gateway.transport import Transport


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """What the HTTP layer sends: a status and a GraphQL response body."""

    status: int
    body: dict[str, Any]
    allow: str | None = None
    cache_control: str | None = None
    # The operation name metrics and logs use: the request's, else the document's only one.
    operation: str = ""
    close: bool = False  # send `Connection: close` (a refused body was left unread)
    # A GraphQL request error (parse, validation, operation, variables) of a well-formed request:
    # its status depends on the response media type (see server/negotiation.py).
    request_error: bool = False
    # Headers a plugin asked to add (e.g. `Retry-After` on a rate-limited request).
    headers: Mapping[str, str] | None = None


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
        supergraph: Supergraph,
        config: GatewayConfig,
        planner: Planner,
        transport: Transport,
        caches: Caches | None = None,
        usage: UsageReporter | None = None,
        plugins: PluginChain | None = None,
    ) -> None:
        self.supergraph = supergraph
        self.usage = usage
        self.plugins = plugins if plugins is not None else PluginChain()
        self.config = config
        self.planner = planner
        self.executor = Executor(supergraph, transport)
        self.plan_cache = caches.plans if caches is not None else None
        self.entity_cache = caches.entities_for(supergraph) if caches is not None else None
        limits = DocumentLimits(config.limits, supergraph.api_schema, config.security.introspection)
        auth = Authorization(supergraph.sdl, supergraph.api_schema) if config.auth.directives else None
        self.preparation = Preparation(
            supergraph, planner, limits, auth if auth is not None and auth.active else None, config.plan_cache_size
        )
        self._labels_on = frozenset(config.override_labels)
        # Inbound dedup: identical concurrent queries share one execution (see traffic_shaping).
        # (Not with plugins: their hooks may answer each request differently.)
        self._dedup = config.traffic_shaping.deduplicate_requests and not config.auth.jwks and not self.plugins.active
        self._inflight: dict[tuple[Any, ...], asyncio.Future[PipelineResult]] = {}
        self._trace_allowed = config.explorer.enabled and config.explorer.trace

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        """The cached prepared operation; raises GatewayRequestError for parse/validation/operation errors."""
        doc = self.preparation.document(query)
        refusal = doc.limit_errors or doc.errors
        if refusal:
            raise GatewayRequestError(refusal)
        record = self._operation(query, operation_name, doc)[0]
        if record.error is not None:
            raise record.error
        assert record.prepared is not None
        return record.prepared

    def _override_labels(self) -> frozenset[str] | None:
        """Progressive-override labels on for this request; None when the supergraph has none."""
        labels = self.supergraph.override_labels
        if not labels:
            return None
        on = {label for label in labels if label in self._labels_on}
        for label in labels:
            if label.startswith("percent(") and random.random() * 100 < _percent(label):
                on.add(label)
        return frozenset(on)

    def _operation(
        self, query: str, operation_name: str | None, doc: PreparedDocument
    ) -> tuple[OperationRecord, Supergraph]:
        labels = self._override_labels()
        key: tuple[Any, ...] = (query, operation_name) if not labels else (query, operation_name, labels)
        supergraph = self.supergraph.variant(labels) if labels else self.supergraph
        if self.plan_cache is not None:
            self.plan_cache.used((query, operation_name), self.preparation.operations.peek(key) is not None)
        return self.preparation.operation(key, doc, operation_name, supergraph), supergraph

    def admit(
        self, query: str, operation_name: str | None, claims: dict[str, Any] | None
    ) -> tuple[PipelineResult | None, PreparedOperation | None]:
        """For a transport that runs the operation itself (subscriptions): limits, parse and validation,
        the operation, authorization. (The answer to send instead, or None; the prepared operation to
        run, without the fields the caller may not see.)"""
        doc = self.preparation.document(query)
        if doc.limit_errors:
            return PipelineResult(400, {"errors": doc.limit_errors}), None
        if doc.errors:
            return PipelineResult(400, {"errors": doc.errors}, request_error=True), None
        record, supergraph = self._operation(query, operation_name, doc)
        if record.error is not None:
            return PipelineResult(record.error.status, {"errors": record.error.errors}, request_error=True), None
        prepared = record.prepared
        filtered = self.preparation.filtered(record, claims, operation_name, supergraph)
        if filtered is not None:
            prepared, denied = filtered
            if prepared is None:
                body: dict[str, Any] = {"data": {}}
                apply_denied(body, denied)
                return PipelineResult(200, body), None
        return None, prepared

    async def run(
        self,
        query: Any,
        operation_name: Any = None,
        variables: Any = None,
        *,
        allow_mutations: bool = True,
        expose_plan: bool = False,
        client_headers: Mapping[str, str] | None = None,
        claims: dict[str, Any] | None = None,
        expose_trace: bool = False,
        context: RequestContext | None = None,
    ) -> PipelineResult:
        """Execute one GraphQL request (already decoded from HTTP) and return the response to send.

        `claims`: the caller's verified token claims (None: anonymous), for `@authenticated`/`@requiresScopes`.
        `context`: the client request (request id, headers, claims, tracer) every fetch is sent for.
        `expose_trace`: the client asked for each fetch's time and status (`extensions.fedgateTrace`);
        honoured only while `explorer.enabled` and `explorer.trace` allow it.
        """
        expose_trace = expose_trace and self._trace_allowed
        doc = self.preparation.document(query) if isinstance(query, str) else None
        label = operation_name if isinstance(operation_name, str) and operation_name else ""
        if doc is not None:
            label = label or doc.operation_label
            if doc.limit_errors:
                return PipelineResult(400, {"errors": doc.limit_errors}, operation=label)
        if not isinstance(query, str) or not query.strip():
            return _request_error("GraphQL operations must contain a non-empty `query`.", label)
        if operation_name is not None and not isinstance(operation_name, str):
            return _request_error("`operationName` must be a string.", label)
        if operation_name == "":
            operation_name = None
        if variables is not None and not isinstance(variables, dict):
            return _request_error("`variables` must be a JSON object.", label)
        assert doc is not None
        if doc.errors:
            return PipelineResult(400, {"errors": doc.errors}, operation=label, request_error=True)
        record, supergraph = self._operation(query, operation_name, doc)
        if record.error is not None:
            refused = record.error
            return PipelineResult(refused.status, {"errors": refused.errors}, operation=label, request_error=True)
        prepared = record.prepared
        assert prepared is not None
        if not allow_mutations and prepared.kind != OperationType.QUERY:
            error = error_dict(
                f"Can only perform a {prepared.kind.value} operation from a POST request.", METHOD_NOT_ALLOWED
            )
            return PipelineResult(405, {"errors": [error]}, allow="POST", operation=label)
        if prepared.kind == OperationType.SUBSCRIPTION:
            # As Router without a streaming accept header: the answer would be a stream.
            message = (
                "Subscriptions need a streaming transport: a WebSocket with the graphql-transport-ws "
                "protocol, or `accept: text/event-stream` (GraphQL over SSE)."
            )
            error = error_dict(message, SUBSCRIPTION_TRANSPORT_REQUIRED)
            return PipelineResult(406, {"errors": [error]}, operation=label)
        denied: Denied | None = None
        if record.auth is not None:
            filtered = self.preparation.filtered(record, claims, operation_name, supergraph)
            if filtered is not None:
                allowed, denied = filtered
                if allowed is None:  # nothing left the caller may see
                    body: dict[str, Any] = {"data": {}}
                    apply_denied(body, denied)
                    return PipelineResult(200, body, operation=label)
                prepared = allowed
        try:
            coerced = coerce_variables(self.supergraph.api_schema, prepared.operation, variables)
        except GatewayRequestError as exc:
            return PipelineResult(exc.status, {"errors": exc.errors}, operation=label, request_error=True)
        if self.usage is not None:
            if record.usage is None:  # once per prepared operation, on the operation the client sent
                base = record.prepared
                assert base is not None
                record.usage = describe_operation(base.schema, base.document, base.operation)
            self.usage.record(record.usage, client_headers)
        plugin_ctx = context.plugin if context is not None else None
        if plugin_ctx is not None and (self.plugins.has_operation or self.plugins.has_plan):
            stopped = await self._operation_hooks(plugin_ctx, prepared, operation_name, coerced, label)
            if stopped is not None:
                return stopped
        if self._dedup and prepared.kind == OperationType.QUERY:
            key = (id(prepared), _canonical(variables), expose_plan, expose_trace, _varying(client_headers))
            shared = self._inflight.get(key)
            if shared is not None:
                return await asyncio.shield(shared)
            future: asyncio.Future[PipelineResult] = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            try:
                result = await self._execute(
                    prepared, record, coerced, variables, expose_plan, client_headers, label, denied, expose_trace, context
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
            prepared, record, coerced, variables, expose_plan, client_headers, label, denied, expose_trace, context
        )

    async def _operation_hooks(
        self, ctx: Any, prepared: PreparedOperation, operation_name: str | None, coerced: dict[str, Any], label: str
    ) -> PipelineResult | None:
        """Run the `operation` and `plan` hooks; the answer to send instead when one refused or failed."""
        ctx.operation_name = label or None
        try:
            if self.plugins.has_operation:
                info = OperationInfo(
                    prepared.document, operation_name, prepared.kind.value, coerced, ctx.client_name, ctx.client_version
                )
                await self.plugins.operation(ctx, info)
            if self.plugins.has_plan and prepared.plan is not None:
                await self.plugins.plan(ctx, PlanView(prepared.plan, print_plan))
        except PluginRejection as exc:
            return PipelineResult(exc.status, rejection_body(exc), operation=label, headers=exc.headers)
        except PluginFailure as exc:
            return PipelineResult(exc.status, failure_body(exc), operation=label)
        return None

    async def _execute(
        self,
        prepared: PreparedOperation,
        record: OperationRecord,
        coerced: dict[str, Any],
        variables: Any,
        expose_plan: bool,
        client_headers: Mapping[str, str] | None,
        label: str,
        denied: Denied | None,
        expose_trace: bool = False,
        context: RequestContext | None = None,
    ) -> PipelineResult:
        cache_run = self.entity_cache.begin(prepared, client_headers) if self.entity_cache is not None else None
        trace = FetchTrace() if expose_trace else None
        body = await self.executor.execute(prepared, coerced, variables, context, cache=cache_run, trace=trace)
        if trace is not None:
            root = prepared.plan.node if prepared.plan is not None else None
            body.setdefault("extensions", {})["fedgateTrace"] = trace.to_json(root)
        if expose_plan and self.config.expose_query_plan and prepared.plan is not None:
            if prepared is record.prepared:
                if record.plan_extension is None:
                    record.plan_extension = _plan_extension(prepared)
                extension = record.plan_extension
            else:
                extension = _plan_extension(prepared)
            body.setdefault("extensions", {})["apolloQueryPlan"] = extension
        if denied is not None:  # refused fields: null where they were, with their errors
            apply_denied(body, denied)
        if cache_run is not None and cache_run.stale:  # stale-if-error answered part of it: say so
            body.setdefault("extensions", {})["staleIfError"] = {"subgraphs": sorted(set(cache_run.stale))}
        cache_control = cache_run.cache_control() if cache_run is not None else None
        return PipelineResult(200, body, cache_control=cache_control, operation=label)


def _plan_extension(prepared: PreparedOperation) -> dict[str, Any]:
    assert prepared.plan is not None
    return {"object": plan_to_json(prepared.plan), "text": print_plan(prepared.plan)}


def _request_error(message: str, label: str = "") -> PipelineResult:
    return PipelineResult(400, {"errors": [error_dict(message, BAD_REQUEST)]}, operation=label)

"""The Starlette application: `/graphql` (POST and GET), `/health` (liveness) and `/ready`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from gateway.cache import Caches, PersistedQueryError
from gateway.cache.apq import PERSISTED_QUERY_NOT_FOUND
from gateway.cache.invalidation import handle_invalidation
from gateway.config import GatewayConfig
from gateway.errors import BAD_REQUEST, INTERNAL_SERVER_ERROR, GatewayRequestError, error_dict
from gateway.observability.usage import UsageReporter
from gateway.planning import Planner, print_plan
from gateway.plugins import PluginChain, PluginTransport, load_plugins
from gateway.server.compression import compression_middleware
from gateway.server.guard import Guard, request_context
from gateway.server.lifecycle import Lifecycle
from gateway.server.negotiation import GRAPHQL_RESPONSE_JSON, JSON, choose_media_type, status_for
from gateway.server.pipeline import Pipeline, PipelineResult
from gateway.server.plugin_hooks import client_stage, open_context, router_stage
from gateway.server.query_plan_json import plan_to_json
from gateway.server.streaming import Streaming
from gateway.subscriptions import wants_event_stream
from gateway.supergraph import Supergraph
from gateway.transport import Transport, make_transport

log = logging.getLogger("fedgate.server")


class GatewayState:
    """What the routes share: the pipeline for the loaded supergraph (None until one is loaded)."""

    def __init__(
        self, config: GatewayConfig, planner: Planner, transport: Transport, plugins: PluginChain | None = None
    ) -> None:
        self.config = config
        self.plugins = plugins if plugins is not None else PluginChain()
        self.planner = planner
        self.transport = transport
        self.pipeline: Pipeline | None = None
        self.caches: Caches | None = None
        self.streaming: Streaming | None = None
        self.usage: UsageReporter | None = UsageReporter(config.usage_reporting) if config.usage_reporting.endpoint else None

    def load(self, supergraph: Supergraph) -> None:
        """Serve `supergraph` from now on (fresh operation caches); subscriptions it no longer serves end."""
        self.pipeline = Pipeline(
            supergraph, self.config, self.planner, self.transport, caches=self.caches, usage=self.usage,
            plugins=self.plugins,
        )
        if self.streaming is not None:
            self.streaming.service.reloaded(supergraph)


def _media_type(request: Request) -> str:
    # Not acceptable at all: the 406 itself goes out as plain JSON.
    return choose_media_type(request.headers.get("accept")) or JSON


def _not_acceptable(request: Request) -> Response | None:
    """406 when `Accept` names no media type the gateway serves (GraphQL over HTTP, "Body")."""
    if choose_media_type(request.headers.get("accept")) is not None:
        return None
    message = f"Accept must allow {GRAPHQL_RESPONSE_JSON} or {JSON}."
    return Response(orjson.dumps({"errors": [error_dict(message, "NOT_ACCEPTABLE")]}), status_code=406, media_type=JSON)


def _respond(request: Request, result: PipelineResult) -> Response:
    headers = {"allow": result.allow} if result.allow else None
    if result.cache_control is not None:
        headers = {**(headers or {}), "cache-control": result.cache_control}
    if result.close:
        headers = {**(headers or {}), "connection": "close"}
    if result.headers:
        headers = {**(headers or {}), **result.headers}
    media_type = _media_type(request)
    status = status_for(media_type, result.status, result.request_error)
    return Response(orjson.dumps(result.body), status_code=status, media_type=media_type, headers=headers)


def _error_response(request: Request, status: int, message: str, code: str = BAD_REQUEST) -> Response:
    return _respond(request, PipelineResult(status, {"errors": [error_dict(message, code)]}))


def _wants_plan(request: Request) -> bool:
    return request.headers.get("apollo-expose-query-plan", "").lower() == "true"


def _wants_trace(request: Request) -> bool:
    return request.headers.get("fedgate-expose-trace", "").lower() == "true"


def _explorer(config: GatewayConfig, state: GatewayState) -> list[Middleware]:
    """The explorer page in front of everything (only while `explorer.enabled`)."""
    if not config.explorer.enabled:
        return []
    from gateway.explorer import ExplorerMiddleware

    def plan_for(query: str, operation_name: str | None) -> dict[str, Any]:
        pipeline = state.pipeline
        if pipeline is None:
            raise GatewayRequestError([error_dict("No supergraph loaded yet.", "SERVICE_UNAVAILABLE")], status=503)
        plan = pipeline.prepare(query, operation_name).plan
        if plan is None:  # introspection only: nothing to fetch
            return {"object": None, "text": ""}
        return {"object": plan_to_json(plan), "text": print_plan(plan)}

    return [Middleware(ExplorerMiddleware, plan_for=plan_for)]  # type: ignore[arg-type]


def create_app(
    supergraph: Supergraph | None,
    config: GatewayConfig | None = None,
    *,
    planner: Planner | None = None,
    transport: Transport | None = None,
) -> Starlette:
    """The gateway ASGI app serving `supergraph` (None: `/ready` answers 503 until `state.load()`).

    `planner` defaults to `gateway.planning.build_query_plan`; `transport` to a SubgraphClient that the
    app closes on shutdown.
    """
    config = config or GatewayConfig()
    if planner is None:
        from gateway.planning import build_query_plan

        planner = build_query_plan
    owns_transport = transport is None
    client: Transport = transport if transport is not None else make_transport(config.traffic_shaping)
    caches = Caches(config)
    planner = caches.plans.wrap(planner)
    guard = Guard(config)
    plugins = load_plugins(config.plugins)  # PluginConfigError (naming the plugin) before anything starts
    # Subgraph hooks sit inside the instrumentation: they see (and may change) every header sent.
    hooked = PluginTransport(client, plugins) if plugins.has_subgraph_request or plugins.has_subgraph_response else client
    state = GatewayState(config, planner, guard.instrument(hooked), plugins)
    guard.bind(state)
    state.caches = caches
    if supergraph is not None:
        state.load(supergraph)
    streaming = state.streaming = Streaming(state, guard)
    lifecycle = Lifecycle(state, config.lifecycle)
    lifecycle.on_drain.append(streaming.service.begin_shutdown)
    trace_allowed = config.explorer.enabled and config.explorer.trace

    async def execute(request: Request, payload: dict[str, Any], allow_mutations: bool) -> PipelineResult:
        pipeline = state.pipeline
        if pipeline is None:
            return PipelineResult(503, {"errors": [error_dict("No supergraph loaded yet.", "SERVICE_UNAVAILABLE")]})
        query = payload.get("query")
        if caches.apq is not None:
            try:
                query = await caches.apq.resolve(query, payload.get("extensions"))
            except PersistedQueryError as exc:
                # As Router: a cache (CDN, browser) must not keep a miss the client is about to fill.
                no_store = "private, no-cache, must-revalidate" if exc.code == PERSISTED_QUERY_NOT_FOUND else None
                body = {"errors": [error_dict(exc.message, exc.code)]}
                return PipelineResult(exc.status, body, cache_control=no_store)
        context = request_context(request)
        plugin_ctx = context.plugin if context is not None else None
        claims, refused = guard.authenticate(request, context, payload.get("operationName"))
        if refused is not None:
            return refused
        if plugin_ctx is not None:
            plugin_ctx.claims = claims
        try:
            result = await pipeline.run(
                query,
                payload.get("operationName"),
                payload.get("variables"),
                allow_mutations=allow_mutations,
                expose_plan=_wants_plan(request),
                client_headers=request.headers,
                expose_trace=trace_allowed and _wants_trace(request),
                claims=claims,
                context=context,
            )
        except Exception:  # noqa: BLE001 - never answer a GraphQL client with a bare 500
            log.exception("request failed")
            return PipelineResult(500, {"errors": [error_dict("Internal server error.", INTERNAL_SERVER_ERROR)]})
        if plugin_ctx is not None:
            result = await client_stage(plugins, plugin_ctx, result)
        return guard.after(result, context)

    async def run(request: Request, payload: dict[str, Any], allow_mutations: bool) -> Response:
        return _respond(request, await execute(request, payload, allow_mutations))

    async def run_batch(request: Request, payloads: list[Any]) -> Response:
        """A JSON array of operations: run concurrently, answered as an array in the same order."""
        if not config.batching.enabled:
            return _error_response(request, 400, "Batched requests are not enabled (batching.enabled).", "BATCHING_NOT_ENABLED")
        if not payloads or len(payloads) > config.batching.max_size:
            message = f"A batch holds 1 to {config.batching.max_size} operations (batching.max_size); got {len(payloads)}."
            return _error_response(request, 400, message, "BATCH_LIMIT_EXCEEDED")

        async def one(payload: Any) -> PipelineResult:
            if not isinstance(payload, dict):
                return PipelineResult(400, {"errors": [error_dict("Each batch entry must be a JSON object.", BAD_REQUEST)]})
            if payload.get("extensions") is not None and not isinstance(payload["extensions"], dict):
                return PipelineResult(400, {"errors": [error_dict("`extensions` must be a JSON object.", BAD_REQUEST)]})
            return await execute(request, payload, allow_mutations=True)

        results = await asyncio.gather(*(one(p) for p in payloads))
        # One HTTP answer for all: 200, each entry its own GraphQL response (as Apollo Router does).
        return Response(orjson.dumps([r.body for r in results]), media_type=_media_type(request))

    async def _router_stage(request: Request, body: bytes) -> bytes | PipelineResult:
        context = request_context(request)
        ctx = open_context(request, context)
        if not plugins.has_router_request:
            return body
        return await router_stage(plugins, ctx, request, context, body)

    async def graphql_post(request: Request) -> Response:
        sse = wants_event_stream(request.headers.get("accept", ""))
        refused_accept = None if sse else _not_acceptable(request)
        if refused_accept is not None:
            return refused_accept
        body = await guard.read_body(request)
        if isinstance(body, PipelineResult):
            return _respond(request, body)
        if plugins.active:
            staged = await _router_stage(request, body)
            if isinstance(staged, PipelineResult):
                return _respond(request, staged)
            body = staged
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _error_response(request, 400, "Request body is not valid JSON.")
        if isinstance(payload, list) and not sse:
            return await run_batch(request, payload)
        if not isinstance(payload, dict):
            return _error_response(request, 400, "Request body must be a JSON object.")
        if payload.get("extensions") is not None and not isinstance(payload["extensions"], dict):
            return _error_response(request, 400, "`extensions` must be a JSON object.")
        if sse:
            return await streaming.sse(request, payload)
        return await run(request, payload, allow_mutations=True)

    async def graphql_get(request: Request) -> Response:
        sse = wants_event_stream(request.headers.get("accept", ""))
        refused_accept = None if sse else _not_acceptable(request)
        if refused_accept is not None:
            return refused_accept
        if plugins.active:
            staged = await _router_stage(request, b"")
            if isinstance(staged, PipelineResult):
                return _respond(request, staged)
        params = request.query_params
        payload: dict[str, Any] = {"query": params.get("query"), "operationName": params.get("operationName")}
        payload["extensions"] = params.get("extensions")
        raw_variables = params.get("variables")
        if raw_variables:
            try:
                payload["variables"] = orjson.loads(raw_variables)
            except orjson.JSONDecodeError:
                return _error_response(request, 400, "`variables` is not valid JSON.")
        if sse:
            return await streaming.sse(request, payload)
        return await run(request, payload, allow_mutations=False)

    async def health(request: Request) -> Response:
        # Liveness only: readiness (supergraph loaded, not draining) is `/ready`.
        return Response(b'{"status":"pass"}', media_type=JSON)

    async def invalidation(request: Request) -> Response:
        secret = config.cache.invalidation.secret
        entities = caches.entities
        status, answer = await handle_invalidation(secret, entities, request.headers.get("authorization"), await request.body())
        return Response(orjson.dumps(answer), status_code=status, media_type=JSON)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await plugins.startup()  # a plugin that cannot start stops the gateway, with its name
        await lifecycle.start()
        if state.usage is not None:
            await state.usage.start()
        if state.pipeline is not None:
            await caches.plans.load(state.pipeline.supergraph)  # a new replica starts with the others' plans
        yield
        await lifecycle.stop()
        await streaming.service.aclose()
        if state.usage is not None:
            await state.usage.stop()
        await caches.aclose()
        aclose = getattr(client, "aclose", None)
        if owns_transport and aclose is not None:
            await aclose()
        await plugins.shutdown()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_post, methods=["POST"]),
            Route("/graphql", graphql_get, methods=["GET"]),
            WebSocketRoute("/graphql", streaming.websocket),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", guard.metrics, methods=["GET"]),
            Route("/ready", lifecycle.ready, methods=["GET"]),
            Route("/invalidation", invalidation, methods=["POST"]),
        ],
        lifespan=lifespan,
        middleware=[*_explorer(config, state), *guard.middleware(), *compression_middleware(config.compression)],
    )
    app.state.gateway = state
    app.state.lifecycle = lifecycle
    return app

"""Guard: what the operations and security config adds around the pipeline, behind a few hooks in app.py.

- `middleware()`: CORS, then per `/graphql` request: request id (header both ways), CSRF prevention,
  in-flight gauge, request metrics, the request span, the access log line;
- `read_body()`: the POST body within `limits`;
- `authenticate()`: JWT claims (the pipeline enforces limits and `@authenticated`/`@requiresScopes`
  on the prepared operation);
- `after()`: subgraph errors masked, the operation label for metrics and logs;
- `instrument()`: the transport wrapper (fetch metrics and spans, outbound headers);
- `metrics()`: the `GET /metrics` endpoint.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import GatewayConfig
from gateway.errors import error_dict
from gateway.observability import metrics
from gateway.observability.context import RequestContext
from gateway.observability.logging import access_log, bind_request_id, configure_logging, unbind_request_id
from gateway.observability.tracing import Tracing
from gateway.server.auth import AuthError, JwtVerifier
from gateway.server.headers import HeaderRules
from gateway.server.limits import BodyRefused, drain_body, read_body
from gateway.server.pipeline import PipelineResult
from gateway.server.security import (
    PREFLIGHT_HEADERS,
    cors_middleware,
    csrf_blocked,
    csrf_error,
    mask_errors,
    unsupported_media_type,
    unsupported_media_type_error,
)
from gateway.transport import Transport
from gateway.transport.instrumented import InstrumentedTransport

log = logging.getLogger("fedgate.server")

_SAFE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_OPERATION_LABELS = 500
# Generated request ids: 20 random hex digits per process, then a counter (32 hex digits in all).
_ID_PREFIX = os.urandom(10).hex()
_ID_COUNTER = itertools.count(1)


def _new_id_prefix() -> None:
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = os.urandom(10).hex()
    _ID_COUNTER = itertools.count(1)


os.register_at_fork(after_in_child=_new_id_prefix)  # `serve --workers`: workers fork after import

# Where the middleware puts each `/graphql` request's RequestContext in the ASGI scope.
CONTEXT_KEY = "fedgate.context"


def request_context(request: Request) -> RequestContext | None:
    """The RequestContext the middleware opened for this request (None outside `/graphql`)."""
    context: RequestContext | None = request.scope.get(CONTEXT_KEY)
    return context


class Guard:
    """Built once per app from the config; every per-request method is cheap when its feature is off."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        telemetry = config.telemetry
        self.request_id_header = telemetry.request_id_header.lower()
        self._rid_bytes = self.request_id_header.encode("latin-1")
        logging_config = telemetry.logging
        if logging_config != type(logging_config)():
            configure_logging(logging_config)
        self.access_log = logging_config.access_log
        # This app's tracer: handed to each request in its RequestContext (never a module global, so a
        # second app in the same process keeps its own).
        self.tracing = Tracing(telemetry.tracing) if telemetry.tracing.enabled else None
        self.rules = HeaderRules(config.headers)
        self.jwt = JwtVerifier(config.auth) if config.auth.jwks else None
        self.require_auth = config.auth.require_authentication
        self._labels: dict[tuple[str, str], list[Any]] = {}
        self.in_flight = 0
        self._operation_names: set[str] = set()
        self.state: Any = None

    # --- wiring ------------------------------------------------------------------------------------

    def bind(self, state: Any) -> None:
        """Remember the app's state (to find the current pipeline) and export the plan cache size."""
        self.state = state

        def plan_cache_size() -> float:
            pipeline = state.pipeline
            cache = pipeline.preparation.operations if pipeline is not None else None
            try:
                return float(len(cache)) if cache is not None else 0.0
            except TypeError:
                return 0.0

        metrics.PLAN_CACHE_SIZE.set_function(plan_cache_size)
        metrics.IN_FLIGHT.set_function(lambda: float(self.in_flight))
        metrics.EVENT_LOOP_TASKS.set_function(_event_loop_tasks)

    def instrument(self, transport: Transport) -> InstrumentedTransport:
        """The transport the executor should use: `transport` with metrics, spans and outbound headers."""
        return InstrumentedTransport(transport, self.request_id_header, self.rules, self.tracing)

    def middleware(self) -> list[Middleware]:
        """Starlette middleware: the CORS allow-list (outermost), then the per-request operations layer."""
        return [*cors_middleware(self.config.security), Middleware(_OperationsMiddleware, guard=self)]  # type: ignore[arg-type]

    async def metrics(self, request: Request) -> Response:
        """`GET /metrics`: Prometheus text format."""
        if not self.config.telemetry.metrics:
            return Response(b"metrics are disabled\n", status_code=404, media_type="text/plain")
        return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

    # --- per request -------------------------------------------------------------------------------

    async def read_body(self, request: Request) -> bytes | PipelineResult:
        """The POST body, or the error response when it breaks a limit."""
        try:
            return await read_body(request, self.config.limits)
        except BodyRefused as exc:
            return PipelineResult(exc.status, {"errors": [exc.error]}, close=exc.close)

    def authenticate(
        self, request: Request, info: RequestContext | None, operation_name: Any
    ) -> tuple[dict[str, Any] | None, PipelineResult | None]:
        """(the caller's verified claims or None, a 401 to send instead of running the request, or None);
        the claims are also kept in the request's context."""
        if info is not None and isinstance(operation_name, str):
            info.operation = operation_name
        claims = None
        if self.jwt is not None:
            try:
                claims = self.jwt.claims(request.headers)
            except AuthError as exc:
                return None, PipelineResult(401, {"errors": [exc.error]})
            if info is not None:
                info.claims = claims
        if claims is None and self.require_auth:
            error = error_dict("Authentication is required.", "UNAUTHENTICATED")
            return None, PipelineResult(401, {"errors": [error]})
        return claims, None

    def after(self, result: PipelineResult, info: RequestContext | None = None) -> PipelineResult:
        """Post-processing of the response: masked subgraph errors, the operation and outcome labels."""
        body = result.body
        if info is not None and result.operation and not info.operation:
            info.operation = result.operation
        if info is not None and result.request_error:
            info.refused = True
        errors = body.get("errors")
        if errors:
            if info is not None:
                info.errors = True
            body["errors"] = mask_errors(errors, self.config.security.mask_subgraph_errors)
        return result

    # --- metrics -----------------------------------------------------------------------------------

    def _label(self, name: str) -> str:
        if not name:
            return ""
        if name in self._operation_names:
            return name
        if len(self._operation_names) >= _MAX_OPERATION_LABELS or not _SAFE_NAME.fullmatch(name):
            return "(other)"
        self._operation_names.add(name)
        return name

    def record(self, info: RequestContext, status: int, seconds: float) -> None:
        if status >= 500:
            outcome = "failure"
        elif status >= 400 or info.refused:
            outcome = "refused"
        else:
            outcome = "error" if info.errors else "success"
        # Keyed by label, not by the client's name: unknown names must not grow this dict.
        key = (self._label(info.operation), outcome)
        series = self._labels.get(key)
        if series is None:
            series = self._labels[key] = metrics.REQUESTS.series(*key)
        metrics.REQUESTS.observe(series, seconds)
        if self.access_log:
            access_log.info(
                "%s %s %.1fms",
                info.operation or "-", status, seconds * 1000,
                extra={"operation": info.operation, "status": status, "duration_ms": round(seconds * 1000, 3)},
            )


def _event_loop_tasks() -> float:
    """Tasks of the running event loop (a scrape runs in it); 0 when read from outside any loop."""
    try:
        return float(len(asyncio.all_tasks()))
    except RuntimeError:
        return 0.0


class _OperationsMiddleware:
    """Pure ASGI middleware for `/graphql`: request id, CSRF, metrics, the request span, the access log."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard
        self.csrf = guard.config.security.csrf_prevention

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        guard = self.guard
        rid_name = guard._rid_bytes
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        # One pass over the raw headers for the few this layer reads.
        content_type = given_id = traceparent = tracestate = None
        preflighted = False
        for key, value in raw:
            if key == b"content-type":  # several are one list, as a browser's fetch would combine them
                content_type = value if content_type is None else content_type + b", " + value
            elif key == rid_name:
                given_id = value
            elif key == b"traceparent":
                traceparent = value.decode("latin-1")
            elif key == b"tracestate":
                tracestate = value.decode("latin-1")
            elif key in PREFLIGHT_HEADERS:
                preflighted = True
        request_id = given_id.decode("latin-1") if given_id is not None else None
        if request_id is None or not _SAFE_ID.fullmatch(request_id):
            request_id = f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"
        info = RequestContext(request_id, raw, traceparent, tracestate, guard.tracing)
        scope[CONTEXT_KEY] = info
        rid_header = (rid_name, request_id.encode("latin-1"))
        status = 500
        token = bind_request_id(request_id)
        guard.in_flight += 1
        start = time.perf_counter()
        span = span_token = None
        if guard.tracing is not None:
            span, span_token = guard.tracing.start_request(info.client_headers)

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
                message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        try:
            method = scope["method"]
            refusal: tuple[int, dict[str, Any], tuple[tuple[bytes, bytes], ...]] | None = None
            if method != "POST" and method != "GET":
                error = error_dict(f"Method {method} is not allowed on /graphql; use GET or POST.", "METHOD_NOT_ALLOWED")
                refusal = (405, error, ((b"allow", b"GET, POST"),))
            elif self.csrf and csrf_blocked(content_type, preflighted):
                refusal = (400, csrf_error(), ())
            elif method == "POST" and unsupported_media_type(content_type):
                refusal = (415, unsupported_media_type_error(), ())
            if refusal is None:
                await self.app(scope, receive, send_with_id)
            else:
                # The body is refused unread: drain it first so the client can read the answer.
                drained = await drain_body(receive, raw, guard.config.limits)
                extra = refusal[2] if drained else (*refusal[2], (b"connection", b"close"))
                await _send_error(send_with_id, refusal[0], refusal[1], extra)
        except Exception:  # noqa: BLE001 - a bug still answers a GraphQL error, not a bare 500 page
            log.exception("request failed")
            if started:
                raise
            status = 500
            await _send_error(send_with_id, 500, error_dict("Internal server error.", "INTERNAL_SERVER_ERROR"))
        finally:
            guard.in_flight -= 1
            guard.record(info, status, time.perf_counter() - start)
            if span is not None:
                guard.tracing.end_request(span, span_token, status, info.operation)  # type: ignore[union-attr]
            unbind_request_id(token)


async def _send_error(
    send: Send, status: int, error: dict[str, Any], extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    body = orjson.dumps({"errors": [error]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

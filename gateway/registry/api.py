"""The registry's HTTP JSON API (Starlette); every route is listed in docs/registry.md.

Database work and composition run in worker threads, so one slow publish never stalls the
supergraph polls of gateways. Every failure is a JSON body `{"errors": [{"message", "extensions":
{"code"}}]}` with a 4xx status (503 when the database is unreachable), never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import service
from .errors import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    RegistryError,
)
from .store import Database
from .tokens import Principal, authenticate, authorize, bearer, create_token, hash_token

log = logging.getLogger("fedgate.registry")

DEFAULT_MAX_BODY_BYTES = 5_000_000


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error(exc: RegistryError) -> Response:
    headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
    return _json(exc.to_json(), exc.status, headers)


class RegistryApp:
    """State of one registry process: the database, the admin token's hash and the body limit."""

    def __init__(self, db: Database, admin_token: str | None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.db = db
        self.admin_sha256 = hash_token(admin_token) if admin_token else None
        self.max_body_bytes = max_body_bytes

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Database and composition work, off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def principal(self, request: Request) -> Principal:
        token = bearer(request.headers.get("authorization"))

        def lookup() -> Principal:
            with self.db.transaction() as conn:
                return authenticate(conn, token, self.admin_sha256)

        principal: Principal = await self.run(lookup)
        return principal

    async def body(self, request: Request) -> Any:
        """The request's JSON object, read with the size limit (413 over it)."""
        limit = self.max_body_bytes
        declared = request.headers.get("content-length")
        too_big = RegistryError(PAYLOAD_TOO_LARGE, f"the body is larger than {limit} bytes", 413)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError as exc:
            raise RegistryError(BAD_REQUEST, f"the body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise RegistryError(BAD_REQUEST, "the body must be a JSON object")
        return body


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RegistryError(BAD_REQUEST, f"query parameter `{name}` must be an integer") from exc


def _path(request: Request) -> tuple[str, str]:
    graph = service.check_name("graph", request.path_params["graph"])
    variant = service.check_name("variant", request.path_params.get("variant", service.DEFAULT_VARIANT))
    return graph, variant


Handler = Callable[[RegistryApp, Request], Awaitable[Response]]


def create_registry_app(db: Database, admin_token: str | None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The registry's ASGI app over `db` (already migrated)."""
    state = RegistryApp(db, admin_token, max_body_bytes)

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(state, request)
            except RegistryError as exc:
                return _error(exc)
            except Exception:  # noqa: BLE001 - a bug must still answer JSON, and say where to look
                log.exception("registry request %s %s failed", request.method, request.url.path)
                return _error(RegistryError(INTERNAL_ERROR, "internal registry error (see the registry's log)", 500))

        return Route(path, endpoint, methods=methods)

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            return _error(RegistryError(METHOD_NOT_ALLOWED, f"{request.method} is not allowed here", 405))
        return _error(RegistryError(NOT_FOUND, f"no route {request.url.path}", 404))

    prefix = "/graphs/{graph}/variants/{variant}"
    routes = [
        route("/health", _health, ["GET"]),
        route("/tokens", _create_token, ["POST"]),
        route("/graphs", _graphs, ["GET", "POST"]),
        route("/graphs/{graph}/variants", _variants, ["GET"]),
        route(f"{prefix}/supergraph", _supergraph, ["GET", "HEAD"]),
        route(f"{prefix}/subgraphs", _subgraphs, ["GET"]),
        route(prefix + "/subgraphs/{name}", _subgraph, ["GET", "PUT", "POST"]),
        route(prefix + "/subgraphs/{name}/check", _check, ["POST"]),
        route(f"{prefix}/versions", _versions, ["GET"]),
        route(prefix + "/versions/{version:int}", _version, ["GET"]),
        route(f"{prefix}/compositions", _compositions, ["GET"]),
        route(f"{prefix}/diff", _diff, ["GET"]),
        route(f"{prefix}/rollback", _rollback, ["POST"]),
        route(f"{prefix}/usage", _usage, ["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


async def _health(state: RegistryApp, request: Request) -> Response:
    def ping() -> None:
        with state.db.transaction() as conn:
            conn.execute("SELECT 1 AS ok")

    await state.run(ping)
    return _json({"status": "ok", "database": state.db.dialect})


async def _create_token(state: RegistryApp, request: Request) -> Response:
    principal = await state.principal(request)
    authorize(principal, "admin")
    body = await state.body(request)
    graph = body.get("graph")
    subgraph = body.get("subgraph")
    label = body.get("label")
    if graph is not None:
        service.check_name("graph", graph)
    if subgraph is not None:
        service.check_name("subgraph", subgraph)
    if label is not None and (not isinstance(label, str) or len(label) > 200):
        raise RegistryError(BAD_REQUEST, "`label` must be a string of at most 200 characters")

    def make() -> str:
        with state.db.transaction(lock="tokens") as conn:
            if graph:
                service.require_graph(conn, graph)  # GRAPH_NOT_FOUND before a token for nothing
            return create_token(conn, body.get("kind"), graph, subgraph, label)

    token = await state.run(make)
    return _json({"token": token, "kind": body.get("kind"), "graph": graph, "subgraph": subgraph, "label": label}, 201)


async def _graphs(state: RegistryApp, request: Request) -> Response:
    principal = await state.principal(request)
    if request.method == "POST":
        authorize(principal, "admin")
        body = await state.body(request)
        return _json(await state.run(service.create_graph, state.db, body.get("name")), 201)
    graphs = await state.run(service.list_graphs, state.db)
    visible = [g for g in graphs if principal.kind == "admin" or g["name"] == principal.graph]
    return _json({"graphs": visible})


async def _variants(state: RegistryApp, request: Request) -> Response:
    graph = service.check_name("graph", request.path_params["graph"])
    authorize(await state.principal(request), "read", graph)
    return _json({"variants": await state.run(service.list_variants, state.db, graph)})


async def _supergraph(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    version = _int_param(request, "version")
    found = await state.run(service.supergraph, state.db, graph, variant, version)
    etag = f'"{found["sha256"]}"'  # strong: the bytes are exactly these
    headers = {"etag": etag, "cache-control": "no-cache", "x-fedgate-supergraph-version": str(found["version"])}
    inm = request.headers.get("if-none-match")
    if inm is not None and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
        return Response(status_code=304, headers=headers)
    content = b"" if request.method == "HEAD" else found["sdl"].encode()
    return Response(content, media_type="text/plain; charset=utf-8", headers=headers)


async def _subgraphs(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    return _json({"subgraphs": await state.run(service.list_subgraphs, state.db, graph, variant)})


async def _subgraph(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    name = service.check_name("subgraph", request.path_params["name"])
    principal = await state.principal(request)
    if request.method == "GET":
        authorize(principal, "read", graph)
        return _json(await state.run(service.fetch_subgraph, state.db, graph, variant, name))
    authorize(principal, "publish", graph, name)
    body = await state.body(request)
    result = await state.run(service.publish, state.db, graph, variant, name, body.get("sdl"),
                             body.get("routing_url"), principal.describe())
    return _json(result.to_json(), 201 if result.status == "published" else 200)


async def _check(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    name = service.check_name("subgraph", request.path_params["name"])
    authorize(await state.principal(request), "read", graph)
    body = await state.body(request)
    window = body.get("window_seconds", service.DEFAULT_WINDOW)
    min_requests = body.get("min_requests", 1)
    if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
        raise RegistryError(BAD_REQUEST, "`window_seconds` must be a positive number")
    if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 1:
        raise RegistryError(BAD_REQUEST, "`min_requests` must be a positive integer")
    routing_url = body.get("routing_url")
    if routing_url is not None:
        service.check_url(routing_url)
    result = await state.run(service.check, state.db, graph, variant, name, body.get("sdl"), float(window),
                             min_requests, routing_url)
    return _json(result)


async def _versions(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    limit = _int_param(request, "limit", 100) or 100
    return _json({"versions": await state.run(service.history, state.db, graph, variant, max(1, min(limit, 1000)))})


async def _version(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    return _json(await state.run(service.supergraph, state.db, graph, variant, request.path_params["version"]))


async def _compositions(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    limit = _int_param(request, "limit", 100) or 100
    items = await state.run(service.compositions, state.db, graph, variant, max(1, min(limit, 1000)))
    return _json({"compositions": items})


async def _diff(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "read", graph)
    old, new = _int_param(request, "from"), _int_param(request, "to")
    if old is None or new is None:
        raise RegistryError(BAD_REQUEST, "give both `from` and `to` supergraph versions")
    return _json(await state.run(service.diff, state.db, graph, variant, old, new))


async def _rollback(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "admin")
    body = await state.body(request)
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RegistryError(BAD_REQUEST, "`version` must be the integer supergraph version to roll back to")
    return _json(await state.run(service.rollback, state.db, graph, variant, version), 201)


async def _usage(state: RegistryApp, request: Request) -> Response:
    graph, variant = _path(request)
    authorize(await state.principal(request), "report", graph)
    body = await state.body(request)
    return _json(await state.run(service.report_usage, state.db, graph, variant, body), 202)

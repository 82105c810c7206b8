"""Serve the explorer: the page at `/` and on browser GETs of `/graphql`, its assets, and its plan preview.

A pure ASGI middleware in front of the app, so that a browser opening `/graphql` gets the page
before CSRF prevention (which rightly refuses a GET without a preflight header) sees the request.
Everything else, every API call included, goes straight through: one path comparison per request.
"""

from __future__ import annotations

import gzip
import html
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

# The request header the page sets to get each fetch's time and status back (see `explorer.trace`).
TRACE_HEADER = "fedgate-expose-trace"
_PREFIX = "/explorer/"
_PLAN_PATH = "/explorer/plan"
_MAX_PLAN_BODY = 1_000_000
_TYPES = {
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".html": b"text/html; charset=utf-8",
    ".png": b"image/png",
    ".svg": b"image/svg+xml",
}
# The page sends no request to any other origin; the API is same-origin.
_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)

# (query, operation name) -> `{"object": plan JSON, "text": printed plan}`; raises an error with
# `.errors` (GraphQL error dicts) and `.status` for a query that does not plan.
PlanFor = Callable[[str, "str | None"], dict[str, Any]]


@dataclass(slots=True)
class _Asset:
    body: bytes
    gzipped: bytes | None
    content_type: bytes


def _load_asset(name: str) -> _Asset | None:
    """A file of `gateway/explorer/static/` (None if there is no such file)."""
    if not name or ".." in name.split("/") or name.startswith("/"):
        return None
    folder = resources.files("gateway.explorer").joinpath("static")
    *parents, base = name.split("/")
    for part in parents:
        folder = folder.joinpath(part)
    node = folder.joinpath(base)
    suffix = name[name.rfind(".") :]
    content_type = _TYPES.get(suffix, b"application/octet-stream")
    # The large vendor bundles are shipped as `NAME.gz` (scripts/explorer-assets.sh): served as they
    # are to clients that accept gzip, inflated once for the others.
    packed = folder.joinpath(base + ".gz")
    if not node.is_file() and packed.is_file():
        packed_body = packed.read_bytes()
        return _Asset(gzip.decompress(packed_body), packed_body, content_type)
    if not node.is_file():
        return None
    body = node.read_bytes()
    gzipped = gzip.compress(body, 6, mtime=0) if suffix in (".js", ".css") and len(body) > 1024 else None
    return _Asset(body, gzipped, content_type)


def _accepts_html(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"accept":
            return b"text/html" in value
    return False


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


class ExplorerMiddleware:
    """Answers the explorer's own requests; passes every other request to `app` unchanged."""

    def __init__(self, app: ASGIApp, plan_for: PlanFor, title: str = "fedgate explorer") -> None:
        self.app = app
        self.plan_for = plan_for
        self.title = title
        self._assets: dict[str, _Asset | None] = {}
        self._page: bytes | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            method = scope["method"]
            if path == "/graphql":
                if method == "GET" and _accepts_html(scope):
                    await self._send_page(send)
                    return
            elif path == "/" and method in ("GET", "HEAD"):
                await self._send_page(send)
                return
            elif path.startswith(_PREFIX):
                await self._explorer(scope, receive, send, path, method)
                return
        await self.app(scope, receive, send)

    # --- the page and its files -------------------------------------------------------------------

    def page(self) -> bytes:
        """The HTML page (built once)."""
        if self._page is None:
            template = resources.files("gateway.explorer").joinpath("static", "index.html").read_text()
            self._page = template.replace("{{title}}", html.escape(self.title)).encode()
        return self._page

    async def _send_page(self, send: Send) -> None:
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"content-security-policy", _CSP),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"vary", b"accept"),
        ]
        await _send(send, 200, self.page(), headers)

    async def _explorer(self, scope: Scope, receive: Receive, send: Send, path: str, method: str) -> None:
        if path == _PLAN_PATH:
            if method != "POST":
                await _send_json(send, 405, {"errors": [_error("Use POST.", "METHOD_NOT_ALLOWED")]})
                return
            await self._plan(scope, receive, send)
            return
        if method not in ("GET", "HEAD"):
            await _send(send, 405, b"method not allowed\n", [(b"content-type", b"text/plain")])
            return
        name = path[len(_PREFIX) :]
        if name not in self._assets:
            self._assets[name] = _load_asset(name) if name != "index.html" else None
        asset = self._assets[name]
        if asset is None:
            await _send(send, 404, b"not found\n", [(b"content-type", b"text/plain")])
            return
        headers = [
            (b"content-type", asset.content_type),
            # Asset names carry no version: a restarted gateway may ship new ones, so revalidate daily.
            (b"cache-control", b"public, max-age=86400"),
            (b"x-content-type-options", b"nosniff"),
            (b"vary", b"accept-encoding"),
        ]
        body = asset.body
        encoding = _header(scope, b"accept-encoding") or b""
        if asset.gzipped is not None and b"gzip" in encoding:
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
        await _send(send, 200, b"" if method == "HEAD" else body, headers, length=len(body))

    # --- plan preview -----------------------------------------------------------------------------

    async def _plan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`POST /explorer/plan {query, operationName}`: the plan the page draws before a run."""
        content_type = _header(scope, b"content-type") or b""
        if not content_type.split(b";")[0].strip().lower() == b"application/json":
            # Read-only, but held to the API's rule anyway: no request a page on another origin could forge.
            await _send_json(send, 415, {"errors": [_error("Send `content-type: application/json`.", "BAD_REQUEST")]})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > _MAX_PLAN_BODY:
                await _send_json(send, 413, {"errors": [_error("Request body too large.", "BAD_REQUEST")]})
                return
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        query = payload.get("query") if isinstance(payload, dict) else None
        name = payload.get("operationName") if isinstance(payload, dict) else None
        if not isinstance(query, str) or not query.strip() or (name is not None and not isinstance(name, str)):
            reason = "Send a JSON object with a non-empty `query` (and optionally `operationName`)."
            await _send_json(send, 400, {"errors": [_error(reason, "BAD_REQUEST")]})
            return
        try:
            plan = self.plan_for(query, name or None)
        except Exception as exc:  # noqa: BLE001 - any planning failure is shown on the page, not a 500
            errors = getattr(exc, "errors", None)
            if not isinstance(errors, list):
                errors = [_error(f"Cannot plan this operation: {exc}", getattr(exc, "code", "QUERY_PLANNING_FAILED"))]
            await _send_json(send, int(getattr(exc, "status", 400) or 400), {"errors": errors})
            return
        await _send_json(send, 200, {"data": {"queryPlan": plan}})


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    await _send(send, status, orjson.dumps(body), [(b"content-type", b"application/json")])


async def _send(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], length: int | None = None
) -> None:
    headers = [*headers, (b"content-length", str(len(body) if length is None else length).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

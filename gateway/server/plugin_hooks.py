"""The server's side of the plugin hooks: the per-request PluginContext, and the two stages that wrap
the whole request (`router_request` before the body is parsed, `client_response` before it is sent).

The `operation` and `plan` hooks run in the pipeline, the subgraph hooks in `gateway.plugins.transport`.
Nothing here runs when no plugin is configured: the routes test `PluginChain.active` first.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from starlette.requests import Request

from gateway.observability.context import RequestContext
from gateway.plugins import (
    ClientResponse,
    PluginChain,
    PluginContext,
    PluginFailure,
    PluginRejection,
    RouterRequest,
    failure_body,
    rejection_body,
)
from gateway.server.pipeline import PipelineResult


def open_context(request: Request, context: RequestContext | None) -> PluginContext:
    """The PluginContext of this request, kept on its RequestContext for the later stages."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    ctx = PluginContext(
        request_id=context.request_id if context is not None else uuid.uuid4().hex,
        headers=headers,
        client_name=headers.get("apollographql-client-name"),
        client_version=headers.get("apollographql-client-version"),
    )
    if context is not None:
        context.plugin = ctx
    return ctx


def _refusal(exc: PluginRejection | PluginFailure) -> PipelineResult:
    if isinstance(exc, PluginRejection):
        return PipelineResult(exc.status, rejection_body(exc), headers=exc.headers)
    return PipelineResult(exc.status, failure_body(exc))


async def router_stage(
    chain: PluginChain, ctx: PluginContext, request: Request, context: RequestContext | None, body: bytes
) -> bytes | PipelineResult:
    """Run `router_request`: the (possibly rewritten) body, or the answer to send instead.

    Changed headers replace the request's own, so authentication, header propagation and the later
    hooks all see what the plugin left.
    """
    view = RouterRequest(request.method, request.url.path, dict(ctx.headers), body)
    try:
        await chain.router_request(ctx, view)
    except (PluginRejection, PluginFailure) as exc:
        return _refusal(exc)
    if view.headers != ctx.headers:
        headers = {k.lower(): v for k, v in view.headers.items()}
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        request.scope["headers"] = raw
        if hasattr(request, "_headers"):
            del request._headers  # Starlette rebuilds it from the scope
        if context is not None:
            context.raw_headers = raw
            context._headers = None
        ctx.headers = headers
        ctx.client_name = headers.get("apollographql-client-name")
        ctx.client_version = headers.get("apollographql-client-version")
    return view.body


async def client_stage(chain: PluginChain, ctx: PluginContext, result: PipelineResult) -> PipelineResult:
    """Run `client_response` and add the headers the plugins asked for; a failure here is masked too."""
    headers = {**(result.headers or {}), **ctx.response_headers}
    if chain.has_client_response:
        view = ClientResponse(result.status, headers, result.body)
        try:
            await chain.client_response(ctx, view)
        except (PluginRejection, PluginFailure) as exc:
            return _refusal(exc)
        return replace(result, status=view.status, body=view.body, headers=view.headers)
    return replace(result, headers=headers) if headers else result

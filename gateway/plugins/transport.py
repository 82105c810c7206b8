"""PluginTransport: the subgraph hooks, as a Transport wrapper under the instrumented transport.

It sits inside the instrumentation, so a `subgraph_request` hook sees every header the gateway is
about to send (request id, trace context, header rules) and may change them, the URL and the body.
A hook's rejection or failure becomes a TransportError: the executor then puts that error at the
paths the fetch would have filled, exactly as for a subgraph that failed, and the plan goes on.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.plugins.api import PluginContext, SubgraphRequest, SubgraphResponse
from gateway.plugins.chain import PluginChain
from gateway.plugins.errors import PLUGIN_ERROR, PluginFailure, PluginRejection
from gateway.transport import FetchRequest, Transport, TransportError
from gateway.transport import SubgraphResponse as TransportResponse


class PluginTransport:
    """Runs `subgraph_request` before and `subgraph_response` after each fetch of a plugin-bearing request."""

    def __init__(self, inner: Transport, chain: PluginChain) -> None:
        self.inner = inner
        self.chain = chain

    async def fetch(self, request: FetchRequest) -> TransportResponse:
        """Send `request` through the hooks (untouched when its client request has no plugin context)."""
        ctx: PluginContext | None = request.context.plugin if request.context is not None else None
        if ctx is None:
            return await self.inner.fetch(request)
        chain = self.chain
        try:
            if chain.has_subgraph_request:
                view = SubgraphRequest(
                    request.subgraph, request.url, dict(request.headers or {}), request.body, request.is_mutation
                )
                await chain.subgraph_request(ctx, view)
                request = replace(request, url=view.url, headers=view.headers, body=view.encoded())
            response = await self.inner.fetch(request)
            if chain.has_subgraph_response:
                headers = {"cache-control": response.cache_control} if response.cache_control else {}
                await chain.subgraph_response(ctx, SubgraphResponse(request.subgraph, response.status, headers, response.body))
            return response
        except PluginRejection as exc:
            raise TransportError(exc.message, exc.code) from exc
        except PluginFailure as exc:
            raise TransportError(PluginFailure.client_message, PLUGIN_ERROR) from exc

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

"""A plugin package for the tests: adds a subgraph header from its config and a response extension."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gateway.plugins import ClientResponse, Plugin, PluginContext, SubgraphRequest, SubgraphResponse


class SampleHeadersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: str
    value: str


class SampleHeaders(Plugin):
    """Sends `header: value` to every subgraph and reports what it saw in `extensions.sample`."""

    Config = SampleHeadersConfig
    config: SampleHeadersConfig

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        request.headers[self.config.header] = self.config.value
        ctx.data.setdefault("subgraphs", []).append(request.subgraph)

    async def subgraph_response(self, ctx: PluginContext, response: SubgraphResponse) -> None:
        ctx.data.setdefault("statuses", []).append(response.status)

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        response.body.setdefault("extensions", {})["sample"] = {
            "subgraphs": sorted(ctx.data.get("subgraphs", [])),
            "statuses": ctx.data.get("statuses", []),
        }
        response.headers["x-sample-plugin"] = "1"


class AlwaysFails(Plugin):
    """Raises in the hook named by the `x-fail-in` request header (for the failure tests)."""

    async def _maybe_fail(self, ctx: PluginContext, hook: str) -> None:
        if ctx.headers.get("x-fail-in") == hook:
            raise RuntimeError(f"boom in {hook}: secret internals")

    async def router_request(self, ctx, request):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "router_request")

    async def operation(self, ctx, operation):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "operation")

    async def plan(self, ctx, plan):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "plan")

    async def subgraph_request(self, ctx, request):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "subgraph_request")

    async def subgraph_response(self, ctx, response):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "subgraph_response")

    async def client_response(self, ctx, response):  # type: ignore[no-untyped-def]
        await self._maybe_fail(ctx, "client_response")

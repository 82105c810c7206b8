"""Tenant routing: send a subgraph's requests to another URL chosen by a request header.

A multi-tenant deployment runs one copy of a subgraph per tenant (or per region); the gateway's
supergraph names one URL, and this plugin picks the tenant's instead when the header matches.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.plugins.api import Plugin, PluginContext, SubgraphRequest
from gateway.plugins.errors import PluginRejection


class TenantRoutingConfig(BaseModel):
    """Settings of the `tenant_routing` plugin."""

    model_config = ConfigDict(extra="forbid")

    header: str = Field(default="x-tenant", description="Request header naming the tenant.")
    subgraphs: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per subgraph, tenant -> URL to use instead of the supergraph's."
    )
    refuse_unknown: bool = Field(
        default=False, description="Refuse a request whose tenant has no URL for a subgraph it needs."
    )


class TenantRouting(Plugin):
    """Per-subgraph URL override by a header's value."""

    Config = TenantRoutingConfig
    config: TenantRoutingConfig

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        tenants = self.config.subgraphs.get(request.subgraph)
        if tenants is None:
            return
        tenant = ctx.headers.get(self.config.header.lower())
        if tenant is None:
            return
        url = tenants.get(tenant)
        if url is not None:
            request.url = url
        elif self.config.refuse_unknown:
            raise PluginRejection(f"Unknown tenant for subgraph '{request.subgraph}'.", "UNKNOWN_TENANT", status=400)

"""PluginChain: runs each hook over the plugins that override it, in configuration order.

A hook's own rejection passes through; anything else it raises becomes a PluginFailure (masked for
the client, logged with its traceback, counted), so a broken plugin fails a request and never the
process. With no plugin configured `active` is False and the server skips the chain entirely.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gateway.observability.metrics import PLUGIN_CALLS, PLUGIN_ERRORS, PLUGIN_REJECTIONS
from gateway.plugins.api import (
    HOOKS,
    ClientResponse,
    OperationInfo,
    PlanView,
    Plugin,
    PluginContext,
    RouterRequest,
    SubgraphRequest,
    SubgraphResponse,
)
from gateway.plugins.errors import PluginFailure, PluginRejection

log = logging.getLogger("fedgate.plugins")


def _overrides(plugin: Plugin, hook: str) -> bool:
    return getattr(type(plugin), hook) is not getattr(Plugin, hook)


class PluginChain:
    """The configured plugins, with one tuple per hook of those that implement it."""

    def __init__(self, plugins: Sequence[Plugin] = ()) -> None:
        self.plugins = tuple(plugins)
        self._hooks: dict[str, tuple[Plugin, ...]] = {
            hook: tuple(p for p in self.plugins if _overrides(p, hook)) for hook in HOOKS
        }
        self.active = bool(self.plugins)
        # The labelled counters, looked up once (a label lookup per call would cost more than a no-op hook).
        self._calls = {(p.name, hook): PLUGIN_CALLS.labels(p.name, hook) for hook in HOOKS for p in self._hooks[hook]}
        # The per-stage switches the server and transport test before building a payload.
        self.has_router_request = bool(self._hooks["router_request"])
        self.has_operation = bool(self._hooks["operation"])
        self.has_plan = bool(self._hooks["plan"])
        self.has_subgraph_request = bool(self._hooks["subgraph_request"])
        self.has_subgraph_response = bool(self._hooks["subgraph_response"])
        self.has_client_response = bool(self._hooks["client_response"])

    async def startup(self) -> None:
        """Start every plugin in order (a failure is a PluginConfigError naming the plugin)."""
        from gateway.plugins.errors import PluginConfigError

        for plugin in self.plugins:
            try:
                await plugin.startup()
            except Exception as exc:  # noqa: BLE001 - reported with the plugin's name
                raise PluginConfigError(f"plugin {plugin.name!r} failed to start: {exc}") from exc

    async def shutdown(self) -> None:
        """Stop every plugin in reverse order; one that fails to stop does not stop the others."""
        for plugin in reversed(self.plugins):
            try:
                await plugin.shutdown()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("plugin %r failed to shut down", plugin.name)

    async def _run(self, hook: str, call: Callable[[Plugin], Awaitable[None]]) -> None:
        for plugin in self._hooks[hook]:
            self._calls[(plugin.name, hook)].inc()
            try:
                await call(plugin)
            except PluginRejection as exc:
                PLUGIN_REJECTIONS.labels(plugin.name, hook, exc.code).inc()
                raise
            except Exception as exc:  # noqa: BLE001 - a plugin bug must not reach the process
                PLUGIN_ERRORS.labels(plugin.name, hook).inc()
                log.exception("plugin %r failed in %s", plugin.name, hook)
                raise PluginFailure(plugin.name, hook) from exc

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        """Run every `router_request` hook."""
        await self._run("router_request", lambda p: p.router_request(ctx, request))

    async def operation(self, ctx: PluginContext, operation: OperationInfo) -> None:
        """Run every `operation` hook."""
        await self._run("operation", lambda p: p.operation(ctx, operation))

    async def plan(self, ctx: PluginContext, plan: PlanView) -> None:
        """Run every `plan` hook."""
        await self._run("plan", lambda p: p.plan(ctx, plan))

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        """Run every `subgraph_request` hook."""
        await self._run("subgraph_request", lambda p: p.subgraph_request(ctx, request))

    async def subgraph_response(self, ctx: PluginContext, response: SubgraphResponse) -> None:
        """Run every `subgraph_response` hook."""
        await self._run("subgraph_response", lambda p: p.subgraph_response(ctx, response))

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        """Run every `client_response` hook."""
        await self._run("client_response", lambda p: p.client_response(ctx, response))


def rejection_body(exc: PluginRejection) -> dict[str, Any]:
    """The GraphQL response a client gets for a rejection."""
    return {"errors": [{"message": exc.message, "extensions": {"code": exc.code, **exc.extensions}}]}


def failure_body(exc: PluginFailure) -> dict[str, Any]:
    """The masked GraphQL response a client gets when a plugin failed."""
    return {"errors": [{"message": PluginFailure.client_message, "extensions": {"code": exc.code}}]}

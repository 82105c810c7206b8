"""Request log: one structured log line per client response (operation, client, status, errors, time)."""

from __future__ import annotations

import logging
import time

import orjson
from pydantic import BaseModel, ConfigDict, Field

from gateway.plugins.api import ClientResponse, Plugin, PluginContext, RouterRequest


class RequestLogConfig(BaseModel):
    """Settings of the `request_log` plugin."""

    model_config = ConfigDict(extra="forbid")

    logger: str = Field(default="fedgate.requests", description="Logger the lines go to (at INFO).")
    headers: list[str] = Field(default_factory=list, description="Request headers to include in each line.")


class RequestLog(Plugin):
    """Logs one JSON line per request."""

    Config = RequestLogConfig
    config: RequestLogConfig

    def __init__(self, config: RequestLogConfig | None = None, *, name: str | None = None) -> None:  # type: ignore[override]
        super().__init__(config or RequestLogConfig(), name=name)
        self._log = logging.getLogger(self.config.logger)

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        ctx.data["request_log.start"] = time.perf_counter()

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        start = ctx.data.get("request_log.start")
        errors = response.body.get("errors") or []
        line = {
            "request_id": ctx.request_id,
            "operation": ctx.operation_name,
            "client": ctx.client_name,
            "client_version": ctx.client_version,
            "status": response.status,
            "errors": [e.get("extensions", {}).get("code") for e in errors if isinstance(e, dict)],
            "ms": round((time.perf_counter() - start) * 1000, 3) if isinstance(start, float) else None,
        }
        for name in self.config.headers:
            line[f"header.{name.lower()}"] = ctx.headers.get(name.lower())
        self._log.info(orjson.dumps(line).decode())

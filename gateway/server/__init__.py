"""Server: the Starlette app and the per-request pipeline."""

from gateway.server.app import GatewayState, create_app
from gateway.server.pipeline import Pipeline, PipelineResult

__all__ = ["GatewayState", "Pipeline", "PipelineResult", "create_app"]

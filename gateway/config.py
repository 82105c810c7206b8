"""fedgate.yaml: one typed document with defaults; every field documented where it is declared.

`docs/configuration.md` describes the same fields; keep them in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(Exception):
    """fedgate.yaml could not be read or does not match the model."""

    code = "INVALID_CONFIG"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SubgraphTrafficConfig(BaseModel):
    """How the gateway talks to one subgraph (or to all, under `traffic_shaping.all`)."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(default=30.0, gt=0, description="Seconds before a subgraph request fails.")


class TrafficShapingConfig(BaseModel):
    """Subgraph request settings: `all` applies everywhere, `subgraphs.<name>` overrides per subgraph."""

    model_config = ConfigDict(extra="forbid")

    all: SubgraphTrafficConfig = Field(default_factory=lambda: SubgraphTrafficConfig())
    subgraphs: dict[str, SubgraphTrafficConfig] = Field(default_factory=dict)
    max_connections: int = Field(default=512, gt=0, description="Size of the shared keep-alive connection pool.")
    client: Literal["httpx", "native"] = Field(
        default="httpx",
        description="HTTP client for subgraph calls: `httpx` (one shared httpx.AsyncClient) or `native` "
        "(fedgate's own asyncio HTTP/1.1 keep-alive client, far less CPU per call).",
    )

    def for_subgraph(self, name: str) -> SubgraphTrafficConfig:
        """The settings that apply to subgraph `name`."""
        return self.subgraphs.get(name, self.all)


class GatewayConfig(BaseModel):
    """The whole of fedgate.yaml."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Address `fedgate serve` listens on.")
    port: int = Field(default=4000, ge=0, le=65535, description="Port `fedgate serve` listens on.")
    expose_query_plan: bool = Field(
        default=True,
        description="Honour the `Apollo-Expose-Query-Plan: true` request header by returning the plan "
        "in `extensions.apolloQueryPlan`. Set false to ignore the header.",
    )
    plan_cache_size: int = Field(
        default=2048, gt=0, description="Distinct (operation text, operation name) pairs whose parsed, validated "
        "and planned form is kept in memory."
    )
    traffic_shaping: TrafficShapingConfig = Field(default_factory=lambda: TrafficShapingConfig())


def load_config(path: str | Path | None) -> GatewayConfig:
    """Read fedgate.yaml at `path` (None: all defaults); raise ConfigError with a one-line reason."""
    if path is None:
        return GatewayConfig()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"config {path} is not valid YAML{where}: {problem}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"config {path} must be a mapping at the top level")
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config {path}: {where}: {first['msg']}") from exc

"""fedgate.yaml: one typed document with defaults; every field documented where it is declared.

`docs/configuration.md` describes the same fields; keep them in step.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(Exception):
    """fedgate.yaml could not be read or does not match the model."""

    code = "INVALID_CONFIG"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RetryConfig(BaseModel):
    """Retries of failed subgraph requests: jittered exponential backoff, bounded by a budget."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Retry queries on connection refused/reset, timeouts, 502/503/504.")
    max_attempts: int = Field(default=9, ge=1, description="Attempts per fetch, the first included (9: up to about 4.5 s of backoff, enough to bridge a subgraph restart).")
    backoff_base: float = Field(default=0.05, gt=0, description="Seconds before the first retry (doubled each time).")
    backoff_max: float = Field(default=1.0, gt=0, description="Cap on one backoff (half fixed, half jitter).")
    retry_mutations: bool = Field(default=False, description="Also retry mutations (only for idempotent subgraphs).")
    budget_ratio: float = Field(default=0.2, ge=0, description="Retries allowed per request sent, over `budget_window`.")
    budget_min_per_second: float = Field(default=10.0, ge=0, description="Retries always allowed per second.")
    budget_window: float = Field(default=10.0, gt=0, description="Seconds the retry budget remembers.")


class CircuitBreakerConfig(BaseModel):
    """Per-subgraph circuit breaker: closed -> open (fail fast) -> half-open (probe) -> closed."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Use a circuit breaker for this subgraph.")
    failure_threshold: int = Field(default=5, ge=1, description="Consecutive failed fetches that open the circuit.")
    error_rate: float = Field(default=0.5, gt=0, le=1, description="Failure ratio over `window` that opens it.")
    min_requests: int = Field(default=20, ge=1, description="Fetches in `window` before `error_rate` applies.")
    window: float = Field(default=10.0, gt=0, description="Seconds of history for `error_rate`.")
    open_duration: float = Field(default=1.0, gt=0, description="Seconds an open circuit fails fast before probing.")
    half_open_probes: int = Field(default=1, ge=1, description="Concurrent probe fetches while half-open.")


class SubgraphTrafficConfig(BaseModel):
    """How the gateway talks to one subgraph (or to all, under `traffic_shaping.all`)."""

    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(default=30.0, gt=0, description="Seconds before a subgraph fetch fails, retries included.")
    connect_timeout: float = Field(default=2.0, gt=0, description="Seconds to open one connection.")
    read_timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for response bytes.")
    max_response_bytes: int = Field(
        default=32_000_000, gt=0,
        description="Largest subgraph answer read; a larger one is refused as soon as it is seen (declared "
        "Content-Length, or bytes received), without reading the rest.",
    )
    deduplicate_query: bool = Field(default=True, description="Identical concurrent query fetches share one call.")
    compression: bool = Field(
        default=False,
        description="Ask this subgraph for compressed responses (Accept-Encoding: br, gzip); worth it when "
        "the subgraph is across a slow network, not on loopback.",
    )
    retry: RetryConfig = Field(default_factory=lambda: RetryConfig())
    circuit_breaker: CircuitBreakerConfig = Field(default_factory=lambda: CircuitBreakerConfig())


class TrafficShapingConfig(BaseModel):
    """Subgraph request settings: `all` applies everywhere, `subgraphs.<name>` overrides per subgraph."""

    model_config = ConfigDict(extra="forbid")

    all: SubgraphTrafficConfig = Field(default_factory=lambda: SubgraphTrafficConfig())
    subgraphs: dict[str, SubgraphTrafficConfig] = Field(default_factory=dict)
    max_connections: int = Field(default=512, gt=0, description="Size of the shared keep-alive connection pool.")
    deduplicate_requests: bool = Field(
        default=False,
        description="Identical concurrent client queries (same text, operation name, variables and client "
        "headers) share one execution and one answer. Off when JWT authentication is configured.",
    )
    client: Literal["httpx", "native"] = Field(
        default="native",
        description="HTTP client for subgraph calls: `native` (fedgate's own asyncio HTTP/1.1 keep-alive "
        "client; bench/ measured it far cheaper per call, and httpx's pool slows down sharply with "
        "hundreds of concurrent fetches) or `httpx` (one shared httpx.AsyncClient; needed for `http2`).",
    )

    max_keepalive_connections: int = Field(default=512, ge=0, description="Idle connections kept open.")
    keepalive_expiry: float = Field(default=5.0, gt=0, description="Seconds an idle connection is kept.")
    http2: bool = Field(default=False, description="Speak HTTP/2 to subgraphs (httpx client; needs `h2`).")
    dedup_ignore_headers: list[str] = Field(
        default_factory=lambda: ["x-request-id", "traceparent", "tracestate", "baggage", "b3"],
        description="Headers that do not change a subgraph's answer: fetches differing only in them are shared.",
    )

    def for_subgraph(self, name: str) -> SubgraphTrafficConfig:
        """The settings that apply to subgraph `name`: `all`, with the keys `subgraphs.<name>` sets."""
        override = self.subgraphs.get(name)
        if override is None:
            return self.all
        return SubgraphTrafficConfig.model_validate(
            _overlay(self.all.model_dump(), override.model_dump(exclude_unset=True))
        )


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        out[key] = _overlay(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class LifecycleConfig(BaseModel):
    """Supergraph hot reload and graceful shutdown of `fedgate serve`."""

    model_config = ConfigDict(extra="forbid")

    watch_interval: float = Field(default=1.0, gt=0, description="Seconds between checks of `--supergraph PATH`.")
    file_notifications: bool = Field(
        default=True,
        description="Also react to file-system notifications (watchfiles) on `--supergraph PATH`'s folder; "
        "polling every `watch_interval` stays as the fallback.",
    )
    poll_interval: float = Field(default=10.0, gt=0, description="Seconds between polls of `--supergraph-url`.")
    shutdown_delay: float = Field(default=5.0, ge=0, description="Seconds after SIGTERM before the listener closes.")
    drain_timeout: float = Field(default=30.0, ge=0, description="Seconds in-flight requests get after that.")


class RedisCacheConfig(BaseModel):
    """Where the shared cache lives when `cache.backend` is `redis`."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="redis://127.0.0.1:6379/0", description="`redis://` URL of the shared cache.")
    timeout: float = Field(
        default=0.05, gt=0, description="Seconds one Redis operation may take before the request goes on without it."
    )
    pool_size: int = Field(default=64, gt=0, description="Connections in the Redis pool.")
    key_prefix: str = Field(default="fedgate:", description="Prefix of every key fedgate writes.")
    retry_after: float = Field(
        default=1.0, gt=0, description="Seconds the cache is bypassed after a Redis failure before it is tried again."
    )


class PlanCacheConfig(BaseModel):
    """The query plan cache (in memory; optional second level in Redis)."""

    model_config = ConfigDict(extra="forbid")

    redis: bool = Field(
        default=True, description="With `cache.backend: redis`, also keep plans in Redis so a new replica starts warm."
    )
    ttl: float = Field(default=86400.0, gt=0, description="Seconds a plan stays in Redis.")
    warm_top_n: int = Field(
        default=100, ge=0, description="Most used operations re-planned before a reloaded supergraph takes traffic."
    )


class SafelistConfig(BaseModel):
    """Only operations from an Apollo persisted-query manifest are accepted."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Refuse every operation that is not in `manifest`.")
    manifest: str | None = Field(default=None, description="Path of an Apollo persisted-query manifest JSON file.")

    @model_validator(mode="after")
    def _manifest_readable(self) -> SafelistConfig:
        if self.enabled and (self.manifest is None or not Path(self.manifest).is_file()):
            raise ValueError(f"safelisting needs a readable `manifest` file (got {self.manifest!r})")
        return self


class ApqConfig(BaseModel):
    """Automatic persisted queries (Apollo's protocol)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Accept `extensions.persistedQuery` on GET and POST.")
    ttl: float = Field(default=86400.0, gt=0, description="Seconds a registered query is kept.")
    safelist: SafelistConfig = Field(default_factory=lambda: SafelistConfig())


class EntityTtlConfig(BaseModel):
    """Entity cache settings for one subgraph or one type."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Cache this subgraph's (or type's) results.")
    ttl: float | None = Field(default=None, gt=0, description="Seconds an entry lives (None: inherit).")
    private: bool = Field(
        default=False, description="Treat the data as private: keyed by `private_id_header`, never shared."
    )


class EntityCacheConfig(BaseModel):
    """The entity and root-field cache: results of subgraph fetches."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Cache subgraph fetch results (off by default).")
    ttl: float = Field(default=60.0, gt=0, description="Seconds an entry lives unless a subgraph or type says less.")
    subgraphs: dict[str, EntityTtlConfig] = Field(default_factory=dict)
    types: dict[str, EntityTtlConfig] = Field(default_factory=dict)
    vary_headers: list[str] = Field(
        default_factory=list, description="Request headers whose values are part of every cache key."
    )
    private_id_header: str | None = Field(
        default=None,
        description="Request header that identifies the user for `private` data; without it private data is not cached.",
    )
    stale_if_error: float = Field(
        default=0.0,
        ge=0,
        description="Seconds past its TTL an entry may still answer when its subgraph is unavailable; 0: never.",
    )


class InvalidationConfig(BaseModel):
    """`POST /invalidation`."""

    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(
        default=None, description="Shared secret expected in the `Authorization` header; None disables the route."
    )
    secret_file: str | None = Field(
        default=None,
        description="File holding the secret instead (read once at start, surrounding whitespace dropped), so it "
        "can live in a Kubernetes Secret or a Docker secret rather than in fedgate.yaml.",
    )

    @model_validator(mode="after")
    def _read_secret_file(self) -> InvalidationConfig:
        if self.secret_file is None:
            return self
        if self.secret is not None:
            raise ValueError("give one of `secret` and `secret_file`")
        try:
            secret = Path(self.secret_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read secret_file {self.secret_file}: {exc}") from exc
        if not secret:
            raise ValueError(f"secret_file {self.secret_file} is empty")
        self.secret = secret
        return self


class CacheConfig(BaseModel):
    """Caches: plans, persisted queries, entities; memory by default, Redis when replicas share work."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["memory", "redis"] = Field(default="memory", description="Where APQ and entity entries live.")
    memory_entries: int = Field(default=100_000, gt=0, description="Entries the in-memory backend holds (LRU).")
    redis: RedisCacheConfig = Field(default_factory=lambda: RedisCacheConfig())
    plans: PlanCacheConfig = Field(default_factory=lambda: PlanCacheConfig())
    apq: ApqConfig = Field(default_factory=lambda: ApqConfig())
    entities: EntityCacheConfig = Field(default_factory=lambda: EntityCacheConfig())
    invalidation: InvalidationConfig = Field(default_factory=lambda: InvalidationConfig())


class LimitsConfig(BaseModel):
    """Request limits, checked before any subgraph is called; `null` turns one off."""

    model_config = ConfigDict(extra="forbid")

    max_body_bytes: int = Field(default=2_000_000, gt=0, description="Largest POST body accepted (413 above).")
    body_read_timeout: float = Field(default=10.0, gt=0, description="Seconds a client gets to send its body (408).")
    drain_max_bytes: int = Field(
        default=16_000_000, ge=0,
        description="Refused body (413, 415, CSRF, 405): bytes read and discarded before answering (lingering close).",
    )
    drain_timeout: float = Field(
        default=3.0, ge=0, description="Seconds spent draining a refused body before answering and closing.",
    )
    max_tokens: int | None = Field(default=15_000, gt=0, description="GraphQL tokens in one document.")
    max_depth: int | None = Field(default=64, gt=0, description="Field nesting depth, through fragments.")
    max_aliases: int | None = Field(default=256, ge=0, description="Aliased fields in one document.")
    max_root_fields: int | None = Field(default=64, gt=0, description="Root fields of one operation.")
    max_cost: int | None = Field(default=None, gt=0, description="Ceiling on the estimated cost (demand control).")
    list_size: int = Field(default=10, gt=0, description="Items a list field is assumed to return when estimating cost.")


class CorsConfig(BaseModel):
    """Cross-origin access from browsers: only the listed origins get CORS headers."""

    model_config = ConfigDict(extra="forbid")

    allow_origins: list[str] = Field(default_factory=list, description="Origins allowed (`*` for any).")
    allow_credentials: bool = Field(default=False, description="Send `Access-Control-Allow-Credentials: true`.")
    allow_headers: list[str] = Field(
        default_factory=lambda: ["content-type", "authorization", "apollo-require-preflight", "x-apollo-operation-name"],
        description="Request headers a browser may send.",
    )
    max_age: int = Field(default=600, ge=0, description="Seconds a browser may cache a preflight answer.")


class SecurityConfig(BaseModel):
    """Introspection, CSRF prevention, CORS and what clients see of subgraph errors."""

    model_config = ConfigDict(extra="forbid")

    introspection: bool = Field(default=True, description="Answer `__schema`/`__type`; `__typename` always works.")
    csrf_prevention: bool = Field(default=True, description="Refuse simple (non-preflighted) requests.")
    cors: CorsConfig = Field(default_factory=lambda: CorsConfig())
    mask_subgraph_errors: bool = Field(
        default=False, description="Replace subgraph error messages with `Subgraph errors redacted`."
    )


class HeaderRule(BaseModel):
    """One rule: `propagate` a named client header, `matching` propagates by regex, `insert` a fixed value."""

    model_config = ConfigDict(extra="forbid")

    propagate: str | None = Field(default=None, description="Client header to forward.")
    matching: str | None = Field(default=None, description="Regex; forward every client header it matches.")
    rename: str | None = Field(default=None, description="Name to forward a `propagate`d header under.")
    default: str | None = Field(default=None, description="Value when the client sent no such header.")
    insert: str | None = Field(default=None, description="Header to set on every subgraph request.")
    value: str | None = Field(default=None, description="Value for `insert`.")
    from_claim: str | None = Field(default=None, description="For `insert`: take the value from this JWT claim.")

    @model_validator(mode="after")
    def _one_kind(self) -> HeaderRule:
        kinds = [k for k in ("propagate", "matching", "insert") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a header rule needs exactly one of `propagate`, `matching`, `insert`")
        if self.insert is not None and (self.value is None) == (self.from_claim is None):
            raise ValueError(f"header rule `insert: {self.insert}` needs one of `value`, `from_claim`")
        if self.matching is not None:
            try:
                re.compile(self.matching)
            except re.error as exc:
                raise ValueError(f"`matching: {self.matching}` is not a regex: {exc}") from exc
        return self


class HeadersConfig(BaseModel):
    """Which client headers reach which subgraphs; none by default (request id and trace context always)."""

    model_config = ConfigDict(extra="forbid")

    all: list[HeaderRule] = Field(default_factory=list, description="Rules for every subgraph.")
    subgraphs: dict[str, list[HeaderRule]] = Field(default_factory=dict, description="Extra rules per subgraph.")


class JwksSource(BaseModel):
    """Where signing keys come from: a JWKS `file` or `url`."""

    model_config = ConfigDict(extra="forbid")

    file: str | None = Field(default=None, description="Path of a JWKS JSON file.")
    url: str | None = Field(default=None, description="URL of a JWKS document, fetched at startup and refreshed.")
    poll_interval: float = Field(default=60.0, gt=0, description="Seconds between refreshes of `url`.")

    @model_validator(mode="after")
    def _one_source(self) -> JwksSource:
        if (self.file is None) == (self.url is None):
            raise ValueError("a JWKS source needs exactly one of `file`, `url`")
        if self.file is not None:  # fail at startup, in one line, rather than on the first request
            import json

            try:
                keys = json.loads(Path(self.file).read_text()).get("keys")
            except (OSError, ValueError, AttributeError) as exc:
                raise ValueError(f"cannot read JWKS file {self.file}: {exc}") from exc
            if not isinstance(keys, list):
                raise ValueError(f"JWKS file {self.file} has no `keys` list")
        return self


class AuthConfig(BaseModel):
    """JWT authentication and `@authenticated`/`@requiresScopes` enforcement."""

    model_config = ConfigDict(extra="forbid")

    jwks: list[JwksSource] = Field(default_factory=list, description="Key sources; empty: no JWT authentication.")
    header_name: str = Field(default="authorization", description="Header carrying the token.")
    header_prefix: str = Field(default="Bearer", description="Scheme before the token (empty: none).")
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "HS256"], description="Accepted `alg`s.")
    issuer: str | None = Field(default=None, description="Required `iss` claim.")
    audience: str | None = Field(default=None, description="Required `aud` claim.")
    leeway: float = Field(default=0.0, ge=0, description="Seconds of clock skew allowed for `exp`/`nbf`.")
    require_authentication: bool = Field(default=False, description="Refuse requests without a valid token (401).")
    directives: bool = Field(default=True, description="Enforce `@authenticated` and `@requiresScopes`.")


class LoggingConfig(BaseModel):
    """Log lines of `fedgate serve`."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["text", "json"] = Field(default="text", description="`text` for people, `json` lines for machines.")
    level: str = Field(default="INFO", description="Python log level.")
    access_log: bool = Field(default=False, description="One line per request (operation, status, duration).")


class TracingConfig(BaseModel):
    """OpenTelemetry spans: one per request, per plan node and per subgraph fetch."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=False, description="Record spans.")
    service_name: str = Field(default="fedgate", description="`service.name` resource attribute.")
    otlp_endpoint: str | None = Field(default=None, description="OTLP/HTTP traces URL (needs `fedgate[otlp]`).")
    file: str | None = Field(default=None, description="Also write finished spans as JSON lines to this file.")
    sample_ratio: float = Field(default=1.0, ge=0, le=1, description="Share of new traces recorded.")


class UsageReportingConfig(BaseModel):
    """Operation and field usage sent to a schema registry (`fedgate registry`), for usage-aware checks."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = Field(
        default=None, description="Usage URL, e.g. http://registry:4100/graphs/shop/variants/prod/usage (None: off)."
    )
    token: str | None = Field(
        default=None, description="Registry read token (default: env FEDGATE_USAGE_REPORTING_TOKEN)."
    )
    interval: float = Field(default=5.0, gt=0, description="Seconds between reports.")
    timeout: float = Field(default=5.0, gt=0, description="Seconds one send may take.")
    max_queued_reports: int = Field(
        default=60, ge=1, description="Reports kept while the endpoint is unreachable; the oldest is dropped beyond."
    )
    client_name_header: str = Field(default="apollographql-client-name", description="Header naming the client.")
    client_version_header: str = Field(
        default="apollographql-client-version", description="Header giving the client's version."
    )


class TelemetryConfig(BaseModel):
    """Metrics, traces and logs."""

    model_config = ConfigDict(extra="forbid")

    metrics: bool = Field(default=True, description="Serve Prometheus metrics at `GET /metrics`.")
    request_id_header: str = Field(default="x-request-id", description="Header carrying the request id both ways.")
    logging: LoggingConfig = Field(default_factory=lambda: LoggingConfig())
    tracing: TracingConfig = Field(default_factory=lambda: TracingConfig())


class SubgraphSubscriptionConfig(BaseModel):
    """How the gateway opens a subscription stream to one subgraph."""

    model_config = ConfigDict(extra="forbid")

    protocol: Literal["ws", "sse"] = Field(
        default="ws", description="`ws`: graphql-transport-ws over a WebSocket; `sse`: GraphQL over SSE (POST)."
    )
    url: str | None = Field(
        default=None, description="Stream URL (None: the subgraph's routing URL, `http` becoming `ws` for `ws`)."
    )


class BatchingConfig(BaseModel):
    """Several operations in one POST (a JSON array, as Apollo Client's BatchHttpLink sends)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=False,
        description="Accept a JSON array of operations in one POST, run them concurrently and answer an "
        "array in the same order. Off by default, as in Apollo Router.",
    )
    max_size: int = Field(default=32, ge=1, description="Most operations in one batch; a larger batch is a 400.")


class CompressionConfig(BaseModel):
    """Compression of responses to clients (by their `Accept-Encoding`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=True,
        description="Compress /graphql responses with brotli or gzip when the client's Accept-Encoding "
        "allows it (brotli preferred at equal quality). On by default: at the default levels the "
        "benchmark's 87 KB answer shrinks 58x (br) for about 2% more CPU per request (docs/benchmark.md).",
    )
    min_size: int = Field(default=1024, ge=0, description="Bytes below which a response is sent as is.")
    gzip_level: int = Field(default=1, ge=1, le=9, description="gzip level (zlib; 9 smallest, slowest).")
    brotli_quality: int = Field(default=1, ge=0, le=11, description="brotli quality (11 smallest, slowest).")


class SubscriptionsConfig(BaseModel):
    """Subscriptions on `/graphql`: graphql-transport-ws and SSE to clients, streams to subgraphs."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Accept subscriptions (WebSocket and SSE).")
    max_per_connection: int = Field(default=100, gt=0, description="Active subscriptions on one WebSocket.")
    max_total: int = Field(default=10_000, gt=0, description="Active subscriptions in this process.")
    init_timeout: float = Field(default=10.0, gt=0, description="Seconds a WebSocket gets to send `connection_init` (4408).")
    heartbeat_interval: float = Field(
        default=15.0, gt=0, description="Seconds between pings to clients (WebSocket `ping`, SSE comment) and subgraphs."
    )
    heartbeat_timeout: float = Field(
        default=30.0, gt=0, description="Seconds without a message from a pinged peer before its socket is closed."
    )
    idle_timeout: float | None = Field(
        default=None, gt=0, description="Seconds a WebSocket with no active subscription stays open (None: forever)."
    )
    deduplicate: bool = Field(
        default=True, description="Identical subgraph subscriptions (document, variables, headers) share one stream."
    )
    all: SubgraphSubscriptionConfig = Field(default_factory=lambda: SubgraphSubscriptionConfig())
    subgraphs: dict[str, SubgraphSubscriptionConfig] = Field(default_factory=dict)

    def for_subgraph(self, name: str) -> SubgraphSubscriptionConfig:
        """The settings for subgraph `name` (its own entry, else `all`)."""
        return self.subgraphs.get(name, self.all)


class ExplorerConfig(BaseModel):
    """The explorer page (GraphiQL with the query plan drawn) at `/` and on browser GETs of `/graphql`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        default=False,
        description="Serve the explorer (on in `make run` and `fedgate dev`, off by default in `fedgate serve`).",
    )
    trace: bool = Field(
        default=True,
        description="While enabled, honour the `fedgate-expose-trace: true` request header by returning each "
        "fetch's time and status in `extensions.fedgateTrace`.",
    )


class PluginEntry(BaseModel):
    """One plugin to load: by entry point name (group `fedgate.plugins`) or `module:Class`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="An entry point in the `fedgate.plugins` group (the built-ins: `rate_limit`, "
                      "`tenant_routing`, `request_log`, `coprocessor`) or `package.module:Class`.")
    config: dict[str, Any] = Field(
        default_factory=dict, description="The plugin's own settings, validated by the plugin's `Config` model."
    )


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
    override_labels: list[str] = Field(
        default_factory=list,
        description="Progressive `@override(label:)` labels switched on for every request; `percent(x)` "
        "labels are drawn per request instead.",
    )
    traffic_shaping: TrafficShapingConfig = Field(default_factory=lambda: TrafficShapingConfig())
    limits: LimitsConfig = Field(default_factory=lambda: LimitsConfig())
    security: SecurityConfig = Field(default_factory=lambda: SecurityConfig())
    headers: HeadersConfig = Field(default_factory=lambda: HeadersConfig())
    auth: AuthConfig = Field(default_factory=lambda: AuthConfig())
    telemetry: TelemetryConfig = Field(default_factory=lambda: TelemetryConfig())
    cache: CacheConfig = Field(default_factory=lambda: CacheConfig())
    lifecycle: LifecycleConfig = Field(default_factory=lambda: LifecycleConfig())
    subscriptions: SubscriptionsConfig = Field(default_factory=lambda: SubscriptionsConfig())
    explorer: ExplorerConfig = Field(default_factory=lambda: ExplorerConfig())
    batching: BatchingConfig = Field(default_factory=lambda: BatchingConfig())
    compression: CompressionConfig = Field(default_factory=lambda: CompressionConfig())
    usage_reporting: UsageReportingConfig = Field(default_factory=lambda: UsageReportingConfig())
    plugins: list[PluginEntry] = Field(
        default_factory=list, description="Plugins, run in this order at every hook (see docs/plugins.md)."
    )


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

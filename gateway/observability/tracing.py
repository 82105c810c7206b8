"""OpenTelemetry tracing: a span per request, per plan node and per subgraph fetch; W3C trace context.

Off by default. When off nothing here runs per request: the client's own `traceparent` is passed
to subgraphs unchanged by the transport wrapper.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.config import TracingConfig

_PROPAGATOR = TraceContextTextMapPropagator()


class _JsonLinesExporter(SpanExporter):
    """Writes each finished span as one JSON line (for debugging and tests)."""

    def __init__(self, path: str) -> None:
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in shutdown()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            self._file.write(span.to_json(indent=None) + "\n")
        self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self._file.close()


class Tracing:
    """A tracer provider of our own (the global one is left alone) and the span helpers we use."""

    def __init__(self, config: TracingConfig) -> None:
        sampler = ParentBased(TraceIdRatioBased(config.sample_ratio))
        # shutdown_on_exit (the default) flushes batched spans when `fedgate serve` exits after SIGTERM.
        self.provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}), sampler=sampler)
        if config.file:
            self.provider.add_span_processor(SimpleSpanProcessor(_JsonLinesExporter(config.file)))
        if config.otlp_endpoint:
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError as exc:  # pragma: no cover - depends on the optional extra
                raise RuntimeError(
                    "telemetry.tracing.otlp_endpoint needs the OTLP exporter: pip install 'fedgate[otlp]'"
                ) from exc
            self.provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=config.otlp_endpoint)))
        self.tracer = self.provider.get_tracer("fedgate")

    def start_request(self, headers: Mapping[str, str]) -> tuple[Any, object]:
        """Open the request span (child of the client's `traceparent`, if any); returns (span, token)."""
        parent = _PROPAGATOR.extract(headers)
        span = self.tracer.start_span("graphql.request", context=parent, kind=trace.SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return span, token

    @staticmethod
    def end_request(span: Any, token: object, status: int, operation: str) -> None:
        span.set_attribute("http.response.status_code", status)
        if operation:
            span.set_attribute("graphql.operation.name", operation)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        otel_context.detach(token)  # type: ignore[arg-type]
        span.end()

    @contextlib.contextmanager
    def plan_node(self, node: Any) -> Iterator[None]:
        """A span around one plan node (Fetch, Flatten, Sequence, Parallel, Condition)."""
        kind = type(node).__name__.removesuffix("Node")
        with self.tracer.start_as_current_span(f"plan.{kind.lower()}") as span:
            service = getattr(node, "service_name", None)
            if service:
                span.set_attribute("fedgate.subgraph", service)
            path = getattr(node, "path", None)
            if path:
                span.set_attribute("fedgate.path", ".".join(str(p) for p in path))
            yield

    @contextlib.contextmanager
    def fetch(self, subgraph: str, url: str, headers: dict[str, str]) -> Iterator[Any]:
        """A client span for one subgraph request; injects `traceparent` into `headers`."""
        with self.tracer.start_as_current_span(f"fetch {subgraph}", kind=trace.SpanKind.CLIENT) as span:
            span.set_attribute("fedgate.subgraph", subgraph)
            span.set_attribute("url.full", url)
            _PROPAGATOR.inject(headers)
            yield span

    def shutdown(self) -> None:
        self.provider.shutdown()

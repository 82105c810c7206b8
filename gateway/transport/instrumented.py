"""A Transport wrapper: per-fetch metrics, a span per fetch, and the headers each subgraph receives
(request id, trace context, header rules)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from gateway.observability import metrics
from gateway.observability.context import RequestContext
from gateway.observability.tracing import Tracing
from gateway.transport.client import FetchRequest, SubgraphResponse, Transport


class InstrumentedTransport:
    """Wraps the real transport; everything the gateway observes about one subgraph fetch happens here."""

    def __init__(
        self,
        inner: Transport,
        request_id_header: str,
        rules: Any = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.inner = inner
        self.request_id_header = request_id_header
        self.rules = rules if rules is not None and not rules.empty else None
        self.tracing = tracing
        self._series: dict[tuple[str, str], list[Any]] = {}

    def _outbound(self, info: RequestContext, name: str) -> dict[str, str]:
        headers = info.outbound.get(name)
        if headers is None:
            headers = {self.request_id_header: info.request_id}
            if self.tracing is None and info.traceparent is not None:
                headers["traceparent"] = info.traceparent
                if info.tracestate is not None:
                    headers["tracestate"] = info.tracestate
            if self.rules is not None:
                headers.update(self.rules.for_subgraph(name, info.client_headers, info.claims))
            info.outbound[name] = headers
        return headers

    def _record(self, name: str, outcome: str, seconds: float) -> None:
        key = (name, outcome)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = metrics.SUBGRAPH_FETCHES.series(name, outcome)
        metrics.SUBGRAPH_FETCHES.observe(series, seconds)

    async def fetch(self, request: FetchRequest) -> SubgraphResponse:
        """Send through the wrapped transport, adding the request's headers and recording the outcome."""
        subgraph_name = request.subgraph
        context = request.context
        if context is not None:
            built = self._outbound(context, subgraph_name)
            request = replace(request, headers={**built, **request.headers} if request.headers else built)
        start = time.perf_counter()
        outcome = "failure"
        try:
            if self.tracing is not None:
                traced = dict(request.headers or {})
                with self.tracing.fetch(subgraph_name, request.url, traced) as span:
                    response = await self.inner.fetch(replace(request, headers=traced))
                    span.set_attribute("http.response.status_code", response.status)
            else:
                response = await self.inner.fetch(request)
            if response.status < 400:
                payload = response.body
                outcome = "error" if type(payload) is dict and payload.get("errors") else "success"
            return response
        finally:
            self._record(subgraph_name, outcome, time.perf_counter() - start)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()

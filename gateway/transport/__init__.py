"""Transport: how the executor reaches subgraphs."""

from gateway.config import TrafficShapingConfig
from gateway.transport.breaker import CircuitBreaker, CircuitState
from gateway.transport.client import FetchRequest, SubgraphClient, SubgraphResponse, Transport, TransportError
from gateway.transport.native import NativeClient
from gateway.transport.resilient import ResilientTransport


def make_transport(traffic: TrafficShapingConfig | None = None) -> ResilientTransport:
    """The client `traffic_shaping.client` selects, wrapped in retries, circuit breakers and dedup."""
    traffic = traffic or TrafficShapingConfig()
    # HTTP/2 is httpx's: asking for it picks httpx whatever the client setting says.
    native = traffic.client == "native" and not traffic.http2
    base: Transport = NativeClient(traffic) if native else SubgraphClient(traffic)
    return ResilientTransport(base, traffic)


__all__ = [
    "CircuitBreaker",
    "CircuitState",
    "FetchRequest",
    "NativeClient",
    "ResilientTransport",
    "SubgraphClient",
    "SubgraphResponse",
    "Transport",
    "TransportError",
    "make_transport",
]

"""Transport: how the executor reaches subgraphs."""

from gateway.config import TrafficShapingConfig
from gateway.transport.client import SubgraphClient, SubgraphResponse, Transport, TransportError
from gateway.transport.native import NativeClient


def make_transport(traffic: TrafficShapingConfig | None = None) -> SubgraphClient | NativeClient:
    """The transport `traffic_shaping.client` selects."""
    traffic = traffic or TrafficShapingConfig()
    if traffic.client == "native":
        return NativeClient(traffic)
    return SubgraphClient(traffic)


__all__ = ["NativeClient", "SubgraphClient", "SubgraphResponse", "Transport", "TransportError", "make_transport"]

"""Transport: how the executor reaches subgraphs."""

from gateway.transport.client import SubgraphClient, SubgraphResponse, Transport, TransportError

__all__ = ["SubgraphClient", "SubgraphResponse", "Transport", "TransportError"]

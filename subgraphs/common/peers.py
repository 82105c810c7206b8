"""Reading an order from the orders subgraph, over the same `_entities` call a gateway makes.

payments and delivery need an order's total, status, city and restaurant to validate
their mutations; they ask the orders subgraph rather than keep a copy that could go stale.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from subgraphs.common.errors import NOT_FOUND, SERVICE_UNAVAILABLE, SubgraphError

DEFAULT_ORDERS_URL = "http://127.0.0.1:4001/graphql"

_ORDER_QUERY = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Order {
      id
      status
      total { cents currency }
      deliveryAddress { city }
      restaurant { slug city name }
    }
  }
}
"""


class OrdersPeer:
    """A small client of the orders subgraph (env ORDERS_URL)."""

    def __init__(self, url: str | None = None, *, timeout: float = 5.0) -> None:
        self.url = url or os.environ.get("ORDERS_URL", DEFAULT_ORDERS_URL)
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def order(self, order_id: str) -> dict[str, Any] | None:
        """The order with this id, or None when the orders subgraph does not know it."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        payload = {
            "query": _ORDER_QUERY,
            "variables": {"representations": [{"__typename": "Order", "id": order_id}]},
        }
        try:
            response = await self._client.post(self.url, json=payload)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SubgraphError(SERVICE_UNAVAILABLE, f"the orders subgraph did not answer: {exc}") from exc
        if body.get("errors"):
            # The orders subgraph reports ids that cannot exist as errors; anything else is an outage.
            codes = {(e.get("extensions") or {}).get("code") for e in body["errors"]}
            if codes == {"NOT_FOUND"}:
                return None
            raise SubgraphError(
                SERVICE_UNAVAILABLE, f"the orders subgraph failed: {body['errors'][0]['message']}"
            )
        entities = (body.get("data") or {}).get("_entities") or [None]
        entity = entities[0]
        return entity if isinstance(entity, dict) else None

    async def existing_order(self, order_id: str) -> dict[str, Any]:
        """The order with this id; a NOT_FOUND GraphQL error when the orders subgraph does not know it."""
        found = await self.order(order_id)
        if found is None:
            raise SubgraphError(NOT_FOUND, f"order {order_id} does not exist")
        return found

    async def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

"""Smoke test: schema/supergraph.graphql served by `fedgate serve` over the three real subgraphs.

One operation crosses every subgraph and leans on the federation features docs/schema.md lists:
@requires (refundDue, estimatedDeliveryMinutes), @override (isPaid), the compound key
(Restaurant.averagePrepMinutes), @provides (Delivery.pickup.name) and @inaccessible.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

QUERY = """
{
  order(id: "1") {
    id status isPaid refundDue estimatedDeliveryMinutes
    total { cents currency }
    restaurant { name averagePrepMinutes }
    payment { details { __typename ... on CardDetails { last4 } } }
    delivery { status agent { name } pickup { name averagePrepMinutes } }
  }
  cancelled: order(id: "3") { status isPaid refundDue }
}
"""


@pytest.fixture
def gateway(subgraphs, tmp_path, free_port, start_service):
    supergraph = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        supergraph = supergraph.replace(f"http://127.0.0.1:{default_port}/", f"{subgraphs[name].base_url}/")
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph)
    port = free_port()
    fedgate = str(Path(sys.executable).parent / "fedgate")
    return start_service("gateway", [fedgate, "serve", "--supergraph", str(path), "--port", str(port)], port)


def test_one_query_across_all_three_subgraphs(gateway):
    body = gateway.query(QUERY)

    assert body == {
        "data": {
            "order": {
                "id": "1",
                "status": "APPROVED",
                "isPaid": True,
                "refundDue": False,
                "estimatedDeliveryMinutes": 0,
                "total": {"cents": 2250, "currency": "EUR"},
                "restaurant": {"name": "Pizzeria Napoli", "averagePrepMinutes": 15},
                "payment": {"details": {"__typename": "CardDetails", "last4": "4242"}},
                "delivery": {
                    "status": "DELIVERED",
                    "agent": {"name": "Kai Becker"},
                    "pickup": {"name": "Pizzeria Napoli", "averagePrepMinutes": 15},
                },
            },
            "cancelled": {"status": "CANCELLED", "isPaid": True, "refundDue": True},
        }
    }


def test_inaccessible_fields_are_not_in_the_api(gateway):
    body = gateway.query('{ customer(id: "1") { name email } }')

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

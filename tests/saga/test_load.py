"""500 orders placed at once through the gateway: all settle, and the money adds up."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from tests.saga.conftest import PLACE, wait_for

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 500
CONCURRENCY = 50
DECLINED_CARD = "4000000000000002"


def order_input(i: int) -> dict:
    # A mix: most go through, every 10th card is declined, every 10th address has no agents.
    city = "Springfield" if i % 10 == 3 else ("Hamburg" if i % 2 else "Berlin")
    return {
        "customerId": str(1 + i % 3),
        "restaurantId": "1",
        "items": [{"menuItemId": str(1 + i % 3), "quantity": 1 + i % 4}],
        "deliveryAddress": {"street": f"Street {i}", "city": city, "postalCode": "10000"},
        "payment": {"method": "CARD", "cardNumber": DECLINED_CARD if i % 10 == 7 else "4242424242424242"},
    }


async def place_all(url: str) -> list[str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=60) as client:

        async def place(i: int) -> str:
            async with limit:
                response = await client.post(url, json={"query": PLACE, "variables": {"input": order_input(i)}})
            body = response.json()
            assert "errors" not in body, body
            return str(body["data"]["placeOrder"]["id"])

        return await asyncio.gather(*(place(i) for i in range(ORDERS)))


def test_500_concurrent_orders_through_the_gateway_settle_and_add_up(shared_stack, tmp_path, free_port, start_service):
    stack = shared_stack
    supergraph = (ROOT / "schema" / "supergraph.graphql").read_text()
    for name, default_port in (("orders", 4001), ("payments", 4002), ("delivery", 4003)):
        supergraph = supergraph.replace(f"http://127.0.0.1:{default_port}/", f"{stack[name].base_url}/")
    path = tmp_path / "supergraph.graphql"
    path.write_text(supergraph)
    port = free_port()
    fedgate = str(Path(sys.executable).parent / "fedgate")
    gateway = start_service("gateway", [fedgate, "serve", "--supergraph", str(path), "--port", str(port)], port)

    ids = asyncio.run(place_all(gateway.url))
    assert len(set(ids)) == ORDERS

    statuses = stack.wait_final(ids, timeout=180)
    assert set(statuses.values()) <= {"DELIVERED", "CANCELLED"}
    delivered = [i for i, s in statuses.items() if s == "DELIVERED"]
    assert delivered, "no order was delivered"

    marks = ", ".join("?" * len(ids))

    def money() -> tuple[int, int, int, int]:
        with stack.db("payments") as conn:
            captured = conn.execute(
                f"SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE status IN ('CAPTURED', 'REFUNDED') "
                f"AND order_id IN ({marks})", ids).fetchone()[0]
            refunded = conn.execute(
                f"SELECT COALESCE(SUM(amount_cents), 0) FROM payments WHERE status = 'REFUNDED' AND order_id IN ({marks})",
                ids).fetchone()[0]
            charges = conn.execute(
                f"SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM payments WHERE order_id IN ({marks}) GROUP BY order_id)",
                ids).fetchone()[0]
        with stack.db("orders") as conn:
            delivered_total = conn.execute(
                f"SELECT COALESCE(SUM(total_cents), 0) FROM orders WHERE status = 'DELIVERED' AND id IN ({marks})",
                [int(i) for i in ids]).fetchone()[0]
        return captured, refunded, delivered_total, charges

    # Refunds of the last cancellations may still be on their way when the statuses are final.
    captured, refunded, delivered_total, charges = wait_for(
        lambda: (m := money()) and m[0] - m[1] == m[2] and m, timeout=60, what="captured - refunded == delivered"
    )
    assert charges == 1  # never two payments for one order
    assert captured - refunded == delivered_total > 0

    # The gateway shows the same story for any one of them.
    sample = delivered[0]
    body = httpx.post(gateway.url, json={
        "query": "query ($id: ID!) { order(id: $id) { status isPaid payment { status } delivery { status } "
                 "events { type service } } }",
        "variables": {"id": sample},
    }, timeout=10).json()
    order = body["data"]["order"]
    assert order["status"] == "DELIVERED" and order["isPaid"] is True
    assert order["payment"]["status"] == "CAPTURED" and order["delivery"]["status"] == "DELIVERED"
    assert order["events"][-1] == {"type": "OrderDelivered", "service": "delivery"}

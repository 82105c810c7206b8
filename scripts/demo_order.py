"""Place one order and print each step of its saga as it happens (scripts/run.sh runs this).

Usage: python scripts/demo_order.py [GRAPHQL_URL]   (default http://127.0.0.1:4000/graphql)
"""

from __future__ import annotations

import sys
import time

import httpx

PLACE = """
mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }
"""
FOLLOW = "query ($id: ID!) { order(id: $id) { status events { type service at status detail } } }"
ORDER = {
    "customerId": "1",
    "restaurantId": "1",
    "items": [{"menuItemId": "1", "quantity": 2}],
    "deliveryAddress": {"street": "Unter den Linden 1", "city": "Berlin", "postalCode": "10117"},
}


def main(url: str, timeout: float = 60.0) -> int:
    """Place the order, then poll `Order.events` until it is DELIVERED or CANCELLED."""
    with httpx.Client(timeout=10) as client:
        placed = client.post(url, json={"query": PLACE, "variables": {"input": ORDER}}).json()
        if "errors" in placed:
            print(f"demo order: {placed['errors'][0]['message']}")
            return 1
        order_id = placed["data"]["placeOrder"]["id"]
        print(f"demo order {order_id} placed; following its saga (Order.events):")
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            order = client.post(url, json={"query": FOLLOW, "variables": {"id": order_id}}).json()["data"]["order"]
            for event in order["events"][seen:]:
                detail = f" ({event['detail']})" if event["detail"] else ""
                print(f"  {event['at']}  {event['service']:<8} {event['type']:<17} -> {event['status']}{detail}")
            seen = len(order["events"])
            if order["status"] in ("DELIVERED", "CANCELLED") and order["events"][-1]["type"] != "OrderCancelled":
                print(f"demo order {order_id} is {order['status']}")
                return 0
            time.sleep(0.5)
        print(f"demo order {order_id} is still {order['status']} after {timeout:.0f}s")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4000/graphql"))

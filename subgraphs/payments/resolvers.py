"""Resolvers of the payments subgraph, bound to a `PaymentsStore` and the orders subgraph."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo, GraphQLSchema

from subgraphs.common import (
    BAD_USER_INPUT,
    INVALID_STATUS_TRANSITION,
    OrdersPeer,
    SubgraphError,
    load_sdl,
    make_subgraph_schema,
)
from subgraphs.payments.store import PaymentsStore

# Key under which an Order entity carries its prefetched payment (or None).
_PAYMENT = "_payment"


def build_schema(store: PaymentsStore, orders: OrdersPeer) -> GraphQLSchema:
    """The payments subgraph's executable schema."""
    query = QueryType()
    mutation = MutationType()
    order = ObjectType("Order")

    @query.field("payment")
    async def resolve_payment(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return (await store.payments_by_ids([id]))[0]

    async def payment_of(obj: dict[str, Any]) -> dict[str, Any] | None:
        if _PAYMENT not in obj:
            obj[_PAYMENT] = (await store.latest_by_order([str(obj["id"])])).get(str(obj["id"]))
        payment: dict[str, Any] | None = obj[_PAYMENT]
        return payment

    @order.field("payment")
    async def resolve_order_payment(obj: dict[str, Any], _info: GraphQLResolveInfo) -> dict[str, Any] | None:
        return await payment_of(obj)

    @order.field("isPaid")
    async def resolve_is_paid(obj: dict[str, Any], _info: GraphQLResolveInfo) -> bool:
        payment = await payment_of(obj)
        return payment is not None and payment["status"] == "CAPTURED"

    @order.field("refundDue")
    async def resolve_refund_due(obj: dict[str, Any], _info: GraphQLResolveInfo) -> bool:
        if "status" not in obj:
            raise SubgraphError(
                BAD_USER_INPUT, 'Order.refundDue needs "status" in the representation (@requires)'
            )
        payment = await payment_of(obj)
        return obj["status"] == "CANCELLED" and payment is not None and payment["status"] == "CAPTURED"

    @mutation.field("payOrder")
    async def resolve_pay_order(
        _: Any, _info: GraphQLResolveInfo, orderId: str, method: str
    ) -> dict[str, Any]:
        found = await orders.existing_order(orderId)
        if found["status"] == "CANCELLED":
            raise SubgraphError(INVALID_STATUS_TRANSITION, f"order {orderId} is cancelled and cannot be paid")
        return await store.capture(found, method)

    @mutation.field("refundPayment")
    async def resolve_refund(_: Any, _info: GraphQLResolveInfo, orderId: str) -> dict[str, Any]:
        found = await orders.existing_order(orderId)
        if found["status"] != "CANCELLED":
            raise SubgraphError(
                INVALID_STATUS_TRANSITION,
                f"order {orderId} is {found['status']}; only cancelled orders are refunded",
            )
        return await store.refund(orderId)

    async def load_orders(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        # Every order id is a valid Order here: payments extends orders it may know nothing about.
        payments = await store.latest_by_order([str(r.get("id")) for r in reps])
        return [{**r, _PAYMENT: payments.get(str(r.get("id")))} for r in reps]

    async def load_payments(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return await store.payments_by_ids([str(r.get("id")) for r in reps])

    return make_subgraph_schema(
        load_sdl("payments"),
        [query, mutation, order],
        {"Order": load_orders, "Payment": load_payments},
    )

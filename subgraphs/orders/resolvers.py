"""Resolvers of the orders subgraph, bound to an `OrdersStore`."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, SubscriptionType
from graphql import GraphQLResolveInfo, GraphQLSchema

from subgraphs.common import load_sdl, make_subgraph_schema
from subgraphs.orders.store import ORDER_STATUS_TOPIC, OrdersStore


def build_schema(store: OrdersStore) -> GraphQLSchema:
    """The orders subgraph's executable schema."""
    query = QueryType()
    mutation = MutationType()
    subscription = SubscriptionType()
    customer = ObjectType("Customer")
    restaurant = ObjectType("Restaurant")
    order = ObjectType("Order")

    @order.field("events")
    async def resolve_events(obj: dict[str, Any], _info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        return (await store.events_of([str(obj["id"])])).get(str(obj["id"]), [])

    @query.field("order")
    async def resolve_order(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return (await store.orders_by_ids([id]))[0]

    @query.field("orders")
    async def resolve_orders(
        _: Any,
        _info: GraphQLResolveInfo,
        first: int = 10,
        after: str | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        return await store.orders_page(first, after, status)

    @query.field("customer")
    async def resolve_customer(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return (await store.customers_by_ids([id]))[0]

    @query.field("restaurant")
    async def resolve_restaurant(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return (await store.restaurants_by_keys([{"id": id}]))[0]

    @query.field("restaurants")
    async def resolve_restaurants(*_: Any) -> list[dict[str, Any]]:
        return await store.restaurants()

    @customer.field("orders")
    async def resolve_customer_orders(obj: dict[str, Any], _info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        return await store.orders_of_customer(obj["id"])

    @restaurant.field("menu")
    async def resolve_menu(obj: dict[str, Any], _info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        return await store.menu(obj["id"])

    @mutation.field("placeOrder")
    async def resolve_place_order(_: Any, _info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
        return await store.place_order(input)

    @mutation.field("approveOrder")
    async def resolve_approve(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
        return await store.transition(id, "approve")

    @mutation.field("rejectOrder")
    async def resolve_reject(
        _: Any, _info: GraphQLResolveInfo, id: str, reason: str | None = None
    ) -> dict[str, Any]:
        return await store.transition(id, "reject", reason)

    @mutation.field("cancelOrder")
    async def resolve_cancel(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
        return await store.transition(id, "cancel")

    @subscription.source("orderStatusChanged")
    async def order_status_source(
        _: Any, _info: GraphQLResolveInfo, id: str | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        if store.events is None:
            return
        topic = ORDER_STATUS_TOPIC if id is None else f"{ORDER_STATUS_TOPIC}:{id}"
        async for order in store.events.subscribe(topic):
            yield order

    @subscription.field("orderStatusChanged")
    def resolve_order_status_changed(order: dict[str, Any], _info: GraphQLResolveInfo, **_: Any) -> dict[str, Any]:
        return order

    async def load_orders(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        # An id that does not exist resolves to null, as federation expects, not to an error.
        return await store.orders_by_ids([str(r.get("id")) for r in reps])

    async def load_customers(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return await store.customers_by_ids([str(r.get("id")) for r in reps])

    async def load_restaurants(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return await store.restaurants_by_keys(reps)

    return make_subgraph_schema(
        load_sdl("orders"),
        [query, mutation, subscription, customer, restaurant, order],
        {"Order": load_orders, "Customer": load_customers, "Restaurant": load_restaurants},
    )

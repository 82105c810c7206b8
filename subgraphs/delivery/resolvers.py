"""Resolvers of the delivery subgraph, bound to a `DeliveryStore` and the orders subgraph."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, SubscriptionType
from graphql import GraphQLResolveInfo, GraphQLSchema

from subgraphs.common import (
    BAD_USER_INPUT,
    INVALID_STATUS_TRANSITION,
    NOT_FOUND,
    Broker,
    OrdersPeer,
    SubgraphError,
    load_sdl,
    make_subgraph_schema,
)
from subgraphs.delivery.store import DeliveryStore

# Broker topic prefix of the positions agents report (`reportAgentLocation` -> `agentLocation`),
# one topic per delivery: `agent-location:<delivery id>`.
AGENT_LOCATION_TOPIC = "agent-location"

# Key under which an Order entity carries its prefetched delivery (or None).
_DELIVERY = "_delivery"
# Key under which an Order entity carries its precomputed estimate.
_ETA = "_eta"


def _city(order: dict[str, Any]) -> str:
    address = order.get("deliveryAddress")
    if not isinstance(address, dict) or not isinstance(address.get("city"), str):
        raise SubgraphError(
            BAD_USER_INPUT,
            'Order.estimatedDeliveryMinutes needs "deliveryAddress { city }" in the representation (@requires)',
        )
    city: str = address["city"]
    return city


async def _existing_delivery(store: DeliveryStore, delivery_id: str) -> dict[str, Any]:
    found = (await store.deliveries_by_ids([delivery_id]))[0]
    if found is None:
        raise SubgraphError(NOT_FOUND, f"delivery {delivery_id} does not exist")
    return found


def build_schema(store: DeliveryStore, orders: OrdersPeer, events: Broker | None = None) -> GraphQLSchema:
    """The delivery subgraph's executable schema; `events` carries agent positions to subscribers."""
    query = QueryType()
    mutation = MutationType()
    subscription = SubscriptionType()
    location = ObjectType("AgentLocation")
    order = ObjectType("Order")
    agent = ObjectType("Agent")
    delivery = ObjectType("Delivery")
    restaurant = ObjectType("Restaurant")

    @query.field("delivery")
    async def resolve_delivery(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any] | None:
        return (await store.deliveries_by_ids([id]))[0]

    @query.field("agents")
    async def resolve_agents(
        _: Any, _info: GraphQLResolveInfo, city: str | None = None
    ) -> list[dict[str, Any]]:
        return await store.agents(city)

    @delivery.field("agent")
    async def resolve_delivery_agent(obj: dict[str, Any], _info: GraphQLResolveInfo) -> dict[str, Any] | None:
        return (await store.agents_by_ids([obj["agentId"]]))[0]

    @restaurant.field("averagePrepMinutes")
    async def resolve_prep(obj: dict[str, Any], _info: GraphQLResolveInfo) -> int:
        if "averagePrepMinutes" not in obj:
            # Reached through Delivery.pickup rather than _entities.
            obj.update((await store.partners([obj]))[0])
        minutes: int = obj["averagePrepMinutes"]
        return minutes

    @agent.field("deliveries")
    async def resolve_agent_deliveries(
        obj: dict[str, Any], _info: GraphQLResolveInfo
    ) -> list[dict[str, Any]]:
        return await store.deliveries_of_agent(obj["id"])

    @order.field("delivery")
    async def resolve_order_delivery(obj: dict[str, Any], _info: GraphQLResolveInfo) -> dict[str, Any] | None:
        if _DELIVERY not in obj:
            obj[_DELIVERY] = (await store.deliveries_by_order([str(obj["id"])])).get(str(obj["id"]))
        found: dict[str, Any] | None = obj[_DELIVERY]
        return found

    @order.field("estimatedDeliveryMinutes")
    async def resolve_eta(obj: dict[str, Any], _info: GraphQLResolveInfo) -> int:
        if _ETA not in obj:
            obj[_ETA] = (await store.estimates([(str(obj["id"]), _city(obj))]))[0]
        minutes: int = obj[_ETA]
        return minutes

    @mutation.field("assignAgent")
    async def resolve_assign(_: Any, _info: GraphQLResolveInfo, orderId: str) -> dict[str, Any]:
        found = await orders.existing_order(orderId)
        if found["status"] != "APPROVED":
            raise SubgraphError(
                INVALID_STATUS_TRANSITION,
                f"order {orderId} is {found['status']}; only approved orders get an agent",
            )
        return await store.assign(found)

    @mutation.field("completeDelivery")
    async def resolve_complete(_: Any, _info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
        return await store.complete(id)

    @mutation.field("reportAgentLocation")
    async def resolve_report_location(
        _: Any, _info: GraphQLResolveInfo, deliveryId: str, latitude: float, longitude: float
    ) -> dict[str, Any]:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise SubgraphError(BAD_USER_INPUT, "latitude must be within [-90, 90] and longitude within [-180, 180]")
        found = await _existing_delivery(store, deliveryId)
        if found["status"] != "ASSIGNED":
            raise SubgraphError(INVALID_STATUS_TRANSITION, f"delivery {deliveryId} is {found['status']}")
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = {"delivery": found, "latitude": latitude, "longitude": longitude, "at": at}
        if events is not None:
            await events.publish(f"{AGENT_LOCATION_TOPIC}:{found['id']}", event)
        return event

    @subscription.source("agentLocation")
    async def agent_location_source(
        _: Any, _info: GraphQLResolveInfo, deliveryId: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        found = await _existing_delivery(store, deliveryId)  # an unknown id is an error, not a silent stream
        if events is None:
            return
        async for event in events.subscribe(f"{AGENT_LOCATION_TOPIC}:{found['id']}"):
            yield event

    @subscription.field("agentLocation")
    def resolve_agent_location(event: dict[str, Any], _info: GraphQLResolveInfo, **_: Any) -> dict[str, Any]:
        return event

    @location.field("agent")
    async def resolve_location_agent(obj: dict[str, Any], _info: GraphQLResolveInfo) -> dict[str, Any] | None:
        return (await store.agents_by_ids([obj["delivery"]["agentId"]]))[0]

    async def load_orders(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        deliveries = await store.deliveries_by_order([str(r.get("id")) for r in reps])
        entities = [{**r, _DELIVERY: deliveries.get(str(r.get("id")))} for r in reps]
        # When the gateway sent the @requires fields, estimate the whole batch in one query.
        with_city = [e for e in entities if isinstance(e.get("deliveryAddress"), dict)]
        if with_city:
            minutes = await store.estimates([(str(e["id"]), _city(e)) for e in with_city])
            for entity, eta in zip(with_city, minutes, strict=True):
                entity[_ETA] = eta
        return list(entities)

    async def load_deliveries(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return await store.deliveries_by_ids([str(r.get("id")) for r in reps])

    async def load_agents(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return await store.agents_by_ids([str(r.get("id")) for r in reps])

    async def load_restaurants(reps: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
        return list(await store.partners(reps))

    return make_subgraph_schema(
        load_sdl("delivery"),
        [query, mutation, subscription, location, order, agent, delivery, restaurant],
        {
            "Order": load_orders,
            "Delivery": load_deliveries,
            "Agent": load_agents,
            "Restaurant": load_restaurants,
        },
    )

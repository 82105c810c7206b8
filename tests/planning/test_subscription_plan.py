"""Subscription plans: a primary fetch that opens the stream, and the rest that runs on each event."""

from __future__ import annotations

from pathlib import Path

from graphql import parse, validate

from gateway.planning import SubscriptionNode, build_query_plan, print_plan
from gateway.planning.nodes import iter_fetches
from gateway.server.query_plan_json import plan_to_json
from gateway.supergraph import load_supergraph

SUPERGRAPH = Path(__file__).resolve().parents[2] / "schema" / "supergraph.graphql"

WATCH = """
subscription Watch($id: ID) {
  orderStatusChanged(id: $id) { status payment { status } }
}
"""

# Apollo's serializer: the blocks inside Primary and Rest close without a trailing comma.
EXPECTED = """QueryPlan {
  Subscription {
    Primary: {
      Fetch(service: "orders") {
        {
          orderStatusChanged(id: $id) {
            status
            __typename
            id
          }
        }
      }
    },
    Rest: {
      Sequence {
        Flatten(path: "orderStatusChanged") {
          Fetch(service: "payments") {
            {
              ... on Order {
                __typename
                id
              }
            } =>
            {
              ... on Order {
                payment {
                  status
                }
              }
            }
          },
        },
      }
    }
  },
}"""


def _plan(text: str):
    sg = load_supergraph(SUPERGRAPH.read_text())
    doc = parse(text)
    assert validate(sg.api_schema, doc) == []
    return build_query_plan(sg, doc)


def test_subscription_plan_prints_primary_and_rest_as_apollo() -> None:
    plan = _plan(WATCH)
    assert print_plan(plan) == EXPECTED
    assert isinstance(plan.node, SubscriptionNode)
    assert plan.node.primary.operation.startswith("subscription Watch__orders__0($id:ID)")
    assert len(list(iter_fetches(plan.node))) == 2


def test_single_subgraph_subscription_has_no_rest() -> None:
    plan = _plan("subscription { orderStatusChanged { id status } }")
    assert isinstance(plan.node, SubscriptionNode) and plan.node.rest is None
    text = print_plan(plan)
    assert "Primary: {" in text and "Rest" not in text


def test_subscription_plan_json_has_apollo_keys() -> None:
    obj = plan_to_json(_plan(WATCH))["node"]
    assert obj["kind"] == "Subscription"
    assert obj["primary"]["kind"] == "Fetch" and obj["primary"]["operationKind"] == "subscription"
    assert obj["rest"]["kind"] == "Sequence"

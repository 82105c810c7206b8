"""How `fedgate dev` words a composition error: code, subgraphs, coordinate, file:line, colour."""

from __future__ import annotations

from pathlib import Path

from gateway.composition.compose import SubgraphInput, compose
from gateway.dev import coordinate_at, format_errors, locate_name

SDL = '''type Query {
  order(id: ID!): Order
}

type Order @key(fields: "id") {
  id: ID!
  total(currency: String): Int
  note: Strin
}
'''


def test_coordinate_at_a_location():
    assert coordinate_at(SDL, 2, 3) == "Query.order"
    assert coordinate_at(SDL, 2, 9) == "Query.order(id:)"
    assert coordinate_at(SDL, 5, 1) == "Order"
    assert coordinate_at(SDL, 7, 9) == "Order.total(currency:)"
    assert coordinate_at("type {", 1, 1) is None


def test_locate_a_name_the_message_mentions():
    assert locate_name(SDL, "Strin") == ("Order.note", 8, 3)
    assert locate_name(SDL, "Order.total") == ("Order.total", 7, 3)
    assert locate_name(SDL, "Order") == ("Order", 5, 1)
    assert locate_name(SDL, "Nothing") is None


def test_format_errors_plain_and_coloured():
    orders = SubgraphInput("orders", "http://orders", SDL)
    result = compose([orders])
    assert result.errors
    files = {"orders": Path("/srv/schema/orders.graphql")}
    plain = format_errors(result.errors, {"orders": SDL}, files, color=False)
    assert plain.splitlines()[0] == "error[INVALID_GRAPHQL] orders Order.note"
    assert "Unknown type Strin" in plain and "at /srv/schema/orders.graphql:8:3" in plain
    coloured = format_errors(result.errors, {"orders": SDL}, files, color=True)
    assert "\x1b[31m" in coloured and "Order.note" in coloured

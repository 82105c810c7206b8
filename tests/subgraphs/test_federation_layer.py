"""subgraphs/common/federation.py in-process: what we fixed on top of ariadne's federation support."""

from __future__ import annotations

from graphql import graphql

from subgraphs.common import make_subgraph_schema

SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

interface Media @key(fields: "id") {
  id: ID!
  title: String!
}

type Book implements Media @key(fields: "id") {
  id: ID!
  title: String!
  pages: Int!
}

type Movie implements Media @key(fields: "id") {
  id: ID!
  title: String!
  minutes: Int!
}

type Query {
  media: [Media!]!
}
"""

ROWS = {
    "1": {"__typename": "Book", "id": "1", "title": "Dune", "pages": 412},
    "2": {"__typename": "Movie", "id": "2", "title": "Alien", "minutes": 117},
}

ENTITIES = """
query ($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Media { id title }
    ... on Book { pages }
    ... on Movie { minutes }
  }
}
"""


def schema_with_calls():
    calls = []

    async def load_media(reps):
        calls.append(("Media", [r["id"] for r in reps]))
        return [ROWS.get(r["id"]) for r in reps]

    async def load_books(reps):
        calls.append(("Book", [r["id"] for r in reps]))
        return [ROWS.get(r["id"]) for r in reps]

    return make_subgraph_schema(SDL, [], {"Media": load_media, "Book": load_books}), calls


async def test_service_sdl_is_verbatim():
    schema, _ = schema_with_calls()

    result = await graphql(schema, "{ _service { sdl } }")

    assert result.data == {"_service": {"sdl": SDL}}


async def test_entities_batches_per_type_keeps_order_and_resolves_interfaces():
    schema, calls = schema_with_calls()
    reps = [
        {"__typename": "Media", "id": "2"},
        {"__typename": "Book", "id": "1"},
        {"__typename": "Media", "id": "1"},
        {"__typename": "Media", "id": "404"},
    ]

    result = await graphql(schema, ENTITIES, variable_values={"r": reps})

    assert result.errors is None
    assert result.data == {
        "_entities": [
            {"__typename": "Movie", "id": "2", "title": "Alien", "minutes": 117},
            {"__typename": "Book", "id": "1", "title": "Dune", "pages": 412},
            {"__typename": "Book", "id": "1", "title": "Dune", "pages": 412},
            None,
        ]
    }
    assert sorted(calls) == [("Book", ["1"]), ("Media", ["2", "1", "404"])]


async def test_unknown_or_missing_typename_is_bad_user_input():
    schema, _ = schema_with_calls()

    for rep in ({"__typename": "Query"}, {"id": "1"}):
        result = await graphql(schema, ENTITIES, variable_values={"r": [rep]})

        assert result.errors and result.errors[0].extensions == {"code": "BAD_USER_INPUT"}

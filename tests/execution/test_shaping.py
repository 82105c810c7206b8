"""Response shaping on merged data: keys, order, fragments, abstract types, null propagation."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import build_schema, parse, validate
from shop import FakeSupergraph

from gateway.execution import coerce_variables
from gateway.planning.nodes import QueryPlan
from gateway.server.preparation import prepare_operation

SCHEMA = build_schema(
    """
    type Query {
      node(id: ID!): Node
      nodes: [Node]
      search: [Result!]
      strict: Strict!
      maybe: Strict
      tags: [String!]
      matrix: [[Int]]
      color: Color
      books: [Book!]
      shelf: [Book]!
    }
    interface Node { id: ID! }
    type Book implements Node { id: ID! title: String! author: Person }
    type Movie implements Node { id: ID! title: String director: Person! }
    type Person { name: String! }
    union Result = Book | Movie | Person
    type Strict { inner: Strict2! }
    type Strict2 { value: Int! other: Int }
    enum Color { RED GREEN }
    """
)


def shape(query: str, data: dict[str, Any] | None, variables: dict[str, Any] | None = None,
          errors: list[dict[str, Any]] | None = None) -> tuple[Any, list[dict[str, Any]]]:
    supergraph = FakeSupergraph(SCHEMA, {})
    document = parse(query)
    assert not validate(SCHEMA, document)
    prepared = prepare_operation(supergraph, document, None, lambda *_: QueryPlan(None))
    coerced = coerce_variables(SCHEMA, prepared.operation, variables)
    errs = list(errors or [])
    return prepared.shaping_program(coerced).shape(data, errs), errs


def test_only_requested_keys_in_operation_order():
    data = {"node": {"__typename": "Book", "id": "1", "title": "T", "_internal_qp_alias_0": 1, "extra": 2}}
    result, errors = shape('{ node(id: "1") { ... on Book { title } id } }', data)
    assert list(result["node"]) == ["title", "id"]
    assert result == {"node": {"title": "T", "id": "1"}}
    assert errors == []


def test_typename_aliases_get_runtime_type_and_root_typename():
    data = {"node": {"__typename": "Movie", "id": "2"}}
    result, _ = shape('{ a: __typename node(id: "2") { __typename t: __typename id } }', data)
    assert result == {"a": "Query", "node": {"__typename": "Movie", "t": "Movie", "id": "2"}}


def test_fragments_apply_per_runtime_type():
    data = {
        "search": [
            {"__typename": "Book", "id": "1", "title": "B", "author": {"name": "A"}},
            {"__typename": "Movie", "id": "2", "title": None, "director": {"name": "D"}},
            {"__typename": "Person", "name": "P"},
        ]
    }
    query = """
    { search {
        ... on Node { id }
        ...BookParts
        ... on Movie { director { name } }
    } }
    fragment BookParts on Book { title author { name } }
    """
    result, errors = shape(query, data)
    assert result == {
        "search": [
            {"id": "1", "title": "B", "author": {"name": "A"}},
            {"id": "2", "director": {"name": "D"}},
            {},
        ]
    }
    assert errors == []


def test_same_key_merged_across_fragments():
    data = {"node": {"__typename": "Book", "id": "1", "title": "T", "author": {"name": "N"}}}
    query = '{ node(id: "1") { ... on Book { author { name } } ... on Book { author { __typename } } } }'
    result, _ = shape(query, data)
    assert result == {"node": {"author": {"name": "N", "__typename": "Person"}}}


def test_skip_and_include_with_variables_and_defaults():
    data = {"node": {"__typename": "Book", "id": "1", "title": "T"}}
    query = (
        'query ($a: Boolean = true, $b: Boolean = false) { node(id: "1") { id @skip(if: $a) '
        "... on Book @include(if: $a) { title } ... on Book @include(if: $b) { author { name } } } }"
    )
    assert shape(query, data)[0] == {"node": {"title": "T"}}
    assert shape(query, data, {"a": False})[0] == {"node": {"id": "1"}}


def test_unknown_or_inaccessible_runtime_type_becomes_null_with_error():
    data = {"nodes": [{"__typename": "Secret", "id": "1"}, {"__typename": "Person", "id": "2"}, {"id": "3"}]}
    result, errors = shape("{ nodes { id } }", data)
    assert result == {"nodes": [None, None, None]}
    assert [e["path"] for e in errors] == [["nodes", 0], ["nodes", 1], ["nodes", 2]]


def test_interface_name_as_runtime_type_keeps_interface_level_fields():
    # An @interfaceObject subgraph answers `__typename: "Node"` when the concrete type was not needed.
    data = {"nodes": [{"__typename": "Node", "id": "2"}]}
    result, errors = shape("{ nodes { id ... on Node { id } ... on Book { title } } }", data)
    assert result == {"nodes": [{"id": "2"}]}
    assert errors == []


def test_enum_outside_schema_is_null_with_error():
    result, errors = shape("{ color }", {"color": "BLUE"})
    assert result == {"color": None}
    assert errors[0]["path"] == ["color"]


def test_null_bubbles_to_nearest_nullable_parent():
    result, errors = shape("{ maybe { inner { value other } } }", {"maybe": {"inner": {"value": None, "other": 1}}})
    assert result == {"maybe": None}
    assert errors == [
        {"message": "Cannot return null for non-nullable field Strict2.value.", "path": ["maybe", "inner", "value"]}
    ]


def test_null_at_top_makes_data_null():
    result, errors = shape("{ strict { inner { value } } }", {"strict": {"inner": None}})
    assert result is None
    assert errors[0]["path"] == ["strict", "inner"]


def test_no_extra_error_when_one_was_reported_below():
    reported = [{"message": "boom", "path": ["strict", "inner", "value"]}]
    result, errors = shape("{ strict { inner { value } } }", {"strict": {"inner": {}}}, errors=reported)
    assert result is None
    assert errors == reported


def test_non_null_list_items():
    result, errors = shape("{ tags search { ... on Person { name } } }", {"tags": ["a", None], "search": None})
    assert result == {"tags": None, "search": None}
    assert errors[0]["path"] == ["tags", 1]


def test_missing_fields_are_null_and_nested_lists_are_shaped():
    result, errors = shape("{ matrix color nodes { id } }", {"matrix": [[1, None], None, []]})
    assert result == {"matrix": [[1, None], None, []], "color": None, "nodes": None}
    assert errors == []


def test_no_data_at_all():
    result, _ = shape("{ color __typename }", None)
    assert result == {"color": None, "__typename": "Query"}


@pytest.mark.parametrize("value", [5, "x", [1]])
def test_wrong_shapes_are_errors_not_crashes(value):
    result, errors = shape('{ node(id: "1") { id } }', {"node": value})
    assert result == {"node": None}
    assert len(errors) == 1


def test_object_lists_bubble_per_item_nullability():
    data = {
        "books": [{"id": "1", "title": "A"}, {"id": "2", "title": None}],
        "shelf": [{"id": "1", "title": "A"}, {"id": "2"}, None],
    }
    result, errors = shape("{ books { id title } shelf { title } }", data)
    assert result == {"books": None, "shelf": [{"title": "A"}, None, None]}
    assert [e["path"] for e in errors] == [["books", 1, "title"], ["shelf", 1, "title"]]


_RICH = """{
  node(id: "1") { __typename id ... on Book { title author { name } } ... on Movie { t: title director { name } } }
  nodes { id } search { ... on Person { name } ... on Book { id } } strict { inner { value other } }
  maybe { inner { value } } tags matrix color books { id title } shelf { id }
}"""


@pytest.mark.parametrize(
    "data",
    [
        {
            "node": {"__typename": "Book", "id": "1", "title": "T", "author": {"name": "A"}},
            "nodes": [{"__typename": "Movie", "id": "2"}, None],
            "search": [{"__typename": "Person", "name": "P"}, {"__typename": "Book", "id": "3"}],
            "strict": {"inner": {"value": 1, "other": None}},
            "maybe": None,
            "tags": ["a"],
            "matrix": [[1, None], None],
            "color": "RED",
            "books": [],
            "shelf": [None, {"id": "4"}],
        },
        {"node": {"__typename": "Movie", "id": "1", "title": None, "director": None}, "strict": {"inner": {"value": 2}}},
        {"strict": {"inner": {"value": None}}, "color": "BLUE", "search": [None], "tags": [None]},
        {"node": {"__typename": "Secret", "id": "1"}, "strict": {"inner": {}}, "matrix": [1], "books": "x"},
        {},
    ],
)
def test_clean_pass_and_error_tracking_shaper_agree(data, monkeypatch):
    from gateway.execution import shaping

    fast = shape(_RICH, data, errors=[{"message": "earlier", "path": ["strict"]}])

    def never(*_: Any) -> Any:
        raise shaping._NOT_CLEAN

    monkeypatch.setattr(shaping, "_clean_object", never)
    assert shape(_RICH, data, errors=[{"message": "earlier", "path": ["strict"]}]) == fast

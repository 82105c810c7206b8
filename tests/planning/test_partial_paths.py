"""Selections no single subgraph can finish from where they stand: the rest is re-fetched through the
nearest entity ancestor (a value type has no key to jump on), whatever the client itself selected.

Found by comparing random operations with Apollo Gateway and Hive Gateway over the audit's supergraphs:
`{ products { category { name details { products } } } }` was refused ("no path reaches these
fields") while `products { id category { ... } }` planned, because a partial option was judged by
whole direct children instead of by the leaves it reaches.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.planning import build_query_plan, print_plan
from gateway.planning.nodes import iter_fetches
from gateway.supergraph import load_supergraph

COMPOSITION = Path(__file__).parent.parent / "fixtures" / "composition"


def _plan(suite: str, query: str):
    sg = load_supergraph((COMPOSITION / suite / "supergraph.graphql").read_text())
    doc = parse(query)
    assert validate(sg.api_schema, doc) == []
    return build_query_plan(sg, doc)


@pytest.mark.parametrize(
    "query",
    [
        # The only child is partly local (name in a) and partly behind the parent entity (details in c).
        "{ products { category { name details { products } } } }",
        "{ products { category { details { products } name } } }",
        "{ products { category { id details { products } } } }",
        # With a key field selected by the client it always planned; it must plan the same way.
        "{ products { id category { name details { products } } } }",
    ],
)
def test_value_type_split_over_subgraphs_reenters_the_parent_entity(query: str) -> None:
    plan = _plan("parent-entity-call", query)
    fetches = list(iter_fetches(plan.node))
    assert [f.service_name for f in fetches] == ["a", "c"]
    text = print_plan(plan)
    # The key of the parent entity is added by the planner, and c re-walks `category { details }`.
    assert 'Flatten(path: "products.@")' in text
    entity = fetches[1].operation
    assert "_entities" in entity and "category{details{products}}" in entity.replace(" ", "")
    assert "pid" in fetches[0].operation


def test_partial_choice_counts_leaves_not_children() -> None:
    """The audit's two-level shape (value type fields in a, b and c behind d's entity) keeps planning."""
    plan = _plan(
        "parent-entity-call-complex",
        "{ productFromD(id: 1) { name category { details name } } }",
    )
    services = sorted(f.service_name for f in iter_fetches(plan.node))
    assert "d" in services and "c" in services

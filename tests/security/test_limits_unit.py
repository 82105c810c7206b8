"""The document limits as pure logic over the domain supergraph: what each limit counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import LimitsConfig
from gateway.server.limits import DocumentLimits
from gateway.supergraph import load_supergraph

SCHEMA = load_supergraph((Path(__file__).resolve().parents[2] / "schema" / "supergraph.graphql").read_text()).api_schema


def _codes(query: str, **limits: object) -> set[str]:
    verdict = DocumentLimits(LimitsConfig(**limits), SCHEMA, True).check(query)
    return {e["extensions"]["code"] for e in verdict.errors or ()}


def test_depth_counts_fields_through_fragments_and_survives_cycles():
    query = "{ order(id: 1) { ...A } } fragment A on Order { restaurant { ...B } } fragment B on Restaurant { menu { name } }"
    assert _codes(query, max_depth=4) == set()
    assert _codes(query, max_depth=3) == {"MAX_DEPTH_LIMIT"}
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A restaurants { name } }"
    assert _codes(cycle, max_depth=1) == {"MAX_DEPTH_LIMIT"}  # depth 2; the cycle itself is validation's job


def test_cost_multiplies_lists_by_their_slicing_argument():
    page = "{ orders(first: 3) { edges { node { id restaurant { name } } } } }"
    # orders 1 + edges 3 x (1 + node (1 + restaurant 1)) = 10
    assert _codes(page, max_cost=10) == set()
    assert _codes(page, max_cost=9) == {"COST_ESTIMATED_TOO_EXPENSIVE"}
    # Without an argument a list counts `list_size` items.
    assert _codes("{ restaurants { menu { name } } }", max_cost=109, list_size=10) == {"COST_ESTIMATED_TOO_EXPENSIVE"}
    assert _codes("{ restaurants { menu { name } } }", max_cost=110, list_size=10) == set()


@pytest.mark.parametrize(
    ("query", "limits", "code"),
    [
        ("{ a: restaurants { name } b: restaurants { name } }", {"max_aliases": 1}, "MAX_ALIASES_LIMIT"),
        ("{ restaurants { name } ... on Query { agents { name } } }", {"max_root_fields": 1}, "MAX_ROOT_FIELDS_LIMIT"),
        ("{ restaurants { name id } }", {"max_tokens": 5}, "MAX_TOKENS_LIMIT"),
    ],
)
def test_each_limit_has_its_code(query, limits, code):
    assert _codes(query, **limits) == {code}


def test_syntax_errors_are_left_to_the_pipeline():
    assert _codes("{ restaurants { name }") == set()

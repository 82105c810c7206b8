"""Plan-shape tests: each case's printed plan (Apollo's text form) must match its golden file.

Regenerate after an intended planner change with `FEDGATE_UPDATE_GOLDEN=1 pytest tests/planning`,
then read the diff: every changed plan is a behaviour change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.planning import build_query_plan, print_plan
from gateway.supergraph import load_supergraph

from .cases import CASES

FIXTURES = Path(__file__).parent.parent / "fixtures" / "planning"
GOLDEN = Path(__file__).parent / "golden"
_SUPERGRAPHS: dict[str, object] = {}


def _supergraph(name: str):
    if name not in _SUPERGRAPHS:
        _SUPERGRAPHS[name] = load_supergraph((FIXTURES / name / "supergraph.graphql").read_text())
    return _SUPERGRAPHS[name]


@pytest.mark.parametrize(
    ("fixture", "case"), [(fx, case) for fx, cases in CASES.items() for case in cases]
)
def test_plan_matches_golden(fixture: str, case: str) -> None:
    sg = _supergraph(fixture)
    doc = parse(CASES[fixture][case])
    assert validate(sg.api_schema, doc) == []
    text = print_plan(build_query_plan(sg, doc)) + "\n"
    golden = GOLDEN / f"{fixture}__{case}.txt"
    if os.environ.get("FEDGATE_UPDATE_GOLDEN"):
        golden.write_text(text)
    # A missing golden file is a failure, not a file written on the spot: that would pass any plan.
    assert golden.exists(), f"no golden plan {golden.name}: run with FEDGATE_UPDATE_GOLDEN=1 and read the diff"
    assert text == golden.read_text()


def test_unreachable_field_fails_planning_with_a_code() -> None:
    from gateway.planning import PlanningError

    sdl = (FIXTURES / "shop" / "supergraph.graphql").read_text()
    sdl = sdl.replace('@join__type(graph: INVENTORY, key: "upc")', '@join__type(graph: INVENTORY, key: "upc", resolvable: false)')
    sg = load_supergraph(sdl)
    with pytest.raises(PlanningError) as info:
        build_query_plan(sg, parse("{ topProducts { inStock } }"))
    assert info.value.code == "QUERY_PLANNING_FAILED"
    assert "inStock" in info.value.message


def test_operation_name_selects_the_operation() -> None:
    from gateway.planning import PlanningError

    sg = _supergraph("shop")
    doc = parse("query A { me { name } } query B { topProducts { name } }")
    assert 'service: "products"' in print_plan(build_query_plan(sg, doc, "B"))
    with pytest.raises(PlanningError) as info:
        build_query_plan(sg, doc, "C")
    assert info.value.code == "OPERATION_NOT_FOUND"


def test_fetches_use_only_the_variables_they_need() -> None:
    from gateway.planning.nodes import iter_fetches

    sg = _supergraph("shop")
    doc = parse("query($upc: String!, $n: Int) { product(upc: $upc) { name reviews(first: $n) { body } } }")
    fetches = list(iter_fetches(build_query_plan(sg, doc).node))
    assert [f.variable_usages for f in fetches] == [("upc",), ("n",)]
    assert fetches[0].operation.startswith("query($upc:String!)")

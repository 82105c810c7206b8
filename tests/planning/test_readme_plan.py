"""The README shows a real plan for our own supergraph; keep it true to the planner."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import parse

from gateway.planning import build_query_plan, print_plan
from gateway.supergraph import load_supergraph

ROOT = Path(__file__).parent.parent.parent


def test_readme_plan_is_what_the_planner_prints() -> None:
    readme = (ROOT / "README.md").read_text()
    query = re.search(r'"query": "(query OrderStatus.*?)",\n', readme)
    shown = re.search(r"```\n(QueryPlan \{.*?\n\})\n```", readme, re.S)
    assert query and shown, "README lost its example query or plan"
    sg = load_supergraph((ROOT / "schema" / "supergraph.graphql").read_text())
    assert print_plan(build_query_plan(sg, parse(query.group(1)))) == shown.group(1)

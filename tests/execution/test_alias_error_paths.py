"""Subgraph errors inside fields the planner aliased internally carry the client's path, never the
planner's `_internal_qp_alias_N` (planned by the real planner, subgraphs answering from a script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from graphql import parse

from gateway.execution import Executor, coerce_variables
from gateway.planning import build_query_plan
from gateway.server.preparation import prepare_operation
from gateway.supergraph import load_supergraph
from gateway.transport import FetchRequest, SubgraphResponse

COMPOSITION = Path(__file__).parent.parent / "fixtures" / "composition"


class Script:
    """Answers each subgraph from a function of the request body; records the operations sent."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str]] = []

    async def fetch(self, fetch: FetchRequest) -> SubgraphResponse:
        subgraph_name, body = fetch.subgraph, fetch.body
        request = orjson.loads(body)
        self.sent.append((subgraph_name, request["query"]))
        return SubgraphResponse(200, self.answer(subgraph_name, request))


async def _run(suite: str, query: str, script: Script) -> dict[str, Any]:
    sg = load_supergraph((COMPOSITION / suite / "supergraph.graphql").read_text())
    prepared = prepare_operation(sg, parse(query), None, build_query_plan)
    return await Executor(sg, script).execute(prepared, coerce_variables(sg.api_schema, prepared.operation, None))


async def test_error_under_a_renamed_key_shows_the_clients_key() -> None:
    # `id` is `ID!` on User and `ID` on Admin in subgraph b: one of them is fetched under an internal alias.
    def answer(name: str, request: dict[str, Any]) -> dict[str, Any]:
        alias = request["query"].split("_internal_qp_alias_")[1].split(":")[0]
        key = f"_internal_qp_alias_{alias}"
        return {
            "data": {"accounts": [{"__typename": "Admin", "uid": "a1", "name": "Ann"}, {"__typename": "User", key: None, "name": "Bob"}]},
            "errors": [{"message": "no id", "path": ["accounts", 1, key]}],
        }

    script = Script(answer)
    body = await _run("child-type-mismatch", "{ accounts { ... on User { uid: id name } ... on Admin { uid: id name } } }", script)
    assert "_internal_qp_alias_" in script.sent[0][1]  # the case this test is about
    assert body["data"] == {"accounts": [{"uid": "a1", "name": "Ann"}, {"uid": None, "name": "Bob"}]}
    assert [e["path"] for e in body["errors"]] == [["accounts", 1, "uid"]]
    assert "_internal_qp_alias_" not in orjson.dumps(body).decode()


async def test_error_inside_an_aliased_requires_input_shows_the_field_name() -> None:
    # Post.author requires `comments(limit: 3)`, the client selects `comments(limit: 1)`: the required
    # one travels under an internal alias, and an error below it names the field, not the alias.
    def answer(name: str, request: dict[str, Any]) -> dict[str, Any]:
        query = request["query"]
        if name == "c" and "feed" in query:
            return {"data": {"feed": [{"__typename": "Post", "id": "p1"}]}}
        if name == "d" and "author" not in query:
            return {
                "data": {"_entities": [{
                    "_internal_qp_alias_0": [{"__typename": "Comment", "id": "c1"}],
                    "comments": [{"date": "today"}],
                }]},
            }
        if name == "c":
            return {"data": {"_entities": [{"authorId": None}]}, "errors": [{"message": "gone", "path": ["_entities", 0, "authorId"]}]}
        return {"data": {"_entities": [{"author": {"id": "u1"}}]}}

    script = Script(answer)
    body = await _run("requires-with-argument", "{ feed { author { id } comments(limit: 1) { date } } }", script)
    assert body["data"] == {"feed": [{"author": {"id": "u1"}, "comments": [{"date": "today"}]}]}
    assert [e["path"] for e in body["errors"]] == [["feed", 0, "comments", 0, "authorId"]]

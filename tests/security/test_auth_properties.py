"""Property: whatever the operation and whoever asks, the authorization filter yields an operation that
is still valid, keeps every field the caller may see, and accounts for every field it removed."""

from __future__ import annotations

from echo_subgraph import supergraph  # tests/operations is on sys.path (conftest)
from graphql import FieldNode, parse, print_ast, validate, visit
from graphql.language import Visitor
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway.execution import select_operation
from gateway.server.auth import Authorization
from gateway.supergraph import load_supergraph

SUPERGRAPH = load_supergraph(supergraph("http://127.0.0.1:1/graphql"))
AUTH = Authorization(SUPERGRAPH.sdl, SUPERGRAPH.api_schema)
PROTECTED = {"secret", "admin", "owner", "code", "profile"}

item_fields = st.lists(st.sampled_from(["id", "owner", "code", "__typename"]), min_size=1, max_size=4, unique=True)


def _item_selection(fields: list[str], inline: bool) -> str:
    inner = " ".join(fields)
    return f"{{ ... on Item {{ {inner} }} }}" if inline else f"{{ {inner} }}"


root_field = st.one_of(
    st.sampled_from(["public", "secret", "admin", "boom", "__typename"]),
    st.sampled_from(["headers { name }", "profile { name }", "profile { __typename name }"]),
    st.tuples(st.sampled_from(["items", "maybeItems"]), item_fields, st.booleans()).map(
        lambda t: f"{t[0]} {_item_selection(t[1], t[2])}"
    ),
)
operations = st.tuples(
    st.lists(st.tuples(root_field, st.booleans()), min_size=1, max_size=6),
    st.booleans(),
).map(
    lambda t: (
        "query Q { ...F } fragment F on Query { "
        if t[1] else "query Q { "
    ) + " ".join(f"a{i}: {f}" if aliased else f for i, (f, aliased) in enumerate(t[0])) + " }"
)
callers = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["admin", "write", "profile:read"]), unique=True).map(
        lambda scopes: {"sub": "u", "scope": " ".join(scopes)}
    ),
)


def _fields(query: str) -> list[str]:
    names: list[str] = []

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            names.append(node.name.value)

    visit(parse(query), Collect())
    return names


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(query=operations, claims=callers)
def test_filtered_operations_stay_valid_and_account_for_every_removal(query, claims):
    document = parse(query)
    assume(validate(SUPERGRAPH.api_schema, document) == [])
    analysis = AUTH.analyse(document, select_operation(document, None))
    refusal = AUTH.filter(analysis, claims) if analysis is not None else None
    result = None if refusal is None else (None if refusal[1] is None else print_ast(refusal[1]), refusal[2])
    before = _fields(query)
    if result is None:
        # Nothing refused: then the caller may see every protected field it asked for.
        scopes = set((claims or {}).get("scope", "").split())
        if claims is None:
            assert not PROTECTED & set(before)
        if "admin" in before:
            assert {"admin", "write"} <= scopes
        return
    filtered, denied = result
    assert denied.errors and all(e["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE" for e in denied.errors)
    if filtered is None:
        return
    assert validate(SUPERGRAPH.api_schema, parse(filtered)) == []
    after = _fields(filtered)
    # Unprotected leaves survive unless their parent went (it had nothing else left).
    assert after.count("public") == before.count("public")
    assert after.count("boom") == before.count("boom")
    if claims is None:
        assert not PROTECTED & set(after)

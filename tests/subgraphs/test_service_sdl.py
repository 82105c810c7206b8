"""Every subgraph answers `_service { sdl }` with its schema file, verbatim, as a Fed 2 schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import Visitor, parse, visit

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


@pytest.mark.parametrize("name", ["orders", "payments", "delivery"])
def test_service_sdl_is_the_schema_file(subgraphs, name):
    body = subgraphs[name].query("{ _service { sdl } }")

    assert "errors" not in body
    sdl = body["data"]["_service"]["sdl"]
    assert sdl == (SCHEMA_DIR / f"{name}.graphql").read_text()
    assert sdl.startswith('extend schema @link(url: "https://specs.apollo.dev/federation/v2.')
    parse(sdl)


@pytest.mark.parametrize("name", ["orders", "payments", "delivery"])
def test_every_used_federation_directive_is_imported(name):
    sdl = (SCHEMA_DIR / f"{name}.graphql").read_text()
    imported = set(re.search(r"import: \[([^\]]*)\]", sdl).group(1).replace('"', "").replace(" ", "").split(","))
    used: set[str] = set()

    class Directives(Visitor):
        def enter_directive(self, node, *_args):
            used.add(f"@{node.name.value}")

    visit(parse(sdl), Directives())
    used.discard("@link")

    assert used == imported


def test_the_schemas_exercise_every_directive_docs_schema_md_lists():
    sdl = "\n".join((SCHEMA_DIR / f"{n}.graphql").read_text() for n in ("orders", "payments", "delivery"))
    docs = (SCHEMA_DIR.parent / "docs" / "schema.md").read_text()

    for needle in ['@key(fields: "id") @key(fields: "slug city")', "@shareable", "@external", "@requires",
                   "@provides", '@override(from: "orders")', "@inaccessible", "@tag", "union ", "enum ", "input ",
                   "[OrderItem!]!"]:
        assert needle in sdl, needle
    for directive in ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible",
                      "@tag", "interface", "union", "enum", "input", "non-null list"]:
        assert directive in docs, directive


def test_unknown_entity_type_is_a_coded_error(subgraphs):
    body = subgraphs["orders"].query(
        "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        {"r": [{"__typename": "Payment", "id": "1"}]},
    )

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

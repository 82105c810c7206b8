"""`fedgate compose` and `fedgate check` as a user runs them: config files, a live subgraph, exit codes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

REPO = Path(__file__).resolve().parents[2]

PRODUCTS = '''extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
type Query { product(id: ID!): Product }
type Product @key(fields: "id") { id: ID! name: String @shareable price: Int }
enum Color { RED GREEN }
'''
REVIEWS = '''extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { latest: [Review] }
type Review { body: String }
'''


def _write(tmp: Path, products: str = PRODUCTS, reviews: str = REVIEWS) -> Path:
    (tmp / "products.graphql").write_text(products)
    (tmp / "reviews.graphql").write_text(reviews)
    config = tmp / "supergraph.yaml"
    config.write_text(
        "federation_version: =2.3.0\n"
        "subgraphs:\n"
        "  products:\n    routing_url: http://products/graphql\n    schema:\n      file: ./products.graphql\n"
        "  reviews:\n    routing_url: http://reviews/graphql\n    schema:\n      file: ./reviews.graphql\n")
    return config


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_compose_prints_supergraph(tmp_path: Path) -> None:
    code, out, _ = _run("compose", "--config", str(_write(tmp_path)))
    assert code == 0
    assert '@join__graph(name: "products", url: "http://products/graphql")' in out
    assert "product(id: ID!): Product @join__field(graph: PRODUCTS)" in out


def test_compose_output_file_is_apollo_bytes(tmp_path: Path) -> None:
    out_file = tmp_path / "supergraph.graphql"
    code, out, _ = _run("compose", "--config", str(_write(tmp_path)), "--output", str(out_file))
    assert code == 0 and out == ""
    assert out_file.read_text().startswith("schema\n  @link(url: \"https://specs.apollo.dev/link/v1.0\")")
    assert not out_file.read_text().endswith("\n")


def test_compose_repo_schema_matches_committed_supergraph(tmp_path: Path) -> None:
    config = REPO / "schema" / "supergraph.yaml"
    out_file = tmp_path / "out.graphql"
    code, _, err = _run("compose", "--config", str(config), "--output", str(out_file))
    assert code == 0, err
    assert out_file.read_text() == (REPO / "schema" / "supergraph.graphql").read_text()


def test_compose_errors_exit_1_with_codes(tmp_path: Path) -> None:
    broken = REVIEWS.replace("type Review { body: String }", "type Review { body: String }\ntype Product { id: ID! }")
    code, _, err = _run("compose", "--config", str(_write(tmp_path, reviews=broken)))
    assert code == 1
    assert "error[INVALID_FIELD_SHARING]: Non-shareable field \"Product.id\"" in err


def test_compose_bad_config_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "supergraph.yaml"
    config.write_text("federation_version: =1\nsubgraphs: {}\n")
    code, _, err = _run("compose", "--config", str(config))
    assert code == 2
    assert "federation_version" in err


class _SDLHandler(BaseHTTPRequestHandler):
    sdl = PRODUCTS

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length))
        assert "_service" in body["query"]
        payload = json.dumps({"data": {"_service": {"sdl": self.sdl}}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def sdl_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SDLHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
    finally:
        server.shutdown()
        server.server_close()


def test_compose_fetches_subgraph_url(tmp_path: Path, sdl_server: str) -> None:
    (tmp_path / "reviews.graphql").write_text(REVIEWS)
    config = tmp_path / "supergraph.yaml"
    config.write_text(
        "federation_version: =2.3.0\nsubgraphs:\n"
        f"  products:\n    routing_url: http://products/graphql\n    schema:\n      subgraph_url: {sdl_server}\n"
        "  reviews:\n    routing_url: http://reviews/graphql\n    schema:\n      file: reviews.graphql\n")
    code, out, err = _run("compose", "--config", str(config))
    assert code == 0, err
    assert "  price: Int\n" in out and "product(id: ID!): Product @join__field(graph: PRODUCTS)" in out


# -- check ---------------------------------------------------------------------------------------------

def _base(tmp: Path) -> Path:
    base = tmp / "base.graphql"
    code, _, err = _run("compose", "--config", str(_write(tmp)), "--output", str(base))
    assert code == 0, err
    return base


CHANGES = [
    # (description, products SDL edit, expected exit code, expected severity, expected code)
    ("field removed", ("price: Int", ""), 1, "breaking", "FIELD_REMOVED"),
    ("type removed", ("enum Color { RED GREEN }", ""), 1, "breaking", "TYPE_REMOVED"),
    ("enum value removed", ("RED GREEN", "RED"), 1, "breaking", "VALUE_REMOVED_FROM_ENUM"),
    ("field type changed", ("price: Int", "price: String"), 1, "breaking", "FIELD_CHANGED_KIND"),
    ("required argument added", ("product(id: ID!)", "product(id: ID!, v: Int!)"), 1, "breaking", "REQUIRED_ARG_ADDED"),
    ("argument removed", ("product(id: ID!)", "product"), 1, "breaking", "ARG_REMOVED"),
    ("enum value added", ("RED GREEN", "RED GREEN BLUE"), 0, "dangerous", "VALUE_ADDED_TO_ENUM"),
    ("optional argument added", ("product(id: ID!)", "product(id: ID!, v: Int)"), 0, "dangerous", "OPTIONAL_ARG_ADDED"),
    ("field added", ("price: Int", "price: Int\n  weight: Int"), 0, "safe", "FIELD_ADDED"),
    ("nullable made non-null on output", ("price: Int", "price: Int!"), 0, "safe", "FIELD_CHANGED_KIND_SAFE"),
]


@pytest.mark.parametrize(("what", "edit", "exit_code", "severity", "change_code"), CHANGES, ids=[c[0] for c in CHANGES])
def test_check_classifies_changes(
    tmp_path: Path, what: str, edit: tuple[str, str], exit_code: int, severity: str, change_code: str
) -> None:
    base = _base(tmp_path)
    config = _write(tmp_path, products=PRODUCTS.replace(*edit))
    code, out, err = _run("check", "--config", str(config), "--base", str(base), "--format", "json")
    assert code == exit_code, (out, err)
    changes = json.loads(out)["changes"]
    assert {"severity": severity, "code": change_code} in [{"severity": c["severity"], "code": c["code"]} for c in changes]


def test_check_input_changes(tmp_path: Path) -> None:
    with_input = PRODUCTS + "input Filter { name: String }\nextend type Query { search(f: Filter): [Product] }\n"
    base = tmp_path / "base.graphql"
    code, _, err = _run("compose", "--config", str(_write(tmp_path, products=with_input)), "--output", str(base))
    assert code == 0, err
    config = _write(tmp_path, products=with_input.replace("name: String", "name: String!"))
    code, out, _ = _run("check", "--config", str(config), "--base", str(base), "--format", "json")
    assert code == 1
    assert "FIELD_CHANGED_KIND" in [c["code"] for c in json.loads(out)["changes"]]
    config = _write(tmp_path, products=with_input.replace("name: String", "name: String\n  limit: Int!"))
    code, out, _ = _run("check", "--config", str(config), "--base", str(base), "--format", "json")
    assert code == 1
    assert "REQUIRED_INPUT_FIELD_ADDED" in [c["code"] for c in json.loads(out)["changes"]]


def test_check_no_change_exit_0_text(tmp_path: Path) -> None:
    base = _base(tmp_path)
    code, out, _ = _run("check", "--config", str(_write(tmp_path)), "--base", str(base))
    assert code == 0
    assert "0 breaking, 0 dangerous, 0 safe" in out


def test_check_github_annotations_point_at_subgraph_line(tmp_path: Path) -> None:
    base = _base(tmp_path)
    config = _write(tmp_path, products=PRODUCTS.replace("price: Int", "price: String"))
    code, out, _ = _run("check", "--config", str(config), "--base", str(base), "--format", "github")
    assert code == 1
    line = next(x for x in out.splitlines() if "Product.price" in x)
    assert line.startswith(f"::error file={tmp_path / 'products.graphql'},line=3::breaking change")


def test_check_not_composing_exit_1(tmp_path: Path) -> None:
    base = _base(tmp_path)
    config = _write(tmp_path, products=PRODUCTS.replace("@key(fields: \"id\")", "@key(fields: \"nope\")"))
    code, out, _ = _run("check", "--config", str(config), "--base", str(base), "--format", "json")
    assert code == 1
    assert json.loads(out)["errors"][0]["code"] == "KEY_INVALID_FIELDS"


def test_check_usage_errors_exit_2(tmp_path: Path) -> None:
    config = _write(tmp_path)
    code, _, _ = _run("check", "--config", str(config), "--base", str(tmp_path / "missing.graphql"))
    assert code == 2
    code, _, _ = _run("check", "--config", str(config))
    assert code == 2


def test_check_github_points_composition_errors_at_the_line(tmp_path: Path) -> None:
    base = _base(tmp_path)
    broken = REVIEWS.replace("type Review { body: String }", "type Review { body: String }\ntype Product { id: ID! }")
    config = _write(tmp_path, reviews=broken)
    code, out, _ = _run("check", "--config", str(config), "--base", str(base), "--format", "github")
    assert code == 1
    assert out.startswith(f"::error file={tmp_path / 'products.graphql'},line=3,col=")
    assert "INVALID_FIELD_SHARING" in out

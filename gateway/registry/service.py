"""What the registry does, as plain functions over one database (the HTTP API and tests call these).

Publishing is one transaction under the variant's lock: store the subgraph version, compose it
with the variant's other current subgraphs, record the composition attempt, and only when it
composes point the variant's subgraph at the new version and add a supergraph version. A failed
composition is recorded (with Apollo's error codes) and changes nothing a gateway sees.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.composition import SubgraphInput, compose, diff_supergraphs

from . import usage as usage_mod
from .errors import (
    BAD_REQUEST,
    COMPOSITION_FAILED,
    GRAPH_EXISTS,
    GRAPH_NOT_FOUND,
    INVALID_GRAPH_REF,
    INVALID_SDL,
    NO_SUPERGRAPH,
    SUBGRAPH_NOT_FOUND,
    VARIANT_NOT_FOUND,
    VERSION_NOT_FOUND,
    RegistryError,
)
from .store import Connection, Database

DEFAULT_VARIANT = "current"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
DEFAULT_WINDOW = 7 * 24 * 3600.0


def check_name(kind: str, name: str) -> str:
    """`name` if it is a valid graph/variant/subgraph name, else BAD_REQUEST."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistryError(BAD_REQUEST, f"invalid {kind} name {str(name)[:80]!r}: letters, digits, _ and -, "
                            "starting with a letter, at most 64")
    return name


def parse_graph_ref(ref: str) -> tuple[str, str]:
    """`shop@prod` -> ("shop", "prod"); `shop` -> ("shop", "current"), like Apollo's graph refs."""
    graph, _, variant = ref.partition("@")
    try:
        return check_name("graph", graph), check_name("variant", variant or DEFAULT_VARIANT)
    except RegistryError as exc:
        raise RegistryError(INVALID_GRAPH_REF, f"invalid graph ref {ref!r}: {exc.message}") from exc


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _check_sdl(sdl: Any) -> str:
    from graphql import GraphQLSyntaxError, parse

    if not isinstance(sdl, str) or not sdl.strip():
        raise RegistryError(INVALID_SDL, "`sdl` must be a non-empty string of GraphQL SDL")
    try:
        parse(sdl)
    except GraphQLSyntaxError as exc:
        loc = exc.locations[0] if exc.locations else None
        where = f" at line {loc.line}, column {loc.column}" if loc else ""
        raise RegistryError(INVALID_SDL, f"the SDL does not parse{where}: {exc.message}") from exc
    return sdl


def check_url(url: Any) -> str:
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url) or len(url) > 2048:
        raise RegistryError(BAD_REQUEST, "`routing_url` must be an http(s) URL")
    return url


# -- graphs and variants --------------------------------------------------------------------------

def create_graph(db: Database, name: str) -> dict[str, Any]:
    """Create a graph (admin); GRAPH_EXISTS (409) when it is there already."""
    check_name("graph", name)
    with db.transaction(lock=f"graph:{name}") as conn:
        if conn.execute("SELECT id FROM graphs WHERE name = ?", (name,)):
            raise RegistryError(GRAPH_EXISTS, f"graph {name!r} already exists", 409)
        conn.execute("INSERT INTO graphs (name, created_at) VALUES (?, ?)", (name, time.time()))
    return {"name": name}


def list_graphs(db: Database) -> list[dict[str, Any]]:
    """Every graph with its variants."""
    with db.transaction() as conn:
        graphs = conn.execute("SELECT id, name, created_at FROM graphs ORDER BY name")
        variants = conn.execute("SELECT graph_id, name, current_version FROM variants ORDER BY name")
    return [{"name": g["name"], "created_at": g["created_at"],
             "variants": [{"name": v["name"], "current_version": v["current_version"]}
                          for v in variants if v["graph_id"] == g["id"]]} for g in graphs]


def require_graph(conn: Connection, graph: str) -> int:
    rows = conn.execute("SELECT id FROM graphs WHERE name = ?", (graph,))
    if not rows:
        raise RegistryError(GRAPH_NOT_FOUND, f"no graph named {graph!r} (an admin creates it: fedgate graph create)", 404)
    return int(rows[0]["id"])


def _variant(conn: Connection, graph: str, variant: str, create: bool = False) -> dict[str, Any]:
    graph_id = require_graph(conn, graph)
    rows = conn.execute("SELECT id, current_version FROM variants WHERE graph_id = ? AND name = ?", (graph_id, variant))
    if rows:
        return rows[0]
    if not create:
        raise RegistryError(VARIANT_NOT_FOUND, f"graph {graph!r} has no variant {variant!r}", 404)
    conn.execute("INSERT INTO variants (graph_id, name, created_at) VALUES (?, ?, ?)", (graph_id, variant, time.time()))
    return conn.execute("SELECT id, current_version FROM variants WHERE graph_id = ? AND name = ?",
                        (graph_id, variant))[0]


def _lock(graph: str, variant: str) -> str:
    return f"variant:{graph}@{variant}"


def _current_subgraphs(conn: Connection, variant_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT s.id, s.name, s.routing_url, s.sdl, s.sdl_sha256, s.created_at, s.published_by"
        " FROM variant_subgraphs v JOIN subgraph_versions s ON s.id = v.subgraph_version_id"
        " WHERE v.variant_id = ? ORDER BY s.name", (variant_id,))


def _supergraph_row(conn: Connection, variant_id: int, version: int | None) -> dict[str, Any] | None:
    if version is None:
        return None
    rows = conn.execute("SELECT version, sdl, sha256, subgraphs, reason, created_at, composition_id"
                        " FROM supergraph_versions WHERE variant_id = ? AND version = ?", (variant_id, version))
    return rows[0] if rows else None


def _add_version(conn: Connection, variant_id: int, sdl: str, subgraphs: dict[str, int], composition_id: int | None,
                 reason: str) -> int:
    last = conn.execute("SELECT MAX(version) AS v FROM supergraph_versions WHERE variant_id = ?", (variant_id,))
    version = int(last[0]["v"] or 0) + 1
    conn.execute(
        "INSERT INTO supergraph_versions (variant_id, version, sdl, sha256, subgraphs, composition_id, reason,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (variant_id, version, sdl, _sha256(sdl), orjson.dumps(subgraphs).decode(), composition_id, reason,
         time.time()),
    )
    conn.execute("UPDATE variants SET current_version = ? WHERE id = ?", (version, variant_id))
    return version


# -- publish and check ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PublishResult:
    """What a publish did: `published` (new supergraph), `unchanged`, or refused (`COMPOSITION_FAILED`)."""

    status: str
    supergraph_version: int | None
    composition: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "supergraph_version": self.supergraph_version, "composition": self.composition}


def _composition_json(cid: int, succeeded: bool, errors: list[dict[str, Any]], hints: list[dict[str, Any]],
                      version: int | None) -> dict[str, Any]:
    return {"id": cid, "succeeded": succeeded, "errors": errors, "hints": hints, "supergraph_version": version}


def publish(db: Database, graph: str, variant: str, name: str, sdl: Any, routing_url: Any,
            published_by: str | None = None) -> PublishResult:
    """Publish one subgraph (see the module docstring); raises COMPOSITION_FAILED (422) when it does not compose.

    Without `routing_url` the subgraph keeps the one it has (BAD_REQUEST on its first publish)."""
    check_name("subgraph", name)
    sdl = _check_sdl(sdl)
    if routing_url is not None:
        routing_url = check_url(routing_url)
    digest = _sha256(sdl)
    with db.transaction(lock=_lock(graph, variant)) as conn:
        v = _variant(conn, graph, variant, create=True)
        variant_id = int(v["id"])
        current = _current_subgraphs(conn, variant_id)
        mine = next((s for s in current if s["name"] == name), None)
        if routing_url is None:  # as rover: a later publish may keep the URL it has
            if mine is None:
                raise RegistryError(BAD_REQUEST, f"the first publish of {name} needs a `routing_url`")
            routing_url = mine["routing_url"]
        if mine is not None and mine["sdl_sha256"] == digest and mine["routing_url"] == routing_url \
                and v["current_version"] is not None:
            return PublishResult("unchanged", int(v["current_version"]), None)
        now = time.time()
        conn.execute(
            "INSERT INTO subgraph_versions (variant_id, name, routing_url, sdl, sdl_sha256, published_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (variant_id, name, routing_url, sdl, digest, published_by, now))
        sv_id = int(conn.execute("SELECT MAX(id) AS id FROM subgraph_versions WHERE variant_id = ? AND name = ?",
                                 (variant_id, name))[0]["id"])
        inputs = [SubgraphInput(s["name"], s["routing_url"], s["sdl"]) for s in current if s["name"] != name]
        inputs.append(SubgraphInput(name, routing_url, sdl))
        inputs.sort(key=lambda i: i.name)
        result = compose(inputs)
        errors = [e.to_dict() for e in result.errors]
        hints = [{"code": h.code, "message": h.message} for h in result.hints]
        ok = result.supergraph_sdl is not None and not result.errors
        conn.execute(
            "INSERT INTO compositions (variant_id, reason, subgraph, subgraph_version_id, succeeded, errors, hints,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (variant_id, "publish", name, sv_id, 1 if ok else 0, orjson.dumps(errors).decode(),
             orjson.dumps(hints).decode(), now))
        cid = int(conn.execute("SELECT MAX(id) AS id FROM compositions WHERE variant_id = ?", (variant_id,))[0]["id"])
        if not ok:
            composition = _composition_json(cid, False, errors, hints, None)
            # The attempt is kept: commit it, then refuse (raising inside would roll it back).
            failed = RegistryError(COMPOSITION_FAILED, f"{name} does not compose with {graph}@{variant}: "
                                   + "; ".join(f"[{e['code']}] {e['message']}" for e in errors[:5]), 422,
                                   composition=composition)
        else:
            failed = None
            conn.execute(
                "INSERT INTO variant_subgraphs (variant_id, name, subgraph_version_id) VALUES (?, ?, ?)"
                " ON CONFLICT (variant_id, name) DO UPDATE SET subgraph_version_id = excluded.subgraph_version_id",
                (variant_id, name, sv_id))
            assert result.supergraph_sdl is not None
            served = _supergraph_row(conn, variant_id, v["current_version"])
            if served is not None and served["sha256"] == _sha256(result.supergraph_sdl):
                version: int = int(v["current_version"])
                status = "unchanged"
            else:
                subgraphs = {s["name"]: int(s["id"]) for s in current if s["name"] != name} | {name: sv_id}
                version = _add_version(conn, variant_id, result.supergraph_sdl, dict(sorted(subgraphs.items())), cid,
                                       f"publish {name}")
                status = "published"
            conn.execute("UPDATE compositions SET supergraph_version = ? WHERE id = ?", (version, cid))
            composition = _composition_json(cid, True, [], hints, version)
    if failed is not None:
        raise failed
    return PublishResult(status, version, composition)


def check(db: Database, graph: str, variant: str, name: str, sdl: Any, window: float = DEFAULT_WINDOW,
          min_requests: int = 1, routing_url: str | None = None) -> dict[str, Any]:
    """Compose `sdl` as subgraph `name` with the variant's others, diff against the served supergraph, weigh usage."""
    check_name("subgraph", name)
    sdl = _check_sdl(sdl)
    with db.transaction() as conn:
        graph_id = require_graph(conn, graph)
        rows = conn.execute("SELECT id, current_version FROM variants WHERE graph_id = ? AND name = ?",
                            (graph_id, variant))
        variant_id = int(rows[0]["id"]) if rows else None
        current = _current_subgraphs(conn, variant_id) if variant_id is not None else []
        served = _supergraph_row(conn, variant_id, rows[0]["current_version"]) if variant_id is not None else None
    mine = next((s for s in current if s["name"] == name), None)
    url = routing_url or (mine["routing_url"] if mine else "http://subgraph.invalid/graphql")
    inputs = [SubgraphInput(s["name"], s["routing_url"], s["sdl"]) for s in current if s["name"] != name]
    inputs.append(SubgraphInput(name, url, sdl))
    inputs.sort(key=lambda i: i.name)
    result = compose(inputs)
    if result.errors or result.supergraph_sdl is None:
        return {"composed": False, "errors": [e.to_dict() for e in result.errors],
                "hints": [{"code": h.code, "message": h.message} for h in result.hints]}
    changes = diff_supergraphs(served["sdl"], result.supergraph_sdl) if served is not None else []
    with db.transaction() as conn:
        checked = usage_mod.classify(conn, variant_id, changes, window, min_requests)
    return {
        "composed": True,
        "base_version": served["version"] if served is not None else None,
        "window_seconds": window,
        "min_requests": min_requests,
        "changes": [c.to_json() for c in checked],
        "hints": [{"code": h.code, "message": h.message} for h in result.hints],
    }


# -- reading --------------------------------------------------------------------------------------

def supergraph(db: Database, graph: str, variant: str, version: int | None = None) -> dict[str, Any]:
    """The current (or a given) supergraph version: `version`, `sdl`, `sha256`, `created_at`."""
    with db.transaction() as conn:
        v = _variant(conn, graph, variant)
        wanted = version if version is not None else v["current_version"]
        row = _supergraph_row(conn, int(v["id"]), wanted)
    if row is None:
        if version is not None:
            raise RegistryError(VERSION_NOT_FOUND, f"{graph}@{variant} has no supergraph version {version}", 404)
        raise RegistryError(NO_SUPERGRAPH, f"{graph}@{variant} has no supergraph yet: nothing composed", 404)
    return {"version": int(row["version"]), "sdl": row["sdl"], "sha256": row["sha256"], "created_at": row["created_at"],
            "reason": row["reason"], "subgraphs": orjson.loads(row["subgraphs"]),
            "current": int(row["version"]) == v["current_version"]}


def list_variants(db: Database, graph: str) -> list[dict[str, Any]]:
    """The variants of a graph with their current version."""
    with db.transaction() as conn:
        graph_id = require_graph(conn, graph)
        rows = conn.execute("SELECT name, current_version, created_at FROM variants WHERE graph_id = ? ORDER BY name",
                            (graph_id,))
    return rows


def list_subgraphs(db: Database, graph: str, variant: str) -> list[dict[str, Any]]:
    """The variant's current subgraphs: name, routing URL, subgraph version id, when and by whom published."""
    with db.transaction() as conn:
        v = _variant(conn, graph, variant)
        rows = _current_subgraphs(conn, int(v["id"]))
    return [{"name": r["name"], "routing_url": r["routing_url"], "id": r["id"], "sha256": r["sdl_sha256"],
             "published_at": r["created_at"], "published_by": r["published_by"]} for r in rows]


def fetch_subgraph(db: Database, graph: str, variant: str, name: str) -> dict[str, Any]:
    """One current subgraph with its SDL."""
    for s in list_subgraphs(db, graph, variant):
        if s["name"] == name:
            with db.transaction() as conn:
                row = conn.execute("SELECT sdl FROM subgraph_versions WHERE id = ?", (s["id"],))[0]
            return {**s, "sdl": row["sdl"]}
    raise RegistryError(SUBGRAPH_NOT_FOUND, f"{graph}@{variant} has no subgraph {name!r}", 404)


def history(db: Database, graph: str, variant: str, limit: int = 100) -> list[dict[str, Any]]:
    """Supergraph versions, newest first (no SDL; fetch one version for that)."""
    with db.transaction() as conn:
        v = _variant(conn, graph, variant)
        rows = conn.execute(
            "SELECT version, sha256, subgraphs, reason, created_at, composition_id FROM supergraph_versions"
            " WHERE variant_id = ? ORDER BY version DESC LIMIT ?", (v["id"], limit))
    return [{"version": int(r["version"]), "sha256": r["sha256"], "reason": r["reason"], "created_at": r["created_at"],
             "composition_id": r["composition_id"], "subgraphs": orjson.loads(r["subgraphs"]),
             "current": int(r["version"]) == v["current_version"]} for r in rows]


def compositions(db: Database, graph: str, variant: str, limit: int = 100) -> list[dict[str, Any]]:
    """Composition attempts, newest first, with their errors and hints."""
    with db.transaction() as conn:
        v = _variant(conn, graph, variant)
        rows = conn.execute(
            "SELECT id, reason, subgraph, succeeded, errors, hints, supergraph_version, created_at FROM compositions"
            " WHERE variant_id = ? ORDER BY id DESC LIMIT ?", (v["id"], limit))
    return [{"id": r["id"], "reason": r["reason"], "subgraph": r["subgraph"], "succeeded": bool(r["succeeded"]),
             "errors": orjson.loads(r["errors"]), "hints": orjson.loads(r["hints"]),
             "supergraph_version": r["supergraph_version"], "created_at": r["created_at"]} for r in rows]


def diff(db: Database, graph: str, variant: str, old: int, new: int) -> dict[str, Any]:
    """The API-schema changes from version `old` to version `new`, classified like `fedgate check`."""
    a = supergraph(db, graph, variant, old)
    b = supergraph(db, graph, variant, new)
    changes = diff_supergraphs(a["sdl"], b["sdl"])
    return {"from": old, "to": new, "changes": [
        {"severity": c.severity, "code": c.code, "message": c.message, "coordinate": c.coordinate} for c in changes]}


def rollback(db: Database, graph: str, variant: str, version: int) -> dict[str, Any]:
    """Serve version `version` again, as a new version; the variant's subgraphs go back to that version's."""
    with db.transaction(lock=_lock(graph, variant)) as conn:
        v = _variant(conn, graph, variant)
        variant_id = int(v["id"])
        row = _supergraph_row(conn, variant_id, version)
        if row is None:
            raise RegistryError(VERSION_NOT_FOUND, f"{graph}@{variant} has no supergraph version {version}", 404)
        subgraphs: dict[str, int] = orjson.loads(row["subgraphs"])
        conn.execute("DELETE FROM variant_subgraphs WHERE variant_id = ?", (variant_id,))
        for name, sv_id in subgraphs.items():
            conn.execute("INSERT INTO variant_subgraphs (variant_id, name, subgraph_version_id) VALUES (?, ?, ?)",
                         (variant_id, name, sv_id))
        conn.execute(
            "INSERT INTO compositions (variant_id, reason, subgraph, subgraph_version_id, succeeded, errors, hints,"
            " created_at) VALUES (?, ?, NULL, NULL, 1, '[]', '[]', ?)", (variant_id, f"rollback to {version}",
                                                                        time.time()))
        cid = int(conn.execute("SELECT MAX(id) AS id FROM compositions WHERE variant_id = ?", (variant_id,))[0]["id"])
        new_version = _add_version(conn, variant_id, row["sdl"], subgraphs, cid, f"rollback to {version}")
        conn.execute("UPDATE compositions SET supergraph_version = ? WHERE id = ?", (new_version, cid))
    return {"status": "rolled_back", "supergraph_version": new_version, "restored": version}


def report_usage(db: Database, graph: str, variant: str, body: Any) -> dict[str, Any]:
    """Validate and store one usage report; BAD_USAGE_REPORT (400) stores nothing."""
    report = usage_mod.parse_report(body)
    with db.transaction(lock=f"usage:{graph}@{variant}") as conn:
        v = _variant(conn, graph, variant)
        requests = usage_mod.store_report(conn, int(v["id"]), report)
    return {"accepted": True, "operations": len(report.operations), "requests": requests}

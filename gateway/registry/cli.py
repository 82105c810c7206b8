"""The registry's commands on the `fedgate` click group: `register(main)` adds them (gateway/cli.py calls it).

fedgate registry serve | registry token create      the service and its tokens
fedgate publish | check --registry                  what a service team's CI runs
fedgate subgraph list|fetch, graph create|history|fetch|diff|rollback   for humans
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import COMPOSITION_FAILED, RegistryError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_REGISTRY = "http://127.0.0.1:4100"
DEFAULT_PORT = 4100


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"fedgate: error: {message}", err=True)
    sys.exit(code)


def _registry_error(exc: RegistryError) -> NoReturn:
    _fail(f"[{exc.code}] {exc.message}", EXIT_FAILED if exc.code == COMPOSITION_FAILED else EXIT_USAGE)


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--registry and --token, from the environment when not given."""
    fn = click.option("--token", envvar="FEDGATE_REGISTRY_TOKEN", default=None,
                      help="API token (env FEDGATE_REGISTRY_TOKEN).")(fn)
    fn = click.option("--registry", "registry_url", envvar="FEDGATE_REGISTRY_URL", default=DEFAULT_REGISTRY,
                      show_default=True, help="Registry URL (env FEDGATE_REGISTRY_URL).")(fn)
    return fn


def _client(registry_url: str, token: str | None) -> Any:
    from .client import RegistryClient

    return RegistryClient(registry_url, token)


def _ref(ref: str) -> tuple[str, str]:
    from .service import parse_graph_ref

    try:
        return parse_graph_ref(ref)
    except RegistryError as exc:
        _fail(exc.message)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}")


def parse_duration(text: str) -> float:
    """`7d`, `12h`, `30m`, `45s` or plain seconds -> seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration like 7d, 12h, 30m or 3600")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- fedgate registry ------------------------------------------------------------------------------

@click.group("registry")
def registry_group() -> None:
    """The schema registry: `serve` it, create its tokens."""


@registry_group.command("serve")
@click.option("--database", envvar="FEDGATE_REGISTRY_DATABASE", default="var/registry.db", show_default=True,
              help="SQLite file, or postgresql://user@host:port/db (env FEDGATE_REGISTRY_DATABASE).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option("--admin-token", envvar="FEDGATE_REGISTRY_ADMIN_TOKEN", default=None,
              help="Admin token (env FEDGATE_REGISTRY_ADMIN_TOKEN); a random one is printed when not given.")
@click.option("--max-body-bytes", default=5_000_000, show_default=True, type=click.IntRange(1024),
              help="Largest request body (413 above).")
@click.option("--log-level", default="info", show_default=True)
def serve(database: str, host: str, port: int, admin_token: str | None, max_body_bytes: int, log_level: str) -> None:
    """Serve the registry's JSON API (docs/registry.md); migrations are applied on start."""
    import uvicorn

    from .api import create_registry_app
    from .store import open_database

    db = open_database(database)
    try:
        version = db.migrate()
    except RegistryError as exc:
        _fail(exc.message)
    except Exception as exc:  # noqa: BLE001 - a broken database is a one-line startup error
        _fail(f"cannot prepare the database {database.split('@')[-1]}: {exc}")
    if not admin_token:
        admin_token = f"fgr_admin_{secrets.token_urlsafe(24)}"
        click.echo(f"fedgate registry: no --admin-token given; this run's admin token is {admin_token}", err=True)
    where = database.split("@")[-1]  # never print a password from a postgresql:// URL
    click.echo(f"fedgate registry: {db.dialect} {where} (schema v{version}) on http://{host}:{port}", err=True)
    app = create_registry_app(db, admin_token, max_body_bytes)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
    db.close()


@registry_group.group("token")
def token_group() -> None:
    """API tokens (admin only)."""


@token_group.command("create")
@_options
@click.option("--kind", type=click.Choice(["publish", "read"]), required=True)
@click.option("--graph", "graph", required=True, help="Graph name (a token covers all its variants).")
@click.option("--subgraph", default=None, help="Subgraph a publish token may publish.")
@click.option("--label", default=None, help="A note on who holds it.")
def token_create(registry_url: str, token: str | None, kind: str, graph: str, subgraph: str | None,
                 label: str | None) -> None:
    """Create a token and print it (stdout, once: only its hash is stored)."""
    try:
        made = _client(registry_url, token).create_token(kind, graph, subgraph, label)
    except RegistryError as exc:
        _registry_error(exc)
    click.echo(made["token"])


# -- fedgate publish / check ------------------------------------------------------------------------

@click.command("publish")
@_options
@click.option("--graph", "graph_ref", required=True, help="Graph ref: graph@variant (e.g. shop@prod).")
@click.option("--name", required=True, help="Subgraph name.")
@click.option("--schema", "schema_path", required=True, type=click.Path(), help="Subgraph SDL file ('-': stdin).")
@click.option("--routing-url", default=None, help="Where gateways send this subgraph's fetches (default: keep the current one).")
def publish(registry_url: str, token: str | None, graph_ref: str, name: str, schema_path: str,
            routing_url: str | None) -> None:
    """Publish a subgraph: it is served only if the variant still composes (exit 1 and its errors otherwise)."""
    graph, variant = _ref(graph_ref)
    sdl = sys.stdin.read() if schema_path == "-" else _read(schema_path)
    try:
        result = _client(registry_url, token).publish(graph, variant, name, sdl, routing_url)
    except RegistryError as exc:
        if exc.code == COMPOSITION_FAILED:
            for e in exc.extensions.get("composition", {}).get("errors", []):
                click.echo(f"error[{e['code']}]: {e['message']}", err=True)
            _fail(f"{name} was not published: it does not compose with {graph}@{variant}", EXIT_FAILED)
        _registry_error(exc)
    for h in (result.get("composition") or {}).get("hints", []):
        click.echo(f"hint[{h['code']}]: {h['message']}", err=True)
    if result["status"] == "published":
        click.echo(f"published {name} to {graph}@{variant}: supergraph version {result['supergraph_version']}")
    else:
        click.echo(f"{name} unchanged in {graph}@{variant}: supergraph version {result['supergraph_version']}")


def _registry_check(registry_url: str, token: str | None, graph_ref: str | None, name: str | None,
                    schema_path: str | None, window: str, min_requests: int, fmt: str) -> None:
    from gateway.composition.commands import _gh_escape, _locate

    if not (graph_ref and name and schema_path):
        _fail("with --registry, give --graph, --name and --schema")
    graph, variant = _ref(graph_ref)
    sdl = _read(schema_path)
    try:
        seconds = parse_duration(window)
    except click.BadParameter as exc:
        _fail(exc.message)
    try:
        result = _client(registry_url, token).check(graph, variant, name, sdl, seconds, min_requests)
    except RegistryError as exc:
        _registry_error(exc)
    if not result["composed"]:
        if fmt == "json":
            click.echo(json.dumps(result, indent=2))
        elif fmt == "github":
            for e in result["errors"]:
                loc = next((x for x in e["locations"] if x["subgraph"] == name), None)
                where = f" file={schema_path}" + (f",line={loc['line']},col={loc['column']}" if loc else "")
                click.echo(f"::error{where}::{_gh_escape(e['code'] + ': ' + e['message'])}")
        else:
            for e in result["errors"]:
                click.echo(f"error[{e['code']}]: {e['message']}", err=True)
            click.echo(f"fedgate: composition failed with {len(result['errors'])} error(s)", err=True)
        sys.exit(EXIT_FAILED)
    changes = result["changes"]
    breaking = [c for c in changes if c["severity"] == "breaking"]
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
        sys.exit(EXIT_FAILED if breaking else EXIT_OK)
    sources: list[tuple[str, Path | None, str]] = [(name, Path(schema_path), sdl)]
    for c in changes:
        text = f"{c['severity']} change ({c['code']}): {c['message']}{_usage_note(c, window)}"
        if fmt == "github":
            level = {"breaking": "error", "dangerous": "warning"}.get(c["severity"], "notice")
            found = _locate(c["coordinate"], sources)
            where = f" file={found[0]},line={found[1]}" if found else ""
            click.echo(f"::{level}{where}::{_gh_escape(text)}")
        else:
            click.echo(f"{c['severity'].upper():9} {c['code']}: {c['message']}{_usage_note(c, window)}")
    if fmt == "text":
        n_dangerous = sum(1 for c in changes if c["severity"] == "dangerous")
        lowered = sum(1 for c in changes if c["severity"] == "safe" and c["schema_severity"] == "breaking")
        click.echo(f"{len(breaking)} breaking, {n_dangerous} dangerous, {len(changes) - len(breaking) - n_dangerous} "
                   f"safe ({lowered} breaking in the schema but unused in {window}) against "
                   f"{graph}@{variant} version {result['base_version']}")
    sys.exit(EXIT_FAILED if breaking else EXIT_OK)


def _usage_note(change: dict[str, Any], window: str) -> str:
    usage = change.get("usage")
    if usage is None:
        return ""
    if change["severity"] != "breaking":
        return f" (unused in the last {window})"
    ops = ", ".join(f"{o['name'] or o['hash'][:12]} ({o['requests']})" for o in usage["operations"][:5])
    clients = ", ".join(f"{c['name'] or 'unknown'}{' ' + c['version'] if c['version'] else ''} ({c['requests']})"
                        for c in usage["clients"][:5])
    return f" -- used by {usage['requests']} request(s) in the last {window}: operations {ops}; clients {clients}"


def _extend_check(main: click.Group) -> None:
    """`fedgate check` also takes --registry/--graph/--name/--schema; without --registry it is unchanged."""
    local = main.commands.get("check")
    if local is None or local.callback is None:
        return
    local_callback = local.callback
    params: list[click.Parameter] = []
    for p in local.params:
        q = copy.copy(p)
        if p.name in ("config_path", "base"):
            q.required = False
        params.append(q)
    params += [
        click.Option(["--registry", "registry_url"], default=None, help="Check against a registry variant instead."),
        click.Option(["--token"], envvar="FEDGATE_REGISTRY_TOKEN", default=None, help="Registry token (read or publish)."),
        click.Option(["--graph", "graph_ref"], default=None, help="With --registry: graph@variant."),
        click.Option(["--name"], default=None, help="With --registry: the subgraph being changed."),
        click.Option(["--schema", "schema_path"], default=None, help="With --registry: its new SDL file."),
        click.Option(["--window"], default="7d", show_default=True,
                     help="With --registry: usage window; a breaking change unused in it is safe."),
        click.Option(["--min-requests"], default=1, show_default=True, type=click.IntRange(1),
                     help="With --registry: requests in the window that make a change breaking."),
    ]

    def callback(**kw: Any) -> None:
        if kw["registry_url"] is not None:
            _registry_check(kw["registry_url"], kw["token"], kw["graph_ref"], kw["name"], kw["schema_path"],
                            kw["window"], kw["min_requests"], kw["fmt"])
            return
        if not kw["config_path"] or not kw["base"]:
            _fail("give --config and --base (or --registry, --graph, --name and --schema)")
        local_callback(kw["config_path"], kw["base"], kw["fmt"])

    main.add_command(click.Command(
        "check", callback=callback, params=params,
        help=(local.help or "") + "\n\nWith --registry: compose against the variant's current subgraphs and lower "
        "breaking changes no client used in --window to safe; the ones used name their operations and clients."))


# -- fedgate subgraph / graph ------------------------------------------------------------------------

@click.group("subgraph")
def subgraph_group() -> None:
    """A variant's subgraphs in the registry."""


@subgraph_group.command("list")
@_options
@click.argument("graph_ref")
def subgraph_list(registry_url: str, token: str | None, graph_ref: str) -> None:
    """The variant's current subgraphs and routing URLs."""
    graph, variant = _ref(graph_ref)
    try:
        items = _client(registry_url, token).subgraphs(graph, variant)
    except RegistryError as exc:
        _registry_error(exc)
    for s in items:
        click.echo(f"{s['name']:20} {s['routing_url']:40} {_when(s['published_at'])}")


@subgraph_group.command("fetch")
@_options
@click.argument("graph_ref")
@click.option("--name", required=True)
def subgraph_fetch(registry_url: str, token: str | None, graph_ref: str, name: str) -> None:
    """Print a subgraph's current SDL."""
    graph, variant = _ref(graph_ref)
    try:
        found = _client(registry_url, token).subgraph(graph, variant, name)
    except RegistryError as exc:
        _registry_error(exc)
    click.echo(found["sdl"])


@click.group("graph")
def graph_group() -> None:
    """Graphs in the registry: create, history, fetch, diff, rollback."""


@graph_group.command("create")
@_options
@click.argument("name")
def graph_create(registry_url: str, token: str | None, name: str) -> None:
    """Create a graph (admin token)."""
    try:
        _client(registry_url, token).create_graph(name)
    except RegistryError as exc:
        _registry_error(exc)
    click.echo(f"created graph {name}")


@graph_group.command("history")
@_options
@click.argument("graph_ref")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def graph_history(registry_url: str, token: str | None, graph_ref: str, limit: int) -> None:
    """Supergraph versions, newest first (`*` marks the one served)."""
    graph, variant = _ref(graph_ref)
    try:
        items = _client(registry_url, token).history(graph, variant, limit)
    except RegistryError as exc:
        _registry_error(exc)
    for v in items:
        mark = "*" if v["current"] else " "
        click.echo(f"{mark} v{v['version']:<5} {_when(v['created_at'])}  {v['sha256'][:12]}  {v['reason']}")


@graph_group.command("fetch")
@_options
@click.argument("graph_ref")
@click.option("--version", "version", default=None, type=int, help="A past version instead of the current one.")
def graph_fetch(registry_url: str, token: str | None, graph_ref: str, version: int | None) -> None:
    """Print the supergraph SDL."""
    graph, variant = _ref(graph_ref)
    try:
        click.echo(_client(registry_url, token).supergraph(graph, variant, version))
    except RegistryError as exc:
        _registry_error(exc)


@graph_group.command("diff")
@_options
@click.argument("graph_ref")
@click.option("--from", "old", required=True, type=int)
@click.option("--to", "new", required=True, type=int)
def graph_diff(registry_url: str, token: str | None, graph_ref: str, old: int, new: int) -> None:
    """API changes between two supergraph versions, classified like `fedgate check`."""
    graph, variant = _ref(graph_ref)
    try:
        result = _client(registry_url, token).diff(graph, variant, old, new)
    except RegistryError as exc:
        _registry_error(exc)
    for c in result["changes"]:
        click.echo(f"{c['severity'].upper():9} {c['code']}: {c['message']}")
    click.echo(f"{len(result['changes'])} change(s) from v{old} to v{new}")


@graph_group.command("rollback")
@_options
@click.argument("graph_ref")
@click.option("--to-version", "version", required=True, type=int)
def graph_rollback(registry_url: str, token: str | None, graph_ref: str, version: int) -> None:
    """Serve an earlier supergraph version again (admin token); it becomes a new version."""
    graph, variant = _ref(graph_ref)
    try:
        result = _client(registry_url, token).rollback(graph, variant, version)
    except RegistryError as exc:
        _registry_error(exc)
    click.echo(f"{graph}@{variant} serves v{version} again as v{result['supergraph_version']}")


def register(main: click.Group) -> None:
    """Add the registry's commands to the `fedgate` group (and --registry to `fedgate check`)."""
    for command in (registry_group, publish, subgraph_group, graph_group):
        main.add_command(command)
    _extend_check(main)

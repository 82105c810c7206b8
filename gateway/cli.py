"""The `fedgate` command line: a click group so each layer can add its commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import orjson

from gateway.config import ConfigError, GatewayConfig, load_config


def _fail(message: str) -> NoReturn:
    click.echo(f"fedgate: error: {message}", err=True)
    sys.exit(1)


def _load_supergraph(path: str) -> Any:
    """Read and load the supergraph at `path`, or exit 1 with a one-line reason."""
    try:
        sdl = Path(path).read_text()
    except OSError as exc:
        _fail(f"cannot read supergraph {path}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        _fail(f"cannot read supergraph {path}: not UTF-8 text")
    return _load_supergraph_sdl(sdl, path)


def _load_supergraph_sdl(sdl: str, source: str) -> Any:
    """Load supergraph SDL read from `source`, or exit 1 with a one-line reason."""
    from gateway.supergraph import SupergraphError, load_supergraph

    try:
        return load_supergraph(sdl)
    except SupergraphError as exc:
        _fail(f"invalid supergraph {source}: [{exc.code}] {exc.message}")
    except Exception as exc:  # noqa: BLE001 - a loader bug must still give a one-line message
        _fail(f"invalid supergraph {source}: {type(exc).__name__}: {exc}")


@click.group()
@click.version_option(package_name="fedgate")
def main() -> None:
    """fedgate: a GraphQL federation gateway (Apollo Federation 2)."""


@main.command()
@click.option("--supergraph", "supergraph_path", default=None, type=click.Path(), help="Supergraph SDL file (reloaded when it changes).")
@click.option("--supergraph-url", default=None, help="Supergraph SDL URL (polled with ETag), instead of --supergraph.")
@click.option("--supergraph-token", envvar="FEDGATE_SUPERGRAPH_TOKEN", default=None,
              help="Bearer token for --supergraph-url, e.g. a registry read token (env FEDGATE_SUPERGRAPH_TOKEN).")
@click.option("--host", default=None, help="Listen address (default 127.0.0.1, or `host` in the config).")
@click.option("--port", default=None, type=int, help="Listen port (default 4000, or `port` in the config).")
@click.option("--config", "config_path", default=None, type=click.Path(), help="fedgate.yaml.")
@click.option("--log-level", default="info", show_default=True, help="uvicorn log level.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256), help="Gateway processes sharing the port (one core each).")
@click.option("--explorer/--no-explorer", default=None, help="Serve the explorer page at / (default: `explorer.enabled` in the config, off).")
def serve(
    supergraph_path: str | None,
    supergraph_url: str | None,
    host: str | None,
    port: int | None,
    config_path: str | None,
    log_level: str,
    workers: int = 1,
    explorer: bool | None = None,
    supergraph_token: str | None = None,
) -> None:
    """Serve the supergraph over HTTP: POST/GET /graphql, GET /health and /ready; SIGTERM drains."""
    if (supergraph_path is None) == (supergraph_url is None):
        _fail("give one of --supergraph PATH and --supergraph-url URL")
    try:
        config: GatewayConfig = load_config(config_path)
    except ConfigError as exc:
        _fail(exc.message)
    if config.plugins:  # every plugin found and configured before a port is bound or a worker forked
        from gateway.plugins import PluginConfigError, load_plugins

        try:
            load_plugins(config.plugins)
        except PluginConfigError as exc:
            _fail(exc.message)
    if host is not None:
        config = config.model_copy(update={"host": host})
    if port is not None:
        config = config.model_copy(update={"port": port})
    if explorer is not None:
        config = config.model_copy(update={"explorer": config.explorer.model_copy(update={"enabled": explorer})})

    if workers > 1:
        from gateway.server.workers import bind_socket, serve_workers

        if supergraph_path is not None:
            _load_supergraph(supergraph_path)  # refuse a broken supergraph once, before forking
        try:
            sock = bind_socket(config.host, config.port)
        except OSError as exc:
            _fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")

        def run_worker(sock: Any) -> None:
            _serve_one(supergraph_path, supergraph_url, config, log_level, sock, supergraph_token)

        serve_workers(workers, sock, run_worker)
    _serve_one(supergraph_path, supergraph_url, config, log_level, None, supergraph_token)


def _serve_one(
    supergraph_path: str | None, supergraph_url: str | None, config: GatewayConfig, log_level: str, sock: Any,
    supergraph_token: str | None = None,
) -> None:
    from gateway.observability.logging import configure_logging
    from gateway.server import create_app
    from gateway.server.lifecycle import fetch_supergraph
    from gateway.server.lifecycle import serve as serve_app

    if supergraph_path is not None:
        app = create_app(_load_supergraph(supergraph_path), config)
        app.state.lifecycle.watch_file(supergraph_path)
    else:
        assert supergraph_url is not None
        try:
            sdl, etag = fetch_supergraph(supergraph_url, supergraph_token)
        except Exception as exc:  # noqa: BLE001 - any fetch failure is a one-line startup error
            _fail(f"cannot fetch supergraph {supergraph_url}: {exc}")
        app = create_app(_load_supergraph_sdl(sdl, supergraph_url), config)
        app.state.lifecycle.watch_url(supergraph_url, etag, sdl, supergraph_token)
    configure_logging(config.telemetry.logging)  # text or JSON lines, each with the request id
    serve_app(app, config, app.state.lifecycle, log_level, sock)


@main.command()
@click.option("--supergraph", "supergraph_path", required=True, type=click.Path(), help="Supergraph SDL file.")
@click.option(
    "--variables", default=None, help="Variables as a JSON object: decides the plan's @skip/@include conditions."
)
@click.option("--operation-name", default=None, help="Operation to plan when the file holds several.")
@click.argument("operation_file", type=click.Path())
def plan(supergraph_path: str, operation_file: str, variables: str | None, operation_name: str | None) -> None:
    """Print the query plan of OPERATION_FILE in Apollo's text form."""
    from graphql import GraphQLError, parse, validate

    from gateway.errors import GatewayError, GatewayRequestError
    from gateway.execution import coerce_variables, select_operation
    from gateway.planning import build_query_plan, print_plan, resolve_conditions

    supergraph = _load_supergraph(supergraph_path)
    try:
        text = Path(operation_file).read_text()
    except OSError as exc:
        _fail(f"cannot read operation {operation_file}: {exc.strerror or exc}")
    parsed_variables = None
    if variables:
        try:
            parsed_variables = orjson.loads(variables)
        except orjson.JSONDecodeError:
            _fail("--variables is not valid JSON")
        if not isinstance(parsed_variables, dict):
            _fail("--variables must be a JSON object")
    try:
        document = parse(text)
    except GraphQLError as exc:
        _fail(f"{operation_file}: {exc}")
    errors = validate(supergraph.api_schema, document)
    if errors:
        _fail(f"{operation_file}: " + "; ".join(e.message for e in errors))
    try:
        operation = select_operation(document, operation_name)
        coerced = coerce_variables(supergraph.api_schema, operation, parsed_variables) if variables else None
    except GatewayRequestError as exc:
        _fail("; ".join(e["message"] for e in exc.errors))
    try:
        query_plan = build_query_plan(supergraph, document, operation_name)
    except GatewayError as exc:
        _fail(f"cannot plan {operation_file}: [{exc.code}] {exc.message}")
    except Exception as exc:  # noqa: BLE001 - a planner bug is still a one-line error, not a traceback
        _fail(f"cannot plan {operation_file}: [{type(exc).__name__}] {exc}")
    if coerced is not None:
        query_plan = resolve_conditions(query_plan, coerced)
    click.echo(print_plan(query_plan))


@main.command("dev")
@click.option("--config", "config_path", required=True, type=click.Path(), help="rover supergraph config (YAML): subgraphs by `file` or `subgraph_url`.")
@click.option("--gateway-config", "gateway_config", default=None, type=click.Path(), help="fedgate.yaml for the gateway (optional).")
@click.option("--host", default=None, help="Listen address (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Listen port (default 4000).")
@click.option("--poll-interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600), help="Seconds between polls of subgraph URLs (and file checks, should a notification be missed).")
@click.option("--color/--no-color", default=None, help="Colour the output (default: when stderr is a terminal).")
@click.option("--log-level", default="warning", show_default=True, help="uvicorn log level.")
def dev(
    config_path: str,
    gateway_config: str | None,
    host: str | None,
    port: int | None,
    poll_interval: float,
    color: bool | None,
    log_level: str,
) -> None:
    """Compose, serve the gateway with the explorer, and recompose on every subgraph change.

    Watches every SDL file (and the config: add a subgraph while it runs), polls every
    `subgraph_url` with `{ _service { sdl } }`, keeps serving the last good supergraph when a change
    does not compose, and prints why. Ctrl-C stops it.
    """
    from gateway.dev import DevLoop, DevSources, WithDevLoop
    from gateway.server import create_app
    from gateway.server.lifecycle import serve as serve_app
    from gateway.supergraph import load_supergraph

    if not Path(config_path).is_file():
        _fail(f"cannot read {config_path}: no such file")
    try:
        config: GatewayConfig = load_config(gateway_config)
    except ConfigError as exc:
        _fail(exc.message)
    updates: dict[str, Any] = {
        "explorer": config.explorer.model_copy(update={"enabled": True}),
        # A laptop loop: Ctrl-C stops at once, nobody is draining traffic away from this process.
        "lifecycle": config.lifecycle.model_copy(update={"shutdown_delay": 0.0, "drain_timeout": 1.0}),
    }
    if host is not None:
        updates["host"] = host
    if port is not None:
        updates["port"] = port
    config = config.model_copy(update=updates)
    use_color = sys.stderr.isatty() if color is None else color

    sources = DevSources(Path(config_path))
    loop = DevLoop(sources, poll_interval=poll_interval, color=use_color)
    first = loop.initial()
    supergraph = None
    if first is not None:
        try:
            supergraph = load_supergraph(first)
        except Exception as exc:  # noqa: BLE001 - a loader failure is a message, not a traceback
            click.echo(f"fedgate dev: the composed supergraph does not load: {exc}", err=True)
            loop.served_sdl = None
    app = create_app(supergraph, config)
    lifecycle = app.state.lifecycle
    base = f"http://{config.host}:{config.port}"
    loop.say(f"fedgate dev: explorer {base}/  ·  API {base}/graphql  ·  Ctrl-C stops", bold=True)
    serve_app(WithDevLoop(app, loop, lifecycle.offer), config, lifecycle, log_level)


from gateway.composition.commands import check, compose  # noqa: E402, I001
main.add_command(compose); main.add_command(check)  # noqa: E702

from gateway.registry.cli import register as _register_registry  # noqa: E402, I001
_register_registry(main)

if __name__ == "__main__":  # pragma: no cover
    main()

"""The `fedgate dev` command: one process serving the gateway and the explorer while it recomposes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from gateway.config import ConfigError, GatewayConfig, load_config
from gateway.dev.loop import DevLoop
from gateway.dev.sources import DevSources


class _WithLoop:
    """ASGI wrapper: start the dev loop once the app has started, stop it when the app stops."""

    def __init__(self, app: Any, loop: DevLoop, offer: Any) -> None:
        self.app = app
        self.loop = loop
        self.offer = offer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receive_wrapped() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.loop.stop()
            return message

        async def send_wrapped(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                await self.loop.start(self.offer)
            await send(message)

        await self.app(scope, receive_wrapped, send_wrapped)


@click.command("dev")
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
    from gateway.server import create_app
    from gateway.server.lifecycle import serve as serve_app
    from gateway.supergraph import load_supergraph

    if not Path(config_path).is_file():
        click.echo(f"fedgate: error: cannot read {config_path}: no such file", err=True)
        sys.exit(2)
    try:
        config: GatewayConfig = load_config(gateway_config)
    except ConfigError as exc:
        click.echo(f"fedgate: error: {exc.message}", err=True)
        sys.exit(2)
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
    serve_app(_WithLoop(app, loop, lifecycle.offer), config, lifecycle, log_level)

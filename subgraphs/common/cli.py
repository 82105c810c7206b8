"""`python -m subgraphs.<name>`: flags, environment variables, uvicorn."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

import uvicorn
from starlette.applications import Starlette


def run(
    name: str,
    default_port: int,
    app_factory: Callable[[str], Starlette],
    argv: Sequence[str] | None = None,
) -> None:
    """Serve one subgraph until SIGINT/SIGTERM; uvicorn drains open requests on the way out."""
    prefix = name.upper()
    parser = argparse.ArgumentParser(prog=f"python -m subgraphs.{name}", description=f"The {name} subgraph.")
    parser.add_argument(
        "--host",
        default=os.environ.get(f"{prefix}_HOST", "127.0.0.1"),
        help=f"address to bind (env {prefix}_HOST, default 127.0.0.1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(f"{prefix}_PORT", default_port)),
        help=f"port to listen on (env {prefix}_PORT, default {default_port})",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get(f"{prefix}_DB", f"var/{name}.db"),
        help=f"SQLite file, created and seeded when missing (env {prefix}_DB, default var/{name}.db)",
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    uvicorn.run(
        app_factory(args.db),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )

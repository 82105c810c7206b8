"""What every subgraph shares: SQLite access, errors, the federation layer, the app and the CLI."""

from __future__ import annotations

from subgraphs.common.app import create_app
from subgraphs.common.broker import Broker, MemoryBroker, make_broker
from subgraphs.common.cli import run
from subgraphs.common.db import Database
from subgraphs.common.errors import (
    BAD_USER_INPUT,
    INVALID_STATUS_TRANSITION,
    NOT_FOUND,
    SERVICE_UNAVAILABLE,
    SubgraphError,
)
from subgraphs.common.federation import EntityLoader, load_sdl, make_subgraph_schema
from subgraphs.common.peers import OrdersPeer

__all__ = [
    "BAD_USER_INPUT",
    "Broker",
    "MemoryBroker",
    "INVALID_STATUS_TRANSITION",
    "NOT_FOUND",
    "SERVICE_UNAVAILABLE",
    "Database",
    "EntityLoader",
    "OrdersPeer",
    "SubgraphError",
    "create_app",
    "load_sdl",
    "make_broker",
    "make_subgraph_schema",
    "run",
]

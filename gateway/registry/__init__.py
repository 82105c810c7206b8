"""Schema registry: service teams publish subgraphs, gateways follow the composed supergraph.

`fedgate registry serve` runs `create_registry_app` over a `Database` (SQLite file or PostgreSQL);
`RegistryClient` is what `fedgate publish` / `check --registry` use; `register` adds the commands.
Names are imported on first use, so `fedgate publish` does not pay for the server and composition.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import create_registry_app
    from .cli import register
    from .client import RegistryClient
    from .errors import RegistryError
    from .store import Database, open_database

__all__ = ["Database", "RegistryClient", "RegistryError", "create_registry_app", "open_database", "register"]

_WHERE = {
    "create_registry_app": ".api",
    "register": ".cli",
    "RegistryClient": ".client",
    "RegistryError": ".errors",
    "Database": ".store",
    "open_database": ".store",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)

"""Schema registry: service teams publish subgraphs, gateways follow the composed supergraph.

`fedgate registry serve` runs `create_registry_app` over a `Database` (SQLite file or PostgreSQL);
`RegistryClient` is what `fedgate publish` / `check --registry` use; `register` adds the commands.
"""

from .api import create_registry_app
from .cli import register
from .client import RegistryClient
from .errors import RegistryError
from .store import Database, open_database

__all__ = ["Database", "RegistryClient", "RegistryError", "create_registry_app", "open_database", "register"]

"""Loading plugins named in fedgate.yaml: by entry point (`fedgate.plugins`) or by `module:Class`.

Every problem (unknown name, import error, not a Plugin, config refused by the plugin's model) is a
PluginConfigError that names the plugin, raised before the gateway takes traffic.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from gateway.config import PluginEntry
from gateway.plugins.api import Plugin
from gateway.plugins.chain import PluginChain
from gateway.plugins.errors import PluginConfigError

ENTRY_POINT_GROUP = "fedgate.plugins"


def _resolve(name: str) -> Any:
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - any import failure is the plugin's
            raise PluginConfigError(f"plugin {name!r}: cannot import {module_name!r}: {exc}") from exc
        try:
            return getattr(module, attr)
        except AttributeError as exc:
            raise PluginConfigError(f"plugin {name!r}: module {module_name!r} has no {attr!r}") from exc
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        known = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})
        raise PluginConfigError(
            f"plugin {name!r}: no entry point of that name in group {ENTRY_POINT_GROUP!r} "
            f"(installed: {', '.join(known) or 'none'}); use `module:Class` for a plugin that is not installed"
        )
    try:
        return found[0].load()
    except Exception as exc:  # noqa: BLE001
        raise PluginConfigError(f"plugin {name!r}: cannot load entry point {found[0].value!r}: {exc}") from exc


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_plugin(entry: PluginEntry) -> Plugin:
    """Import, configure and instantiate one plugin."""
    cls = _resolve(entry.name)
    if not (isinstance(cls, type) and issubclass(cls, Plugin)):
        raise PluginConfigError(f"plugin {entry.name!r}: {cls!r} is not a subclass of gateway.plugins.Plugin")
    config = None
    if cls.Config is not None:
        try:
            config = cls.Config.model_validate(entry.config)
        except ValidationError as exc:
            raise PluginConfigError(f"plugin {entry.name!r}: invalid config: {_one_line(exc)}") from exc
    elif entry.config:
        raise PluginConfigError(f"plugin {entry.name!r} takes no config, got keys {sorted(entry.config)}")
    try:
        return cls(config, name=entry.name)
    except Exception as exc:  # noqa: BLE001
        raise PluginConfigError(f"plugin {entry.name!r}: failed to initialise: {exc}") from exc


def load_plugins(entries: Sequence[PluginEntry]) -> PluginChain:
    """The chain of every configured plugin, in configuration order."""
    return PluginChain([load_plugin(entry) for entry in entries])

"""Loading plugins from fedgate.yaml entries: entry points, module:Class, config validation, errors."""

from __future__ import annotations

import pytest

from gateway.config import PluginEntry
from gateway.plugins import Plugin, PluginChain, PluginConfigError, PluginContext, RouterRequest, load_plugins


class NoConfig(Plugin):
    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        request.headers["x-seen"] = "1"


class NotAPlugin:
    pass


class BrokenStart(Plugin):
    async def startup(self) -> None:
        raise OSError("cannot reach the session service")


def test_entry_point_plugin_is_found_and_configured():
    chain = load_plugins([PluginEntry(name="sample_headers", config={"header": "x-team", "value": "blue"})])
    (plugin,) = chain.plugins
    assert plugin.name == "sample_headers"
    assert plugin.config.header == "x-team"  # type: ignore[union-attr]
    assert chain.has_subgraph_request and chain.has_client_response and not chain.has_router_request


def test_module_class_plugin():
    chain = load_plugins([PluginEntry(name="tests.plugins.test_loading:NoConfig")])
    assert chain.has_router_request and not chain.has_operation


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (PluginEntry(name="no_such_plugin"), "plugin 'no_such_plugin': no entry point of that name"),
        (PluginEntry(name="no.such.module:X"), "plugin 'no.such.module:X': cannot import 'no.such.module'"),
        (PluginEntry(name="tests.plugins.test_loading:Missing"), "has no 'Missing'"),
        (PluginEntry(name="tests.plugins.test_loading:NotAPlugin"), "is not a subclass of gateway.plugins.Plugin"),
        (PluginEntry(name="sample_headers", config={"header": "x"}), "plugin 'sample_headers': invalid config: value: Field required"),
        (PluginEntry(name="rate_limit", config={"capacity": 0}), "plugin 'rate_limit': invalid config: capacity:"),
        (PluginEntry(name="tests.plugins.test_loading:NoConfig", config={"a": 1}), "takes no config"),
    ],
)
def test_bad_plugin_entries_are_one_clear_error(entry: PluginEntry, message: str):
    with pytest.raises(PluginConfigError) as info:
        load_plugins([entry])
    assert message in info.value.message
    assert "\n" not in info.value.message
    assert info.value.code == "INVALID_PLUGIN"


async def test_startup_failure_names_the_plugin():
    chain = load_plugins([PluginEntry(name="tests.plugins.test_loading:BrokenStart")])
    with pytest.raises(PluginConfigError) as info:
        await chain.startup()
    assert "plugin 'tests.plugins.test_loading:BrokenStart' failed to start" in info.value.message


def test_no_plugins_is_inactive():
    chain = PluginChain()
    assert not chain.active and not chain.has_router_request and not chain.has_subgraph_request

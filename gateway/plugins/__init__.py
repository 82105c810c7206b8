"""Extending the gateway in Python: typed async hooks at every stage of a request.

Public API: subclass `Plugin`, override hooks, raise `PluginRejection` to answer with your own
GraphQL error; list the plugin in fedgate.yaml under `plugins:` (see docs/plugins.md).
"""

from gateway.plugins.api import (
    ClientResponse,
    OperationInfo,
    PlanView,
    Plugin,
    PluginContext,
    RouterRequest,
    SubgraphRequest,
    SubgraphResponse,
)
from gateway.plugins.chain import PluginChain, failure_body, rejection_body
from gateway.plugins.errors import (
    PLUGIN_ERROR,
    PluginConfigError,
    PluginFailure,
    PluginLayerError,
    PluginRejection,
)
from gateway.plugins.loader import ENTRY_POINT_GROUP, load_plugins
from gateway.plugins.transport import PluginTransport

__all__ = [
    "ENTRY_POINT_GROUP",
    "PLUGIN_ERROR",
    "ClientResponse",
    "OperationInfo",
    "PlanView",
    "Plugin",
    "PluginChain",
    "PluginConfigError",
    "PluginContext",
    "PluginFailure",
    "PluginLayerError",
    "PluginRejection",
    "PluginTransport",
    "RouterRequest",
    "SubgraphRequest",
    "SubgraphResponse",
    "failure_body",
    "load_plugins",
    "rejection_body",
]

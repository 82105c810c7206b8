"""The plugin layer's errors: one base with a stable `code`, as in every layer."""

from __future__ import annotations

PLUGIN_ERROR = "PLUGIN_ERROR"
PLUGIN_REJECTED = "PLUGIN_REJECTED"
INVALID_PLUGIN = "INVALID_PLUGIN"


class PluginLayerError(Exception):
    """Base of the plugin layer's errors; `code` is the `extensions.code` a client or operator sees."""

    code = PLUGIN_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PluginRejection(PluginLayerError):
    """Raised by a hook to end the request with a GraphQL error (a short-circuit, not a failure).

    `status` is the HTTP status of the answer, `headers` are added to it (e.g. `Retry-After`).
    Raised from a subgraph hook it fails only that fetch: its error lands at the fetch's paths.
    """

    def __init__(
        self,
        message: str,
        code: str = PLUGIN_REJECTED,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
        extensions: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})


class PluginFailure(PluginLayerError):
    """A hook raised something other than PluginRejection: the client sees a masked PLUGIN_ERROR."""

    code = PLUGIN_ERROR
    status = 500
    # What the client reads: nothing about the plugin's internals (the log has the traceback).
    client_message = "A gateway plugin failed while handling this request."

    def __init__(self, plugin: str, hook: str) -> None:
        super().__init__(f"plugin {plugin!r} failed in {hook}")
        self.plugin = plugin
        self.hook = hook


class PluginConfigError(PluginLayerError):
    """A plugin could not be found, imported, configured or started; raised at start-up."""

    code = INVALID_PLUGIN

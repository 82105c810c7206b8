"""The public plugin API: what a hook receives, and the `Plugin` base class whose methods are the hooks.

A plugin subclasses `Plugin` and overrides only the hooks it needs; the chain calls a hook only on
the plugins that override it, so an unused stage costs nothing. Hooks are async, run in the
request's event loop, and may change what their payload marks as modifiable. Raising
`PluginRejection` ends the request (or, from a subgraph hook, that fetch) with a GraphQL error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from graphql import DocumentNode
from pydantic import BaseModel


@dataclass(slots=True)
class PluginContext:
    """Per-request state every hook of one request shares; plugins read and write `data`.

    `headers` are the client's request headers (lower-case names) as the router stage left them;
    `response_headers` are added to the client's answer.
    """

    request_id: str
    headers: Mapping[str, str]
    client_name: str | None = None
    client_version: str | None = None
    claims: Mapping[str, Any] | None = None
    operation_name: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class RouterRequest:
    """The client's HTTP request before parsing. `headers` and `body` may be replaced or changed."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class OperationInfo:
    """The parsed and validated operation (read-only): what the plan will be built for."""

    document: DocumentNode
    operation_name: str | None
    operation_type: str
    variables: Mapping[str, Any]
    client_name: str | None
    client_version: str | None


class PlanView:
    """The query plan of the operation (frozen plan nodes); `text` prints it in Apollo's form on demand."""

    __slots__ = ("plan", "_printer", "_text")

    def __init__(self, plan: Any, printer: Callable[[Any], str]) -> None:
        self.plan = plan
        self._printer = printer
        self._text: str | None = None

    @property
    def text(self) -> str:
        """The plan as `fedgate plan` prints it (computed the first time a hook asks)."""
        if self._text is None:
            self._text = self._printer(self.plan)
        return self._text


class SubgraphRequest:
    """One request to a subgraph: `url`, `headers` and `body` (query, variables, ...) may be changed.

    `body` is decoded from the bytes the gateway built only when a hook reads it, so hooks that
    touch only headers or the URL cost no JSON work.
    """

    __slots__ = ("subgraph", "url", "headers", "is_mutation", "_raw", "_body")

    def __init__(
        self, subgraph: str, url: str, headers: dict[str, str], body: dict[str, Any] | bytes, is_mutation: bool
    ) -> None:
        self.subgraph = subgraph
        self.url = url
        self.headers = headers
        self.is_mutation = is_mutation
        self._raw: bytes | None = body if isinstance(body, bytes) else None
        self._body: dict[str, Any] | None = None if isinstance(body, bytes) else body

    @property
    def body(self) -> dict[str, Any]:
        """The GraphQL request (`query`, `variables`, `operationName`, ...); change it in place or replace it."""
        if self._body is None:
            self._body = orjson.loads(self._raw or b"{}")
        return self._body

    @body.setter
    def body(self, value: dict[str, Any]) -> None:
        self._body = value

    def encoded(self) -> bytes:
        """The body to send: the original bytes unless a hook read or replaced it."""
        if self._body is None and self._raw is not None:
            return self._raw
        return orjson.dumps(self._body)


@dataclass(slots=True)
class SubgraphResponse:
    """A subgraph's answer: readable; its `errors` list (in `body`) may be changed."""

    subgraph: str
    status: int
    headers: Mapping[str, str]
    body: Any


@dataclass(slots=True)
class ClientResponse:
    """The answer about to be sent: `headers` may be added to, `body["extensions"]` changed."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any]


class Plugin:
    """Base class of every plugin. Override the hooks you need; `Config` validates `config:`.

    `name` is the name a config entry used to load the plugin (set by the loader); `config` is an
    instance of `Config` (or None when the plugin declares no model).
    """

    Config: ClassVar[type[BaseModel] | None] = None

    def __init__(self, config: BaseModel | None = None, *, name: str | None = None) -> None:
        self.config = config
        self.name = name or type(self).__name__

    async def startup(self) -> None:
        """Open connections or read files before the gateway takes traffic (errors stop start-up)."""

    async def shutdown(self) -> None:
        """Release what `startup` opened; called once when the gateway stops."""

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        """The client's HTTP request, before the body is parsed."""

    async def operation(self, ctx: PluginContext, operation: OperationInfo) -> None:
        """The operation after parsing and validation, before planning and execution."""

    async def plan(self, ctx: PluginContext, plan: PlanView) -> None:
        """The query plan about to be executed (read-only)."""

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        """Each request to a subgraph, before it is sent."""

    async def subgraph_response(self, ctx: PluginContext, response: SubgraphResponse) -> None:
        """Each subgraph answer, before it is merged."""

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        """The client's answer, before it is serialised."""


HOOKS = ("router_request", "operation", "plan", "subgraph_request", "subgraph_response", "client_response")
"""The hook names, in the order a request meets them."""

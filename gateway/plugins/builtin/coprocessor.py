"""A coprocessor: hooks served by an HTTP service in any language, in Apollo Router's protocol.

At each configured stage the gateway POSTs a JSON document (`version: 1`, `stage`, `control:
"continue"`, `id`, and the parts the stage config asks for: `headers` as lists of values, `body`,
`context.entries`, ...) and applies the answer: changed headers, body, URI or context, or
`control: {"break": STATUS}` to answer the client at once with the returned body. Stages, in
Router's names: RouterRequest, SupergraphRequest, SubgraphRequest, SubgraphResponse,
RouterResponse. A coprocessor that fails, times out or answers something malformed fails the
request (PLUGIN_ERROR) unless `fail_open` is set, in which case the stage is skipped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field

from gateway.plugins.api import (
    ClientResponse,
    OperationInfo,
    Plugin,
    PluginContext,
    RouterRequest,
    SubgraphRequest,
    SubgraphResponse,
)
from gateway.plugins.errors import PluginRejection

log = logging.getLogger("fedgate.plugins.coprocessor")

COPROCESSOR_BREAK = "COPROCESSOR_BREAK"


_NOT_RESPONSE_HEADERS = frozenset((
    "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "host", "accept",
    "accept-encoding", "content-encoding", "te", "trailer", "upgrade", "authorization", "cookie",
))


class StageParts(BaseModel):
    """Which parts of a stage are sent to the coprocessor (and may be changed by its answer)."""

    model_config = ConfigDict(extra="forbid")

    headers: bool = Field(default=False, description="Send (and accept changed) headers.")
    body: bool = Field(default=False, description="Send (and accept a changed) body.")
    context: bool = Field(default=False, description="Send (and accept changed) context entries.")
    uri: bool = Field(default=False, description="SubgraphRequest: send (and accept a changed) subgraph URI.")
    service_name: bool = Field(default=False, description="Subgraph stages: send the subgraph's name.")
    status_code: bool = Field(default=False, description="Response stages: send the HTTP status.")
    method: bool = Field(default=False, description="RouterRequest: send the HTTP method.")
    path: bool = Field(default=False, description="RouterRequest: send the request path.")


class RequestResponse(BaseModel):
    """A stage's request and/or response side; a side left out is not sent."""

    model_config = ConfigDict(extra="forbid")

    request: StageParts | None = None
    response: StageParts | None = None


class SubgraphStages(BaseModel):
    """Subgraph stages for every subgraph (`all`) or, overriding it, per subgraph name."""

    model_config = ConfigDict(extra="forbid")

    all: RequestResponse = Field(default_factory=RequestResponse)
    subgraphs: dict[str, RequestResponse] = Field(default_factory=dict)


class CoprocessorConfig(BaseModel):
    """Settings of the `coprocessor` plugin (the same shape as Router's `coprocessor:`)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The coprocessor's URL; every stage is POSTed there.")
    timeout: float = Field(default=1.0, gt=0, description="Seconds one coprocessor call may take.")
    fail_open: bool = Field(default=False, description="On a failed call, go on as if it said `continue`.")
    router: RequestResponse = Field(default_factory=RequestResponse)
    supergraph: RequestResponse = Field(default_factory=RequestResponse)
    subgraph: SubgraphStages = Field(default_factory=SubgraphStages)


class CoprocessorError(Exception):
    """The coprocessor failed or answered outside the protocol."""


def _multi(headers: Mapping[str, str]) -> dict[str, list[str]]:
    return {name: [value] for name, value in headers.items()}


def _single(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict):
        raise CoprocessorError("`headers` must be an object of lists of strings")
    out: dict[str, str] = {}
    for name, values in headers.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise CoprocessorError(f"header {name!r} must be a list of strings")
        if values:
            out[str(name).lower()] = ", ".join(values)
    return out


# StageParts flag -> the protocol's key for that part.
_PART_KEYS = (
    ("headers", "headers"), ("body", "body"), ("uri", "uri"), ("service_name", "serviceName"),
    ("status_code", "statusCode"), ("method", "method"), ("path", "path"),
)


def _payload(stage: str, parts: StageParts, extra: dict[str, Any] | None = None, **parts_of: Callable[[], Any]) -> dict[str, Any]:
    """The document for one stage: the parts the stage config asks for, each built only then."""
    payload: dict[str, Any] = {"stage": stage, **(extra or {})}
    for flag, key in _PART_KEYS:
        build = parts_of.get(flag)
        if build is not None and getattr(parts, flag):
            payload[key] = build()
    return payload


class Coprocessor(Plugin):
    """Apollo Router-compatible external coprocessor."""

    Config = CoprocessorConfig
    config: CoprocessorConfig

    def __init__(self, config: CoprocessorConfig | None = None, *, name: str | None = None) -> None:  # type: ignore[override]
        assert config is not None
        super().__init__(config, name=name)
        self._client: httpx.AsyncClient | None = None

    async def startup(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.config.timeout)

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _subgraph_stage(self, subgraph: str) -> RequestResponse:
        return self.config.subgraph.subgraphs.get(subgraph, self.config.subgraph.all)

    async def _call(self, ctx: PluginContext, payload: dict[str, Any], parts: StageParts) -> dict[str, Any] | None:
        """Send one stage; the answer, or None when it failed and `fail_open` is set."""
        payload = {"version": 1, "control": "continue", "id": ctx.request_id, **payload}
        if parts.context:
            payload["context"] = {"entries": ctx.data}
        try:
            if self._client is None:
                raise CoprocessorError("not started")
            response = await self._client.post(
                self.config.url, content=orjson.dumps(payload), headers={"content-type": "application/json"}
            )
            if response.status_code != 200:
                raise CoprocessorError(f"answered HTTP {response.status_code}")
            answer = orjson.loads(response.content)
            if not isinstance(answer, dict):
                raise CoprocessorError("answer is not a JSON object")
            if answer.get("version") != 1:
                raise CoprocessorError("answer lacks `version: 1`")
            if answer.get("id", ctx.request_id) != ctx.request_id:
                raise CoprocessorError("answer changed the request `id`")
        except (httpx.HTTPError, orjson.JSONDecodeError, CoprocessorError) as exc:
            if self.config.fail_open:
                log.warning("coprocessor %s at %s failed (%s); continuing", payload["stage"], self.config.url, exc)
                return None
            raise CoprocessorError(f"coprocessor {payload['stage']} failed: {exc}") from exc
        if parts.context and isinstance(answer.get("context"), dict):
            entries = answer["context"].get("entries")
            if isinstance(entries, dict):
                ctx.data.clear()
                ctx.data.update(entries)
        return answer

    @staticmethod
    def _break(answer: dict[str, Any]) -> None:
        control = answer.get("control", "continue")
        if control == "continue":
            return
        if not (isinstance(control, dict) and isinstance(control.get("break"), int)):
            raise CoprocessorError("`control` must be \"continue\" or {\"break\": status}")
        status = control["break"]
        body = answer.get("body")
        if isinstance(body, str):
            try:
                body = orjson.loads(body)
            except orjson.JSONDecodeError:
                body = {"errors": [{"message": body}]}
        errors = body.get("errors") if isinstance(body, dict) else None
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        message = str(first.get("message") or "The request was ended by the coprocessor.")
        extensions = dict(first.get("extensions") or {})
        code = str(extensions.pop("code", COPROCESSOR_BREAK))
        headers = None
        if isinstance(answer.get("headers"), dict):
            # A coprocessor often echoes the request's headers back: framing and request-only
            # headers must not reach the response it asks for.
            headers = {k: v for k, v in _single(answer["headers"]).items() if k not in _NOT_RESPONSE_HEADERS}
        raise PluginRejection(message, code, status=status, headers=headers, extensions=extensions)

    async def router_request(self, ctx: PluginContext, request: RouterRequest) -> None:
        parts = self.config.router.request
        if parts is None:
            return
        payload = _payload(
            "RouterRequest", parts,
            headers=lambda: _multi(request.headers), body=lambda: request.body.decode("utf-8", "replace"),
            method=lambda: request.method, path=lambda: request.path,
        )
        answer = await self._call(ctx, payload, parts)
        if answer is None:
            return
        self._break(answer)
        if parts.headers and "headers" in answer:
            request.headers = _single(answer["headers"])
        if parts.body and isinstance(answer.get("body"), str):
            request.body = answer["body"].encode()

    async def operation(self, ctx: PluginContext, operation: OperationInfo) -> None:
        parts = self.config.supergraph.request
        if parts is None:
            return
        from graphql import print_ast

        payload = _payload(
            "SupergraphRequest", parts,
            headers=lambda: _multi(ctx.headers),
            body=lambda: {
                "query": print_ast(operation.document),
                "operationName": operation.operation_name,
                "variables": dict(operation.variables),
            },
        )
        answer = await self._call(ctx, payload, parts)
        if answer is not None:
            self._break(answer)

    async def subgraph_request(self, ctx: PluginContext, request: SubgraphRequest) -> None:
        parts = self._subgraph_stage(request.subgraph).request
        if parts is None:
            return
        payload = _payload(
            "SubgraphRequest", parts, {"subgraphRequestId": uuid.uuid4().hex, "method": "POST"},
            headers=lambda: _multi(request.headers), body=lambda: request.body,
            uri=lambda: request.url, service_name=lambda: request.subgraph,
        )
        answer = await self._call(ctx, payload, parts)
        if answer is None:
            return
        self._break(answer)
        if parts.headers and "headers" in answer:
            request.headers = _single(answer["headers"])
        if parts.body and isinstance(answer.get("body"), dict):
            request.body = answer["body"]
        if parts.uri and isinstance(answer.get("uri"), str):
            request.url = answer["uri"]

    async def subgraph_response(self, ctx: PluginContext, response: SubgraphResponse) -> None:
        parts = self._subgraph_stage(response.subgraph).response
        if parts is None:
            return
        payload = _payload(
            "SubgraphResponse", parts, {"subgraphRequestId": uuid.uuid4().hex},
            headers=lambda: _multi(response.headers), body=lambda: response.body,
            service_name=lambda: response.subgraph, status_code=lambda: response.status,
        )
        answer = await self._call(ctx, payload, parts)
        if answer is None:
            return
        self._break(answer)
        if parts.body and isinstance(answer.get("body"), dict) and isinstance(response.body, dict):
            # Only `errors` may change: the data must stay what the subgraph sent for the merge.
            errors = answer["body"].get("errors")
            if errors is None:
                response.body.pop("errors", None)
            elif isinstance(errors, list):
                response.body["errors"] = errors

    async def client_response(self, ctx: PluginContext, response: ClientResponse) -> None:
        parts = self.config.router.response
        if parts is None:
            return
        payload = _payload(
            "RouterResponse", parts,
            headers=lambda: _multi(response.headers), body=lambda: orjson.dumps(response.body).decode(),
            status_code=lambda: response.status,
        )
        answer = await self._call(ctx, payload, parts)
        if answer is None:
            return
        if parts.headers and "headers" in answer:
            response.headers.clear()
            response.headers.update(_single(answer["headers"]))
        if parts.body and isinstance(answer.get("body"), str):
            try:
                body = orjson.loads(answer["body"])
            except orjson.JSONDecodeError as exc:
                raise CoprocessorError("RouterResponse body is not JSON") from exc
            if isinstance(body, dict):
                response.body.clear()
                response.body.update(body)

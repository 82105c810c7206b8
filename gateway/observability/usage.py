"""Usage reporting: which operations, touching which schema coordinates, from which clients.

`describe_operation` runs once per prepared operation (the server keeps its result beside the
plan): the SHA-256 of the operation's normalised text, its name and the coordinates it touches.
Per request, `UsageReporter.record` only bumps one counter keyed by (operation, client name,
client version). Every `interval` seconds a background task turns the counters into one compact
report (format: docs/registry.md) and queues it; the sender posts queued reports oldest first.
The queue is bounded: when it is full the oldest report is dropped and counted in
`fedgate_usage_reports_dropped_total`, so a registry that is down costs memory bounded by the
queue and no request latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from graphql import (
    DocumentNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    print_ast,
    separate_operations,
    strip_ignored_characters,
    type_from_ast,
    visit,
)

from gateway.config import UsageReportingConfig

log = logging.getLogger("fedgate.usage")

TOKEN_ENV = "FEDGATE_USAGE_REPORTING_TOKEN"


@dataclass(frozen=True, slots=True, eq=False)
class OperationUsage:
    """What one prepared operation reports: signature hash, name and the schema coordinates it touches.

    Compared and hashed by identity (one per prepared operation), so counting never hashes the coordinates."""

    hash: str
    name: str | None
    coordinates: tuple[str, ...]


class _Coordinates(Visitor):
    """Collects `Type.field`, `Type.field(arg:)`, `Type`, `Enum.VALUE` and `Input.field` while walking."""

    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo) -> None:
        super().__init__()
        self.schema = schema
        self.info = type_info
        self.out: dict[str, None] = {}
        self.fields: list[str] = []  # the field names being walked, innermost last

    def _type(self, named: GraphQLNamedType | None) -> None:
        if named is not None and not named.name.startswith("__"):
            self.out[named.name] = None

    def _input(self, named: Any, seen: set[str]) -> None:
        """A variable of an input type may carry any of its fields: all of them count as used."""
        if named is None or named.name in seen:
            return
        seen.add(named.name)
        self._type(named)
        if isinstance(named, GraphQLInputObjectType):
            for name, f in named.fields.items():
                self.out[f"{named.name}.{name}"] = None
                self._input(get_named_type(f.type), seen)

    def enter_operation_definition(self, node: Any, *_: Any) -> None:
        t = self.info.get_type()
        self._type(get_named_type(t) if t is not None else None)

    def leave_field(self, node: Any, *_: Any) -> None:
        self.fields.pop()

    def enter_field(self, node: Any, *_: Any) -> None:
        self.fields.append(node.name.value)
        parent = self.info.get_parent_type()
        field = self.info.get_field_def()
        if parent is None or field is None or node.name.value.startswith("__"):
            return
        self._type(parent)
        self.out[f"{parent.name}.{node.name.value}"] = None
        self._type(get_named_type(field.type))

    def enter_argument(self, node: Any, *_: Any) -> None:
        if self.info.get_directive() is not None:
            return
        parent, field = self.info.get_parent_type(), self.info.get_field_def()
        if parent is not None and field is not None and self.fields:
            self.out[f"{parent.name}.{self.fields[-1]}({node.name.value}:)"] = None
            self._type(get_named_type(self.info.get_input_type()))

    def enter_object_field(self, node: Any, *_: Any) -> None:
        parent = self.info.get_parent_input_type()
        named = get_named_type(parent) if parent is not None else None
        if isinstance(named, GraphQLInputObjectType):
            self._type(named)
            self.out[f"{named.name}.{node.name.value}"] = None

    def enter_enum_value(self, node: Any, *_: Any) -> None:
        named = get_named_type(self.info.get_input_type())
        if isinstance(named, GraphQLEnumType):
            self._type(named)
            self.out[f"{named.name}.{node.value}"] = None

    def enter_variable_definition(self, node: Any, *_: Any) -> None:
        t = type_from_ast(self.schema, node.type)
        self._input(get_named_type(t) if t is not None else None, set())

    def enter_inline_fragment(self, node: Any, *_: Any) -> None:
        if node.type_condition is not None:
            self._type(self.schema.get_type(node.type_condition.name.value))

    def enter_fragment_definition(self, node: Any, *_: Any) -> None:
        self._type(self.schema.get_type(node.type_condition.name.value))


def describe_operation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> OperationUsage:
    """The operation's signature hash, name and coordinates (call once per prepared operation)."""
    name = operation.name.value if operation.name else None
    if name is not None:
        own = separate_operations(document).get(name, document)
    else:
        own = document
    text = strip_ignored_characters(print_ast(own))
    digest = hashlib.sha256(f"# {name or '-'}\n{text}".encode()).hexdigest()
    collector = _Coordinates(schema, TypeInfo(schema))
    visit(own, TypeInfoVisitor(collector.info, collector))
    return OperationUsage(digest, name, tuple(collector.out))


def _count_dropped(reason: str, n: int = 1) -> None:
    from gateway.observability.metrics import USAGE_REPORTS_DROPPED

    USAGE_REPORTS_DROPPED.labels(reason=reason).inc(n)


def _count_sent(result: str) -> None:
    from gateway.observability.metrics import USAGE_REPORTS

    USAGE_REPORTS.labels(result=result).inc()


class UsageReporter:
    """Counts requests per (operation, client) and sends reports in the background (module docstring)."""

    def __init__(self, config: UsageReportingConfig) -> None:
        self.config = config
        self.token = config.token or os.environ.get(TOKEN_ENV)
        self._name_header = config.client_name_header.lower()
        self._version_header = config.client_version_header.lower()
        self._counts: dict[tuple[OperationUsage, str | None, str | None], int] = {}
        self._queue: deque[bytes] = deque()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def record(self, usage: OperationUsage, client_headers: Mapping[str, str] | None) -> None:
        """One request of `usage`'s operation (per-request cost: two header reads and a dict bump)."""
        if client_headers is not None:
            key = (usage, client_headers.get(self._name_header), client_headers.get(self._version_header))
        else:
            key = (usage, None, None)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1

    def take_report(self) -> bytes | None:
        """Turn the counters into one report (and reset them); None when nothing was counted."""
        counts, self._counts = self._counts, {}
        if not counts:
            return None
        operations: dict[str, Any] = {}
        rows = []
        for (usage, client_name, client_version), n in counts.items():
            operations[usage.hash] = {"name": usage.name, "coordinates": list(usage.coordinates)}
            rows.append({"operation": usage.hash, "client_name": client_name, "client_version": client_version,
                         "count": n})
        return orjson.dumps({"operations": operations, "counts": rows})

    def enqueue(self, report: bytes) -> None:
        """Queue a report; the oldest is dropped (and counted) when the queue is full."""
        if len(self._queue) >= self.config.max_queued_reports:
            self._queue.popleft()
            _count_dropped("queue_full")
        self._queue.append(report)

    async def flush(self, client: httpx.AsyncClient) -> None:
        """Send queued reports oldest first; stop at the first that cannot be delivered (kept for later)."""
        assert self.config.endpoint is not None
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        while self._queue:
            report = self._queue[0]
            try:
                response = await client.post(self.config.endpoint, content=report, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("usage report to %s failed (%d queued): %s", self.config.endpoint, len(self._queue), exc)
                _count_sent("error")
                return
            if response.status_code >= 500 or response.status_code == 429:
                log.warning("usage report answered %d (%d queued)", response.status_code, len(self._queue))
                _count_sent("error")
                return
            self._queue.popleft()
            if response.status_code >= 400:  # refused as is: sending it again would not help
                log.error("usage report refused with %d: %s", response.status_code, response.text[:300])
                _count_dropped("refused")
                _count_sent("refused")
            else:
                _count_sent("sent")

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self.config.timeout) as client:
            while True:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.interval)
                self._wake.clear()
                report = self.take_report()
                if report is not None:
                    self.enqueue(report)
                try:
                    await self.flush(client)
                except Exception:  # noqa: BLE001 - the reporter must outlive one bad send
                    log.exception("usage reporting failed")

    async def start(self) -> None:
        """Start the background sender (from the app's lifespan)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the sender, then try once (bounded by `timeout`) to deliver what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        report = self.take_report()
        if report is not None:
            self.enqueue(report)
        if self._queue and self.config.endpoint:
            async with httpx.AsyncClient(timeout=self.config.timeout) as client:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.flush(client), self.config.timeout)

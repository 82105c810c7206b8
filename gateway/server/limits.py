"""Request limits: body size and read time, then per document tokens, depth, aliases, root fields and an
estimated cost (demand control). Checked before any subgraph is called; answers are GraphQL errors.

Document checks run once per query text (the verdict is kept with the prepared document); a repeated
operation costs a lookup.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    parse,
)
from graphql.type import GraphQLOutputType
from starlette.requests import Request
from starlette.types import Receive

from gateway.config import LimitsConfig
from gateway.errors import GRAPHQL_PARSE_FAILED, GraphQLErrorDict, error_dict

MAX_DEPTH_LIMIT = "MAX_DEPTH_LIMIT"
MAX_ALIASES_LIMIT = "MAX_ALIASES_LIMIT"
MAX_ROOT_FIELDS_LIMIT = "MAX_ROOT_FIELDS_LIMIT"
MAX_TOKENS_LIMIT = "MAX_TOKENS_LIMIT"
COST_ESTIMATED_TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"

_SLICING_ARGUMENTS = ("first", "last", "limit", "pageSize")


class BodyRefused(Exception):
    """The request body was too large, too slow or cut off; `status` and a GraphQL error to send.

    `close`: the rest of the body was not read, so the answer must close the connection."""

    def __init__(self, status: int, message: str, code: str, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.error = error_dict(message, code)
        self.close = close


async def drain_body(
    receive: Receive, headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]], limits: LimitsConfig, read: int = 0
) -> bool:
    """Read and discard the rest of a request body that is being refused; True when it was read to its end.

    A client that sends its whole body before reading (urllib, browsers, most HTTP libraries) gets a
    connection reset instead of the answer when the server closes with unread bytes in its socket:
    the kernel answers them with RST and the client's read fails. So, like nginx's lingering close, the
    rest is read first, bounded by `drain_max_bytes` in all (`read`: bytes already taken) and
    `drain_timeout`. A client that asked `Expect: 100-continue` has sent nothing yet: reading would
    only invite the body, so it is answered at once (and the connection closed).
    """
    declared: int | None = None
    expect = b""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        name = key.lower() if isinstance(key, str) else key.decode("latin-1").lower()
        text = value if isinstance(value, str) else value.decode("latin-1")
        if name == "content-length" and text.strip().isdigit():
            declared = int(text)
        elif name == "expect":
            expect = text.strip().lower().encode()
    if expect == b"100-continue":
        return False
    budget = limits.drain_max_bytes - read
    if declared is not None and declared - read > budget:
        return False  # more than we are willing to read: answer now and close
    try:
        async with asyncio.timeout(limits.drain_timeout):
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return False
                budget -= len(message.get("body", b""))
                if budget < 0:
                    return False
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        return False


async def read_body(request: Request, limits: LimitsConfig) -> bytes:
    """The request body, refusing more than `max_body_bytes` (413) or slower than `body_read_timeout` (408)."""
    limit = limits.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        drained = await drain_body(request.receive, request.headers, limits)
        raise BodyRefused(413, f"Request body is larger than {limit} bytes.", PAYLOAD_TOO_LARGE, close=not drained)
    # A timer that cancels this task, cheaper than asyncio.timeout()/wait_for() on every request.
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    watchdog = asyncio.get_running_loop().call_later(limits.body_read_timeout, expire)
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    try:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise BodyRefused(400, "Client disconnected before sending the whole body.", "BAD_REQUEST")
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    watchdog.cancel()  # the drain has its own bound
                    drained = True
                    if message.get("more_body", False):
                        drained = await drain_body(receive, request.headers, limits, size)
                    raise BodyRefused(
                        413, f"Request body is larger than {limit} bytes.", PAYLOAD_TOO_LARGE, close=not drained
                    )
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if not expired:
            raise
        task.uncancel()
        # A slow client is not waited for twice: answer and close.
        raise BodyRefused(408, "Request body was not received in time.", REQUEST_TIMEOUT, close=True) from None
    finally:
        watchdog.cancel()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A query text parsed once: its document, or the errors to answer (`limit_error`: a limit refused
    it, as opposed to a syntax error)."""

    document: DocumentNode | None
    errors: list[GraphQLErrorDict] | None = None
    limit_error: bool = False


def parse_document(query: str, max_tokens: int | None) -> ParsedDocument:
    """Parse a query text, stopping at `max_tokens`; the one place the server turns text into an AST."""
    try:
        return ParsedDocument(parse(query, max_tokens=max_tokens))
    except GraphQLError as err:
        if max_tokens is not None and "more than" in err.message and "tokens" in err.message:
            return ParsedDocument(
                None, [error_dict(f"Document exceeds the limit of {max_tokens} tokens.", MAX_TOKENS_LIMIT)], True
            )
        locations = [{"line": loc.line, "column": loc.column} for loc in err.locations or ()]
        return ParsedDocument(None, [error_dict(err.message, GRAPHQL_PARSE_FAILED, locations=locations or None)])
    except RecursionError:
        return ParsedDocument(None, [error_dict("Document is nested too deeply.", GRAPHQL_PARSE_FAILED)], True)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The limit errors of one query text (None: it may run) and its operation name when it has one."""

    errors: list[GraphQLErrorDict] | None
    operation_name: str = ""


_OK = Verdict(None)


class DocumentLimits:
    """Checks a parsed document against the configured limits (and the introspection switch).

    The server parses each distinct text once (gateway/server/preparation.py) and keeps the verdict with
    the document; `check(query)` parses for callers that only have text (tools and tests)."""

    def __init__(self, limits: LimitsConfig, schema: GraphQLSchema, introspection: bool) -> None:
        self.limits = limits
        self.schema = schema
        self.introspection = introspection

    def check(self, query: str) -> Verdict:
        """The verdict for a query text: `parse_document` then `judge`."""
        parsed = parse_document(query, self.limits.max_tokens)
        if parsed.document is None:
            return Verdict(parsed.errors) if parsed.limit_error else _OK
        return self.judge(parsed.document)

    def judge(self, document: DocumentNode) -> Verdict:
        """The limit errors of a parsed document (None: it may run) and its operation name."""
        names = [d.name.value for d in document.definitions if isinstance(d, OperationDefinitionNode) and d.name]
        name = names[0] if len(names) == 1 else ""
        try:
            return Verdict(self._check_document(document) or None, name)
        except RecursionError:  # a chain of thousands of fragment spreads
            return Verdict([error_dict("Document nests fragments too deeply.", MAX_DEPTH_LIMIT)], name)

    def _check_document(self, document: DocumentNode) -> list[GraphQLErrorDict]:
        limits = self.limits
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        errors: list[GraphQLErrorDict] = []
        walker = _Walker(fragments)
        if limits.max_aliases is not None:
            aliases = walker.aliases(document)
            if aliases > limits.max_aliases:
                errors.append(
                    error_dict(f"Document has {aliases} aliases, more than the limit of {limits.max_aliases}.", MAX_ALIASES_LIMIT)
                )
        if not self.introspection and walker.has_introspection(document):
            errors.append(
                error_dict(
                    "GraphQL introspection is not allowed: the query contained __schema or __type.",
                    INTROSPECTION_DISABLED,
                )
            )
        for op in operations:
            if limits.max_depth is not None:
                depth = walker.depth(op.selection_set, set())
                if depth > limits.max_depth:
                    errors.append(
                        error_dict(f"Operation is {depth} fields deep, more than the limit of {limits.max_depth}.", MAX_DEPTH_LIMIT)
                    )
            if limits.max_root_fields is not None:
                roots = walker.root_fields(op.selection_set, set())
                if roots > limits.max_root_fields:
                    errors.append(
                        error_dict(
                            f"Operation has {roots} root fields, more than the limit of {limits.max_root_fields}.",
                            MAX_ROOT_FIELDS_LIMIT,
                        )
                    )
            if limits.max_cost is not None:
                root = self.schema.get_root_type(op.operation)
                if root is not None:
                    cost = _Cost(self.schema, fragments, limits.list_size).selection(root, op.selection_set, set())
                    if op.operation == OperationType.MUTATION:
                        cost += 10 * len(op.selection_set.selections)
                    if cost > limits.max_cost:
                        errors.append(
                            error_dict(
                                f"Operation has an estimated cost of {cost}, more than the limit of {limits.max_cost}.",
                                COST_ESTIMATED_TOO_EXPENSIVE,
                                cost=cost,
                                maxCost=limits.max_cost,
                            )
                        )
        return errors


class _Walker:
    """AST walks that follow fragment spreads, safe on unknown fragments and fragment cycles."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments

    def aliases(self, document: DocumentNode) -> int:
        count = 0
        stack: list[SelectionSetNode] = []
        for d in document.definitions:
            if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode)):
                stack.append(d.selection_set)
        while stack:
            for sel in stack.pop().selections:
                if isinstance(sel, FieldNode):
                    if sel.alias is not None:
                        count += 1
                    if sel.selection_set is not None:
                        stack.append(sel.selection_set)
                elif isinstance(sel, InlineFragmentNode):
                    stack.append(sel.selection_set)
        return count

    def has_introspection(self, document: DocumentNode) -> bool:
        stack: list[SelectionSetNode] = [
            d.selection_set for d in document.definitions if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode))
        ]
        while stack:
            for sel in stack.pop().selections:
                if isinstance(sel, FieldNode):
                    if sel.name.value in ("__schema", "__type"):
                        return True
                    if sel.selection_set is not None:
                        stack.append(sel.selection_set)
                elif isinstance(sel, InlineFragmentNode):
                    stack.append(sel.selection_set)
        return False

    def depth(self, selection_set: SelectionSetNode, visiting: set[str]) -> int:
        deepest = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                d = 1 + (self.depth(sel.selection_set, visiting) if sel.selection_set is not None else 0)
            elif isinstance(sel, InlineFragmentNode):
                d = self.depth(sel.selection_set, visiting)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in visiting:
                    continue
                visiting.add(name)
                d = self.depth(frag.selection_set, visiting)
                visiting.discard(name)
            else:
                continue
            deepest = max(deepest, d)
        return deepest

    def root_fields(self, selection_set: SelectionSetNode, visiting: set[str]) -> int:
        count = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                count += 1
            elif isinstance(sel, InlineFragmentNode):
                count += self.root_fields(sel.selection_set, visiting)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is not None and name not in visiting:
                    visiting.add(name)
                    count += self.root_fields(frag.selection_set, visiting)
                    visiting.discard(name)
        return count


class _Cost:
    """Demand-control estimate: 1 per object, 0 per leaf, a list multiplies its items by its size: a
    literal `first`/`last`/`limit`/`pageSize` argument on the list field, or on the connection field
    just above it (`orders(first: 5) { edges { ... } }`), else `list_size`."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], list_size: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.list_size = list_size

    def selection(
        self, parent: object, selection_set: SelectionSetNode, visiting: set[str], sized: int | None = None
    ) -> int:
        total = 0
        fields = getattr(parent, "fields", None) or {}
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                definition = fields.get(sel.name.value)
                if definition is None:
                    continue
                total += self._field(sel, definition.type, visiting, sized)
            elif isinstance(sel, InlineFragmentNode):
                target = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += self.selection(target or parent, sel.selection_set, visiting, sized)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is not None and name not in visiting:
                    visiting.add(name)
                    target = self.schema.get_type(frag.type_condition.name.value)
                    total += self.selection(target or parent, frag.selection_set, visiting, sized)
                    visiting.discard(name)
        return total

    def _field(self, node: FieldNode, type_: GraphQLOutputType, visiting: set[str], sized: int | None) -> int:
        own = self._slice(node)
        multiplier = 1
        is_list = False
        t: object = type_
        while isinstance(t, (GraphQLNonNull, GraphQLList)):
            if isinstance(t, GraphQLList):
                is_list = True
                size = own if own is not None else sized
                multiplier *= self.list_size if size is None else size
            t = t.of_type
        named = get_named_type(type_)
        if not is_composite_type(named) or node.selection_set is None:
            return 0
        # A slicing argument on a non-list field (a connection) sizes the lists right below it.
        below = own if not is_list else None
        return multiplier * (1 + self.selection(named, node.selection_set, visiting, below))

    def _slice(self, node: FieldNode) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value in _SLICING_ARGUMENTS:
                if isinstance(arg.value, IntValueNode):
                    return max(0, int(arg.value.value))
                if isinstance(arg.value, VariableNode):
                    return None  # unknown until execution: assume `list_size`
        return None

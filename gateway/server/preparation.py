"""The server's preparation step: each distinct operation is parsed, judged, validated, analysed and
planned once, and kept as one record the request path reads.

    query text --parse_document--> PreparedDocument (document, limits verdict, validation errors)
    + operation name, labels ----> OperationRecord (PreparedOperation with its plan, auth analysis,
                                   the filtered-and-planned variants per set of refused fields)

Text goes to an AST once per distinct text (`Preparation.parses` counts it, as does the
`fedgate_document_parses_total` metric); planning is entered only from here, never from execution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, validate

from gateway.cache.memory import LRU
from gateway.errors import (
    GRAPHQL_VALIDATION_FAILED,
    QUERY_PLANNING_FAILED,
    GatewayError,
    GatewayRequestError,
    GraphQLErrorDict,
    error_dict,
)
from gateway.execution import PreparedOperation, SupergraphView
from gateway.execution.operation import compile_operation, split_operation
from gateway.observability.metrics import DOCUMENT_PARSES
from gateway.observability.usage import OperationUsage
from gateway.planning import Planner
from gateway.server.auth import Authorization, Denied, OperationAuth
from gateway.server.limits import DocumentLimits, parse_document

log = logging.getLogger("fedgate.server")


def _graphql_error(err: GraphQLError, code: str) -> GraphQLErrorDict:
    locations = [{"line": loc.line, "column": loc.column} for loc in err.locations or ()]
    return error_dict(err.message, code, locations=locations or None)


def prepare_operation(
    supergraph: SupergraphView, document: DocumentNode, operation_name: str | None, planner: Planner
) -> PreparedOperation:
    """Plan and compile one operation of a validated `document`.

    Raises GatewayRequestError for an unknown operation; a planning failure is kept in `plan_error`
    and answered as `data: null`.
    """
    parts = split_operation(supergraph.api_schema, document, operation_name)
    plan = None
    plan_error: GraphQLErrorDict | None = None
    if parts.planned_document is not None:
        try:
            plan = planner(supergraph, parts.planned_document, operation_name)
        except GatewayError as exc:
            plan_error = error_dict(exc.message, exc.code)
        except Exception as exc:  # noqa: BLE001 - any planner failure answers data: null, never a 500
            log.exception("query planner failed")
            plan_error = error_dict(str(exc) or type(exc).__name__, QUERY_PLANNING_FAILED)
    return compile_operation(supergraph, parts, plan, plan_error)


@dataclass(slots=True)
class PreparedDocument:
    """One query text, parsed once: what refuses it, in the order a client meets them."""

    document: DocumentNode | None
    # Limits (tokens, depth, aliases, cost, introspection) are judged before validation.
    limit_errors: list[GraphQLErrorDict] | None
    # Parse or validation errors (None: a valid document).
    errors: list[GraphQLErrorDict] | None
    # The operation name the metrics and logs use when the request names none.
    operation_label: str = ""


@dataclass(slots=True)
class OperationRecord:
    """One (supergraph, document text, operation name, override labels): computed once, read per request."""

    prepared: PreparedOperation | None
    error: GatewayRequestError | None
    auth: OperationAuth | None = None
    plan_extension: dict[str, Any] | None = None
    # Set of refused protected fields -> the filtered operation, planned (None: nothing left to run).
    variants: dict[frozenset[int], PreparedOperation | None] = field(default_factory=dict)
    usage: OperationUsage | None = None  # usage reporting: coordinates of this operation, computed once


class Preparation:
    """The per-supergraph caches of prepared documents and operations, sized by `plan_cache_size`."""

    def __init__(
        self,
        supergraph: SupergraphView,
        planner: Planner,
        limits: DocumentLimits,
        auth: Authorization | None,
        size: int,
    ) -> None:
        self.supergraph = supergraph
        self.planner = planner
        self.limits = limits
        self.auth = auth
        self.documents: LRU[str, PreparedDocument] = LRU(size)
        self.operations: LRU[tuple[Any, ...], OperationRecord] = LRU(size)
        self.parses = 0

    def document(self, query: str) -> PreparedDocument:
        """The prepared document for a query text (parsed, judged and validated on first sight)."""
        cached = self.documents.get(query)
        if cached is not None:
            return cached
        self.parses += 1
        DOCUMENT_PARSES.inc()
        parsed = parse_document(query, self.limits.limits.max_tokens)
        document = parsed.document
        if document is None:
            if parsed.limit_error:
                cached = PreparedDocument(None, parsed.errors, None)
            else:
                cached = PreparedDocument(None, None, parsed.errors)
        else:
            verdict = self.limits.judge(document)
            if verdict.errors is not None:
                cached = PreparedDocument(None, verdict.errors, None, verdict.operation_name)
            else:
                errors = validate(self.supergraph.api_schema, document)
                invalid = [_graphql_error(e, GRAPHQL_VALIDATION_FAILED) for e in errors] if errors else None
                cached = PreparedDocument(None if invalid else document, None, invalid, verdict.operation_name)
        self.documents.put(query, cached)
        return cached

    def operation(
        self, key: tuple[Any, ...], prepared_document: PreparedDocument, operation_name: str | None, supergraph: Any
    ) -> OperationRecord:
        """The record for one operation of a valid prepared document (`supergraph`: the override-label
        variant to plan against); `key` names it in the cache."""
        record = self.operations.get(key)
        if record is not None:
            return record
        document = prepared_document.document
        assert document is not None
        try:
            prepared = prepare_operation(supergraph, document, operation_name, self.planner)
        except GatewayRequestError as exc:
            record = OperationRecord(None, exc)
        else:
            auth = self.auth.analyse(document, prepared.operation) if self.auth is not None else None
            record = OperationRecord(prepared, None, auth)
        self.operations.put(key, record)
        return record

    def filtered(
        self, record: OperationRecord, claims: dict[str, Any] | None, operation_name: str | None, supergraph: Any
    ) -> tuple[PreparedOperation | None, Denied] | None:
        """What this caller may run of the operation: None for all of it, else (the filtered operation,
        planned once per set of refused fields, or None when nothing is left; what to null and report)."""
        if record.auth is None or self.auth is None:
            return None
        refusal = self.auth.filter(record.auth, claims)
        if refusal is None:
            return None
        key, document, denied = refusal
        if key not in record.variants:
            record.variants[key] = (
                None if document is None else prepare_operation(supergraph, document, operation_name, self.planner)
            )
        return record.variants[key], denied

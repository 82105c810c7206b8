"""PreparedOperation: the executable form of one (document, operation name), computed once and cached.

Holds the plan (or the planning error), the per-fetch request prefixes, the shaping programs and
the split-out introspection document. Per request only variables change. Execution never plans:
`split_operation` says what to plan, the server's preparation step (gateway/server/preparation.py)
calls the planner, and `compile_operation` builds this record from the plan.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    visit,
)
from graphql.language import DirectiveNode, Visitor

from gateway.errors import (
    BAD_USER_INPUT,
    GRAPHQL_VALIDATION_FAILED,
    OPERATION_NOT_FOUND,
    GatewayRequestError,
    GraphQLErrorDict,
    error_dict,
)
from gateway.execution.entities import Projector
from gateway.execution.shaping import INTROSPECTION_ROOT_FIELDS, ShapingProgram
from gateway.planning.nodes import FetchNode, KeyRenamer, QueryPlan, iter_fetches

log = logging.getLogger("fedgate.execution")


class SupergraphView(Protocol):
    """What execution needs from `gateway.supergraph.Supergraph`."""

    @property
    def api_schema(self) -> GraphQLSchema: ...

    @property
    def subgraph_urls(self) -> Mapping[str, str]: ...

    def satisfies(self, typename: str, condition: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PreparedFetch:
    """Per-fetch request data computed once: the JSON body up to the variables, and where to send it."""

    service_name: str
    url: str | None
    body_prefix: bytes
    # (variable name, b'"name":') for each variable the fetch uses.
    variables: tuple[tuple[str, bytes], ...]
    # Entity fetches: builds each representation from `requires`.
    projector: Projector | None
    # The fetch's operation kind from the plan: the transport neither retries nor deduplicates it.
    is_mutation: bool = False


@dataclass(slots=True)
class PreparedOperation:
    """One operation of one document, ready to execute many times."""

    document: DocumentNode
    operation: OperationDefinitionNode
    root_type: GraphQLObjectType
    plan: QueryPlan | None
    plan_error: GraphQLErrorDict | None
    fetches: dict[int, PreparedFetch]
    introspection_document: DocumentNode | None
    condition_variables: tuple[str, ...]
    fragments: dict[str, FragmentDefinitionNode]
    schema: GraphQLSchema
    _programs: dict[tuple[bool, ...], ShapingProgram] = field(default_factory=dict)
    # Introspection answers depend only on the schema and the variables: (data, errors) per variables.
    introspection_results: dict[bytes, tuple[Any, list[Any]]] = field(default_factory=dict)
    # Internal alias the planner gave a field in a subgraph operation -> the key the client knows it
    # by; subgraph error paths are rewritten with it (see internal_aliases()).
    internal_aliases: dict[str, str] = field(default_factory=dict)

    @property
    def operation_name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None

    @property
    def kind(self) -> OperationType:
        return self.operation.operation

    def shaping_program(self, variables: Mapping[str, Any]) -> ShapingProgram:
        """The shaping program for these variables' `@skip`/`@include` values (compiled once per combination)."""
        key = tuple(bool(variables.get(name)) for name in self.condition_variables)
        program = self._programs.get(key)
        if program is None:
            conditions = dict(zip(self.condition_variables, key, strict=True))
            program = ShapingProgram(
                self.schema, self.root_type, self.operation.selection_set, self.fragments, conditions
            )
            self._programs[key] = program
        return program


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to run; GatewayRequestError(OPERATION_NOT_FOUND) when there is none such."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise GatewayRequestError([error_dict("Document does not contain any operation.", OPERATION_NOT_FOUND)])
        raise GatewayRequestError(
            [error_dict("Must provide operation name if query contains multiple operations.", OPERATION_NOT_FOUND)]
        )
    for op in operations:
        if op.name is not None and op.name.value == operation_name:
            return op
    raise GatewayRequestError([error_dict(f'Unknown operation named "{operation_name}".', OPERATION_NOT_FOUND)])


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, raw: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Variables coerced against the operation's definitions, defaults applied; BAD_USER_INPUT on error."""
    if not operation.variable_definitions:
        return {}
    from graphql.execution.values import get_variable_values

    result = get_variable_values(schema, operation.variable_definitions, dict(raw or {}), max_errors=50)
    if isinstance(result, list):
        errors = [
            error_dict(
                e.message,
                BAD_USER_INPUT,
                locations=[{"line": loc.line, "column": loc.column} for loc in e.locations or ()] or None,
            )
            for e in result
        ]
        raise GatewayRequestError(errors)
    return result.coerced


def _condition_variables(operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]) -> tuple[str, ...]:
    names: list[str] = []

    class _Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value not in ("skip", "include"):
                return
            for arg in node.arguments or ():
                if isinstance(arg.value, VariableNode) and arg.value.name.value not in names:
                    names.append(arg.value.name.value)

    visit(operation, _Collect())
    for frag in fragments.values():
        visit(frag, _Collect())
    return tuple(names)


def _filter_root(
    selection_set: SelectionSetNode,
    keep: Callable[[FieldNode], bool],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> SelectionSetNode | None:
    """The root selection set with only the fields `keep` accepts; spreads become inline fragments."""
    kept: list[Any] = []
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            if keep(sel):
                kept.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            sub = _filter_root(sel.selection_set, keep, fragments)
            if sub is not None:
                kept.append(
                    InlineFragmentNode(type_condition=sel.type_condition, directives=sel.directives, selection_set=sub)
                )
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is None:
                continue
            sub = _filter_root(frag.selection_set, keep, fragments)
            if sub is not None:
                kept.append(
                    InlineFragmentNode(type_condition=frag.type_condition, directives=sel.directives, selection_set=sub)
                )
    if not kept:
        return None
    return SelectionSetNode(selections=tuple(kept))


def _is_introspection(node: FieldNode) -> bool:
    return node.name.value in INTROSPECTION_ROOT_FIELDS


def _is_local(node: FieldNode) -> bool:
    return node.name.value in INTROSPECTION_ROOT_FIELDS or node.name.value == "__typename"


def _with_operation(document: DocumentNode, op: OperationDefinitionNode, selection_set: SelectionSetNode) -> DocumentNode:
    new_op = OperationDefinitionNode(
        operation=op.operation,
        name=op.name,
        variable_definitions=op.variable_definitions,
        directives=op.directives,
        selection_set=selection_set,
    )
    others = [d for d in document.definitions if not isinstance(d, OperationDefinitionNode)]
    return DocumentNode(definitions=(new_op, *others))


def _prepare_fetch(node: FetchNode, urls: Mapping[str, str]) -> PreparedFetch:
    prefix = b'{"query":' + orjson.dumps(node.operation)
    if node.operation_name:
        prefix += b',"operationName":' + orjson.dumps(node.operation_name)
    prefix += b',"variables":{'
    variables = tuple((name, orjson.dumps(name) + b":") for name in node.variable_usages)
    projector = Projector(node.requires) if node.requires is not None else None
    mutation = node.operation_kind == "mutation"
    return PreparedFetch(node.service_name, urls.get(node.service_name), prefix, variables, projector, mutation)


@dataclass(frozen=True, slots=True)
class OperationParts:
    """One operation of a validated document, split into what the gateway answers itself
    (introspection, root `__typename`) and the document the planner is given."""

    document: DocumentNode
    operation: OperationDefinitionNode
    root_type: GraphQLObjectType
    fragments: dict[str, FragmentDefinitionNode]
    introspection_document: DocumentNode | None
    # None: nothing to plan (every root field is answered locally).
    planned_document: DocumentNode | None

    @property
    def operation_name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None


def split_operation(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> OperationParts:
    """Select the operation of a validated `document` and split off what is answered locally.

    Raises GatewayRequestError for an unknown operation, a root type the schema lacks, a subscription.
    """
    operation = select_operation(document, operation_name)
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        raise GatewayRequestError(
            [error_dict(f"Schema is not configured for {operation.operation.value}s.", GRAPHQL_VALIDATION_FAILED)]
        )
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    introspection_document = None
    intro = _filter_root(operation.selection_set, _is_introspection, fragments)
    if intro is not None:
        introspection_document = _with_operation(document, operation, intro)
    planned_document: DocumentNode | None
    if _filter_root(operation.selection_set, _is_local, fragments) is None:
        planned_document = document  # nothing answered locally: the planner sees the client's document
    else:
        rest = _filter_root(operation.selection_set, lambda n: not _is_local(n), fragments)
        planned_document = None if rest is None else _with_operation(document, operation, rest)
    return OperationParts(document, operation, root_type, fragments, introspection_document, planned_document)


def compile_operation(
    supergraph: SupergraphView,
    parts: OperationParts,
    plan: QueryPlan | None,
    plan_error: GraphQLErrorDict | None = None,
) -> PreparedOperation:
    """The executable form of an operation whose plan is made (`plan_error`: planning failed, answered as
    `data: null`): per-fetch request prefixes and the shaping inputs."""
    fetches: dict[int, PreparedFetch] = {}
    aliases: dict[str, str] = {}
    if plan is not None and plan_error is None:
        for fetch in iter_fetches(plan.node):
            fetches[id(fetch)] = _prepare_fetch(fetch, supergraph.subgraph_urls)
            aliases.update(internal_aliases(fetch))
    return PreparedOperation(
        document=parts.document,
        operation=parts.operation,
        root_type=parts.root_type,
        plan=plan,
        plan_error=plan_error,
        fetches=fetches,
        introspection_document=parts.introspection_document,
        condition_variables=_condition_variables(parts.operation, parts.fragments),
        fragments=parts.fragments,
        schema=supergraph.api_schema,
        internal_aliases=aliases,
    )


_INTERNAL_ALIAS = re.compile(r"\b(_internal_qp_alias_\d+)\s*:\s*([_A-Za-z][_0-9A-Za-z]*)")


def internal_aliases(node: FetchNode) -> dict[str, str]:
    """Internal aliases in one fetch's operation -> the client's key for that field.

    A KeyRenamer (fields whose types differ across fragments) gives the key back that the client
    selected, alias included; an argument-conflict alias of a `@requires` input stands for the field
    itself. Internal aliases are unique within a plan, so one mapping serves every fetch."""
    out = dict(_INTERNAL_ALIAS.findall(node.operation)) if "_internal_qp_alias_" in node.operation else {}
    for rewrite in node.output_rewrites:
        if isinstance(rewrite, KeyRenamer) and rewrite.path and rewrite.path[-1] in out:
            out[rewrite.path[-1]] = rewrite.rename_key_to
    return out


__all__ = [
    "OperationParts",
    "PreparedFetch",
    "PreparedOperation",
    "SupergraphView",
    "coerce_variables",
    "compile_operation",
    "select_operation",
    "split_operation",
]

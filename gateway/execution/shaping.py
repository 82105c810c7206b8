"""Response shaping: apply the client's operation to the merged data tree.

Compiled once per (operation, condition-variable values) from the original validated document:
fields are collected per runtime type as graphql-core's executor would (fragments, aliases,
`@skip`/`@include`), lazily and memoised. Per request, one pass writes fresh dicts containing only
the operation's response keys, in operation order, with GraphQL null propagation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
    is_enum_type,
    is_interface_type,
    is_object_type,
)
from graphql.language import DirectiveNode

from gateway.errors import GraphQLErrorDict, error_dict

RESPONSE_VALIDATION_FAILED = "RESPONSE_VALIDATION_FAILED"
"""A subgraph value that does not fit the schema (a string for an `Int!`, an unknown enum value, an
object in a `[String]`): nulled, with this error at its path, as Apollo Router reports it."""

# The JSON types each built-in scalar accepts (ID: string or integer, as graphql-js serialises it).
# Custom scalars accept anything. Int must also fit in 32 bits.
_INT = frozenset({int})
_SCALAR_TYPES: dict[str, frozenset[type]] = {
    "Int": _INT,
    "Float": frozenset({int, float}),
    "String": frozenset({str}),
    "Boolean": frozenset({bool}),
    "ID": frozenset({str, int}),
}
_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1


def valid_leaf(check: frozenset[type], value: Any) -> bool:
    """Does `value` (not None) fit the built-in scalar whose JSON types are `check`?"""
    return type(value) in check and (check is not _INT or _INT_MIN <= value <= _INT_MAX)

_TYPENAME = 0
_LEAF = 1
_ENUM = 2
_OBJECT = 3
_ABSTRACT = 4
_INTROSPECTION = 5

_FAST_NONE = 0
_FAST_LEAF = 1
_FAST_TYPENAME = 2
_FAST_OBJECT = 3
_FAST_CHECKED = 4  # a built-in scalar other than Int, outside lists: `accept` holds its JSON types
_FAST_INT = 5  # an Int outside lists: a JSON integer within 32 bits

INTROSPECTION_ROOT_FIELDS = frozenset({"__schema", "__type"})


class _Bubble:
    """Marks a null in a non-null position: the parent must become null too."""

    __slots__ = ()


_BUBBLE = _Bubble()


class _ShapeContext:
    """Per-program compile inputs: schema, fragments, and the values of `@skip`/`@include` variables."""

    __slots__ = ("schema", "fragments", "conditions")

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, bool],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.conditions = conditions

    def included(self, directives: Sequence[DirectiveNode] | None) -> bool:
        if not directives:
            return True
        for directive in directives:
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            value: bool | None = None
            for arg in directive.arguments or ():
                if arg.name.value != "if":
                    continue
                if isinstance(arg.value, BooleanValueNode):
                    value = arg.value.value
                elif isinstance(arg.value, VariableNode):
                    value = self.conditions.get(arg.value.name.value, False)
            if value is None:
                continue
            if (name == "skip") == value:
                return False
        return True


class ShapeField:
    """One response key of a selection set for one runtime type."""

    __slots__ = (
        "key", "name", "kind", "non_null", "list_depth", "enum", "enum_name", "child", "parent_type",
        "fast", "nn", "obj_fields", "obj_name", "check", "accept",
    )

    def __init__(
        self,
        key: str,
        name: str,
        kind: int,
        parent_type: str,
        non_null: tuple[bool, ...] = (False,),
        enum: GraphQLEnumType | None = None,
        child: ShapeSelectionSet | None = None,
        check: frozenset[type] | None = None,
    ) -> None:
        self.key = key
        # For a built-in scalar leaf: the JSON types its values may have (None: any value passes);
        # `accept` adds NoneType when the field is nullable, so the clean pass tests both at once.
        self.check = check
        self.accept = (check | {type(None)} if not non_null[0] else check) if check is not None else frozenset()
        self.name = name
        self.kind = kind
        self.parent_type = parent_type
        self.non_null = non_null
        self.list_depth = len(non_null) - 1
        self.enum = frozenset(enum.values) if enum is not None else frozenset()
        self.enum_name = enum.name if enum is not None else ""
        self.child = child
        self.nn = non_null[0]
        # Hot-path dispatch: leaves and single objects outside lists skip the generic _complete.
        if kind == _TYPENAME:
            self.fast = _FAST_TYPENAME
        elif kind == _LEAF and self.list_depth == 0:
            self.fast = _FAST_LEAF if check is None else _FAST_INT if check is _INT else _FAST_CHECKED
        elif kind == _OBJECT and self.list_depth == 0:
            self.fast = _FAST_OBJECT
        else:
            self.fast = _FAST_NONE
        # For _OBJECT: the child's fields and type name, resolved on first use.
        self.obj_fields: list[ShapeField] | None = None
        self.obj_name = child.static_name if child is not None else ""

    def object_fields(self) -> list[ShapeField]:
        """The child's fields for an object-typed field (compiled once)."""
        fields = self.obj_fields
        if fields is None:
            assert self.child is not None
            fields = self.obj_fields = self.child.fields_for(self.obj_name) or []
        return fields


class ShapeSelectionSet:
    """The merged sub-selections of one response key; fields are collected per runtime type on demand."""

    __slots__ = ("_ctx", "_selection_sets", "_static_type", "_abstract_name", "_by_type")

    def __init__(
        self,
        ctx: _ShapeContext,
        selection_sets: list[SelectionSetNode],
        static_type: GraphQLObjectType | None,
        abstract_name: str | None = None,
    ) -> None:
        self._ctx = ctx
        self._selection_sets = selection_sets
        self._static_type = static_type
        self._abstract_name = abstract_name
        self._by_type: dict[str, list[ShapeField] | None] = {}

    @property
    def abstract_name(self) -> str | None:
        return self._abstract_name

    @property
    def static_name(self) -> str:
        return self._static_type.name if self._static_type is not None else ""

    def fields_for(self, typename: str) -> list[ShapeField] | None:
        """Fields for runtime type `typename`; None when it is not a possible object type here."""
        try:
            return self._by_type[typename]
        except KeyError:
            pass
        fields = self._compile(typename)
        self._by_type[typename] = fields
        return fields

    def _compile(self, typename: str) -> list[ShapeField] | None:
        schema = self._ctx.schema
        runtime: GraphQLObjectType | GraphQLInterfaceType
        if self._static_type is not None:
            runtime = self._static_type
        else:
            named = schema.get_type(typename)
            abstract = schema.get_type(self._abstract_name or "")
            if abstract is None or not is_abstract_type(abstract):
                return None
            if typename == self._abstract_name and is_interface_type(abstract):
                # An @interfaceObject subgraph answers with the interface's own name when the plan did
                # not need the concrete type: only the interface-level selections apply.
                runtime = abstract  # type: ignore[assignment]
            elif is_object_type(named) and schema.is_sub_type(abstract, named):  # type: ignore[arg-type]
                runtime = named  # type: ignore[assignment]
            else:
                return None
        grouped = self._collect(runtime)
        is_root = runtime in (schema.query_type, schema.mutation_type, schema.subscription_type)
        return [self._compile_field(runtime, key, nodes, is_root) for key, nodes in grouped.items()]

    def _collect(self, runtime: GraphQLObjectType | GraphQLInterfaceType) -> dict[str, list[FieldNode]]:
        ctx = self._ctx
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        # Depth-first, in document order: a stack of selection iterators.
        stack = [iter(ss.selections) for ss in reversed(self._selection_sets)]
        while stack:
            sel = next(stack[-1], None)
            if sel is None:
                stack.pop()
                continue
            if not ctx.included(sel.directives):
                continue
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                grouped.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                if cond is None or self._applies(cond.name.value, runtime):
                    stack.append(iter(sel.selection_set.selections))
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name in visited:
                    continue
                visited.add(name)
                frag = ctx.fragments.get(name)
                if frag is not None and self._applies(frag.type_condition.name.value, runtime):
                    stack.append(iter(frag.selection_set.selections))
        return grouped

    def _applies(self, condition: str, runtime: GraphQLObjectType | GraphQLInterfaceType) -> bool:
        if condition == runtime.name:
            return True
        cond_type = self._ctx.schema.get_type(condition)
        return cond_type is not None and is_abstract_type(cond_type) and self._ctx.schema.is_sub_type(
            cond_type, runtime  # type: ignore[arg-type]
        )

    def _compile_field(
        self, runtime: GraphQLObjectType | GraphQLInterfaceType, key: str, nodes: list[FieldNode], is_root: bool
    ) -> ShapeField:
        name = nodes[0].name.value
        if name == "__typename":
            return ShapeField(key, name, _TYPENAME, runtime.name)
        if is_root and name in INTROSPECTION_ROOT_FIELDS:
            return ShapeField(key, name, _INTROSPECTION, runtime.name)
        field_def = runtime.fields.get(name)
        if field_def is None:
            # Not in the API schema (cannot happen after validation): answer null.
            return ShapeField(key, name, _LEAF, runtime.name)
        flags: list[bool] = []
        gtype: Any = field_def.type
        while True:
            non_null = isinstance(gtype, GraphQLNonNull)
            if non_null:
                gtype = gtype.of_type
            flags.append(non_null)
            if isinstance(gtype, GraphQLList):
                gtype = gtype.of_type
                continue
            break
        non_null_levels = tuple(flags)
        if is_enum_type(gtype):
            return ShapeField(key, name, _ENUM, runtime.name, non_null_levels, enum=gtype)
        if is_object_type(gtype) or is_abstract_type(gtype):
            sub = [n.selection_set for n in nodes if n.selection_set is not None]
            if is_object_type(gtype):
                child = ShapeSelectionSet(self._ctx, sub, gtype)
                return ShapeField(key, name, _OBJECT, runtime.name, non_null_levels, child=child)
            child = ShapeSelectionSet(self._ctx, sub, None, gtype.name)
            return ShapeField(key, name, _ABSTRACT, runtime.name, non_null_levels, child=child)
        return ShapeField(key, name, _LEAF, runtime.name, non_null_levels, check=_SCALAR_TYPES.get(gtype.name))


class ShapingProgram:
    """The compiled shape of one operation for one set of `@skip`/`@include` variable values."""

    __slots__ = ("root", "root_type_name")

    def __init__(
        self,
        schema: GraphQLSchema,
        root_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, bool],
    ) -> None:
        ctx = _ShapeContext(schema, fragments, conditions)
        self.root = ShapeSelectionSet(ctx, [selection_set], root_type)
        self.root_type_name = root_type.name

    def shape(
        self,
        data: dict[str, Any] | None,
        errors: list[GraphQLErrorDict],
        introspection: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """The response `data` for merged `data`; shaping errors are appended to `errors`."""
        if introspection is None:
            # Most responses complete without a shaping error: try the pass that tracks no paths first.
            fields = self.root.fields_for(self.root_type_name)
            if fields is not None:
                try:
                    return _clean_object(data or {}, fields, self.root_type_name)
                except _NotClean:
                    pass
        return _Shaper(errors, introspection).shape_root(self, data or {})


class _Shaper:
    __slots__ = ("errors", "reported", "path", "introspection")

    def __init__(self, errors: list[GraphQLErrorDict], introspection: Mapping[str, Any] | None) -> None:
        self.errors = errors
        self.introspection = introspection or {}
        self.path: list[str | int] = []
        # Every prefix of every error path: "has an error already been reported at or below P?"
        self.reported: set[tuple[str | int, ...]] = set()
        for err in errors:
            path = err.get("path")
            if path:
                self._register(path)

    def _register(self, path: Sequence[str | int]) -> None:
        for i in range(1, len(path) + 1):
            self.reported.add(tuple(path[:i]))

    def _error(self, message: str, code: str | None = None) -> None:
        path = list(self.path)
        self.errors.append(error_dict(message, code, path=path))
        self._register(path)

    def _invalid(self, f: ShapeField) -> None:
        """A value that does not fit the field's type: reported here, then treated as null."""
        path = list(self.path)
        self.errors.append(
            error_dict(f"Invalid value found for field {f.parent_type}.{f.name}.", RESPONSE_VALIDATION_FAILED, path=path)
        )
        self._register(path)
        count_invalid_value()

    def _null_error(self, f: ShapeField) -> None:
        if tuple(self.path) not in self.reported:
            self._error(f"Cannot return null for non-nullable field {f.parent_type}.{f.name}.")

    def shape_root(self, program: ShapingProgram, data: dict[str, Any]) -> dict[str, Any] | None:
        fields = program.root.fields_for(program.root_type_name) or []
        result = self._object(data, fields, program.root_type_name)
        return None if result is _BUBBLE else result  # type: ignore[return-value]

    def _object(self, obj: dict[str, Any], fields: list[ShapeField], typename: str) -> dict[str, Any] | _Bubble:
        out: dict[str, Any] = {}
        path = self.path
        for f in fields:
            key = f.key
            fast = f.fast
            if fast == _FAST_LEAF or fast == _FAST_CHECKED or fast == _FAST_INT:
                value = obj.get(key)
                if value is None:
                    if f.nn:
                        path.append(key)
                        self._null_error(f)
                        path.pop()
                        return _BUBBLE
                elif f.check is not None and not valid_leaf(f.check, value):
                    path.append(key)
                    self._invalid(f)
                    path.pop()
                    if f.nn:
                        return _BUBBLE
                    value = None
                out[key] = value
                continue
            if fast == _FAST_TYPENAME:
                out[key] = typename
                continue
            if f.kind == _INTROSPECTION:
                out[key] = self.introspection.get(key)
                continue
            value = obj.get(key)
            if value is None:
                if f.nn:
                    path.append(key)
                    self._null_error(f)
                    path.pop()
                    return _BUBBLE
                out[key] = None
                continue
            path.append(key)
            result: Any
            if fast == _FAST_OBJECT and type(value) is dict:
                result = self._object(value, f.obj_fields or f.object_fields(), f.obj_name)
                if result is _BUBBLE and not f.nn:
                    result = None
            else:
                result = self._complete(value, f, 0)
            path.pop()
            if result is _BUBBLE:
                return _BUBBLE
            out[key] = result
        return out

    def _null_at(self, f: ShapeField, level: int) -> Any:
        """This position is null after an error was reported here: null, or bubble if non-null."""
        return _BUBBLE if f.non_null[level] else None

    def _complete(self, value: Any, f: ShapeField, level: int) -> Any:
        """Shaped value of a position at list depth `level`; _BUBBLE when its parent must become null."""
        if value is None:
            if f.non_null[level]:
                self._null_error(f)
                return _BUBBLE
            return None
        if level < f.list_depth:
            if type(value) is not list:
                self._error(f'Expected Iterable, but did not find one for field "{f.parent_type}.{f.name}".')
                count_invalid_value()
                return self._null_at(f, level)
            items: list[Any] = []
            path = self.path
            inner = level + 1
            if inner == f.list_depth:
                kind = f.kind
                if kind == _LEAF and not f.non_null[inner] and f.check is None:
                    return list(value)
                if kind == _OBJECT:
                    return self._object_list(value, f, level)
            for i, item in enumerate(value):
                path.append(i)
                result = self._complete(item, f, inner)
                path.pop()
                if result is _BUBBLE:
                    return self._null_at(f, level)
                items.append(result)
            return items
        kind = f.kind
        if kind == _LEAF:
            if f.check is None or valid_leaf(f.check, value):
                return value
            self._invalid(f)
            return self._null_at(f, level)
        if kind == _ENUM:
            if type(value) is str and value in f.enum:
                return value
            self._error(f'Enum "{f.enum_name}" cannot represent value: {_short_json(value)}', RESPONSE_VALIDATION_FAILED)
            count_invalid_value()
            return self._null_at(f, level)
        if type(value) is not dict:
            self._error(f'Expected an object for field "{f.parent_type}.{f.name}".')
            count_invalid_value()
            return self._null_at(f, level)
        child = f.child
        assert child is not None
        fields: list[ShapeField] | None
        if kind == _OBJECT:
            typename = f.obj_name
            fields = f.obj_fields or f.object_fields()
        else:
            runtime_name = value.get("__typename")
            fields = child.fields_for(runtime_name) if type(runtime_name) is str else None
            if fields is None:
                self._error(
                    f'Abstract type "{child.abstract_name}" must resolve to an Object type at runtime for '
                    f'field "{f.parent_type}.{f.name}". Received "{runtime_name}".'
                )
                return self._null_at(f, level)
            typename = runtime_name  # type: ignore[assignment]
        result = self._object(value, fields or [], typename)
        if result is _BUBBLE:
            return self._null_at(f, level)
        return result


    def _object_list(self, value: list[Any], f: ShapeField, level: int) -> Any:
        """The innermost list of an object-typed field: items shaped without a _complete call each."""
        items: list[Any] = []
        path = self.path
        fields = f.obj_fields or f.object_fields()
        name = f.obj_name
        inner = level + 1
        item_nn = f.non_null[inner]
        result: Any
        for i, item in enumerate(value):
            path.append(i)
            if type(item) is dict:
                result = self._object(item, fields, name)
                if result is _BUBBLE and not item_nn:
                    result = None
            else:
                result = self._complete(item, f, inner)
            path.pop()
            if result is _BUBBLE:
                return self._null_at(f, level)
            items.append(result)
        return items


class _NotClean(Exception):
    """The clean pass met something that needs an error (or introspection): shape with `_Shaper`."""


_NOT_CLEAN = _NotClean()


def _clean_object(obj: dict[str, Any], fields: list[ShapeField], typename: str) -> dict[str, Any]:
    """`_Shaper._object` for data that needs no error: no response paths kept, no null bubbling.

    Wherever `_Shaper` would report an error (and so, also, wherever a null would bubble), this
    raises _NotClean and the caller starts over with `_Shaper`; otherwise both give the same value.
    """
    out: dict[str, Any] = {}
    get = obj.get
    for f in fields:
        key = f.key
        fast = f.fast
        # Leaves first, and each test inlined: this runs for every leaf of every response.
        if fast == _FAST_CHECKED:
            value = get(key)
            if type(value) not in f.accept:  # a wrong type, or null in a non-null field
                raise _NOT_CLEAN
            out[key] = value
            continue
        if fast == _FAST_INT:
            value = get(key)
            if type(value) is int:
                if not _INT_MIN <= value <= _INT_MAX:
                    raise _NOT_CLEAN
            elif value is not None or f.nn:
                raise _NOT_CLEAN
            out[key] = value
            continue
        if fast == _FAST_LEAF:
            value = get(key)
            if value is None and f.nn:
                raise _NOT_CLEAN
            out[key] = value
            continue
        if fast == _FAST_TYPENAME:
            out[key] = typename
            continue
        if f.kind == _INTROSPECTION:
            raise _NOT_CLEAN
        value = get(key)
        if value is None:
            if f.nn:
                raise _NOT_CLEAN
            out[key] = None
        elif fast == _FAST_OBJECT and type(value) is dict:
            out[key] = _clean_object(value, f.obj_fields or f.object_fields(), f.obj_name)
        else:
            out[key] = _clean_complete(value, f, 0)
    return out


def _clean_complete(value: Any, f: ShapeField, level: int) -> Any:
    """`_Shaper._complete` for data that needs no error (see `_clean_object`)."""
    if value is None:
        if f.non_null[level]:
            raise _NOT_CLEAN
        return None
    kind = f.kind
    if level < f.list_depth:
        if type(value) is not list:
            raise _NOT_CLEAN
        inner = level + 1
        if inner == f.list_depth:
            if kind == _LEAF and not f.non_null[inner] and f.check is None:
                return list(value)
            if kind == _OBJECT:
                fields = f.obj_fields or f.object_fields()
                name = f.obj_name
                return [
                    _clean_object(item, fields, name) if type(item) is dict else _clean_complete(item, f, inner)
                    for item in value
                ]
        return [_clean_complete(item, f, inner) for item in value]
    if kind == _LEAF:
        if f.check is None or valid_leaf(f.check, value):
            return value
        raise _NOT_CLEAN
    if kind == _ENUM:
        if type(value) is str and value in f.enum:
            return value
        raise _NOT_CLEAN
    if type(value) is not dict:
        raise _NOT_CLEAN
    if kind == _OBJECT:
        return _clean_object(value, f.obj_fields or f.object_fields(), f.obj_name)
    child = f.child
    assert child is not None
    runtime_name = value.get("__typename")
    fields_for = child.fields_for(runtime_name) if type(runtime_name) is str else None
    if fields_for is None:
        raise _NOT_CLEAN
    return _clean_object(value, fields_for, runtime_name)  # type: ignore[arg-type]


_INVALID: list[Any] = []  # the fedgate_subgraph_errors_total{kind="invalid_value"} child, made on first use


def count_invalid_value() -> None:
    """Count a subgraph value that did not fit the schema. Merged data does not remember which subgraph
    sent a value, so the `subgraph` label is empty."""
    if not _INVALID:
        from gateway.observability.metrics import SUBGRAPH_ERRORS

        _INVALID.append(SUBGRAPH_ERRORS.labels("", "invalid_value"))
    _INVALID[0].inc()


def _short_json(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)

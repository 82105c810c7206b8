"""Subgraph validation rules (federation.ts `FederationBlueprint.onValidation` and SDL validation).

Every error carries the `[<subgraph>] ` prefix; all errors of a subgraph are collected.
"""

from __future__ import annotations

from graphql import (
    DirectiveDefinitionNode,
    FieldNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NonNullTypeNode,
    SelectionSetNode,
    StringValueNode,
    TypeNode,
)

from .contexts import check_contexts
from .errors import CompositionError
from .fieldsets import parse_field_set, print_selected_field
from .links import federation_directives
from .metadata import Metadata
from .subgraph import (
    BUILTIN_DIRECTIVES,
    BUILTIN_SCALARS,
    INPUT_OBJECT,
    INTERFACE,
    OBJECT,
    UNION,
    Applied,
    SField,
    SType,
    Subgraph,
    named_type,
    type_str,
)
from .values import print_directive, print_value

_KIND_NAMES = {INTERFACE: "Interface", UNION: "Union", OBJECT: "Object"}


class _FieldSetError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Validator:
    def __init__(self, sub: Subgraph, pre_upgrade: bool = False) -> None:
        self.sub = sub
        self.pre_upgrade = pre_upgrade
        self.missing_external: list[_FieldSetError] = []
        self.meta = Metadata(sub)
        self.errors: list[CompositionError] = []

    def error(self, code: str, message: str) -> None:
        self.errors.append(CompositionError(code, f"[{self.sub.name}] {message}", [self.sub.name]))

    # -- SDL-level ------------------------------------------------------------------------------------

    def known_type(self, name: str) -> bool:
        return name in self.sub.types or name in BUILTIN_SCALARS or name in self.sub.links.spec_types

    def check_sdl(self) -> None:
        for msg in self.sub.build_errors:
            self.error("INVALID_GRAPHQL", msg)
        seen_unknown: set[str] = set()

        def ref(name: str) -> None:
            if not self.known_type(name) and name not in seen_unknown:
                seen_unknown.add(name)
                self.error("INVALID_GRAPHQL", f"Unknown type {name}")

        for t in self.sub.types.values():
            for f in t.fields.values():
                ref(named_type(f.type))
                for a in f.args.values():
                    ref(named_type(a.type))
        for d in self.sub.directive_defs.values():
            for a in d.args.values():
                ref(named_type(a.type))
        if not seen_unknown:
            # Only reached by schema building, after the SDL rules found no unknown type.
            for t in self.sub.types.values():
                for i in t.interfaces:
                    if not self.known_type(i):
                        self.error("INVALID_GRAPHQL", f"Cannot implement unknown type {i}")
                for m in t.members:
                    if not self.known_type(m):
                        self.error("INVALID_GRAPHQL", f"Cannot add unknown type {m} as member of union type {t.name}")
        if not seen_unknown:
            self.check_positions()
        self.check_directive_names()
        if not self.errors:
            self.check_repeated_directives()
        if not self.errors:
            self.check_implementations()

    def check_positions(self) -> None:
        """Output fields need output types, arguments and input fields input types."""
        kind_names = {OBJECT: "ObjectType", INTERFACE: "InterfaceType", UNION: "UnionType",
                      INPUT_OBJECT: "InputObjectType"}
        for t in self.sub.types.values():
            for f in t.fields.values():
                ft = self.sub.type(named_type(f.type))
                if t.kind in (OBJECT, INTERFACE):
                    if ft is not None and ft.kind == INPUT_OBJECT:
                        self.error("INVALID_GRAPHQL", f'The type of "{f.coordinate}" must be Output Type but got '
                                   f'"{type_str(f.type)}", a {kind_names[ft.kind]}.')
                    for a in f.args.values():
                        at = self.sub.type(named_type(a.type))
                        if at is not None and at.kind in (OBJECT, INTERFACE, UNION):
                            self.error("INVALID_GRAPHQL", f'The type of "{f.coordinate}({a.name}:)" must be Input Type '
                                       f'but got "{type_str(a.type)}", a {kind_names[at.kind]}.')
                elif t.kind == INPUT_OBJECT and ft is not None and ft.kind in (OBJECT, INTERFACE, UNION):
                    self.error("INVALID_GRAPHQL", f'The type of "{f.coordinate}" must be Input Type but got '
                               f'"{type_str(f.type)}", a {kind_names[ft.kind]}.')

    def is_repeatable(self, d: Applied) -> bool:
        if d.federation:
            if d.name == "shareable":
                return self.sub.links.version >= (2, 2)
            return d.name in ("key", "tag", "composeDirective", "context", "cacheTag")
        definition = self.sub.directive_defs.get(d.name)
        return definition is not None and definition.repeatable

    def check_repeated_directives(self) -> None:
        def check(directives: list[Applied]) -> None:
            seen: set[str] = set()
            for d in directives:
                if d.name in seen and not self.is_repeatable(d):
                    self.error("INVALID_GRAPHQL",
                               f'The directive "@{d.node.name.value}" can only be used once at this location.')
                seen.add(d.name)

        for t in self.sub.types.values():
            # Type-level directives may be spread over the definition and extensions.
            check(t.directives)
            for f in t.fields.values():
                check(f.directives)
                for a in f.args.values():
                    check(a.directives)
            for v in t.values.values():
                check(v.directives)

    def is_subtype(self, sup: TypeNode, sub: TypeNode) -> bool:
        """Covariant output subtyping inside one subgraph (graphql-js `isTypeSubTypeOf`)."""
        if isinstance(sup, NonNullTypeNode):
            return isinstance(sub, NonNullTypeNode) and self.is_subtype(sup.type, sub.type)
        if isinstance(sub, NonNullTypeNode):
            return self.is_subtype(sup, sub.type)
        if isinstance(sup, ListTypeNode):
            return isinstance(sub, ListTypeNode) and self.is_subtype(sup.type, sub.type)
        if isinstance(sub, ListTypeNode):
            return False
        sup_name, sub_name = named_type(sup), named_type(sub)
        if sup_name == sub_name:
            return True
        st = self.sub.type(sup_name)
        if st is None:
            return False
        if st.kind == UNION:
            return sub_name in st.members
        if st.kind == INTERFACE:
            it = self.sub.type(sub_name)
            return it is not None and sup_name in it.interfaces
        return False

    def check_implementations(self) -> None:
        for t in self.sub.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            for itf_name in t.interfaces:
                itf = self.sub.type(itf_name)
                if itf is None:
                    continue
                if itf.kind != INTERFACE:
                    self.error("INVALID_GRAPHQL",
                               f"Type {t.name} must only implement Interface types, it cannot implement {itf_name}.")
                    continue
                for fname, ifield in itf.fields.items():
                    f = t.fields.get(fname)
                    if f is None:
                        self.error("INVALID_GRAPHQL",
                                   f"Interface field {itf_name}.{fname} expected but {t.name} does not provide it.")
                        continue
                    if not self.is_subtype(ifield.type, f.type):
                        self.error("INVALID_GRAPHQL",
                                   f"Interface field {itf_name}.{fname} expects type {type_str(ifield.type)} but "
                                   f"{t.name}.{fname} of type {type_str(f.type)} is not a proper subtype.")
                    for aname, iarg in ifield.args.items():
                        a = f.args.get(aname)
                        if a is None:
                            self.error("INVALID_GRAPHQL",
                                       f"Interface field argument {itf_name}.{fname}({aname}:) expected but "
                                       f"{t.name}.{fname} does not provide it.")
                        elif type_str(a.type) != type_str(iarg.type):
                            self.error("INVALID_GRAPHQL",
                                       f"Interface field argument {itf_name}.{fname}({aname}:) expects type "
                                       f"{type_str(iarg.type)} but {t.name}.{fname}({aname}:) is type "
                                       f"{type_str(a.type)}.")
                    for aname, a in f.args.items():
                        if aname not in ifield.args and isinstance(a.type, NonNullTypeNode) and a.default is None:
                            self.error("INVALID_GRAPHQL",
                                       f"Field {t.name}.{fname} includes required argument {aname} that is missing "
                                       f"from the Interface field {itf_name}.{fname}.")

    def all_applied(self) -> list[Applied]:
        out = list(self.sub.schema_directives)
        for t in self.sub.types.values():
            out.extend(t.directives)
            for f in t.fields.values():
                out.extend(f.directives)
                for a in f.args.values():
                    out.extend(a.directives)
            for v in t.values.values():
                out.extend(v.directives)
        return out

    def check_directive_names(self) -> None:
        fed_names = federation_directives(14)
        reported: set[str] = set()
        for d in self.all_applied() + self.sub.hidden_applied:
            if d.federation or d.name in BUILTIN_DIRECTIVES or d.name in self.sub.directive_defs or d.name == "link":
                continue
            if d.name in reported:
                continue
            reported.add(d.name)
            if d.name in ("tag", "inaccessible") and self.sub.fed2 and self.sub.links.fed_prefix != "federation":
                self.error("INVALID_GRAPHQL",
                           f'Unknown directive "@{d.name}". Did you mean "@{self.sub.links.fed_prefix}__{d.name}"?')
            elif d.name in fed_names and self.sub.fed2 and (alias := next(
                    (n for n, c in self.sub.links.directives.items()
                     if c == d.name and n != d.name and not n.startswith(self.sub.links.fed_prefix + "__")), None)):
                self.error("INVALID_GRAPHQL",
                           f'Unknown directive "@{d.name}". If you meant the "@{d.name}" federation directive, you should '
                           f'use "@{alias}" as it is imported under that name in the @link to the federation '
                           "specification of this schema.")
            elif d.name in fed_names and self.sub.fed2:
                prefix = self.sub.links.fed_prefix
                self.error("INVALID_GRAPHQL",
                           f'Unknown directive "@{d.name}". If you meant the "@{d.name}" federation directive, you should '
                           f'use fully-qualified name "@{prefix}__{d.name}" or add "@{d.name}" to the `import` argument '
                           "of the @link to the federation specification.")
            elif d.name in fed_names:
                self.error("INVALID_GRAPHQL",
                           f'Unknown directive "@{d.name}". If you meant the "@{d.name}" federation 2 directive, note '
                           "that this schema is a federation 1 schema. To be a federation 2 schema, it needs to @link to "
                           "the federation specifcation v2.")
            else:
                self.error("INVALID_GRAPHQL", f'Unknown directive "@{d.name}".')

    def check_federation_definitions(self) -> None:
        for name, canonical in self.sub.links.directives.items():
            if canonical not in ("key", "requires", "provides"):
                continue
            doc = self.sub.document
            if doc is None:
                return
            node = next((d for d in doc.definitions
                         if isinstance(d, DirectiveDefinitionNode) and d.name.value == name), None)
            if node is None:
                continue
            fields_arg = next((a for a in node.arguments or () if a.name.value == "fields"), None)
            if fields_arg is None:
                continue
            from graphql import print_ast

            printed = print_ast(fields_arg.type)
            if printed.rstrip("!") not in ("FieldSet", "_FieldSet", "federation__FieldSet", "String"):
                self.error("DIRECTIVE_DEFINITION_INVALID",
                           f'Invalid definition for directive "@{name}": argument "fields" should have type '
                           f'"{self.sub.links.fed_prefix}__FieldSet!" but found type "{printed}"')

    # -- field sets -----------------------------------------------------------------------------------

    def field_set(self, d: Applied, parent: str, directive: str, prefix: str) -> SelectionSetNode | None:
        value = d.args.get("fields")
        code_base = directive.upper()
        if not isinstance(value, StringValueNode):
            shown = print_value(value) if value is not None else ""
            self.error(f"{code_base}_INVALID_FIELDS_TYPE",
                       f'{prefix}, for @{directive}(fields: {shown}): Invalid value for argument "fields": must be a string.')
            return None
        from graphql import print_ast

        # As written (block strings stay block strings), like Apollo's directive printing.
        shown_args = ", ".join(f"{k}: {print_ast(v)}" for k, v in d.args.items())
        head = f"{prefix}, for @{directive}({shown_args}): "
        try:
            sel = parse_field_set(value.value)
        except GraphQLError as e:
            self.error(f"{code_base}_INVALID_FIELDS", head + e.message.replace("'", '"'))
            return None
        self.missing_external = []
        try:
            self.walk(sel, parent, directive, False)
        except _FieldSetError as e:
            self.error(e.code, head + e.message)
            return None
        # Missing @external is reported for every leaf (Apollo's onError does not stop the walk).
        for missing in self.missing_external:
            self.error(missing.code, head + missing.message)
        return sel

    def walk(self, sel: SelectionSetNode, parent: str, directive: str, external_in_parents: bool) -> None:
        code_base = directive.upper()
        t = self.sub.type(parent)
        assert t is not None
        for s in sel.selections:
            if s.directives:

                raise _FieldSetError(
                    f"{code_base}_DIRECTIVE_IN_FIELDS_ARG",
                    f"cannot have directive applications in the @{directive}(fields:) argument but found "
                    + ", ".join(print_directive(x) for x in s.directives) + ".")
            if isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else parent
                if self.sub.type(cond) is None:
                    cond = parent  # operations.ts FragmentElement: an unknown condition reads as no condition
                self.walk(s.selection_set, cond, directive, external_in_parents)
                continue
            if not isinstance(s, FieldNode):
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS", "fragment spreads are not allowed")
            fname = s.name.value
            if fname == "__typename":
                continue
            f = t.fields.get(fname) if t.kind in (OBJECT, INTERFACE) else None
            if f is None:
                where = ("the field should either be added to this subgraph or, if it should not be resolved by this "
                         "subgraph, you need to add it to this subgraph with @external" if directive == "key" else
                         "if the field is defined in another subgraph, you need to add it to this subgraph with @external")
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS",
                                     f'Cannot query field "{fname}" on type "{parent}" ({where}).')
            if s.alias is not None:
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS",
                                     f'Cannot use alias "{s.alias.value}" in "{s.alias.value}: {fname}": aliases are not '
                                     "currently supported in field sets")
            target = self.sub.type(named_type(f.type))
            composite = target is not None and target.kind in (OBJECT, INTERFACE, UNION)
            if directive == "key" and target is not None and target.kind in (INTERFACE, UNION):
                raise _FieldSetError("KEY_FIELDS_SELECT_INVALID_TYPE",
                                     f'field "{f.coordinate}" is a {_KIND_NAMES[target.kind]} type which is not allowed '
                                     "in @key")
            given = {a.name.value for a in s.arguments or ()}
            missing_arg = next((a for a in f.args.values() if isinstance(a.type, NonNullTypeNode)
                                and a.default is None and a.name not in given), None)
            if missing_arg is not None:
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS",
                                     f'Missing mandatory value for argument "{missing_arg.name}" of field '
                                     f'"{f.coordinate}" in selection "{print_selected_field(s)}"')
            if composite and s.selection_set is None:
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS",
                                     f'Invalid empty selection set for field "{f.coordinate}" of non-leaf type '
                                     f"{type_str(f.type)}")
            if f.args and directive != "requires":
                raise _FieldSetError(f"{code_base}_FIELDS_HAS_ARGS",
                                     f"field {f.coordinate} cannot be included because it has arguments (fields with "
                                     f"argument are not allowed in @{directive})")
            if not composite and s.selection_set is not None:
                raise _FieldSetError(f"{code_base}_INVALID_FIELDS",
                                     f'Field "{fname}" must not have a selection since type "{named_type(f.type)}" has '
                                     "no subfields.")
            is_external = self.meta.is_external(f)
            if (directive != "key" and s.selection_set is None and not external_in_parents and not is_external
                    and not self.pre_upgrade):  # fed1: the upgrade drops inactive @provides/@requires
                if f.coordinate in self.meta.fake_externals:
                    self.missing_external.append(_FieldSetError(
                        f"{code_base}_FIELDS_MISSING_EXTERNAL",
                        f'field "{f.coordinate}" should not be part of a @{directive} since it is already "effectively" '
                        "provided by this subgraph (while it is marked @external, it is a @key field of an extension "
                        "type, which are not internally considered external for historical/backward compatibility "
                        "reasons)"))
                else:
                    self.missing_external.append(_FieldSetError(
                        f"{code_base}_FIELDS_MISSING_EXTERNAL",
                        f'field "{f.coordinate}" should not be part of a @{directive} since it is already provided by '
                        "this subgraph (it is not marked @external)"))
            if s.selection_set is not None:
                nested_external = external_in_parents or is_external
                if not nested_external and t.kind == INTERFACE:
                    for impl in self.sub.possible_runtime_types(t.name):
                        fi = self.sub.field(impl, fname)
                        if fi is not None and self.meta.is_external(fi):
                            nested_external = True
                self.walk(s.selection_set, named_type(f.type), directive, nested_external)

    # -- federation rules -----------------------------------------------------------------------------

    def check_types(self) -> None:
        sub = self.sub
        minor = sub.links.version[1] if sub.fed2 else 0
        for t in sub.types.values():
            if t.kind in (OBJECT, INTERFACE):
                for k in t.all("key"):
                    if t.kind == INTERFACE and sub.fed2 and minor < 3:
                        self.error("KEY_UNSUPPORTED_ON_INTERFACE",
                                   f'Cannot use @key on interface "{t.name}": @key is not yet supported on interfaces')
                        continue
                    self.field_set(k, t.name, "key", f'On type "{t.name}"')
                if t.has("interfaceObject") and not t.has("key"):
                    self.error("INTERFACE_OBJECT_USAGE_ERROR",
                               "The @interfaceObject directive can only be applied to entity types but type "
                               f'"{t.name}" has no @key in this subgraph.')
            for f in t.fields.values():
                if t.kind == INTERFACE:
                    self.check_interface_field(t, f)
                elif t.kind == OBJECT:
                    self.check_object_field(t, f)
        for t in sub.types.values():
            if t.kind == INTERFACE and sub.fed2:
                self.check_interface_keys_on_implementations(t)
        for t in sub.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            if any(e.code == "PROVIDES_ON_NON_OBJECT_FIELD" for e in self.errors):
                break  # Apollo stops collecting used fields on that error
            for f in t.fields.values():
                if self.pre_upgrade:
                    break  # fed1: the upgrade removes unused externals instead
                if self.meta.is_external(f) and not self.meta.is_used(f) and not f.has("provides"):
                    self.error("EXTERNAL_UNUSED",
                               f'Field "{f.coordinate}" is marked @external but is not used in any federation directive '
                               "(@key, @provides, @requires) or to satisfy an interface; the field declaration has no "
                               "use and should be removed (or the field should not be @external).")

    def check_interface_field(self, t: SType, f: SField) -> None:
        if f.has("external"):
            self.error("EXTERNAL_ON_INTERFACE",
                       f'Interface type field "{f.coordinate}" is marked @external but @external is not allowed on '
                       "interface fields (it is nonsensical).")
        if f.has("shareable"):
            self.error("INVALID_SHAREABLE_USAGE",
                       f'Invalid use of @shareable on field "{f.coordinate}": only object type fields can be marked '
                       "with @shareable")
        for dname in ("provides", "requires"):
            for d in f.all(dname):
                self.error(f"{dname.upper()}_UNSUPPORTED_ON_INTERFACE",
                           f'Cannot use @{dname} on field "{f.coordinate}" of parent type "{t.name}": @{dname} is not '
                           "yet supported within interfaces")
                # The field set is still validated (Apollo reports both).
                target = t.name if dname == "requires" else named_type(f.type)
                if self.sub.type(target) is not None:
                    self.field_set(d, target, dname, f'On field "{f.coordinate}"')

    def check_object_field(self, t: SType, f: SField) -> None:
        prefix = f'On field "{f.coordinate}"'
        for req in f.all("requires"):
            self.field_set(req, t.name, "requires", prefix)
        for prov in f.all("provides"):
            target = self.sub.type(named_type(f.type))
            if target is None or target.kind not in (OBJECT, INTERFACE, UNION):
                from .subgraph import type_str

                self.error("PROVIDES_ON_NON_OBJECT_FIELD",
                           f'Invalid @provides directive on field "{f.coordinate}": field has type "{type_str(f.type)}" '
                           "which is not a Composite Type")
                continue
            if f.has("external") and not self.pre_upgrade:
                self.error("EXTERNAL_COLLISION_WITH_ANOTHER_DIRECTIVE",
                           f'Cannot have both @provides and @external on field "{f.coordinate}"')
                continue
            self.field_set(prov, target.name, "provides", prefix)
        if len(f.all("shareable")) > 1 and self.sub.links.version < (2, 2):
            self.error("INVALID_SHAREABLE_USAGE",
                       f'Invalid duplicate application of @shareable on field "{f.coordinate}": @shareable is only '
                       "repeatable on types prior to federation 2.2")

    def check_demand_control(self) -> None:
        """@cost not on interface fields; @listSize on lists with valid slicing arguments and sized fields."""
        for t in self.sub.types.values():
            for f in t.fields.values():
                if t.kind == INTERFACE and f.has("cost"):
                    self.error("COST_APPLIED_TO_INTERFACE_FIELD",
                               f'@cost cannot be applied to interface "{f.coordinate}"')
                for d in f.all("listSize"):
                    self.check_list_size(d, f)

    def check_list_size(self, d: Applied, f: SField) -> None:
        def strings(name: str) -> list[str]:
            v = d.args.get(name)
            if isinstance(v, ListValueNode):
                return [x.value for x in v.values if isinstance(x, StringValueNode)]
            # A single string is not coerced to a list: Apollo iterates over its characters.
            return list(v.value) if isinstance(v, StringValueNode) else []

        sized = strings("sizedFields")
        if not sized and not _is_list(f.type):
            self.error("LIST_SIZE_APPLIED_TO_NON_LIST", f'"{f.coordinate}" is not a list')
        assumed = d.args.get("assumedSize")
        if isinstance(assumed, IntValueNode) and int(assumed.value) < 0:
            self.error("LIST_SIZE_INVALID_ASSUMED_SIZE", f'Assumed size of "{f.coordinate}" cannot be negative')
        for name in strings("slicingArguments"):
            arg = f.args.get(name)
            if arg is None:
                self.error("LIST_SIZE_INVALID_SLICING_ARGUMENT",
                           f'Slicing argument "{name}" is not an argument of "{f.coordinate}"')
            elif type_str(arg.type) not in ("Int", "Int!"):
                self.error("LIST_SIZE_INVALID_SLICING_ARGUMENT",
                           f'Slicing argument "{f.coordinate}({name}:)" must be Int or Int!')
        if sized:
            base = self.sub.type(named_type(f.type))
            if base is None or base.kind not in (OBJECT, INTERFACE, UNION):
                self.error("LIST_SIZE_INVALID_SIZED_FIELD",
                           f'Sized fields cannot be used because "{type_str(f.type)}" is not a composite type')
                return
            for name in sized:
                sf = base.fields.get(name)
                if sf is None:
                    self.error("LIST_SIZE_INVALID_SIZED_FIELD",
                               f'Sized field "{name}" is not a field on type "{base.name}"')
                elif not _is_list(sf.type):
                    self.error("LIST_SIZE_APPLIED_TO_NON_LIST", f'Sized field "{sf.coordinate}" is not a list')

    def check_auth_on_interfaces(self) -> None:
        """@authenticated/@requiresScopes/@policy never on interfaces, their fields or interface objects."""
        for dname in ("authenticated", "requiresScopes", "policy"):
            for t in self.sub.types.values():
                kind = "interface" if t.kind == INTERFACE else (
                    "interface object" if self.sub.is_interface_object(t) else None)
                if kind is not None:
                    for d in t.all(dname):
                        self.error("AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE", _auth_message(d, kind, t.name))
                if t.kind == INTERFACE:
                    for f in t.fields.values():
                        for d in f.all(dname):
                            self.error("AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
                                       _auth_message(d, "field", f.coordinate))

    def check_contexts(self) -> None:
        """@context / @fromContext (federation 2.8): the context exists and its selection is valid."""
        check_contexts(self.sub, self.error)

    def check_interface_keys_on_implementations(self, t: SType) -> None:

        for k in t.all("key"):
            if k.bool_arg("resolvable") is False:
                continue
            fields = k.str_arg("fields")
            missing = []
            for impl in self.sub.possible_runtime_types(t.name):
                it = self.sub.type(impl)
                if it is None:
                    continue
                same = [ik for ik in it.all("key") if ik.str_arg("fields") == fields]
                if not same:
                    missing.append(impl)
                elif all(ik.bool_arg("resolvable") is False for ik in same):
                    self.error("INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                               f'Key {print_directive(k.node)} on interface type "{t.name}" should be resolvable on all '
                               'implementation types, but is declared with argument "@key(resolvable:)" set to false in '
                               f'type "{impl}".')
            if missing:
                from .reporter import human_list

                shown = human_list([f'"{m}"' for m in missing], "type", "types")
                self.error("INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
                           f'Key {print_directive(k.node)} on interface type "{t.name}" is missing on implementation '
                           f"{shown}.")


def validate_subgraph(sub: Subgraph, pre_upgrade: bool = False) -> list[CompositionError]:
    """All validation errors of one subgraph (SDL, then federation rules)."""
    v = _Validator(sub, pre_upgrade)
    v.check_sdl()
    if v.errors:
        return v.errors
    v.check_federation_definitions()
    v.check_types()
    v.check_contexts()
    v.check_demand_control()
    v.check_auth_on_interfaces()
    return v.errors


def _is_list(t: TypeNode) -> bool:
    return isinstance(t.type if isinstance(t, NonNullTypeNode) else t, ListTypeNode)


def _auth_message(d: Applied, kind: str, coordinate: str) -> str:
    name = d.node.name.value  # as written: Apollo names the directive as the subgraph spells it
    return (f'Invalid use of @{name} on {kind} "{coordinate}": @{name} cannot be applied on interfaces, '
            "interface fields and interface objects")


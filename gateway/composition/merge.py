"""Merge validated subgraphs into the supergraph model (composition-js/src/merging/merge.ts)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql import (
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    StringValueNode,
    TypeNode,
    ValueNode,
)

from .contexts import parse_context
from .errors import CompositionError, CompositionHint
from .metadata import Metadata
from .model import MArgument, MDirective, MDirectiveDef, MEnumValue, MField, MType, Supergraph
from .reporter import (
    join_strings,
    mismatch_distribution,
    mismatch_error_message,
    mismatch_specific_message,
    subgraph_names,
)
from .subgraph import (
    ENUM,
    INPUT_OBJECT,
    INTERFACE,
    OBJECT,
    SCALAR,
    UNION,
    Applied,
    SArgument,
    SEnumValue,
    SField,
    SType,
    Subgraph,
    named_type,
    type_str,
)
from .values import gql_string, print_directive, print_value, value_key

Sources = dict[int, Any]

# Directives whose applications are merged into the supergraph.
BUILTIN_MERGED = ("deprecated", "specifiedBy")
MERGED_WITH_STRATEGY = ("authenticated", "requiresScopes", "policy", "cost", "listSize")
COMPOSED_BY_DEFAULT = ("tag", "inaccessible", "context", "authenticated", "requiresScopes", "policy", "cost",
                       "listSize")


def graph_enum_names(names: list[str]) -> dict[str, str]:
    """Subgraph name -> `join__Graph` value (joinSpec.ts `populateGraphEnum`)."""
    by_sanitized: dict[str, list[str]] = {}
    for n in names:
        s = re.sub(r"\W", "_", n)
        if re.match(r"^\d", s):
            s = "_" + s
        if re.search(r"_\d+$", s):
            s += "_"
        by_sanitized.setdefault(s.upper(), []).append(n)
    out: dict[str, str] = {}
    for s, ns in by_sanitized.items():
        if len(ns) == 1:
            out[ns[0]] = s
        else:
            for i, n in enumerate(ns):
                out[n] = f"{s}_{i + 1}"
    return out


class _FieldMergeContext:
    def __init__(self) -> None:
        self.used_overridden: set[int] = set()
        self.unused_overridden: set[int] = set()
        self.unknown_target: set[int] = set()
        self.overriders: list[int] = []
        self.labels: dict[int, str] = {}

    def is_overridden(self, i: int) -> bool:
        return i in self.used_overridden or i in self.unused_overridden


class Merger:
    """Apollo's Merger: per-element sources in subgraph order -> one supergraph element."""

    def __init__(self, subgraphs: list[Subgraph]) -> None:
        self.subs = subgraphs
        self.names = [s.name for s in subgraphs]
        self.meta = [Metadata(s) for s in subgraphs]
        self.graph_names = graph_enum_names(self.names)
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []
        self.sg = Supergraph()
        self.enum_usage: dict[str, tuple[str, dict[str, str]]] = {}
        self.pending_directives: list[tuple[list[str], Sources, Any]] = []
        self._access_sources: dict[str, list[Any]] | None = None
        self.overridden: dict[str, set[str]] = {}  # field coordinate -> subgraphs overridden away
        self.dropped_overridden: set[tuple[str, str]] = set()  # (coordinate, subgraph) without @join__field
        self.overridden_by: dict[tuple[str, str], str] = {}  # (coordinate, overridden subgraph) -> overriding one
        # progressive @override: field coordinate -> [(label, overriding subgraph, overridden subgraph)]
        self.labeled_overrides: dict[str, list[tuple[str, str, str]]] = {}
        self.composed: dict[str, Any] = {}  # @composeDirective-d directives by name in the supergraph
        self.inaccessible_used = any(
            d.name == "inaccessible" for s in subgraphs for d in _all_applied(s))
        self.tag_used = any(d.name == "tag" for s in subgraphs for d in _all_applied(s))
        self.fields_with_override = {
            f.coordinate for s in subgraphs for t in s.types.values() for f in t.fields.values()
            if f.has("override") and s.fed2}

    # -- helpers -----------------------------------------------------------------------------------

    def err(self, code: str, message: str, subgraphs: list[str] | tuple[str, ...] = ()) -> None:
        self.errors.append(CompositionError(code, message, subgraphs))

    def hint(self, code: str, message: str) -> None:
        self.hints.append(CompositionHint(code, message))

    def gname(self, idx: int) -> str:
        return self.graph_names[self.names[idx]]

    def is_external(self, idx: int, f: SField) -> bool:
        return self.meta[idx].is_external(f)

    def kind_of(self, idx: int, t: SType) -> str:
        return INTERFACE if self.subs[idx].is_interface_object(t) else t.kind

    def type_sources(self, name: str, kind: str) -> Sources:
        out: Sources = {}
        for i, s in enumerate(self.subs):
            t = s.type(name)
            if t is not None and self.kind_of(i, t) == kind:
                out[i] = t
        return out

    def is_merged_directive(self, d: Applied) -> bool:
        if d.federation:
            return d.name in COMPOSED_BY_DEFAULT
        return d.name in BUILTIN_MERGED or d.name in self.composed

    # -- entry point -------------------------------------------------------------------------------

    def merge(self) -> Supergraph:
        sg = self.sg
        sg.graphs = [(self.gname(i), s.name, s.url) for i, s in enumerate(self.subs)]
        # @tag/@inaccessible keep the name subgraphs give them (e.g. `@federation__tag`), imported under it.
        for canonical in ("tag", "inaccessible"):
            used_as = next((d.node.name.value for sub in self.subs for d in _all_applied(sub)
                            if d.name == canonical), None)
            if used_as is not None:
                sg.directive_names[canonical] = used_as
        from .access_control import SPEC_LINKS

        # Spec links in the order Apollo meets their directives (coreDirectiveCollector.ts): subgraph by
        # subgraph, each in the federation spec's directive order, a feature at its first used directive.
        order = ("tag", "inaccessible", "authenticated", "requiresScopes", "policy", "context", "cost", "listSize")
        feature_of = {"listSize": "cost"}
        features: list[str] = []
        for sub in self.subs:
            used_here = {d.name for d in _all_applied(sub) if d.federation or d.name in ("tag", "inaccessible")}
            for name in order:
                feature = feature_of.get(name, name)
                if name in used_here and feature not in features:
                    features.append(feature)
        used = {d.name for sub in self.subs for d in _all_applied(sub) if d.federation}
        for feature in features:
            if feature in ("tag", "inaccessible"):
                if feature not in sg.directive_names:
                    continue
                url, purpose = {"tag": ("https://specs.apollo.dev/tag/v0.3", None),
                                "inaccessible": ("https://specs.apollo.dev/inaccessible/v0.2", "SECURITY")}[feature]
                args = [("url", gql_string(url))]
                alias = sg.directive_names[feature]
                if alias != feature:
                    args.append(("import", f"[{{name: {gql_string('@' + feature)}, as: {gql_string('@' + alias)}}}]"))
                if purpose is not None:
                    args.append(("for", purpose))
                sg.links.append(MDirective("link", args))
            elif feature in SPEC_LINKS:
                url, purpose = SPEC_LINKS[feature]
                sg.links.append(MDirective("link", [("url", gql_string(url)), ("for", purpose)]))
                sg.spec_directives.append(feature)
            elif feature == "context":
                sg.links.append(MDirective("link", [
                    ("url", gql_string("https://specs.apollo.dev/context/v0.1")), ("for", "SECURITY")]))
                sg.uses_context = True
            elif feature == "cost":
                args = [("url", gql_string("https://specs.apollo.dev/cost/v0.1"))]
                if "listSize" in used:
                    args.append(("import", '["@listSize"]'))
                sg.links.append(MDirective("link", args))
                # The cost spec brings both definitions; @listSize is prefixed unless imported.
                sg.spec_directives += ["cost", "listSize" if "listSize" in used else "cost__listSize"]
        self.validate_import_names()
        if self.errors:
            return sg
        self.add_composed_directives()
        if self.errors:
            return sg
        self.add_types_shallow()
        if self.errors:
            return sg
        by_kind: dict[str, list[MType]] = {k: [] for k in (OBJECT, INTERFACE, UNION, ENUM, SCALAR, INPUT_OBJECT)}
        for t in sg.types.values():
            by_kind[t.kind].append(t)
        for t in by_kind[OBJECT] + by_kind[INTERFACE]:
            self.merge_implements(self.type_sources(t.name, t.kind), t)
        for t in by_kind[UNION]:
            self.merge_type(self.type_sources(t.name, t.kind), t)
        self.merge_schema_definition()
        for t in by_kind[SCALAR] + by_kind[INPUT_OBJECT] + by_kind[INTERFACE] + by_kind[OBJECT]:
            self.merge_type(self.type_sources(t.name, t.kind), t)
        self.merge_directive_definitions()
        for t in by_kind[ENUM]:
            self.merge_type(self.type_sources(t.name, t.kind), t)
        if "query" not in sg.roots:
            self.err("NO_QUERIES", "No queries found in any subgraph: a supergraph must have a query root type.")
        self.merge_all_applied_directives()
        self.add_missing_interface_object_fields()
        if not self.errors:
            self.post_merge_validations()
            if not self.errors:
                self.validate_merged_implementations()
            if not self.errors:
                self.validate_inaccessible()
        return sg

    def add_composed_directives(self) -> None:
        """`@composeDirective`: link the feature (latest minor) and keep the directive's definition."""
        from .compose_directives import collect_composed_directives

        composed, errors = collect_composed_directives(self.subs)
        self.errors.extend(errors)
        self.composed = composed
        by_url: dict[str, list[str]] = {}
        for c in composed.values():
            imp = gql_string(f"@{c.name}") if c.name == c.original else \
                f"{{name: {gql_string('@' + c.original)}, as: {gql_string('@' + c.name)}}}"
            by_url.setdefault(c.link.url, []).append(imp)
        for url, imports in by_url.items():
            self.sg.links.append(MDirective("link", [("url", gql_string(url)), ("import", "[" + ", ".join(imports) + "]")]))
        for c in composed.values():
            d = c.definition
            md = MDirectiveDef(name=c.name, locations=list(d.locations), repeatable=d.repeatable,
                               description=d.description)
            for a in d.args.values():
                md.args[a.name] = MArgument(name=a.name, type=a.type, default=a.default, description=a.description)
            self.sg.directive_defs[c.name] = md

    def validate_import_names(self) -> None:
        """Composed-by-default directives must be imported under one name everywhere."""
        for canonical in COMPOSED_BY_DEFAULT:
            name_in_supergraph: str | None = None
            used: dict[int, str] = {}
            for i, s in enumerate(self.subs):
                d = next((x for x in _all_applied(s) if x.name == canonical), None)
                if d is None:
                    continue
                used[i] = d.node.name.value
                if name_in_supergraph is None:
                    name_in_supergraph = used[i]
                elif used[i] != name_in_supergraph:
                    url = next((lk.url for lk in s.links.links if lk.identity.endswith("/federation")), "")
                    self.err("LINK_IMPORT_NAME_MISMATCH", mismatch_error_message(
                        f'The "@{canonical}" directive (from {url}) is imported with mismatched name between '
                        "subgraphs: it is imported as ", self.names, dict(used), lambda n: f'"@{n}"', f'"@{used[i]}"'),
                        [self.names[j] for j in used])

    # -- types ---------------------------------------------------------------------------------------

    def add_types_shallow(self) -> None:
        mismatched: list[str] = []
        with_itf_object: list[str] = []
        for i, s in enumerate(self.subs):
            for t in s.types.values():
                kind = self.kind_of(i, t)
                if kind != t.kind and t.name not in with_itf_object:
                    with_itf_object.append(t.name)
                prev = self.sg.types.get(t.name)
                if prev is None:
                    self.sg.types[t.name] = MType(kind=kind, name=t.name)
                elif prev.kind != kind and t.name not in mismatched:
                    mismatched.append(t.name)
        for name in mismatched:
            self.report_kind_mismatch(name)
        for name in with_itf_object:
            if name in mismatched:
                continue
            if not any((st := s.type(name)) is not None and st.kind == INTERFACE for s in self.subs):
                defining = [s.name for s in self.subs if s.type(name) is not None]
                self.err(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is defined '
                    f"(it is defined in {subgraph_names(defining)} but should be defined as an interface in at "
                    "least one subgraph)", defining)

    def report_kind_mismatch(self, name: str) -> None:
        dest = self.sg.types[name]
        sources: Sources = {i: s.type(name) for i, s in enumerate(self.subs) if s.type(name) is not None}

        def kind_str(idx_t: tuple[int, SType] | MType) -> str:
            if isinstance(idx_t, MType):
                return idx_t.kind.replace("Type", " Type")
            i, t = idx_t
            if self.subs[i].is_interface_object(t):
                return "Interface Object Type (Object Type with @interfaceObject)"
            return t.kind.replace("Type", " Type")

        wrapped = {i: (i, t) for i, t in sources.items()}
        msg = mismatch_error_message(
            f'Type "{name}" has mismatched kind: it is defined as ', self.names, wrapped, kind_str, kind_str(dest))
        self.err("TYPE_KIND_MISMATCH", msg, [self.names[i] for i in sources])

    def merge_implements(self, sources: Sources, dest: MType) -> None:
        for i, t in sources.items():
            for itf in t.interfaces:
                if itf not in dest.implements:
                    dest.implements.append(itf)
                dest.join_implements.append(MDirective(
                    "join__implements", [("graph", self.gname(i)), ("interface", gql_string(itf))]))

    def merge_description(self, sources: Sources, set_desc: Callable[[str], None], coordinate: str) -> None:
        descs: list[str] = []
        counts: list[float] = []
        for s in sources.values():
            if s is None or s.description is None:
                continue
            d = s.description
            if d in descs:
                counts[descs.index(d)] += 1
            else:
                descs.append(d)
                counts.append(float("-inf") if d == "" else 1)
        if not descs:
            return
        non_empty = [d for d in descs if d != ""]
        if len(descs) == 1:
            set_desc(descs[0])
        elif len(non_empty) == 1:
            set_desc(non_empty[0])
        else:
            set_desc(descs[counts.index(max(counts))])
            self.hint("INCONSISTENT_DESCRIPTION", f'Element "{coordinate}" has inconsistent descriptions across subgraphs.')

    def merge_type(self, sources: Sources, dest: MType) -> None:
        self.check_extension_with_no_base(sources, dest)
        self.merge_description(sources, lambda d: setattr(dest, "description", d), dest.name)
        self.add_join_type(sources, dest)
        self.record_applied_directives(sources, dest, access_control_first=dest.kind == INTERFACE)
        if dest.kind == OBJECT:
            self.merge_object(sources, dest)
        elif dest.kind == INTERFACE:
            self.merge_interface(sources, dest)
        elif dest.kind == UNION:
            self.merge_union(sources, dest)
        elif dest.kind == ENUM:
            self.merge_enum(sources, dest)
        elif dest.kind == INPUT_OBJECT:
            self.merge_input(sources, dest)

    def is_root(self, name: str) -> bool:
        return name in self.sg.roots.values() or name in ("Query", "Mutation", "Subscription")

    def check_extension_with_no_base(self, sources: Sources, dest: MType) -> None:
        if dest.kind == OBJECT and self.is_root(dest.name):
            return
        defs = [i for i, t in sources.items() if t.has_definition]
        exts = [i for i, t in sources.items() if t.has_extension]
        if exts and not defs:
            for i in exts:
                self.err(
                    "EXTENSION_WITH_NO_BASE",
                    f'[{self.names[i]}] Type "{dest.name}" is an extension type, but there is no type definition for '
                    f'"{dest.name}" in any subgraph.', [self.names[i]])

    def add_join_type(self, sources: Sources, dest: MType) -> None:
        for i, t in sources.items():
            itf_obj = self.subs[i].is_interface_object(t)
            keys = t.all("key")
            if not keys:
                args = [("graph", self.gname(i))]
                if itf_obj:
                    args.append(("isInterfaceObject", "true"))
                dest.join_types.append(MDirective("join__type", args))
                continue
            for k in keys:
                args = [("graph", self.gname(i))]
                fields = k.args.get("fields")
                if fields is not None:
                    args.append(("key", print_value(fields)))
                if k.block > 0 or t.has("extends"):
                    args.append(("extension", "true"))
                resolvable = k.args.get("resolvable")
                if resolvable is not None:
                    args.append(("resolvable", print_value(resolvable)))
                if itf_obj:
                    args.append(("isInterfaceObject", "true"))
                dest.join_types.append(MDirective("join__type", args))

    # -- applied directives --------------------------------------------------------------------------

    def record_applied_directives(self, sources: Sources, dest: Any, access_control_first: bool = False) -> None:
        names: list[str] = []
        for s in sources.values():
            if s is None:
                continue
            for d in s.directives:
                if self.is_merged_directive(d) and d.name not in names:
                    names.append(d.name)
        if "inaccessible" in names:
            dest.inaccessible = True
            names.remove("inaccessible")
        if access_control_first:
            # merge.ts: on fields and interfaces the auth directives come first, one at a time, merged
            # with the auth of the elements they stand for (implementations, @interfaceObject fields).
            coordinate = dest.coordinate if isinstance(dest, MField) else dest.name
            for name in self.sg.spec_directives:
                if name not in ("authenticated", "requiresScopes", "policy"):
                    continue
                extra = self.access_control_sources().get(f"{coordinate}_{name}", [])
                if name in names or extra:
                    merged = dict(sources)
                    for k, element in enumerate(extra):
                        merged[len(self.subs) + k] = element
                    self.pending_directives.append(([name], merged, dest))
                if name in names:
                    names.remove(name)
        if names:
            self.pending_directives.append((names, sources, dest))

    def access_control_sources(self) -> dict[str, list[Any]]:
        """Auth applications that also count for interfaces and implementations (merge.ts
        `accessControlAdditionalSources`): `<Interface>_<directive>` and `<Type>.<field>_<directive>`."""
        if self._access_sources is not None:
            return self._access_sources
        out: dict[str, list[Any]] = {}
        itf_to_impls: dict[str, list[str]] = {}
        impl_to_itfs: dict[str, list[str]] = {}
        for t in self.sg.types.values():
            if t.kind != INTERFACE:
                continue
            impls = [o.name for o in self.sg.types.values() if o.kind == OBJECT and t.name in o.implements]
            itf_to_impls[t.name] = impls
            for impl in impls:
                impl_to_itfs.setdefault(impl, []).append(t.name)
        for i, sub in enumerate(self.subs):
            for name in ("authenticated", "requiresScopes", "policy"):
                for st in sub.types.values():
                    if st.kind != OBJECT:
                        continue
                    if st.has(name):
                        for itf in impl_to_itfs.get(st.name, []):
                            out.setdefault(f"{itf}_{name}", []).append(st)
                    for sf in st.fields.values():
                        if not sf.has(name) or self.meta[i].is_external(sf):
                            continue
                        if sub.is_interface_object(st):
                            others: list[str] = []
                            for impl in itf_to_impls.get(st.name, []):
                                out.setdefault(f"{impl}.{sf.name}_{name}", []).append(sf)
                                others += [x for x in impl_to_itfs.get(impl, []) if x != st.name and x not in others]
                            for itf in others:
                                out.setdefault(f"{itf}.{sf.name}_{name}", []).append(sf)
                        else:
                            for itf in impl_to_itfs.get(st.name, []):
                                out.setdefault(f"{itf}.{sf.name}_{name}", []).append(sf)
        self._access_sources = out
        return out

    def merge_all_applied_directives(self) -> None:
        for names, sources, dest in self.pending_directives:
            for name in names:
                self.merge_applied_directive(name, sources, dest)
        self.pending_directives = []

    def merge_applied_directive(self, name: str, sources: Sources, dest: Any) -> None:
        per_source: list[list[Applied]] = []
        for i, s in sources.items():
            if s is None:
                continue
            ds = s.all(name)
            if name == "context":
                # The context spec's static transform: names are made unique per subgraph.
                ds = [Applied(d.name, {"name": StringValueNode(value=f"{self.names[i]}__{d.str_arg('name')}")},
                              d.block, d.node, d.federation) for d in ds]
            if ds:
                per_source.append(ds)
        if not per_source:
            return

        def key(d: Applied) -> str:
            return ",".join(sorted(f"{k}={value_key(v)}" for k, v in d.args.items()))

        shown_name = self.sg.directive_names.get(name, name)

        def printed(d: Applied) -> MDirective:
            return MDirective(shown_name, [(k, print_value(v)) for k, v in d.args.items()])

        repeatable = name in ("tag", "context") or (name in self.composed and self.composed[name].definition.repeatable)
        if repeatable:
            seen: list[str] = []
            for ds in per_source:
                for d in ds:
                    if key(d) not in seen:
                        seen.append(key(d))
                        dest.directives.append(printed(d))
            return
        apps: list[Applied] = []
        counts: list[int] = []
        for ds in per_source:
            d = ds[0]
            keys = [key(a) for a in apps]
            if key(d) in keys:
                counts[keys.index(key(d))] += 1
            else:
                apps.append(d)
                counts.append(1)
        if len(apps) > 1 and name in MERGED_WITH_STRATEGY:
            from .access_control import merge_arguments

            dest.directives.append(merge_arguments(name, [a.args for a in apps]))
            self.hint("MERGED_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
                      f'Directive @{name} is applied to "{getattr(dest, "name", "")}" in multiple subgraphs with '
                      "different arguments.")
            return
        chosen = apps[counts.index(max(counts))]
        if len(apps) > 1:
            self.hint("INCONSISTENT_NON_REPEATABLE_DIRECTIVE_ARGUMENTS",
                      f'Non-repeatable directive @{name} is applied to "{getattr(dest, "name", "")}" in multiple '
                      "subgraphs but with incompatible arguments.")
        dest.directives.append(printed(chosen))

    # -- schema ------------------------------------------------------------------------------------

    def merge_schema_definition(self) -> None:
        for op, default in (("query", "Query"), ("mutation", "Mutation"), ("subscription", "Subscription")):
            for s in self.subs:
                t = s.type(default)
                if t is not None and t.fields and s.roots.get(op, default) == default:
                    self.sg.roots[op] = default
                    break

    # -- objects / interfaces ------------------------------------------------------------------------

    def add_fields_shallow(self, sources: Sources, dest: MType) -> dict[str, Sources]:
        added: dict[str, Sources] = {}
        extra: dict[int, None] = {}
        fields_by_source: dict[int, list[SField]] = {}
        for i, s in enumerate(self.subs):
            if dest.kind in (OBJECT, INTERFACE):
                for itf in dest.implements:
                    it = s.type(itf)
                    if it is not None and s.is_interface_object(it):
                        extra[i] = None
            src = sources.get(i)
            if src is not None:
                fields_by_source[i] = list(src.fields.values())
            if s.type(dest.name) is not None:
                extra[i] = None
        for i, fields in fields_by_source.items():
            for f in fields:
                if f.name not in dest.fields:
                    dest.fields[f.name] = MField(name=f.name, parent=dest.name)
                if f.name not in added:
                    added[f.name] = dict(extra)
                added[f.name][i] = f
        # keep subgraph order inside every source map
        return {n: dict(sorted(srcs.items())) for n, srcs in added.items()}

    def merge_object(self, sources: Sources, dest: MType) -> None:
        is_entity = self.hint_inconsistent_entity(sources, dest)
        is_value_type = not is_entity and not self.is_root(dest.name)
        is_subscription = dest.name == self.sg.roots.get("subscription", "Subscription")
        added = self.add_fields_shallow(sources, dest)
        if not added:
            del self.sg.types[dest.name]
            return
        for fname, fsources in added.items():
            mf = dest.fields[fname]
            if is_value_type:
                self.hint_inconsistent_value_type_field(sources, dest, fname)
            ctx = self.validate_override(fsources, mf)
            self.record_override(mf, ctx)
            if is_subscription:
                shareables = [self.names[i] for i, f in fsources.items()
                              if f is not None and self.meta[i].is_shareable(f)]
                if shareables:
                    self.err("INVALID_FIELD_SHARING",
                             "Fields on root level subscription object cannot be marked as shareable", shareables)
            self.merge_field(fsources, mf, ctx)
            self.validate_field_sharing(fsources, mf, ctx)

    def hint_inconsistent_entity(self, sources: Sources, dest: MType) -> bool:
        entity = [i for i, t in sources.items() if t.has("key")]
        if entity and len(entity) < len(sources):
            self.hint("INCONSISTENT_ENTITY",
                      f'Type "{dest.name}" is declared as an entity (has a @key applied) in some but not all defining subgraphs.')
        return bool(entity)

    def hint_inconsistent_value_type_field(self, sources: Sources, dest: MType, fname: str) -> None:
        for i, t in sources.items():
            if fname not in t.fields and not all(self.is_external(i, f) for f in t.fields.values()):
                kind = "non-entity object" if dest.kind == OBJECT else "interface"
                self.hint(
                    "INCONSISTENT_OBJECT_VALUE_TYPE_FIELD" if dest.kind == OBJECT
                    else "INCONSISTENT_INTERFACE_VALUE_TYPE_FIELD",
                    f'Field "{dest.name}.{fname}" of {kind} type "{dest.name}" is defined in some but not all '
                    f'subgraphs that define "{dest.name}".')
                return

    def interface_object_fields(self, dest: MField, idx: int) -> list[SField]:
        """Fields of `@interfaceObject` types in subgraph idx that stand for `dest` (an object field)."""
        parent = self.sg.types.get(dest.parent)
        s = self.subs[idx]
        if parent is None or parent.kind != OBJECT or s.type(parent.name) is not None:
            return []
        out: list[SField] = []
        for itf in parent.implements:
            mitf = self.sg.types.get(itf)
            if mitf is None or dest.name not in mitf.fields:
                continue
            t = s.type(itf)
            if t is None or t.kind != OBJECT:
                continue
            f = t.fields.get(dest.name)
            if f is not None:
                out.append(f)
        return out

    def record_override(self, dest: MField, ctx: _FieldMergeContext) -> None:
        """Remember which subgraphs no longer resolve a field (satisfiability reads it)."""
        gone = {i for i in ctx.used_overridden | ctx.unused_overridden if i not in ctx.labels}
        if gone:
            self.overridden[dest.coordinate] = {self.names[i] for i in gone}
            # Unused overridden sources get no @join__field: the subgraph Apollo extracts lacks the field.
            self.dropped_overridden |= {(dest.coordinate, self.names[i]) for i in gone if i in ctx.unused_overridden}
            winner = next((i for i in ctx.overriders if i not in ctx.labels), None)
            if winner is not None:
                for i in gone:
                    self.overridden_by[(dest.coordinate, self.names[i])] = self.names[winner]
        losers = [i for i in ctx.used_overridden | ctx.unused_overridden if i in ctx.labels]
        winners = [i for i in ctx.labels if i not in ctx.used_overridden | ctx.unused_overridden]
        for loser in losers:
            for winner in winners:
                if ctx.labels[winner] == ctx.labels[loser]:
                    self.labeled_overrides.setdefault(dest.coordinate, []).append(
                        (ctx.labels[winner], self.names[winner], self.names[loser]))

    def validate_override(self, sources: Sources, dest: MField) -> _FieldMergeContext:
        ctx = _FieldMergeContext()
        if dest.coordinate not in self.fields_with_override:
            return ctx
        infos: dict[str, dict[str, Any]] = {}
        with_override: list[str] = []
        for i, f in sources.items():
            name = self.names[i]
            if f is None:
                abstracting = self.interface_object_fields(dest, i)
                if abstracting:
                    infos[name] = {"idx": i, "abstracting": abstracting}
                continue
            t = self.subs[i].type(f.parent)
            applied_ov = f.get("override") if self.subs[i].fed2 else None
            infos[name] = {
                "idx": i, "itf": t is not None and t.kind == INTERFACE,
                "itf_obj": t is not None and self.subs[i].is_interface_object(t), "override": applied_ov}
            if applied_ov is not None:
                with_override.append(name)
        for name in with_override:
            info = infos[name]
            ov: Applied = info["override"]
            idx: int = info["idx"]
            if info["itf"]:
                self.err("OVERRIDE_ON_INTERFACE",
                         f'@override cannot be used on field "{dest.coordinate}" on subgraph "{name}": @override is '
                         "not supported on interface type fields.", [name])
                continue
            if info["itf_obj"]:
                self.err("OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                         "@override is not yet supported on fields of @interfaceObject types: cannot be used on field "
                         f'"{dest.coordinate}" on subgraph "{name}".', [name])
                continue
            src_name = ov.str_arg("from") or ""
            if src_name not in self.names:
                ctx.unknown_target.add(idx)
                self.hint("FROM_SUBGRAPH_DOES_NOT_EXIST",
                          f'Source subgraph "{src_name}" for field "{dest.coordinate}" on subgraph "{name}" does not exist.')
            elif src_name == name:
                self.err("OVERRIDE_FROM_SELF_ERROR",
                         f'Source and destination subgraphs "{src_name}" are the same for overridden field '
                         f'"{dest.coordinate}"', [name])
            elif src_name in with_override:
                self.err("OVERRIDE_SOURCE_HAS_OVERRIDE",
                         f'Field "{dest.coordinate}" on subgraph "{name}" is also marked with directive @override in '
                         f'subgraph "{src_name}". Only one @override directive is allowed per field.', [name, src_name])
            elif src_name not in infos:
                self.hint("OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                          f'Field "{dest.coordinate}" on subgraph "{name}" no longer exists in the from subgraph. '
                          "The @override directive can be removed.")
            else:
                src_info = infos[src_name]
                if "abstracting" in src_info:
                    self.err("OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                             f'Invalid @override on field "{dest.coordinate}" of subgraph "{name}": source subgraph '
                             f'"{src_name}" does not have field "{dest.coordinate}" but abstract it in type '
                             f'"{dest.parent}" and overriding abstracted fields is not supported.', [name, src_name])
                    continue
                from_idx: int = src_info["idx"]
                from_field: SField = sources[from_idx]
                conflict: tuple[str, str] | None = None
                for dname in ("requires", "provides"):
                    if from_field.has(dname):
                        conflict = (dname, src_name)
                        break
                if conflict is None and self.is_external(idx, sources[idx]):
                    conflict = ("external", name)
                if conflict is not None:
                    self.err("OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                             f'@override cannot be used on field "{from_field.coordinate}" on subgraph "{name}" since '
                             f'"{from_field.coordinate}" on "{conflict[1]}" is marked with directive "@{conflict[0]}"',
                             [name, src_name])
                    continue
                label = ov.str_arg("label")
                referenced = self.meta[from_idx].is_used(from_field)
                if self.is_external(from_idx, from_field):
                    self.hint("OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                              f'Field "{dest.coordinate}" on subgraph "{name}" is not resolved anymore by the from '
                              f'subgraph (it is marked "@external" in "{src_name}"). The @override directive can be removed.')
                elif referenced:
                    ctx.used_overridden.add(from_idx)
                    ctx.overriders.append(idx)
                else:
                    ctx.unused_overridden.add(from_idx)
                    ctx.overriders.append(idx)
                if label is not None:
                    ok = bool(re.match(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$", label))
                    m = re.match(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$", label)
                    if m and 0 <= float(m.group(1)) <= 100:
                        ok = True
                    if ok:
                        ctx.labels[idx] = label
                        ctx.labels[from_idx] = label
                    else:
                        self.err("OVERRIDE_LABEL_INVALID",
                                 f'Invalid @override label "{label}" on field "{dest.coordinate}" on subgraph "{name}": '
                                 "labels must start with a letter and after that may contain alphanumerics, underscores, "
                                 "minuses, colons, periods, or slashes. Alternatively, labels may be of the form "
                                 '"percent(x)" where x is a float between 0-100 inclusive.', [name])
        return ctx

    def merge_field(self, sources: Sources, dest: MField, ctx: _FieldMergeContext) -> None:
        every_external = True
        for i, f in sources.items():
            if f is None:
                every_external = all(self.is_external(i, x) for x in self.interface_object_fields(dest, i))
            else:
                every_external = self.is_external(i, f)
            if not every_external:
                break
        if every_external:
            defining = []
            for i, f in sources.items():
                if f is not None:
                    defining.append(self.names[i])
                elif (itf_fields := self.interface_object_fields(dest, i)):
                    defining.append(f'{self.names[i]} (through @interaceObject type "{itf_fields[0].parent}")')
            self.err("EXTERNAL_MISSING_ON_BASE",
                     f'Field "{dest.coordinate}" is marked @external on all the subgraphs in which it is listed '
                     f"({subgraph_names(defining)}).", [self.names[i] for i, f in sources.items() if f is not None])
            return
        without_external: Sources = {}
        for i, f in sources.items():
            if f is None or not self.is_external(i, f):
                without_external[i] = f
            else:
                without_external[i] = None
                for d in f.directives:
                    if self.is_merged_directive(d):
                        self.err("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
                                 f"[{self.names[i]}] Cannot apply merged directive {print_directive(d.node)} to external "
                                 f'field "{f.coordinate}"', [self.names[i]])
        self.merge_description(without_external, lambda d: setattr(dest, "description", d), dest.coordinate)
        self.record_applied_directives(without_external, dest, access_control_first=True)
        self.add_arguments_shallow(without_external, dest)
        for aname, marg in dest.args.items():
            arg_sources = {i: (f.args.get(aname) if f is not None else None) for i, f in without_external.items()}
            self.merge_argument(arg_sources, marg, f"{dest.coordinate}({aname}:)")
        has_defined = any(f is not None for f in without_external.values())
        all_equal = self.merge_type_reference(without_external if has_defined else sources, dest, False,
                                              dest.coordinate, "field")
        if any(f is not None and self.is_external(i, f) for i, f in sources.items()):
            self.validate_external_fields(sources, dest, all_equal)
        self.add_join_field(sources, dest, all_equal, ctx)

    def validate_field_sharing(self, sources: Sources, dest: MField, ctx: _FieldMergeContext) -> None:
        shareable: list[tuple[str, int]] = []
        non_shareable: list[tuple[str, int]] = []
        resolving: list[str] = []

        def categorize(i: int, label: str, f: SField) -> None:
            if not self.meta[i].is_fully_external(f):
                resolving.append(label)
                (shareable if self.meta[i].is_shareable(f) else non_shareable).append((label, i))

        for i, f in sources.items():
            label = f'"{self.names[i]}"'
            if f is None:
                for x in self.interface_object_fields(dest, i):
                    categorize(i, label + f' (through @interfaceObject field "{x.coordinate}")', x)
                continue
            if ctx.is_overridden(i):
                continue
            categorize(i, label, f)
        if non_shareable and (shareable or len(non_shareable) > 1):
            from .reporter import human_list

            res = human_list(resolving, "subgraph", "subgraphs", 500)
            ns = human_list([n for n, _ in non_shareable], "subgraph", "subgraphs", 500) if shareable else "all of them"
            extra = ""
            targetless = next((n for n, i in non_shareable if i in ctx.unknown_target), None)
            if targetless is not None:
                extra = (f' (please note that "{dest.coordinate}" has an @override directive in {targetless} that '
                         "targets an unknown subgraph so this could be due to misspelling the @override(from:) argument)")
            self.err("INVALID_FIELD_SHARING",
                     f'Non-shareable field "{dest.coordinate}" is resolved from multiple subgraphs: it is resolved from '
                     f"{res} and defined as non-shareable in {ns}{extra}",
                     [self.names[i] for _, i in shareable + non_shareable])

    def validate_external_fields(self, sources: Sources, dest: MField, all_equal: bool) -> None:
        invalid_type = False
        missing: list[str] = []
        bad_types: list[str] = []
        bad_defaults: list[str] = []
        assert dest.type is not None
        for i, f in sources.items():
            if f is None or not self.is_external(i, f):
                continue
            if not (type_str(dest.type) == type_str(f.type)
                    or (not all_equal and self.is_strict_subtype(dest.type, f.type))):
                invalid_type = True
            for aname, marg in dest.args.items():
                a = f.args.get(aname)
                if a is None:
                    if aname not in missing:
                        missing.append(aname)
                    continue
                assert marg.type is not None
                if type_str(marg.type) != type_str(a.type) and not self.is_strict_subtype(a.type, marg.type):
                    if aname not in bad_types:
                        bad_types.append(aname)
                if value_key(marg.default) != value_key(a.default) and aname not in bad_defaults:
                    bad_defaults.append(aname)
        if invalid_type:
            self.err("EXTERNAL_TYPE_MISMATCH", mismatch_error_message(
                f'Type of field "{dest.coordinate}" is incompatible across subgraphs (where marked @external): it has ',
                self.names, sources, lambda f: f'type "{type_str(f.type)}"', f'type "{type_str(dest.type)}"'),
                [self.names[i] for i, f in sources.items() if f is not None])
        for aname in missing:
            arg_sources = {i: (f.args.get(aname) if f is not None else None) for i, f in sources.items()}
            coord = f"{dest.coordinate}({aname}:)"
            dist = mismatch_distribution(
                self.names, arg_sources, lambda a, c=coord: f'argument "{c}"' if a is not None else None,  # type: ignore[misc]
                f'argument "{coord}"',
                lambda v, s: f"{v} is declared in {s}",
                lambda v, s: f' but not in {s} (where "{dest.coordinate}" is @external).', include_missing=True)
            self.err("EXTERNAL_ARGUMENT_MISSING", mismatch_specific_message(
                f'Field "{dest.coordinate}" is missing argument "{coord}" in some subgraphs where it is marked '
                "@external: ", dist))
        for aname in bad_types:
            arg_sources = {i: (f.args.get(aname) if f is not None else None) for i, f in sources.items()}
            marg = dest.args[aname]
            assert marg.type is not None
            self.err("EXTERNAL_ARGUMENT_TYPE_MISMATCH", mismatch_error_message(
                f'Type of argument "{dest.coordinate}({aname}:)" is incompatible across subgraphs (where '
                f'"{dest.coordinate}" is marked @external): it has ', self.names, arg_sources,
                lambda a: f'type "{type_str(a.type)}"', f'type "{type_str(marg.type)}"'))
        for aname in bad_defaults:
            arg_sources = {i: (f.args.get(aname) if f is not None else None) for i, f in sources.items()}
            marg = dest.args[aname]
            self.err("EXTERNAL_ARGUMENT_DEFAULT_MISMATCH", mismatch_error_message(
                f'Argument "{dest.coordinate}({aname}:)" has incompatible defaults across subgraphs (where '
                f'"{dest.coordinate}" is marked @external): it has ', self.names, arg_sources,
                lambda a: f"default value {print_value(a.default)}" if a.default is not None else "no default value",
                f"default value {print_value(marg.default)}" if marg.default is not None else "no default value"))

    def needs_join_field(self, sources: Sources, parent: str, all_equal: bool, ctx: _FieldMergeContext) -> bool:
        if not all_equal:
            return True
        if ctx.used_overridden or ctx.labels:
            return True
        for f in sources.values():
            if f is not None and any(a.has("fromContext") for a in f.args.values()):
                return True
        for i, f in sources.items():
            if f is not None and i not in ctx.unused_overridden:
                if self.is_external(i, f) or f.has("provides") or f.has("requires"):
                    return True
            elif self.subs[i].type(parent) is not None:
                return True
        return False

    def add_join_field(self, sources: Sources, dest: MField, all_equal: bool, ctx: _FieldMergeContext) -> None:
        if not self.needs_join_field(sources, dest.parent, all_equal, ctx):
            return
        for i, f in sources.items():
            label = ctx.labels.get(i)
            if f is None or (i in ctx.unused_overridden and label is None):
                continue
            args: list[tuple[str, str]] = [("graph", self.gname(i))]
            for dname in ("requires", "provides"):
                d = f.get(dname)
                if d is not None and "fields" in d.args:
                    args.append((dname, print_value(d.args["fields"])))
            ov = f.get("override")
            if ov is not None and "from" in ov.args:
                args.append(("override", print_value(ov.args["from"])))
            if not all_equal:
                args.append(("type", gql_string(type_str(f.type))))
            if self.is_external(i, f):
                args.append(("external", "true"))
            if i in ctx.used_overridden:
                args.append(("usedOverridden", "true"))
            if label is not None:
                args.append(("overrideLabel", gql_string(label)))
            context_args = []
            for a in f.args.values():
                fc = a.get("fromContext")
                if fc is None:
                    continue
                parsed = parse_context(fc.str_arg("field") or "")
                if parsed is None:
                    continue
                ctx_name, selection = parsed
                context_args.append(
                    f"{{context: {gql_string(f'{self.names[i]}__{ctx_name}')}, name: {gql_string(a.name)}, "
                    f"type: {gql_string(type_str(a.type))}, selection: {gql_string(selection)}}}")
            if context_args:
                args.append(("contextArguments", "[" + ", ".join(context_args) + "]"))
            dest.join.append(MDirective("join__field", args))

    # -- type references -------------------------------------------------------------------------------

    def is_strict_subtype(self, t: TypeNode, maybe_sub: TypeNode) -> bool:
        if isinstance(maybe_sub, ListTypeNode):
            return isinstance(t, ListTypeNode) and self.is_subtype(t.type, maybe_sub.type)
        if isinstance(maybe_sub, NonNullTypeNode):
            if isinstance(t, NonNullTypeNode):
                return self.is_subtype(t.type, maybe_sub.type)
            return self.is_subtype(t, maybe_sub.type)
        assert isinstance(maybe_sub, NamedTypeNode)
        if not isinstance(t, NamedTypeNode):
            return False
        sup = self.sg.types.get(t.name.value)
        sub_name = maybe_sub.name.value
        sub = self.sg.types.get(sub_name)
        if sup is None or sub is None:
            return False
        if sup.kind == UNION:
            return sub_name in sup.members
        if sup.kind == INTERFACE and sub.kind in (OBJECT, INTERFACE):
            return t.name.value in sub.implements
        return False

    def is_subtype(self, t: TypeNode, maybe_sub: TypeNode) -> bool:
        return type_str(t) == type_str(maybe_sub) or self.is_strict_subtype(t, maybe_sub)

    def merge_type_reference(
        self, sources: Sources, dest: MField | MArgument, is_input: bool, coordinate: str, kind: str
    ) -> bool:
        dest_type: TypeNode | None = None
        has_subtypes = False
        incompatible = False
        for s in sources.values():
            if s is None:
                continue
            st = s.type
            if dest_type is None or type_str(dest_type) == type_str(st):
                dest_type = st
            elif self.is_strict_subtype(dest_type, st):
                has_subtypes = True
                if is_input:
                    dest_type = st
            elif self.is_strict_subtype(st, dest_type):
                has_subtypes = True
                if not is_input:
                    dest_type = st
            else:
                incompatible = True
        assert dest_type is not None
        dest.type = dest_type
        base = named_type(dest_type)
        mt = self.sg.types.get(base)
        if mt is not None and mt.kind == ENUM:
            pos = "Input" if is_input else "Output"
            existing = self.enum_usage.get(base)
            position = "Both" if existing and existing[0] != pos else pos
            examples = dict(existing[1]) if existing else {}
            if pos not in examples:
                examples[pos] = coordinate
            self.enum_usage[base] = (position, examples)
        is_argument = kind == "argument"
        if incompatible:
            code = "FIELD_ARGUMENT_TYPE_MISMATCH" if is_argument else "FIELD_TYPE_MISMATCH"
            self.err(code, mismatch_error_message(
                f'Type of {kind} "{coordinate}" is incompatible across subgraphs: it has ',
                self.names, sources, lambda f: f'type "{type_str(f.type)}"', f'type "{type_str(dest_type)}"'),
                [self.names[i] for i, s in sources.items() if s is not None])
            return False
        if has_subtypes:
            self.hint("INCONSISTENT_BUT_COMPATIBLE_ARGUMENT_TYPE" if is_argument
                      else "INCONSISTENT_BUT_COMPATIBLE_FIELD_TYPE",
                      f'Type of {kind} "{coordinate}" is inconsistent but compatible across subgraphs.')
            return False
        return True

    # -- arguments ---------------------------------------------------------------------------------------

    def add_arguments_shallow(self, sources: Sources, dest: MField) -> None:
        names: list[str] = []
        for f in sources.values():
            if f is None:
                continue
            for a in f.args:
                if a not in names:
                    names.append(a)
        for aname in names:
            contextual = {i: (f is not None and aname in f.args and f.args[aname].has("fromContext"))
                          for i, f in sources.items()}
            if any(contextual.values()):
                for i, f in sources.items():
                    a = f.args.get(aname) if f is not None else None
                    if a is not None and not contextual[i] and isinstance(a.type, NonNullTypeNode) and a.default is None:
                        self.err("CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS",
                                 f'Argument "{dest.coordinate}({aname}:)" is contextual in at least one subgraph but in '
                                 f'"{f.coordinate}({aname}:)" it does not have @fromContext, is not nullable and has no '
                                 "default value.", [self.names[i]])
                continue
            if any(f is not None and aname not in f.args for f in sources.values()):
                required = [self.names[i] for i, f in sources.items()
                            if f is not None and aname in f.args and _is_required(f.args[aname])]
                if required:
                    missing = [self.names[i] for i, f in sources.items() if f is not None and aname not in f.args]
                    self.err("REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                             f'Argument "{dest.coordinate}({aname}:)" is required in some subgraphs but does not appear '
                             f"in all subgraphs: it is required in {subgraph_names(required)} but does not appear in "
                             f"{subgraph_names(missing)}", required + missing)
                else:
                    self.hint("INCONSISTENT_ARGUMENT_PRESENCE",
                              f'Optional argument "{dest.coordinate}({aname}:)" will not be included in the supergraph '
                              "as it does not appear in all subgraphs.")
                continue
            dest.args[aname] = MArgument(name=aname)

    def merge_argument(self, sources: Sources, dest: MArgument, coordinate: str) -> None:
        self.merge_description(sources, lambda d: setattr(dest, "description", d), coordinate)
        self.record_applied_directives(sources, dest)
        self.merge_type_reference(sources, dest, True, coordinate, "argument")
        self.merge_default_value(sources, dest, coordinate, "Argument")

    def merge_default_value(self, sources: Sources, dest: MArgument | MField, coordinate: str, kind: str) -> None:
        dest_default: ValueNode | None = None
        seen = False
        inconsistent = False
        incompatible = False
        for s in sources.values():
            if s is None:
                continue
            sd = s.default
            if dest_default is None:
                dest_default = sd
                if seen and sd is not None:
                    inconsistent = True
            elif value_key(dest_default) != value_key(sd):
                inconsistent = True
                if sd is not None:
                    incompatible = True
            seen = True
        if not inconsistent or incompatible:
            dest.default = dest_default
        if incompatible:
            code = "FIELD_ARGUMENT_DEFAULT_MISMATCH" if kind == "Argument" else "INPUT_FIELD_DEFAULT_MISMATCH"
            self.err(code, mismatch_error_message(
                f'{kind} "{coordinate}" has incompatible default values across subgraphs: it has ', self.names,
                sources,
                lambda a: f"default value {print_value(a.default)}" if a.default is not None else "no default value",
                f"default value {print_value(dest.default)}" if dest.default is not None else "no default value"),
                [self.names[i] for i, s in sources.items() if s is not None])
        elif inconsistent:
            self.hint("INCONSISTENT_DEFAULT_VALUE_PRESENCE",
                      f'{kind} "{coordinate}" has a default value in only some subgraphs.')

    # -- interfaces, unions, enums, inputs -------------------------------------------------------------------

    def possible_runtime_types(self, itf: str) -> list[str]:
        return [t.name for t in self.sg.types.values() if t.kind == OBJECT and itf in t.implements]

    def merge_interface(self, sources: Sources, dest: MType) -> None:
        impls = self.possible_runtime_types(dest.name)
        has_key = False
        for i, t in sources.items():
            if t.kind != INTERFACE:
                continue
            keys = t.all("key")
            has_key = has_key or bool(keys)
            resolvable = next((k for k in keys if k.bool_arg("resolvable") is not False), None)
            if resolvable is None:
                continue
            in_sub = self.subs[i].possible_runtime_types(t.name)
            missing = [n for n in impls if n not in in_sub]
            if missing:
                name = self.names[i]
                self.err("INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
                         f'[{name}] Interface type "{dest.name}" has a resolvable key ({print_directive(resolvable.node)}) in '
                         f'subgraph "{name}" but that subgraph is missing some of the supergraph implementation types of '
                         f'"{dest.name}". Subgraph "{name}" should define {_print_types(missing)} (and have '
                         f'{"them" if len(missing) > 1 else "it"} implement "{dest.name}").', [name])
        for i, t in sources.items():
            if not self.subs[i].is_interface_object(t):
                continue
            defined = [n for n in impls if self.subs[i].type(n) is not None]
            if defined:
                name = self.names[i]
                self.err("INTERFACE_OBJECT_USAGE_ERROR",
                         f'[{name}] Interface type "{dest.name}" is defined as an @interfaceObject in subgraph "{name}" '
                         f'so that subgraph should not define any of the implementation types of "{dest.name}", but it '
                         f"defines {_print_types(defined)}", [name])
        added = self.add_fields_shallow(sources, dest)
        for fname, fsources in added.items():
            mf = dest.fields[fname]
            if not has_key:
                self.hint_inconsistent_value_type_field(sources, dest, fname)
            ctx = self.validate_override(fsources, mf)
            self.record_override(mf, ctx)
            self.merge_field(fsources, mf, ctx)

    def merge_union(self, sources: Sources, dest: MType) -> None:
        for t in sources.values():
            for m in t.members:
                if m not in dest.members:
                    dest.members.append(m)
        for m in dest.members:
            for i, t in sources.items():
                if m in t.members:
                    dest.join_members.append(MDirective(
                        "join__unionMember", [("graph", self.gname(i)), ("member", gql_string(m))]))
            if any(m not in t.members for t in sources.values()):
                self.hint("INCONSISTENT_UNION_MEMBER",
                          f'Union type "{dest.name}" includes member type "{m}" in some but not all defining subgraphs.')

    def merge_enum(self, sources: Sources, dest: MType) -> None:
        usage = self.enum_usage.get(dest.name)
        if usage is None:
            usage = ("Output", {})
            self.hint("UNUSED_ENUM_TYPE",
                      f'Enum type "{dest.name}" is defined but unused. It will be included in the supergraph with all '
                      'the values appearing in any subgraph ("as if" it was only used as an output type).')
        position, examples = usage
        for t in sources.values():
            for v in t.values:
                if v not in dest.values:
                    dest.values[v] = MEnumValue(name=v)
        for vname in list(dest.values):
            mv = dest.values[vname]
            vsources: Sources = {i: t.values.get(vname) for i, t in sources.items()}
            self.merge_description(vsources, lambda d, mv=mv: setattr(mv, "description", d), f"{dest.name}.{vname}")  # type: ignore[misc]
            self.record_applied_directives(vsources, mv)
            for i, v in vsources.items():
                if v is not None:
                    mv.join.append(MDirective("join__enumValue", [("graph", self.gname(i))]))
            missing_somewhere = any(v is None for v in vsources.values())
            if not mv.inaccessible and position != "Output" and missing_somewhere:
                if position == "Both":
                    dist = mismatch_distribution(
                        self.names, {i: t for i, t in sources.items()},
                        lambda t, vn=vname: "yes" if vn in t.values else "no", "yes",  # type: ignore[misc]
                        lambda _, s, vn=vname: f'"{vn}" is defined in {s}',  # type: ignore[misc]
                        lambda _, s: f" but not in {s}")
                    self.err("ENUM_VALUE_MISMATCH", mismatch_specific_message(
                        f'Enum type "{dest.name}" is used as both input type (for example, as type of '
                        f'"{examples.get("Input")}") and output type (for example, as type of '
                        f'"{examples.get("Output")}"), but value "{vname}" is not defined in all the subgraphs '
                        f'defining "{dest.name}": ', dist), [self.names[i] for i in sources])
                else:
                    self.hint("INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                              f'Value "{vname}" of enum type "{dest.name}" will not be part of the supergraph as it is '
                              f'not defined in all the subgraphs defining "{dest.name}".')
                    del dest.values[vname]
            elif position == "Output" and missing_somewhere:
                self.hint("INCONSISTENT_ENUM_VALUE_FOR_OUTPUT_ENUM",
                          f'Value "{vname}" of enum type "{dest.name}" has been added to the supergraph but is only '
                          f'defined in a subset of the subgraphs defining "{dest.name}".')
        if not dest.values:
            self.err("EMPTY_MERGED_ENUM_TYPE",
                     f'None of the values of enum type "{dest.name}" are defined consistently in all the subgraphs '
                     "defining that type. As only values common to all subgraphs are merged, this would result in an "
                     "empty type.", [self.names[i] for i in sources])

    def merge_input(self, sources: Sources, dest: MType) -> None:
        added = self.add_fields_shallow(sources, dest)
        for fname, fsources in added.items():
            mf = dest.fields[fname]
            self.merge_description(fsources, lambda d, mf=mf: setattr(mf, "description", d), mf.coordinate)  # type: ignore[misc]
            self.record_applied_directives(fsources, mf)
            all_equal = self.merge_type_reference(fsources, mf, True, mf.coordinate, "field")
            self.add_join_field(fsources, mf, all_equal, _FieldMergeContext())
            self.merge_default_value(fsources, mf, mf.coordinate, "Input field")
            if not mf.inaccessible and any(f is None for f in fsources.values()):
                required = [self.names[i] for i, f in fsources.items() if f is not None and _is_required(f)]
                if required:
                    missing = [self.names[i] for i, f in fsources.items() if f is None]
                    self.err("REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                             f'Input object field "{mf.coordinate}" is required in some subgraphs but does not appear '
                             f"in all subgraphs: it is required in {subgraph_names(required)} but does not appear in "
                             f"{subgraph_names(missing)}", required + missing)
                else:
                    self.hint("INCONSISTENT_INPUT_OBJECT_FIELD",
                              f'Input object field "{fname}" will not be added to "{dest.name}" in the supergraph as it '
                              "does not appear in all subgraphs.")
                del dest.fields[fname]
        if not dest.fields:
            self.err("EMPTY_MERGED_INPUT_TYPE",
                     f'None of the fields of input object type "{dest.name}" are consistently defined in all the '
                     "subgraphs defining that type. As only fields common to all subgraphs are merged, this would "
                     "result in an empty type.", [self.names[i] for i in sources])

    # -- directive definitions ---------------------------------------------------------------------------

    def merge_directive_definitions(self) -> None:
        """Executable directive definitions survive only if defined in every subgraph."""
        names: list[str] = []
        for s in self.subs:
            for d in s.directive_defs.values():
                if d.name not in names and _is_executable(d.locations):
                    names.append(d.name)
        for name in names:
            defs = [s.directive_defs.get(name) for s in self.subs]
            if any(d is None for d in defs):
                self.hint("INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE",
                          f'Executable directive "@{name}" will not be part of the supergraph as it does not appear in '
                          "all subgraphs.")
                continue
            present = [d for d in defs if d is not None]
            locations = [loc for loc in present[0].locations
                         if _is_executable([loc]) and all(loc in d.locations for d in present)]
            if not locations:
                continue
            md = MDirectiveDef(name=name, locations=locations, repeatable=all(d.repeatable for d in present))
            desc_sources: Sources = dict(enumerate(present))
            self.merge_description(desc_sources, lambda x, md=md: setattr(md, "description", x), f"@{name}")  # type: ignore[misc]
            arg_names = [a for a in present[0].args]
            for a in arg_names:
                if all(a in d.args for d in present):
                    ma = MArgument(name=a)
                    asrc: Sources = {i: d.args[a] for i, d in enumerate(present)}
                    self.merge_type_reference(asrc, ma, True, f"@{name}({a}:)", "argument")
                    self.merge_default_value(asrc, ma, f"@{name}({a}:)", "Argument")
                    md.args[a] = ma
            self.sg.directive_defs[name] = md

    # -- after merge -----------------------------------------------------------------------------------

    def add_missing_interface_object_fields(self) -> None:
        for t in list(self.sg.types.values()):
            if t.kind != OBJECT:
                continue
            for itf in t.implements:
                mitf = self.sg.types.get(itf)
                if mitf is None:
                    continue
                for fname, itf_field in mitf.fields.items():
                    if fname in t.fields:
                        continue
                    if not self.is_provided_by_interface_object(fname, itf):
                        continue
                    f = MField(name=fname, parent=t.name, type=itf_field.type, description=itf_field.description,
                               inaccessible=itf_field.inaccessible)
                    # merge.ts copyNonJoinAppliedDirectives: the auth of the @interfaceObject fields first,
                    # then the interface field's other directives, then the bare @join__field.
                    access = [self.sg.directive_names.get(n, n) for n in ("authenticated", "requiresScopes", "policy")]
                    for name in self.sg.spec_directives:
                        extra = self.access_control_sources().get(f"{t.name}.{fname}_{name}", [])
                        if name in ("authenticated", "requiresScopes", "policy") and extra:
                            self.merge_applied_directive(name, dict(enumerate(extra)), f)
                    f.directives += [d for d in itf_field.directives if d.name not in access]
                    for aname, a in itf_field.args.items():
                        f.args[aname] = MArgument(name=aname, type=a.type, default=a.default,
                                                  description=a.description, inaccessible=a.inaccessible,
                                                  directives=list(a.directives))
                    f.directives.append(MDirective("join__field", []))
                    t.fields[fname] = f

    def is_provided_by_interface_object(self, fname: str, itf: str) -> bool:
        for i, s in enumerate(self.subs):
            t = s.type(itf)
            if t is not None and s.is_interface_object(t):
                f = t.fields.get(fname)
                if f is not None and not self.is_external(i, f):
                    return True
        return False

    def validate_inaccessible(self) -> None:
        """The API-schema computation's checks (internals-js/src/specs/inaccessibleSpec.ts)."""
        sg = self.sg

        def hidden(name: str) -> bool:
            t = sg.types.get(name)
            return t is not None and t.inaccessible

        for op, root in sg.roots.items():
            if hidden(root):
                self.err("QUERY_ROOT_TYPE_INACCESSIBLE" if op == "query" else f"{op.upper()}_ROOT_TYPE_INACCESSIBLE",
                         f'Type "{root}" is @inaccessible but is the root {op} type, which must be in the API schema.')
        for t in sg.types.values():
            if t.inaccessible:
                continue
            if t.kind in (OBJECT, INTERFACE, INPUT_OBJECT):
                visible = [f for f in t.fields.values() if not f.inaccessible]
                if t.fields and not visible:
                    self.err("ONLY_INACCESSIBLE_CHILDREN",
                             f'Type "{t.name}" is in the API schema but all of its fields are @inaccessible.')
                for itf in t.implements:
                    if hidden(itf):
                        self.err("REFERENCED_INACCESSIBLE",
                                 f'Type "{itf}" is @inaccessible but is referenced by "{t.name}", which is in the API '
                                 "schema.")
                for f in t.fields.values():
                    if not f.inaccessible or t.kind == INPUT_OBJECT:
                        continue
                    for itf in t.implements:
                        mitf = sg.types.get(itf)
                        if mitf is None or mitf.inaccessible:
                            continue
                        ifield = mitf.fields.get(f.name)
                        if ifield is not None and not ifield.inaccessible:
                            self.err("IMPLEMENTED_BY_INACCESSIBLE",
                                     f'Field "{f.coordinate}" is @inaccessible but implements the interface field '
                                     f'"{itf}.{f.name}", which is in the API schema.')
                for f in visible:
                    assert f.type is not None
                    base = named_type(f.type)
                    if hidden(base):
                        self.err("REFERENCED_INACCESSIBLE",
                                 f'Type "{base}" is @inaccessible but is referenced by "{f.coordinate}", which is in '
                                 "the API schema.")
                    if t.kind == INPUT_OBJECT and f.inaccessible and isinstance(f.type, NonNullTypeNode) \
                            and f.default is None:
                        pass
                    for a in f.args.values():
                        assert a.type is not None
                        coord = f"{f.coordinate}({a.name}:)"
                        if a.inaccessible:
                            if isinstance(a.type, NonNullTypeNode) and a.default is None:
                                self.err("REQUIRED_INACCESSIBLE",
                                         f'Argument "{coord}" is @inaccessible but is a required argument of its field.')
                            continue
                        if hidden(named_type(a.type)):
                            self.err("REFERENCED_INACCESSIBLE",
                                     f'Type "{named_type(a.type)}" is @inaccessible but is referenced by "{coord}", '
                                     "which is in the API schema.")
                if t.kind == INPUT_OBJECT:
                    for f in t.fields.values():
                        if f.inaccessible and f.type is not None and isinstance(f.type, NonNullTypeNode) \
                                and f.default is None:
                            self.err("REQUIRED_INACCESSIBLE",
                                     f'Input field "{f.coordinate}" is @inaccessible but is a required input field of '
                                     "its type.")
            elif t.kind == ENUM:
                if t.values and all(v.inaccessible for v in t.values.values()):
                    self.err("ONLY_INACCESSIBLE_CHILDREN",
                             f'Type "{t.name}" is in the API schema but all of its values are @inaccessible.')
            elif t.kind == UNION:
                if t.members and all(hidden(m) for m in t.members):
                    self.err("ONLY_INACCESSIBLE_CHILDREN",
                             f'Type "{t.name}" is in the API schema but all of its members are @inaccessible.')

    def validate_merged_implementations(self) -> None:
        """The supergraph must itself be a valid schema: implementations keep interface field types."""
        for t in self.sg.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            for itf in t.implements:
                mitf = self.sg.types.get(itf)
                if mitf is None:
                    continue
                for fname, ifield in mitf.fields.items():
                    f = t.fields.get(fname)
                    if f is None or f.type is None or ifield.type is None:
                        continue
                    if not self.is_subtype(ifield.type, f.type):
                        self.err("INVALID_GRAPHQL",
                                 f"Interface field {itf}.{fname} expects type {type_str(ifield.type)} but "
                                 f"{t.name}.{fname} of type {type_str(f.type)} is not a proper subtype.")
                    for aname in ifield.args:
                        if aname not in f.args:
                            self.err("INVALID_GRAPHQL",
                                     f"Interface field argument {itf}.{fname}({aname}:) expected but {t.name}.{fname} "
                                     "does not provide it.")

    def post_merge_validations(self) -> None:
        # An implementation that lacks an interface field, unless an @interfaceObject provides it.
        for t in self.sg.types.values():
            if t.kind not in (OBJECT, INTERFACE):
                continue
            for itf in t.implements:
                mitf = self.sg.types.get(itf)
                if mitf is None:
                    continue
                for fname in mitf.fields:
                    if fname in t.fields:
                        continue
                    declaring = [s.name for s in self.subs
                                 if (st := s.type(itf)) is not None and fname in st.fields]
                    impl_subs = [s.name for s in self.subs
                                 if (st := s.type(t.name)) is not None and itf in st.interfaces]
                    self.err("INTERFACE_FIELD_NO_IMPLEM",
                             f'Interface field "{itf}.{fname}" is declared in {subgraph_names(declaring)} but type '
                             f'"{t.name}", which implements "{itf}" only in {subgraph_names(impl_subs)} does not have '
                             f'field "{fname}".', declaring + impl_subs)
        from .requires import check_requires_on_supergraph

        self.errors += check_requires_on_supergraph(self.subs, self.sg)
        # Data read through @requires / @fromContext must not need more auth than the reading field has.
        from .access_control import TransitiveAuth

        for sub, message in TransitiveAuth(self.sg).check():
            self.err("MISSING_TRANSITIVE_AUTH_REQUIREMENTS", f"[{sub}] {message}" if sub else message,
                     [sub] if sub else [])


def _all_applied(s: Subgraph) -> list[Applied]:
    out: list[Applied] = list(s.schema_directives)
    for t in s.types.values():
        out.extend(t.directives)
        for f in t.fields.values():
            out.extend(f.directives)
            for a in f.args.values():
                out.extend(a.directives)
        for v in t.values.values():
            out.extend(v.directives)
    return out


def _is_required(x: SArgument | SField) -> bool:
    return isinstance(x.type, NonNullTypeNode) and x.default is None


_EXECUTABLE_LOCATIONS = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD", "INLINE_FRAGMENT",
    "VARIABLE_DEFINITION",
}


def _is_executable(locations: list[str]) -> bool:
    return any(loc in _EXECUTABLE_LOCATIONS for loc in locations)


def _print_types(names: list[str]) -> str:
    from .reporter import human_list

    return human_list([f'"{n}"' for n in names], "type", "types")


__all__ = ["Merger", "graph_enum_names", "join_strings", "SEnumValue"]

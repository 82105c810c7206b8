"""The planning walk: decide which subgraph resolves each field and build the fetch groups.

At every selection set the walker stands at (type, subgraph, response path) inside one fetch group.
Each field is resolved locally when the subgraph can (or a `@provides` on the way says it can), else
through an entity jump (`@key`) to a subgraph that can, the cheapest option winning: a local field
costs 1, a jump 1000 plus what its key costs. `@requires` fetches its fields first and then re-enters
the requiring subgraph. Fields a subgraph cannot reach from a value type are handed back to the
parent, which re-fetches the parent field elsewhere (shared roots, value types spread over subgraphs).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from graphql import ArgumentNode, NameNode, SelectionSetNode, VariableNode

from ..supergraph import JoinType, Supergraph
from .errors import PlanningError
from .groups import FetchGroup, OutSel
from .nodes import LIST, ContextRewrite, FlattenPath, TypeCondition, ValueSetter
from .normalize import Cond, NField, Normalizer, NSel

INF = float("inf")
JUMP = 1000.0

# A provides view: fields a `@provides` made local along one path. Keys: None (the static type) or a
# type condition; values: field name -> the view below that field.
View = dict[str | None, dict[str, "View | None"]]


@dataclass(slots=True)
class Source:
    """Where a field of a concrete type can be resolved: `graph`, as type `via` (an interfaceObject)."""

    graph: str
    via: str


@dataclass(slots=True)
class _Object:
    """An object on the response path being planned: its type, where it is fetched, its selection."""

    type_name: str
    graph: str
    group: FetchGroup
    out: OutSel
    path: FlattenPath
    view: View | None


class Builder:
    def __init__(self, supergraph: Supergraph, operation_kind: str = "query") -> None:
        self.sg = supergraph
        self.norm = Normalizer(supergraph)
        self.groups: list[FetchGroup] = []
        self.registry: dict[tuple[Any, ...], FetchGroup] = {}
        self.operation_kind = operation_kind
        self._touch_logs: list[set[int]] = []
        self._cost_cache: dict[tuple[Any, ...], float] = {}
        self._cost_active: set[tuple[Any, ...]] = set()
        self._fieldset_cache: dict[tuple[str, int], list[NField]] = {}
        self._internal_aliases: dict[tuple[str, str, str], str] = {}
        # Per object on the current response path: the subgraphs that could be resolving it. Every one
        # of them is a candidate plan; a union below keeps only the members all of them know.
        self._cands: list[frozenset[str]] = [frozenset(supergraph.subgraph_urls)]
        # The objects enclosing the one being planned, outermost first: where a `@fromContext`
        # argument finds the ancestor that sets its context.
        self._objects: list[_Object] = []
        self._contextual_count = 0

    # ------------------------------------------------------------------ metadata helpers

    def is_abstract(self, type_name: str) -> bool:
        meta = self.sg.types.get(type_name)
        return meta is not None and meta.kind in ("INTERFACE", "UNION")

    def is_interface_object(self, type_name: str, graph: str) -> bool:
        meta = self.sg.types.get(type_name)
        return meta is not None and graph in meta.interface_object_in

    def local(self, type_name: str, graph: str, name: str, view: View | None) -> bool:
        """Can `graph` resolve `type_name.name` without leaving (directly, or provided on this path)?"""
        if name == "__typename":
            return True
        meta = self.sg.field(type_name, name)
        if meta is not None and graph in meta.resolvable_in:
            return True
        return view is not None and name in self.view_fields(view, type_name)

    def type_in(self, type_name: str, graph: str, name: str) -> str:
        """The field's type as subgraph `graph` declares it."""
        meta = self.sg.field(type_name, name)
        if meta is None:
            return ""
        return meta.type_in.get(graph, meta.type_str)

    def view_fields(self, view: View, type_name: str) -> dict[str, View | None]:
        out: dict[str, View | None] = {}
        for cond, fields in view.items():
            if cond is None or self.sg.satisfies(type_name, cond) or cond == type_name:
                out.update(fields)
        return out

    def provides_view(self, f: NField, graph: str, view: View | None) -> View | None:
        """The view below field `f` resolved in `graph`: its own `@provides`, or the parent view's."""
        sub: View | None = None
        if view is not None:
            sub = self.view_fields(view, f.parent).get(f.name)
        meta = self.sg.field(f.parent, f.name)
        if meta is not None and graph in meta.provides:
            own = self._view_from(meta.provides[graph])
            sub = own if sub is None else _merge_views(sub, own)
        return sub

    def _view_from(self, sel: SelectionSetNode) -> View:
        view: View = {}
        self._fill_view(view, None, sel)
        return view

    def _fill_view(self, view: View, cond: str | None, sel: SelectionSetNode) -> None:
        from graphql import FieldNode, InlineFragmentNode

        bucket = view.setdefault(cond, {})
        for node in sel.selections:
            if isinstance(node, FieldNode):
                child: View | None = None
                if node.selection_set:
                    child = self._view_from(node.selection_set)
                prev = bucket.get(node.name.value)
                bucket[node.name.value] = _merge_views(prev, child) if prev and child else (child or prev)
            elif isinstance(node, InlineFragmentNode):
                tc = node.type_condition.name.value if node.type_condition else cond
                self._fill_view(view, tc, node.selection_set)

    def sources(self, type_name: str, name: str) -> list[Source]:
        """Subgraphs that resolve `type_name.name`, directly or through an interfaceObject."""
        out: list[Source] = []
        meta = self.sg.field(type_name, name)
        if meta is not None:
            out.extend(Source(g, type_name) for g in sorted(meta.resolvable_in))
        tmeta = self.sg.types.get(type_name)
        if tmeta is not None and tmeta.kind == "OBJECT":
            for iface in sorted(self._interfaces_of(type_name)):
                imeta = self.sg.types[iface]
                ifield = imeta.fields.get(name)
                if ifield is None:
                    continue
                for g in sorted(imeta.interface_object_in):
                    if g in ifield.resolvable_in and all(s.graph != g for s in out):
                        out.append(Source(g, iface))
        return out

    def _interfaces_of(self, type_name: str) -> set[str]:
        gt = self.sg.full_schema.get_type(type_name)
        return {i.name for i in getattr(gt, "interfaces", ())}

    def fieldset(self, type_name: str, sel: SelectionSetNode) -> list[NField]:
        """A key or requires field set as planner fields; fields with arguments get internal aliases."""
        k = (type_name, id(sel))
        got = self._fieldset_cache.get(k)
        if got is None:
            nsel = self.norm.selection(type_name, sel, hidden=True)
            self._alias_arguments(nsel)
            got = nsel.for_type(type_name)
            self._fieldset_cache[k] = got
        return got

    def _alias_arguments(self, sel: NSel) -> None:
        # A required field with arguments may clash with the same field the client selects with other
        # arguments; an internal alias keeps both apart in the merged entity.
        for fields in [sel.fields, *sel.by_type.values()]:
            for f in fields:
                if f.args:
                    k = (f.parent, f.name, f.args_key)
                    alias = self._internal_aliases.get(k)
                    if alias is None:
                        alias = f"_internal_qp_alias_{len(self._internal_aliases)}"
                        self._internal_aliases[k] = alias
                    f.alias = f.key = alias
                if f.sel is not None:
                    self._alias_arguments(f.sel)

    def keys_into(self, via: str, target: str) -> list[JoinType]:
        meta = self.sg.types.get(via)
        return meta.keys_in(target) if meta else []

    # ------------------------------------------------------------------ costs (no side effects)

    def cost_fields(self, type_name: str, graph: str, fields: list[NField], view: View | None) -> float:
        total = 0.0
        for f in fields:
            if f.name == "__typename":
                continue
            total += self.cost_field(type_name, graph, f, view)
            if total == INF:
                return INF
        return total

    def cost_field(self, type_name: str, graph: str, f: NField, view: View | None) -> float:
        k = (type_name, graph, id(f), id(view))
        got = self._cost_cache.get(k)
        if got is not None:
            return got
        if k in self._cost_active:
            return INF
        self._cost_active.add(k)
        try:
            best = self._local_cost(type_name, graph, f, view)
            if best >= JUMP:
                for src in self.sources(type_name, f.name):
                    if src.graph == graph and src.via == type_name:
                        continue
                    key_cost = self._cheapest_key_cost(type_name, graph, src, view)
                    if key_cost == INF:
                        continue
                    c = JUMP + key_cost + self._local_cost(src.via, src.graph, f, None) + _size(f)
                    best = min(best, c)
        finally:
            self._cost_active.discard(k)
        self._cost_cache[k] = best
        return best

    def _local_cost(self, type_name: str, graph: str, f: NField, view: View | None) -> float:
        if not self.local(type_name, graph, f.name, view):
            return INF
        cost = 1.0
        meta = self.sg.field(type_name, f.name)
        if meta is not None and graph in meta.context_args:
            cost += JUMP
        if meta is not None and graph in meta.requires and not self._provided(type_name, f, view):
            req = self.fieldset(type_name, meta.requires[graph])
            rc = self.cost_fields(type_name, graph, req, view)
            if rc == INF or not self._self_key(type_name, graph):
                return INF
            cost += JUMP + rc
        if f.sel is not None:
            cost += self.cost_sub(f, graph, self.provides_view(f, graph, view))
        return cost

    def _provided(self, type_name: str, f: NField, view: View | None) -> bool:
        return view is not None and f.name in self.view_fields(view, type_name)

    def cost_sub(self, f: NField, graph: str, view: View | None) -> float:
        assert f.sel is not None
        t = f.type_name
        if not self.is_abstract(t):
            return self.cost_fields(t, graph, f.sel.for_type(t), view)
        if self.is_interface_object(t, graph):
            c = self.cost_fields(t, graph, [x for x in f.sel.fields if x.name != "__typename"], view)
            if self._needs_real_typename(f.sel):
                c += JUMP
            return c
        total = 0.0
        for concrete in self.concretes_in(f, graph):
            total += self.cost_fields(concrete, graph, f.sel.for_type(concrete), view)
            if total == INF:
                return INF
        return total

    def _child_candidates(self, type_name: str, f: NField) -> frozenset[str]:
        here = set(self._cands[-1])
        meta = self.sg.types.get(type_name)
        if meta is not None:
            here.update(jt.graph for jt in meta.join_types if jt.key_selection is not None and jt.resolvable)
        return frozenset(src.graph for src in self.sources(type_name, f.name) if src.graph in here)

    def _union_members(self, f: NField) -> frozenset[str] | None:
        """Members of union field `f` that every candidate subgraph for it can return."""
        meta = self.sg.types.get(f.type_name)
        if meta is None or meta.kind != "UNION":
            return None
        allowed: frozenset[str] | None = None
        for g in self._cands[-1]:
            declared = self.type_in(f.parent, g, f.name)
            own = declared.replace("[", "").replace("]", "").replace("!", "") if declared else f.type_name
            members = self.sg.possible_types_in(own, g)
            allowed = members if allowed is None else allowed & members
        return allowed

    def concretes_in(self, f: NField, graph: str) -> list[str]:
        """Concrete types subgraph `graph` can return for abstract field `f` (by its own declared type)."""
        declared = self.type_in(f.parent, graph, f.name)
        own = declared.replace("[", "").replace("]", "").replace("!", "") if declared else f.type_name
        return sorted(self.sg.possible_types_in(own, graph) & self.sg.possible_types(f.type_name))

    def _needs_real_typename(self, sel: NSel) -> bool:
        return bool(sel.by_type) or sel.wants_typename()

    def _keys_by_cost(self, type_name: str, graph: str, src: Source, view: View | None) -> list[tuple[float, JoinType]]:
        """Keys that lead into `src`, reachable from (type_name, graph), cheapest first."""
        out: list[tuple[float, JoinType]] = []
        for jt in self.keys_into(src.via, src.graph):
            assert jt.key_selection is not None
            c = self.cost_fields(type_name, graph, self.fieldset(type_name, jt.key_selection), view)
            if c < INF:
                out.append((c, jt))
        out.sort(key=lambda o: o[0])
        return out

    def _cheapest_key_cost(self, type_name: str, graph: str, src: Source, view: View | None) -> float:
        keys = self._keys_by_cost(type_name, graph, src, view)
        return keys[0][0] if keys else INF

    def _self_key(self, type_name: str, graph: str) -> JoinType | None:
        """A key of `graph` for the type whose fields `graph` resolves itself (to re-enter it)."""
        via = type_name
        keys = self.keys_into(type_name, graph)
        if not keys:
            for iface in sorted(self._interfaces_of(type_name)):
                if self.is_interface_object(iface, graph):
                    keys = self.keys_into(iface, graph)
                    via = iface
                    break
        for jt in keys:
            assert jt.key_selection is not None
            kf = self.fieldset(type_name, jt.key_selection)
            if self.cost_fields(type_name, graph, kf, None) < JUMP:
                return jt
        del via
        return None

    # ------------------------------------------------------------------ groups

    def new_group(self, subgraph: str, is_entity: bool, path: FlattenPath, conds: tuple[Cond, ...]) -> FetchGroup:
        g = FetchGroup(
            id=len(self.groups),
            subgraph=subgraph,
            is_entity=is_entity,
            path=path,
            conds=conds,
            operation_kind="query" if is_entity else self.operation_kind,
        )
        g.path_variants.append(path)
        self.groups.append(g)
        return g

    def touch(self, group: FetchGroup) -> None:
        for log in self._touch_logs:
            log.add(group.id)

    def root_group(self, subgraph: str, key: object = None) -> FetchGroup:
        k = ("root", subgraph, key)
        g = self.registry.get(k)
        if g is None:
            g = self.new_group(subgraph, False, (), ())
            self.registry[k] = g
        self.touch(g)
        return g

    def entity_group(
        self,
        parent: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        path: FlattenPath,
        src: Source,
        jt: JoinType,
        conds: tuple[Cond, ...],
        view: View | None,
        extra_inputs: list[NField] | None = None,
        unique: bool = False,
    ) -> tuple[FetchGroup, OutSel]:
        """Add the key (and `extra_inputs`, for @requires) to `out` and get the group in `src.graph`."""
        assert jt.key_selection is not None
        key_fields = self.fieldset(type_name, jt.key_selection)
        log: set[int] = {parent.id}
        self._touch_logs.append(log)
        try:
            kout = out
            kout.add_typename()
            left = self.plan_fields(parent, kout, type_name, graph, key_fields, path, view)
            if extra_inputs:
                left += self.plan_fields(parent, kout, type_name, graph, extra_inputs, path, view)
        finally:
            self._touch_logs.pop()
        if left:
            raise PlanningError(
                "QUERY_PLANNING_FAILED",
                f"cannot fetch the key fields {jt.key!r} of {type_name} from subgraph {graph!r}",
            )
        stripped = tuple(s for s in path if not isinstance(s, TypeCondition))
        # Conditions are not part of the identity: fields keep their own @include/@skip inside the
        # operation, and a group runs unconditionally as soon as one contribution has no condition.
        rk: tuple[Any, ...] = ("entity", src.graph, stripped, frozenset(log))
        g = None if unique else self.registry.get(rk)
        n = 0
        while g is not None and extra_inputs and _inputs_conflict(g.inputs.frag(src.via), extra_inputs):
            n += 1
            g = self.registry.get(rk + (n,))
        if g is None:
            g = self.new_group(src.graph, True, path, conds)
            g.deps |= log
            if not unique:
                self.registry[rk + (n,) if n else rk] = g
        else:
            g.conds = tuple(c for c in g.conds if c in conds)
            if path not in g.path_variants:
                g.path_variants.append(path)
        self.touch(g)
        in_type = src.via
        inputs = g.inputs.frag(in_type)
        inputs.add_typename()
        self._add_hidden(inputs, key_fields)
        if extra_inputs:
            self._add_hidden(inputs, extra_inputs)
        if src.via != type_name or self.is_interface_object(src.via, src.graph):
            setter = ValueSetter((f"... on {in_type}", "__typename"), in_type)
            if setter not in g.input_rewrites:
                g.input_rewrites.append(setter)
        return g, g.out.frag(in_type)

    def _add_hidden(self, out: OutSel, fields: list[NField]) -> None:
        """Copy a key/requires selection into a representation selection."""
        for f in fields:
            of = out.add_field(f.name, f.alias, (), (), composite=f.sel is not None)
            if f.sel is not None:
                assert of.sel is not None
                if not self.is_abstract(f.type_name):
                    self._add_hidden(of.sel, f.sel.for_type(f.type_name))
                else:
                    of.sel.add_typename()
                    self._add_hidden(of.sel, [x for x in f.sel.fields if x.name != "__typename"])
                    for t, fs in f.sel.by_type.items():
                        self._add_hidden(of.sel.frag(t), fs)

    # ------------------------------------------------------------------ the walk

    def plan_root(self, root_type: str, sel: NSel) -> None:
        fields = [f for f in sel.fields if f.name != "__typename" and not f.name.startswith("__")]
        prev_graph: str | None = None
        mutation_slot = 0
        for f in fields:
            pending = [f]
            tried: set[str] = set()
            while pending:
                cur = pending.pop(0)
                graph = self._choose_root_graph(root_type, cur, tried, prev_graph)
                if graph is None:
                    raise PlanningError(
                        "QUERY_PLANNING_FAILED",
                        f"no subgraph can resolve {root_type}.{_describe(cur)}: no path reaches these fields",
                    )
                tried.add(graph)
                if self.operation_kind == "mutation":
                    if graph != prev_graph:
                        mutation_slot += 1
                    group = self.root_group(graph, mutation_slot)
                else:
                    group = self.root_group(graph)
                prev_graph = graph
                self._objects.append(_Object(root_type, graph, group, group.out, (), None))
                try:
                    left = self.plan_fields(group, group.out, root_type, graph, [cur], (), None)
                finally:
                    self._objects.pop()
                pending.extend(left)

    def _choose_root_graph(
        self, root_type: str, f: NField, tried: set[str], prev: str | None
    ) -> str | None:
        meta = self.sg.field(root_type, f.name)
        if meta is None:
            return None
        best: tuple[float, float, float] | None = None
        choice = None
        order = list(self.sg.subgraph_urls)
        for g in sorted(meta.resolvable_in, key=order.index):
            if g in tried:
                continue
            c = self._local_cost(root_type, g, f, None)
            partial = self._unresolved_count(root_type, g, f) if c == INF else 0
            used = 0 if (("root", g, None) in self.registry or g == prev) else 1
            score = (float(partial), c if c != INF else 1e18, float(used))
            if best is None or score < best:
                best, choice = score, g
        return choice

    def _unresolved_count(self, type_name: str, graph: str, f: NField, view: View | None = None) -> int:
        """How many leaves under `f`, resolved in `graph`, no path from there reaches (to pick a partial plan).

        Counted leaf by leaf, not child by child: a composite child that resolves only part of its own
        selection here still makes progress (its rest is handed back and re-fetched through the nearest
        entity ancestor), so `products { category { name details { n } } }` is a partial option even
        when `category` is the only child and no single child is complete.
        """
        if f.sel is None:
            return 0
        t = f.type_name
        concretes = [t] if not self.is_abstract(t) else self.concretes_in(f, graph)
        n = 0
        sub_view = self.provides_view(f, graph, view)
        for c in concretes:
            for child in f.sel.for_type(c):
                if child.name == "__typename" or self.cost_field(c, graph, child, sub_view) < INF:
                    continue
                if child.sel is not None and self.local(c, graph, child.name, sub_view):
                    n += self._unresolved_count(c, graph, child, sub_view)
                else:
                    n += _leaves(child)
        return n

    def plan_fields(
        self,
        group: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        fields: list[NField],
        path: FlattenPath,
        view: View | None,
        requires_done: frozenset[str] = frozenset(),
    ) -> list[NField]:
        """Place `fields` of an object of `type_name` fetched from `graph`; return those it cannot place."""
        leftovers: list[NField] = []
        for field in fields:
            if field.name == "__typename":
                if not self.is_interface_object(type_name, graph):
                    out.add_field("__typename", field.alias, (), field.conds)
                continue
            pending = [field]
            tried: set[str] = set()
            while pending:
                f = pending.pop(0)
                choice = self._choose(type_name, graph, f, view, tried, requires_done)
                if choice is None:
                    leftovers.append(f)
                elif choice.graph == graph and choice.via == type_name:
                    tried.add(graph)
                    pending.extend(self._place_local(group, out, type_name, graph, f, path, view, requires_done))
                else:
                    tried.add(choice.graph)
                    pending.extend(self._jump(group, out, type_name, graph, f, path, view, choice))
        return leftovers

    def _choose(
        self,
        type_name: str,
        graph: str,
        f: NField,
        view: View | None,
        tried: set[str],
        requires_done: frozenset[str],
    ) -> Source | None:
        """The cheapest way to resolve `f` from here; when none is complete, the most complete one."""
        here = Source(graph, type_name)
        options: list[tuple[float, Source]] = []
        if graph not in tried and self.local(type_name, graph, f.name, view):
            c = 1.0 if f.name in requires_done and f.sel is None else self._local_cost(type_name, graph, f, view)
            options.append((c, here))
        best_local = options[0][0] if options else INF
        if best_local >= JUMP:
            for src in self.sources(type_name, f.name):
                if src.graph in tried or (src.graph == graph and src.via == type_name):
                    continue
                kc = self._cheapest_key_cost(type_name, graph, src, view)
                if kc == INF:
                    continue
                options.append((JUMP + kc + self._local_cost(src.via, src.graph, f, None) + _size(f), src))
        if not options:
            return None
        cost, best = min(options, key=lambda o: o[0])
        if cost < INF:
            return best
        if f.sel is None:
            return None
        # Nothing resolves every child: take the option that resolves the most, the rest is retried.
        total = _leaves(f)
        scored = [
            (self._unresolved_count(src.via, src.graph, f, view if src.graph == graph else None), i, src)
            for i, (_, src) in enumerate(options)
        ]
        n, _, src = min(scored)
        return src if n < total else None

    def _place_local(
        self,
        group: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        f: NField,
        path: FlattenPath,
        view: View | None,
        requires_done: frozenset[str],
    ) -> list[NField]:
        meta = self.sg.field(type_name, f.name)
        if meta is not None and graph in meta.context_args and f.name not in requires_done:
            return self._contextual(group, out, type_name, graph, f, path, view, Source(graph, type_name))
        if (
            meta is not None
            and graph in meta.requires
            and f.name not in requires_done
            and not self._provided(type_name, f, view)
        ):
            return self._requires(group, out, type_name, graph, f, path, view, Source(graph, type_name))
        of = out.add_field(
            f.name, f.alias, f.args, f.conds, composite=f.sel is not None, type_str=self.type_in(type_name, graph, f.name)
        )
        if f.sel is None:
            return []
        assert of.sel is not None
        sub_path = path + (f.key,) + (LIST,) * f.list_depth
        self._cands.append(self._child_candidates(type_name, f))
        self._objects.append(_Object(type_name, graph, group, out, path, view))
        try:
            left = self.plan_sub(group, of.sel, f, graph, sub_path, self.provides_view(f, graph, view))
        finally:
            self._cands.pop()
            self._objects.pop()
        if not left:
            return []
        # Children this subgraph cannot reach: the caller fetches the same field again elsewhere.
        return [f.with_sel(NSel(f.sel.type, left, {}, reparent=f.sel.reparent))]

    def _jump(
        self,
        group: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        f: NField,
        path: FlattenPath,
        view: View | None,
        src: Source,
    ) -> list[NField]:
        meta = self.sg.field(src.via, f.name)
        if meta is not None and src.graph in meta.context_args:
            return self._contextual(group, out, type_name, graph, f, path, view, src)
        if meta is not None and src.graph in meta.requires:
            return self._requires(group, out, type_name, graph, f, path, view, src)
        jt = self._best_key(type_name, graph, src, view)
        if jt is None:
            return [f]
        child, cout = self.entity_group(group, out, type_name, graph, path, src, jt, f.conds, view)
        return self.plan_fields(child, cout, src.via, src.graph, [f], path, None)

    def _best_key(self, type_name: str, graph: str, src: Source, view: View | None) -> JoinType | None:
        keys = self._keys_by_cost(type_name, graph, src, view)
        return keys[0][1] if keys else None

    def _requires(
        self,
        group: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        f: NField,
        path: FlattenPath,
        view: View | None,
        src: Source,
    ) -> list[NField]:
        """`f` is resolved in `src.graph` with a @requires: fetch its requirements, then re-enter."""
        meta = self.sg.field(src.via, f.name)
        assert meta is not None
        req = self.fieldset(type_name, meta.requires[src.graph])
        jt = self._key_for_requires(type_name, graph, src, view)
        if jt is None:
            return [f]
        child, cout = self.entity_group(
            group, out, type_name, graph, path, src, jt, f.conds, view, extra_inputs=req, unique=False
        )
        return self.plan_fields(
            child, cout, src.via, src.graph, [f], path, None, requires_done=frozenset((f.name,))
        )

    def _contextual(
        self,
        group: FetchGroup,
        out: OutSel,
        type_name: str,
        graph: str,
        f: NField,
        path: FlattenPath,
        view: View | None,
        src: Source,
    ) -> list[NField]:
        """`f` takes arguments from a context (`@fromContext`): fetch each context's selection on the
        nearest enclosing object that sets it, then call `src.graph` for `f` in an entity fetch of its
        own, the values passed as variables that the executor reads `up` levels above each entity."""
        meta = self.sg.field(src.via, f.name)
        assert meta is not None
        self._contextual_count += 1
        log: set[int] = {group.id}
        rewrites: list[ContextRewrite] = []
        extra_args: list[ArgumentNode] = []
        self._touch_logs.append(log)
        try:
            for i, carg in enumerate(meta.context_args[src.graph]):
                found = None
                for depth in range(len(self._objects) - 1, -1, -1):
                    anc = self._objects[depth]
                    if carg.context in self._contexts_of(anc.type_name):
                        found = depth
                        break
                if found is None:
                    raise PlanningError(
                        "QUERY_PLANNING_FAILED",
                        f"cannot plan {type_name}.{f.name}: no enclosing object sets the context "
                        f"{carg.context.split('__', 1)[-1]!r} its argument {carg.name!r} takes a value from",
                    )
                anc = self._objects[found]
                fields = [x for x in self.fieldset(anc.type_name, carg.selection) if x.name != "__typename"]
                if len(fields) != 1:
                    raise PlanningError(
                        "QUERY_PLANNING_FAILED",
                        f"cannot plan {type_name}.{f.name}: the context selection for {carg.name!r} "
                        f"selects {len(fields)} fields on {anc.type_name}, not one",
                    )
                saved = self._objects
                self._objects = saved[:found]
                try:
                    left = self.plan_fields(anc.group, anc.out, anc.type_name, anc.graph, fields, anc.path, anc.view)
                finally:
                    self._objects = saved
                if left:
                    raise PlanningError(
                        "QUERY_PLANNING_FAILED",
                        f"cannot fetch the context value {carg.selection and _describe(fields[0])} of "
                        f"{anc.type_name} for {type_name}.{f.name}",
                    )
                variable = f"contextualArgument_{self._contextual_count}_{i}"
                rewrites.append(ContextRewrite(variable, carg.type, len(self._objects) - found, (fields[0].key,)))
                extra_args.append(
                    ArgumentNode(name=NameNode(value=carg.name), value=VariableNode(name=NameNode(value=variable)))
                )
        finally:
            self._touch_logs.pop()
        jt = self._key_for_requires(type_name, graph, src, view)
        if jt is None:
            return [f]
        child, cout = self.entity_group(group, out, type_name, graph, path, src, jt, f.conds, view, unique=True)
        child.deps |= log - {child.id}
        child.context_rewrites.extend(rewrites)
        with_args = replace(f, args=f.args + tuple(extra_args))
        return self.plan_fields(
            child, cout, src.via, src.graph, [with_args], path, None, requires_done=frozenset((f.name,))
        )

    def _contexts_of(self, type_name: str) -> frozenset[str]:
        """Contexts an object of `type_name` sets: its own, its interfaces' and its unions'."""
        meta = self.sg.types.get(type_name)
        out = set(meta.contexts) if meta is not None else set()
        for t, m in self.sg.types.items():
            if m.contexts and t != type_name and m.kind in ("INTERFACE", "UNION") and self.sg.satisfies(type_name, t):
                out |= m.contexts
        return frozenset(out)

    def _key_for_requires(self, type_name: str, graph: str, src: Source, view: View | None) -> JoinType | None:
        """Prefer a key the requiring subgraph resolves itself; else any key reachable from here."""
        keys = self._keys_by_cost(type_name, graph, src, view)
        for _, jt in keys:
            assert jt.key_selection is not None
            if self.cost_fields(src.via, src.graph, self.fieldset(type_name, jt.key_selection), None) < JUMP:
                return jt
        return keys[0][1] if keys else None

    def plan_sub(
        self, group: FetchGroup, out: OutSel, f: NField, graph: str, path: FlattenPath, view: View | None
    ) -> list[NField]:
        """Plan the selection of composite field `f` (already placed in `out`) in `graph`."""
        assert f.sel is not None
        t = f.type_name
        if not self.is_abstract(t):
            return self.plan_fields(group, out, t, graph, f.sel.for_type(t), path, view)
        out.add_typename()
        if self.is_interface_object(t, graph):
            return self._plan_interface_object(group, out, f, graph, path, view)
        left: list[NField] = []
        allowed = self._union_members(f)
        concretes = self.concretes_in(f, graph)
        base = [x for x in f.sel.fields if x.name != "__typename"]
        if not concretes and base and self.cost_fields(t, graph, base, view) == INF:
            # No implementation to explode into: the interface's own fields must still be reachable.
            raise PlanningError(
                "QUERY_PLANNING_FAILED",
                f"cannot plan {f.parent}.{f.name}: no subgraph path reaches "
                + ", ".join(sorted({x.name for x in base}))
                + f" of {t} from subgraph {graph!r}",
            )
        for concrete in concretes:
            if allowed is not None and concrete not in allowed:
                continue
            fields = f.sel.for_type(concrete)
            if not any(x.name != "__typename" for x in fields):
                continue
            frag = out.frag(concrete)
            sub_path = path + (TypeCondition((concrete,)),)
            lc = self.plan_fields(group, frag, concrete, graph, fields, sub_path, view)
            for x in lc:
                if x not in left:
                    left.append(x)
        if left:
            raise PlanningError(
                "QUERY_PLANNING_FAILED",
                f"cannot plan {f.parent}.{f.name}: subgraph {graph!r} cannot resolve "
                + ", ".join(sorted({x.name for x in left})),
            )
        return []

    def _plan_interface_object(
        self, group: FetchGroup, out: OutSel, f: NField, graph: str, path: FlattenPath, view: View | None
    ) -> list[NField]:
        assert f.sel is not None
        iface = f.type_name
        base = [x for x in f.sel.fields if x.name != "__typename"]
        left = self.plan_fields(group, out, iface, graph, base, path, view)
        if left:
            raise PlanningError(
                "QUERY_PLANNING_FAILED",
                f"cannot plan {f.parent}.{f.name}: " + ", ".join(x.name for x in left),
            )
        if not self._needs_real_typename(f.sel):
            return []
        owner = self._interface_owner(iface, graph, view)
        if owner is None:
            raise PlanningError(
                "QUERY_PLANNING_FAILED",
                f"cannot learn the concrete type of {iface} from subgraph {graph!r}: "
                "no subgraph resolves it by key",
            )
        src, jt = owner
        child, cout = self.entity_group(group, out, iface, graph, path, src, jt, (), view)
        cout.add_typename()
        for concrete in sorted(self.sg.possible_types(iface)):
            extra = f.sel.by_type.get(concrete)
            if not extra:
                continue
            frag = cout.frag(concrete)
            rest = self.plan_fields(child, frag, concrete, src.graph, extra, path, None)
            if rest:
                raise PlanningError(
                    "QUERY_PLANNING_FAILED",
                    f"cannot plan {concrete} fields " + ", ".join(x.name for x in rest),
                )
        return []

    def _interface_owner(self, iface: str, graph: str, view: View | None) -> tuple[Source, JoinType] | None:
        meta = self.sg.types[iface]
        for jt in meta.join_types:
            if jt.graph == graph or jt.is_interface_object or not jt.resolvable or jt.key_selection is None:
                continue
            kf = self.fieldset(iface, jt.key_selection)
            if self.cost_fields(iface, graph, kf, view) < INF:
                return Source(jt.graph, iface), jt
        return None


def _describe(f: NField) -> str:
    """`f` with what is left of its selection, e.g. `topProducts { inStock }`, for error messages."""
    if f.sel is None:
        return f.name
    inner = [_describe(x) for x in f.sel.fields if x.name != "__typename"]
    for t, fields in f.sel.by_type.items():
        inner.append(f"... on {t} {{ " + " ".join(_describe(x) for x in fields) + " }")
    return f.name + (" { " + " ".join(inner) + " }" if inner else "")


def _leaves(f: NField) -> int:
    """Leaf fields under `f` (`f` itself when it is a leaf), `__typename` not counted."""
    if f.sel is None:
        return 1
    n = sum(_leaves(x) for x in f.sel.fields if x.name != "__typename")
    for fields in f.sel.by_type.values():
        n += sum(_leaves(x) for x in fields if x.name != "__typename")
    return n


def _size(f: NField) -> float:
    """Fields under `f` (itself included). Every field behind a jump costs this once more, so that
    between plans with as many jumps the one that jumps later, for less of the selection, wins."""
    if f.sel is None:
        return 1.0
    n = 1.0 + sum(_size(x) for x in f.sel.fields)
    for fields in f.sel.by_type.values():
        n += sum(_size(x) for x in fields)
    return n


def _inputs_conflict(inputs: OutSel, fields: list[NField]) -> bool:
    """True when a representation would need one key with two different values (other arguments)."""
    from .groups import OutField

    by_name: dict[str, OutField] = {}
    for item in inputs.items.values():
        if isinstance(item, OutField):
            by_name[item.name] = item
    for f in fields:
        got = by_name.get(f.name)
        if got is None:
            continue
        if got.alias != f.alias:
            return True
        if got.sel is not None and f.sel is not None and _inputs_conflict(got.sel, f.sel.fields):
            return True
    return False


def _merge_views(a: View | None, b: View | None) -> View | None:
    if a is None:
        return b
    if b is None:
        return a
    out: View = {k: dict(v) for k, v in a.items()}
    for k, fields in b.items():
        bucket = out.setdefault(k, {})
        for name, sub in fields.items():
            bucket[name] = _merge_views(bucket.get(name), sub)
    return out

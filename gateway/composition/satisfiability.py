"""Satisfiability (composition-js/src/validate.ts): can every query on the API schema be planned?

A depth-first walk over the API schema that keeps, for each path, the set of subgraph positions
(subgraph, type, `@provides` context) that could be answering it. A field fails when no position
can take it, directly or after `@key` jumps to other subgraphs. States whose positions are a
superset of an already visited set for the same API type are skipped (more positions only help).

`@requires` and `@fromContext` are conditions on field steps: a condition selection must be
fetchable from the position (or, for a context, from the nearest type on the path that sets it),
jumping subgraphs through keys where needed. See docs/composition.md for what is simplified.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import FieldNode, InlineFragmentNode, NonNullTypeNode, SelectionSetNode

from .errors import CompositionError
from .fieldsets import iter_targets, parse_field_set
from .merge import Merger
from .model import MField, MType, Supergraph
from .reporter import join_strings
from .subgraph import ENUM, INPUT_OBJECT, INTERFACE, OBJECT, SCALAR, UNION, SField, Subgraph, named_type
from .values import print_value

Ctx = tuple[tuple[str, "Ctx"], ...]  # provided fields: (name, nested) pairs


# (supergraph context name, subgraph, type): the nearest type on the path that sets each context.
Contexts = tuple[tuple[str, int, str], ...]


@dataclass(frozen=True, slots=True)
class Pos:
    sub: int
    type: str
    provided: Ctx | None = None
    contexts: Contexts = ()


def _ctx(sel: SelectionSetNode) -> Ctx:
    out: dict[str, Ctx] = {}
    for s in sel.selections:
        if isinstance(s, FieldNode):
            nested = _ctx(s.selection_set) if s.selection_set else ()
            out[s.name.value] = tuple(sorted(set(out.get(s.name.value, ())) | set(nested)))
        elif isinstance(s, InlineFragmentNode):
            for k, v in _ctx(s.selection_set):
                out[k] = tuple(sorted(set(out.get(k, ())) | set(v)))
    return tuple(sorted(out.items()))


def print_selection(sel: SelectionSetNode) -> str:
    """A field set printed compactly, as Apollo prints keys in messages: `id pid category { id tag }`."""
    parts = []
    for x in sel.selections:
        if isinstance(x, FieldNode):
            text = x.name.value
            if x.arguments:

                text += "(" + ", ".join(f"{a.name.value}: {print_value(a.value)}" for a in x.arguments) + ")"
            if x.selection_set is not None:
                text += " { " + print_selection(x.selection_set) + " }"
            parts.append(text)
        elif isinstance(x, InlineFragmentNode):
            cond = f" on {x.type_condition.name.value}" if x.type_condition else ""
            parts.append(f"...{cond} {{ {print_selection(x.selection_set)} }}")
    return " ".join(parts)


class _TooManyPaths(Exception):
    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


DEFAULT_MAX_VALIDATION_SUBGRAPH_PATHS = 1_000_000


class _Checker:
    def __init__(
        self, subs: list[Subgraph], sg: Supergraph, merger: Merger, labels: dict[str, bool] | None = None,
        max_paths: int = DEFAULT_MAX_VALIDATION_SUBGRAPH_PATHS,
    ) -> None:
        self.subs = subs
        # validate.ts pushStack/popStack: the subgraph paths of the states waiting on the stack.
        self.max_paths = max_paths
        self.open_paths = 0
        self.sg = sg
        self.meta = merger.meta
        self.overridden = merger.overridden
        self.overridden_by = merger.overridden_by
        self.dropped_overridden = merger.dropped_overridden
        self.labeled = merger.labeled_overrides
        self.labels = labels
        # Under a label assignment, the side of a progressive override that does not serve is gone.
        if labels is not None:
            self.overridden = {k: set(v) for k, v in merger.overridden.items()}
            for coord, entries in merger.labeled_overrides.items():
                for label, winner, loser in entries:
                    self.overridden.setdefault(coord, set()).add(loser if labels[label] else winner)
        self.names = [s.name for s in subs]
        self.errors: list[CompositionError] = []
        self._keys: dict[tuple[int, str], list[tuple[str, SelectionSetNode | None, bool]]] = {}
        self._jumps: dict[tuple[Pos, frozenset[tuple[int, str]]], list[Pos]] = {}
        self._fields: dict[tuple[Pos, str], SField | None] = {}
        # @context: supergraph context name (`<subgraph>__<name>`) -> the types that set it.
        self.context_setters: dict[str, list[str]] = {}
        for sub in subs:
            for t in sub.types.values():
                for d in t.all("context"):
                    self.context_setters.setdefault(f"{sub.name}__{d.str_arg('name')}", []).append(t.name)
        self._matching: dict[str, list[str]] = {}


    # -- subgraph facts -----------------------------------------------------------------------------

    def keys(self, i: int, tname: str) -> list[tuple[str, SelectionSetNode | None, bool]]:
        k = (i, tname)
        if k not in self._keys:
            t = self.subs[i].type(tname)
            out = []
            for d in t.all("key") if t is not None else []:
                fields = d.str_arg("fields") or ""
                try:
                    sel: SelectionSetNode | None = parse_field_set(fields)
                except Exception:  # noqa: BLE001 - validated earlier
                    sel = None
                out.append((fields, sel, d.bool_arg("resolvable") is not False))
            self._keys[k] = out
        return self._keys[k]

    def field_at(self, pos: Pos, fname: str) -> SField | None:
        """The field if subgraph `pos.sub` can resolve it at this position, else None."""
        key = (pos, fname)
        if key in self._fields:
            return self._fields[key]
        f = self._field_at(pos, fname)
        self._fields[key] = f
        return f

    def _field_at(self, pos: Pos, fname: str) -> SField | None:
        s = self.subs[pos.sub]
        t = s.type(pos.type)
        if t is None:
            return None
        f = t.fields.get(fname)
        if f is None:
            return None
        if self.names[pos.sub] in self.overridden.get(f"{pos.type}.{fname}", ()):
            return None
        if self.meta[pos.sub].is_external(f):
            provided = dict(pos.provided or ())
            if fname not in provided:
                return None
        return f

    def next_pos(self, pos: Pos, f: SField) -> Pos:
        ctx: Ctx | None = None
        provided = dict(pos.provided or ())
        if f.name in provided and provided[f.name]:
            ctx = provided[f.name]
        prov = f.get("provides")
        if prov is not None and prov.str_arg("fields") is not None:
            try:
                ctx = _ctx(parse_field_set(prov.str_arg("fields") or ""))
            except Exception:  # noqa: BLE001
                pass
        return Pos(pos.sub, named_type(f.type), ctx, self.contexts_after(pos))

    # -- @context / @fromContext (graphPath.ts canSatisfyConditions) ---------------------------------------

    def contexts_matching(self, parent: str) -> list[str]:
        """Contexts a field of `parent` passes through: set on it, on an interface it implements, or on a
        union it belongs to."""
        if parent not in self._matching:
            mt = self.sg.types.get(parent)
            out = []
            for name, types in self.context_setters.items():
                for t in types:
                    st = self.sg.types.get(t)
                    if t == parent or (mt is not None and t in mt.implements) or (
                            st is not None and st.kind == UNION and parent in st.members):
                        out.append(name)
                        break
            self._matching[parent] = out
        return self._matching[parent]

    def contexts_after(self, pos: Pos) -> Contexts:
        """The contexts known below a field of `pos.type`: the nearest setter wins."""
        if not self.context_setters:
            return pos.contexts
        matching = self.contexts_matching(pos.type)
        if not matching:
            return pos.contexts
        known = {n: (s, t) for n, s, t in pos.contexts}
        for n in matching:
            known[n] = (pos.sub, pos.type)
        return tuple(sorted((n, s, t) for n, (s, t) in known.items()))

    def context_problem(self, pos: Pos, f: SField, guard: frozenset[tuple[int, str]]) -> str | None:
        """Why the @fromContext arguments of `f` cannot be filled here: "unset", "selection", "key" or None."""
        from .contexts import parse_context

        unset = unsatisfied = False
        for a in f.args.values():
            fc = a.get("fromContext")
            parsed = parse_context(fc.str_arg("field") or "") if fc is not None else None
            if parsed is None:
                continue
            name = f"{self.names[pos.sub]}__{parsed[0]}"
            setter = next(((s, t) for n, s, t in pos.contexts if n == name), None)
            if setter is None:
                unset = True
                continue
            if unsatisfied:
                continue
            try:
                sel = parse_field_set(parsed[1])
            except Exception:  # noqa: BLE001 - validated per subgraph
                continue
            # Fragments on object types the setter cannot be are dropped (graphPath.ts lazyMap).
            st = self.sg.types.get(setter[1])
            runtime = set(self.possible_types(st)) if st is not None and st.kind != OBJECT else {setter[1]}
            kept = tuple(x for x in sel.selections if not (
                isinstance(x, InlineFragmentNode) and x.type_condition is not None
                and (ct := self.sg.types.get(x.type_condition.name.value)) is not None and ct.kind == OBJECT
                and ct.name not in runtime))
            if not self.can_fetch(Pos(setter[0], setter[1]), SelectionSetNode(selections=kept), guard):
                unsatisfied = True
        if unset:
            return "unset"
        if unsatisfied:
            return "selection"
        meta = self.meta[pos.sub]
        for _, key_sel, _ in self.keys(pos.sub, pos.type):
            if key_sel is not None and not any(
                    meta.is_external(k) for k in iter_targets(self.subs[pos.sub], pos.type, key_sel)):
                return None
        return "key"

    def can_fetch(self, pos: Pos, sel: SelectionSetNode, guard: frozenset[tuple[int, str]]) -> bool:
        """Can the selection be fetched starting at `pos` (jumping subgraphs for fields it lacks)?"""
        candidates: list[Pos] | None = None
        for s in sel.selections:
            if isinstance(s, FieldNode):
                if s.name.value == "__typename":
                    continue
                f = self.field_at(pos, s.name.value)
                if f is not None and self.requires_ok(pos, f, guard) and (
                        s.selection_set is None or self.can_fetch(self.next_pos(pos, f), s.selection_set, guard)):
                    continue
                t = self.subs[pos.sub].type(pos.type)
                if t is not None and t.kind == INTERFACE and s.name.value not in t.fields:
                    impls = self.subs[pos.sub].possible_runtime_types(pos.type)
                    one = SelectionSetNode(selections=(s,))
                    if impls and all(self.can_fetch(Pos(pos.sub, o, pos.provided, pos.contexts), one, guard) for o in impls):
                        continue  # type explosion
                if candidates is None:
                    candidates = self.jumps(pos, guard)
                ok = False
                for c in candidates:
                    cf = self.field_at(c, s.name.value)
                    if cf is not None and self.requires_ok(c, cf, guard) and (
                            s.selection_set is None or self.can_fetch(self.next_pos(c, cf), s.selection_set, guard)):
                        ok = True
                        break
                if not ok:
                    return False
            elif isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else pos.type
                if self.subs[pos.sub].type(cond) is None:
                    return False
                if not self.can_fetch(Pos(pos.sub, cond, pos.provided, pos.contexts), s.selection_set, guard):
                    return False
        return True

    def jumps(self, pos: Pos, guard: frozenset[tuple[int, str]] = frozenset()) -> list[Pos]:
        """Positions reachable from `pos` through resolvable keys (and root-type moves), pos excluded."""
        tname = pos.type
        if tname in self.sg.roots.values():
            return [Pos(i, tname, None, pos.contexts) for i, s in enumerate(self.subs)
                    if i != pos.sub and s.type(tname) is not None]
        cache_key = (pos, guard)
        cached = self._jumps.get(cache_key)
        if cached is not None:
            return cached
        reached = [pos]
        seen = {(pos.sub, tname)}
        guard = guard | {(pos.sub, tname)}
        # Targets: the same type elsewhere, and @interfaceObject stand-ins of the interfaces it implements.
        targets = [(i, tname) for i, s in enumerate(self.subs) if s.type(tname) is not None]
        mt = self.sg.types.get(tname)
        if mt is not None and mt.kind == OBJECT:
            for itf in mt.implements:
                for i, s in enumerate(self.subs):
                    it = s.type(itf)
                    if it is not None and s.is_interface_object(it):
                        targets.append((i, itf))
        changed = True
        while changed:
            changed = False
            for i, target in targets:
                if (i, target) in seen or (i, target) in guard:
                    continue
                for _, sel, resolvable in self.keys(i, target):
                    if not resolvable or sel is None:
                        continue
                    inner = guard | {(i, target)}
                    if any(self.can_fetch(r, sel, inner) for r in reached):
                        reached.append(Pos(i, target, None, pos.contexts))
                        seen.add((i, target))
                        changed = True
                        break
        self._jumps[cache_key] = reached[1:]
        return reached[1:]

    def requires_ok(self, pos: Pos, f: SField, guard: frozenset[tuple[int, str]] = frozenset()) -> bool:
        """Can the `@requires` selection be fetched (from here or via keys), and can we come back?"""
        if self.context_setters and any(a.has("fromContext") for a in f.args.values()) \
                and self.context_problem(pos, f, guard) is not None:
            return False
        req = f.get("requires")
        if req is None:
            return True
        marker = (pos.sub, f"{f.coordinate}@requires")
        if marker in guard:
            return False
        guard = guard | {marker}
        try:
            sel = parse_field_set(req.str_arg("fields") or "")
        except Exception:  # noqa: BLE001
            return False
        if not self.keys(pos.sub, pos.type):
            return False  # "missing usable key ... to resume query" (any @key will do, resolvable or not)
        return self.can_fetch(Pos(pos.sub, pos.type, pos.provided, pos.contexts), sel, guard)

    # -- the walk -----------------------------------------------------------------------------------

    def api_fields(self, t: MType) -> list[MField]:
        return [f for f in t.fields.values() if not f.inaccessible]

    def possible_types(self, t: MType) -> list[str]:
        if t.kind == UNION:
            names = t.members
        else:
            names = [o.name for o in self.sg.types.values() if o.kind == OBJECT and t.name in o.implements]
        return [n for n in names if n in self.sg.types and not self.sg.types[n].inaccessible]

    def run(self) -> list[CompositionError]:
        stack: list[tuple[str, frozenset[Pos], list[tuple[str, str]], str]] = []
        for op in ("query", "mutation", "subscription"):
            root = self.sg.roots.get(op)
            if root is None:
                continue
            start = frozenset(Pos(i, root) for i, s in enumerate(self.subs) if root in s.types)
            self.push(stack, (root, start, [], op))
        self.walk(stack, {})
        return self.errors

    def push(self, stack: list[tuple[str, frozenset[Pos], list[tuple[str, str]], str]],
             state: tuple[str, frozenset[Pos], list[tuple[str, str]], str]) -> None:
        stack.append(state)
        self.open_paths += len(state[1])
        if self.open_paths > self.max_paths:
            raise _TooManyPaths(self.open_paths)

    def shared_mutation(self, alts: frozenset[Pos], api_type: str, f: MField) -> bool:
        """A top-level mutation field several subgraphs resolve: one of them must do for every query.

        Returns True when the field was handled here (the main walk then skips it).
        """
        resolvers = sorted({p.sub for p in alts if self.field_at(p, f.name) is not None})
        if len(resolvers) < 2:
            return False
        assert f.type is not None
        target = self.sg.types.get(named_type(f.type))
        if target is None or target.kind in (SCALAR, ENUM, INPUT_OBJECT):
            return True
        step = ("field", self.print_field_step(f))
        failures: list[tuple[int, CompositionError]] = []
        saved = self.errors
        for sub in resolvers:
            self.errors = []
            pos = next(p for p in alts if p.sub == sub)
            sf = self.field_at(pos, f.name)
            assert sf is not None
            sub_stack: list[tuple[str, frozenset[Pos], list[tuple[str, str]], str]] = []
            self.push(sub_stack, (target.name, frozenset([self.next_pos(pos, sf)]), [step], "mutation"))
            self.walk(sub_stack, {})
            errors = self.errors
            self.errors = saved
            if not errors:
                return True
            failures.append((sub, errors[0]))
        parts = []
        for sub, e in failures:
            indented = "\n".join("  " + line for line in e.message.split("\n"))
            parts.append(f'- When calling "{api_type}.{f.name}" at top-level from subgraph "{self.names[sub]}":\n'
                         + indented)
        self.errors.append(CompositionError(
            "SATISFIABILITY_ERROR",
            f'Supergraph API queries using the mutation field "{api_type}.{f.name}" at top-level must be satisfiable '
            "without needing to call that field from multiple subgraphs, but every subgraph with that field "
            "encounters satisfiability errors. Please fix these satisfiability errors for (at least) one of the "
            "following subgraphs with the mutation field:\n" + "\n".join(parts),
            [self.names[sub] for sub, _ in failures]))
        return True

    def walk(
        self,
        stack: list[tuple[str, frozenset[Pos], list[tuple[str, str]], str]],
        visited: dict[str, list[frozenset[tuple[int, str, Contexts]]]],
    ) -> None:
        """Depth-first over API paths; errors go to self.errors."""
        while stack:
            api_type, alts, path, op = stack.pop()
            self.open_paths -= len(alts)
            # Apollo's memo compares tails by (subgraph, type) and the contexts set on the way (validate.ts
            # currentSubgraphContextKeys): @provides copies are the same tail.
            tails = frozenset((p.sub, p.type, p.contexts) for p in alts)
            seen = visited.setdefault(api_type, [])
            if any(v <= tails for v in seen):
                continue
            seen.append(tails)
            t = self.sg.types[api_type]
            # Interface fields are checked through each implementation (`... on Impl`), as Apollo does.
            if t.kind == OBJECT or (t.kind == INTERFACE and not self.possible_types(t)):
                for f in self.api_fields(t):
                    if op == "mutation" and not path and self.shared_mutation(alts, api_type, f):
                        continue
                    new = self.advance(alts, api_type, f, path, op)
                    if new is None:
                        continue
                    step = ("field", self.print_field_step(f))
                    if not new:
                        self.report(alts, api_type, f, path + [step], op)
                        continue
                    assert f.type is not None
                    target = self.sg.types.get(named_type(f.type))
                    if target is None or target.kind in (SCALAR, ENUM, INPUT_OBJECT):
                        continue
                    self.push(stack, (target.name, new, path + [step], op))
            if t.kind in (INTERFACE, UNION):
                for o in self.possible_types(t):
                    down, stuck = self.downcast(alts, o)
                    if down:
                        self.push(stack, (o, down, path + [("fragment", o)], op))
                    elif stuck:
                        self.report_interface_object(stuck, path + [("fragment", o)], op)

    def advance(
        self, alts: frozenset[Pos], api_type: str, f: MField, path: list[tuple[str, str]], op: str
    ) -> frozenset[Pos] | None:
        """Positions after taking field `f`; empty when no position can take it; None to stop silently."""
        out: set[Pos] = set()
        direct: list[tuple[int, SField]] = []
        exploded_ok = False
        exploded = False
        for pos in alts:
            took = self.take(pos, f.name, out, direct)
            if took:
                continue
            # Type explosion: an interface position whose subgraph interface lacks the field.
            s = self.subs[pos.sub]
            t = s.type(pos.type)
            if t is not None and t.kind == INTERFACE and f.name not in t.fields:
                api_t = self.sg.types.get(api_type)
                impls = [o for o in s.possible_runtime_types(pos.type)
                         if api_t is None or o in self.possible_types(api_t) or o == api_type]
                # Failures inside an explosion are reported on the `... on <Impl>` path, as Apollo does.
                results = [self.take(Pos(pos.sub, o, pos.provided, pos.contexts), f.name, out, direct) for o in impls]
                exploded = True
                if all(results):
                    exploded_ok = True
        # The runtime-type check looks at every definition in the state, overridden ones included.
        defined = []
        for pos in alts:
            t = self.subs[pos.sub].type(pos.type)
            sf = t.fields.get(f.name) if t is not None else None
            if sf is not None and not self.meta[pos.sub].is_external(sf):
                defined.append((pos.sub, sf))
        if not self.check_runtime_types(api_type, f, defined or direct, path, op):
            return None
        if not out and (exploded_ok or exploded):
            return None
        return frozenset(out)

    def take(self, pos: Pos, fname: str, out: set[Pos], direct: list[tuple[int, SField]]) -> bool:
        """Advance one position by a field, directly or after key jumps; False if impossible."""
        ok = False
        sf = self.field_at(pos, fname)
        if sf is not None and self.requires_ok(pos, sf):
            out.add(self.next_pos(pos, sf))
            direct.append((pos.sub, sf))
            ok = True
        for j in self.jumps(pos):
            jf = self.field_at(j, fname)
            if jf is not None and self.requires_ok(j, jf):
                out.add(self.next_pos(j, jf))
                ok = True
        return ok

    def downcast(self, alts: frozenset[Pos], obj: str) -> tuple[frozenset[Pos], list[Pos]]:
        """Positions after `... on obj`, and the @interfaceObject positions that could not find out."""
        out: set[Pos] = set()
        stuck: list[Pos] = []
        for pos in alts:
            if pos.type == obj:
                out.add(pos)
                continue
            s = self.subs[pos.sub]
            t = s.type(pos.type)
            if t is None:
                continue
            if s.is_interface_object(t):
                # Only a subgraph with the real interface and a resolvable key can tell the runtime type.
                found = False
                for i, other in enumerate(self.subs):
                    it = other.type(pos.type)
                    if it is None or it.kind != INTERFACE:
                        continue
                    for _, sel, resolvable in self.keys(i, pos.type):
                        if resolvable and sel is not None and self.can_fetch(pos, sel, frozenset()):
                            found = True
                            if obj in other.possible_runtime_types(pos.type):
                                out.add(Pos(i, obj, None, pos.contexts))
                            break
                if found:
                    out.add(pos)  # Apollo's "fake downcast": the @interfaceObject position stays usable
                else:
                    stuck.append(pos)
                continue
            if t.kind in (INTERFACE, UNION) and obj in s.possible_runtime_types(pos.type):
                out.add(Pos(pos.sub, obj, pos.provided, pos.contexts))
        return frozenset(out), stuck

    def check_runtime_types(
        self, api_type: str, f: MField, direct: list[tuple[int, SField]], path: list[tuple[str, str]], op: str
    ) -> bool:
        assert f.type is not None
        target = self.sg.types.get(named_type(f.type))
        if target is None or target.kind not in (INTERFACE, UNION):
            return True
        # validate.ts: only when at least two of the paths end on an abstract type in their subgraph.
        abstract = [i for i, sf in direct
                    if (st := self.subs[i].type(named_type(sf.type))) is not None and st.kind in (INTERFACE, UNION)]
        if len(abstract) < 2:
            return True
        supergraph_types = set(self.possible_types(target))
        subs_seen: dict[int, list[str]] = {}
        for i, sf in direct:
            if i not in subs_seen:
                types = self.subs[i].possible_runtime_types(named_type(sf.type))
                if len(types) == 1 and types[0] not in supergraph_types:
                    continue
                subs_seen[i] = types
        if len(subs_seen) < 2:
            return True
        common = set.intersection(*(set(v) for v in subs_seen.values()))
        if common:
            return True
        lines = []
        for i, types in sorted(subs_seen.items()):
            shown = join_strings([f'"{x}"' for x in types]) if types else "no runtime type"
            lines.append(f' - in subgraph "{self.names[i]}", type{"s" if len(types) > 1 else ""} {shown}')
        witness = self.witness(path + [("field", self.print_field_step(f))], op, composite=True)
        self.errors.append(CompositionError(
            "SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES",
            f"For the following supergraph API query:\n{witness}\nShared field \"{api_type}.{f.name}\" return type "
            f'"{target.name}" has a non-intersecting set of possible runtime types across subgraphs. Runtime types in '
            "subgraphs are:\n" + ";\n".join(lines) + ".\nThis is not allowed as shared fields must resolve the same way "
            "in all subgraphs, and that imply at least some common runtime types between the subgraphs.",
            [self.names[i] for i in subs_seen]))
        return False

    # -- messages -----------------------------------------------------------------------------------

    def print_field_step(self, f: MField) -> str:
        args = []
        for a in f.args.values():
            if a.inaccessible or a.type is None:
                continue
            args.append(f"{a.name}: {self.sample(a.type)}")
        return f.name + (f"({', '.join(args)})" if args else "")

    def sample(self, t: object) -> str:
        from graphql import ListTypeNode

        if isinstance(t, NonNullTypeNode):
            return self.sample(t.type)
        if isinstance(t, ListTypeNode):
            return "[]"
        name = named_type(t)  # type: ignore[arg-type]
        builtin = {"Int": "0", "Float": "3.14", "Boolean": "true", "String": '"A string value"', "ID": '"<any id>"'}
        if name in builtin:
            return builtin[name]
        mt = self.sg.types.get(name)
        if mt is not None and mt.kind == ENUM and mt.values:
            return next(iter(mt.values))
        if mt is not None and mt.kind == INPUT_OBJECT:
            req = [f"{f.name}: {self.sample(f.type)}" for f in mt.fields.values()
                   if isinstance(f.type, NonNullTypeNode) and f.default is None]
            return "{" + ", ".join(req) + "}"
        return '"<some value>"'

    def witness(self, path: list[tuple[str, str]], op: str, composite: bool) -> str:
        lines: list[str] = []
        depth = 1
        for kind, text in path:
            indent = "  " * depth
            lines.append(f"{indent}{'... on ' + text if kind == 'fragment' else text} {{")
            depth += 1
        if lines:
            last = lines.pop()
            depth -= 1
            if composite:
                lines.append(last)
                lines.append("  " * (depth + 1) + "...")
                lines.append("  " * depth + "}")
            else:
                lines.append(last[:-2])
        for d in range(depth - 1, 0, -1):
            lines.append("  " * d + "}")
        head = "{" if op == "query" else f"{op} {{"
        return head + "\n" + "\n".join(lines) + "\n}"

    def own_reason(self, pos: Pos, api_type: str, fname: str) -> str | None:
        """Why the subgraph at `pos` cannot take the field itself."""
        s = self.subs[pos.sub]
        coord = f"{api_type}.{fname}"
        t = s.type(pos.type)
        f = t.fields.get(fname) if t is not None else None
        if f is None:
            return f'cannot find field "{coord}"'
        if (coord, self.names[pos.sub]) in self.dropped_overridden:
            return f'cannot find field "{coord}"'
        for label, winner, loser in self.labeled.get(coord, ()):
            # graphPath.ts: the edge exists but its progressive-override condition is not met.
            if self.labels is not None and self.names[pos.sub] in (winner, loser):
                needed = self.names[pos.sub] == winner
                if self.labels[label] != needed:
                    value = "true" if self.labels[label] else "false"
                    return (f"Unable to take edge {pos.type}({s.name}) -> {named_type(f.type)}({s.name}) "
                            f'({label} = {"true" if needed else "false"} \u22a2 {fname}) because override condition '
                            f'"{label}" is {value}')
        if self.names[pos.sub] in self.overridden.get(coord, ()):
            by = self.overridden_by.get((coord, self.names[pos.sub]))
            return f'field "{coord}" is not resolvable because it is overridden by ' + (
                f'subgraph "{by}"' if by else "another subgraph")
        if self.meta[pos.sub].is_external(f) and fname not in dict(pos.provided or ()):
            return f'field "{coord}" is not resolvable because marked @external'
        contextual = any(a.has("fromContext") for a in f.args.values())
        problem = self.context_problem(pos, f, frozenset()) if contextual else None
        if problem == "unset":
            return f'could not find a match for required context for field "{coord}"'
        if problem == "key":
            return (f'@require condition on field "{coord}" can be satisfied but missing usable key on "{pos.type}" '
                    f'in subgraph "{s.name}" to resume query')
        if f.has("requires") or problem == "selection":
            # graphPath.ts warnOnKeyFieldsMarkedExternal: top-level key fields that are @external in the
            # extracted subgraph (an overridden source still used by a key is @external there too).
            external_keys: list[str] = []
            for _, sel, _ in self.keys(pos.sub, pos.type):
                for x in sel.selections if sel else ():
                    kf = t.fields.get(x.name.value) if isinstance(x, FieldNode) and t is not None else None
                    if kf is None or kf.name in external_keys:
                        continue
                    kcoord = f"{pos.type}.{kf.name}"
                    if kf.has("external") or (self.names[pos.sub] in self.overridden.get(kcoord, ())
                                              and (kcoord, self.names[pos.sub]) not in self.dropped_overridden):
                        external_keys.append(kf.name)
            note = ""
            if external_keys:
                shown = ", ".join(f'"{k}"' for k in external_keys)
                note = (f" (please ensure that this is not due to key {'field' if len(external_keys) == 1 else 'fields'}"
                        f" {shown} being accidentally marked @external)")
            return f'cannot satisfy @require conditions on field "{coord}"{note}'
        return None

    def reasons(self, pos: Pos, api_type: str, fname: str, reachable: set[int]) -> list[str]:
        """Reasons for a position the state holds: its own, then subgraphs it cannot move to."""
        s = self.subs[pos.sub]
        coord = f"{api_type}.{fname}"
        out: list[str] = []
        own = self.own_reason(pos, api_type, fname)
        if own is not None:
            out.append(own)
        # Key dead ends first; subgraphs with the field but no usable key come last (graphPath.ts
        # appends them after collecting the dead ends).
        unreachable: list[str] = []
        for i, other in enumerate(self.subs):
            if i == pos.sub:
                continue
            if i in reachable:
                # graphPath.ts tries the key edges in order: those failing before one succeeds are dead ends.
                for fields, sel, r in self.keys(i, pos.type):
                    if not r:
                        continue
                    # The condition may not be resolved through the target itself (addDestinationExclusion).
                    if sel is not None and self.can_fetch(pos, sel, frozenset({(i, pos.type)})):
                        break
                    shown = print_selection(sel) if sel is not None else fields
                    out.append(f'cannot move to subgraph "{other.name}" using @key(fields: "{shown}") of '
                               f'"{pos.type}", the key field(s) cannot be resolved from subgraph "{s.name}"')
                continue
            # graphPath.ts lists every other subgraph whose schema has the field (an @external
            # declaration counts: it is in the subgraph Apollo extracts from the supergraph).
            at = other.type(api_type)
            of = at.fields.get(fname) if at is not None and at.kind in (OBJECT, INTERFACE) else None
            has_field = of is not None and (coord, self.names[i]) not in self.dropped_overridden
            ot = other.type(pos.type)
            if ot is None:
                # Key jumps to an @interfaceObject stand-in of an interface the type implements.
                mt = self.sg.types.get(pos.type)
                reached_stand_ins = {(j.sub, j.type) for j in self.jumps(pos)}
                for itf in mt.implements if mt is not None and mt.kind == OBJECT else []:
                    it = other.type(itf)
                    if it is None or not other.is_interface_object(it) or (i, itf) in reached_stand_ins:
                        continue
                    for fields, sel, r in self.keys(i, itf):
                        if r:
                            shown = print_selection(sel) if sel is not None else fields
                            out.append(f'cannot move to subgraph "{other.name}" using @key(fields: "{shown}") of '
                                       f'"{pos.type}", the key field(s) cannot be resolved from subgraph "{s.name}"')
                if has_field:
                    unreachable.append(f'cannot move to subgraph "{other.name}", which has field "{coord}", because interface '
                               f'"{pos.type}" is not defined in this subgraph (to jump to "{other.name}", it would need '
                               f'to both define interface "{pos.type}" and have a @key on it)')
                continue
            keys = self.keys(i, pos.type)
            if not has_field and not any(r for _, _, r in keys):
                continue
            kind = "type" if pos.type == api_type else "interface"
            if not keys:
                unreachable.append(f'cannot move to subgraph "{other.name}", which has field "{coord}", because {kind} '
                           f'"{pos.type}" has no @key defined in subgraph "{other.name}"')
            elif not any(r for _, _, r in keys):
                unreachable.append(f'cannot move to subgraph "{other.name}", which has field "{coord}", because none of the @key '
                           f'defined on {kind} "{pos.type}" in subgraph "{other.name}" are resolvable (they are all '
                           'declared with their "resolvable" argument set to false)')
            else:
                for fields, sel, r in keys:
                    if r:
                        fields = print_selection(sel) if sel is not None else fields
                        note = ""
                        if sel is not None and any(
                                isinstance(x, FieldNode) and s.name in self.overridden.get(f"{pos.type}.{x.name.value}", ())
                                for x in sel.selections):
                            note = f' (note that some of those key fields are overridden in "{s.name}")'
                        out.append(f'cannot move to subgraph "{other.name}" using @key(fields: "{fields}") of '
                                   f'"{pos.type}", the key field(s) cannot be resolved from subgraph "{s.name}"{note}')
        return out + unreachable

    def locally(self, pos: Pos, sel: SelectionSetNode) -> bool:
        """The selection is answerable in pos's subgraph alone."""
        for x in sel.selections:
            if isinstance(x, FieldNode):
                if x.name.value == "__typename":
                    continue
                f = self.field_at(pos, x.name.value)
                if f is None:
                    return False
                if x.selection_set is not None and not self.locally(self.next_pos(pos, f), x.selection_set):
                    return False
            elif isinstance(x, InlineFragmentNode):
                cond = x.type_condition.name.value if x.type_condition else pos.type
                if not self.locally(Pos(pos.sub, cond, pos.provided, pos.contexts), x.selection_set):
                    return False
        return True

    def one_hop(self, origin: Pos, target: Pos) -> bool:
        return any(r and sel is not None and self.locally(origin, sel) for _, sel, r in self.keys(target.sub, target.type))

    def used_key(self, origin: Pos, target: Pos) -> str:
        for _, sel, r in self.keys(target.sub, target.type):
            if r and sel is not None and self.can_fetch(origin, sel, frozenset()):
                return print_selection(sel)
        return next((fields for fields, _, r in self.keys(target.sub, target.type) if r), "")

    def report_interface_object(self, stuck: list[Pos], path: list[tuple[str, str]], op: str) -> None:
        witness = self.witness(path, op, composite=True)
        parts = []
        for p in sorted(stuck, key=lambda p: p.sub):
            rs = [f'no subgraph can be reached to resolve the implementation type of @interfaceObject type "{p.type}"']
            # The key jumps to the real interface that failed (graphPath.ts indirect dead ends).
            for k, other in enumerate(self.subs):
                it = other.type(p.type)
                if k == p.sub or it is None or it.kind != INTERFACE:
                    continue
                for fields, sel, r in self.keys(k, p.type):
                    if r:
                        shown = print_selection(sel) if sel is not None else fields
                        rs.append(f'cannot move to subgraph "{other.name}" using @key(fields: "{shown}") of '
                                  f'"{p.type}", the key field(s) cannot be resolved from subgraph "{self.names[p.sub]}"')
            if len(rs) == 1:
                parts.append(f'- from subgraph "{self.names[p.sub]}": {rs[0]}.')
            else:
                parts.append(f'- from subgraph "{self.names[p.sub]}":\n' + "\n".join(f"  - {r}." for r in rs))
        self.errors.append(CompositionError(
            "SATISFIABILITY_ERROR",
            f"The following supergraph API query:\n{witness}\ncannot be satisfied by the subgraphs because:\n"
            + "\n".join(parts),
            sorted({self.names[p.sub] for p in stuck})))

    def report(self, alts: frozenset[Pos], api_type: str, f: MField, path: list[tuple[str, str]], op: str) -> None:
        assert f.type is not None
        target = self.sg.types.get(named_type(f.type))
        composite = target is not None and target.kind in (OBJECT, INTERFACE, UNION)
        witness = self.witness(path, op, composite)
        parts: list[str] = []

        # Observed: when an @interfaceObject stand-in takes part, Apollo prints every group as a list.
        force_list = any(
            p.type != api_type and (t := self.subs[p.sub].type(p.type)) is not None
            and self.subs[p.sub].is_interface_object(t) for p in alts)

        def group(name: str, rs: list[str]) -> None:
            if len(rs) == 1 and not force_list:
                parts.append(f'- from subgraph "{name}": {rs[0]}.')
            else:
                parts.append(f'- from subgraph "{name}":\n' + "\n".join(f"  - {r}." for r in rs))

        listed = {p.sub for p in alts}

        def stand_in_of(p: Pos) -> bool:
            t = self.subs[p.sub].type(p.type)
            return t is not None and self.subs[p.sub].is_interface_object(t)

        def stand_in(p: Pos) -> bool:
            t = self.subs[p.sub].type(p.type)
            return p.type != api_type and t is not None and self.subs[p.sub].is_interface_object(t)

        for pos in sorted(alts, key=lambda p: (not stand_in(p), p.sub)):
            if stand_in(pos):
                rs = [f'cannot find implementation type "{api_type}" (supergraph interface "{pos.type}" is declared '
                      f'with @interfaceObject in "{self.names[pos.sub]}")']
                # graphPath.ts: subgraphs with the field that the stand-in cannot jump to.
                jumped = {j.sub for j in self.jumps(pos)}
                coord = f"{api_type}.{f.name}"
                for k, other in enumerate(self.subs):
                    at = other.type(api_type)
                    if k == pos.sub or k in jumped or at is None or f.name not in at.fields:
                        continue
                    if other.type(pos.type) is None:
                        rs.append(f'cannot move to subgraph "{other.name}", which has field "{coord}", because '
                                  f'interface "{pos.type}" is not defined in this subgraph (to jump to "{other.name}", '
                                  f'it would need to both define interface "{pos.type}" and have a @key on it)')
                    elif not any(r for _, _, r in self.keys(k, pos.type)):
                        why = (f'interface "{pos.type}" has no @key defined in subgraph "{other.name}"'
                               if not self.keys(k, pos.type) else
                               f'none of the @key defined on interface "{pos.type}" in subgraph "{other.name}" are '
                               'resolvable (they are all declared with their "resolvable" argument set to false)')
                        rs.append(f'cannot move to subgraph "{other.name}", which has field "{coord}", because {why}')
                group(self.names[pos.sub], rs)
                continue
            reached = [j for j in self.jumps(pos) if j.type == pos.type]
            reachable = {j.sub for j in reached}
            group(self.names[pos.sub], self.reasons(pos, api_type, f.name, reachable))
            # Subgraphs reached through keys: their own failure, and why not to bounce further.
            direct = {k.sub for k in reached if self.one_hop(pos, k)}
            for j in sorted(reached, key=lambda p: p.sub):
                if j.sub in listed or j.sub not in direct:
                    continue
                listed.add(j.sub)
                rs = [r for r in [self.own_reason(j, api_type, f.name)] if r is not None]
                from_j = {x.sub for x in self.jumps(Pos(j.sub, j.type, None, j.contexts)) if x.type == j.type}
                for k, other in enumerate(self.subs):
                    if k in (j.sub, pos.sub) or other.type(pos.type) is None:
                        continue
                    if k in direct:
                        rs.append(f'ignoring moving to subgraph "{other.name}" using @key(fields: '
                                  f'"{self.used_key(pos, Pos(k, pos.type))}") of "{pos.type}" because there is a more '
                                  f"direct path in {other.name} that avoids {self.names[j.sub]} altogether")
                        continue
                    of = other.type(pos.type).fields.get(f.name)  # type: ignore[union-attr]
                    if of is None or self.meta[k].is_external(of) or k in from_j:
                        continue
                    for _, sel, r in self.keys(k, pos.type):
                        if r and sel is not None:
                            rs.append(f'cannot move to subgraph "{other.name}" using @key(fields: '
                                      f'"{print_selection(sel)}") of "{pos.type}", the key field(s) cannot be resolved '
                                      f'from subgraph "{self.names[j.sub]}"')
                if rs:
                    group(self.names[j.sub], rs)
            # @interfaceObject stand-ins reached in one key hop fail on their own field (e.g. @requires).
            for j in sorted(self.jumps(pos), key=lambda p: p.sub):
                if j.type == pos.type or j.sub in listed or not stand_in_of(j) or not self.one_hop(pos, j):
                    continue
                own = self.own_reason(j, j.type, f.name)
                if own is not None and not own.startswith("cannot find field"):
                    listed.add(j.sub)
                    group(self.names[j.sub], [own])
        self.errors.append(CompositionError(
            "SATISFIABILITY_ERROR",
            f"The following supergraph API query:\n{witness}\ncannot be satisfied by the subgraphs because:\n"
            + "\n".join(parts),
            sorted({self.names[p.sub] for p in alts})))


MAX_LABELS = 4


def validate_satisfiability(
    subs: list[Subgraph], sg: Supergraph, merger: Merger, max_paths: int | None = None
) -> list[CompositionError]:
    """SATISFIABILITY_ERROR / SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES for queries no plan can answer.

    With progressive `@override` labels, every query must be answerable whichever way each label
    goes, so the walk runs once per assignment of the (few) labels.
    """
    import itertools

    limit = DEFAULT_MAX_VALIDATION_SUBGRAPH_PATHS if max_paths is None else max_paths
    labels = sorted({lab for entries in merger.labeled_overrides.values() for lab, _, _ in entries})
    try:
        if not labels or len(labels) > MAX_LABELS:
            return _Checker(subs, sg, merger, max_paths=limit).run()
        errors: list[CompositionError] = []
        seen: set[str] = set()
        for values in itertools.product((True, False), repeat=len(labels)):
            for e in _Checker(subs, sg, merger, dict(zip(labels, values, strict=True)), limit).run():
                if e.message not in seen:
                    seen.add(e.message)
                    errors.append(e)
        return errors
    except _TooManyPaths as e:
        # Apollo stops at once and reports only this error.
        return [CompositionError("MAX_VALIDATION_SUBGRAPH_PATHS_EXCEEDED",
                                 f"Maximum number of validation subgraph paths exceeded: {e.count}")]

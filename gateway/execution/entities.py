"""Entities at a Flatten path, their representations (requires projection), and rewrites."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson

from gateway.execution.merge import deep_merge
from gateway.planning.nodes import (
    LIST,
    FlattenPath,
    KeyRenamer,
    RequiresField,
    RequiresInlineFragment,
    RequiresSelection,
    Rewrite,
    TypeCondition,
    ValueSetter,
)

ResponsePath = tuple[str | int, ...]
Satisfies = Callable[[str, str], bool]
"""`satisfies(typename, condition)`: typename is condition or one of its possible types."""


class TypeMatcher:
    """Memoised type-condition checks over the supergraph's possible types (inaccessible types included)."""

    __slots__ = ("_satisfies", "_one_way", "_either_way")

    def __init__(self, satisfies: Satisfies) -> None:
        self._satisfies = satisfies
        self._one_way: dict[tuple[str, str], bool] = {}
        self._either_way: dict[tuple[str, str], bool] = {}

    def satisfies(self, typename: str, condition: str) -> bool:
        """`typename` is `condition` or a possible type of it."""
        key = (typename, condition)
        hit = self._one_way.get(key)
        if hit is None:
            hit = typename == condition or self._satisfies(typename, condition)
            self._one_way[key] = hit
        return hit

    def overlaps(self, typename: str, condition: str) -> bool:
        """The requires rule: a fragment applies when the types are related in either direction."""
        key = (typename, condition)
        hit = self._either_way.get(key)
        if hit is None:
            hit = self.satisfies(typename, condition) or self.satisfies(condition, typename)
            self._either_way[key] = hit
        return hit


def wrong_typenames(
    entities: list[dict[str, Any]], rep_index: list[int], results: list[Any], matcher: TypeMatcher
) -> list[int]:
    """Indexes of the entities whose `_entities` answer names an unrelated type: merging it would graft
    another type's fields (and `__typename`) onto the entity. Related types (an interface and its
    implementations, as with `@interfaceObject`) are fine."""
    # Nearly always every answer has a type of the entities sent: two set builds decide it.
    expected_types = {e.get("__typename") for e in entities}
    expected_types.add(None)
    if {r.get("__typename") for r in results if type(r) is dict} <= expected_types:
        return []
    wrong: list[int] = []
    for j, idx in enumerate(rep_index):
        if idx < 0:
            continue
        source = results[idx]
        if type(source) is not dict:
            continue
        got = source.get("__typename")
        if got is None:
            continue
        expected = entities[j].get("__typename")
        if expected is None or got == expected:
            continue
        if type(got) is not str or type(expected) is not str or not matcher.overlaps(got, expected):
            wrong.append(j)
    return wrong


def _expand_lists(items: list[tuple[Any, ResponsePath]]) -> list[tuple[Any, ResponsePath]]:
    """Replace lists by their non-null elements (nested lists too), keeping order."""
    if not any(type(value) is list for value, _ in items):
        return items
    out: list[tuple[Any, ResponsePath]] = []
    stack = list(reversed(items))
    while stack:
        value, path = stack.pop()
        if type(value) is list:
            for i in range(len(value) - 1, -1, -1):
                item = value[i]
                if item is not None:
                    stack.append((item, (*path, i)))
        else:
            out.append((value, path))
    return out


def collect_at_path(
    root: dict[str, Any], path: FlattenPath, matcher: TypeMatcher
) -> tuple[list[dict[str, Any]], list[ResponsePath]]:
    """The objects found at a Flatten `path` and their response paths, in document order.

    `@` iterates a list (lists are also iterated implicitly where a key is expected); a TypeCondition
    keeps objects whose `__typename` satisfies one of its types or that have no `__typename`; nulls
    and missing keys are skipped.
    """
    current: list[tuple[Any, ResponsePath]] = [(root, ())]
    for seg in path:
        if seg == LIST:
            current = _expand_lists(current)
            continue
        current = _expand_lists(current)
        nxt: list[tuple[Any, ResponsePath]] = []
        if isinstance(seg, TypeCondition):
            types = seg.types
            for value, p in current:
                if type(value) is dict:
                    tn = value.get("__typename")
                    if tn is None or any(matcher.satisfies(tn, t) for t in types):
                        nxt.append((value, p))
        else:
            for value, p in current:
                if type(value) is dict:
                    child = value.get(seg)
                    if child is not None:
                        nxt.append((child, (*p, seg)))
        current = nxt
    current = _expand_lists(current)
    entities: list[dict[str, Any]] = []
    paths: list[ResponsePath] = []
    for value, p in current:
        if type(value) is dict:
            entities.append(value)
            paths.append(p)
    return entities, paths


def _dicts_in(value: list[Any], out: list[dict[str, Any]]) -> None:
    """Append the objects of `value` to `out`, in order, looking into nested lists."""
    for item in value:
        if type(item) is dict:
            out.append(item)
        elif type(item) is list:
            _dicts_in(item, out)


_Step = str | tuple[str, ...]
# A compiled path: its steps, and the key of each prefix (steps[:k + 1]) for a request's memo.
_CompiledPath = tuple[tuple[_Step, ...], tuple[tuple[_Step, ...], ...]]
_COMPILED_PATHS: dict[FlattenPath, _CompiledPath] = {}
_COMPILED_PATHS_MAX = 4096

CollectMemo = dict[tuple[_Step, ...], list[dict[str, Any]]]
"""Objects found at path prefixes in one request; valid until the data changes (a merge clears it)."""


def _compile_path(path: FlattenPath) -> _CompiledPath:
    """The path as steps over lists of objects: a key, or the types of a TypeCondition; `@` drops out.

    Lists are iterated wherever they are met (and only objects survive a step: nulls, scalars and
    missing keys are skipped), so an explicit `@` adds nothing to a walk that keeps objects only.
    """
    compiled = _COMPILED_PATHS.get(path)
    if compiled is None:
        steps = tuple(seg.types if isinstance(seg, TypeCondition) else seg for seg in path if seg != LIST)
        compiled = (steps, tuple(steps[: k + 1] for k in range(len(steps))))
        if len(_COMPILED_PATHS) >= _COMPILED_PATHS_MAX:
            _COMPILED_PATHS.clear()
        _COMPILED_PATHS[path] = compiled
    return compiled


def collect_entities(
    root: dict[str, Any], path: FlattenPath, matcher: TypeMatcher, memo: CollectMemo | None = None
) -> list[dict[str, Any]]:
    """The objects at a Flatten `path`, in document order (as `collect_at_path`, without their paths).

    This runs for every Flatten of every request, so it builds no response paths: they are only
    needed to place errors, and `collect_at_path` recomputes them then. The path is compiled once.
    With `memo`, the walk starts from the longest prefix already walked and records the prefixes
    it walks; the lists returned and recorded are shared and must not be changed.
    """
    steps, prefixes = _compile_path(path)
    current: list[dict[str, Any]] = [root]
    start = 0
    if memo:
        for k in range(len(steps) - 1, -1, -1):
            found = memo.get(prefixes[k])
            if found is not None:
                if k == len(steps) - 1:
                    return found
                current = found
                start = k + 1
                break
    for k in range(start, len(steps)):
        step = steps[k]
        nxt: list[dict[str, Any]] = []
        append = nxt.append
        if type(step) is str:
            for obj in current:
                child = obj.get(step)
                if type(child) is dict:
                    append(child)
                elif type(child) is list:
                    for item in child:
                        if type(item) is dict:
                            append(item)
                        elif type(item) is list:
                            _dicts_in(item, nxt)
        else:
            verdicts: dict[str, bool] = {}
            for obj in current:
                tn = obj.get("__typename")
                if tn is not None:
                    ok = verdicts.get(tn)
                    if ok is None:
                        ok = verdicts[tn] = any(matcher.satisfies(tn, t) for t in step)
                    if not ok:
                        continue
                append(obj)
        if memo is not None:
            memo[prefixes[k]] = nxt
        if not nxt:
            return nxt
        current = nxt
    return current


class _MissingField(Exception):
    """A required field is absent: an earlier fetch failed, so this entity gets no representation."""


def _project_object(
    obj: dict[str, Any], selections: tuple[RequiresSelection, ...], matcher: TypeMatcher
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sel in selections:
        if isinstance(sel, RequiresField):
            read_key = sel.alias or sel.name
            if read_key not in obj:
                raise _MissingField(read_key)
            value = obj[read_key]
            if sel.selections and value is not None:
                value = _project_value(value, sel.selections, matcher)
            existing = out.get(sel.name)
            if type(existing) is dict and type(value) is dict:
                deep_merge(existing, value)
            else:
                out[sel.name] = value
        else:
            cond = sel.type_condition
            if cond is not None:
                tn = obj.get("__typename")
                if tn is None or not matcher.overlaps(tn, cond):
                    continue
            deep_merge(out, _project_object(obj, sel.selections, matcher))
    return out


def _project_value(value: Any, selections: tuple[RequiresSelection, ...], matcher: TypeMatcher) -> Any:
    if type(value) is dict:
        return _project_object(value, selections, matcher)
    if type(value) is list:
        return [None if v is None else _project_value(v, selections, matcher) for v in value]
    return value


def _mentions_typename(selections: tuple[RequiresSelection, ...]) -> bool:
    for sel in selections:
        if isinstance(sel, RequiresField):
            if sel.name == "__typename":
                return True
        elif _mentions_typename(sel.selections):
            return True
    return False


_ABSENT = object()
_STR: frozenset[type] = frozenset({str})
_STR_INT: frozenset[type] = frozenset({str, int})
_ANY_MATCH: tuple[type, ...] = (str,)  # markers for Projector.representations, compared by identity
_NO_MATCH: tuple[type, ...] = (float,)
_MEMO_PROBE = 16


class Projector:
    """Builds representations for one `requires` selection; compiled once per fetch.

    The common shape, one fragment of flat fields (`... on T { __typename id }`), takes a loop over
    (read key, write key) pairs; anything else walks the selection.
    """

    __slots__ = ("requires", "_typename_in_requires", "_flat_condition", "_flat_pairs", "_getter", "_write_keys")

    def __init__(self, requires: tuple[RequiresSelection, ...]) -> None:
        self.requires = requires
        self._typename_in_requires = _mentions_typename(requires)
        self._flat_pairs: tuple[tuple[str, str], ...] | None = None
        self._flat_condition: str | None = None
        # representations(): reads the flat fields in one C call (itemgetter), two fields or more.
        self._getter: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
        self._write_keys: tuple[str, ...] = ()
        if len(requires) == 1 and isinstance(requires[0], RequiresInlineFragment):
            sels = requires[0].selections
            if all(isinstance(s, RequiresField) and not s.selections for s in sels):
                pairs = tuple((s.alias or s.name, s.name) for s in sels)  # type: ignore[union-attr]
                if pairs and pairs[0] == ("__typename", "__typename"):
                    self._flat_pairs = pairs
                    self._flat_condition = requires[0].type_condition
                    if len(pairs) >= 2:
                        self._getter = itemgetter(*(read for read, _ in pairs))
                        self._write_keys = tuple(write for _, write in pairs)

    def representations(
        self, entities: list[dict[str, Any]], matcher: TypeMatcher, rewrites: tuple[Rewrite, ...] = ()
    ) -> tuple[list[int], list[bytes]]:
        """(index of each entity's representation, or -1 for none; the distinct representations as
        JSON): `project`, then `rewrites`, then `orjson.dumps` per entity, deduplicated by those bytes.

        Flat selections also remember the field values they have seen (in one C call, itemgetter):
        an entity whose values equal an earlier one's takes its index without projecting and dumping
        again. Only strings and ints are remembered, and a match with ints in it must have the same
        types (1 == True == 1.0 in Python, not in JSON); the memo is dropped after _MEMO_PROBE
        entities with no repeat, so that lists of distinct entities pay almost nothing for it.
        """
        getter = self._getter
        project = self.project
        dumps = orjson.dumps
        # values -> [index, the values, what a match must check: None until the first match, then
        # _ANY_MATCH (all strings), their types (strings and ints), or _NO_MATCH]
        by_values: dict[Any, list[Any]] = {}
        index_of: dict[bytes, int] = {}
        reps: list[bytes] = []
        rep_index: list[int] = []
        append = rep_index.append
        remember = getter is not None
        probe = _MEMO_PROBE
        hit = False
        values: Any = None
        for entity in entities:
            if remember:
                try:
                    values = getter(entity)  # type: ignore[misc]
                    seen = by_values.get(values)
                except (KeyError, TypeError):  # a field absent (no representation), or an unhashable value
                    seen = None
                    values = None
                if seen is not None:
                    check = seen[2]
                    if check is None:
                        kinds = tuple(map(type, seen[1]))
                        check = seen[2] = (
                            _ANY_MATCH if _STR.issuperset(kinds) else kinds if _STR_INT.issuperset(kinds) else _NO_MATCH
                        )
                    if check is _ANY_MATCH or (check is not _NO_MATCH and tuple(map(type, values)) == check):
                        append(seen[0])
                        hit = True
                        continue
            rep = project(entity, matcher)
            idx: int | None
            if rep is None:
                idx = -1
            else:
                if rewrites:
                    apply_rewrites(rep, rewrites, matcher)
                key = dumps(rep)
                idx = index_of.get(key)
                if idx is None:
                    idx = index_of[key] = len(reps)
                    reps.append(key)
            append(idx)
            if remember:
                if values is not None and seen is None:
                    by_values[values] = [idx, values, None]
                probe -= 1
                if not probe and not hit:
                    remember = False
        return rep_index, reps

    def project(self, entity: dict[str, Any], matcher: TypeMatcher) -> dict[str, Any] | None:
        """The representation of `entity`, `__typename` first; None when it cannot be built.

        None when the entity has no `__typename`, a required field is absent (an earlier fetch failed),
        or no fragment of the selection applies to its type.
        """
        typename = entity.get("__typename")
        if typename is None:
            return None
        pairs = self._flat_pairs
        if pairs is not None:
            cond = self._flat_condition
            if cond is not None and cond != typename and not matcher.overlaps(typename, cond):
                return None
            rep: dict[str, Any] = {}
            for read_key, write_key in pairs:
                value = entity.get(read_key, _ABSENT)
                if value is _ABSENT:
                    return None
                rep[write_key] = value
            return rep
        try:
            rep = _project_object(entity, self.requires, matcher)
        except _MissingField:
            return None
        if next(iter(rep), None) != "__typename":
            if "__typename" not in rep and self._typename_in_requires:
                return None  # the selection asks for __typename, but nothing applied to this type
            rep.pop("__typename", None)
            rep = {"__typename": typename, **rep}
        return rep


def project_representation(
    entity: dict[str, Any], requires: tuple[RequiresSelection, ...], matcher: TypeMatcher
) -> dict[str, Any] | None:
    """`Projector(requires).project(entity, matcher)`, for one-off use."""
    return Projector(requires).project(entity, matcher)


def apply_rewrites(value: Any, rewrites: tuple[Rewrite, ...], matcher: TypeMatcher) -> None:
    """Apply ValueSetters / KeyRenamers in place; `... on T` path segments guard on `__typename`."""
    for rewrite in rewrites:
        _apply_rewrite(value, rewrite, 0, matcher)


def _apply_rewrite(value: Any, rewrite: Rewrite, index: int, matcher: TypeMatcher) -> None:
    if type(value) is list:
        for item in value:
            _apply_rewrite(item, rewrite, index, matcher)
        return
    if type(value) is not dict:
        return
    path = rewrite.path
    if index >= len(path):
        return
    seg = path[index]
    if seg.startswith("... on "):
        tn = value.get("__typename")
        if tn is not None and matcher.satisfies(tn, seg[7:]):
            _apply_rewrite(value, rewrite, index + 1, matcher)
        return
    if index < len(path) - 1:
        _apply_rewrite(value.get(seg), rewrite, index + 1, matcher)
        return
    if isinstance(rewrite, ValueSetter):
        value[seg] = rewrite.set_value_to
    elif isinstance(rewrite, KeyRenamer) and seg in value:
        value[rewrite.rename_key_to] = value.pop(seg)

"""Entities at Flatten paths, representation projection, rewrites, and deep merge."""

from __future__ import annotations

import orjson
from graphql import build_schema
from shop import FakeSupergraph

from gateway.execution import (
    Projector,
    TypeMatcher,
    apply_rewrites,
    collect_at_path,
    collect_entities,
    deep_merge,
    merge_entities,
    project_representation,
)
from gateway.planning.nodes import (
    LIST,
    KeyRenamer,
    RequiresField,
    RequiresInlineFragment,
    TypeCondition,
    ValueSetter,
)

SCHEMA = build_schema(
    """
    type Query { media: [Media] }
    interface Media { id: ID! }
    type Book implements Media { id: ID! title: String }
    type Movie implements Media { id: ID! title: String }
    """
)
# `Secret` is an @inaccessible implementation: absent from the API schema, known to the supergraph.
MATCHER = TypeMatcher(FakeSupergraph(SCHEMA, {}, {"Media": {"Secret"}}).satisfies)


def test_collect_iterates_lists_skips_nulls_and_filters_types():
    data = {
        "media": [
            {"__typename": "Book", "id": "1"},
            None,
            {"__typename": "Movie", "id": "2"},
            {"id": "3"},
            [{"__typename": "Book", "id": "4"}],
        ]
    }
    entities, paths = collect_at_path(data, ("media", LIST, TypeCondition(("Book",))), MATCHER)
    assert [e["id"] for e in entities] == ["1", "3", "4"]
    assert paths == [("media", 0), ("media", 3), ("media", 4, 0)]
    assert collect_at_path({"media": None}, ("media", LIST), MATCHER) == ([], [])
    assert collect_at_path({}, ("a", "b"), MATCHER) == ([], [])


def test_representation_typename_first_fragments_and_aliases():
    requires = (
        RequiresInlineFragment(
            "Media",
            (
                RequiresField("id"),
                RequiresField("__typename"),
                RequiresField("title", alias="_internal_qp_alias_0"),
            ),
        ),
        RequiresInlineFragment("Movie", (RequiresField("director"),)),
    )
    entity = {"__typename": "Book", "id": "1", "_internal_qp_alias_0": "T", "title": "wrong", "x": 1}
    rep = project_representation(entity, requires, MATCHER)
    assert orjson.dumps(rep) == b'{"__typename":"Book","id":"1","title":"T"}'


def test_representation_skipped_without_typename_or_with_missing_field():
    requires = (RequiresInlineFragment("Book", (RequiresField("__typename"), RequiresField("id"))),)
    assert project_representation({"id": "1"}, requires, MATCHER) is None
    assert project_representation({"__typename": "Book"}, requires, MATCHER) is None
    # A null value is kept: only an absent key means an earlier fetch failed.
    assert project_representation({"__typename": "Book", "id": None}, requires, MATCHER) == {
        "__typename": "Book",
        "id": None,
    }


def test_inline_fragment_applies_in_either_direction_and_for_inaccessible_types():
    nested = (
        RequiresField("__typename"),
        RequiresField("items", selections=(RequiresInlineFragment("Book", (RequiresField("title"),)),)),
    )
    entity = {
        "__typename": "Secret",
        "items": [{"__typename": "Book", "title": "B"}, {"__typename": "Movie", "title": "M"}, None],
    }
    requires = (RequiresInlineFragment("Media", nested),)
    assert project_representation(entity, requires, MATCHER) == {
        "__typename": "Secret",
        "items": [{"title": "B"}, {}, None],
    }
    # Entity typed by the interface, fragment on an implementation: applies (either direction).
    entity = {"__typename": "Media", "id": "1"}
    requires = (RequiresInlineFragment("Book", (RequiresField("__typename"), RequiresField("id"))),)
    assert project_representation(entity, requires, MATCHER) == {"__typename": "Media", "id": "1"}


def test_rewrites():
    rep = {"__typename": "Book", "id": "1"}
    apply_rewrites(rep, (ValueSetter(("... on Book", "__typename"), "Media"),), MATCHER)
    assert rep == {"__typename": "Media", "id": "1"}
    movie = {"__typename": "Movie", "id": "2"}
    apply_rewrites(movie, (ValueSetter(("... on Book", "__typename"), "Media"),), MATCHER)
    assert movie["__typename"] == "Movie"
    results = [{"__typename": "Book", "_internal_qp_alias_0": "x"}, None, {"__typename": "Movie", "_internal_qp_alias_0": "y"}]
    apply_rewrites(results, (KeyRenamer(("... on Book", "_internal_qp_alias_0"), "id"),), MATCHER)
    assert results == [{"__typename": "Book", "id": "x"}, None, {"__typename": "Movie", "_internal_qp_alias_0": "y"}]


def test_deep_merge():
    target = {"a": {"x": 1, "l": [{"p": 1}, {"p": 2}]}, "__typename": "Media", "n": [[{"q": 1}]]}
    deep_merge(target, {"a": {"y": 2, "l": [{"r": 1}, None]}, "__typename": "Book", "n": [[{"s": 2}]], "new": None})
    assert target == {
        "a": {"x": 1, "l": [{"p": 1, "r": 1}, None], "y": 2},
        "__typename": "Book",
        "n": [[{"q": 1, "s": 2}]],
        "new": None,
    }
    deep_merge(target, None)
    deep_merge(target, {"a": {"l": [1]}})
    assert target["a"]["l"] == [1]
    # At the top level too: lists of objects element by element, other mismatches overwrite.
    target = {"l": [{"p": 1}, None, 3], "m": [1, 2], "s": "x", "d": {"k": 1}}
    deep_merge(target, {"l": [{"q": 2}, {"q": 3}, [4]], "m": [3], "s": {"o": 1}, "d": "y"})
    assert target == {"l": [{"p": 1, "q": 2}, {"q": 3}, [4]], "m": [3], "s": {"o": 1}, "d": "y"}


def test_entity_whose_type_no_fragment_matches_gets_no_representation():
    flat = (RequiresInlineFragment("Book", (RequiresField("__typename"), RequiresField("id"))),)
    nested = (
        RequiresInlineFragment(
            "Book", (RequiresField("__typename"), RequiresField("author", selections=(RequiresField("name"),)))
        ),
    )
    movie = {"__typename": "Movie", "id": "2", "author": {"name": "x"}}
    assert project_representation(movie, flat, MATCHER) is None
    assert project_representation(movie, nested, MATCHER) is None
    book = {"__typename": "Book", "id": "1", "author": {"name": "x"}}
    assert project_representation(book, nested, MATCHER) == {"__typename": "Book", "author": {"name": "x"}}


def test_collect_entities_matches_collect_at_path():
    data = {
        "media": [
            {"__typename": "Book", "id": "1", "tags": [[{"k": 1}, None], [{"k": 2}]]},
            None,
            {"__typename": "Movie", "id": "2", "tags": [{"k": 3}]},
            {"id": "3"},
            [{"__typename": "Book", "id": "4"}],
            "scalar",
            [[{"__typename": "Movie", "id": "5", "tags": "not a list"}, 7], None],
        ],
        "one": {"__typename": "Book", "tags": [{"k": 4}]},
    }
    for path in [
        (),
        ("one",),
        ("one", LIST, "tags"),
        ("one", TypeCondition(("Movie",))),
        ("media",),
        ("media", TypeCondition(("Media",)), "tags", LIST),
        ("media", LIST, "id"),
        ("media", LIST),
        ("media", LIST, TypeCondition(("Book",))),
        ("media", LIST, "tags", LIST, LIST),
        ("media", "tags", LIST),
        ("media", TypeCondition(("Movie",)), "tags"),
        ("nothing", LIST),
    ]:
        entities, _ = collect_at_path(data, path, MATCHER)
        fast = collect_entities(data, path, MATCHER)
        assert len(fast) == len(entities) and all(a is b for a, b in zip(fast, entities, strict=True)), path


def _reference_representations(projector, entities, rewrites=()):
    """What Projector.representations must give: project, rewrite and dump each entity, dedup by bytes."""
    index_of: dict[bytes, int] = {}
    reps: list[bytes] = []
    rep_index: list[int] = []
    for entity in entities:
        rep = projector.project(entity, MATCHER)
        if rep is None:
            rep_index.append(-1)
            continue
        apply_rewrites(rep, rewrites, MATCHER)
        key = orjson.dumps(rep)
        rep_index.append(index_of.setdefault(key, len(reps)))
        if rep_index[-1] == len(reps):
            reps.append(key)
    return rep_index, reps


def test_representations_dedup_by_json_not_by_python_equality():
    flat = Projector((RequiresInlineFragment("Book", (RequiresField("__typename"), RequiresField("id"))),))
    entities = [
        {"__typename": "Book", "id": "1"},
        {"__typename": "Book", "id": "1", "title": "other fields do not matter"},
        {"__typename": "Book", "id": 1},
        {"__typename": "Book", "id": True},  # == 1 in Python, but not the same representation
        {"__typename": "Book", "id": 1.0},
        {"__typename": "Book", "id": 0.0},
        {"__typename": "Book", "id": -0.0},
        {"__typename": "Book", "id": None},
        {"__typename": "Book", "id": ["a"]},  # unhashable
        {"__typename": "Book", "id": ["a"]},
        {"__typename": "Book"},  # a required field absent
        {"id": "1"},  # no __typename
        {"__typename": "Movie", "id": "1"},  # no fragment applies
        {"__typename": "Movie", "id": "1"},
        {"__typename": "Book", "id": "1"},
        {"__typename": "Book", "id": True},
    ]
    got = flat.representations(entities, MATCHER)
    assert got == _reference_representations(flat, entities)
    assert got[0][:4] == [0, 0, 1, 2]
    # With a rewrite (applied before dumping) and with more distinct entities than the memo's probe.
    rewrites = (ValueSetter(("__typename",), "Media"),)
    many = [{"__typename": "Book", "id": str(i % 50)} for i in range(200)]
    distinct = [{"__typename": "Book", "id": str(i)} for i in range(100)] + many
    ints = [{"__typename": "Book", "id": i % 3} for i in range(40)] + [
        {"__typename": "Book", "id": True},
        {"__typename": "Book", "id": 1.0},
        {"__typename": "Book", "id": 1},
    ]
    for batch in (entities, many, distinct, ints):
        assert flat.representations(batch, MATCHER, rewrites) == _reference_representations(flat, batch, rewrites)
        assert flat.representations(batch, MATCHER) == _reference_representations(flat, batch)


def test_collect_entities_memo_reuses_prefixes_until_cleared():
    data = {"media": [{"__typename": "Book", "id": "1", "tags": [{"k": 1}]}, {"__typename": "Movie", "id": "2"}]}
    memo: dict = {}
    books = collect_entities(data, ("media", LIST, TypeCondition(("Book",))), MATCHER, memo)
    assert [b["id"] for b in books] == ["1"]
    # A longer path starts from the memoised prefix; the same path returns the same objects.
    tags = collect_entities(data, ("media", LIST, TypeCondition(("Book",)), "tags", LIST), MATCHER, memo)
    assert tags == [{"k": 1}] and tags[0] is data["media"][0]["tags"][0]
    assert collect_entities(data, ("media", LIST, TypeCondition(("Book",))), MATCHER, memo) == books
    # The data changes: the executor clears the memo before every merge.
    data["media"].append({"__typename": "Book", "id": "3"})
    memo.clear()
    again = collect_entities(data, ("media", LIST, TypeCondition(("Book",))), MATCHER, memo)
    assert [b["id"] for b in again] == ["1", "3"]
    assert again == collect_entities(data, ("media", LIST, TypeCondition(("Book",))), MATCHER)


def test_merge_entities_is_deep_merge_per_entity():
    def entities():
        return [{"__typename": "A", "id": str(i), "l": [{"p": i}], "o": {"k": i}} for i in range(4)]

    results = [{"__typename": "B", "l": [{"q": 1}], "o": {"m": 2}, "n": None}, None, {}, [1]]
    rep_index = [0, -1, 1, 3]
    expected = entities()
    for entity, idx in zip(expected, rep_index, strict=True):
        if idx >= 0 and type(results[idx]) is dict:
            deep_merge(entity, results[idx])
    got = entities()
    merge_entities(got, rep_index, results)
    assert got == expected
    assert got[0] == {"__typename": "B", "id": "0", "l": [{"p": 0, "q": 1}], "o": {"k": 0, "m": 2}, "n": None}

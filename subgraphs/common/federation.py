"""Our federation layer on top of ariadne's `make_federated_schema`.

ariadne 1.1.1 gets three things wrong for us, so we replace two resolvers:
- `_service.sdl` is ariadne's re-print of the SDL with directive definitions purged; we answer
  with the SDL file's text verbatim (`schema/<name>.graphql` is the one source of truth).
- `_entities` raises TypeError for an entity interface and resolves one representation at a
  time; ours groups representations by `__typename`, hands each group to one batched loader,
  accepts interfaces (the loader returns the concrete `__typename`) and reports unknown
  types as a GraphQL error with a code instead of a crash.
- federation versions past v2.6 and `@override(label:)` are unknown to it: our SDLs use v2.3.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ariadne import SchemaBindable
from ariadne.contrib.federation import make_federated_schema
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from subgraphs.common.errors import BAD_USER_INPUT, SubgraphError

Representation = dict[str, Any]
#: Resolves a batch of representations of one type; returns one value (or None) per input, in order.
EntityLoader = Callable[[list[Representation]], Awaitable[Sequence[dict[str, Any] | None]]]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


def load_sdl(name: str) -> str:
    """The text of `schema/<name>.graphql`."""
    return (SCHEMA_DIR / f"{name}.graphql").read_text(encoding="utf-8")


def make_subgraph_schema(
    sdl: str,
    bindables: Sequence[SchemaBindable],
    entity_loaders: Mapping[str, EntityLoader],
) -> GraphQLSchema:
    """An executable federated schema whose `_service` and `_entities` are ours."""
    schema = make_federated_schema(sdl, *bindables)
    query = schema.query_type
    assert query is not None
    query.fields["_service"].resolve = lambda *_args, **_kwargs: {"sdl": sdl}
    if "_entities" in query.fields:
        query.fields["_entities"].resolve = _EntitiesResolver(schema, entity_loaders)
    return schema


async def _echo(representations: list[Representation]) -> list[dict[str, Any] | None]:
    # An entity whose fields all come from the representation (or from field resolvers).
    return [dict(r) for r in representations]


class _EntitiesResolver:
    def __init__(self, schema: GraphQLSchema, loaders: Mapping[str, EntityLoader]) -> None:
        self._schema = schema
        self._loaders = dict(loaders)
        for name in self._loaders:
            if not isinstance(schema.get_type(name), GraphQLObjectType | GraphQLInterfaceType):
                raise ValueError(f"entity loader for {name!r}, which is not an object or interface type")

    async def __call__(
        self, _root: Any, _info: GraphQLResolveInfo, representations: list[Representation]
    ) -> list[dict[str, Any] | None]:
        groups: dict[str, list[int]] = {}
        for index, rep in enumerate(representations):
            typename = rep.get("__typename") if isinstance(rep, dict) else None
            if not isinstance(typename, str):
                raise SubgraphError(BAD_USER_INPUT, f"representation #{index} has no __typename")
            if not self._is_entity(typename):
                raise SubgraphError(BAD_USER_INPUT, f"{typename!r} is not an entity of this subgraph")
            groups.setdefault(typename, []).append(index)

        names = list(groups)
        batches = await asyncio.gather(
            *(self._loaders.get(name, _echo)([representations[i] for i in groups[name]]) for name in names)
        )
        result: list[dict[str, Any] | None] = [None] * len(representations)
        for name, batch in zip(names, batches, strict=True):
            for index, value in zip(groups[name], batch, strict=True):
                if value is not None:
                    value = dict(value)
                    # An interface loader names the concrete type itself.
                    value.setdefault("__typename", name)
                result[index] = value
        return result

    def _is_entity(self, typename: str) -> bool:
        if typename in self._loaders:
            return True
        type_ = self._schema.get_type(typename)
        entity_union = self._schema.get_type("_Entity")
        return isinstance(type_, GraphQLObjectType) and type_ in getattr(entity_union, "types", ())

"""`fedgate check`: classify the API-schema changes between an old supergraph and a new composition."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import GraphQLSchema, find_schema_changes
from graphql.utilities import BreakingChangeType, DangerousChangeType

from .api_schema import api_schema

BREAKING, DANGEROUS, SAFE = "breaking", "dangerous", "safe"


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One API-schema change: its class, graphql-core's change code, a message and the coordinate involved."""

    severity: str
    code: str
    message: str
    coordinate: str | None


_FIELD_COORD = re.compile(r"\b([A-Za-z_]\w*\.[A-Za-z_]\w*)")
_TYPE_COORD = re.compile(r"(?:[Tt]ype|interface) ([A-Za-z_]\w*)")
_LEADING = re.compile(r"^([A-Za-z_]\w*) (?:changed|no longer)")


def _coordinate(message: str) -> str | None:
    """The schema coordinate a graphql-core change message is about (`Type.field` or `Type`)."""
    for rx in (_FIELD_COORD, _LEADING, _TYPE_COORD):
        m = rx.search(message)
        if m:
            return m.group(1)
    return None


def diff_api_schemas(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Every change from `old` to `new`, each classified breaking / dangerous / safe."""
    out: list[SchemaChange] = []
    for c in find_schema_changes(old, new):
        if isinstance(c.type, BreakingChangeType):
            severity = BREAKING
        elif isinstance(c.type, DangerousChangeType):
            severity = DANGEROUS
        else:
            severity = SAFE
        out.append(SchemaChange(severity, c.type.name, c.description, _coordinate(c.description)))
    order = {BREAKING: 0, DANGEROUS: 1, SAFE: 2}
    return sorted(out, key=lambda c: order[c.severity])


def diff_supergraphs(old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """Compare the API schemas of two supergraph SDLs."""
    return diff_api_schemas(api_schema(old_sdl), api_schema(new_sdl))

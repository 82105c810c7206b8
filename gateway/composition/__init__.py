"""Composition: subgraph SDLs -> supergraph SDL, or `CompositionError(code, message, subgraphs, locations)`."""

from .api_schema import api_schema
from .check import SchemaChange, diff_supergraphs
from .compose import SubgraphInput, compose
from .errors import CompositionError, CompositionHint, CompositionResult, SourceLocation

__all__ = [
    "CompositionError",
    "CompositionHint",
    "CompositionResult",
    "SchemaChange",
    "SourceLocation",
    "SubgraphInput",
    "api_schema",
    "compose",
    "diff_supergraphs",
]

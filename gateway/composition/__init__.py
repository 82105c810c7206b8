"""Composition: subgraph SDLs -> supergraph SDL, or `CompositionError(code, message, subgraphs, locations)`."""

from .compose import SubgraphInput, compose
from .errors import CompositionError, CompositionHint, CompositionResult

__all__ = ["CompositionError", "CompositionHint", "CompositionResult", "SubgraphInput", "compose"]

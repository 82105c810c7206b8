"""Federation 1 subgraphs upgraded to federation 2 semantics (internals-js/src/schemaUpgrader.ts)."""

from __future__ import annotations

from .errors import CompositionError
from .subgraph import Subgraph


def upgrade_fed1(subs: list[Subgraph]) -> list[CompositionError]:
    for s in subs:
        if not s.fed2:
            s.links.fed2 = True
            s.links.upgraded = True
    return []

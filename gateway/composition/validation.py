"""Subgraph validation rules (federation.ts FederationBlueprint.onValidation)."""

from __future__ import annotations

from .errors import CompositionError
from .subgraph import Subgraph


def validate_subgraph(sub: Subgraph, pre_upgrade: bool = False) -> list[CompositionError]:
    return []

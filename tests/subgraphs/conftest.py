"""These tests assert on seeded rows, so they get a stack of their own rather than the session's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="package")
def subgraphs(
    tmp_path_factory: pytest.TempPathFactory, subgraph_stack_factory: Callable[[Path], dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The three subgraphs on freshly seeded databases, shared by tests/subgraphs only."""
    stack = subgraph_stack_factory(tmp_path_factory.mktemp("subgraphs-seeded"))
    yield stack
    for proc in reversed(list(stack.values())):
        proc.stop()

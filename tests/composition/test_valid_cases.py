"""Hand-written valid compositions covering merge rules the audit suites do not reach.

`tests/fixtures/composition/valid/<case>/`: `subgraphs.json` and Apollo's `supergraph.graphql`
(recorded once from @apollo/composition 2.14.0).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.composition import SubgraphInput, compose

from .normalize import api_schema, normalize

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "composition" / "valid"
CASES = sorted(p.name for p in VALID.iterdir() if (p / "supergraph.graphql").exists())


def _compose(case: str) -> str:
    subgraphs = json.loads((VALID / case / "subgraphs.json").read_text())
    result = compose([SubgraphInput(s["name"], s["url"], s["sdl"]) for s in subgraphs])
    assert not result.errors, [e.to_dict() for e in result.errors]
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


@pytest.mark.parametrize("case", CASES)
def test_semantically_equal_to_apollo(case: str) -> None:
    ours = _compose(case)
    apollo = (VALID / case / "supergraph.graphql").read_text()
    assert api_schema(ours) == api_schema(apollo)
    assert normalize(ours) == normalize(apollo)


@pytest.mark.parametrize("case", CASES)
def test_byte_identical_to_apollo(case: str) -> None:
    assert _compose(case) == (VALID / case / "supergraph.graphql").read_text()

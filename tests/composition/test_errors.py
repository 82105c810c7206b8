"""Broken subgraph sets: composition must fail with the error codes @apollo/composition gives.

Each case is `tests/fixtures/composition/errors/<case>/subgraphs.json` (and, rarely, `options.json`:
composition options such as `maxValidationSubgraphPaths`) with the oracle's answer in
`expected.json` (`codes`: the multiset of codes; `errors`: code and message, recorded once from
@apollo/composition 2.14.0).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.composition import SubgraphInput, compose

CASES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "composition" / "errors"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "expected.json").exists())


def _run(case: str) -> tuple[list[str], list[str]]:
    subgraphs = json.loads((CASES_DIR / case / "subgraphs.json").read_text())
    # `options.json` holds composeServices options the case was recorded with.
    options_file = CASES_DIR / case / "options.json"
    options = json.loads(options_file.read_text()) if options_file.exists() else {}
    result = compose([SubgraphInput(s["name"], s["url"], s["sdl"]) for s in subgraphs],
                     max_validation_subgraph_paths=options.get("maxValidationSubgraphPaths"))
    assert result.supergraph_sdl is None, "composition should fail"
    return [e.code for e in result.errors], [e.message for e in result.errors]


def test_enough_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_error_codes_match_apollo(case: str) -> None:
    expected = json.loads((CASES_DIR / case / "expected.json").read_text())
    codes, _ = _run(case)
    assert Counter(codes) == Counter(expected["codes"])


@pytest.mark.parametrize("case", CASES)
def test_error_messages_match_apollo(case: str) -> None:
    expected = json.loads((CASES_DIR / case / "expected.json").read_text())
    _, messages = _run(case)
    assert sorted(messages) == sorted(e["message"] for e in expected["errors"])

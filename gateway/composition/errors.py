"""Composition errors and hints: Apollo's codes, the subgraphs involved and source locations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where in a subgraph's SDL an error points (1-based line and column)."""

    subgraph: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.subgraph}:{self.line}:{self.column}"


class CompositionError(Exception):
    """One composition error with Apollo's stable `code` (e.g. `INVALID_FIELD_SHARING`)."""

    def __init__(
        self,
        code: str,
        message: str,
        subgraphs: Iterable[str] = (),
        locations: Iterable[SourceLocation] = (),
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.subgraphs: tuple[str, ...] = tuple(subgraphs)
        self.locations: tuple[SourceLocation, ...] = tuple(locations)

    def __repr__(self) -> str:
        return f"CompositionError({self.code!r}, {self.message!r})"

    def to_dict(self) -> dict[str, object]:
        """The error as plain data (for `--format json` and tests)."""
        return {
            "code": self.code,
            "message": self.message,
            "subgraphs": list(self.subgraphs),
            "locations": [
                {"subgraph": loc.subgraph, "line": loc.line, "column": loc.column} for loc in self.locations],
        }


@dataclass(slots=True)
class CompositionHint:
    """A warning that never fails composition (Apollo's hints)."""

    code: str
    message: str


@dataclass(slots=True)
class CompositionResult:
    """Either `supergraph_sdl` (plus hints) or a non-empty `errors` list."""

    supergraph_sdl: str | None = None
    errors: list[CompositionError] = field(default_factory=list)
    hints: list[CompositionHint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.supergraph_sdl is not None and not self.errors


class _Collector:
    """Accumulates the errors and hints of one phase."""

    def __init__(self) -> None:
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []

    def error(self, code: str, message: str, subgraphs: Iterable[str] = ()) -> None:
        self.errors.append(CompositionError(code, message, subgraphs))

    def hint(self, code: str, message: str) -> None:
        self.hints.append(CompositionHint(code, message))

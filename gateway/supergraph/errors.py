"""The supergraph layer's one error type."""

from __future__ import annotations


class SupergraphError(Exception):
    """A supergraph that cannot be loaded; `code` is stable, `message` says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

"""The planning layer's one error type."""

from __future__ import annotations


class PlanningError(Exception):
    """An operation that cannot be planned; the whole response is `data: null` with this error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

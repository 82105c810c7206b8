"""What one request's fetches did (time, status, representations), for the explorer's plan pane.

Built only when a request asks for it (the `fedgate-expose-trace` header, allowed by config), so
the executor's hot path pays one `is None` test per plan node otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gateway.planning.nodes import FetchNode, PlanNode, iter_fetches


@dataclass(slots=True)
class FetchRecord:
    """One fetch node's outcome; times are milliseconds from the start of the request's plan run."""

    start_ms: float = 0.0
    duration_ms: float = 0.0
    ran: bool = False
    sent: bool = False
    http_status: int | None = None
    errors: int = 0
    failure: str | None = None
    representations: int | None = None


class FetchTrace:
    """Records, per fetch node (by identity), when it ran and what the subgraph answered."""

    __slots__ = ("_origin", "_records", "total_ms")

    def __init__(self) -> None:
        self._origin = time.perf_counter()
        self._records: dict[int, FetchRecord] = {}
        self.total_ms = 0.0

    def _record(self, node: FetchNode) -> FetchRecord:
        record = self._records.get(id(node))
        if record is None:
            record = self._records[id(node)] = FetchRecord()
        return record

    def begin(self, node: FetchNode) -> float:
        """Mark `node` as started; returns the start time to pass to `end`."""
        record = self._record(node)
        record.ran = True
        now = time.perf_counter()
        record.start_ms = (now - self._origin) * 1000
        return now

    def end(self, node: FetchNode, started: float) -> None:
        """Mark `node` as finished."""
        now = time.perf_counter()
        self._record(node).duration_ms = (now - started) * 1000
        self.total_ms = (now - self._origin) * 1000

    def sent(self, node: FetchNode, http_status: int, errors: int) -> None:
        """The subgraph answered `node`'s request."""
        record = self._record(node)
        record.sent = True
        record.http_status = http_status
        record.errors += errors

    def failed(self, node: FetchNode, code: str) -> None:
        """`node`'s request got no answer (transport error `code`)."""
        record = self._record(node)
        record.sent = True
        record.failure = code

    def representations(self, node: FetchNode, count: int) -> None:
        """`node` sent `count` entity representations."""
        self._record(node).representations = count

    def to_json(self, root: PlanNode | None) -> dict[str, Any]:
        """`extensions.fedgateTrace`: one entry per fetch node, in plan order (`iter_fetches`, the page's numbering)."""
        fetches: list[dict[str, Any]] = []
        for index, node in enumerate(iter_fetches(root)):
            record = self._records.get(id(node))
            entry: dict[str, Any] = {"index": index, "serviceName": node.service_name, "status": "skipped"}
            if record is not None and record.ran:
                entry.update(startMs=round(record.start_ms, 3), durationMs=round(record.duration_ms, 3))
                entry["status"] = _status(record)
                if record.http_status is not None:
                    entry["httpStatus"] = record.http_status
                if record.errors:
                    entry["errors"] = record.errors
                if record.failure is not None:
                    entry["failure"] = record.failure
                if record.representations is not None:
                    entry["representations"] = record.representations
            fetches.append(entry)
        return {"totalMs": round(self.total_ms, 3), "fetches": fetches}


def _status(record: FetchRecord) -> str:
    if record.failure is not None or (record.http_status is not None and record.http_status >= 400):
        return "failed"
    if record.errors:
        return "error"
    if not record.sent:
        # Ran without a request: every entity came from the cache, or nothing needed fetching.
        return "cached" if record.representations else "no-request"
    return "ok"

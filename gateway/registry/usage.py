"""Usage reports from gateways, and the usage-aware lowering of breaking changes.

A report (see docs/registry.md) names each operation once, by the SHA-256 of its signature, with
the schema coordinates it touches, then counts requests per (operation, client name, version).
The registry keeps each operation's coordinates once and per-minute counts per (operation,
client name, client version), for RETENTION (35 days). A breaking change
is lowered to safe when the coordinates it affects were not used by at least `min_requests`
requests in the window; otherwise the check names the operations and clients that used them.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.composition import SchemaChange

from .errors import BAD_USAGE_REPORT, RegistryError
from .store import Connection

MAX_OPERATIONS = 10_000
MAX_COUNTS = 100_000
MAX_COORDINATES = 2_000
MAX_STRING = 512
BUCKET_SECONDS = 60
RETENTION = 35 * 24 * 3600.0  # longer than the longest window a check is expected to ask for

_HASH = re.compile(r"^[0-9a-f]{8,128}$")
_COORD = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*(\([A-Za-z_]\w*:\))?)?$")


@dataclass(frozen=True, slots=True)
class ReportedOperation:
    """One operation of a report: its signature hash, name and the coordinates it touches."""

    hash: str
    name: str | None
    coordinates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportedCount:
    """Requests of one operation from one client version in the report's interval."""

    operation: str
    client_name: str | None
    client_version: str | None
    count: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    """A validated usage report."""

    operations: dict[str, ReportedOperation]
    counts: list[ReportedCount]


def _bad(message: str) -> RegistryError:
    return RegistryError(BAD_USAGE_REPORT, f"malformed usage report: {message}", 400)


def _opt_str(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise _bad(f"{where} must be a string of at most {MAX_STRING} characters or null")
    return value


def parse_report(body: Any) -> UsageReport:
    """Validate a decoded report body; raise BAD_USAGE_REPORT (400) naming the first problem."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    ops = body.get("operations")
    counts = body.get("counts")
    if not isinstance(ops, dict):
        raise _bad("`operations` must be an object keyed by operation hash")
    if not isinstance(counts, list):
        raise _bad("`counts` must be a list")
    if len(ops) > MAX_OPERATIONS or len(counts) > MAX_COUNTS:
        raise _bad(f"at most {MAX_OPERATIONS} operations and {MAX_COUNTS} counts per report")
    operations: dict[str, ReportedOperation] = {}
    for key, op in ops.items():
        if not _HASH.match(key):
            raise _bad(f"operation key {key[:80]!r} is not a hex signature hash")
        if not isinstance(op, dict):
            raise _bad(f"operations[{key}] must be an object")
        coords = op.get("coordinates")
        if not isinstance(coords, list) or len(coords) > MAX_COORDINATES:
            raise _bad(f"operations[{key}].coordinates must be a list of at most {MAX_COORDINATES}")
        for c in coords:
            if not isinstance(c, str) or len(c) > MAX_STRING or not _COORD.match(c):
                raise _bad(f"operations[{key}].coordinates has {str(c)[:80]!r}, not a schema coordinate")
        operations[key] = ReportedOperation(key, _opt_str(op.get("name"), f"operations[{key}].name"),
                                            tuple(dict.fromkeys(coords)))
    parsed: list[ReportedCount] = []
    for i, c in enumerate(counts):
        if not isinstance(c, dict):
            raise _bad(f"counts[{i}] must be an object")
        op_hash = c.get("operation")
        if not isinstance(op_hash, str) or op_hash not in operations:
            raise _bad(f"counts[{i}].operation must be a key of `operations`")
        n = c.get("count")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 < n <= 1_000_000_000:
            raise _bad(f"counts[{i}].count must be a positive integer")
        parsed.append(ReportedCount(op_hash, _opt_str(c.get("client_name"), f"counts[{i}].client_name"),
                                    _opt_str(c.get("client_version"), f"counts[{i}].client_version"), n))
    return UsageReport(operations, parsed)


def store_report(conn: Connection, variant_id: int, report: UsageReport, now: float | None = None) -> int:
    """Add a report to the variant's usage (counts summed per minute); return the requests recorded.

    Operations and their coordinates are stored once; counts older than RETENTION are pruned here."""
    now = now or time.time()
    bucket = math.floor(now / BUCKET_SECONDS) * BUCKET_SECONDS
    for op in report.operations.values():
        if conn.execute("SELECT 1 AS known FROM usage_operations WHERE variant_id = ? AND operation_hash = ?",
                        (variant_id, op.hash)):
            continue
        conn.execute("INSERT INTO usage_operations (variant_id, operation_hash, operation_name, created_at)"
                     " VALUES (?, ?, ?, ?)", (variant_id, op.hash, op.name, now))
        for coordinate in op.coordinates:
            conn.execute("INSERT INTO usage_coordinates (variant_id, coordinate, operation_hash) VALUES (?, ?, ?)",
                         (variant_id, coordinate, op.hash))
    total = 0
    for c in report.counts:
        total += c.count
        conn.execute(
            "INSERT INTO usage_counts (variant_id, bucket, operation_hash, client_name, client_version, count)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (variant_id, bucket, operation_hash, client_name, client_version)"
            " DO UPDATE SET count = usage_counts.count + excluded.count",
            (variant_id, bucket, c.operation, c.client_name or "", c.client_version or "", c.count),
        )
    conn.execute("DELETE FROM usage_counts WHERE variant_id = ? AND bucket < ?", (variant_id, now - RETENTION))
    return total


# -- usage-aware check ----------------------------------------------------------------------------

_ARG = re.compile(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*)\(([A-Za-z_]\w*):\)")
_FIELD = re.compile(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*)")
_UNION = re.compile(r"was removed from union type ([A-Za-z_]\w*)")
_IFACE = re.compile(r"^([A-Za-z_]\w*) no longer implements")
_TYPE = re.compile(r"^(?:Standard scalar )?([A-Za-z_]\w*) (?:was removed|changed from)")


def affected_coordinates(change: SchemaChange) -> tuple[str, ...]:
    """The reported coordinates whose use makes `change` break a client; () when it cannot be told."""
    code, msg = change.code, change.message
    if code.startswith("DIRECTIVE") or "@" in msg:
        return ()
    if code in ("ARG_REMOVED", "ARG_CHANGED_KIND"):
        m = _ARG.search(msg)
        return (f"{m.group(1)}.{m.group(2)}({m.group(3)}:)",) if m else ()
    if code == "REQUIRED_ARG_ADDED":
        m = _ARG.search(msg)
        return (f"{m.group(1)}.{m.group(2)}",) if m else ()
    if code == "VALUE_REMOVED_FROM_ENUM":
        # An output enum breaks a client that selects any field of that type; an input one where sent.
        m = _FIELD.search(msg)
        return (f"{m.group(1)}.{m.group(2)}", m.group(1)) if m else ()
    if code == "REQUIRED_INPUT_FIELD_ADDED":
        m = _FIELD.search(msg)
        return (m.group(1),) if m else ()
    if code in ("FIELD_REMOVED", "FIELD_CHANGED_KIND"):
        m = _FIELD.search(msg)
        return (f"{m.group(1)}.{m.group(2)}",) if m else ()
    if code == "TYPE_REMOVED_FROM_UNION":
        m = _UNION.search(msg)
        return (m.group(1),) if m else ()
    if code == "IMPLEMENTED_INTERFACE_REMOVED":
        m = _IFACE.search(msg)
        return (m.group(1),) if m else ()
    if code in ("TYPE_REMOVED", "TYPE_CHANGED_KIND"):
        m = _TYPE.search(msg)
        return (m.group(1),) if m else ()
    return ()


@dataclass(slots=True)
class Usage:
    """Who used some coordinates in the window: requests, and the operations and clients behind them."""

    requests: int = 0
    operations: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"requests": self.requests, "operations": self.operations, "clients": self.clients}


def usage_of(conn: Connection, variant_id: int, coordinates: tuple[str, ...], since: float) -> Usage:
    """Requests since `since` that touched any of `coordinates` (an operation counts once per request)."""
    if not coordinates:
        return Usage()
    marks = ", ".join("?" for _ in coordinates)
    rows = conn.execute(
        "SELECT u.operation_hash, o.operation_name, u.client_name, u.client_version, SUM(u.count) AS requests"
        " FROM usage_counts u JOIN usage_operations o"
        " ON o.variant_id = u.variant_id AND o.operation_hash = u.operation_hash"
        " WHERE u.variant_id = ? AND u.bucket >= ? AND u.operation_hash IN ("
        f"  SELECT operation_hash FROM usage_coordinates WHERE variant_id = ? AND coordinate IN ({marks}))"
        " GROUP BY u.operation_hash, o.operation_name, u.client_name, u.client_version",
        (variant_id, math.floor(since / BUCKET_SECONDS) * BUCKET_SECONDS, variant_id, *coordinates),
    )
    usage = Usage()
    ops: dict[str, dict[str, Any]] = {}
    clients: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for r in rows:
        n = int(r["requests"])
        usage.requests += n
        op = ops.setdefault(r["operation_hash"], {"name": r["operation_name"], "hash": r["operation_hash"],
                                                  "requests": 0})
        op["requests"] += n
        key = (r["client_name"] or None, r["client_version"] or None)
        client = clients.setdefault(key, {"name": key[0], "version": key[1], "requests": 0})
        client["requests"] += n
    usage.operations = sorted(ops.values(), key=lambda o: -o["requests"])
    usage.clients = sorted(clients.values(), key=lambda c: -c["requests"])
    return usage


@dataclass(frozen=True, slots=True)
class CheckedChange:
    """A change as the usage-aware check reports it: severity after usage, and the usage behind it."""

    change: SchemaChange
    severity: str
    usage: Usage | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "schema_severity": self.change.severity,
            "code": self.change.code,
            "message": self.change.message,
            "coordinate": self.change.coordinate,
        }
        if self.usage is not None:
            out["usage"] = self.usage.to_json()
        return out


def classify(
    conn: Connection, variant_id: int | None, changes: list[SchemaChange], window: float, min_requests: int,
    now: float | None = None,
) -> list[CheckedChange]:
    """Lower each breaking change nobody used (fewer than `min_requests` requests in `window` seconds)."""
    since = (now or time.time()) - window
    out: list[CheckedChange] = []
    for change in changes:
        if change.severity != "breaking":
            out.append(CheckedChange(change, change.severity, None))
            continue
        coords = affected_coordinates(change)
        if not coords or variant_id is None:
            out.append(CheckedChange(change, change.severity, None))
            continue
        usage = usage_of(conn, variant_id, coords, since)
        severity = "breaking" if usage.requests >= max(min_requests, 1) else "safe"
        out.append(CheckedChange(replace(change), severity, usage))
    order = {"breaking": 0, "dangerous": 1, "safe": 2}
    return sorted(out, key=lambda c: order.get(c.severity, 3))

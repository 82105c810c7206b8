"""API tokens: admin (everything), publish (one graph, one subgraph name), read (one graph: gateways).

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from .errors import BAD_REQUEST, FORBIDDEN, UNAUTHENTICATED, RegistryError
from .store import Connection

ADMIN, PUBLISH, READ = "admin", "publish", "read"
KINDS = (ADMIN, PUBLISH, READ)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request's token says it is."""

    kind: str
    graph: str | None = None
    subgraph: str | None = None
    label: str | None = None

    def describe(self) -> str:
        if self.kind == ADMIN:
            return "admin"
        scope = self.graph if self.subgraph is None else f"{self.graph}/{self.subgraph}"
        return f"{self.kind} token for {scope}" + (f" ({self.label})" if self.label else "")


def hash_token(token: str) -> str:
    """What the database stores for `token`."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: str) -> str:
    """A fresh random token whose prefix says its kind (e.g. `fgr_publish_...`)."""
    return f"fgr_{kind}_{secrets.token_urlsafe(24)}"


def create_token(
    conn: Connection, kind: str, graph: str | None, subgraph: str | None, label: str | None
) -> str:
    """Store a new token's hash and return the token (the only time it is seen)."""
    if kind not in (PUBLISH, READ):
        raise RegistryError(BAD_REQUEST, "`kind` must be `publish` or `read`")
    if not graph:
        raise RegistryError(BAD_REQUEST, "a token needs a `graph`")
    if kind == PUBLISH and not subgraph:
        raise RegistryError(BAD_REQUEST, "a publish token needs a `subgraph` name")
    if kind == READ and subgraph:
        raise RegistryError(BAD_REQUEST, "a read token covers a whole graph: give no `subgraph`")
    token = new_token(kind)
    conn.execute(
        "INSERT INTO tokens (token_sha256, kind, graph, subgraph, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (hash_token(token), kind, graph, subgraph, label, time.time()),
    )
    return token


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer ...` header; 401 without one."""
    if not authorization:
        raise RegistryError(UNAUTHENTICATED, "this endpoint needs a token: send `Authorization: Bearer <token>`", 401)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RegistryError(UNAUTHENTICATED, "the Authorization header must be `Bearer <token>`", 401)
    return token.strip()


def authenticate(conn: Connection, token: str, admin_sha256: str | None) -> Principal:
    """The principal a token stands for; 401 for an unknown or revoked token."""
    digest = hash_token(token)
    if admin_sha256 is not None and hmac.compare_digest(digest, admin_sha256):
        return Principal(ADMIN)
    rows = conn.execute("SELECT kind, graph, subgraph, label, revoked FROM tokens WHERE token_sha256 = ?", (digest,))
    if not rows or rows[0]["revoked"]:
        raise RegistryError(UNAUTHENTICATED, "unknown or revoked token", 401)
    row = rows[0]
    return Principal(row["kind"], row["graph"], row["subgraph"], row["label"])


def authorize(principal: Principal, action: str, graph: str | None = None, subgraph: str | None = None) -> None:
    """Raise 403 unless `principal` may do `action` (admin, publish, read, report) on graph/subgraph."""
    if principal.kind == ADMIN:
        return
    allowed = False
    if action == "read":
        allowed = principal.graph == graph
    elif action == "report":
        allowed = principal.kind == READ and principal.graph == graph
    elif action == "publish":
        allowed = principal.kind == PUBLISH and principal.graph == graph and principal.subgraph == subgraph
    if not allowed:
        what = f"{action} {graph}" + (f"/{subgraph}" if subgraph else "") if graph else action
        raise RegistryError(FORBIDDEN, f"a {principal.describe()} may not {what}", 403)

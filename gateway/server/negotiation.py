"""Content negotiation and status codes as the GraphQL-over-HTTP spec describes them.

Two response media types are served: `application/graphql-response+json` and `application/json`.
The client's `Accept` header picks one by quality value (RFC 9110), earlier entries winning ties;
`*/*`, `application/*` and a missing header mean `application/json`, which legacy clients expect.
When `Accept` names neither type (nor a wildcard) the answer is `406 Not Acceptable`.

Status codes depend on the chosen media type (spec "Status Codes", as audited by `graphql-http`):
with `application/json` every well-formed GraphQL-over-HTTP request is answered `200`, GraphQL request
errors (parse, validation, unknown operation, variable coercion) included, because a non-200 JSON
answer may come from any intermediary; with `application/graphql-response+json` those errors keep
their `4xx`, since that media type says the body is GraphQL whatever the status.
"""

from __future__ import annotations

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

_SUPPORTED = (GRAPHQL_RESPONSE_JSON, JSON)


def parse_quality_list(accept: str) -> list[tuple[float, int, str]]:
    """(quality, -position, lower-cased item) for every item of a quality-valued header (`Accept`,
    `Accept-Encoding`); a malformed `q` counts as 0."""
    out: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        out.append((q, -i, media))
    return out


def _serves(media_range: str) -> str | None:
    """The media type a range selects among the supported ones (wildcards: plain JSON)."""
    if media_range in _SUPPORTED:
        return media_range
    if media_range in ("*/*", "application/*"):
        return JSON
    return None


def choose_media_type(accept: str | None) -> str | None:
    """The response media type for an `Accept` header; None when nothing served is acceptable (406)."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for q, position, media_range in parse_quality_list(accept):
        served = _serves(media_range)
        if served is None or q <= 0:
            continue
        rank = (q, position)
        if best is None or rank > best:
            best, chosen = rank, served
    return chosen


def status_for(media_type: str, status: int, request_error: bool) -> int:
    """The HTTP status to send: GraphQL request errors answer 200 under `application/json`."""
    if request_error and media_type == JSON:
        return 200
    return status

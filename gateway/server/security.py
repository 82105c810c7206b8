"""CSRF prevention (as Apollo Router does it), the CORS allow-list, and masking of subgraph errors."""

from __future__ import annotations

import re
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.config import SecurityConfig
from gateway.errors import GraphQLErrorDict, error_dict

CSRF_ERROR = "CSRF_ERROR"
INVALID_CONTENT_TYPE_HEADER = "INVALID_CONTENT_TYPE_HEADER"
CSRF_MESSAGE = (
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a "
    "'content-type' header (with a type that is not one of application/x-www-form-urlencoded, "
    "multipart/form-data, text/plain) or provide one of the following headers: "
    "x-apollo-operation-name, apollo-require-preflight"
)
# Content types a browser may send cross-origin without a preflight.
_SIMPLE_TYPES = frozenset({b"application/x-www-form-urlencoded", b"multipart/form-data", b"text/plain"})
# Either header (any value) shows the request was made by code that a browser would have preflighted.
PREFLIGHT_HEADERS = frozenset({b"apollo-require-preflight", b"x-apollo-operation-name"})
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# `type/subtype` and `; name=value` parameters; anything else is not a MIME type.
_MIME = re.compile(rb"(%s/%s)(?: *; *%s=(?:%s|\"(?:[^\"\\]|\\.)*\"))* *" % (_TOKEN, _TOKEN, _TOKEN, _TOKEN))


def csrf_blocked(content_type: bytes | None, preflighted: bool) -> bool:
    """True for a request a browser could send cross-origin without a CORS preflight.

    As Apollo Router decides it: a content type that does not parse as a MIME type (several
    `Content-Type` headers are joined with ", " first) is not taken as proof of a preflight.
    """
    if preflighted or content_type == b"application/json":
        return False
    if content_type is None:
        return True
    parsed = _MIME.fullmatch(content_type.strip().replace(b"\t", b" "))
    return parsed is None or parsed[1].lower() in _SIMPLE_TYPES


def csrf_error() -> GraphQLErrorDict:
    return error_dict(CSRF_MESSAGE, CSRF_ERROR)


def unsupported_media_type(content_type: bytes | None) -> bool:
    """True for a POST body declared as something that is not JSON (415), e.g. `application/xml`.

    JSON types (`application/json`, `application/graphql-response+json`, any `+json`) are read;
    no type and the simple types (which pass CSRF prevention only with a preflight header) are read
    as JSON too, as before: only a type that says "this is something else" is refused.
    """
    if content_type is None or content_type == b"application/json":
        return False
    parsed = _MIME.fullmatch(content_type.strip().replace(b"\t", b" "))
    if parsed is None:
        return False  # not a MIME type at all: CSRF prevention decides, else JSON parsing does
    media = parsed[1].lower()
    return not (media == b"application/json" or media.endswith(b"+json") or media in _SIMPLE_TYPES)


def unsupported_media_type_error() -> GraphQLErrorDict:
    return error_dict(
        "'content-type' header must be one of: \"application/json\" or \"application/graphql-response+json\".",
        INVALID_CONTENT_TYPE_HEADER,
    )


def cors_middleware(config: SecurityConfig) -> list[Middleware]:
    """Starlette's CORS middleware for the allow-list; nothing when no origin is allowed."""
    cors = config.cors
    if not cors.allow_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,  # type: ignore[arg-type]
            allow_origins=cors.allow_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=cors.allow_headers,
            allow_credentials=cors.allow_credentials,
            max_age=cors.max_age,
        )
    ]


REDACTED = "Subgraph errors redacted"
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE)
# Extension keys that carry implementation details (Apollo Server, graphql-core, Strawberry, Yoga...).
_TRACE_KEYS = frozenset({"exception", "stacktrace", "stackTrace", "stack", "trace", "traceback", "originalError", "debug"})


def _scrub(text: str) -> str:
    if "://" in text:
        text = _URL.sub("[url]", text)
    if "Traceback (most recent call last)" in text:
        text = text.split("Traceback (most recent call last)", 1)[0].rstrip() or "Subgraph error"
    return text


def mask_errors(errors: list[Any], mask_messages: bool) -> list[Any]:
    """The errors with those that came from (or about) a subgraph cleaned: no stack traces, no URLs;
    with `mask_messages` only the code, service name and path remain. Changed errors are copies
    (the originals may be shared, e.g. by a cache)."""
    out: list[Any] | None = None
    for index, err in enumerate(errors):
        if type(err) is not dict:
            continue
        ext = err.get("extensions")
        if type(ext) is not dict or "serviceName" not in ext:
            continue
        cleaned = _clean(err, ext, mask_messages)
        if cleaned is not err:
            if out is None:
                out = list(errors)
            out[index] = cleaned
    return errors if out is None else out


def _clean(err: dict[str, Any], ext: dict[str, Any], mask_messages: bool) -> dict[str, Any]:
    if mask_messages:
        kept = {k: ext[k] for k in ("code", "serviceName") if k in ext}
        return {**err, "message": REDACTED, "extensions": kept}
    message = err.get("message")
    new_message = _scrub(message) if type(message) is str else message
    new_ext = ext
    if _TRACE_KEYS.intersection(ext):
        new_ext = {k: v for k, v in ext.items() if k not in _TRACE_KEYS}
    for key, value in new_ext.items():
        if type(value) is str and ("://" in value or "Traceback" in value):
            if new_ext is ext:
                new_ext = dict(ext)
            new_ext[key] = _scrub(value)
    if new_message is message and new_ext is ext:
        return err
    return {**err, "message": new_message, "extensions": new_ext}

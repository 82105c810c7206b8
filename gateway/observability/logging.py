"""Structured logs: readable text by default, JSON lines when configured; every line has the request id."""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar, Token
from typing import Any

import orjson

from gateway.config import LoggingConfig

access_log = logging.getLogger("fedgate.access")

# LogRecord attributes that are not "extra" fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


# The request id of the request this task handles, for log lines only: set by the server's middleware
# (bind_request_id), read by RequestIdFilter. Request state for the layers travels in RequestContext.
_REQUEST_ID: ContextVar[str] = ContextVar("fedgate_log_request_id", default="-")


def bind_request_id(request_id: str) -> Token[str]:
    """Tag the log lines of the current task with `request_id`; pass the token to `unbind_request_id`."""
    return _REQUEST_ID.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    """Undo `bind_request_id`."""
    _REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (the request being handled, or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_HANDLER_NAME = "fedgate"


def configure_logging(config: LoggingConfig) -> None:
    """Install (or replace) fedgate's handler on the root logger with the configured format and level."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if config.format == "json" else logging.Formatter(_TEXT))
    root.addHandler(handler)
    root.setLevel(config.level.upper())
    # uvicorn's own loggers would print a second, unstructured copy.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True

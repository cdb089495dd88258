"""Structured JSON logs: one line per event, only whitelisted fields (no message text)."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

FIELDS = (
    "event",
    "kb_id",
    "intent",
    "confidence",
    "ticket",
    "latency_ms",
    "sender",
    "kind",
    "state",
    "status",
    "path",
    "method",
    "channel",
    "error",
    "count",
)


class JsonFormatter(logging.Formatter):
    """Render a record as a JSON object with the whitelisted `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str = "INFO", *loggers: str) -> None:
    """Send the named loggers (root when none) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in loggers or ("",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


# Path segments that name a conversation or a case: keys to personal data, never logged.
_SECRET_SEGMENTS = re.compile(
    r"(/conversations/)[^/?#]+|(/cases/)[^/?#]+|(/tracker/)[^/?#]+", re.IGNORECASE
)


def redact_path(path: str) -> str:
    """A request path fit for logs: conversation ids and case references replaced, the query
    string (tokens, openids, signatures) dropped."""
    path = path.split("?", 1)[0]
    return _SECRET_SEGMENTS.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "{id}", path)


def start_refused(logger: logging.Logger, problems: list[str], event: str) -> bool:
    """Log each start-up problem (operator-readable, e.g. "TELEGRAM_TOKEN is not set"); True
    when there is any, so the entry point exits instead of starting."""
    for problem in problems:
        logger.error(problem, extra={"event": event})
    return bool(problems)

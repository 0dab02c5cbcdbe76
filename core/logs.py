"""Logging, configured once by :func:`init_app` from the app factory: JSON lines on stdout.

Every line is one JSON object (time, level, logger, message, the request id when written
during a request, and any ``extra={"fields": {...}}``). Two loggers write there: the app's own
(``app.logger``) and ``sipas.access``, one line per request written by :mod:`core.http`
(silenced to warnings when ``ACCESS_LOG`` is off). Never log answers, comments, response ids,
tokens, credentials or keys.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context

#: one line per request (written by core.http)
access_log = logging.getLogger("sipas.access")


class StdoutHandler(logging.StreamHandler):
    """A stream handler that always writes to the *current* ``sys.stdout`` (so it keeps
    working when a test runner swaps stdout)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id when in a
    request, and any ``extra={"fields": {...}}`` given by the caller."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def init_app(app: Flask) -> None:
    """The app's log lines and the access log: JSON on the current stdout, level INFO (the
    access log at WARNING when ``ACCESS_LOG`` is off)."""
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    app.logger.handlers = [handler]
    app.logger.setLevel(logging.INFO)
    access_log.handlers = [handler]
    access_log.propagate = False
    access_log.setLevel(logging.INFO if app.config["ACCESS_LOG"] else logging.WARNING)

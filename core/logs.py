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

from flask import Flask, current_app, g, has_request_context, request

#: one line per request (written by core.http)
access_log = logging.getLogger("sipas.access")

#: Paths under which a path segment is a secret (a receipt token, a kiosk activation code, a
#: citizen's follow-up code),
#: for loggers that see only the path: gunicorn's access log (gunicorn.conf.py) and nginx's
#: (deploy/nginx.conf keeps the same list). A test checks it covers every route whose
#: argument is in ``LOG_REDACTED_ROUTE_ARGS``.
SECRET_PATH_PREFIXES = ("/s/", "/kiosk/activate/", "/api/v1/receipts/", "/phan-hoi/")


def redact_path(path: str) -> str:
    """``path`` without its query string, and with whatever follows a secret prefix replaced
    by ``<redacted>`` (pure: no request needed)."""
    path = path.split("?", 1)[0]
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "<redacted>"
    return path


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


def _secret_prefixes(app: Flask) -> list[tuple[str, str]]:
    """(static prefix, pattern) of every route with a secret argument
    (``LOG_REDACTED_ROUTE_ARGS``): ``("/s/", "/s/<token>")``. Computed once per app."""
    cached = app.extensions.get("sipas_secret_prefixes")
    if cached is None:
        secret = set(app.config["LOG_REDACTED_ROUTE_ARGS"])
        cached = sorted({(rule.rule.split("<", 1)[0], rule.rule)
                         for rule in app.url_map.iter_rules() if secret & rule.arguments},
                        key=lambda pair: -len(pair[0]))
        app.extensions["sipas_secret_prefixes"] = cached
    return cached


def loggable_path() -> str:
    """The request's path as logs may show it: never its query string, and the route's
    pattern (``/s/<token>``) instead of the path when a route argument is a secret such as a
    receipt token or an activation code, also for a path under such a route that matched
    nothing (``/s/<token>/x``, a 404)."""
    rule = request.url_rule
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    secret = app.config["LOG_REDACTED_ROUTE_ARGS"]
    if rule is not None:
        if any(k in secret for k in (request.view_args or {})):
            return rule.rule
        return request.path
    for prefix, pattern in _secret_prefixes(app):
        if request.path.startswith(prefix) and request.path != prefix.rstrip("/"):
            return pattern
    return request.path


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

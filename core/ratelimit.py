"""Rate limits shared by every area, on a configurable store.

``RATELIMIT_STORAGE_URI`` (see :mod:`core.config`) is ``memory://`` by default (one process)
and should be a Redis URI (``redis://127.0.0.1:6379/0``) when several app processes must share
their limits.
"""

from __future__ import annotations

from flask import Flask, current_app
from limits import parse, storage, strategies


class RateLimiter:
    def __init__(self, uri: str) -> None:
        self.storage = storage.storage_from_string(uri)
        self.strategy = strategies.MovingWindowRateLimiter(self.storage) \
            if uri.startswith("memory") else strategies.FixedWindowRateLimiter(self.storage)

    def hit(self, namespace: str, key: str, limit: str) -> bool:
        """Count one event; False when ``limit`` (e.g. "1/5second") is exceeded."""
        return self.strategy.hit(parse(limit), namespace, key)

    @staticmethod
    def window_seconds(limit: str) -> int:
        """The length of the window of ``limit`` ("5/hour" -> 3600): when to try again."""
        return int(parse(limit).get_expiry())

    def clear(self, namespace: str, key: str, limit: str) -> None:
        self.strategy.clear(parse(limit), namespace, key)


def limiter() -> RateLimiter:
    return current_app.extensions["sipas_ratelimit"]


def init_app(app: Flask) -> None:
    app.extensions["sipas_ratelimit"] = RateLimiter(app.config["RATELIMIT_STORAGE_URI"])

"""Rate limits shared by every area, on a configurable store.

``RATELIMIT_STORAGE_URI`` (see :mod:`core.config`) is ``memory://`` by default (one process)
and should be a Redis URI (``redis://127.0.0.1:6379/0``) when several app processes must share
their limits.
"""

from __future__ import annotations

import threading
import time

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


# KEYS[1] the run's key; ARGV[1] the value seen now, ARGV[2] the window in seconds
_RUN_SCRIPT = """
if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then
  return redis.call('HINCRBY', KEYS[1], 'n', 1)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'n', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RunCounter:
    """How many times in a row the same value was seen under a key, counting from the run's
    first sighting for at most ``window`` seconds of the server's clock; kept only in the
    rate-limit store (a process's memory, or Redis shared by every process) and forgotten
    when the window ends. Used for kiosk bursts: nothing of it is ever in the database."""

    def __init__(self, limits_storage: storage.Storage) -> None:
        client = getattr(limits_storage, "storage", None)
        self._script = client.register_script(_RUN_SCRIPT) if isinstance(
            limits_storage, storage.RedisStorage) else None
        self._runs: dict[str, tuple[str, int, float]] = {}
        self._lock = threading.Lock()

    def next(self, key: str, value: str, window: int) -> int:
        """Count one sighting of ``value`` under ``key``; returns the length of the run."""
        if self._script is not None:
            return int(self._script(keys=[f"sipas:run:{key}"], args=[value, int(window)]))
        now = time.monotonic()
        with self._lock:
            for stale in [k for k, (_v, _n, end) in self._runs.items() if end <= now]:
                del self._runs[stale]
            seen, count, end = self._runs.get(key, ("", 0, 0.0))
            count = count + 1 if seen == value else 1
            self._runs[key] = (value, count, end if count > 1 else now + window)
            return count


def limiter() -> RateLimiter:
    return current_app.extensions["sipas_ratelimit"]


def runs() -> RunCounter:
    return current_app.extensions["sipas_runs"]


def init_app(app: Flask) -> None:
    app.extensions["sipas_ratelimit"] = limiter_ = RateLimiter(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["sipas_runs"] = RunCounter(limiter_.storage)

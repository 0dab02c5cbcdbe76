"""Finished reports kept per process, valid exactly as long as the figures they were made from.

A period report (:func:`core.services.reports.period_report`) costs about twenty times the SQL
it reads: the rest is the statistics of three periods (intervals, changes with p-values and
their correction). The data under it changes a few times a day (answers reach the tallies when
their office-day is released, paper imports, dossier volumes, targets), while an office head
or the city opens the same report many times. So a finished report is kept, as JSON text,
under the *figures token* it was made from.

The token is the one row of ``figures_version``. Database triggers on every table a report
reads (:data:`SOURCES`) give it a new random value whenever a row of one of them is inserted,
updated or deleted (PostgreSQL: also truncated), inside the writer's own transaction. No
writer can forget to invalidate, whether it goes through the ORM, Core or a SQL console:

- a reader that sees a token sees the data committed with it. The token is read *before* the
  report's queries, so a report is never older than the token it is stored under (under
  READ COMMITTED a report may be newer, never older; SQLite reads one snapshot);
- tokens are random (63 bits), not counted, so a transaction rolled back after a report was
  made inside it leaves an entry no later writer can ever hit.

Besides the token, the key holds the office (id, code, name), the period, the instrument asked
for, the locale, the partial-answer switch and the settings a report reads (``MIN_SAMPLE``,
``COUNT_PARTIAL``, ``DEFAULT_INSTRUMENT``). The cache belongs to the app object (an app per
database), is bounded (``REPORT_CACHE_SIZE`` entries, 0 turns it off) and each hit is a fresh
``json.loads`` of the stored text, so a caller may change what it gets. Without the token row
(a database emptied by hand) nothing is cached.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from core.extensions import db
from core.models.figures import SOURCES, trigger_ddl  # noqa: F401 - re-exported

_TOKEN = sa.text("SELECT token FROM figures_version WHERE id = 1")


def current_token() -> int | None:
    """The figures token seen by the current transaction, None without its row."""
    return db.session.execute(_TOKEN).scalar()


class ReportCache:
    """A bounded LRU of JSON texts; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            text = self._items.get(key)
            if text is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return text

    def put(self, key: Hashable, text: str) -> None:
        with self._lock:
            self._items[key] = text
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def cache_for(app: Flask) -> ReportCache | None:
    """The app's report cache, None when ``REPORT_CACHE_SIZE`` is 0."""
    cache = app.extensions.get("sipas_report_cache")
    if cache is None:
        size = int(app.config["REPORT_CACHE_SIZE"])
        if size <= 0:
            return None
        cache = app.extensions.setdefault("sipas_report_cache", ReportCache(size))
    return cache


def cached_report(key: tuple[Hashable, ...], make: Callable[[], dict[str, Any]]
                  ) -> dict[str, Any]:
    """``make()``, or the report it made under the same key and figures token."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = cache_for(app)
    if cache is None:
        return make()
    config = app.config
    token = current_token()
    if token is None:
        return make()
    full = (token, config["MIN_SAMPLE"], config["COUNT_PARTIAL"],
            config["DEFAULT_INSTRUMENT"], *key)
    text = cache.get(full)
    if text is not None:
        return json.loads(text)
    report = make()
    cache.put(full, json.dumps(report))
    return report

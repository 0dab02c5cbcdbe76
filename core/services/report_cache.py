"""Finished reports kept per process, valid exactly as long as the figures they were made from.

A period report (:func:`core.services.reports.period_report`) costs about twenty times the SQL
it reads: the rest is the statistics of three periods (intervals, changes with p-values and
their correction). The data under it changes a few times a day (answers reach the tallies when
their office-day is released, paper imports, dossier volumes, targets), while an office head
or the city opens the same report many times. So a finished report is kept, as JSON text,
under the *figures token* it was made from.

The token is the one row of ``figures_version``. Database triggers on every table a report
reads (:data:`core.models.figures.TRIGGERS`) give it a new random value whenever a row of one
of them is inserted, updated or deleted (PostgreSQL: also truncated), inside the writer's own
transaction: SQLite at once (it has one writer at a time); PostgreSQL once per transaction,
at its commit (deferred constraint triggers), so writers of different offices do not queue
on the token's row for the length of their transactions. No writer can forget to
invalidate, whether it goes through the ORM, Core or a SQL console:

- a reader that sees a token sees the data committed with it. The token is read *before* the
  report's queries, so a report is never older than the token it is stored under (under
  READ COMMITTED a report may be newer, never older; SQLite reads one snapshot);
- on PostgreSQL a transaction that has written bypasses the cache (its own writes renew the
  token only when it commits);
- tokens are random (63 bits), not counted, so a transaction rolled back after a report was
  made inside it (SQLite) leaves an entry no later writer can ever hit.

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

_TOKEN = sa.text("SELECT token FROM figures_version WHERE id = 1")
_PG_TOKEN = sa.text("SELECT token, txid_current_if_assigned() IS NOT NULL FROM "
                    "figures_version WHERE id = 1")


def current_token() -> int | None:
    """The figures token seen by the current transaction; None without its row, and on
    PostgreSQL inside a transaction that has written (its token is renewed only at its
    commit: what it reads is not what the token names)."""
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(_PG_TOKEN).first()
        return None if row is None or row[1] else row[0]
    return db.session.execute(_TOKEN).scalar()


class ReportCache:
    """A bounded LRU (JSON texts or PDF bytes); thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any:
        with self._lock:
            text = self._items.get(key)
            if text is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return text

    def put(self, key: Hashable, text: Any) -> None:
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


#: the settings a report or its PDF reads: part of every key
SETTINGS = ("MIN_SAMPLE", "COUNT_PARTIAL", "DEFAULT_INSTRUMENT", "PEER_MIN_OFFICES",
            "PRIORITY_MIN_RESPONDENTS", "REPORT_PLACE")

#: kind -> (the extension's name, the setting of its size)
_KINDS = {"report": ("sipas_report_cache", "REPORT_CACHE_SIZE"),
          "pdf": ("sipas_pdf_cache", "PDF_CACHE_SIZE")}


def cache_for(app: Flask, kind: str = "report") -> ReportCache | None:
    """The app's cache of finished reports (``kind`` "report", JSON texts) or report PDFs
    ("pdf", bytes); None when its size setting is 0."""
    name, setting = _KINDS[kind]
    cache = app.extensions.get(name)
    if cache is None:
        size = int(app.config[setting])
        if size <= 0:
            return None
        cache = app.extensions.setdefault(name, ReportCache(size))
    return cache


def _cached(kind: str, key: tuple[Hashable, ...], make: Callable[[], Any],
            encode: Callable[[Any], Any], decode: Callable[[Any], Any]) -> Any:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = cache_for(app, kind)
    if cache is None:
        return make()
    token = current_token()
    if token is None:
        return make()
    full = (token, *(app.config[name] for name in SETTINGS), *key)
    kept = cache.get(full)
    if kept is not None:
        return decode(kept)
    value = make()
    cache.put(full, encode(value))
    return value


def cached_report(key: tuple[Hashable, ...], make: Callable[[], dict[str, Any]]
                  ) -> dict[str, Any]:
    """``make()``, or the report it made under the same key and figures token (a fresh copy
    each time)."""
    return _cached("report", key, make, json.dumps, json.loads)


def cached_pdf(key: tuple[Hashable, ...], make: Callable[[], bytes]) -> bytes:
    """``make()``, or the PDF it made under the same key and figures token."""
    return _cached("pdf", key, make, bytes, bytes)

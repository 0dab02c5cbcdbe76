"""``transaction()``: the one way a service commits, also when a request that only reads
(GET, HEAD) has something to write."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from core import db_setup
from core.extensions import db
from core.models import AuditEvent
from core.services.audit import record
from core.services.tx import transaction


def _events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_a_write_in_a_read_only_request_survives_a_concurrent_commit(make_app, backend):
    """The attack: a GET reads (a snapshot), another connection commits, the GET writes
    (a token's last use, an export's audit row). On SQLite the read transaction could not
    become a writer: "database is locked" at once, a 503 for the reader."""
    app = make_app()
    other = None
    if backend == "sqlite":
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        other = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        with app.app_context(), db_setup.read_only_transactions():
            assert _events() == 0  # the request's read transaction has begun
            if other is not None:
                other.execute("INSERT INTO audit_event (at, actor, action) "
                              "VALUES ('2026-11-30 00:00:00.000000', 'other', 'kiosk.post')")
            with transaction():
                record("export", actor="reader")
            assert db_setup.read_only() is True  # the rest of the request reads again
            assert _events() == (2 if other is not None else 1)
    finally:
        if other is not None:
            other.close()


def test_a_failed_block_leaves_nothing_behind_in_a_read_only_request(app):
    with db_setup.read_only_transactions():
        with pytest.raises(RuntimeError), transaction():
            record("export", actor="reader")
            db.session.flush()
            raise RuntimeError("boom")
        assert db_setup.read_only() is True
        assert _events() == 0

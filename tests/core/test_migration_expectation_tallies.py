"""The expectation-tally migration (issue 20) fills the new table from the stored responses,
so the dashboard shows the same figures right after the upgrade as before it."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_migrate import upgrade

from core.extensions import db
from tests.core.test_migrations import migrated_app  # noqa: F401 - a fixture


def test_upgrade_fills_the_expectation_tally_from_stored_responses(migrated_app):  # noqa: F811
    upgrade(revision="a61f0c3e9d27")
    stamp = datetime(2026, 11, 1)
    rows = [('{"digital": 3, "premises": 1}', True), ('{"digital": 3}', True),
            ('{"digital": 2}', False), (None, True), ("{}", True)]
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO office (id, code, name, level, active, created_at) "
                             "VALUES (1, 'X', 'X', 'department', true, :t)"), {"t": stamp})
        for i, (exp, counted) in enumerate(rows):
            conn.execute(sa.text(
                "INSERT INTO response (uuid, office_id, instrument_id, channel, answers, month, "
                "submitted_at, received_at, expectations, counted) VALUES "
                "(:u, 1, 'hanoi-2022', 'paper', :a, '2026-11', :t, :t, :e, :c)"),
                {"u": str(uuid.UUID(int=i)), "a": "5" * 24, "t": stamp, "e": exp, "c": counted})
    db.session.remove()
    db.engine.dispose()
    upgrade()
    def stored() -> dict:
        return {(r.area, r.level): r.responses for r in db.session.execute(sa.text(
            "SELECT area, level, responses FROM monthly_expectation_tally WHERE office_id = 1 "
            "AND month = '2026-11' AND instrument_id = 'hanoi-2022'"))}

    # two counted responses answered expectations (the uncounted one and the empty ones not)
    assert stored() == {("", 0): 2, ("digital", 3): 2, ("premises", 1): 1}
    from core.services.tallies import rebuild_tallies

    rebuild_tallies(db.session)  # (the raw inserts above wrote no criteria tallies)
    assert stored() == {("", 0): 2, ("digital", 3): 2, ("premises", 1): 1}  # the same

"""The database going away at the end of a request (PostgreSQL restarting after the answer
was built): the closing ROLLBACK fails, and the answer still stands instead of a 500."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify

from core.extensions import db
from core.models import Office


def test_a_failed_rollback_at_teardown_does_not_turn_the_answer_into_a_500(make_app, capsys):
    app = make_app()
    broken = {"armed": False}

    @app.get("/api/v1/_count")
    def count():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Office))
        broken["armed"] = True  # the database "restarts" after the answer is built
        return jsonify(n=n)

    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "rollback")
    def fail_once(_conn):
        if broken["armed"]:
            broken["armed"] = False
            raise sa.exc.OperationalError(
                "ROLLBACK", {}, Exception("terminating connection due to administrator command"))

    client = app.test_client()
    resp = client.get("/api/v1/_count")
    assert resp.status_code == 200 and resp.get_json() == {"n": 0}
    assert "database connection lost at the end of a request" in capsys.readouterr().out
    # the next request gets a working session
    resp = client.get("/api/v1/_count")
    assert resp.status_code == 200
    assert client.get("/readyz").status_code == 200

"""Partial responses (kiosk walk-aways) through the API: stored once, mixed like every answer,
held out of the figures unless COUNT_PARTIAL, counted in reports and included on request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import (
    MonthlyChannelCount,
    MonthlyPartialCount,
    MonthlyTally,
    Office,
    PendingAnswer,
    Response,
)
from core.services import kiosks as kiosk_service
from core.services.mixing import vn_day
from core.services.reports import monthly_report
from core.services.tallies import rebuild_tallies
from core.timeutil import utcnow
from tests.helpers import release_all
from tests.kiosk.helpers import API, Client, auth, body, count, load_offices

WALK_AWAY = {"I.1": 5, "I.2": 4, "I.3": None, "I.4": 2, "II.1": 3, "II.2": 1,
             "II.3": 4, "II.4": None}


def _setup(make_app, **config):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, **config)
    ctx = app.app_context()
    ctx.push()
    load_offices()
    office = db.session.scalar(sa.select(Office).filter_by(code="BD-KM"))
    kiosk = kiosk_service.add_kiosk(office, "Quầy 3", with_credential=True)
    return app, ctx, kiosk


@pytest.fixture
def world(make_app):
    app, ctx, kiosk = _setup(make_app)
    yield app, kiosk
    ctx.pop()


def _month() -> str:
    day = vn_day(utcnow())
    return f"{day.year:04d}-{day.month:02d}"


def test_partial_is_stored_once_mixed_and_held_out_of_the_figures(world):
    app, kiosk = world
    client = Client(app)
    partial = body(answers=WALK_AWAY, partial=True)
    r1 = client.post(API, json=partial, headers=auth(kiosk))
    assert r1.status_code == 201, r1.get_json()
    assert client.post(API, json=partial, headers=auth(kiosk)).status_code == 200  # replay
    pending = db.session.scalars(sa.select(PendingAnswer)).all()
    assert [p.partial for p in pending] == [True]
    assert client.post(API, json=body(), headers=auth(kiosk)).status_code == 201
    release_all()
    rows = db.session.scalars(sa.select(Response).order_by(Response.partial)).all()
    assert [r.partial for r in rows] == [False, True]
    assert count(PendingAnswer) == 0
    # released like every answer: the day's start, a fresh id, no comment or extras
    whole, part = rows
    assert part.submitted_at == whole.submitted_at and part.uuid != partial["id"]
    assert part.comment is None and part.expectations is None and part.demographics is None
    # the tallies hold the whole questionnaire only
    assert db.session.scalar(sa.select(sa.func.sum(MonthlyChannelCount.responses))) == 1
    ii1 = db.session.scalar(sa.select(MonthlyTally).filter_by(criterion="II.1"))
    assert (ii1.n1, ii1.n2, ii1.n3, ii1.n4, ii1.n5) == (0, 0, 0, 0, 0)  # the partial's II.1
    office = db.session.get(Office, kiosk.kiosk.office_id)
    report = monthly_report(office, _month())
    assert report["responses"] == 1 and report["partial_responses"] == 1
    assert report["partial_included"] is False
    with_partial = monthly_report(office, _month(), include_partial=True)
    assert with_partial["responses"] == 2 and with_partial["partial_included"] is True
    assert with_partial["partial_responses"] == 1
    crit = {c["code"]: c for c in with_partial["criteria"]}
    assert crit["II.1"]["answered"] == 1 and crit["I.1"]["counts"]["5"] == 2
    # the same pooled over the parent office
    parent = monthly_report(office.parent, _month(), include_partial=True)
    assert parent["partial_responses"] == 1 and parent["responses"] == 2
    # their number is kept beside the tallies (a report never reads the answers for it)
    assert [(c.month, c.responses) for c in db.session.scalars(
        sa.select(MonthlyPartialCount))] == [(_month(), 1)]
    assert rebuild_tallies(db.session) == 0
    assert db.session.scalar(sa.select(MonthlyPartialCount.responses)) == 1


@pytest.mark.parametrize("extra", [
    {"comment": "Tốt"}, {"expectations": {"digital": 3}}, {"consent": True},
    {"contact": "0912345678"}, {"demographics": {"sex": "f"}}, {"partial": "yes"},
])
def test_a_partial_carries_criterion_answers_only(world, extra):
    app, kiosk = world
    payload = body(answers=WALK_AWAY, partial=True)
    payload.update(extra)
    resp = Client(app).post(API, json=payload, headers=auth(kiosk))
    assert resp.status_code == 400
    assert "partial" in resp.get_json()["fields"] or "consent" in resp.get_json()["fields"]
    assert count() == 0


def test_count_partial_puts_them_in_the_tallies(make_app):
    app, ctx, kiosk = _setup(make_app, COUNT_PARTIAL=True)
    try:
        client = Client(app)
        assert client.post(API, json=body(answers=WALK_AWAY, partial=True),
                           headers=auth(kiosk)).status_code == 201
        release_all()
        assert db.session.scalar(sa.select(sa.func.sum(MonthlyChannelCount.responses))) == 1
        office = db.session.get(Office, kiosk.kiosk.office_id)
        report = monthly_report(office, _month())
        assert report["responses"] == 1 and report["partial_included"] is True
        assert report["partial_responses"] == 1
        # a rebuild honours the setting
        app.config["COUNT_PARTIAL"] = False
        assert rebuild_tallies(db.session) > 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyTally)) == 0
    finally:
        ctx.pop()

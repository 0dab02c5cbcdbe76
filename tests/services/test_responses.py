"""Storing a response: whole or nothing, idempotent by UUID, tallies kept in step."""

import uuid

import pytest
import sqlalchemy as sa

from core.errors import DomainError
from core.extensions import db
from core.models import MonthlyChannelCount, MonthlyTally, Response
from core.services.intake import clean_response
from core.services.reports import criterion_tallies
from core.services.responses import insert_response
from core.services.tallies import rebuild_tallies
from core.services.tx import transaction
from core.timeutil import month_of, utcnow


def store_response(clean, office, channel, **kwargs):
    """Insert one response in its own transaction, as the intake does."""
    with transaction():
        return insert_response(clean, office, channel, **kwargs)


def n_responses():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


def test_same_uuid_twice_is_stored_and_counted_once(app, offices, instrument):
    clean = clean_response(instrument, {"I.1": 5, "I.2": 2, "V.4": None})
    uid = str(uuid.uuid4())
    first = store_response(clean, offices["BD-KM"], "kiosk", uuid=uid)
    second = store_response(clean, offices["BD-KM"], "kiosk", uuid=uid)
    assert first[1] is True and second == (first[0], False)
    assert n_responses() == 1
    tallies = criterion_tallies(offices["HN"].id, month_of(utcnow()), instrument.id)
    assert tallies["I.1"].counts == (0, 0, 0, 0, 1)
    assert tallies["I.2"].counts == (0, 1, 0, 0, 0)
    assert tallies["V.4"].no_answer == 1 and tallies["V.4"].answered == 0
    assert tallies["III.1"].no_answer == 1  # criteria left out count as "no answer"


def test_an_unknown_channel_stores_nothing(app, offices, instrument):
    clean = clean_response(instrument, {"I.1": 4})
    with pytest.raises(DomainError):
        store_response(clean, offices["BD"], "carrier-pigeon")
    assert n_responses() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyTally)) == 0


def test_uncounted_responses_stay_out_of_tallies(app, offices, instrument):
    clean = clean_response(instrument, {"I.1": 1})
    store_response(clean, offices["BD"], "kiosk", counted=False, flags="burst")
    assert n_responses() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyChannelCount)) == 0
    assert rebuild_tallies(db.session) == 0


def test_rebuild_restores_tampered_tallies(app, offices, instrument):
    for score in (5, 4, 1):
        store_response(clean_response(instrument, {"I.1": score, "II.2": 3}), offices["BD-DB"],
                       "qr")
    assert rebuild_tallies(db.session) == 0
    db.session.execute(sa.update(MonthlyTally).where(MonthlyTally.criterion == "I.1")
                       .values(n5=99))
    db.session.execute(sa.delete(MonthlyChannelCount))
    db.session.commit()
    assert rebuild_tallies(db.session) == 3  # one wrong row replaced, one channel row restored
    tallies = criterion_tallies(offices["BD"].id, month_of(utcnow()), instrument.id)
    assert tallies["I.1"].counts == (1, 0, 0, 1, 1)
    assert rebuild_tallies(db.session) == 0


def test_submitted_at_sets_the_month(app, offices, instrument):
    from datetime import UTC, datetime

    store_response(clean_response(instrument, {"I.1": 5}), offices["STP"], "paper",
                   submitted_at=datetime(2022, 7, 31, 17, 30, tzinfo=UTC))
    assert db.session.scalar(sa.select(Response.month)) == "2022-08"

"""Storing a response: whole or nothing, idempotent by UUID, tallies kept in step."""

import uuid

import pytest
import sqlalchemy as sa

from core.errors import DomainError, NotAllowed
from core.extensions import db
from core.models import MonthlyChannelCount, MonthlyTally, Response
from core.services.reports import criterion_tallies
from core.services.responses import ValidationFailed, clean_response, store_response
from core.services.tallies import rebuild_tallies
from core.timeutil import month_of, utcnow


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


@pytest.mark.parametrize("answers, field", [
    ({"VI.1": 3}, "answers.VI.1"),
    ({"I.1": 6}, "answers.I.1"),
    ({"I.1": 0}, "answers.I.1"),
    ({"I.1": "5"}, "answers.I.1"),
    ({"I.1": True}, "answers.I.1"),
    ({"I.1": 4.5}, "answers.I.1"),
    ({"I.1": None, "I.2": None}, "answers"),
    ({}, "answers"),
    (["I.1", 5], "answers"),
])
def test_invalid_answers_are_rejected_with_the_field_named(app, instrument, answers, field):
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, answers)
    assert field in err.value.fields
    assert err.value.code == "invalid"


def test_optional_parts_are_validated(app, instrument):
    ok = clean_response(instrument, {"I.1": 4}, comment="  Tốt  ", procedure="Chứng thực",
                        expectations={"digital": 3, "attitude": None},
                        demographics={"age": "60+", "gender": ""})
    assert ok.comment == "Tốt" and ok.expectations == {"digital": 3}
    assert ok.demographics == {"age": "60+"}
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, {"I.1": 4}, comment="x" * 2001,
                       expectations={"weather": 3, "digital": 9}, demographics={"age": "99"})
    assert set(err.value.fields) == {"comment", "expectations.weather", "expectations.digital",
                                     "demographics.age"}


def test_inactive_office_and_unknown_channel_store_nothing(app, offices, instrument):
    clean = clean_response(instrument, {"I.1": 4})
    offices["STP"].active = False
    db.session.commit()
    with pytest.raises(NotAllowed) as err:
        store_response(clean, offices["STP"], "kiosk")
    assert err.value.code == "office_inactive"
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

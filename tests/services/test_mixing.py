"""The mixing stage: pending answers are released per closed office-day, once, in a random
order, with the day as their only time; the release plan; submission keys."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import MonthlyChannelCount, MonthlyTally, PendingAnswer, Response, SubmissionKey
from core.services.intake import clean_response
from core.services.mixing import (
    claim_submission_key,
    day_start,
    hold,
    mix,
    pending_counts,
    plan_release,
    vn_day,
)
from core.services.reports import criterion_tallies
from core.services.tallies import rebuild_tallies
from core.timeutil import month_of, utcnow
from tests.helpers import release_all

D = date(2026, 11, 10)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def hold_answers(instrument, office, n, day, *, channel="kiosk", first_score=1, counted=True):
    for i in range(n):
        clean = clean_response(instrument, {"I.1": first_score + i % 5, "II.1": 1 + i // 5 % 5})
        hold(clean, office.id, channel, day, counted=counted)
    db.session.commit()


# --- the release plan (pure) ------------------------------------------------------------------

def items(*spec: tuple[date, int]) -> list[tuple[date, str]]:
    return [(day, f"{day.isoformat()}#{i}") for day, n in spec for i in range(n)]


def test_a_closed_day_with_enough_answers_is_released_with_its_date():
    plan = plan_release(items((D, 5), (D + timedelta(days=1), 7)), D + timedelta(days=1), 5)
    assert [(day, len(group)) for day, group in plan] == [(D, 5), (D + timedelta(days=1), 7)]


def test_smaller_days_carry_over_and_take_the_next_days_date():
    d2, d5 = D + timedelta(days=2), D + timedelta(days=5)
    plan = plan_release(items((D, 2), (d2, 2), (d5, 3)), d5, 5)
    assert [(day, len(group)) for day, group in plan] == [(d5, 7)]
    assert sorted(plan[0][1]) == sorted(x for _d, x in items((D, 2), (d2, 2), (d5, 3)))


def test_what_remains_at_month_end_is_released_with_the_last_day():
    last = date(2026, 11, 30)
    plan = plan_release(items((date(2026, 11, 28), 2), (date(2026, 12, 1), 1)),
                        date(2026, 12, 1), 5)
    assert [(day, len(group)) for day, group in plan] == [(last, 2)]  # December's 1 waits


def test_days_not_closed_and_what_is_carried_towards_them_stay_pending():
    today = D + timedelta(days=3)
    plan = plan_release(items((D, 2), (today, 9)), today - timedelta(days=1), 5)
    assert plan == []  # D's two answers wait for the office's next day
    assert plan_release(items((D, 2), (today, 9)), today, 5) == [
        (today, [x for _d, x in items((D, 2), (today, 9))])]


def test_a_minimum_of_one_releases_every_closed_day_on_its_own():
    plan = plan_release(items((D, 1), (D + timedelta(days=1), 1)), D + timedelta(days=1), 1)
    assert [day for day, _g in plan] == [D, D + timedelta(days=1)]


# --- releasing --------------------------------------------------------------------------------

def test_pending_answers_are_out_of_the_figures_until_released_then_counted_once(
        app, offices, instrument):
    hold_answers(instrument, offices["BD-KM"], 6, vn_day(utcnow()))
    assert count(Response) == 0 and count(MonthlyTally) == 0
    assert pending_counts() == {offices["BD-KM"].id: 6}
    assert mix().released == 0  # today is not closed
    report = mix(include_today=True)
    assert (report.released, report.batches, report.pending) == (6, 1, 0)
    assert count(Response) == 6 and count(PendingAnswer) == 0
    assert mix(include_today=True).released == 0  # again: nothing left to release
    assert db.session.scalar(sa.select(MonthlyChannelCount.responses)) == 6
    assert rebuild_tallies(db.session) == 0  # the tallies match the released rows
    tallies = criterion_tallies(offices["HN"].id, month_of(utcnow()), instrument.id)
    assert tallies["I.1"].counts == (2, 1, 1, 1, 1)


def test_a_day_below_the_minimum_waits_then_goes_with_the_next_day(app, offices, instrument):
    yesterday = vn_day(utcnow()) - timedelta(days=1)
    office = offices["BD-KM"]
    hold_answers(instrument, office, 3, yesterday - timedelta(days=1))
    assert mix().released == 0
    hold_answers(instrument, office, 2, yesterday)
    report = mix()
    if yesterday.month == (yesterday - timedelta(days=1)).month:
        assert report.released == 5
        dates = set(db.session.scalars(sa.select(Response.submitted_at)))
        assert dates == {day_start(yesterday)}  # the carried answers took the next day's date
    else:  # the 3 were released alone with the last day of their month
        assert report.released == 3


def test_uncounted_answers_are_released_but_stay_out_of_the_tallies(app, offices, instrument):
    hold_answers(instrument, offices["BD"], 2, vn_day(utcnow()), counted=False)
    release_all()
    assert count(Response) == 2 and count(MonthlyChannelCount) == 0
    assert rebuild_tallies(db.session) == 0


def test_the_day_sets_the_month_and_is_the_only_time(app, offices, instrument):
    hold_answers(instrument, offices["STP"], 1, date(2022, 8, 1), channel="paper")
    release_all()
    row = db.session.scalar(sa.select(Response))
    assert row.month == "2022-08"
    assert row.submitted_at == row.received_at == datetime(2022, 7, 31, 17, 0, tzinfo=UTC)


def test_the_release_order_is_the_generators_not_the_arrival_order(app, offices, instrument):
    office = offices["BD-KM"]
    day = vn_day(utcnow())
    patterns = []
    for i in range(20):
        answers = {"I.1": 1 + i % 5, "I.2": 1 + i // 5 % 5, "I.3": 1 + i // 10}
        clean = clean_response(instrument, answers)
        patterns.append(clean.answers)
        hold(clean, office.id, "qr", day)
    db.session.commit()
    seen: list[list[str]] = []

    def shuffle(group):
        random.Random(2026).shuffle(group)
        seen.append([row.answers for row in group])

    mix(include_today=True, shuffle=shuffle)
    stored = list(db.session.scalars(sa.select(Response.answers).order_by(Response.id)))
    assert stored == seen[0] and stored != patterns
    assert sorted(stored) == sorted(patterns)


def test_uuids_are_fresh_and_ids_of_different_releases_do_not_interleave(app, offices,
                                                                         instrument):
    hold_answers(instrument, offices["BD-KM"], 3, vn_day(utcnow()))
    release_all()
    hold_answers(instrument, offices["BD-KM"], 3, vn_day(utcnow()))
    release_all()
    assert len(set(db.session.scalars(sa.select(Response.uuid)))) == 6


def test_submission_keys_recognise_a_resent_copy_and_expire(app, offices):
    assert claim_submission_key("3f1c2a4e-8b9d-4c1e-9f00-1a2b3c4d5e6f") is True
    assert claim_submission_key("3f1c2a4e-8b9d-4c1e-9f00-1a2b3c4d5e6f") is False
    db.session.commit()
    stored = db.session.scalar(sa.select(SubmissionKey.key_hash))
    assert "3f1c2a4e" not in stored and len(stored) == 64  # a digest, not the id
    mix(now=utcnow() + timedelta(days=app.config["SUBMISSION_KEY_DAYS"] + 1))
    assert count(SubmissionKey) == 0


@pytest.mark.postgres_only
def test_concurrent_mixers_release_every_answer_exactly_once(app, backend, offices,
                                                               instrument):
    if backend != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    for code in ("BD-KM", "BD-DB", "STP", "BD"):
        hold_answers(instrument, offices[code], 12, vn_day(utcnow()))
    db.session.remove()
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            with app.app_context():
                barrier.wait()
                results.append(mix(include_today=True).released)
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sum(results) == 48
    assert count(Response) == 48 and count(PendingAnswer) == 0
    assert db.session.scalar(sa.select(sa.func.sum(MonthlyChannelCount.responses))) == 48
    assert rebuild_tallies(db.session) == 0


def test_absent_json_values_are_sql_null_pending_and_released(app, offices, instrument):
    """Attack (issue 13 §4): Python ``None`` was stored as the JSON text 'null', so
    ``expectations IS NULL`` matched nothing (58,329 of 83k rows in a test) and the dashboard's
    "has expectations" filter filtered nothing. Every JSON column now stores SQL NULL."""
    from core.models import AuditEvent
    from core.services.audit import record

    for exp in (None, {"digital": 3}, None):
        hold(clean_response(instrument, {"I.1": 5}, expectations=exp), offices["BD-KM"].id,
             "kiosk", vn_day(utcnow()))
    record("test.event", actor="test")
    db.session.commit()

    def is_null(table, column) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(table)
                                 .where(column.is_(None)))

    assert is_null(PendingAnswer, PendingAnswer.expectations) == 2
    assert is_null(PendingAnswer, PendingAnswer.demographics) == 3
    assert is_null(AuditEvent, AuditEvent.details) == 1
    release_all()
    assert is_null(Response, Response.expectations) == 2
    assert is_null(Response, Response.demographics) == 3
    raw = db.session.execute(sa.text("SELECT count(*) FROM response WHERE expectations IS NULL"))
    assert raw.scalar() == 2  # in SQL, not only through the ORM's reading
    from core.services.dashboard import expectations_summary

    month = month_of(utcnow())
    assert expectations_summary(offices["BD"], month, instrument)["respondents"] == 1

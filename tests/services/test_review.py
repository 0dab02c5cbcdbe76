"""The held-back answers' review queue: grouped by office, pattern and day; released into
the tallies exactly once, or discarded; all or nothing; audited without the pattern."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.errors import NotFound
from core.extensions import db
from core.models import AuditEvent, MonthlyChannelCount, Response
from core.services import review
from core.services.intake import clean_response
from core.services.mixing import hold, vn_day
from core.services.tallies import rebuild_tallies
from core.timeutil import month_bounds_utc
from tests.helpers import release_all


def _held(instrument, office, month, n, sat, day=5, flags="burst"):
    start, _end = month_bounds_utc(month)
    for _i in range(n):
        clean = clean_response(instrument, {c.code: sat for c in instrument.criteria})
        hold(clean, office.id, "kiosk", vn_day(start + timedelta(days=day, hours=3)),
             counted=False, flags=flags)
    db.session.commit()


def _responses(office, month) -> int:
    office_id = office if isinstance(office, int) else office.id
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
        MonthlyChannelCount.responses), 0)).where(MonthlyChannelCount.office_id == office_id,
                                                  MonthlyChannelCount.month == month)))


def test_release_counts_a_group_exactly_once(world, instrument):
    km, m = world["offices"]["BD-KM"], world["month"]
    bd = world["users"]["bd"]
    before = _responses(km, m)
    _held(instrument, km, m, 3, 5)
    _held(instrument, km, m, 2, 1, day=6, flags="clock,burst")
    assert review.pending_held_count(world["offices"]["BD"]) == 5
    release_all()
    bd_office = world["offices"]["BD"]
    assert review.waiting_count(bd_office) == 5
    assert review.waiting_count(world["offices"]["STP"]) == 0
    groups = review.held_groups(bd_office)
    assert [(g.count, g.burst, g.clock) for g in groups] == [(2, 2, 2), (3, 3, 0)]
    assert groups[1].levels == {"5": len(instrument.criteria)}
    assert _responses(km, m) == before  # held back: not in the figures

    assert review.release(bd, [groups[1].key]) == 3
    assert _responses(km, m) == before + 3
    assert review.release(bd, [groups[1].key, groups[1].key]) == 0  # idempotent
    assert _responses(km, m) == before + 3
    assert rebuild_tallies(db.session) == 0  # the tallies agree with the counted answers
    assert review.waiting_count(bd_office) == 2

    assert review.discard(bd, [groups[0].key]) == 2
    assert review.discard(bd, [groups[0].key]) == 0
    assert review.release(bd, [groups[0].key]) == 0  # a discarded group stays out
    assert _responses(km, m) == before + 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                             .where(Response.review == "discarded")) == 2  # kept
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.in_(("held.release", "held.discard")))).all()
    assert sorted((e.action, e.details["answers"]) for e in events) == [
        ("held.discard", 2), ("held.release", 3)]
    assert all("5" * 5 not in str(e.details) for e in events)


def test_a_group_outside_the_scope_changes_nothing(world, instrument):
    km, stp, m = world["offices"]["BD-KM"], world["offices"]["STP"], world["month"]
    _held(instrument, km, m, 2, 4)
    _held(instrument, stp, m, 2, 4)
    release_all()
    mine = review.held_groups(world["offices"]["BD"])[0].key
    theirs = review.held_groups(stp)[0].key
    with pytest.raises(NotFound):
        review.release(world["users"]["bd"], [mine, theirs])
    assert review.waiting_count(world["offices"]["BD"]) == 2  # all or nothing
    assert review.held_groups(world["offices"]["HN"]) != []


@pytest.mark.postgres_only
def test_concurrent_reviewers_release_a_group_exactly_once(app, backend, world, instrument):
    """Four reviewers press "count" on the same group at once: the answers enter the
    tallies once (PostgreSQL re-checks ``review IS NULL`` on rows another transaction just
    updated)."""
    import threading

    if backend != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    km, m = world["offices"]["BD-KM"], world["month"]
    before = _responses(km, m)
    _held(instrument, km, m, 6, 3)
    release_all()
    key = review.held_groups(world["offices"]["BD"])[0].key
    user_id, km_id = world["users"]["bd"].id, km.id
    db.session.remove()
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            with app.app_context():
                from core.models import User

                reviewer = db.session.get(User, user_id)
                barrier.wait()
                results.append(review.release(reviewer, [key]))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sorted(results) == [0, 0, 0, 6]
    assert _responses(km_id, m) == before + 6
    assert rebuild_tallies(db.session) == 0


def test_the_dashboards_counts_read_the_partial_indexes(app, offices):
    """The held-back count and the comment counts are written so that the database uses the
    partial indexes on the few rows they need (a city's dashboard scanned every answer of the
    subtree when SQLite could not match ``counted = 0`` with the index's ``NOT counted``)."""
    from core.services import comment_search

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the query plan is read with SQLite's EXPLAIN QUERY PLAN")
    city = offices["HN"]

    def plan(stmt: sa.Select) -> str:
        sql = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        return " ".join(str(row[-1]) for row in db.session.execute(
            sa.text(f"EXPLAIN QUERY PLAN {sql}")))

    held = review.within(sa.select(sa.func.count()).select_from(review._R),
                         review._R.c.office_id, city.id).where(review._WAITING)
    assert "ix_response_held" in plan(held)
    month = comment_search.Filters(month="2026-10")
    counts = comment_search._base(city, month, None).with_only_columns(sa.func.count())
    assert "ix_response_comment" in plan(counts)
    # the oldest open comment's day reads the index alone (submitted_at is in it): the
    # program never reads a column of the answers' table (its seek stays deferred)
    open_month = comment_search.Filters(month="2026-10", open_only=True)
    oldest = comment_search._base(city, open_month, None).with_only_columns(
        sa.func.min(comment_search.Response.submitted_at))
    assert "ix_response_comment" in plan(oldest)
    sql = oldest.compile(db.engine, compile_kwargs={"literal_binds": True})
    ops = db.session.execute(sa.text(f"EXPLAIN {sql}")).all()
    root = db.session.scalar(sa.text(
        "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'response'"))
    table = {op[2] for op in ops if op[1] == "OpenRead" and op[3] == root}
    assert table and not [op for op in ops if op[1] == "Column" and op[2] in table]

"""The cross-tally of criterion pairs is kept wherever the tallies are (the release of the
mixing stage, the paper import, the demo data, ``flask tallies rebuild``), adds up exactly
under concurrent writers, and holds nothing that the tallies do not: no time, day, channel or
order of its own."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import MonthlyCrossTally, Response
from core.services.intake import clean_response
from core.services.mixing import hold, vn_day
from core.services.tallies import add_cross_tallies, cross_layout, rebuild_tallies
from core.timeutil import utcnow
from tests.helpers import CODES, paper_row, release_all, write_csv


def stored_cross() -> dict[tuple, list[int]]:
    layout = cross_layout("hanoi-2022")
    return {(o, m, i): layout.unpack(bytes(c)) for o, m, i, c in db.session.execute(
        sa.select(MonthlyCrossTally.office_id, MonthlyCrossTally.month,
                  MonthlyCrossTally.instrument_id, MonthlyCrossTally.counts))}


def counted_from_responses() -> dict[tuple, list[int]]:
    layout = cross_layout("hanoi-2022")
    groups: dict[tuple, list[str]] = {}
    for o, m, i, answers in db.session.execute(
            sa.select(Response.office_id, Response.month, Response.instrument_id,
                      Response.answers).where(Response.counted.is_(True))):
        groups.setdefault((o, m, i), []).append(answers)
    return {key: layout.count(rows) for key, rows in groups.items()}


def _hold(instrument, office, scores: list[dict], day=None) -> None:
    for answers in scores:
        hold(clean_response(instrument, answers), office.id, "kiosk", day or vn_day(utcnow()))
    db.session.commit()


def test_every_writer_keeps_the_cross_tally(app, runner, offices, instrument, tmp_path):
    _hold(instrument, offices["BD-KM"], [{"I.1": 5, "I.2": 2, "V.1": 4}, {"I.1": 1},
                                         {c: 4 for c in CODES}])
    release_all()
    assert stored_cross() == counted_from_responses() and len(stored_cross()) == 1
    # the mixing stage again, the same office-month: added to the stored row
    _hold(instrument, offices["BD-KM"], [{"I.1": 4, "I.2": 4}] * 3)
    release_all()
    path = write_csv(tmp_path / "paper.csv", ["office_code", "submitted_at", *CODES],
                     [paper_row("BD-DB", "2022-07-05", "5"),
                      paper_row("BD-DB", "2022-07-06", ["2"] * 20 + [""] * 4),
                      paper_row("BD-KM", "2022-07-06", "3")])
    assert runner.invoke(args=["responses", "import", str(path)]).exit_code == 0
    expected = counted_from_responses()
    assert stored_cross() == expected and len(expected) == 3
    respondents = {key[0]: counts[0] for key, counts in expected.items() if key[1] == "2022-07"}
    assert respondents == {offices["BD-DB"].id: 2, offices["BD-KM"].id: 1}
    assert rebuild_tallies(db.session) == 0


def test_demo_data_keeps_the_cross_tally(app, instrument):
    from core.services.demo import load_demo

    load_demo(instrument, months=2, seed=3)
    assert stored_cross() == counted_from_responses()
    assert rebuild_tallies(db.session) == 0


def test_rebuild_repairs_a_wrong_or_missing_cross_tally(app, runner, offices, instrument):
    """After the upgrade the cross-tally is empty: reports give dimension and overall indices
    no interval (never a wrong one) until ``flask tallies rebuild``."""
    _hold(instrument, offices["BD-KM"], [{c: 5 if i % 3 else 2 for c in CODES}
                                         for i in range(40)])
    release_all()
    month = next(iter(stored_cross()))[1]
    before = runner.invoke(args=["report", "BD", month]).output
    db.session.execute(sa.delete(MonthlyCrossTally))
    db.session.commit()
    from core.services.reports import monthly_report

    stale = monthly_report(offices["BD"], month)
    assert stale["overall_ci95"] is None and stale["dimensions"][0]["ci95"] is None
    assert stale["dimensions"][0]["respondents"] is None and stale["overall"] is not None
    result = runner.invoke(args=["tallies", "rebuild"])
    assert result.exit_code == 0 and "1 dòng" in result.output
    assert runner.invoke(args=["report", "BD", month]).output == before
    fixed = monthly_report(offices["BD"], month)
    assert fixed["overall_ci95"] is not None and fixed["dimensions"][0]["respondents"] == 40


def test_the_cross_tally_has_no_time_day_or_order_of_its_own(app, offices, instrument):
    """The same answers released on different days, in different orders and batches, give
    the same bytes: the row is a sum over the office-month, like the tallies; its only
    columns are the tallies' key and the counts."""
    answers = [{"I.1": 1 + i % 5, "II.1": 5 - i % 5, "V.2": 4 if i % 2 else None}
               for i in range(12)]
    days = [vn_day(utcnow()).replace(day=1), vn_day(utcnow()).replace(day=2)]
    _hold(instrument, offices["BD-KM"], answers[:5], days[0])
    _hold(instrument, offices["BD-KM"], answers[5:], days[1])
    release_all()
    first = db.session.scalar(sa.select(MonthlyCrossTally.counts))
    db.session.execute(sa.delete(MonthlyCrossTally))
    db.session.execute(sa.delete(Response))
    db.session.commit()
    _hold(instrument, offices["BD-KM"], answers[::-1], days[1])
    release_all()
    assert bytes(db.session.scalar(sa.select(MonthlyCrossTally.counts))) == bytes(first)
    columns = {c.name for c in MonthlyCrossTally.__table__.columns}
    assert columns == {"office_id", "month", "instrument_id", "counts"}


@pytest.mark.postgres_only
def test_concurrent_additions_to_one_cross_tally_lose_nothing(app, backend, offices):
    """Two writers (a release and a paper import, say) add to the same office-month at once:
    the second waits for the first's row lock and adds to what it committed."""
    if backend != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    layout = cross_layout("hanoi-2022")
    key = (offices["BD-KM"].id, "2022-07", "hanoi-2022")
    one = layout.count(["5" * 24])
    add_cross_tallies(db.session, {key: one})
    db.session.commit()
    db.session.remove()
    started = threading.Event()
    errors: list[Exception] = []

    def second() -> None:
        try:
            with app.app_context():
                started.set()
                add_cross_tallies(db.session, {key: one})
                db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    add_cross_tallies(db.session, {key: one})  # holds the row lock until commit
    thread = threading.Thread(target=second)
    thread.start()
    started.wait(10)
    waiting = False
    for _ in range(300):  # the second writer waits for the row lock
        with db.engine.connect() as watcher:  # a fresh snapshot of pg_stat_activity each time
            waiting = bool(watcher.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query ILIKE '%monthly_cross_tally%'")
            ).scalar())
        if waiting or not thread.is_alive():
            break
        time.sleep(0.05)
    assert waiting, ("the second writer did not wait for the first one's row lock", errors)
    db.session.commit()
    thread.join(timeout=30)
    assert errors == []
    assert stored_cross()[key] == [3 * x for x in one]

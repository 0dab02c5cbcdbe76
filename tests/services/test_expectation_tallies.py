"""The expectation tallies (issue 20): the dashboard's "what citizens want improved" is read
from ``monthly_expectation_tally``, which the mixing stage's release, the demo data and
``flask tallies rebuild`` keep equal to a recount of the stored responses."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from core.extensions import db
from core.models import MonthlyExpectationTally, Response
from core.services.dashboard import build_dashboard, expectations_summary
from core.services.intake import clean_response
from core.services.mixing import hold, vn_day
from core.services.tallies import rebuild_tallies
from core.timeutil import utcnow
from tests.helpers import release_all


def recount(instrument, office_ids: set[int], month: str) -> tuple[int, dict]:
    """Respondents and area -> level -> count, from the raw counted responses."""
    areas = set(instrument.expectation_area_codes())
    counts: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    respondents = 0
    for (exp,) in db.session.execute(sa.select(Response.expectations).where(
            Response.office_id.in_(office_ids), Response.month == month,
            Response.counted.is_(True))):
        if exp:
            respondents += 1
            for area, level in exp.items():
                if area in areas:
                    counts[area][level] += 1
    return respondents, {a: dict(v) for a, v in counts.items()}


def shown(summary: dict) -> tuple[int, dict]:
    return summary["respondents"], {a["code"]: {int(k): v for k, v in a["levels"].items() if v}
                                    for a in summary["areas"] if a["n"]}


def this_month() -> str:
    """The Vietnam month the release files today's answers under."""
    day = vn_day(utcnow())
    return f"{day.year:04d}-{day.month:02d}"


def _hold(instrument, office, answers: list[dict | None]) -> None:
    for i, exp in enumerate(answers):
        hold(clean_response(instrument, {"I.1": 1 + i % 5}, expectations=exp), office.id,
             "kiosk", vn_day(utcnow()))
    db.session.commit()


def test_release_and_rebuild_keep_the_expectation_tally(app, runner, offices, instrument):
    areas = instrument.expectation_area_codes()
    _hold(instrument, offices["BD-KM"], [{areas[0]: 3, areas[1]: 1}, None, {areas[0]: 2},
                                          {}, {a: 3 for a in areas}])
    release_all()
    _hold(instrument, offices["BD-DB"], [{areas[2]: 1}] * 3)
    release_all()
    _hold(instrument, offices["BD-KM"], [{areas[0]: 3}])  # the same office-month again
    release_all()
    month = this_month()
    ids = {offices["BD-KM"].id, offices["BD-DB"].id}
    expected = recount(instrument, ids, month)
    assert expected[0] == 7 and expected[1][areas[0]] == {3: 3, 2: 1}
    assert shown(expectations_summary(offices["BD"], month, instrument)) == expected
    assert shown(build_dashboard(offices["BD"], month)["expectations"]) == expected
    assert shown(expectations_summary(offices["BD-DB"], month, instrument)) == \
        recount(instrument, {offices["BD-DB"].id}, month)
    assert rebuild_tallies(db.session) == 0  # what the release wrote is what a recount gives
    # a lost table is rebuilt from the raw rows by `flask tallies rebuild`
    db.session.execute(sa.delete(MonthlyExpectationTally))
    db.session.commit()
    assert shown(expectations_summary(offices["BD"], month, instrument))[0] == 0
    result = runner.invoke(args=["tallies", "rebuild"])
    assert result.exit_code == 0, result.output
    assert shown(expectations_summary(offices["BD"], month, instrument)) == expected


def test_demo_data_keeps_the_expectation_tally(app, instrument):
    from core.models import Office
    from core.services.demo import load_demo

    load_demo(instrument, months=1, seed=4)
    city = db.session.scalar(sa.select(Office).where(Office.parent_id.is_(None)))
    month = this_month()
    all_ids = set(db.session.scalars(sa.select(Office.id)))
    expected = recount(instrument, all_ids, month)
    assert expected[0] > 0
    assert shown(expectations_summary(city, month, instrument)) == expected
    assert rebuild_tallies(db.session) == 0


def test_a_dashboard_may_leave_the_expectations_out(app, offices, instrument):
    _hold(instrument, offices["BD-KM"], [{instrument.expectation_area_codes()[0]: 3}])
    release_all()
    month = this_month()
    assert build_dashboard(offices["BD"], month, expectations=False)["expectations"] is None
    assert build_dashboard(offices["BD"], month)["expectations"]["respondents"] == 1

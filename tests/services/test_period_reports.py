"""Reports of a quarter, half-year, year or range of months (issue 14 §1): the months'
tallies pooled, compared with the period of the same kind before it and the same period a
year earlier, at the cost of a month (nine pooled queries, never a scan of the answers)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from core.errors import Invalid
from core.extensions import db
from core.periods import parse_period
from core.services.reports import monthly_report, period_report
from tests.admin.fixtures import make_responses


@pytest.fixture
def quarters(app, offices, instrument):
    """BD-KM: 2022-07 10 answers of 5, 2022-08 20 of 4, 2022-09 5 of 2 (2022-Q3); 2022-04 40
    of 3 (Q2); 2021-08 30 of 5 (Q3 a year earlier); 2022-08 12 of 4 through QR in BD-DB."""
    km, bd_db = offices["BD-KM"], offices["BD-DB"]
    for office, month, n, sat, channel in ((km, "2022-07", 10, 5, "kiosk"),
                                           (km, "2022-08", 20, 4, "kiosk"),
                                           (km, "2022-09", 5, 2, "kiosk"),
                                           (km, "2022-04", 40, 3, "kiosk"),
                                           (km, "2021-08", 30, 5, "kiosk"),
                                           (bd_db, "2022-08", 12, 4, "qr")):
        make_responses(instrument, office, month, n, sat=sat, channel=channel)
    return offices


def test_a_quarter_pools_its_months(quarters):
    bd = quarters["BD"]
    q3 = period_report(bd, "2022-q3")
    assert q3["period"] == "2022-Q3" and q3["months"] == ["2022-07", "2022-08", "2022-09"]
    assert "month" not in q3
    months = [monthly_report(bd, m) for m in q3["months"]]
    assert q3["responses"] == sum(m["responses"] for m in months) == 47
    assert q3["channels"] == {"kiosk": 35, "qr": 12}
    for i, c in enumerate(q3["criteria"]):
        assert c["answered"] == sum(m["criteria"][i]["answered"] for m in months)
        assert c["satisfied"] == sum(m["criteria"][i]["satisfied"] for m in months)
        assert c["counts"] == {k: sum(m["criteria"][i]["counts"][k] for m in months)
                               for k in "12345"}
    # the pooled cross-tally counts the same respondents: dimensions have intervals
    assert all(d["respondents"] is not None for d in q3["dimensions"])
    assert q3["overall_ci95"] is not None


def test_a_period_is_compared_with_the_one_before_and_a_year_earlier(quarters):
    km = quarters["BD-KM"]
    q3 = period_report(km, parse_period("2022-Q3"))
    q2 = period_report(km, "2022-Q2")
    q3_2021 = period_report(km, "2021-Q3")
    i1 = next(c for c in q3["criteria"] if c["code"] == "I.1")
    i1_q2 = next(c for c in q2["criteria"] if c["code"] == "I.1")
    i1_2021 = next(c for c in q3_2021["criteria"] if c["code"] == "I.1")
    assert i1["change"]["previous"]["delta"] == pytest.approx(i1["index"] - i1_q2["index"])
    assert i1["change"]["year_ago"]["delta"] == pytest.approx(i1["index"] - i1_2021["index"])
    # a month report is the one-month period, and says its month
    july = period_report(km, "2022-07")
    assert july == monthly_report(km, "2022-07")
    assert july["month"] == july["period"] == "2022-07" and july["months"] == ["2022-07"]


def test_halves_years_and_ranges(quarters):
    km = quarters["BD-KM"]
    h2, year, rng = (period_report(km, p) for p in ("2022-H2", "2022", "2022-04..2022-08"))
    assert h2["period"] == "2022-H2" and len(h2["months"]) == 6 and h2["responses"] == 35
    assert year["period"] == "2022" and len(year["months"]) == 12 and year["responses"] == 75
    assert rng["period"] == "2022-04..2022-08" and rng["responses"] == 70
    one = period_report(km, "2022-07..2022-07")
    assert one["period"] == "2022-07" and one["month"] == "2022-07"


def test_the_cost_of_a_period_does_not_grow_with_its_length(quarters):
    """A year and a ten-year range run as many statements as a month."""
    statements: list[str] = []

    def count(*args, **kwargs):
        statements.append(args[2] if len(args) > 2 else "")

    engine = db.engine
    km = quarters["BD-KM"]
    sizes = {}
    period_report(km, "2022-01")  # warm: lazy loads of the office and its targets
    for label in ("2022-07", "2022", "2013-01..2022-12"):
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            period_report(km, label)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        sizes[label] = len(statements)
        assert not any("FROM response" in s for s in statements), "never the raw answers"
    assert sizes["2022"] == sizes["2022-07"] == sizes["2013-01..2022-12"], statements


@pytest.mark.parametrize("label", ["2022-Q5", "2022-H3", "2022-13", "22", "2022-09..2022-07",
                                   "2000-01..2012-12", "", "2022-Q1x"])
def test_a_bad_period_is_a_400(quarters, label):
    with pytest.raises(Invalid) as err:
        period_report(quarters["BD"], label)
    assert err.value.code in ("invalid_period", "invalid_month")


def test_flask_report_takes_every_kind_of_period(runner, quarters):
    out = runner.invoke(args=["report", "BD", "2022-Q3"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["period"] == "2022-Q3" and data["responses"] == 47 and "month" not in data
    csv_out = runner.invoke(args=["report", "BD", "2022-07..2022-09", "--format", "csv"])
    assert csv_out.exit_code == 0
    assert csv_out.output.splitlines()[1].split(",")[1] == '"2022-07..2022-09"'
    bad = runner.invoke(args=["report", "BD", "2022-Q7"])
    assert bad.exit_code == 1 and "2022-Q7 không phải kỳ báo cáo hợp lệ" in bad.output


def test_the_api_and_the_dashboard_take_periods(app, client, runner, quarters):
    from core.services.accounts import create_token, create_user
    from tests.admin.fixtures import FAST, login

    app.config["PASSWORD_HASH_METHOD"] = FAST
    user = create_user("city", "admin", None, "Hoan-Kiem-lake-1", actor="test",
                       must_change=False)[0]
    token = create_token(user, "t", actor="test").secret
    r = client.get("/api/v1/offices/BD/reports/2022-Q3",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.get_json() == json.loads(runner.invoke(args=["report", "BD", "2022-Q3"]).output)
    bad = client.get("/api/v1/offices/BD/reports/2022-Q9",
                     headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_period"
    login(client, "city")
    page = client.get("/admin/?office=BD&period=2022-Q3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "quý 3/2022" in html and 'value="2022-Q3"' in html
    assert "/admin/exports/BD/2022-Q3/report.pdf" in html
    assert client.get("/admin/?office=BD&period=2022-Q9").status_code == 400

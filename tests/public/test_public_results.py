"""The public results (/ket-qua/): offices listed, a month published only once it is over with
enough answers and complete figures, the overall and dimension indices with intervals and the
trend, CSV, cache headers, and an office switched off (audited) absent everywhere."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Office
from core.services.accounts import create_user
from core.services.intake import clean_response
from core.services.mixing import hold, vn_day
from core.timeutil import last_complete_month, month_bounds_utc, shift_month
from tests.admin.fixtures import FAST
from tests.helpers import release_all


def answer_month(instrument, office, month: str, n: int, score: int) -> None:
    start, _end = month_bounds_utc(month)
    for i in range(n):
        answers = {c.code: (score if i % 4 else 5) for c in instrument.criteria}
        hold(clean_response(instrument, answers), office.id, "kiosk",
             vn_day(start + timedelta(days=2, hours=3)))
    db.session.commit()


@pytest.fixture
def results(make_app):
    app = make_app(MIN_SAMPLE=10, PUBLIC_CACHE_SECONDS=0)
    with app.app_context():
        from core.services.common import get_instrument
        from tests.kiosk.helpers import load_offices

        load_offices()
        instrument = get_instrument("hanoi-2022")
        offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
        last = last_complete_month()
        answer_month(instrument, offices["BD-KM"], shift_month(last, -2), 20, 4)
        answer_month(instrument, offices["BD-KM"], shift_month(last, -1), 6, 4)  # too few
        answer_month(instrument, offices["BD-KM"], last, 24, 2)
        answer_month(instrument, offices["STP"], last, 12, 4)
        release_all()
        db.session.remove()
        yield app, last


def test_results_page_shows_published_months_with_intervals_and_trend(results):
    app, last = results
    client = app.test_client()
    index = client.get("/ket-qua/")
    html = index.get_data(as_text=True)
    assert index.status_code == 200 and 'data-office="BD-KM"' in html
    assert index.headers["Cache-Control"] == "public, max-age=0"
    page = client.get("/ket-qua/BD-KM")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kết quả: UBND phường Kim Mã" in html
    assert f'data-month="{last}"' in html and f'data-month="{shift_month(last, -2)}"' in html
    assert f'data-month="{shift_month(last, -1)}"' not in html  # 6 answers: not published
    assert html.index(f'data-month="{last}"') < html.index(f'data-month="{shift_month(last, -2)}"')
    assert 'data-figure="overall"' in html and 'data-figure="I"' in html
    assert "Khoảng tin cậy" in html and "từ " in html
    assert "Xu hướng: giảm" in html and "Tháng đầu tiên được công bố." in html
    assert "Đăng nhập" not in html  # no sign-in anywhere


def test_csv_is_open_and_matches_the_page(results):
    app, last = results
    client = app.test_client()
    r = client.get("/ket-qua/BD-KM/csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    overall = [row for row in rows if row["figure"] == "overall"]
    assert [row["month"] for row in overall] == [last, shift_month(last, -2)]
    assert overall[0]["change_significant"] == "yes" and float(overall[0]["index"]) < 50
    assert overall[1]["change_vs_previous_shown"] == ""
    assert float(overall[0]["ci95_low"]) <= float(overall[0]["index"]) <= float(
        overall[0]["ci95_high"])


def test_switched_off_office_is_absent_and_the_switch_is_audited(results):
    app, _last = results
    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("city", "admin", None, "Hoan-Kiem-lake-1", actor="test", must_change=False)
    create_user("bd", "head", "BD", "Ba-Dinh-square-2", actor="test", must_change=False)
    db.session.commit()
    office_id = db.session.scalar(sa.select(Office.id).where(Office.code == "BD-KM"))
    head = app.test_client()
    head.post("/admin/login", data={"username": "bd", "password": "Ba-Dinh-square-2"})
    assert head.post(f"/admin/public-results/{office_id}", data={"public": "n"}
                     ).status_code == 403  # a head may not
    admin = app.test_client()
    admin.post("/admin/login", data={"username": "city", "password": "Hoan-Kiem-lake-1"})
    assert 'data-office="BD-KM"' in admin.get("/admin/public-results").get_data(as_text=True)
    assert admin.post(f"/admin/public-results/{office_id}", data={"public": "n"}
                      ).status_code == 302
    db.session.remove()
    event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "office.public_results"))
    assert event.actor == "city" and event.details["public"] is False
    public = app.test_client()
    assert 'data-office="BD-KM"' not in public.get("/ket-qua/").get_data(as_text=True)
    assert 'data-office="STP"' in public.get("/ket-qua/").get_data(as_text=True)
    for path in ("/ket-qua/BD-KM", "/ket-qua/BD-KM/csv", "/ket-qua/BD-KM/phan-hoi"):
        r = public.get(path)
        assert r.status_code == 404 and r.headers["Cache-Control"] == "no-store"
    admin.post(f"/admin/public-results/{office_id}", data={"public": "y"})
    assert public.get("/ket-qua/BD-KM").status_code == 200


def test_an_office_without_enough_answers_says_so(results):
    app, _last = results
    html = app.test_client().get("/ket-qua/BD-DB").get_data(as_text=True)
    assert "data-no-results" in html


def test_pages_are_cached_on_the_server(make_app):
    app = make_app(PUBLIC_CACHE_SECONDS=300)
    with app.app_context():
        from tests.kiosk.helpers import load_offices

        load_offices()
        db.session.commit()
        client = app.test_client()
        assert client.get("/ket-qua/").headers["Cache-Control"] == "public, max-age=300"
        db.session.execute(sa.update(Office).where(Office.code == "STP")
                           .values(name="Sở Tư pháp (mới)"))
        db.session.commit()
        assert "Sở Tư pháp (mới)" not in client.get("/ket-qua/").get_data(as_text=True)
        from core.services.public import clear_cache

        clear_cache()
        assert "Sở Tư pháp (mới)" in client.get("/ket-qua/").get_data(as_text=True)

"""Shared fixtures of the results-area tests: users of every role and a month of responses."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from core.extensions import db
from core.timeutil import last_complete_month, month_bounds_utc

#: a cheap scrypt for tests (production uses the default cost)
FAST = "scrypt:1024:8:1"
PASSWORDS = {"city": "Hoan-Kiem-lake-1", "bd": "Ba-Dinh-square-2", "stp": "Tu-phap-office-3",
             "kmview": "Kim-Ma-street-4"}


def make_responses(instrument, office, month: str, n: int, *, sat: int = 4,
                   comment: str | None = None, channel: str = "kiosk",
                   expectations: dict | None = None, day: int = 3) -> list[int]:
    """Store ``n`` responses in ``office`` for ``month`` (acknowledged, then released by the
    mixing stage): every criterion answered ``sat`` except V.4 left unanswered. Returns
    their ids."""
    import sqlalchemy as sa

    from core.models import Response
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from tests.helpers import release_all

    start, _end = month_bounds_utc(month)
    before = db.session.scalar(sa.select(sa.func.max(Response.id))) or 0
    for _i in range(n):
        answers = {c.code: sat for c in instrument.criteria}
        answers["V.4"] = None
        clean = clean_response(instrument, answers, comment=comment,
                               expectations=expectations)
        hold(clean, office.id, channel, vn_day(start + timedelta(days=day, hours=3)))
    db.session.commit()
    release_all()
    return list(db.session.scalars(sa.select(Response.id).where(Response.id > before)
                                   .order_by(Response.id)))


def make_contact_request(office, month: str, comment: str | None, contact: str,
                         day: int = 10) -> int:
    """Store a contact request of ``office`` dated ``day`` of ``month`` (as the intake would
    for a citizen who consented). Returns its id."""
    from datetime import date

    import sqlalchemy as sa

    from core.models import ContactRequest
    from core.personal_data import normalize_contact

    parsed = normalize_contact(contact)
    assert parsed is not None
    return db.session.execute(sa.insert(ContactRequest).values(
        office_id=office.id, day=date(int(month[:4]), int(month[5:]), day), comment=comment,
        contact_kind=parsed.kind, contact=parsed.value, status="new")
        .returning(ContactRequest.id)).scalar_one()


@pytest.fixture
def world(app, offices, instrument) -> dict[str, Any]:
    """Users: city admin, head of BD, head of STP, viewer of BD-KM; responses last month in
    BD-KM (35, 30 satisfied + 5 not), BD-DB (4), STP (12); a comment in BD-KM and STP; a
    contact request in BD-KM (phone 0912345678) and STP (an e-mail address)."""
    from core.services.accounts import create_user

    app.config["PASSWORD_HASH_METHOD"] = FAST
    month = last_complete_month()
    users = {
        "city": create_user("city", "admin", None, PASSWORDS["city"], actor="test",
                            must_change=False)[0],
        "bd": create_user("bd", "head", "BD", PASSWORDS["bd"], actor="test",
                          must_change=False)[0],
        "stp": create_user("stp", "head", "STP", PASSWORDS["stp"], actor="test",
                           must_change=False)[0],
        "kmview": create_user("kmview", "viewer", "BD-KM", PASSWORDS["kmview"], actor="test",
                              must_change=False)[0],
    }
    make_responses(instrument, offices["BD-KM"], month, 30, sat=5, channel="kiosk",
                   expectations={"digital": 3, "attitude": 1})
    make_responses(instrument, offices["BD-KM"], month, 5, sat=2, channel="qr")
    km_comment = make_responses(instrument, offices["BD-KM"], month, 1, sat=4,
                                comment="Nhà vệ sinh cần sạch sẽ hơn.", day=10)[0]
    make_responses(instrument, offices["BD-DB"], month, 4, sat=3, channel="paper")
    stp_comment = make_responses(instrument, offices["STP"], month, 12, sat=4,
                                 comment="=HYPERLINK(\"http://evil\")", channel="qr")[0]
    requests = {code: make_contact_request(offices[code], month, comment, contact)
                for code, comment, contact in (
                    ("BD-KM", "Xin gọi lại về lệ phí.", "0912 345 678"),
                    ("STP", "Hồ sơ chứng thực bị trả lại, mong được giải thích.",
                     "an.nguyen@example.vn"))}
    db.session.commit()
    from core.services.kiosks import add_kiosk

    km_kiosk = add_kiosk(offices["BD-KM"], "Quầy 1", actor="test").kiosk.id
    stp_kiosk = add_kiosk(offices["STP"], "Quầy 2", actor="test").kiosk.id
    return {"month": month, "users": users, "km_comment": km_comment,
            "stp_comment": stp_comment, "km_request": requests["BD-KM"],
            "stp_request": requests["STP"], "offices": offices, "km_kiosk": km_kiosk,
            "stp_kiosk": stp_kiosk}


def login(client, username: str, password: str | None = None, follow: bool = False):
    return client.post("/admin/login", data={"username": username,
                                             "password": password or PASSWORDS[username]},
                       follow_redirects=follow)


def indices_by_code(html: str) -> dict[str, str]:
    """data-code -> the text of the first data-index cell in that row/card."""
    out = {}
    for m in re.finditer(r'data-code="([^"]+)".*?data-index>(.*?)<', html, re.S):
        out[m.group(1)] = m.group(2).strip()
    return out


def report_json(runner, code: str, month: str) -> dict:
    """``flask report CODE MONTH`` as data (the reference every screen and file must match)."""
    result = runner.invoke(args=["report", code, month])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def load_seed_2021(runner, tmp_path, *, with_v: bool, day: str = "2022-07-15",
                   office: str = "BD-KM") -> None:
    """The seed's 2021 shares as a paper import into ``office`` (V blank unless ``with_v``),
    and the plan's 2022 targets (``flask targets import``, onto the city)."""
    from tests.helpers import seed_2021_csv

    path = seed_2021_csv(tmp_path / f"seed-{day}.csv", office, day, with_v=with_v)
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["targets", "import"])
    assert result.exit_code == 0, result.output


def make_answers(instrument, office, month: str, n: int, satisfied, *, blank=(),
                 day: int = 3) -> None:
    """Store ``n`` responses answering every criterion (except ``blank`` codes): response i
    is 'very satisfied' (5) on criterion c when i < satisfied(c), else 'dissatisfied' (2).
    ``satisfied`` is a number for every criterion or a dict code -> number (default n)."""
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from tests.helpers import release_all

    start, _end = month_bounds_utc(month)
    for i in range(n):
        answers = {}
        for c in instrument.criteria:
            k = satisfied.get(c.code, n) if isinstance(satisfied, dict) else satisfied
            answers[c.code] = None if c.code in blank else (5 if i < k else 2)
        hold(clean_response(instrument, answers), office.id, "kiosk",
             vn_day(start + timedelta(days=day, hours=3)))
    db.session.commit()
    release_all()

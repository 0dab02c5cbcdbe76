"""The public pages in a real browser: a follow-up code made on the kiosk shows the published
reply and never the comment; unknown codes are 404; the public results of an office; an office
switched off is absent. axe-core: no serious, critical or moderate violation."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from core.models import CommentHandling, Office, PendingAnswer, Response
from tests.browser.conftest import axe_violations, save_screenshot
from tests.browser.test_kiosk import expect_visible, run_questionnaire, start_kiosk
from tests.helpers import release_all

IMPACTS = ("moderate", "serious", "critical")
COMMENT = "Quầy số 2 đông quá, xin thêm người vào buổi sáng."
REPLY = "Từ tháng sau văn phòng bố trí thêm một cán bộ vào buổi sáng."


def test_kiosk_code_shows_the_published_reply_never_the_comment(live_app_factory, page,
                                                                browser):
    server = start_kiosk(live_app_factory, page, KIOSK_FOLLOWUP_SECONDS=30)
    run_questionnaire(page, "4", comment=COMMENT)
    box = page.locator("#k-followup")
    expect_visible(page, "#k-followup")
    shown = box.locator("[data-followup-code]").inner_text()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", shown), shown
    expect(box.locator(".followup-qr svg[role=img]")).to_have_count(1)
    assert axe_violations(page, IMPACTS) == []
    save_screenshot(page, "kiosk-thanks-followup")
    code = shown.replace("-", "")
    page.wait_for_selector("#k-pending", state="hidden")  # sent
    assert code not in (page.evaluate("JSON.stringify(localStorage)") or "")
    with server.app.app_context():
        digest = db.session.scalar(sa.select(PendingAnswer.followup_hash))
        assert digest == hashlib.sha256(code.encode()).hexdigest()  # only the hash was sent
        release_all()
        rid = db.session.scalar(sa.select(Response.id))
        handling = db.session.get(CommentHandling, rid)
        handling.status, handling.public_reply = "answered", REPLY
        db.session.commit()
        db.session.remove()
    page.locator("#k-done").click()  # the next citizen...
    expect_visible(page, "#k-start")
    assert page.locator("[data-followup-code]").inner_text() == ""  # ...sees no code

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    mine = phone.new_page()
    mine.goto(f"{server.url}/phan-hoi/")
    assert axe_violations(mine, IMPACTS) == []
    mine.get_by_label("Mã theo dõi").fill(shown.lower())
    mine.get_by_role("button", name="Tra cứu").click()
    expect(mine.locator("h1")).to_have_text("Góp ý của Ông/Bà")
    mine.wait_for_load_state()
    assert "Đã được văn phòng trả lời" in mine.content()
    assert REPLY not in mine.content()  # not published yet
    with server.app.app_context():
        db.session.execute(sa.update(CommentHandling).values(reply_public=True))
        db.session.commit()
        db.session.remove()
    mine.reload()
    assert mine.locator("[data-reply]").inner_text() == REPLY
    assert COMMENT not in mine.content() and "Quầy số 2" not in mine.content()
    assert axe_violations(mine, IMPACTS) == []
    save_screenshot(mine, "followup-reply")
    phone.close()


def test_unknown_code_is_404(live_app_factory, page):
    server = live_app_factory()
    response = page.goto(f"{server.url}/phan-hoi/ABCDE-12345")
    assert response.status == 404
    assert "Không có góp ý nào với mã này" in page.content()
    assert axe_violations(page, IMPACTS) == []
    response = page.goto(f"{server.url}/phan-hoi/?ma=12")
    assert response.status == 400 and page.locator("#ma").get_attribute("aria-invalid") == "true"
    assert axe_violations(page, IMPACTS) == []


def _results_setup(app) -> None:
    from core.services.common import get_instrument
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from core.timeutil import last_complete_month, month_bounds_utc, shift_month
    from tests.kiosk.helpers import load_offices

    load_offices()
    instrument = get_instrument("hanoi-2022")
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    last = last_complete_month()
    for code, month, n, score in (("BD-KM", shift_month(last, -1), 40, 4),
                                  ("BD-KM", last, 45, 3), ("STP", last, 40, 4)):
        start, _end = month_bounds_utc(month)
        for i in range(n):
            answers = {c.code: (score if i % 3 else 5) for c in instrument.criteria}
            hold(clean_response(instrument, answers), offices[code].id, "kiosk",
                 vn_day(start + timedelta(days=3, hours=2)))
    offices["STP"].public_results = False  # switched off by an administrator
    db.session.commit()
    release_all()


def test_public_results_page_and_a_switched_off_office(live_app_factory, page):
    server = live_app_factory(_results_setup)
    page.goto(f"{server.url}/ket-qua/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator('[data-office="BD-KM"]')).to_have_count(1)
    expect(page.locator('[data-office="STP"]')).to_have_count(0)  # switched off: absent
    assert axe_violations(page, IMPACTS) == []
    page.get_by_role("link", name="UBND phường Kim Mã").click()
    expect(page.locator("h1")).to_have_text("Kết quả: UBND phường Kim Mã")
    page.wait_for_load_state()
    tables = page.locator("table.results")
    expect(tables).to_have_count(2)
    first = tables.first
    expect(first.locator("caption")).to_contain_text("câu trả lời", use_inner_text=True)
    assert first.locator('tr[data-figure="overall"] th').inner_text() == "Chỉ số chung"
    assert re.search(r"từ \d+,\d+\s?% đến \d+,\d+\s?%", first.inner_text())
    expect(page.locator("[data-trend]").first).to_contain_text("Xu hướng", use_inner_text=True)
    assert axe_violations(page, IMPACTS) == []
    save_screenshot(page, "public-results")
    csv_text = page.request.get(f"{server.url}/ket-qua/BD-KM/csv").text()
    rows = list(csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert {r["figure"] for r in rows} >= {"overall", "I", "V"}
    page.get_by_role("link", name="Người dân góp ý, cơ quan trả lời: các câu trả lời góp ý").click()
    assert "Cơ quan chưa công bố câu trả lời nào." in page.content()
    assert axe_violations(page, IMPACTS) == []
    assert page.goto(f"{server.url}/ket-qua/STP").status == 404
    assert page.goto(f"{server.url}/ket-qua/STP/phan-hoi").status == 404


def test_phone_thank_you_shows_the_code_once(live_app_factory, browser):
    from tests.browser.test_survey_phone import PHONE, _setup

    server = live_app_factory(setup=_setup([]))
    context = browser.new_context(viewport=PHONE, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{server.url}/o/BD-KM?all=1")
    for radio in page.locator("fieldset[id^='q-c_'] input[value='5']").all():
        radio.check()
    page.locator("textarea[name=comment]").fill(COMMENT)
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))
    shown = page.locator("[data-followup-code]").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", shown)
    assert axe_violations(page, IMPACTS) == []
    save_screenshot(page, "phone-thanks-followup")
    page.reload()
    expect(page.locator("[data-followup-code]")).to_have_count(0)  # shown once
    context.close()

"""The phone survey one dimension per step in a real phone-sized browser with JavaScript
switched off: progress, large controls, send in reach, back keeps answers, one response."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from core.models import PendingAnswer
from tests.browser.conftest import axe_violations, save_screenshot
from tests.browser.test_survey_phone import PHONE, _setup


def test_phone_steps_without_javascript(live_app_factory, browser):
    tokens: list[str] = []
    server = live_app_factory(setup=_setup(tokens))
    url = f"{server.url}/s/{tokens[0]}"
    context = browser.new_context(viewport=PHONE, locale="vi-VN", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(url)
        expect(page.locator(".survey-progress")).to_contain_text("Phần 1/6")
        expect(page.locator("fieldset.question")).to_have_count(4)
        save_screenshot(page, "survey-phone-step1-nojs")
        # continue without answering: the same step, the questions marked
        page.get_by_role("button", name="Tiếp tục").click()
        expect(page.locator(".survey-progress")).to_contain_text("Phần 1/6")
        expect(page.locator("fieldset.has-error")).to_have_count(4)
        sizes = []
        for step in range(1, 6):
            expect(page.locator(".survey-progress")).to_contain_text(f"Phần {step}/6")
            page.wait_for_load_state("domcontentloaded")  # every question parsed before all()
            for fs in page.locator("fieldset[id^='q-c_']").all():
                choice = fs.locator("label.choice-4")
                box = choice.bounding_box()
                sizes.append((box["width"], box["height"]))
                choice.click()
            if step == 2:  # back to I and forward again: nothing lost
                page.get_by_role("button", name="Quay lại").click()
                expect(page.locator(".survey-progress")).to_contain_text("Phần 1/6")
                expect(page.locator("input[type=radio]:checked")).to_have_count(4)
                page.get_by_role("button", name="Tiếp tục").click()
                expect(page.locator("input[type=radio]:checked")).to_have_count(5)
            page.get_by_role("button", name="Tiếp tục").click()
        assert all(w >= 200 and h >= 48 for w, h in sizes)
        expect(page.locator(".survey-progress")).to_contain_text("Phần 6/6")
        send = page.get_by_role("button", name="Gửi đánh giá")
        assert send.bounding_box()["height"] >= 48
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        save_screenshot(page, "survey-phone-step6-nojs")
        page.get_by_label("Ý kiến khác").fill("Rất tốt")
        send.click()
        page.wait_for_url(re.compile(r"/survey/thanks"))
        with server.app.app_context():
            stored = [(p.answers, p.comment) for p in db.session.scalars(sa.select(PendingAnswer))]
            db.session.remove()
        assert stored == [("4" * 24, "Rất tốt")]
        assert page.goto(url).status == 409
    finally:
        context.close()


def test_phone_steps_are_accessible(live_app_factory, page):
    tokens: list[str] = []
    server = live_app_factory(setup=_setup(tokens))
    page.set_viewport_size(PHONE)
    page.goto(f"{server.url}/s/{tokens[0]}")
    assert axe_violations(page, ("serious", "critical", "moderate")) == []
    page.get_by_role("button", name="Tiếp tục").click()
    assert axe_violations(page, ("serious", "critical", "moderate")) == []

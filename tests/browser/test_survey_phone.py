"""The phone survey in a real browser with a phone-sized viewport: Vietnamese, accessible
(no serious axe-core violations), answers kept after a missing answer, one response only."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot

PHONE = {"width": 390, "height": 844}
SMALL_TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
"""


def _setup(tokens: list[str]):
    def setup(app):
        from core.services.offices import get_office, import_offices
        from core.services.receipts import mint_receipt

        import_offices(io.StringIO(SMALL_TREE))
        tokens.append(mint_receipt(get_office("BD-KM"), "000.00.20.H26-220101-0001").token)

    return setup


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_phone_survey_in_a_mobile_browser(live_app_factory, page):
    tokens: list[str] = []
    server = live_app_factory(setup=_setup(tokens))
    url = f"{server.url}/s/{tokens[0]}"
    page.goto(url + "?all=1")  # the whole questionnaire on one page (steps: test_phone_steps)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_contain_text("Ông/Bà hài lòng thế nào", use_inner_text=True)
    assert axe_violations(page) == []
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(page, "survey-phone-form")

    radios = page.locator("fieldset[id^='q-c_'] input[value='4']").all()
    assert len(radios) == 24  # one question per criterion
    for i, radio in enumerate(radios):
        if i != 5:  # leave one criterion unanswered
            radio.check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_load_state()
    error = page.locator("fieldset.has-error")
    expect(error).to_have_count(1)
    expect(error.locator(".field-error")).to_contain_text("Không trả lời", use_inner_text=True)
    expect(page.locator("input[type=radio]:checked")).to_have_count(23)  # answers kept
    assert axe_violations(page) == []
    save_screenshot(page, "survey-phone-missing-answer")

    page.locator(".error-summary a").first.click()
    error.locator("input[value='5']").check(force=True)
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))
    expect(page.locator("h1")).to_contain_text("Xin cảm ơn Ông/Bà!", use_inner_text=True)
    assert axe_violations(page) == []

    response = page.goto(url)
    assert response.status == 409
    assert "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà." in page.content()
    assert axe_violations(page) == []
    save_screenshot(page, "survey-phone-already-answered")


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_generic_link_in_a_mobile_browser(live_app_factory, page):
    server = live_app_factory(setup=_setup([]))
    page.goto(f"{server.url}/o/BD-KM?all=1")
    assert "UBND phường Kim Mã" in page.content()
    assert not page.locator("#website").is_visible() or page.locator(
        "#website").bounding_box()["x"] < 0  # the honeypot is off-screen
    assert axe_violations(page) == []
    for radio in page.locator("fieldset[id^='q-c_'] input[value='5']").all():
        radio.check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_phone_notice_opens_beside_the_form_and_the_questions_about_you_can_be_refused(
        live_app_factory, page):
    """The short notice is at the top of the form; its link opens the full notice in a new
    tab, so the answers given so far stay. Nothing is pre-selected; "I do not want to
    answer" hides the questions about the citizen at once (no script), and they are neither
    asked again when the page comes back for a missing rating nor stored."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import PendingAnswer

    tokens: list[str] = []
    server = live_app_factory(setup=_setup(tokens))
    page.goto(f"{server.url}/s/{tokens[0]}?all=1")
    note = page.locator("#privacy-note")
    assert note.is_visible() and "Câu trả lời được ẩn danh" in note.inner_text()
    expect(note).to_contain_text("vài thông tin về bản thân", use_inner_text=True)
    expect(page.locator("input:checked")).to_have_count(0)

    radios = page.locator("fieldset[id^='q-c_'] input[value='4']").all()
    for i, radio in enumerate(radios):
        if i != 3:
            radio.check()
    with page.context.expect_page() as opened:
        note.get_by_role("link", name="Tìm hiểu thêm về dữ liệu cá nhân").click()
    notice = opened.value
    notice.wait_for_load_state()
    assert notice.url == server.url + "/quyen-rieng-tu"
    expect(notice.locator("main")).to_contain_text("Quyền của Ông/Bà", use_inner_text=True)
    assert axe_violations(notice) == []
    notice.close()
    expect(page.locator("fieldset[id^='q-c_'] input:checked")).to_have_count(23)  # still there

    page.locator("#q-d_age input[value='60+']").check()
    assert page.locator("#q-d_age").is_visible()
    page.get_by_text("Tôi không muốn trả lời các câu hỏi này").click()
    assert page.locator("#q-d_age").is_hidden() and page.locator("#q-d_gender").is_hidden()
    assert axe_violations(page) == []
    save_screenshot(page, "survey-phone-about-you-refused")

    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_load_state()
    expect(page.locator("fieldset.has-error")).to_have_count(1)
    expect(page.locator("input[name^='d_']")).to_have_count(0)  # not asked again
    assert "Ông/Bà đã chọn không trả lời" in page.locator("#about-you").inner_text()
    assert axe_violations(page) == []
    page.locator("fieldset.has-error input[value='5']").check(force=True)
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))
    with server.app.app_context():
        stored = list(db.session.scalars(sa.select(PendingAnswer)))
        db.session.remove()
    assert [(p.channel, p.demographics) for p in stored] == [("qr", None)]


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_generic_link_notice_in_english(live_app_factory, page):
    server = live_app_factory(setup=_setup([]))
    page.goto(f"{server.url}/o/BD-KM?lang=en")
    note = page.locator("#privacy-note")
    expect(note).to_contain_text("Your answers are anonymous", use_inner_text=True)
    expect(note).to_contain_text("(opens in a new tab)", use_inner_text=True)
    expect(page.locator("input:checked")).to_have_count(0)
    assert axe_violations(page) == []

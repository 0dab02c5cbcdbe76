"""The phone survey in a real browser with a phone-sized viewport: Vietnamese, accessible
(no serious axe-core violations), answers kept after a missing answer, one response only."""

from __future__ import annotations

import io
import re

import pytest

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
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Ông/Bà hài lòng thế nào" in page.locator("h1").inner_text()
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
    assert error.count() == 1
    assert "Không trả lời" in error.locator(".field-error").inner_text()
    assert page.locator("input[type=radio]:checked").count() == 23  # answers kept
    assert axe_violations(page) == []
    save_screenshot(page, "survey-phone-missing-answer")

    page.locator(".error-summary a").first.click()
    error.locator("input[value='5']").check(force=True)
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))
    assert "Xin cảm ơn Ông/Bà!" in page.locator("h1").inner_text()
    assert axe_violations(page) == []

    response = page.goto(url)
    assert response.status == 409
    assert "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà." in page.content()
    assert axe_violations(page) == []
    save_screenshot(page, "survey-phone-already-answered")


@pytest.mark.parametrize("page", [PHONE], indirect=True)
def test_generic_link_in_a_mobile_browser(live_app_factory, page):
    server = live_app_factory(setup=_setup([]))
    page.goto(f"{server.url}/o/BD-KM")
    assert "UBND phường Kim Mã" in page.content()
    assert not page.locator("#website").is_visible() or page.locator(
        "#website").bounding_box()["x"] < 0  # the honeypot is off-screen
    assert axe_violations(page) == []
    for radio in page.locator("fieldset[id^='q-c_'] input[value='5']").all():
        radio.check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    page.wait_for_url(re.compile(r"/survey/thanks"))

"""The notice on personal data (/quyen-rieng-tu) in a real browser: reached from the footer
of the public pages, accessible (axe-core) in Vietnamese and English, readable on a phone."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("page", [PHONE, {"width": 1280, "height": 800}], indirect=True,
                         ids=["phone", "desktop"])
def test_the_notice_page_is_reached_from_the_footer_and_accessible(live_app_factory, page):
    server = live_app_factory(PRIVACY_CONTROLLER="UBND thành phố Hà Nội")
    page.goto(server.url + "/")
    page.locator("footer").get_by_role("link", name="Bảo vệ dữ liệu cá nhân").click()
    page.wait_for_url(server.url + "/quyen-rieng-tu")
    assert page.locator("h1").inner_text() == "Bảo vệ dữ liệu cá nhân"
    main = page.locator("main").inner_text()
    assert "UBND thành phố Hà Nội tổ chức khảo sát này" in main
    assert "Quyền của Ông/Bà" in main and "91/2025/QH15" in main
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert axe_violations(page) == []
    save_screenshot(page, f"privacy-page-{page.viewport_size['width']}")

    page.locator("header").get_by_role("link", name="EN").click()
    page.wait_for_url(server.url + "/quyen-rieng-tu")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.locator("h1").inner_text() == "Personal data protection"
    expect(page.locator("main")).to_contain_text("Your rights", use_inner_text=True)
    assert axe_violations(page) == []

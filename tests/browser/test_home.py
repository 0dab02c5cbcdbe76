"""The public home page in a real browser: Vietnamese, accessible, language switch works."""

from tests.browser.conftest import axe_violations, save_screenshot


def test_home_page_is_vietnamese_accessible_and_switches_language(live_app_factory, page):
    server = live_app_factory()
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "Sự hài lòng của người dân" in page.locator("h1").inner_text()
    assert axe_violations(page) == []
    save_screenshot(page, "home-vi")
    page.get_by_role("link", name="EN").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Citizen satisfaction" in page.locator("h1").inner_text()

"""The public home page in a real browser: Vietnamese, accessible, language switch works."""

from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot


def test_home_page_is_vietnamese_accessible_and_switches_language(live_app_factory, page):
    server = live_app_factory()
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("h1")).to_contain_text("Sự hài lòng của người dân", use_inner_text=True)
    assert axe_violations(page) == []
    save_screenshot(page, "home-vi")
    page.get_by_role("link", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Citizen satisfaction", use_inner_text=True)

"""The notice on personal data on the kiosk, in a real browser: the short notice on the
start screen, the full notice as a screen of the kiosk page (reachable offline, left by
"back to the start" or the idle reset), in English, and without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import save_screenshot
from tests.browser.test_kiosk import (
    FAST,
    STEPS,
    Setup,
    answer_screen,
    assert_accessible,
    expect_visible,
    rows,
    run_questionnaire,
    start_kiosk,
)


@pytest.fixture
def nojs_page(browser):
    context = browser.new_context(java_script_enabled=False, locale="vi-VN",
                                  viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_the_privacy_notice_is_a_kiosk_screen_that_returns_to_the_start(live_app_factory, page):
    """The start screen tells what is collected and links to the full notice, which opens as
    a screen of the kiosk page: no navigation (it opens with the network down), "back to the
    start" and the idle reset both bring the start screen back, and a run starts clean."""
    # 12 s idle: the warning (a modal over the page) comes after 6 s, time enough for the
    # checks on the notice on a busy machine
    server = start_kiosk(live_app_factory, page, idle_seconds=12)
    note = page.locator("#k-start .k-privacy-note")
    assert note.is_visible()
    assert "Câu trả lời được ẩn danh" in note.inner_text()
    assert "Chỉ cán bộ có thẩm quyền của cơ quan được đọc góp ý" in note.inner_text()
    assert page.locator("input[name^='d_']").count() == 0  # no questions about the citizen
    save_screenshot(page, "kiosk-start-privacy-note")

    page.context.set_offline(True)  # reading the notice needs no network
    page.get_by_role("link", name="Tìm hiểu thêm về dữ liệu cá nhân").click()
    expect_visible(page, "#k-privacy")
    assert page.locator("#k-start").is_hidden()
    assert page.url == server.url + "/kiosk/"  # not even a fragment: the page stayed
    assert "91/2025/QH15" in page.locator("#k-privacy").inner_text()
    assert page.evaluate("document.activeElement.id") == "k-privacy-title"
    assert_accessible(page, "privacy screen")
    save_screenshot(page, "kiosk-privacy-screen")
    page.get_by_role("link", name="Về màn hình đầu").last.click()
    expect_visible(page, "#k-start")
    assert page.locator("#k-privacy").is_hidden()
    page.context.set_offline(False)

    # left open, the notice gives way to the start screen by itself (warning first)
    page.get_by_role("link", name="Tìm hiểu thêm về dữ liệu cá nhân").click()
    expect_visible(page, "#k-privacy")
    expect_visible(page, "#k-idle", timeout=10000)
    expect_visible(page, "#k-start", timeout=10000)
    assert page.locator("#k-privacy").is_hidden() and page.locator("#k-idle").is_hidden()

    run_questionnaire(page, "4")  # the next citizen answers as usual
    page.wait_for_selector("#k-pending", state="hidden")
    assert [r.answers for r in rows(server)] == ["4" * 24]
    assert rows(server)[0].demographics is None


def test_the_privacy_notice_in_english_and_without_javascript(live_app_factory, page,
                                                              nojs_page):
    setup = Setup()
    server = live_app_factory(setup, **FAST)
    for pg in (page, nojs_page):
        pg.context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                                 "domain": "127.0.0.1", "path": "/kiosk"}])
    page.goto(server.url + "/kiosk/?lang=en")
    page.wait_for_selector("html.js")
    assert "Your answers are anonymous" in page.locator(".k-privacy-note").inner_text()
    page.get_by_role("link", name="More about your personal data").click()
    expect_visible(page, "#k-privacy")
    assert "Who is responsible for the data" in page.locator("#k-privacy").inner_text()
    assert_accessible(page, "privacy screen, English")

    # without JavaScript the notice is the end of the same page, reached by the same link
    nojs_page.goto(server.url + "/kiosk/")
    nojs_page.get_by_role("link", name="Tìm hiểu thêm về dữ liệu cá nhân").click()
    assert nojs_page.url == server.url + "/kiosk/#k-privacy"
    assert nojs_page.locator("#k-privacy").is_visible()
    assert nojs_page.evaluate(
        "document.getElementById('k-privacy').getBoundingClientRect().top") < 200
    nojs_page.get_by_role("link", name="Về màn hình đầu").first.click()
    assert nojs_page.url == server.url + "/kiosk/#k-start"
    for step in range(1, STEPS):
        answer_screen(nojs_page, step, "3")
    nojs_page.get_by_role("button", name="Gửi đánh giá").click()
    assert "Xin cảm ơn Ông/Bà!" in nojs_page.locator("h1").inner_text()
    assert [r.answers for r in rows(server)] == ["3" * 24]

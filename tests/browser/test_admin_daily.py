"""The daily pages in a real browser at desktop and phone size (390 px): the dashboard (its
criterion table becomes cards), the held-back answers' queue, the comments page and the
alerts settings; axe-core finds nothing serious or critical; screenshots kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_violations, save_screenshot

PASSWORD = "Ho-Guom-xanh-2022"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _setup(app) -> None:
    from core.extensions import db
    from core.services.accounts import create_user
    from core.services.common import get_instrument
    from core.services.demo import load_demo
    from core.services.intake import clean_response
    from core.services.mixing import hold
    from core.services.offices import get_office
    from core.timeutil import last_complete_month, month_bounds_utc
    from tests.helpers import release_all

    instrument = get_instrument("hanoi-2022")
    load_demo(instrument, months=2, seed=7)
    create_user("truong.bd", "head", "CN1", PASSWORD, actor="test", must_change=False)
    day = month_bounds_utc(last_complete_month())[0].date().replace(day=5)
    for _i in range(3):
        hold(clean_response(instrument, {c.code: 5 for c in instrument.criteria}),
             get_office("CN1-BD").id, "kiosk", day, counted=False, flags="burst")
    db.session.commit()
    release_all()


def _sign_in(page, url: str) -> None:
    page.goto(url + "/admin/login")
    page.get_by_label("Tên đăng nhập").fill("truong.bd")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("page", list(SIZES.values()), ids=list(SIZES), indirect=True)
def test_daily_pages_at_desktop_and_phone_size(live_app_factory, page):
    size = "phone" if page.viewport_size["width"] < 500 else "desktop"
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    _sign_in(page, server.url)

    page.goto(server.url + "/admin/?office=CN1")
    expect(page.locator("[data-held]")).to_have_attribute("data-held", "3")
    row = page.locator("table.criteria tbody tr").first
    if size == "phone":  # the criterion table is a stack of cards
        assert row.evaluate("e => getComputedStyle(e).display") == "block"
        _no_sideways_scroll(page)
    assert axe_violations(page) == []
    save_screenshot(page, f"admin-dashboard-{size}")

    page.get_by_role("link", name="Xem xét các câu trả lời bị tạm giữ").click()
    expect(page.locator("h1")).to_contain_text("Câu trả lời bị tạm giữ", use_inner_text=True)
    assert axe_violations(page) == []
    if size == "phone":
        _no_sideways_scroll(page)
    save_screenshot(page, f"admin-held-{size}")
    page.get_by_role("button", name="Tính vào kết quả: 3 câu trả lời").click()
    assert "Số câu trả lời đã được tính vào kết quả: 3." in page.locator(".flash").inner_text()

    page.goto(server.url + "/admin/comments?office=CN1&month=")
    assert page.locator("ol.comments li.comment").count() >= 1
    assert axe_violations(page) == []
    if size == "phone":
        _no_sideways_scroll(page)
    save_screenshot(page, f"admin-comments-{size}")
    first = page.locator("ol.comments li.comment").first
    first.get_by_text("Xử lý ý kiến này").click()
    first.get_by_label("Trạng thái", exact=True).select_option("in_progress")
    first.get_by_label("Phí, lệ phí").check()
    first.get_by_role("button", name="Lưu").click()
    saved = page.locator("[data-saved]")
    assert saved.is_visible()
    box = saved.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]  # in view
    expect(page.locator("details.handle[open]")).to_have_count(1)  # the saved one stays open
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 20 * 400  # 20 comments a page, each a short card until opened

    page.goto(server.url + "/admin/alerts?office=CN1")
    page.get_by_label("Gửi đến địa chỉ thư điện tử này").fill("truong.bd@example.vn")
    page.get_by_label("Có câu trả lời bị tạm giữ đang chờ xem xét").check()
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash")).to_contain_text("Đã lưu", use_inner_text=True)
    assert axe_violations(page) == []
    save_screenshot(page, f"admin-alerts-{size}")

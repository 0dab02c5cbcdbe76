"""Periods, dossiers and breakdowns on the dashboard in a real browser (issue 14): type a
period into the picker, read the pooled figures, break them down, all accessible."""

from __future__ import annotations

from tests.browser.conftest import axe_violations, save_screenshot
from tests.browser.test_admin_dashboard import _setup, _sign_in


def test_period_picker_and_breakdown(live_app_factory, page):
    from core.timeutil import last_complete_month, shift_month

    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    _sign_in(page, server.url, "truong.bd")
    last = last_complete_month()
    first = shift_month(last, -2)
    page.get_by_label("Kỳ báo cáo").fill(f"{first}..{last}")
    page.get_by_role("button", name="Xem", exact=True).click()
    heading = page.locator("h1").inner_text()
    assert f"từ tháng {int(first[5:])}/{first[:4]}" in heading
    assert f"đến tháng {int(last[5:])}/{last[:4]}" in heading
    assert page.locator("#h-dossiers").is_visible()
    page.get_by_label("Phân tổ chỉ số chung theo").select_option("channel")
    page.get_by_role("button", name="Phân tổ", exact=True).click()
    rows = page.locator("table.breakdown tbody tr")
    assert rows.count() >= 1
    assert f"period={first}..{last}" in page.url and "by=channel" in page.url
    assert axe_violations(page) == []
    save_screenshot(page, "admin-dashboard-period-breakdown")

"""The results area in a real browser: sign-in, the dashboard, accessibility, screenshots of
the dashboard and of the first page of the PDF report."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, save_screenshot

PASSWORD = "Ho-Guom-xanh-2022"


def _setup(app) -> None:
    from core.services.accounts import create_user
    from core.services.common import get_instrument
    from core.services.demo import load_demo
    from core.services.offices import get_office
    from core.services.targets import DEFAULT_FILE, import_targets

    load_demo(get_instrument("hanoi-2022"), months=4, seed=7)
    create_user("truong.bd", "head", "CN1", PASSWORD, actor="test", must_change=False)
    create_user("moi.vao", "viewer", "CN1-BD", PASSWORD, actor="test", must_change=True)
    create_user("so.noi.vu", "admin", None, PASSWORD, actor="test", must_change=False)
    from core.services.kiosks import add_kiosk

    add_kiosk(get_office("CN1-BD"), "Quầy số 1", actor="test")
    with DEFAULT_FILE.open(encoding="utf-8") as f:
        import_targets(f, get_office("HN"), get_instrument("hanoi-2022"), actor="test")


def _sign_in(page, url: str, username: str) -> None:
    page.goto(url + "/admin/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_sign_in_and_dashboard_are_accessible(live_app_factory, page, tmp_path):
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    page.goto(server.url + "/admin/")
    assert page.url.startswith(server.url + "/admin/login")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    assert axe_violations(page) == []
    save_screenshot(page, "admin-sign-in")

    page.get_by_label("Tên đăng nhập").fill("truong.bd")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau-123")
    page.get_by_role("button", name="Đăng nhập").click()
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in page.locator("main").inner_text()

    _sign_in(page, server.url, "truong.bd")
    assert "Kết quả hằng tháng: Chi nhánh số 1" in page.locator("h1").inner_text()
    assert page.locator("svg.trend-chart polyline").count() >= 1
    expect(page.locator("table.criteria tbody tr")).to_have_count(24)
    expect(page.locator("table.children tbody tr")).to_have_count(3)
    assert axe_violations(page) == []
    save_screenshot(page, "admin-dashboard")

    # pick another office of the scope with the no-JavaScript form
    page.get_by_label("Cơ quan", exact=True).select_option("CN1-BD")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("h1")).to_contain_text("UBND phường Ba Đình", use_inner_text=True)

    # the PDF report of the same office and month, first page kept as an image
    link = page.get_by_role("link", name="Báo cáo PDF")
    response = page.request.get(server.url + link.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        pdf = tmp_path / "report.pdf"
        pdf.write_bytes(response.body())
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(ARTIFACTS / "admin-report-page1")], check=True)
        assert (ARTIFACTS / "admin-report-page1.png").stat().st_size > 10_000

    page.get_by_role("button", name="Đăng xuất").click()
    assert page.url.startswith(server.url + "/admin/login")


def test_temporary_password_must_be_changed_first(live_app_factory, page):
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    _sign_in(page, server.url, "moi.vao")
    assert page.url.endswith("/admin/password")
    assert axe_violations(page) == []
    page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
    page.get_by_label("Mật khẩu mới", exact=True).fill("Mot-mat-khau-moi-9")
    page.get_by_label("Nhập lại mật khẩu mới").fill("Mot-mat-khau-moi-9")
    page.get_by_role("button", name="Lưu mật khẩu mới").click()
    expect(page.locator("h1")).to_contain_text("UBND phường Ba Đình", use_inner_text=True)
    comments = page.get_by_role("link", name="Ý kiến", exact=True)
    comments.click()
    expect(page.locator("h1")).to_contain_text("Ý kiến của người dân", use_inner_text=True)
    assert axe_violations(page) == []


@pytest.mark.parametrize("page", [{"width": 390, "height": 844}], indirect=True)
def test_dashboard_on_a_phone_has_no_serious_violations(live_app_factory, page):
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    _sign_in(page, server.url, "truong.bd")
    expect(page.locator("table.criteria")).to_have_count(1)
    assert axe_violations(page) == []


def test_every_admin_page_is_accessible(live_app_factory, page):
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    _sign_in(page, server.url, "so.noi.vu")
    expect(page.locator("h1")).to_contain_text("Thành phố Hà Nội", use_inner_text=True)
    for path, heading in (("/admin/comments?office=CN1", "Ý kiến của người dân"),
                          ("/admin/users", "Người dùng"),
                          ("/admin/targets?office=HN&year=2022", "Chỉ tiêu"),
                          ("/admin/audit", "Nhật ký hệ thống"),
                          ("/admin/tokens", "Mã truy cập API cá nhân"),
                          ("/admin/kiosks?office=CN1", "Máy tính bảng tại quầy"),
                          ("/admin/password", "Đổi mật khẩu")):
        page.goto(server.url + path)
        assert heading in page.locator("h1").inner_text(), path
        assert axe_violations(page) == [], path
    page.goto(server.url + "/admin/comments?office=CN1")
    save_screenshot(page, "admin-comments")

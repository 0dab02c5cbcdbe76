"""The setup screens in a real browser, end to end: offices (tree, search, create, edit,
move, merge, upload with preview), tablets (register with the activation QR, settings,
opening hours, pause and resume, revoke after confirming, the dashboard's offline warning),
QR material and API keys. axe-core finds no serious or critical violation on any of them;
screenshots go to test-artifacts/.

One server for the module (the walk-throughs build on each other in order) and one browser
session: marked ``slow`` (``-m "not slow"`` leaves them out of a quick run).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from core import create_app
from core.extensions import db
from tests.browser.conftest import LiveServer, axe_violations, save_screenshot

pytestmark = pytest.mark.slow

PASSWORD = "Ho-Guom-xanh-2022"


def _setup(app) -> None:
    from core.services.accounts import create_user
    from core.services.kiosks import add_kiosk, set_opening_hours
    from core.services.offices import get_office, import_offices
    from core.timeutil import utcnow
    from tools.sample_data import SMALL_TREE

    import_offices(io.StringIO(SMALL_TREE))
    create_user("so.noi.vu", "admin", None, PASSWORD, actor="test", must_change=False)
    create_user("truong.bd", "head", "BD", PASSWORD, actor="test", must_change=False)
    create_user("xem.km", "viewer", "BD-KM", PASSWORD, actor="test", must_change=False)
    # a tablet of BD-DB silent for an hour while its office is open (every day, all day)
    from core.models import Kiosk

    new = add_kiosk(get_office("BD-DB"), "Quầy 1", with_credential=True, actor="test")
    kiosk = db.session.get(Kiosk, new.kiosk.id)
    kiosk.last_seen_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    set_opening_hours(get_office("BD-DB"), "00:00-23:59", "1234567", actor="test")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("setup") / "live.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SECRET_KEY": "browser-test-secret",
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    with app.app_context():
        db.create_all()
        _setup(app)
        db.session.remove()
    live = LiveServer(app).start()
    yield live
    live.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def signed_in(browser, server, request) -> Iterator[Any]:
    """A page signed in as the user named by the test's ``who`` parameter (default the
    administrator)."""
    who = getattr(request, "param", "so.noi.vu")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN",
                                  accept_downloads=True)
    pg = context.new_page()
    pg.goto(server.url + "/admin/login")
    pg.get_by_label("Tên đăng nhập").fill(who)
    pg.get_by_label("Mật khẩu").fill(PASSWORD)
    pg.get_by_role("button", name="Đăng nhập").click()
    yield pg
    context.close()


def _clean(pg, name: str) -> None:
    pg.wait_for_load_state()  # the page a click led to, whole, before axe reads it
    assert axe_violations(pg) == [], name
    save_screenshot(pg, name)


def test_offices_tree_search_create_edit_move_merge(signed_in, server):
    pg = signed_in
    pg.locator("nav.admin-nav").get_by_role("link", name="Danh sách cơ quan").click()
    expect(pg.locator("h1")).to_have_text("Danh sách cơ quan")
    tree = pg.locator("ul.office-tree")
    # expand and collapse: BD's communes are hidden until BD is opened
    km = tree.locator('li[data-office="BD-KM"]')
    assert not km.is_visible()
    tree.locator('li[data-office="BD"] > details > summary').click()
    assert km.is_visible()
    _clean(pg, "admin-offices-tree")
    tree.locator('li[data-office="BD"] > details > summary').click()
    assert not km.is_visible()
    # search by code, letter case ignored
    pg.get_by_label("Tìm cơ quan theo tên hoặc mã").fill("bd-k")
    pg.get_by_role("button", name="Tìm", exact=True).click()
    expect(pg.locator("ul.office-found li")).to_have_count(1)
    expect(pg.locator("ul.office-found")).to_contain_text("Kim Mã", use_inner_text=True)

    # create a ward under BD
    pg.get_by_role("link", name="Thêm cơ quan").click()
    _clean(pg, "admin-office-new")
    pg.get_by_label("Mã", exact=True).fill("bd-gv")
    pg.get_by_label("Tên", exact=True).fill("UBND phường Giảng Võ")
    pg.get_by_label("Cấp", exact=True).select_option("commune")
    pg.get_by_label("Cơ quan cấp trên", exact=True).select_option("BD")
    pg.get_by_label("Họ tên người ký").fill("Trần Thị B")
    pg.get_by_role("button", name="Lưu").click()
    expect(pg.locator(".flash")).to_contain_text("Đã tạo cơ quan.", use_inner_text=True)
    expect(pg.locator('li[data-office="bd-gv"]')).to_have_count(1)

    # edit, then merge BD-DB into the new ward (dated), then move STP
    pg.goto(server.url + "/admin/offices/BD-DB/edit")
    _clean(pg, "admin-office-edit")
    merge = pg.locator("form[action$='/merge']")
    merge.get_by_label("Sáp nhập vào").select_option("bd-gv")
    merge.get_by_label("Có hiệu lực từ ngày").fill("2025-07-01")
    merge.get_by_role("button", name="Sáp nhập").click()
    # not confirmed: nothing done
    expect(pg.locator(".flash")).to_contain_text("Hãy đánh dấu", use_inner_text=True)
    merge = pg.locator("form[action$='/merge']")
    merge.get_by_label("Sáp nhập vào").select_option("bd-gv")
    merge.get_by_label("Có hiệu lực từ ngày").fill("2025-07-01")
    merge.get_by_label(re.compile("Tôi hiểu")).check()
    merge.get_by_role("button", name="Sáp nhập").click()
    expect(pg.locator(".flash")).to_contain_text(
        "Đã sáp nhập UBND phường Điện Biên vào UBND phường Giảng Võ", use_inner_text=True)
    changes = pg.locator("table.office-changes").inner_text()
    assert "01/07/2025" in changes and "sáp nhập" in changes
    _clean(pg, "admin-offices-history")


def test_offices_upload_preview_then_store(signed_in, server, tmp_path):
    pg = signed_in
    pg.goto(server.url + "/admin/offices/import")
    _clean(pg, "admin-offices-upload")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code,level\nHN-X,Sở X,HN,department\n"
                   "sai mã,Y,HN,department\nHN-Z,,HN,ward\nHN-W,W,ZZ,commune\n",
                   encoding="utf-8")
    pg.get_by_label("Tệp danh sách cơ quan (CSV, UTF-8)").set_input_files(str(bad))
    pg.get_by_role("button", name="Kiểm tra tệp").click()
    errors = pg.locator("ul.line-errors li").all_inner_texts()
    assert any(e.startswith("dòng 3") for e in errors)
    assert sum(e.startswith("dòng 4") for e in errors) == 2  # every problem of every line
    assert any(e.startswith("dòng 5") and "ZZ" in e for e in errors)
    _clean(pg, "admin-offices-upload-errors")
    good = tmp_path / "good.csv"
    good.write_text("code,name,parent_code,level\nSNV,Sở Nội vụ,hn,department\n",
                    encoding="utf-8")
    pg.get_by_label("Tệp danh sách cơ quan (CSV, UTF-8)").set_input_files(str(good))
    pg.get_by_role("button", name="Kiểm tra tệp").click()
    expect(pg.locator('tr[data-action="create"]')).to_have_count(1)
    _clean(pg, "admin-offices-upload-preview")
    pg.get_by_role("button", name="Lưu các cơ quan này").click()
    expect(pg.locator(".flash")).to_contain_text("1", use_inner_text=True)
    expect(pg.locator('li[data-office="SNV"]')).to_have_count(1)


def test_tablets_register_settings_hours_revoke(signed_in, server):
    pg = signed_in
    pg.goto(server.url + "/admin/kiosks?office=BD")
    _clean(pg, "admin-kiosks")
    expect(pg.locator('td[data-connection="offline"]')).to_have_count(1)
    pg.get_by_role("link", name="Đăng ký máy tính bảng").click()
    _clean(pg, "admin-kiosk-new")
    pg.get_by_label("Cơ quan", exact=True).select_option("BD-KM")
    pg.get_by_label("Quầy", exact=True).fill("Quầy 4")
    pg.get_by_label("Thời gian chờ (giây)").fill("90")
    pg.get_by_role("button", name="Đăng ký và hiện mã kích hoạt").click()
    qr = pg.locator(".big-qr svg")
    qr.wait_for()
    assert qr.is_visible() and qr.bounding_box()["width"] >= 300  # large on screen
    link = pg.locator(".activation-link code").inner_text()
    assert "/kiosk/activate/" in link
    _clean(pg, "admin-kiosk-activation")
    pg.emulate_media(media="print")
    assert not pg.locator("nav.admin-nav").is_visible()  # the printable page
    pg.emulate_media(media="screen")
    # the link activates a tablet
    tablet = pg.context.new_page()
    assert tablet.goto(link.replace("http://localhost", server.url)
                       if link.startswith("http://localhost") else link).status == 200
    tablet.close()

    pg.get_by_role("link", name="Xong").click()
    pg.get_by_role("link", name="Cài đặt Quầy 4").click()
    _clean(pg, "admin-kiosk-settings")
    pg.get_by_label("Quầy", exact=True).fill("Quầy 5")
    pg.get_by_label("Thời gian chờ (giây)").fill("120")
    pg.get_by_role("button", name="Lưu").click()
    expect(pg.locator(".flash")).to_contain_text("Đã cập nhật máy tính bảng.", use_inner_text=True)

    pg.get_by_role("link", name=re.compile("Giờ làm việc của")).click()
    _clean(pg, "admin-office-hours")
    pg.get_by_label("Giờ làm việc", exact=True).fill("7:30-11:30")
    pg.get_by_role("button", name="Lưu").click()
    expect(pg.locator("main")).to_contain_text("phải là giờ dạng", use_inner_text=True)
    pg.get_by_label("Giờ làm việc", exact=True).fill("07:30-11:30,13:30-17:00")
    pg.get_by_role("button", name="Lưu").click()
    expect(pg.locator(".flash")).to_contain_text("Đã lưu giờ làm việc.", use_inner_text=True)

    # paused, then resumed (reversible, unlike revoking)
    row = pg.locator("tr", has=pg.get_by_role("rowheader", name="Quầy 5"))
    pg.get_by_role("link", name="Cài đặt Quầy 5").click()
    pause = pg.get_by_role("button", name="Tạm ngừng máy này")
    expect(pause).to_be_visible()
    pause.click()
    expect(pg.locator(".flash")).to_contain_text("Đã tạm ngừng máy tính bảng",
                                                 use_inner_text=True)
    expect(row.locator("td[data-connection]")).to_have_attribute("data-connection", "paused")
    expect(row).to_contain_text("tạm ngừng", use_inner_text=True)
    _clean(pg, "admin-kiosks-paused")
    pg.get_by_role("link", name="Cài đặt Quầy 5").click()
    resume = pg.get_by_role("button", name="Cho máy hoạt động lại")
    expect(resume).to_be_visible()
    _clean(pg, "admin-kiosk-settings-paused")
    resume.click()
    expect(pg.locator(".flash")).to_contain_text("đã nhận đánh giá trở lại",
                                                 use_inner_text=True)
    # back to what it was: waiting for activation (the link above was only opened)
    expect(row.locator("td[data-connection]")).to_have_attribute("data-connection", "pending")

    pg.get_by_role("link", name="Thu hồi Quầy 5").click()
    _clean(pg, "admin-kiosk-revoke")
    pg.get_by_role("button", name="Thu hồi").click()
    pg.wait_for_load_state()  # not confirmed: the same page again
    expect(pg.locator("h1")).to_contain_text("Thu hồi máy tính bảng", use_inner_text=True)
    pg.get_by_label("Có, tôi chắc chắn").check()
    pg.get_by_role("button", name="Thu hồi").click()
    expect(pg.locator(".flash")).to_contain_text("Máy tính bảng đã bị thu hồi.",
                                                 use_inner_text=True)


@pytest.mark.parametrize("signed_in", ["truong.bd"], indirect=True)
def test_head_dashboard_flags_tablets_offline_while_open(signed_in):
    warning = signed_in.locator(".offline-tablets")
    assert warning.is_visible() and "Quầy 1" in warning.inner_text()
    _clean(signed_in, "admin-dashboard-offline-tablets")


def test_qr_material_and_api_keys(signed_in, server):
    pg = signed_in
    pg.get_by_role("link", name="Mã QR và khóa API").click()
    pg.get_by_label("Cơ quan", exact=True).first.select_option("BD-KM")
    pg.get_by_role("button", name="Xem").click()
    _clean(pg, "admin-qr")
    pg.get_by_label("Khổ giấy").select_option("A5")
    with pg.expect_download() as poster:
        pg.get_by_role("button", name="Tải áp phích (PDF)").click()
    assert poster.value.suggested_filename == "sipas-poster-BD-KM-A5.pdf"
    with pg.expect_download() as png:
        pg.get_by_role("link", name="Mã QR của liên kết chung (PNG)").click()
    assert png.value.suggested_filename == "sipas-BD-KM.png"
    pg.get_by_label("Mã hồ sơ, mỗi dòng một mã").fill("HS-2026-0001\nHS-2026-0002")
    with pg.expect_download() as slips:
        pg.get_by_role("button", name="Tải các phiếu (PDF)").click()
    with open(slips.value.path(), "rb") as f:
        assert f.read(4) == b"%PDF"

    key_form = pg.locator("form[action$='/apikeys']")
    key_form.get_by_label("Cơ quan", exact=True).select_option("BD-KM")
    key_form.get_by_label(re.compile("Mục đích của khóa")).fill("Phần mềm một cửa")
    key_form.get_by_role("button", name="Tạo khóa").click()
    key = pg.locator("[data-key]").inner_text()
    assert key.startswith("sipas_")
    _clean(pg, "admin-apikey-created")
    pg.goto(server.url + "/admin/qr?office=BD-KM")
    expect(pg.locator("[data-key]")).to_have_count(0)  # shown once
    row = pg.locator(f'tr[data-key-prefix="{key[:14]}"]')
    row.get_by_role("link", name="Thu hồi…").click()
    _clean(pg, "admin-apikey-revoke")
    pg.get_by_label(re.compile("Có, thu hồi khóa này")).check()
    pg.get_by_role("button", name="Thu hồi").click()
    expect(pg.locator(".flash")).to_contain_text("Đã thu hồi khóa.", use_inner_text=True)
    flash = pg.locator(".flash").inner_text()
    assert "Đã thu hồi khóa." in flash and "vẫn dùng được" in flash


@pytest.mark.parametrize("signed_in", ["xem.km"], indirect=True)
def test_a_viewer_reads_without_forms(signed_in, server):
    pg = signed_in
    pg.goto(server.url + "/admin/offices")
    expect(pg.get_by_role("link", name="Thêm cơ quan")).to_have_count(0)
    pg.goto(server.url + "/admin/qr")
    expect(pg.get_by_role("button", name="Tạo khóa")).to_have_count(0)
    expect(pg.get_by_role("button", name="Tải áp phích (PDF)")).to_have_count(1)
    _clean(pg, "admin-qr-viewer")

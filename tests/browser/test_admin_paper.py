"""Paper forms in a real browser, at desktop and phone (390 px) size: the page, the blank
questionnaire PDF, an upload with bad lines, a good upload's preview, confirming it as a
batch and undoing it; axe-core finds nothing serious or critical; screenshots in
test-artifacts/."""

from __future__ import annotations

import io
import random
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, axe_violations, save_screenshot
from tests.helpers import CODES

PASSWORD = "Ho-Guom-xanh-2022"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
HEADER = ["office_code", "submitted_at", "form_no", *CODES]


def _setup(app) -> None:
    from core.services.accounts import create_user
    from core.services.offices import import_offices
    from tools.sample_data import SMALL_TREE

    import_offices(io.StringIO(SMALL_TREE))
    create_user("truong.bd", "head", "BD", PASSWORD, actor="test", must_change=False)


def _file(tmp_path, name: str, rows: list[list[str]]):
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _rows(n: int) -> list[list[str]]:
    rnd = random.Random(3)
    return [["BD-KM", f"2025-03-{rnd.randint(1, 28):02d}", f"P-{i:03d}",
             *(str(rnd.randint(1, 5)) for _ in CODES)] for i in range(n)]


def _no_serious(page) -> None:
    assert axe_violations(page) == []
    # nothing wider than the screen (a phone scrolls tables inside their own region)
    assert page.evaluate("document.documentElement.scrollWidth") <= \
        page.evaluate("window.innerWidth") + 1


@pytest.mark.parametrize("page", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_paper_forms_upload_preview_import_and_undo(live_app_factory, page, tmp_path):
    size = "phone" if page.viewport_size["width"] < 500 else "desktop"
    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1",
                              PAPER_UPLOAD_DIR=str(tmp_path / "uploads"))
    page.goto(server.url + "/admin/login")
    page.get_by_label("Tên đăng nhập").fill("truong.bd")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("link", name="Phiếu giấy").click()
    expect(page.locator("h1")).to_have_text("Phiếu giấy")
    _no_serious(page)
    save_screenshot(page, f"admin-paper-{size}")

    # the blank questionnaire of an office of the scope
    page.get_by_label("Cơ quan in trên phiếu").select_option("BD-KM")
    with page.expect_download() as download:
        page.get_by_role("button", name="Tải phiếu trắng (PDF, khổ A4)").click()
    pdf = tmp_path / "form.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm") and size == "desktop":
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(ARTIFACTS / "paper-form-page1")], check=True)

    # a file with bad lines: every one listed, nothing to confirm
    bad = _rows(3) + [["STP", "2025-03-02", "X-1", *(["4"] * len(CODES))],
                      ["BD-KM", "2025-03-02", "X-2", "9", *(["4"] * (len(CODES) - 1))]]
    page.get_by_label("Tệp phiếu giấy (CSV hoặc XLSX)").set_input_files(
        str(_file(tmp_path, "loi.csv", bad)))
    page.get_by_role("button", name="Xem trước").click()
    errors = page.locator("ol.line-errors li")
    # expect() waits for the preview page: count() alone would read the page being left
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("dòng 5: office_code")
    expect(errors.nth(1)).to_contain_text("dòng 6: answers.I.1")
    expect(page.get_by_role("button", name="Nhập", exact=False)).to_have_count(0)
    _no_serious(page)
    save_screenshot(page, f"admin-paper-errors-{size}")
    page.get_by_role("button", name="Hủy").click()

    # a good file: preview, then import as a batch (real CSRF tokens on every form)
    page.get_by_label("Tệp phiếu giấy (CSV hoặc XLSX)").set_input_files(
        str(_file(tmp_path, "thang3.csv", _rows(12))))
    page.get_by_role("button", name="Xem trước").click()
    expect(page.locator("[data-rows]")).to_have_text("12")
    assert page.locator("[data-offices]").inner_text() == "BD-KM"
    assert page.locator("[data-months]").inner_text() == "2025-03"
    _no_serious(page)
    save_screenshot(page, f"admin-paper-preview-{size}")
    page.get_by_role("button", name="Nhập 12 phiếu thành một đợt").click()
    expect(page.locator(".flash")).to_contain_text("Đã nhập đợt 1: 12 phiếu.")
    expect(page.locator('tr[data-batch="1"]')).to_have_attribute("data-state", "active")
    _no_serious(page)
    save_screenshot(page, f"admin-paper-batches-{size}")

    # undo it
    page.get_by_role("button", name="Hoàn tác đợt nhập 1").click()
    expect(page.locator(".flash")).to_contain_text("Đã hủy đợt nhập 1: xóa 12 phiếu")
    expect(page.locator('tr[data-batch="1"]')).to_have_attribute("data-state", "undone")
    _no_serious(page)

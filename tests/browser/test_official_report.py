"""The official report in a real browser: a head edits the assessment, finalises ("Chốt báo
cáo"), late paper answers are imported, the finalised version downloads unchanged and the
dashboard says the data changed, and what changed."""

from __future__ import annotations

import hashlib

from tests.browser.conftest import axe_violations, save_screenshot
from tests.helpers import CODES, paper_row, write_csv

PASSWORD = "Ho-Guom-xanh-2022"


def _setup(app) -> None:
    from core.services.accounts import create_user
    from core.services.common import get_instrument
    from core.services.demo import load_demo

    load_demo(get_instrument("hanoi-2022"), months=3, seed=11)
    create_user("truong.km", "head", "CN1-BD", PASSWORD, actor="test", must_change=False)


def test_edit_finalise_late_import_old_version_unchanged(live_app_factory, page, tmp_path):
    from core.timeutil import last_complete_month

    server = live_app_factory(setup=_setup, PASSWORD_HASH_METHOD="scrypt:1024:8:1")
    month = last_complete_month()
    page.goto(server.url + "/admin/")
    page.get_by_label("Tên đăng nhập").fill("truong.km")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{server.url}/admin/?office=CN1-BD&month={month}")
    assert "Báo cáo của kỳ này chưa được chốt." in page.locator("#h-official + p, "
                                                               "section.official-report"
                                                               ).first.inner_text()
    page.get_by_role("link", name="Biên tập và chốt báo cáo").click()
    assessment = page.get_by_label("II. Đánh giá")
    assert "phiếu khảo sát hợp lệ" in assessment.input_value()  # the draft
    assert axe_violations(page) == []
    assessment.fill("Kết quả tháng này ổn định.\n\nCần cải thiện thời gian chờ.")
    page.get_by_label("Chức vụ người ký").fill("PHÓ CHỦ TỊCH")
    page.get_by_role("button", name="Chốt báo cáo").click()
    assert "Đã chốt phiên bản 1 của báo cáo." in page.locator("main").inner_text()
    link = page.get_by_role("link", name="Phiên bản đã chốt 1")
    url = server.url + link.get_attribute("href")
    first = page.request.get(url)
    assert first.ok and first.headers["content-type"] == "application/pdf"
    v1 = first.body()
    assert first.headers["x-content-sha256"] == hashlib.sha256(v1).hexdigest()

    # late paper answers for the month (more than the minimum sample)
    rows = [paper_row("CN1-BD", f"{month}-20", "1") for _ in range(40)]
    path = write_csv(tmp_path / "late.csv", ["office_code", "submitted_at", *CODES], rows)
    result = server.app.test_cli_runner().invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output

    page.goto(f"{server.url}/admin/?office=CN1-BD&month={month}")
    notice = page.locator("[data-changed-after-final]")
    assert notice.is_visible()
    text = notice.inner_text()
    assert "Số liệu của kỳ này đã thay đổi sau khi chốt báo cáo." in text
    assert "→" in text  # what changed, per figure (40 answers: at least the minimum sample)
    assert page.request.get(url).body() == v1  # the old version, byte for byte
    assert axe_violations(page) == []
    save_screenshot(page, "official-report-change-notice")

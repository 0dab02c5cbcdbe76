"""Exports in words people read: labels, not codes (expectations, respondents' answers,
channels, audit actions and details); the criterion CSV carries the response total and
always-filled low-sample and completeness flags."""

from __future__ import annotations

import csv
import io

from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_raw_responses_in_words(client, world):
    login(client, "bd")
    m = world["month"]
    text = client.get(f"/admin/exports/BD/{m}/responses.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert "Mong đợi: Ứng dụng công nghệ thông tin, chuyển đổi số" in header
    assert "Người trả lời: Giới tính" in header
    assert not any(h in ("Mong đợi: digital", "Người trả lời: gender") for h in header)
    digital = header.index("Mong đợi: Ứng dụng công nghệ thông tin, chuyển đổi số")
    assert {r[digital] for r in rows[1:]} >= {"Rất nhiều"}
    channel = header.index("Kênh")
    assert {r[channel] for r in rows[1:]} == {"Máy tính bảng tại quầy", "Mã QR trên phiếu hẹn",
                                              "Phiếu giấy"}


def test_criteria_csv_has_the_total_and_flags(client, world):
    login(client, "bd")
    m = world["month"]
    text = client.get(f"/admin/exports/BD/{m}/criteria.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    total = header.index("Tổng số phiếu")
    low = header.index("Quá ít câu trả lời")
    complete = header.index("Đầy đủ")
    assert {r[total] for r in rows[1:]} == {"40"}
    assert all(r[low] in ("có", "không") for r in rows[1:])
    assert all(r[complete] in ("có", "không") for r in rows[1:])


def test_audit_log_in_words(client, world):
    client.post("/admin/login", data={"username": "bd", "password": "wrong-password-1"})
    login(client, "city")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert "Đăng nhập không thành công" in html and "Đã đăng nhập" in html
    assert "Địa chỉ: " in html  # the detail's name in words
    assert "client=" not in html and "<code>signin" not in html


def test_every_audited_action_has_words(app):
    """Each action the code records (``record("…")``) has a label in the catalogue, so the
    audit page never shows a code (a new action without one fails here)."""
    import re
    from pathlib import Path

    from flask_babel import force_locale

    from core.services.labels import audit_action_label

    root = Path(__file__).resolve().parents[2]
    actions = set()
    for folder in ("core", "admin", "kiosk", "survey", "public_site"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            actions |= set(re.findall(r'record\(\s*"([a-z_.]+)"', text))
            actions |= {a for pair in re.findall(
                r'record\(\s*"([a-z_.]+)" if \w+ else "([a-z_.]+)"', text) for a in pair}
    assert {"signin", "imports.undo", "office.deactivate", "comment.publish"} <= actions
    with app.test_request_context(), force_locale("vi"):
        missing = sorted(a for a in actions if audit_action_label(a) == a)
    assert missing == []

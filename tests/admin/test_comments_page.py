"""The comments page: heads handle citizens' comments (audited without the texts); viewers
read them; nobody sees a time of day."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CommentHandling
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_comment_workflow_is_audited_and_never_shows_time(client, world):
    login(client, "bd")
    m, rid = world["month"], world["km_comment"]
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh cần sạch sẽ hơn." in page and "Mới" in page
    assert not re.search(r"\b\d{1,2}:\d{2}\b", page)  # no time of day anywhere
    r = client.post(f"/admin/comments/{rid}", data={
        f"c{rid}-status": "answered", f"c{rid}-internal_note": "Đã giao bộ phận hành chính",
        f"c{rid}-public_reply": "Cảm ơn Ông/Bà, chúng tôi đã bố trí vệ sinh hai lần mỗi ngày."})
    assert r.status_code == 302
    handling = db.session.get(CommentHandling, rid)
    assert handling.status == "answered" and handling.closed_at is not None
    page = client.get(f"/admin/comments?office=BD&month={m}&status=answered"
                      ).get_data(as_text=True)
    assert "Đã giao bộ phận hành chính" in page and "đã xử lý sau" in page
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "comment.handle"))
    assert event.details["status"] == "answered"
    assert "Nhà vệ sinh" not in json.dumps(event.details, ensure_ascii=False)
    bad = client.post(f"/admin/comments/{rid}", data={f"c{rid}-status": "lost"})
    assert bad.status_code == 400


def test_a_viewer_sees_counts_never_texts_or_contacts(client, world):
    """Attack: a viewer of BD-KM opens the comments page and the dashboard to read what
    citizens wrote and how to reach them. Before, the page showed every comment's text."""
    login(client, "kmview")
    m = world["month"]
    page = client.get(f"/admin/comments?office=BD-KM&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh" not in page and "comment-form" not in page
    assert "Xin gọi lại" not in page and "0912345678" not in page
    assert "data-restricted" in page
    assert "Mới: 1" in page  # the anonymous comment, counted
    assert "Yêu cầu liên hệ lại: mới 1" in page  # the contact request, counted
    for status in ("new", "answered"):  # a filter shows nothing more
        page = client.get(f"/admin/comments?office=BD-KM&month={m}&status={status}"
                          ).get_data(as_text=True)
        assert "Nhà vệ sinh" not in page and "0912345678" not in page
    dash = client.get(f"/admin/?office=BD-KM&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh" not in dash and "0912345678" not in dash

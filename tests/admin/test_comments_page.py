"""The comments page: heads handle citizens' comments and contact requests (audited without
the texts or contacts) and delete them when a citizen withdraws them (also `flask comments
withdraw`); viewers see counts; nobody sees a time of day."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CommentHandling, ContactRequest, Response
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login, report_json

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


def test_a_head_reads_handles_and_deletes_a_contact_request_audited_without_it(client,
                                                                               world):
    login(client, "bd")
    m, rid = world["month"], world["km_request"]
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "Xin gọi lại về lệ phí." in page and "0912345678" in page
    assert "an.nguyen@example.vn" not in page  # STP's request: another office
    r = client.post(f"/admin/requests/{rid}", data={
        f"r{rid}-status": "answered", f"r{rid}-internal_note": "Đã gọi lại ngày 12"})
    assert r.status_code == 302
    req = db.session.get(ContactRequest, rid)
    assert req.status == "answered" and req.closed_at is not None and req.updated_by == "bd"
    assert client.post(f"/admin/requests/{world['stp_request']}", data={
        f"r{world['stp_request']}-status": "answered"}).status_code == 404
    r = client.post(f"/admin/requests/{rid}/withdraw")
    assert r.status_code == 302
    db.session.remove()
    assert db.session.get(ContactRequest, rid) is None
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "0912345678" not in page and "Xin gọi lại" not in page
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(
        ["contact_request.handle", "comment.withdraw"])).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["contact_request.handle", "comment.withdraw"]
    dump = json.dumps([[e.target, e.details] for e in events], ensure_ascii=False)
    for secret in ("0912345678", "Xin gọi lại", "Đã gọi lại"):
        assert secret not in dump


def test_a_citizen_withdraws_an_anonymous_comment_and_the_scores_stay(client, runner, world):
    """The comment text goes (with how it was handled); the answer and every figure stay;
    the audit event holds neither the text nor the answer's id."""
    m, rid = world["month"], world["km_comment"]
    before = report_json(runner, "BD-KM", m)
    login(client, "bd")
    client.post(f"/admin/comments/{rid}", data={f"c{rid}-status": "in_progress",
                                               f"c{rid}-internal_note": "Nhà vệ sinh tầng 1"})
    assert client.post(f"/admin/comments/{rid}/withdraw",
                       query_string={"next": f"/admin/comments?office=BD&month={m}"}
                       ).status_code == 302
    db.session.remove()
    resp = db.session.get(Response, rid)
    assert resp is not None and resp.comment is None and resp.answers
    assert db.session.get(CommentHandling, rid) is None
    assert report_json(runner, "BD-KM", m) == before
    [event] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "comment.withdraw")).all()
    assert event.actor == "bd" and event.target is None
    assert "Nhà vệ sinh" not in json.dumps(event.details, ensure_ascii=False)
    assert str(rid) not in json.dumps(event.details)
    # gone from the page; withdrawing again finds nothing
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh" not in page
    assert client.post(f"/admin/comments/{rid}/withdraw").status_code == 404


def test_flask_comments_withdraw(runner, world):
    # a contact request, by the contact as the citizen says it
    result = runner.invoke(args=["comments", "withdraw", "--contact", "+84 912 345 678"])
    assert result.exit_code == 0, result.output
    assert "Đã rút 1 ý kiến." in result.output
    assert db.session.get(ContactRequest, world["km_request"]) is None
    assert db.session.get(ContactRequest, world["stp_request"]) is not None
    result = runner.invoke(args=["comments", "withdraw", "--request",
                                 str(world["stp_request"])])
    assert result.exit_code == 0 and db.session.scalar(
        sa.select(sa.func.count()).select_from(ContactRequest)) == 0
    result = runner.invoke(args=["comments", "withdraw", "--response",
                                 str(world["stp_comment"])])
    assert result.exit_code == 0
    db.session.remove()
    assert db.session.get(Response, world["stp_comment"]).comment is None
    # refusals
    for args in ([], ["--contact", "gọi tôi"], ["--request", "999999"],
                 ["--response", str(world["stp_comment"])],  # no comment left
                 ["--contact", "0912345678", "--request", "1"]):
        bad = runner.invoke(args=["comments", "withdraw", *args])
        assert bad.exit_code == 1 and "Lỗi:" in bad.output, args
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "comment.withdraw")).all()
    assert len(events) == 3 and {e.actor for e in events} == {"cli"}
    dump = json.dumps([[e.target, e.details] for e in events], ensure_ascii=False)
    assert "0912345678" not in dump and "an.nguyen" not in dump and "HYPERLINK" not in dump

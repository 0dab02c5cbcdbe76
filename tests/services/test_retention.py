"""Retention of personal data: ``flask retention apply`` removes comment texts, contact
requests and audit events when their period is over (idempotent, for cron), never an answer
or a figure; ``flask retention status`` says what is kept and due."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CommentHandling, ContactRequest, Response
from core.services import retention
from core.services.feedback import handle_comment, handle_request
from core.timeutil import utcnow
from tests.admin.fixtures import make_contact_request, report_json


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _raw(runner, office: str, month: str) -> list:
    from core.services.exports import response_rows
    from core.services.offices import get_office

    _header, rows = response_rows(get_office(office), month, with_comments=False)
    return list(rows)


def test_removing_comment_texts_never_changes_a_figure(app, runner, world):
    """Attack: retention that changes the published figures. Every report, the raw rows
    (without their comments) and the tallies are the same before and after."""
    m = world["month"]
    handle_comment(world["users"]["bd"], world["km_comment"], "answered", "ghi chú", "trả lời")
    offices = ("HN", "BD", "BD-KM", "STP")
    reports = {o: report_json(runner, o, m) for o in offices}
    raw = {o: _raw(runner, o, m) for o in offices}
    app.config["RETENTION_COMMENT_DAYS"] = 1  # the month's comments are older than a day
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert "Đã xóa nội dung 13 ý kiến" in result.output
    assert _count(Response, Response.comment.is_not(None)) == 0
    assert _count(Response) == 52  # every answer stays
    assert _count(CommentHandling) == 0  # its note and reply could quote the comment
    assert {o: report_json(runner, o, m) for o in offices} == reports
    assert {o: _raw(runner, o, m) for o in offices} == raw
    rebuilt = runner.invoke(args=["tallies", "rebuild"])
    assert rebuilt.exit_code == 0 and " 0 " in rebuilt.output


def test_apply_removes_what_is_due_and_only_that_once(app, world, offices):
    m = world["month"]
    now = utcnow()
    bd, stp = world["users"]["bd"], world["users"]["stp"]
    # closed 40 days ago (due after 30), closed now (kept), open and 200 days old (due: 180)
    handle_request(bd, world["km_request"], "answered", None)
    db.session.get(ContactRequest, world["km_request"]).closed_at = now - timedelta(days=40)
    handle_request(stp, world["stp_request"], "not_actionable", None)
    old_open = make_contact_request(offices["BD-DB"], m, "Cũ", "an@x.vn")
    db.session.get(ContactRequest, old_open).day = (now - timedelta(days=200)).date()
    # audit events: one of 400 days (due after 365), the rest recent
    old_event = AuditEvent(actor="cli", action="signin.failed", at=now - timedelta(days=400),
                           details={"client": "203.0.113.9"})
    db.session.add(old_event)
    db.session.commit()
    events_before = _count(AuditEvent)
    report = retention.apply(now=now)
    assert (report.comments, report.contact_requests, report.audit_events) == (0, 2, 1)
    assert set(db.session.scalars(sa.select(ContactRequest.id))) == {world["stp_request"]}
    assert _count(AuditEvent, AuditEvent.action == "signin.failed") == 0
    [event] = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "retention.apply")).all()
    assert event.details == {"comments": 0, "contact_requests": 2, "audit_events": 1}
    assert _count(AuditEvent) == events_before - 1 + 1
    # again: nothing more, and no new event
    again = retention.apply(now=now)
    assert again.total == 0
    assert _count(AuditEvent, AuditEvent.action == "retention.apply") == 1
    # a comment is due from its answer's day (world's comments are last month's)
    later = retention.apply(now=now + timedelta(days=400))
    assert later.comments == 13 and later.contact_requests == 1


def test_a_period_of_null_keeps_for_ever_and_a_bad_one_is_refused(app, runner, world):
    for name in retention.SETTINGS:
        app.config[name] = None
    assert retention.apply(now=utcnow() + timedelta(days=10 ** 4)).total == 0
    app.config["RETENTION_CONTACT_DAYS"] = 0
    for command in ("apply", "status"):
        bad = runner.invoke(args=["retention", command])
        assert bad.exit_code == 1
        assert "SIPAS_RETENTION_CONTACT_DAYS" in bad.output and "Lỗi:" in bad.output


def test_status_says_what_is_kept_and_due(app, runner, world):
    app.config["RETENTION_COMMENT_DAYS"] = 1
    result = runner.invoke(args=["retention", "status"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert lines[0] == ["kind", "setting", "days", "kept", "oldest", "due"]
    rows = {r[0]: r for r in lines[1:]}
    m = world["month"]
    assert rows["comments"][1:4] == ["SIPAS_RETENTION_COMMENT_DAYS", "1", "13"]
    assert rows["comments"][4].startswith(m) and rows["comments"][5] == "13"
    assert rows["contact_requests"][1:] == ["SIPAS_RETENTION_CONTACT_MAX_DAYS", "180", "2",
                                            f"{m}-10", "0"]
    assert rows["contact_requests_closed"][1:] == ["SIPAS_RETENTION_CONTACT_DAYS", "30", "0",
                                                   "-", "0"]
    assert rows["audit_events"][1:3] == ["SIPAS_RETENTION_AUDIT_DAYS", "365"]
    # status changes nothing
    assert _count(Response, Response.comment.is_not(None)) == 13


@pytest.mark.parametrize("name", retention.SETTINGS)
def test_every_period_has_a_default_for_the_legal_staff(app, name):
    assert isinstance(app.config[name], int) and app.config[name] >= 1
    json.dumps(app.config[name])

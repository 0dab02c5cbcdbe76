"""Citizens' comments: what an office sees of them (the day, never the time), and how their
handling is recorded, audited without the texts, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import AuditEvent, CommentHandling
from core.services.feedback import handle_comment, month_comments, status_counts, theme_summary


def test_month_comments_cover_the_subtree_and_show_the_day_only(world, offices):
    m = world["month"]
    city = month_comments(offices["HN"], m)
    # one in BD-KM (day 10), twelve in STP (day 3): newest day first
    assert [(c.office_code, c.status) for c in city] == [("BD-KM", "new")] + [("STP", "new")] * 12
    km = city[0]
    assert km.text == "Nhà vệ sinh cần sạch sẽ hơn." and km.response_id == world["km_comment"]
    assert type(km.day) is dt.date and km.day.isoformat()[:7] == m
    assert not km.closed and km.waiting_days >= 0
    assert [c.office_code for c in month_comments(offices["BD"], m)] == ["BD-KM"]
    assert month_comments(offices["BD-DB"], m) == []
    assert month_comments(offices["HN"], m, "answered") == []
    counts = status_counts(city)
    assert counts["counts"] == {"new": 13, "in_progress": 0, "answered": 0,
                                "not_actionable": 0}
    assert counts["open"] == 13 and counts["longest_wait"] == max(c.waiting_days for c in city)


def test_handling_a_comment_closes_and_reopens_it(world, offices):
    head, rid = world["users"]["bd"], world["km_comment"]
    handle_comment(head, rid, "answered", "  Đã giao bộ phận hành chính ", "Cảm ơn Ông/Bà.")
    handling = db.session.get(CommentHandling, rid)
    assert handling.status == "answered" and handling.closed_at is not None
    assert handling.internal_note == "Đã giao bộ phận hành chính"
    assert handling.updated_by == "bd"
    [view] = month_comments(offices["BD"], world["month"], "answered")
    assert view.closed and view.public_reply == "Cảm ơn Ông/Bà."
    handle_comment(head, rid, "in_progress", None, "")
    handling = db.session.get(CommentHandling, rid)
    assert handling.closed_at is None and handling.public_reply is None
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "comment.handle").order_by(AuditEvent.id)).all()
    assert [e.details["previous"] for e in events] == ["new", "answered"]
    assert all("Đã giao" not in str(e.details) for e in events)


def test_refused_handling_stores_nothing(world):
    rid, stp = world["km_comment"], world["stp_comment"]
    with pytest.raises(NotFound):
        handle_comment(world["users"]["stp"], rid, "answered", None, None)  # outside scope
    with pytest.raises(NotFound):
        handle_comment(world["users"]["city"], 10**9, "answered", None, None)
    with pytest.raises(Invalid) as exc:
        handle_comment(world["users"]["city"], stp, "lost", "x" * 2001, None)
    assert set(exc.value.fields) == {"status", "internal_note"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentHandling)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "comment.handle")) == 0


def test_themes_are_tags_from_the_instruments_fixed_list(world, offices):
    m, city = world["month"], world["users"]["city"]
    rid, stp = world["km_comment"], world["stp_comment"]
    before = theme_summary(offices["HN"], [m])
    assert before == {"comments": 13, "handled": 0, "tagged": 0, "themes": {}}
    handle_comment(city, rid, "answered", None, None, ["premises", "premises", "attitude"])
    handle_comment(city, stp, "in_progress", None, None, ["attitude"])
    assert db.session.get(CommentHandling, rid).themes == ["attitude", "premises"]
    assert theme_summary(offices["HN"], [m]) == {
        "comments": 13, "handled": 1, "tagged": 2, "themes": {"attitude": 2, "premises": 1}}
    assert theme_summary(offices["BD"], [m])["themes"] == {"attitude": 1, "premises": 1}
    [view] = month_comments(offices["BD"], m)
    assert view.themes == ("attitude", "premises")
    handle_comment(city, rid, "answered", None, None)  # None leaves the tags as they are
    assert db.session.get(CommentHandling, rid).themes == ["attitude", "premises"]
    handle_comment(city, rid, "answered", None, None, [])
    assert db.session.get(CommentHandling, rid).themes is None
    with pytest.raises(Invalid) as exc:
        handle_comment(city, rid, "answered", None, None, ["weather"])
    assert "weather" in exc.value.fields["themes"]

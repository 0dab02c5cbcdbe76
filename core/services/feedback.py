"""Citizens' comments and how each office handles them.

What an office sees of a comment: its text, the office, the channel kind and the *date*
(Vietnam time) it arrived. Never the exact time, the kiosk or the counter, so a comment cannot
be matched to the citizen who stood at a desk at a given minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import COMMENT_STATUSES, CommentHandling, Office, Response, User
from core.services.audit import record
from core.services.pooling import within
from core.services.scope import may_see
from core.services.tx import transaction
from core.timeutil import VN_TZ, utcnow

MAX_NOTE = 2000
CLOSED = ("answered", "not_actionable")


@dataclass
class CommentView:
    response_id: int
    office_code: str
    office_name: str
    day: date
    text: str
    status: str
    internal_note: str | None
    public_reply: str | None
    waiting_days: int
    closed: bool


def _day(moment: datetime) -> date:
    return moment.astimezone(VN_TZ).date()


def month_comments(office: Office, month: str, status: str | None = None
                   ) -> list[CommentView]:
    """The month's comments for ``office`` and its subtree (counted responses only),
    newest day first; order within a day does not follow arrival time."""
    query = (within(sa.select(Response.id, Response.submitted_at, Response.comment,
                              Office.code, Office.name, CommentHandling),
                    Response.office_id, office.id)
             .join(Office, Office.id == Response.office_id)
             .outerjoin(CommentHandling, CommentHandling.response_id == Response.id)
             .where(Response.month == month, Response.counted.is_(True),
                    Response.comment.is_not(None)))
    today = _day(utcnow())
    out = []
    for rid, submitted, text, code, name, handling in db.session.execute(query):
        st = handling.status if handling else "new"
        if status and st != status:
            continue
        day = _day(submitted)
        end = _day(handling.closed_at) if handling and handling.closed_at else today
        out.append(CommentView(rid, code, name, day, text, st,
                               handling.internal_note if handling else None,
                               handling.public_reply if handling else None,
                               max(0, (end - day).days), st in CLOSED))
    out.sort(key=lambda c: (-c.day.toordinal(), c.office_code, c.text))
    return out


def status_counts(comments: list[CommentView]) -> dict[str, Any]:
    counts = dict.fromkeys(COMMENT_STATUSES, 0)
    for c in comments:
        counts[c.status] += 1
    waits = sorted(c.waiting_days for c in comments if not c.closed)
    return {"counts": counts, "open": len(waits), "longest_wait": waits[-1] if waits else None}


def handle_comment(user: User, response_id: int, status: str, internal_note: str | None,
                   public_reply: str | None) -> CommentHandling:
    """Record how a comment is handled (committed, audited without the texts).

    Raises Invalid(404) for a response without comment or outside the user's scope,
    Invalid(400) for an unknown status or texts that are too long."""
    resp = db.session.get(Response, response_id)
    if resp is None or resp.comment is None or not may_see(user, resp.office_id):
        raise NotFound("not_found", _("There is no such comment."))
    fields = {}
    if status not in COMMENT_STATUSES:
        fields["status"] = _("Unknown status.")
    note = (internal_note or "").strip() or None
    reply = (public_reply or "").strip() or None
    for key, value in (("internal_note", note), ("public_reply", reply)):
        if value and len(value) > MAX_NOTE:
            fields[key] = _("must be at most %(limit)s characters", limit=MAX_NOTE)
    if fields:
        raise Invalid("invalid", _("The comment was not updated."), fields)
    with transaction():
        handling = db.session.get(CommentHandling, response_id)
        now = utcnow()
        if handling is None:
            handling = CommentHandling(response_id=response_id, status="new", created_at=now)
            db.session.add(handling)
        previous = handling.status
        handling.status = status
        handling.internal_note = note
        handling.public_reply = reply
        handling.updated_at = now
        handling.updated_by = user.username
        if status in CLOSED and handling.closed_at is None:
            handling.closed_at = now
        elif status not in CLOSED:
            handling.closed_at = None
        record("comment.handle", actor=user.username, office_id=resp.office_id,
               target=f"response:{response_id}", status=status, previous=previous,
               has_note=bool(note), has_reply=bool(reply))
    return handling

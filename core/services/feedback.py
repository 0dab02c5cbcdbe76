"""Citizens' comments and how each office handles them.

Two kinds, never joined:

* an anonymous comment rides on its (released) answer: what an office sees of it is its
  text, the office and the *date* (Vietnam time). Never the exact time, the kiosk or the
  counter, so a comment cannot be matched to the citizen who stood at a desk at a given
  minute;
* a **contact request** (:class:`~core.models.ContactRequest`) is a comment whose writer
  consented to be contacted and gave a phone number or e-mail address: stored apart from the
  answer (which then has no comment), with the office and the day only, when the answer is
  acknowledged (:func:`hold_request`, in the intake's transaction).

Both are read only by the people who handle comments for the office
(:func:`core.services.scope.may_read_comments`); viewers get counts per status. Both can be
withdrawn at the citizen's request (audited without the text or the contact), and
:mod:`core.services.retention` removes them after their retention period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import (
    COMMENT_STATUSES,
    CommentHandling,
    ContactRequest,
    Office,
    Response,
    User,
)
from core.personal_data import normalize_contact
from core.services.audit import record
from core.services.common import get_instrument
from core.services.pooling import within
from core.services.scope import may_read_comments, may_see
from core.services.tx import transaction
from core.timeutil import VN_TZ, month_bounds_utc, utcnow

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
    themes: tuple[str, ...] = ()


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
                               max(0, (end - day).days), st in CLOSED,
                               tuple(handling.themes or ()) if handling else ()))
    out.sort(key=lambda c: (-c.day.toordinal(), c.office_code, c.text))
    return out


def status_counts(comments: list[CommentView]) -> dict[str, Any]:
    counts = dict.fromkeys(COMMENT_STATUSES, 0)
    for c in comments:
        counts[c.status] += 1
    waits = sorted(c.waiting_days for c in comments if not c.closed)
    return {"counts": counts, "open": len(waits), "longest_wait": waits[-1] if waits else None}


def _no_comment() -> NotFound:
    return NotFound("not_found", _("There is no such comment."))


def _checked(status: str, texts: dict[str, str | None]) -> dict[str, str | None]:
    """The stripped texts. Raises Invalid naming an unknown status and over-long texts."""
    fields = {}
    if status not in COMMENT_STATUSES:
        fields["status"] = _("Unknown status.")
    clean = {key: (value or "").strip() or None for key, value in texts.items()}
    for key, value in clean.items():
        if value and len(value) > MAX_NOTE:
            fields[key] = _("must be at most %(limit)s characters", limit=MAX_NOTE)
    if fields:
        raise Invalid("invalid", _("The comment was not updated."), fields)
    return clean


def checked_themes(instrument_id: str, themes: Sequence[str]) -> list[str]:
    """``themes`` as sorted, distinct codes of the instrument's ``comment_themes``.
    Raises Invalid naming the codes that are not on the list."""
    allowed = get_instrument(instrument_id).comment_theme_codes()
    unknown = sorted({t for t in themes if t not in allowed})
    if unknown:
        raise Invalid("invalid", _("The comment was not updated."),
                      {"themes": _("Unknown theme: %(codes)s.", codes=", ".join(unknown))})
    return sorted(set(themes))


def handle_comment(user: User, response_id: int, status: str, internal_note: str | None,
                   public_reply: str | None, themes: Sequence[str] | None = None
                   ) -> CommentHandling:
    """Record how a comment is handled (committed, audited without the texts). ``themes``
    replaces the comment's theme tags (codes of the instrument's ``comment_themes``); None
    leaves them as they are.

    Raises NotFound for a response without comment or outside the user's scope, Invalid
    for an unknown status or theme, or texts that are too long."""
    resp = db.session.get(Response, response_id)
    if resp is None or resp.comment is None or not may_see(user, resp.office_id):
        raise _no_comment()
    texts = _checked(status, {"internal_note": internal_note, "public_reply": public_reply})
    tags = checked_themes(resp.instrument_id, themes) if themes is not None else None
    note, reply = texts["internal_note"], texts["public_reply"]
    with transaction():
        handling = db.session.get(CommentHandling, response_id)
        now = utcnow()
        if handling is None:
            handling = CommentHandling(response_id=response_id, status="new", created_at=now)
            db.session.add(handling)
        previous = _move(handling, status, user.username, now)
        handling.internal_note = note
        handling.public_reply = reply
        if tags is not None:
            handling.themes = tags or None
        record("comment.handle", actor=user.username, office_id=resp.office_id,
               target=f"response:{response_id}", status=status, previous=previous,
               has_note=bool(note), has_reply=bool(reply),
               themes=list(handling.themes or []))
    return handling


def theme_summary(office: Office, months: Collection[str]) -> dict[str, Any]:
    """The comments of ``months`` for ``office`` and its subtree (counted responses): how
    many, how many handled (answered or not actionable), how many tagged, and the count per
    theme code (a comment may carry several themes), most frequent first."""
    query = (within(sa.select(CommentHandling.status, CommentHandling.themes)
                    .select_from(Response), Response.office_id, office.id)
             .outerjoin(CommentHandling, CommentHandling.response_id == Response.id)
             .where(Response.month.in_(list(months)), Response.counted.is_(True),
                    Response.comment.is_not(None)))
    total = handled = tagged = 0
    per_theme: Counter[str] = Counter()
    for status, themes in db.session.execute(query):
        total += 1
        handled += status in CLOSED
        if themes:
            tagged += 1
            per_theme.update(themes)
    return {"comments": total, "handled": handled, "tagged": tagged,
            "themes": dict(sorted(per_theme.items(), key=lambda kv: (-kv[1], kv[0])))}


def _move(row: CommentHandling | ContactRequest, status: str, username: str, now: datetime
          ) -> str:
    """Give a comment's handling or a contact request its new status (who and when; closed
    from the first time it is closed, open again when reopened). Returns the previous status."""
    previous = row.status
    row.status = status
    row.updated_at = now
    row.updated_by = username
    if status in CLOSED and row.closed_at is None:
        row.closed_at = now
    elif status not in CLOSED:
        row.closed_at = None
    return previous


# --- contact requests ---------------------------------------------------------------------

def hold_request(request: Any, office_id: int) -> None:
    """Store a citizen's contact request (an intake ``NewContactRequest``: the masked
    comment and the contact) for ``office_id``, dated with today's Vietnam day only, in the
    caller's transaction (no commit). Nothing of the answer it came with is stored."""
    db.session.execute(sa.insert(ContactRequest).values(
        office_id=office_id, day=_day(utcnow()), comment=request.comment,
        contact_kind=request.contact.kind, contact=request.contact.value, status="new"))


@dataclass
class RequestView:
    id: int
    office_code: str
    office_name: str
    day: date
    comment: str | None
    contact_kind: str
    contact: str
    status: str
    internal_note: str | None
    waiting_days: int
    closed: bool
    themes: tuple[str, ...] = ()


def _month_days(month: str) -> tuple[date, date]:
    start, end = month_bounds_utc(month)
    return _day(start), _day(end)


def month_requests(office: Office, month: str, status: str | None = None
                   ) -> list[RequestView]:
    """The month's contact requests for ``office`` and its subtree, newest day first (order
    within a day does not follow arrival). The caller checks the reader may read them."""
    first, after = _month_days(month)
    query = (within(sa.select(ContactRequest, Office.code, Office.name),
                    ContactRequest.office_id, office.id)
             .join(Office, Office.id == ContactRequest.office_id)
             .where(ContactRequest.day >= first, ContactRequest.day < after))
    if status:
        query = query.where(ContactRequest.status == status)
    today = _day(utcnow())
    out = []
    for req, code, name in db.session.execute(query):
        end = _day(req.closed_at) if req.closed_at else today
        out.append(RequestView(req.id, code, name, req.day, req.comment, req.contact_kind,
                               req.contact, req.status, req.internal_note,
                               max(0, (end - req.day).days), req.status in CLOSED))
    out.sort(key=lambda r: (-r.day.toordinal(), r.office_code, r.comment or "", r.id))
    return out


def request_counts(office: Office, month: str) -> dict[str, Any]:
    """Contact requests of the month per status (what every reader of the office may see),
    like :func:`status_counts`."""
    first, after = _month_days(month)
    rows = db.session.execute(
        within(sa.select(ContactRequest.status, ContactRequest.day, ContactRequest.closed_at),
               ContactRequest.office_id, office.id)
        .where(ContactRequest.day >= first, ContactRequest.day < after)).all()
    counts = dict.fromkeys(COMMENT_STATUSES, 0)
    today = _day(utcnow())
    waits = []
    for st, day, _closed in rows:
        counts[st] += 1
        if st not in CLOSED:
            waits.append((today - day).days)
    return {"counts": counts, "open": len(waits),
            "longest_wait": max(waits) if waits else None}


def _request_for(user: User | None, request_id: int) -> ContactRequest:
    req = db.session.get(ContactRequest, request_id)
    if req is None or (user is not None and not may_read_comments(user, req.office_id)):
        raise _no_comment()
    return req


def handle_request(user: User, request_id: int, status: str,
                   internal_note: str | None) -> ContactRequest:
    """Record how a contact request is handled (committed, audited without the texts or the
    contact). Raises NotFound outside the user's scope (or for a user who does not handle
    comments), Invalid for an unknown status or a note that is too long."""
    req = _request_for(user, request_id)
    note = _checked(status, {"internal_note": internal_note})["internal_note"]
    with transaction():
        previous = _move(req, status, user.username, utcnow())
        req.internal_note = note
        record("contact_request.handle", actor=user.username, office_id=req.office_id,
               target=f"contact_request:{req.id}", status=status, previous=previous,
               has_note=bool(note))
    return req


# --- withdrawal at the citizen's request --------------------------------------------------

def withdraw_comment(response_id: int, *, actor: str, user: User | None = None) -> None:
    """Remove an anonymous comment from its answer (and how it was handled), at its writer's
    request; the scores stay. Committed and audited without the text. ``user``: the
    handler doing it (checked like every reader); None for the command line. Raises
    NotFound for an answer without comment or outside the user's reach."""
    resp = db.session.get(Response, response_id)
    if resp is None or resp.comment is None or (
            user is not None and not may_read_comments(user, resp.office_id)):
        raise _no_comment()
    with transaction():
        db.session.execute(sa.update(Response).where(Response.id == response_id)
                           .values(comment=None))
        db.session.execute(sa.delete(CommentHandling)
                           .where(CommentHandling.response_id == response_id))
        # no response id and no text: the event's time is the citizen's visit
        record("comment.withdraw", actor=actor, office_id=resp.office_id, kind="comment")
    db.session.expire(resp)


def withdraw_request(request_id: int, *, actor: str, user: User | None = None) -> None:
    """Delete a contact request (its comment, its contact and its handling) at its writer's
    request. Committed and audited without the text or the contact. Raises NotFound like
    :func:`withdraw_comment`."""
    req = _request_for(user, request_id)
    with transaction():
        record("comment.withdraw", actor=actor, office_id=req.office_id,
               target=f"contact_request:{req.id}", kind="contact_request",
               had_comment=req.comment is not None)
        db.session.delete(req)


def withdraw_contact(contact: str, *, actor: str) -> int:
    """Delete every contact request given with this phone number or e-mail address (as the
    citizen writes it: it is normalised first). Committed, each audited without the text or
    the contact; returns how many. Raises Invalid when ``contact`` is neither."""
    parsed = normalize_contact(contact or "")
    if parsed is None:
        raise Invalid("invalid", _("Some fields are not valid."), {
            "contact": _("must be a phone number (e.g. 0912 345 678) or an e-mail address")})
    rows = db.session.scalars(sa.select(ContactRequest).where(
        ContactRequest.contact_kind == parsed.kind,
        sa.func.lower(ContactRequest.contact) == parsed.value.lower())).all()
    with transaction():
        for req in rows:
            record("comment.withdraw", actor=actor, office_id=req.office_id,
                   target=f"contact_request:{req.id}", kind="contact_request",
                   had_comment=req.comment is not None, by="contact")
            db.session.delete(req)
    return len(rows)

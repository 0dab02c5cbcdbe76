"""Comments at scale: one page of an office's anonymous comments with filters, search and
paging done in SQL (a count and a ``LIMIT``; nothing loads every comment), their assignment
to a person who handles them, and status changes of many comments at once.

What the page never offers, so that a comment cannot be tied to how its writer rated:

* a comment's **scores** (with a contact request's details or the text itself they would
  name a person);
* a **filter by score**: a list of the comments whose answers scored low tells, for every
  comment in it, that its writer rated low; a minimum number of results does not help, since
  membership of the list is itself the score. Score figures stay in the reports (pooled);
* a comment's **dimension**: the questionnaire has no such field (a citizen's comment is one
  free text for the whole questionnaire), so there is nothing to show or filter on; the
  handlers' theme tags (``comment_themes``) play that part and can be filtered on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import COMMENT_STATUSES, CommentHandling, Office, OfficeClosure, Response, User
from core.services.audit import record
from core.services.feedback import CLOSED, CommentView, _day, _move
from core.services.mixing import day_start
from core.services.pooling import within
from core.services.scope import may_read_comments
from core.services.tx import transaction
from core.timeutil import utcnow

PER_PAGE = 20
MAX_SEARCH = 100
#: "older than" choices of the age filter, in days
AGES = (3, 7, 15, 30)
#: the assignment filter: anyone, the reader, nobody, or a user id
ASSIGNED_ANY, ASSIGNED_ME, ASSIGNED_NOBODY = "", "me", "nobody"


@dataclass
class Filters:
    """What a reader asked for (validated by :func:`filters_from`)."""

    month: str | None = None
    status: str | None = None
    theme: str | None = None
    older_than: int | None = None
    assigned: str = ASSIGNED_ANY
    q: str = ""
    page: int = 1
    #: only comments not closed yet (new or being handled): the dashboard's preview
    open_only: bool = False


@dataclass
class CommentRow(CommentView):
    assigned_to: int | None = None
    assignee: str | None = None


@dataclass
class CommentPage:
    items: list[CommentRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int] = field(default_factory=dict)


def filters_from(args: dict[str, str], theme_codes: Sequence[str]) -> Filters:
    """Filters from query arguments; unknown values are ignored (a filter a person typed
    wrong shows everything rather than an error page)."""
    f = Filters()
    month = (args.get("month") or "").strip()
    if len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit():
        f.month = month
    status = args.get("status") or None
    f.status = status if status in COMMENT_STATUSES else None
    theme = args.get("theme") or None
    f.theme = theme if theme in theme_codes else None
    try:
        age = int(args.get("older_than") or 0)
    except ValueError:
        age = 0
    f.older_than = age if age in AGES else None
    assigned = args.get("assigned") or ""
    f.assigned = assigned if assigned in (ASSIGNED_ME, ASSIGNED_NOBODY) or assigned.isdigit() \
        else ASSIGNED_ANY
    f.q = (args.get("q") or "").strip()[:MAX_SEARCH]
    try:
        f.page = max(1, int(args.get("page") or 1))
    except ValueError:
        f.page = 1
    return f


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _base(office: Office, f: Filters, reader: User) -> sa.Select:
    """Every filter but the status, on the office's subtree (counted answers only)."""
    stmt = (within(sa.select(Response.id).select_from(Response), Response.office_id, office.id)
            .outerjoin(CommentHandling, CommentHandling.response_id == Response.id)
            .where(Response.counted.is_(True), Response.comment.is_not(None)))
    if f.month:
        stmt = stmt.where(Response.month == f.month)
    if f.open_only:
        stmt = stmt.where(sa.or_(CommentHandling.status.is_(None),
                                 CommentHandling.status.not_in(CLOSED)))
    if f.theme:
        stmt = stmt.where(sa.cast(CommentHandling.themes, sa.Text)
                          .like(_like(f'"{f.theme}"'), escape="\\"))
    if f.older_than:
        limit = day_start(_day(utcnow()) - timedelta(days=f.older_than))
        stmt = stmt.where(Response.submitted_at <= limit,
                          sa.or_(CommentHandling.status.is_(None),
                                 CommentHandling.status.not_in(CLOSED)))
    if f.assigned == ASSIGNED_ME:
        stmt = stmt.where(CommentHandling.assigned_to == reader.id)
    elif f.assigned == ASSIGNED_NOBODY:
        stmt = stmt.where(CommentHandling.assigned_to.is_(None))
    elif f.assigned:
        stmt = stmt.where(CommentHandling.assigned_to == int(f.assigned))
    if f.q:
        pattern = _like(f.q.lower())
        stmt = stmt.where(sa.or_(sa.func.lower(Response.comment).like(pattern, escape="\\"),
                                 sa.func.lower(CommentHandling.internal_note)
                                 .like(pattern, escape="\\"),
                                 sa.func.lower(CommentHandling.public_reply)
                                 .like(pattern, escape="\\")))
    return stmt


_STATUS = sa.func.coalesce(CommentHandling.status, "new")


def status_counts(reader: User, office: Office, f: Filters) -> dict[str, int]:
    """Status -> how many comments of ``office`` and its subtree match every filter of
    ``f`` but the status (what a reader without access to the texts may see too)."""
    counts = dict.fromkeys(COMMENT_STATUSES, 0)
    for status, n in db.session.execute(
            _base(office, f, reader).with_only_columns(_STATUS, sa.func.count())
            .group_by(_STATUS)):
        counts[status] = n
    return counts


def month_summary(reader: User, office: Office, month: str) -> dict[str, Any]:
    """The dashboard's line: the month's comments per status, how many are open and how many
    days the oldest open one has waited (None when none is open), all counted in SQL."""
    f = Filters(month=month, open_only=True)
    counts = status_counts(reader, office, Filters(month=month))
    oldest = db.session.scalar(_base(office, f, reader).with_only_columns(
        sa.func.min(Response.submitted_at)))
    return {"counts": counts, "open": counts["new"] + counts["in_progress"],
            "longest_wait": (max(0, (_day(utcnow()) - _day(oldest)).days)
                             if oldest is not None else None)}


def search(reader: User, office: Office, f: Filters, per_page: int = PER_PAGE) -> CommentPage:
    """One page of the comments of ``office`` and its subtree matching ``f``, newest day
    first (within a day the order is the release's random one), and the count per status of
    the comments matching every filter but the status. The caller checks the reader may read
    the office's comments."""
    base = _base(office, f, reader)
    counts = status_counts(reader, office, f)
    total = counts[f.status] if f.status else sum(counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(f.page, pages)
    stmt = base.with_only_columns(Response.id, Response.submitted_at, Response.comment,
                                  Office.code, Office.name, CommentHandling, User.username
                                  ).join(Office, Office.id == Response.office_id).outerjoin(
        User, User.id == CommentHandling.assigned_to)
    if f.status:
        stmt = stmt.where(_STATUS == f.status)
    stmt = (stmt.order_by(Response.submitted_at.desc(), Office.code, Response.id)
            .limit(per_page).offset((page - 1) * per_page))
    today = _day(utcnow())
    items = []
    for rid, submitted, text, code, name, h, assignee in db.session.execute(stmt):
        st = h.status if h else "new"
        day = _day(submitted)
        end = _day(h.closed_at) if h and h.closed_at else today
        items.append(CommentRow(
            rid, code, name, day, text, st, h.internal_note if h else None,
            h.public_reply if h else None, max(0, (end - day).days), st in CLOSED,
            tuple(h.themes or ()) if h else (), h.assigned_to if h else None, assignee))
    return CommentPage(items, total, page, pages, counts)


def assignable_users(office: Office) -> list[User]:
    """Active users who may handle the comments of ``office``: administrators and the heads
    of the office or of an office above it, by user name."""
    above = sa.select(OfficeClosure.ancestor_id).where(OfficeClosure.descendant_id == office.id)
    return list(db.session.scalars(
        sa.select(User).where(User.active.is_(True), sa.or_(
            User.role == "admin", sa.and_(User.role == "head", User.office_id.in_(above))))
        .order_by(User.username)))


def _comments(reader: User, ids: Sequence[int]) -> list[Response]:
    """The comments ``ids`` (distinct). Raises Invalid when there is none, NotFound when one
    is missing or outside the reader's reach."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise Invalid("invalid", _("Choose at least one comment."),
                      {"ids": _("Choose at least one comment.")})
    rows = db.session.scalars(sa.select(Response).where(Response.id.in_(ids))).all()
    if len(rows) != len(ids) or any(r.comment is None or not may_read_comments(reader,
                                                                             r.office_id)
                                    for r in rows):
        raise NotFound("not_found", _("There is no such comment."))
    return list(rows)


def _assignee(assignee_id: int | None, offices: set[int]) -> User | None:
    if assignee_id is None:
        return None
    person = db.session.get(User, assignee_id)
    if person is None or not person.active or not all(
            may_read_comments(person, office_id) for office_id in offices):
        raise Invalid("invalid", _("The comment was not updated."),
                      {"assignee": _("This person cannot handle these comments.")})
    return person


def update_many(reader: User, ids: Sequence[int], *, status: str | None = None,
                assign: bool = False, assignee_id: int | None = None) -> int:
    """Give the comments ``ids`` a new status and/or assignee (None = nobody when
    ``assign``), all in one committed transaction, each audited without its text. Returns
    how many. Raises NotFound (a comment missing or out of reach), Invalid (no comment, an
    unknown status, an assignee who cannot handle every one of them); nothing changes then."""
    if status is None and not assign:
        raise Invalid("invalid", _("The comment was not updated."),
                      {"status": _("Choose a status or a person.")})
    if status is not None and status not in COMMENT_STATUSES:
        raise Invalid("invalid", _("The comment was not updated."),
                      {"status": _("Unknown status.")})
    rows = _comments(reader, ids)
    person = _assignee(assignee_id, {r.office_id for r in rows}) if assign else None
    now = utcnow()
    with transaction():
        for resp in rows:
            h = db.session.get(CommentHandling, resp.id)
            if h is None:
                h = CommentHandling(response_id=resp.id, status="new", created_at=now)
                db.session.add(h)
            previous = h.status
            if status is not None:
                _move(h, status, reader.username, now)
            if assign:
                h.assigned_to = person.id if person else None
                h.updated_at, h.updated_by = now, reader.username
            record("comment.handle", actor=reader.username, office_id=resp.office_id,
                   target=f"response:{resp.id}", status=h.status, previous=previous,
                   **({"assigned_to": person.username if person else None} if assign else {}),
                   bulk=len(rows) > 1)
    return len(rows)


def check_assignee(reader: User, response_id: int, assignee_id: int | None) -> None:
    """Raises NotFound / Invalid as :func:`update_many` would for this comment and person."""
    rows = _comments(reader, [response_id])
    _assignee(assignee_id, {rows[0].office_id})

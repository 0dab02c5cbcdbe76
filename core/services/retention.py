"""How long personal data is kept, and removing it when its time is up.

Three kinds of personal data have a retention period in the configuration (days; None keeps
for ever; the defaults are for the city's legal staff to confirm):

* ``RETENTION_COMMENT_DAYS``: the text of an anonymous comment on an answer (and how it was
  handled: its note and public reply may quote it), counted from the answer's day. The answer
  itself stays: a released answer is not personal data (nothing ties it to a person, see the
  README's "Privacy"), and the figures and ``flask tallies rebuild`` rest on it. Removing a
  comment's text never changes a figure;
* ``RETENTION_CONTACT_DAYS``: a contact request (its comment and contact), counted from the
  moment it was closed (answered or not actionable); ``RETENTION_CONTACT_MAX_DAYS`` bounds
  every contact request, closed or not (one never closed included), counted from its day;
* ``RETENTION_AUDIT_DAYS``: audit log events (user names, client addresses), from their time.

:func:`apply` (``flask retention apply``, from cron) removes what is due, in one transaction,
and can run any number of times; :func:`status` (``flask retention status``) says what is
kept and what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import Invalid
from core.extensions import db
from core.models import AuditEvent, CommentHandling, ContactRequest, Response
from core.services.audit import record
from core.services.mixing import day_start, vn_day
from core.services.tx import transaction
from core.timeutil import utcnow

#: the settings, in the order they are reported
SETTINGS = ("RETENTION_COMMENT_DAYS", "RETENTION_CONTACT_DAYS", "RETENTION_CONTACT_MAX_DAYS",
            "RETENTION_AUDIT_DAYS")


def period(name: str) -> int | None:
    """The retention period ``name`` in days (None: kept for ever). Raises Invalid when the
    setting is not a whole number of days of at least 1."""
    value = current_app.config[name]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid("invalid_setting", _("%(name)s must be a whole number of days of at "
                                           "least 1, or null to keep for ever.",
                                           name=f"SIPAS_{name}"))
    return value


@dataclass(frozen=True)
class Cutoffs:
    """What is due at a moment: comments of answers dated before ``comment_day``, contact
    requests closed before ``contact_closed`` or dated before ``contact_max_day``, audit
    events before ``audit``; None where the period is for ever."""

    comment_day: date | None
    contact_closed: datetime | None
    contact_max_day: date | None
    audit: datetime | None


def cutoffs(now: datetime | None = None) -> Cutoffs:
    """The cutoffs at ``now`` (default: the current time). Raises Invalid for a bad
    setting."""
    now = now or utcnow()
    today = vn_day(now)
    days = {name: period(name) for name in SETTINGS}

    def before_day(name: str) -> date | None:
        return None if days[name] is None else today - timedelta(days=days[name])

    def before_time(name: str) -> datetime | None:
        return None if days[name] is None else now - timedelta(days=days[name])

    return Cutoffs(before_day("RETENTION_COMMENT_DAYS"), before_time("RETENTION_CONTACT_DAYS"),
                   before_day("RETENTION_CONTACT_MAX_DAYS"),
                   before_time("RETENTION_AUDIT_DAYS"))


def _comments_due(cut: Cutoffs) -> sa.ColumnElement[bool]:
    if cut.comment_day is None:
        return sa.false()
    return sa.and_(Response.comment.is_not(None),
                   Response.submitted_at < day_start(cut.comment_day))


def _requests_due(cut: Cutoffs) -> sa.ColumnElement[bool]:
    due = []
    if cut.contact_closed is not None:
        due.append(sa.and_(ContactRequest.closed_at.is_not(None),
                           ContactRequest.closed_at < cut.contact_closed))
    if cut.contact_max_day is not None:
        due.append(ContactRequest.day < cut.contact_max_day)
    return sa.or_(*due) if due else sa.false()


def _audit_due(cut: Cutoffs) -> sa.ColumnElement[bool]:
    return sa.false() if cut.audit is None else AuditEvent.at < cut.audit


@dataclass
class Removed:
    """What one run of :func:`apply` removed."""

    comments: int = 0  # comment texts cleared from answers
    contact_requests: int = 0  # contact requests deleted (comment and contact)
    audit_events: int = 0  # audit events deleted

    @property
    def total(self) -> int:
        return self.comments + self.contact_requests + self.audit_events


def apply(now: datetime | None = None, actor: str = "cli") -> Removed:
    """Remove every piece of personal data whose retention period is over, in one
    transaction; running it again removes nothing more. When something was removed, one
    audit event says how much (never what). Raises Invalid for a bad setting."""
    cut = cutoffs(now)
    removed = Removed()
    with transaction():
        due = sa.select(Response.id).where(_comments_due(cut))
        db.session.execute(sa.delete(CommentHandling)
                           .where(CommentHandling.response_id.in_(due)))
        removed.comments = db.session.execute(
            sa.update(Response).where(_comments_due(cut)).values(comment=None)
            .execution_options(synchronize_session=False)).rowcount or 0
        removed.contact_requests = db.session.execute(
            sa.delete(ContactRequest).where(_requests_due(cut))
            .execution_options(synchronize_session=False)).rowcount or 0
        removed.audit_events = db.session.execute(
            sa.delete(AuditEvent).where(_audit_due(cut))
            .execution_options(synchronize_session=False)).rowcount or 0
        if removed.total:
            record("retention.apply", actor=actor, comments=removed.comments,
                   contact_requests=removed.contact_requests,
                   audit_events=removed.audit_events)
    return removed


@dataclass(frozen=True)
class Kept:
    """One kind of personal data: its setting, how much is kept, the oldest day, how much is
    due now (``flask retention apply`` would remove it)."""

    kind: str
    setting: str
    days: int | None
    kept: int
    oldest: date | None
    due: int


def status(now: datetime | None = None) -> list[Kept]:
    """What is kept of each kind, and what is due. Raises Invalid for a bad setting."""
    cut = cutoffs(now)

    def count(table: type, where: sa.ColumnElement[bool]) -> int:
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(table)
                                     .where(where)) or 0)

    comment = Response.comment.is_not(None)
    closed = ContactRequest.closed_at.is_not(None)
    closing = (sa.false() if cut.contact_closed is None
               else sa.and_(closed, ContactRequest.closed_at < cut.contact_closed))
    oldest_max = (sa.false() if cut.contact_max_day is None
                  else ContactRequest.day < cut.contact_max_day)

    def first(column: sa.ColumnElement, where: sa.ColumnElement[bool]) -> date | None:
        value = db.session.scalar(sa.select(sa.func.min(column)).where(where))
        return vn_day(value) if isinstance(value, datetime) else value

    result = [
        Kept("comments", "RETENTION_COMMENT_DAYS", period("RETENTION_COMMENT_DAYS"),
             count(Response, comment), first(Response.submitted_at, comment),
             count(Response, _comments_due(cut))),
        Kept("contact_requests_closed", "RETENTION_CONTACT_DAYS",
             period("RETENTION_CONTACT_DAYS"), count(ContactRequest, closed),
             first(ContactRequest.closed_at, closed), count(ContactRequest, closing)),
        Kept("contact_requests", "RETENTION_CONTACT_MAX_DAYS",
             period("RETENTION_CONTACT_MAX_DAYS"), count(ContactRequest, sa.true()),
             first(ContactRequest.day, sa.true()), count(ContactRequest, oldest_max)),
        Kept("audit_events", "RETENTION_AUDIT_DAYS", period("RETENTION_AUDIT_DAYS"),
             count(AuditEvent, sa.true()), first(AuditEvent.at, sa.true()),
             count(AuditEvent, _audit_due(cut))),
    ]
    db.session.rollback()
    return result

"""Handling of citizens' comments (dimension V of SIPAS is about exactly this)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow

#: new -> in_progress -> answered | not_actionable
COMMENT_STATUSES = ("new", "in_progress", "answered", "not_actionable")


class CommentHandling(Base):
    """How an office handled the free-text comment of one response. A comment without a row
    here is ``new``. Never stores who wrote the comment or where."""

    __tablename__ = "comment_handling"
    __table_args__ = (sa.CheckConstraint(f"status IN {COMMENT_STATUSES!r}", name="status"),)

    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    internal_note: Mapped[str | None] = mapped_column(sa.Text)
    public_reply: Mapped[str | None] = mapped_column(sa.Text)
    #: the themes a handler tagged the comment with: codes of the instrument's fixed list
    #: ``comment_themes`` (sorted; SQL NULL when untagged)
    themes: Mapped[list[Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when the status first became answered or not_actionable (the end of the wait)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))
    #: the person the comment is assigned to (a user who handles comments of its office)
    assigned_to: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    #: SHA-256 (hex) of the citizen's follow-up code (core.services.followup), copied from
    #: the pending answer when it is released: never the code, never shown to anyone; the
    #: public page ``/phan-hoi/<code>`` is the only way to it
    followup_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: the head made ``public_reply`` public: on the office's board and behind the code
    reply_public: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: the head also published the (masked) comment text on the board, beside the reply
    comment_public: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


#: how a citizen asked to be contacted
CONTACT_KINDS = ("phone", "email")


class ContactRequest(Base):
    """A comment whose writer ticked the consent box and gave a phone number or e-mail
    address to be contacted about it: kept apart from the answers, with **nothing** in common
    with the answer it came with (no response id, no time finer than the day, no channel,
    kiosk or receipt), so that the scores never belong to a named person. The comment is
    masked like every comment; the contact is stored as given (normalised). Read only by the
    people who handle comments for the office; in no export; deleted
    ``RETENTION_CONTACT_DAYS`` after it is closed (:mod:`core.services.retention`)."""

    __tablename__ = "contact_request"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {COMMENT_STATUSES!r}", name="status"),
        sa.CheckConstraint(f"contact_kind IN {CONTACT_KINDS!r}", name="contact_kind"),
        sa.Index("ix_contact_request_office_day", "office_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"))
    #: the Vietnam calendar day it arrived: never a finer time
    day: Mapped[date] = mapped_column(sa.Date)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    contact_kind: Mapped[str] = mapped_column(sa.String(8))
    contact: Mapped[str] = mapped_column(sa.String(254))
    status: Mapped[str] = mapped_column(sa.String(16), default="new")
    internal_note: Mapped[str | None] = mapped_column(sa.Text)
    #: when a handler last changed it (staff's time, not the citizen's)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))
    #: when the status first became answered or not_actionable: the retention clock starts
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

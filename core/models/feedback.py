"""Handling of citizens' comments (dimension V of SIPAS is about exactly this)."""

from __future__ import annotations

from datetime import datetime

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: when the status first became answered or not_actionable (the end of the wait)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))

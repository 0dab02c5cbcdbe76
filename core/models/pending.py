"""Answers acknowledged but not yet released into ``response`` (the mixing stage).

Every channel's answer is stored here first, in the transaction that acknowledges it (with the
receipt's use, the form token or the kiosk's submission key). ``flask responses mix`` later
moves a closed office-day's answers into ``response`` in a random order, with their times
coarsened to the day, and deletes them here (see :mod:`core.services.mixing`).

A pending row holds no time finer than its Vietnam day, no receipt, dossier or kiosk, and no
client-chosen id.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base


class PendingAnswer(Base):
    """One acknowledged answer waiting for its office-day to be released."""

    __tablename__ = "pending_answer"
    __table_args__ = (sa.Index("ix_pending_answer_office_day", "office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"))
    #: The Vietnam calendar day the answer belongs to (its submission time, coarsened).
    day: Mapped[date] = mapped_column(sa.Date)
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str] = mapped_column(sa.String(16))
    answers: Mapped[str] = mapped_column(sa.String(64))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    procedure: Mapped[str | None] = mapped_column(sa.String(255))
    #: SQL NULL when absent (never the JSON text 'null': ``none_as_null``)
    expectations: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    demographics: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    counted: Mapped[bool] = mapped_column(default=True)
    flags: Mapped[str | None] = mapped_column(sa.String(64))
    #: A questionnaire left before the end (see :attr:`core.models.Response.partial`).
    partial: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: SHA-256 (hex) of the follow-up code the citizen was given with a comment (made on the
    #: kiosk or the phone's page, never stored in clear); the release copies it to the
    #: comment's handling record
    followup_hash: Mapped[str | None] = mapped_column(sa.String(64))


class SubmissionKey(Base):
    """A kiosk submission id already acknowledged, so that a re-sent copy stores nothing,
    whether the first copy is still pending or already released. Only a SHA-256 digest of the
    id is kept, with no link to the answer; ``expires_on`` (a date) lets old keys be purged."""

    __tablename__ = "submission_key"

    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_on: Mapped[date] = mapped_column(sa.Date, index=True)

"""E-mail alerts chosen by office heads (:mod:`core.services.alerts`): what each person wants
to hear about an office, and what has been sent (so nothing is sent twice)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow

#: digest = daily digest of a released office-day; offline = a tablet silent during opening
#: hours; report = a month's report ready for review; held = held-back answers waiting
ALERT_KINDS = ("digest", "offline", "report", "held")


class AlertSubscription(Base):
    """One user's alerts for one office (and its subtree), sent to ``email``."""

    __tablename__ = "alert_subscription"
    __table_args__ = (sa.UniqueConstraint("user_id", "office_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    digest: Mapped[bool] = mapped_column(default=False)
    offline: Mapped[bool] = mapped_column(default=False)
    report: Mapped[bool] = mapped_column(default=False)
    held: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertSent(Base):
    """An alert claimed for sending: one row per (kind, key, address). ``key`` names what the
    alert is about (an office and a day or month, a tablet and a day), never an answer."""

    __tablename__ = "alert_sent"
    __table_args__ = (sa.UniqueConstraint("kind", "key", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(96))
    email: Mapped[str] = mapped_column(sa.String(254))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

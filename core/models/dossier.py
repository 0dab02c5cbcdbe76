"""Dossier volumes: how many dossiers each office handled in a month (the N of the official
sample size n = N / (1 + N·e²)). Office totals only: nothing here refers to a dossier."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow


class DossierVolume(Base):
    """Dossiers handled by one office (itself, not its subtree) in one Vietnam month."""

    __tablename__ = "dossier_volume"
    __table_args__ = (sa.CheckConstraint("dossiers >= 0", name="dossiers_not_negative"),)

    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"),
                                           primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    dossiers: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

"""Targets: the index an office should reach in a year, per criterion, dimension or overall."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow

#: ``code`` of the overall target (dimension and criterion targets use their own codes).
OVERALL = "overall"
#: how a target is read: "> 88,00" (the plan's overall and dimension targets: strictly above)
#: or a plain value (the plan's criterion targets: at least)
TARGET_OPERATORS = (">", ">=")


class Target(Base):
    """A target in percent for ``code`` (``overall``, a dimension like ``I`` or a criterion like
    ``I.1``) for one office and year. An office without its own target inherits the nearest
    ancestor's (see :func:`core.services.targets.targets_for`)."""

    __tablename__ = "target"
    __table_args__ = (
        sa.UniqueConstraint("office_id", "year", "code", name="uq_target_office_year_code"),
        sa.CheckConstraint("value >= 0 AND value <= 100", name="value"),
        sa.CheckConstraint(f"operator IN {TARGET_OPERATORS!r}", name="operator"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    code: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[float] = mapped_column(sa.Numeric(5, 2, asdecimal=False))
    #: ">" (strictly above, "> 88,00") or ">=" (at least)
    operator: Mapped[str] = mapped_column(sa.String(2), default=">=", server_default=">=")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(64))

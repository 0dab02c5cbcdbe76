from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, utcnow

#: Levels of the office tree, top to bottom.
OFFICE_LEVELS = ("city", "department", "district", "branch", "commune")


class Office(Base):
    """A unit with a one-stop desk, in a tree: city -> department/district/branch -> commune."""

    __tablename__ = "office"
    __table_args__ = (sa.CheckConstraint(f"level IN {OFFICE_LEVELS!r}", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    level: Mapped[str] = mapped_column(sa.String(16))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parent: Mapped[Office | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Office]] = relationship(back_populates="parent",
                                                  order_by="Office.code")

    def __repr__(self) -> str:
        return f"<Office {self.code}>"


class OfficeClosure(Base):
    """Every (ancestor, descendant) pair of the office tree, including (x, x) at depth 0.

    Lets a report pool an office and all its descendants with one indexed join.
    Rebuilt by :func:`core.services.offices.rebuild_closure` whenever the tree changes.
    """

    __tablename__ = "office_closure"

    ancestor_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"),
                                             primary_key=True)
    descendant_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"),
                                               primary_key=True, index=True)
    depth: Mapped[int] = mapped_column(sa.SmallInteger)

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, utcnow

#: The optional report fields of an office (columns of ``flask offices import`` too).
OFFICE_REPORT_FIELDS = ("superior_name", "document_symbol", "place_name", "signer_capacity",
                        "signer_title", "signer_name", "report_recipients")

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
    # --- what an official report (Decree 30/2020/ND-CP) needs; all optional ---
    #: the superior body's name printed above the office's own name in the letterhead
    superior_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: the office's document symbol, as in "Số: .../BC-<symbol>" (e.g. "UBND", "SNV")
    document_symbol: Mapped[str | None] = mapped_column(sa.String(32))
    #: the place name of the date line ("Hà Nội, ngày ... tháng ... năm ...")
    place_name: Mapped[str | None] = mapped_column(sa.String(64))
    #: the signer's capacity line ("TM. ỦY BAN NHÂN DÂN", "KT. GIÁM ĐỐC") and title
    signer_capacity: Mapped[str | None] = mapped_column(sa.String(128))
    signer_title: Mapped[str | None] = mapped_column(sa.String(128))
    signer_name: Mapped[str | None] = mapped_column(sa.String(128))
    #: recipients of the office's report, one per line; empty = the superior office
    report_recipients: Mapped[str | None] = mapped_column(sa.Text)
    #: the office's results and published replies are shown on the public pages
    #: (``/ket-qua/``); an administrator may switch them off (audited)
    public_results: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
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

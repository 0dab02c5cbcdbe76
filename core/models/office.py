from __future__ import annotations

from datetime import date, datetime

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
    __table_args__ = (sa.CheckConstraint(f"level IN {OFFICE_LEVELS!r}", name="level"),
                      # codes are typed by people: unique whatever their letter case
                      sa.Index("uq_office_code_lower", sa.func.lower(sa.text("code")),
                               unique=True))

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
    #: when the office's desk is open (Vietnam time), e.g. "07:30-11:30,13:30-17:00", on
    #: ``opening_days`` (ISO weekday digits, "12345" = Monday to Friday); empty = not set
    opening_hours: Mapped[str | None] = mapped_column(sa.String(64))
    opening_days: Mapped[str | None] = mapped_column(sa.String(7))
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


#: kinds of :class:`OfficeChange`
OFFICE_CHANGE_KINDS = ("move", "merge")


class OfficeChange(Base):
    """A dated change of the office tree (history): an office moved under another parent,
    or merged into another office (the 2025 reform merged many communes).

    A merged office becomes inactive and is placed under the surviving office, so that the
    closure table pools its history (its tallies) into the survivor's reports from then on;
    its own rows (answers, tallies) are never rewritten. Reports are computed on today's
    tree; finalised reports stay frozen either way.
    """

    __tablename__ = "office_change"
    __table_args__ = (sa.CheckConstraint(f"kind IN {OFFICE_CHANGE_KINDS!r}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    #: the parent before and after the change
    old_parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"))
    new_parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"))
    #: for a merge: the surviving office
    into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"))
    #: the day the change took effect (e.g. 2025-07-01)
    effective_on: Mapped[date] = mapped_column(sa.Date)
    actor: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

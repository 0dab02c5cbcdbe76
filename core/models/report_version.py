"""What the official report adds to the schema: the priority cross-tally (answers of a
criterion against the mean of the same respondent's other criteria), a report's edited text
before finalisation, and finalised (frozen) versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow
from core.models.response import _MonthlyKey


class MonthlyPriorityTally(_MonthlyKey, Base):
    """Per office x Vietnam month x instrument, for each criterion: respondents by their
    answer to it (1-5) and the mean of their other criteria (binned to quarter points),
    packed by :class:`core.services.priorities.PriorityLayout` as 4-byte little-endian
    integers. A sum over the office-month's released answers written in the same transaction
    as the tallies (no time, channel or order of its own); rebuilt by ``flask tallies
    rebuild``. What "what to fix first" reads (Spearman correlations) without rescanning
    answers."""

    __tablename__ = "monthly_priority_tally"

    counts: Mapped[bytes] = mapped_column(sa.LargeBinary)


class ReportText(Base):
    """The head's edits of a report before it is finalised: parts II and III and the
    signer / recipients for this report (``overrides``), per office, period and instrument."""

    __tablename__ = "report_text"
    __table_args__ = (sa.UniqueConstraint("office_id", "period", "instrument_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"))
    period: Mapped[str] = mapped_column(sa.String(32))
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    #: {"assessment": [paragraph, ...], "proposals": [paragraph, ...]}
    texts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: signer_capacity, signer_title, signer_name, recipients (text, one per line)
    overrides: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    updated_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportVersion(Base):
    """A finalised report ("Chốt báo cáo"): frozen figures, texts, letterhead and the PDF
    bytes with their SHA-256; never changed once written (a new version is a new row)."""

    __tablename__ = "report_version"
    __table_args__ = (sa.UniqueConstraint("office_id", "period", "instrument_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    period: Mapped[str] = mapped_column(sa.String(32))
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column()
    #: the report's figures (the report JSON) as they were when finalised
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    texts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    letterhead: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    lang: Mapped[str] = mapped_column(sa.String(8))
    #: the document's date (the date line)
    day: Mapped[date] = mapped_column(sa.Date)
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    finalised_by: Mapped[str] = mapped_column(sa.String(64))
    finalised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow

#: How a response reached us. ``generic`` = the office's poster link, not tied to a receipt.
CHANNELS = ("kiosk", "qr", "generic", "paper", "web")


class Response(Base):
    """One citizen's questionnaire, stored whole, once its office-day has been released by
    the mixing stage (:mod:`core.services.mixing`): rows of one release are inserted in a
    random order, so neither ``id`` nor the physical order follows the order of arrival.

    ``answers`` packs one character per criterion of the instrument, in the instrument's
    order: '1'..'5' or '0' for "no answer" (see :meth:`core.instrument.Instrument.encode`).
    """

    __tablename__ = "response"
    __table_args__ = (
        sa.CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        sa.Index("ix_response_office_month", "office_id", "month"),
        sa.CheckConstraint("review IN ('released', 'discarded')", name="review"),
        # the held-back answers waiting for review (few): core.services.review
        sa.Index("ix_response_held", "office_id",
                 postgresql_where=sa.text("NOT counted AND review IS NULL"),
                 sqlite_where=sa.text("NOT counted AND review IS NULL")),
        # the answers with a comment (about one in ten): the comments page and the
        # dashboard's comment counts read only these (core.services.comment_search)
        sa.Index("ix_response_comment", "office_id", "month", "counted", "submitted_at",
                 postgresql_where=sa.text("comment IS NOT NULL"),
                 sqlite_where=sa.text("comment IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"))
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[str] = mapped_column(sa.String(16))
    answers: Mapped[str] = mapped_column(sa.String(64))
    #: Vietnam calendar month of ``submitted_at``, 'YYYY-MM' (the tally key).
    month: Mapped[str] = mapped_column(sa.String(7))
    #: The start (00:00 Vietnam time) of the day the answer belongs to: never a finer time
    #: (see :mod:`core.services.mixing`). ``received_at`` is the same for citizens' channels;
    #: for paper rows, the start of the day they were imported.
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    procedure: Mapped[str | None] = mapped_column(sa.String(255))
    #: SQL NULL when absent (never the JSON text 'null': ``none_as_null``)
    expectations: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    demographics: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    #: False for responses held back for review (e.g. a burst of identical answers);
    #: only counted responses enter the tallies.
    counted: Mapped[bool] = mapped_column(default=True)
    #: Comma-separated review flags, e.g. "clock" (client time out of window), "burst".
    flags: Mapped[str | None] = mapped_column(sa.String(64))
    #: The paper import batch (stack of paper forms) a paper row came in; None for every
    #: other channel (see :mod:`core.models.paper`).
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id"),
                                                 index=True)
    #: What a reviewer did with a held-back (uncounted) response: None while it waits,
    #: "released" (now counted) or "discarded" (kept, never counted). See
    #: :mod:`core.services.review`.
    review: Mapped[str | None] = mapped_column(sa.String(16))
    #: A questionnaire left before the end: the criteria of the dimensions the citizen
    #: finished at a kiosk before walking away, nothing else. Held out of the tallies unless
    #: ``COUNT_PARTIAL``; reports give their number (:mod:`core.services.partials`).
    partial: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class _MonthlyKey:
    """The key every monthly count starts with: office x Vietnam month x instrument
    (``sort_order`` keeps these columns, and so the primary key, first)."""

    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), primary_key=True,
                                           sort_order=-1)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True, sort_order=-1)
    instrument_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True,
                                               sort_order=-1)


class MonthlyTally(_MonthlyKey, Base):
    """Answer counts per office x Vietnam month x instrument x criterion.

    Kept up to date in the same transaction as every insert; rebuildable from ``response``
    by ``flask tallies rebuild``. Reports read only this table.
    """

    __tablename__ = "monthly_tally"

    criterion: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    n1: Mapped[int] = mapped_column(default=0)
    n2: Mapped[int] = mapped_column(default=0)
    n3: Mapped[int] = mapped_column(default=0)
    n4: Mapped[int] = mapped_column(default=0)
    n5: Mapped[int] = mapped_column(default=0)
    n_none: Mapped[int] = mapped_column(default=0)


class MonthlyChannelCount(_MonthlyKey, Base):
    """Number of counted responses per office x month x instrument x channel."""

    __tablename__ = "monthly_channel_count"

    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)


class MonthlyPartialCount(_MonthlyKey, Base):
    """Number of released partial responses (kiosk walk-aways) per office x month x
    instrument, counted or not into the tallies (``COUNT_PARTIAL``): what a report says of
    them (``partial_responses``) without reading the answers."""

    __tablename__ = "monthly_partial_count"

    responses: Mapped[int] = mapped_column(default=0)


class MonthlyCrossTally(_MonthlyKey, Base):
    """Pairs of criteria answered by the same respondents, per office x Vietnam month x
    instrument: what a respondent-level interval of a dimension or overall index needs
    (one respondent answers many criteria, so their answers are not independent).

    ``counts`` packs the counts of :class:`core.scoring.CrossLayout` (respondents, those of
    each dimension, then four counts per pair of criteria) as 4-byte little-endian integers.
    Like the tallies it is a sum over the office-month's released answers, written in the
    same transaction as they are: it has no time, day, channel or order of its own.
    Rebuildable by ``flask tallies rebuild``.
    """

    __tablename__ = "monthly_cross_tally"

    counts: Mapped[bytes] = mapped_column(sa.LargeBinary)


class MonthlyExpectationTally(_MonthlyKey, Base):
    """What citizens want improved most, summed per office x Vietnam month x instrument: how
    many counted responses answered ``level`` for expectation ``area``. The row with area ``""``
    and level 0 counts the responses that answered any expectation (the respondents).

    Like the other tallies: written in the same transaction as the answers it sums,
    rebuildable by ``flask tallies rebuild``; the dashboard reads only this table.
    """

    __tablename__ = "monthly_expectation_tally"

    area: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    responses: Mapped[int] = mapped_column(default=0)

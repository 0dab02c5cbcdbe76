"""Paper imports: each file imported is a batch (a stack of paper forms).

A batch records what was imported, by whom and when, so that a re-import is recognised and a
batch can be undone. Privacy: a released answer of a citizen's channel carries no batch; a
paper answer carries its batch (``response.batch_id``), which says only which stack of paper
forms it was typed in with, something its paper sheet already says. The form numbers written on
the sheets are kept only as keyed digests, per batch, never beside an answer
(:class:`PaperFormNumber`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow

#: active: its answers are stored; undone: removed by ``flask imports undo``; replaced:
#: removed by an import with ``--replace``.
BATCH_STATES = ("active", "undone", "replaced")


class ImportBatch(Base):
    """One imported paper file."""

    __tablename__ = "import_batch"
    __table_args__ = (sa.CheckConstraint(f"state IN {BATCH_STATES!r}", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(255))
    #: SHA-256 over the file's normalised rows (encoding, BOM, line endings, spacing, time
    #: zone and row order do not change it): an equal file is not stored again.
    checksum: Mapped[str] = mapped_column(sa.String(64), index=True)
    instrument_id: Mapped[str] = mapped_column(sa.String(40))
    rows: Mapped[int] = mapped_column(default=0)
    #: ids of the offices the rows answer for (sorted)
    office_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    first_month: Mapped[str] = mapped_column(sa.String(7))
    last_month: Mapped[str] = mapped_column(sa.String(7))
    #: whether the file had a ``form_no`` column
    form_numbers: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(sa.String(16), default="active", index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(sa.String(64))
    #: the batch that replaced this one (state ``replaced``)
    replaced_by: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


class PaperFormNumber(Base):
    """The keyed digest of a paper form's number (``form_no``) in an active batch: a form
    number is imported once. Not linked to the answer typed from that form; inserted in
    digest order; deleted when the batch is undone or replaced."""

    __tablename__ = "paper_form_number"

    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"), index=True)

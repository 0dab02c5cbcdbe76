"""Receipt links: office API keys, one link per dossier, and the one-use guarantee.

Privacy by construction: a :class:`Receipt` holds only a keyed hash of the dossier code, and
the fact that it was used lives in :class:`ReceiptUse`, which has no link to the response and
no time of use. Nothing in ``response`` points back to a receipt.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, utcnow
from core.models.office import Office


class OfficeApiKey(Base):
    """A key an office's one-stop software uses to mint receipt links.

    Only the SHA-256 of the key is stored (keys are 256-bit random, so a fast hash is enough);
    ``prefix`` (the first characters) lets people tell keys apart in listings.
    """

    __tablename__ = "office_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the administrator also withdrew the links the key had minted (they stop
    #: working); revoking alone only stops minting
    links_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    office: Mapped[Office] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def links_withdrawn(self) -> bool:
        return self.links_withdrawn_at is not None


class Receipt(Base):
    """One survey link per dossier and office.

    ``dossier_hash`` is HMAC-SHA256 of the normalised dossier code under a key of the receipt
    key ring (core/receipt_keys.py): the database can tell that a dossier already has a
    link, but cannot give the code back.
    ``token_id`` is the random part of the signed token printed in the QR code.
    """

    __tablename__ = "receipt"
    __table_args__ = (sa.UniqueConstraint("office_id", "dossier_hash",
                                          name="uq_receipt_office_dossier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"))
    dossier_hash: Mapped[str] = mapped_column(sa.String(64))
    token_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    #: The key that minted the link (None: minted from the command line).
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office_api_key.id"),
                                                   index=True)
    procedure: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    office: Mapped[Office] = relationship()
    api_key: Mapped[OfficeApiKey | None] = relationship()


class ReceiptUse(Base):
    """A receipt that has been answered. The primary key makes a second use impossible, also
    under concurrency; the row is inserted in the same transaction as the response. It holds
    neither the response id nor the time of use."""

    __tablename__ = "receipt_use"

    receipt_id: Mapped[int] = mapped_column(
        sa.ForeignKey("receipt.id", ondelete="CASCADE"), primary_key=True)


class GenericFormUse(Base):
    """A one-time form token of an office's generic link that has been used. ``expires_on``
    (a date, no time) only lets old rows be purged."""

    __tablename__ = "generic_form_use"

    nonce: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    expires_on: Mapped[date] = mapped_column(sa.Date, index=True)

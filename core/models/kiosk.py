"""Kiosk tablets at one-stop desks: one row per registered device.

Secrets are never stored in clear: the one-time activation code and the long-lived device
credential are kept as SHA-256 digests (both are long random tokens, so a plain digest is
enough and lets a request find its kiosk with one indexed lookup).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, utcnow
from core.models.office import Office


class Kiosk(Base):
    """A tablet bound to an office and a counter ("Quầy 3")."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    #: SHA-256 hex of the one-time activation code; NULL once used (or when the kiosk was
    #: created with a credential directly).
    activation_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    activation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: SHA-256 hex of the device credential; NULL until activated.
    credential_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    idle_seconds: Mapped[int] = mapped_column(default=60)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the tablet was paused (it shows a "paused" screen instead of the questionnaire
    #: but still sends the answers it holds); NULL when it is not paused. Reversible, unlike
    #: ``revoked_at``.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the tablet last sent a heartbeat (answers never change this row).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Submissions waiting in the tablet's offline queue, as last reported by its heartbeat.
    pending_reported: Mapped[int | None] = mapped_column()
    #: Submissions the tablet set aside because the server refused them for good (a 4xx),
    #: in total, as last reported by its heartbeat.
    rejected_reported: Mapped[int | None] = mapped_column()
    #: Whether the tablet's page runs under its service worker (the offline shell that
    #: survives a reload during an outage), as last reported by its heartbeat.
    offline_shell_reported: Mapped[bool | None] = mapped_column()
    #: The version of the kiosk app the tablet runs (a digest of its script and offline
    #: shell, :func:`kiosk.views.app_version`), as last reported by its heartbeat: a tablet
    #: still on an old version is shown as such.
    app_version_reported: Mapped[str | None] = mapped_column(sa.String(32))

    office: Mapped[Office] = relationship()

    @property
    def status(self) -> str:
        """'revoked', 'paused' (any tablet not revoked may be paused, activated or not),
        'active' or 'pending' (registered, not yet activated)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.paused_at is not None:
            return "paused"
        return "active" if self.credential_hash else "pending"

    def __repr__(self) -> str:
        return f"<Kiosk {self.id} {self.name!r}>"

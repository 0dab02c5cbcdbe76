from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """Who did what, when: sign-ins, exports, changes to users, kiosks, keys and comments.
    Never holds a citizen's answers or comment text."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(64))  # a username, "cli" or "system"
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(128))
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))

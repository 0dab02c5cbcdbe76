"""Reading the audit trail (administrators only)."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Office


def recent_events(action: str | None = None, limit: int = 300
                  ) -> list[tuple[AuditEvent, str | None]]:
    """The latest events, newest first, with the office code (if any)."""
    query = (sa.select(AuditEvent, Office.code)
             .outerjoin(Office, Office.id == AuditEvent.office_id)
             .order_by(AuditEvent.id.desc()).limit(limit))
    if action:
        query = query.where(AuditEvent.action == action)
    return [(e, code) for e, code in db.session.execute(query)]

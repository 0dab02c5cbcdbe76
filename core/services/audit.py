"""The audit trail. ``record`` adds an event to the caller's transaction (no commit)."""

from __future__ import annotations

from typing import Any

from core.extensions import db
from core.models import AuditEvent


def record(action: str, *, actor: str = "system", office_id: int | None = None,
           target: str | None = None, **details: Any) -> AuditEvent:
    """Add an audit event, e.g. ``record("kiosk.revoke", actor="cli", office_id=3,
    target="kiosk:12")``. Details must not contain answers, comments or secrets."""
    event = AuditEvent(actor=actor[:64], action=action[:64], office_id=office_id,
                       target=target[:128] if target else None, details=details or None)
    db.session.add(event)
    return event

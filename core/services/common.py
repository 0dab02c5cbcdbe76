"""Small helpers shared by services."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.instrument import Instrument, InstrumentRegistry


def registry() -> InstrumentRegistry:
    return current_app.extensions["sipas_instruments"]


def get_instrument(instrument_id: str) -> Instrument:
    """Raises KeyError for an unknown instrument."""
    return registry().get(instrument_id)


def upsert(session: Session, table: Any):
    """A dialect-specific INSERT supporting ON CONFLICT (SQLite and PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {name}")

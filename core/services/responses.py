"""Storing citizens' responses: the idempotent insert, with the tallies in the same transaction.

The rules a response must pass live in :mod:`core.services.intake`, the one door every
channel goes through."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import Invalid
from core.extensions import db
from core.models import CHANNELS, Office, Response
from core.services.tallies import TallyRow, add_to_tallies
from core.timeutil import month_of, utcnow

#: Longest procedure name the column holds.
MAX_PROCEDURE: int = Response.__table__.c.procedure.type.length


@dataclass
class CleanResponse:
    """A response that passed the rules of :mod:`core.services.intake`, ready to store."""

    instrument_id: str
    answers: str  # packed, see Instrument.encode
    comment: str | None = None
    procedure: str | None = None
    expectations: dict[str, int] | None = None
    demographics: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_INSERTS: dict[str, Any] = {}
_ID_BY_UUID = sa.select(Response.__table__.c.id).where(
    Response.__table__.c.uuid == sa.bindparam("uid"))


def _insert_statement(dialect: str) -> Any:
    """The idempotent Core insert (ON CONFLICT (uuid) DO NOTHING RETURNING id), built once
    per dialect; its values come as execution parameters, so SQLAlchemy's compiled cache
    serves every call (building an ORM ``.values(...)`` statement per response cost more
    than executing it)."""
    stmt = _INSERTS.get(dialect)
    if stmt is None:
        table = Response.__table__
        if dialect not in ("postgresql", "sqlite"):
            raise RuntimeError(f"unsupported database {dialect}")
        ins = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        stmt = _INSERTS[dialect] = (ins.on_conflict_do_nothing(index_elements=["uuid"])
                                    .returning(table.c.id))
    return stmt


def insert_response(response: CleanResponse, office: Office, channel: str, *,
                    uuid: str | None = None, submitted_at: datetime | None = None,
                    started_at: datetime | None = None, counted: bool = True,
                    flags: str | None = None) -> tuple[int, bool]:
    """Insert one response and its tallies in the caller's transaction (no commit).

    Returns (response id, created). A response whose UUID is already stored is left as it
    was and ``created`` is False. Raises Invalid for an unknown channel. The caller (the
    intake) has checked that the office collects answers.
    """
    if channel not in CHANNELS:
        raise Invalid("invalid_channel", _("Unknown channel %(channel)s.", channel=channel))
    now = utcnow()
    submitted = submitted_at or now
    uid = str(uuidlib.UUID(uuid)) if uuid else str(uuidlib.uuid4())
    month = month_of(submitted)
    values = dict(uuid=uid, office_id=office.id, instrument_id=response.instrument_id,
                  channel=channel, answers=response.answers, month=month,
                  submitted_at=submitted, received_at=now, started_at=started_at,
                  comment=response.comment, procedure=response.procedure,
                  expectations=response.expectations, demographics=response.demographics,
                  counted=counted, flags=flags, **response.extra)
    conn = db.session.connection()
    new_id = conn.execute(_insert_statement(conn.dialect.name), values).scalar()
    if new_id is None:
        existing = conn.execute(_ID_BY_UUID, {"uid": uid}).scalar()
        assert existing is not None
        return existing, False
    if counted:
        add_to_tallies(db.session, [TallyRow(office.id, month, response.instrument_id, channel,
                                             response.answers)])
    return new_id, True

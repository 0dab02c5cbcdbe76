"""Storing citizens' responses: validation, idempotent insert, tallies in the same transaction."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import Invalid, NotAllowed
from core.extensions import db
from core.instrument import Instrument
from core.models import CHANNELS, Office, Response
from core.services.tallies import TallyRow, add_to_tallies
from core.timeutil import month_of, utcnow

MAX_COMMENT = 2000
MAX_PROCEDURE = 255


class ValidationFailed(Invalid):
    """Input that cannot be stored; ``fields`` maps each bad field to a message."""

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__("invalid", message or _("Some answers are not valid."), fields)


@dataclass
class CleanResponse:
    """A validated response, ready to store."""

    instrument_id: str
    answers: str  # packed, see Instrument.encode
    comment: str | None = None
    procedure: str | None = None
    expectations: dict[str, int] | None = None
    demographics: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _clean_text(value: Any, limit: int, name: str, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = _("must be text")
        return None
    # NUL is never meaningful text, and PostgreSQL cannot store it in a text column
    value = value.replace("\x00", "").strip()
    if len(value) > limit:
        errors[name] = _("must be at most %(limit)s characters", limit=limit)
        return None
    return value or None


def clean_response(instrument: Instrument, answers: Any, *, comment: Any = None,
                   procedure: Any = None, expectations: Any = None,
                   demographics: Any = None) -> CleanResponse:
    """Check a whole response against its instrument.

    ``answers`` maps criterion code -> 1..5 or None (no answer); criteria left out count as no
    answer. Raises ValidationFailed naming every bad field; a response with no answer at all
    is rejected.
    """
    errors: dict[str, str] = {}
    packed_input: dict[str, int | None] = {}
    if not isinstance(answers, Mapping):
        errors["answers"] = _("must be an object mapping criterion codes to scores")
    else:
        for code, value in answers.items():
            key = f"answers.{code}"
            if not isinstance(code, str) or not instrument.has_criterion(code):
                errors[key] = _("unknown criterion for instrument %(id)s", id=instrument.id)
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                errors[key] = _("must be a whole number from 1 to 5, or null for no answer")
            elif value is not None and not 1 <= value <= 5:
                errors[key] = _("must be from 1 to 5, or null for no answer")
            else:
                packed_input[code] = value
        if not errors and all(v is None for v in packed_input.values()):
            errors["answers"] = _("at least one criterion must be answered")

    clean_comment = _clean_text(comment, MAX_COMMENT, "comment", errors)
    clean_procedure = _clean_text(procedure, MAX_PROCEDURE, "procedure", errors)

    clean_exp: dict[str, int] | None = None
    if expectations not in (None, {}):
        levels = {v for v, _t in instrument.expectation_levels}
        if not isinstance(expectations, Mapping):
            errors["expectations"] = _("must be an object mapping areas to levels")
        else:
            clean_exp = {}
            for area, level in expectations.items():
                if area not in instrument.expectation_area_codes():
                    errors[f"expectations.{area}"] = _("unknown area")
                elif level is None:
                    continue
                elif isinstance(level, bool) or level not in levels:
                    errors[f"expectations.{area}"] = _("unknown level")
                else:
                    clean_exp[area] = level
            clean_exp = clean_exp or None

    clean_demo: dict[str, str] | None = None
    if demographics not in (None, {}):
        if not isinstance(demographics, Mapping):
            errors["demographics"] = _("must be an object")
        else:
            clean_demo = {}
            for qcode, option in demographics.items():
                question = instrument.demographic(qcode)
                if question is None:
                    errors[f"demographics.{qcode}"] = _("unknown question")
                elif option is None or option == "":
                    continue
                elif option not in [o.code for o in question.options]:
                    errors[f"demographics.{qcode}"] = _("unknown option")
                else:
                    clean_demo[qcode] = option
            clean_demo = clean_demo or None

    if errors:
        raise ValidationFailed(errors)
    return CleanResponse(instrument.id, instrument.encode(packed_input), clean_comment,
                         clean_procedure, clean_exp, clean_demo)


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
    was and ``created`` is False. Raises DomainError for an inactive office or unknown channel.
    """
    if channel not in CHANNELS:
        raise Invalid("invalid_channel", _("Unknown channel %(channel)s.", channel=channel))
    if not office.active:
        raise NotAllowed("office_inactive",
                       _("The office %(name)s is not collecting answers.", name=office.name))
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


def store_response(response: CleanResponse, office: Office, channel: str,
                   **kwargs: Any) -> tuple[int, bool]:
    """:func:`insert_response`, committed. Rolls back and re-raises on any error."""
    try:
        result = insert_response(response, office, channel, **kwargs)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result

"""A citizen's response once it passed the rules: what every channel hands to storage.

The rules live in :mod:`core.services.intake`, the one door every channel goes through;
accepted answers wait in the mixing stage (:mod:`core.services.mixing`) before they enter
``response`` and the tallies."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Response

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
    #: a questionnaire left before the end (kiosk walk-away): criterion answers only
    partial: bool = False
    #: SHA-256 of the citizen's follow-up code (core.services.followup), only with a comment
    followup_hash: str | None = None

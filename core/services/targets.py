"""Yearly targets per office, inherited from the nearest ancestor that sets one."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid
from core.extensions import db
from core.instrument import Instrument
from core.models import OVERALL, Office, OfficeClosure, Target
from core.services.audit import record
from core.services.offices import ImportFailed, LineError
from core.services.tx import transaction

#: the 2022 city targets of Hanoi's plan 192/KH-UBND (SIPAS.md section 2)
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "instruments" / "targets-hanoi-2022.csv"


@dataclass(frozen=True)
class EffectiveTarget:
    value: float
    office_code: str  # where the target is set (the office itself or an ancestor)
    inherited: bool
    year: int  # the year the target was set for (an earlier year carries over)


def valid_codes(instrument: Instrument) -> set[str]:
    return {OVERALL, *(d.code for d in instrument.dimensions), *instrument.criterion_codes}


def targets_for(office: Office, year: int) -> dict[str, EffectiveTarget]:
    """code -> the target that applies to ``office`` in ``year``: its own, else the nearest
    ancestor's. When nobody above set targets for ``year``, the latest earlier year that has
    targets carries over (until new ones are set)."""
    chain = (sa.select(OfficeClosure.ancestor_id)
             .where(OfficeClosure.descendant_id == office.id).scalar_subquery())
    effective_year = db.session.scalar(
        sa.select(sa.func.max(Target.year)).where(Target.office_id.in_(chain),
                                                  Target.year <= year))
    if effective_year is None:
        return {}
    rows = db.session.execute(
        sa.select(Target.code, Target.value, OfficeClosure.depth, Office.code)
        .join(OfficeClosure, OfficeClosure.ancestor_id == Target.office_id)
        .join(Office, Office.id == Target.office_id)
        .where(OfficeClosure.descendant_id == office.id, Target.year == effective_year)
        .order_by(OfficeClosure.depth.desc()))
    out: dict[str, EffectiveTarget] = {}
    for code, value, depth, where in rows:  # farthest ancestor first, the nearest wins
        out[code] = EffectiveTarget(float(value), where, depth > 0, effective_year)
    return out


def own_targets(office: Office, year: int) -> dict[str, float]:
    return {code: float(v) for code, v in db.session.execute(
        sa.select(Target.code, Target.value).where(Target.office_id == office.id,
                                                   Target.year == year))}


def set_target(office: Office, year: int, code: str, value: float | None, *,
               actor: str) -> None:
    """Set (or, with None, remove) the office's own target; audited, not committed."""
    existing = db.session.scalar(sa.select(Target).where(
        Target.office_id == office.id, Target.year == year, Target.code == code))
    if value is None:
        if existing is not None:
            db.session.delete(existing)
            record("target.delete", actor=actor, office_id=office.id, target=f"{year}:{code}")
        return
    if not 0 <= value <= 100:
        raise Invalid("invalid", _("A target must be between 0 and 100."),
                       {code: _("A target must be between 0 and 100.")})
    if existing is None:
        db.session.add(Target(office_id=office.id, year=year, code=code, value=round(value, 2),
                              updated_by=actor))
    elif float(existing.value) != round(value, 2):
        existing.value = round(value, 2)
        existing.updated_by = actor
    else:
        return
    record("target.set", actor=actor, office_id=office.id, target=f"{year}:{code}",
           value=round(value, 2))


def save_targets(office: Office, year: int, entries: Mapping[str, str], instrument: Instrument,
                 *, actor: str) -> None:
    """Set the office's own targets for ``year`` from text entries (code -> "92,5" or "92.5";
    empty removes the target), audited and committed. All or nothing: raises Invalid(400)
    naming every entry that is not a number from 0 to 100, and stores nothing then. Codes
    that are not the instrument's are ignored."""
    with transaction():
        errors: dict[str, str] = {}
        for code in sorted(valid_codes(instrument)):
            raw = (entries.get(code) or "").strip().replace(",", ".")
            try:
                set_target(office, year, code, float(raw) if raw else None, actor=actor)
            except ValueError:
                errors[code] = _("Enter a number between 0 and 100.")
            except Invalid as exc:
                errors[code] = exc.message
        if errors:
            raise Invalid("invalid", _("The targets were not saved."), errors)


def import_targets(stream: TextIO, office: Office, instrument: Instrument, *,
                   actor: str) -> int:
    """Load ``year,code,target`` rows (optional ``office_code`` column) as the targets of
    ``office`` (or of the office named on each row). All or nothing: raises ImportFailed.
    Returns the number of rows read."""
    with transaction():
        rows = _read_targets(stream, office, instrument)
        for target_office, year, code, value in rows:
            set_target(target_office, year, code, value, actor=actor)
    return len(rows)


def _read_targets(stream: TextIO, office: Office, instrument: Instrument
                  ) -> list[tuple[Office, int, str, float]]:
    """The rows of a targets file as (office, year, code, value). Raises ImportFailed."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in reader.fieldnames or []]
    if not {"year", "code", "target"} <= set(header):
        raise ImportFailed([LineError(1, _("the header must be year,code,target "
                                           "(optional: office_code)"))])
    reader.fieldnames = header
    codes = valid_codes(instrument)
    errors: list[LineError] = []
    rows: list[tuple[Office, int, str, float]] = []
    offices: dict[str, Office] = {}
    for row in reader:
        line = reader.line_num
        try:
            year = int(row["year"])
            value = float((row["target"] or "").replace(",", "."))
        except ValueError:
            errors.append(LineError(line, _("year and target must be numbers")))
            continue
        code = (row["code"] or "").strip()
        if code not in codes:
            errors.append(LineError(line, _("unknown code %(code)s", code=code)))
            continue
        if not 2000 <= year <= 2100 or not 0 <= value <= 100:
            errors.append(LineError(line, _("year or target out of range")))
            continue
        target_office = office
        ocode = (row.get("office_code") or "").strip()
        if ocode:
            if ocode not in offices:
                found = db.session.scalar(sa.select(Office).where(Office.code == ocode))
                if found is None:
                    errors.append(LineError(line, _("office %(code)s does not exist",
                                                    code=ocode)))
                    continue
                offices[ocode] = found
            target_office = offices[ocode]
        rows.append((target_office, year, code, value))
    if errors:
        raise ImportFailed(errors)
    return rows

"""Yearly targets per office, inherited from the nearest ancestor that sets one.

A target is a value with an operator, as the plan writes it: the overall and dimension
targets of plan 192/KH-UBND are strict ("> 88,00": 88,00 itself misses it), its criterion
targets plain values (read as "at least"). Whether a figure meets its target is decided on the
figure as displayed (:func:`core.scoring.target_verdict`).
"""

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
from core.models import OVERALL, TARGET_OPERATORS, Office, OfficeClosure, Target
from core.services.audit import record
from core.services.offices import ImportFailed, LineError
from core.services.tx import transaction

#: the 2022 city targets of Hanoi's plan 192/KH-UBND (SIPAS.md section 2)
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "instruments" / "targets-hanoi-2022.csv"


#: how an operator may be written in a targets file ("" = at least)
OPERATOR_SPELLINGS = {">": ">", ">=": ">=", "≥": ">=", "": ">="}


@dataclass(frozen=True)
class EffectiveTarget:
    value: float
    office_code: str  # where the target is set (the office itself or an ancestor)
    inherited: bool
    year: int  # the year the target was set for (an earlier year carries over)
    operator: str = ">="  # ">" strictly above, ">=" at least

    def as_json(self, met: bool | None, gap: float | None) -> dict:
        """The target as a report shows it, with the verdict on a figure."""
        return {"value": self.value, "operator": self.operator, "year": self.year,
                "inherited_from": self.office_code if self.inherited else None,
                "met": met, "gap": gap}


def valid_codes(instrument: Instrument) -> set[str]:
    return {OVERALL, *(d.code for d in instrument.dimensions), *instrument.criterion_codes}


#: the queries of :func:`targets_for` (every report runs them), built once
_CHAIN = (sa.select(OfficeClosure.ancestor_id)
          .where(OfficeClosure.descendant_id == sa.bindparam("office")).scalar_subquery())
_EFFECTIVE_YEAR = sa.select(sa.func.max(Target.year)).where(
    Target.office_id.in_(_CHAIN), Target.year <= sa.bindparam("year"))
_TARGET_ROWS = (
    sa.select(Target.code, Target.value, OfficeClosure.depth, Office.code, Target.operator)
    .join(OfficeClosure, OfficeClosure.ancestor_id == Target.office_id)
    .join(Office, Office.id == Target.office_id)
    .where(OfficeClosure.descendant_id == sa.bindparam("office"),
           Target.year == sa.bindparam("year"))
    .order_by(OfficeClosure.depth.desc()))


def targets_for(office: Office, year: int) -> dict[str, EffectiveTarget]:
    """code -> the target that applies to ``office`` in ``year``: its own, else the nearest
    ancestor's. When nobody above set targets for ``year``, the latest earlier year that has
    targets carries over (until new ones are set)."""
    conn = db.session.connection()
    effective_year = conn.execute(_EFFECTIVE_YEAR, {"office": office.id, "year": year}).scalar()
    if effective_year is None:
        return {}
    rows = conn.execute(_TARGET_ROWS, {"office": office.id, "year": effective_year})
    out: dict[str, EffectiveTarget] = {}
    for code, value, depth, where, operator in rows:  # farthest ancestor first, nearest wins
        out[code] = EffectiveTarget(float(value), where, depth > 0, effective_year, operator)
    return out


def own_targets(office: Office, year: int) -> dict[str, float]:
    return {code: float(v) for code, v in db.session.execute(
        sa.select(Target.code, Target.value).where(Target.office_id == office.id,
                                                   Target.year == year))}


def own_operators(office: Office, year: int) -> dict[str, str]:
    """code -> operator of the office's own targets for ``year``."""
    return dict(db.session.execute(
        sa.select(Target.code, Target.operator).where(Target.office_id == office.id,
                                                      Target.year == year)).all())


def default_operator(code: str) -> str:
    """The plan's reading: criterion codes (with a dot) "at least", the overall and
    dimensions strictly above."""
    return ">=" if "." in code else ">"


def set_target(office: Office, year: int, code: str, value: float | None, *,
               actor: str, operator: str = ">=") -> None:
    """Set (or, with None, remove) the office's own target; audited, not committed.
    Raises Invalid for a value outside 0-100 or an unknown operator."""
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
    if operator not in TARGET_OPERATORS:
        raise Invalid("invalid", _("A target is either 'above' (>) or 'at least' (≥)."),
                      {code: _("A target is either 'above' (>) or 'at least' (≥).")})
    if existing is None:
        db.session.add(Target(office_id=office.id, year=year, code=code, value=round(value, 2),
                              operator=operator, updated_by=actor))
    elif float(existing.value) != round(value, 2) or existing.operator != operator:
        existing.value = round(value, 2)
        existing.operator = operator
        existing.updated_by = actor
    else:
        return
    record("target.set", actor=actor, office_id=office.id, target=f"{year}:{code}",
           value=round(value, 2), operator=operator)


def save_targets(office: Office, year: int, entries: Mapping[str, str], instrument: Instrument,
                 *, actor: str, operators: Mapping[str, str] | None = None) -> None:
    """Set the office's own targets for ``year`` from text entries (code -> "92,5" or "92.5";
    empty removes the target) and their operators (code -> ">" or ">="; absent: the plan's
    reading, :func:`default_operator`), audited and committed. All or nothing: raises
    Invalid(400) naming every entry that is not a number from 0 to 100 or whose operator is
    unknown, and stores nothing then. Codes that are not the instrument's are ignored."""
    with transaction():
        errors: dict[str, str] = {}
        for code in sorted(valid_codes(instrument)):
            raw = (entries.get(code) or "").strip().replace(",", ".")
            operator = (operators or {}).get(code) or default_operator(code)
            try:
                set_target(office, year, code, float(raw) if raw else None, actor=actor,
                           operator=operator)
            except ValueError:
                errors[code] = _("Enter a number between 0 and 100.")
            except Invalid as exc:
                errors[code] = exc.message
        if errors:
            raise Invalid("invalid", _("The targets were not saved."), errors)


def import_targets(stream: TextIO, office: Office, instrument: Instrument, *,
                   actor: str) -> int:
    """Load ``year,code,target`` rows (optional columns ``operator``: ``>``, ``>=``/``≥`` or
    empty for "at least"; ``office_code``) as the targets of ``office`` (or of the office
    named on each row). All or nothing: raises ImportFailed. Returns the number of rows
    read."""
    with transaction():
        rows = _read_targets(stream, office, instrument)
        for target_office, year, code, value, operator in rows:
            set_target(target_office, year, code, value, actor=actor, operator=operator)
    return len(rows)


def _read_targets(stream: TextIO, office: Office, instrument: Instrument
                  ) -> list[tuple[Office, int, str, float, str]]:
    """The rows of a targets file as (office, year, code, value, operator).
    Raises ImportFailed."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in reader.fieldnames or []]
    if not {"year", "code", "target"} <= set(header):
        raise ImportFailed([LineError(1, _("the header must be year,code,target "
                                           "(optional: operator, office_code)"))])
    reader.fieldnames = header
    codes = valid_codes(instrument)
    errors: list[LineError] = []
    rows: list[tuple[Office, int, str, float, str]] = []
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
        operator = OPERATOR_SPELLINGS.get((row.get("operator") or "").strip())
        if operator is None:
            errors.append(LineError(line, _("the operator must be >, >= or empty")))
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
        rows.append((target_office, year, code, value, operator))
    if errors:
        raise ImportFailed(errors)
    return rows

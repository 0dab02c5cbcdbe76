"""Dossier volumes and sample adequacy.

The official method sizes each unit's sample as n = N / (1 + N·e²), e = 5 %, N the dossiers
the unit handled. Offices report N per month (``flask dossiers import``, or their one-stop
software through ``PUT /api/v1/offices/<code>/dossiers/<YYYY-MM>`` with the office's API
key); a report of a period then says:

``dossiers``
    the dossiers of the office and its subtree over the period's months, summed over what is
    known (null when no office of the subtree reported any month of the period);
``response_rate``
    responses / dossiers, counting only the office-months that reported dossiers (so an
    office that reports nothing does not inflate the rate); null without dossiers;
``required_sample``
    ceil(N / (1 + N·e²)) for the office's **own** N over the period (null when it reported
    none);
``sample_adequate``
    whether the office's own responses (all instruments, the months it reported) reach its
    required sample, and for a parent also every descendant that reports dossiers; null when
    no office of the subtree reports dossiers for the period.
``receipts``
    of the receipt links minted in the period's months (in the subtree), how many have been
    answered so far, from counts only: receipts minted, and receipts having a use row
    (:class:`core.models.ReceiptUse` holds no response and no time). Under the minimum sample
    of minted receipts, ``answered`` and ``share`` are null (a handful of receipts would tell
    whose dossier was answered). Null when none was minted.

Everything is read from office-month totals (tallied responses, dossier volumes, receipt
counts): nothing here can reach an answer.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from typing import Any, TextIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import Invalid
from core.extensions import db
from core.models import DossierVolume, MonthlyChannelCount, Office, Receipt, ReceiptUse
from core.periods import Period
from core.services.audit import record
from core.services.common import upsert
from core.services.offices import ImportFailed, LineError
from core.services.pooling import within_param
from core.services.tx import transaction
from core.timeutil import month_bounds_utc, parse_month

#: the margin of error of the official sample size
MARGIN = 0.05
#: the largest monthly volume accepted (a typo guard: Hanoi's busiest unit handles far fewer)
MAX_DOSSIERS = 10_000_000
COLUMNS = ("office_code", "month", "dossiers")
#: errors listed before "... and N more"
MAX_ERRORS = 50


def required_sample(dossiers: int) -> int:
    """ceil(N / (1 + N·e²)), e = :data:`MARGIN` (0 for N = 0)."""
    return math.ceil(dossiers / (1 + dossiers * MARGIN * MARGIN))


def _parse_count(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not text.isdigit() or not text.isascii():
            return None
        value = int(text)
    return value if 0 <= value <= MAX_DOSSIERS else None


def _store(office_id: int, month: str, dossiers: int) -> None:
    stmt = upsert(db.session, DossierVolume).values(office_id=office_id, month=month,
                                                   dossiers=dossiers)
    stmt = stmt.on_conflict_do_update(index_elements=["office_id", "month"],
                                      set_={"dossiers": stmt.excluded.dossiers,
                                            "updated_at": stmt.excluded.updated_at})
    db.session.execute(stmt)


def import_dossiers(stream: TextIO, *, actor: str) -> int:
    """Load ``office_code,month,dossiers`` rows. All or nothing (raises ImportFailed listing
    every bad line: unknown office, bad month, a count that is not a whole number from 0 to
    :data:`MAX_DOSSIERS`, an office-month given twice); a re-import replaces the volumes of
    the office-months it names. Audited. Returns the number of rows stored."""
    reader = csv.DictReader(stream)
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if sorted(header) != sorted(COLUMNS):
        raise ImportFailed([LineError(1, _("the header must be office_code,month,dossiers"))])
    reader.fieldnames = header
    offices = {code: oid for code, oid in db.session.execute(sa.select(Office.code, Office.id))}
    errors: list[LineError] = []
    rows: dict[tuple[int, str], int] = {}
    seen: dict[tuple[int, str], int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            errors.append(LineError(line, _("expected 3 columns")))
            continue
        code = row["office_code"].strip()
        month = row["month"].strip()
        if code not in offices:
            errors.append(LineError(line, _("There is no office with the code %(code)s.",
                                            code=code), "office_code", "unknown_office"))
            continue
        try:
            parse_month(month)
        except ValueError:
            errors.append(LineError(line, _("%(month)s is not a valid month (expected "
                                            "YYYY-MM, e.g. 2022-07).", month=month),
                                    "month", "invalid_month"))
            continue
        dossiers = _parse_count(row["dossiers"])
        if dossiers is None:
            errors.append(LineError(line, _("the number of dossiers must be a whole number "
                                            "from 0 to %(max)s", max=MAX_DOSSIERS),
                                    "dossiers", "invalid_dossiers"))
            continue
        key = (offices[code], month)
        if key in seen:
            errors.append(LineError(line, _("%(code)s %(month)s is already on line %(line)s",
                                            code=code, month=month, line=seen[key]),
                                    "month", "duplicate"))
            continue
        seen[key] = line
        rows[key] = dossiers
    if errors:
        raise ImportFailed(errors[:MAX_ERRORS], len(errors))
    with transaction():
        for (office_id, month), dossiers in sorted(rows.items()):
            _store(office_id, month, dossiers)
        months = sorted({m for _o, m in rows})
        record("dossiers.import", actor=actor, rows=len(rows),
               months=f"{months[0]}..{months[-1]}" if months else "")
    return len(rows)


def set_dossiers(office: Office, month: str, dossiers: Any, *, actor: str) -> int:
    """Set one office-month's volume (replacing it). Raises Invalid(400) for a bad month or
    count. Audited. Returns the count stored."""
    try:
        parse_month(month)
    except ValueError:
        raise Invalid("invalid_month", _("%(month)s is not a valid month (expected YYYY-MM, "
                                          "e.g. 2022-07).", month=month)) from None
    value = _parse_count(dossiers) if isinstance(dossiers, int) else None
    if value is None:
        raise Invalid("invalid_dossiers",
                      _("the number of dossiers must be a whole number from 0 to %(max)s",
                        max=MAX_DOSSIERS), fields={"dossiers": _("a whole number")})
    with transaction():
        _store(office.id, month, value)
        record("dossiers.set", actor=actor, office_id=office.id, target=office.code,
               month=month, dossiers=value)
    return value


#: the queries every report runs, built once with bound parameters
_VOLUMES = within_param(
    sa.select(DossierVolume.office_id, DossierVolume.month, DossierVolume.dossiers),
    DossierVolume.office_id, True,
).where(DossierVolume.month.in_(sa.bindparam("months", expanding=True)))
_RECEIPTS = within_param(
    sa.select(sa.func.count(Receipt.id), sa.func.count(ReceiptUse.receipt_id))
    .select_from(Receipt).outerjoin(ReceiptUse, ReceiptUse.receipt_id == Receipt.id),
    Receipt.office_id, True,
).where(Receipt.created_at >= sa.bindparam("start", type_=Receipt.created_at.type),
        Receipt.created_at < sa.bindparam("end", type_=Receipt.created_at.type))


def _subtree_volumes(office: Office, period: Period) -> dict[int, dict[str, int]]:
    """office id -> month -> dossiers, for the subtree and the period's months."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for oid, month, n in db.session.connection().execute(
            _VOLUMES, {"office": office.id, "months": list(period.months)}):
        out[oid][month] = n
    return out




def _own_responses(office_ids: list[int], period: Period) -> dict[tuple[int, str], int]:
    """(office id, month) -> responses of that office itself (every instrument)."""
    if not office_ids:
        return {}
    query = (sa.select(MonthlyChannelCount.office_id, MonthlyChannelCount.month,
                       sa.func.sum(MonthlyChannelCount.responses))
             .where(MonthlyChannelCount.office_id.in_(office_ids),
                    MonthlyChannelCount.month.in_(list(period.months)))
             .group_by(MonthlyChannelCount.office_id, MonthlyChannelCount.month))
    return {(oid, m): int(n or 0) for oid, m, n in db.session.execute(query)}


def dossier_figures(office: Office, period: Period) -> dict[str, Any]:
    """The dossier fields of a report (see the module docstring)."""
    volumes = _subtree_volumes(office, period)
    if not volumes:
        return {"dossiers": None, "response_rate": None, "required_sample": None,
                "sample_adequate": None}
    responses = _own_responses(sorted(volumes), period)
    total = sum(n for months in volumes.values() for n in months.values())
    answered = sum(responses.get((oid, m), 0) for oid, months in volumes.items()
                   for m in months)
    adequate = True
    for oid, months in volumes.items():
        need = required_sample(sum(months.values()))
        own = sum(responses.get((oid, m), 0) for m in months)
        adequate = adequate and own >= need
    own = volumes.get(office.id)
    return {"dossiers": total,
            "response_rate": (100.0 * answered / total) if total else None,
            "required_sample": required_sample(sum(own.values())) if own else None,
            "sample_adequate": adequate}


def receipt_figures(office: Office, period: Period) -> dict[str, Any] | None:
    """Receipts minted in the period's months in the subtree, how many answered so far (by
    counts: a use row exists), and the share in percent; see the module docstring."""
    start, _end = month_bounds_utc(period.first)
    _start, end = month_bounds_utc(period.last)
    minted, used = db.session.connection().execute(
        _RECEIPTS, {"office": office.id, "start": start, "end": end}).one()
    if not minted:
        return None
    if minted < current_app.config["MIN_SAMPLE"]:
        return {"minted": minted, "answered": None, "share": None}
    return {"minted": minted, "answered": used, "share": 100.0 * used / minted}


def add_dossiers(report: dict[str, Any], office: Office, period: Period) -> None:
    """Add the dossier and receipt fields to a report of ``office`` for ``period``."""
    report.update(dossier_figures(office, period))
    report["receipts"] = receipt_figures(office, period)

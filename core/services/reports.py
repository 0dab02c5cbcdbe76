"""Monthly SIPAS figures for an office and everything below it, read from the tallies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from core import scoring
from core.errors import Invalid
from core.instrument import Instrument
from core.models import Office
from core.services.common import get_instrument, registry
from core.services.pooling import pooled_responses, pooled_tallies
from core.services.sheets import csv_string
from core.timeutil import parse_month


def check_month(month: str) -> str:
    """Raises Invalid(400) for anything but a real YYYY-MM month."""
    try:
        return parse_month(month)
    except ValueError:
        raise Invalid("invalid_month", _("%(month)s is not a valid month (expected YYYY-MM, "
                                          "e.g. 2022-07).", month=month)) from None


def channel_counts(office_id: int, month: str) -> dict[str, dict[str, int]]:
    """instrument id -> channel -> responses, pooled over the office's subtree."""
    out: dict[str, dict[str, int]] = {}
    for (iid, channel), n in pooled_responses(office_id, month,
                                              by=("instrument", "channel")).items():
        out.setdefault(iid, {})[channel] = n
    return out


def criterion_tallies(office_id: int, month: str, instrument_id: str) -> dict[str, scoring.Tally]:
    """criterion code -> pooled Tally over the office's subtree for one month."""
    return pooled_tallies(office_id, month, instrument_id).get((), {})


def pick_instrument(counts: dict[str, dict[str, int]], requested: str | None) -> Instrument:
    """The requested instrument, else the one most answered that month, else the default.

    Raises Invalid(400) for an unknown instrument id.
    """
    if requested:
        if requested not in registry():
            raise Invalid("unknown_instrument", _("Unknown instrument %(id)s.", id=requested))
        return get_instrument(requested)
    if counts:
        best = max(counts, key=lambda iid: (sum(counts[iid].values()), iid))
        return get_instrument(best)
    return get_instrument(current_app.config["DEFAULT_INSTRUMENT"])


def office_ref(office: Office) -> dict[str, str]:
    """What a report says about an office: its code and name."""
    return {"code": office.code, "name": office.name}


def monthly_report(office: Office, month: str, instrument_id: str | None = None,
                   locale: str = "vi") -> dict[str, Any]:
    """The month's figures for ``office`` and its descendants, as plain data.

    Indices are unrounded percentages (None where nothing was answered).
    Raises Invalid(400) for a bad month or instrument.
    """
    check_month(month)
    counts = channel_counts(office.id, month)
    instrument = pick_instrument(counts, instrument_id)
    return report_from_tallies(office_ref(office), month, instrument,
                               counts.get(instrument.id, {}),
                               criterion_tallies(office.id, month, instrument.id), locale)


def report_from_tallies(office: dict[str, str], month: str, instrument: Instrument,
                        channels: dict[str, int], tallies: dict[str, scoring.Tally],
                        locale: str = "vi") -> dict[str, Any]:
    """The report of :func:`monthly_report` from pooled figures already read: ``channels``
    (channel -> responses) and ``tallies`` (criterion -> Tally) of ``instrument``."""
    scores = scoring.score(instrument.structure(), tallies)
    min_sample = current_app.config["MIN_SAMPLE"]
    dims = {d.code: d for d in instrument.dimensions}
    return {
        "office": dict(office),
        "month": month,
        "instrument": instrument.id,
        "responses": sum(channels.values()),
        "channels": dict(sorted(channels.items())),
        "overall": scores.overall,
        "dimensions": [
            {"code": d.code, "name": dims[d.code].name.get(locale), "index": d.index}
            for d in scores.dimensions
        ],
        "criteria": [
            {
                "code": c.code,
                "dimension": instrument.criterion(c.code).dimension,
                "text": instrument.criterion(c.code).text.get(locale),
                "answered": c.tally.answered,
                "satisfied": c.tally.satisfied,
                "no_answer": c.tally.no_answer,
                "counts": {str(k): c.tally.counts[k - 1] for k in range(1, 6)},
                "index": c.index,
                "ci95": list(c.ci95) if c.ci95 else None,
                "low_sample": c.tally.answered < min_sample,
            }
            for c in scores.criteria()
        ],
    }


def report_csv(report: dict[str, Any]) -> str:
    """The criterion table of a report as CSV text (UTF-8 with BOM when written): text
    quoted and spreadsheet-safe (:mod:`core.services.sheets`), numbers bare."""
    header = ["office", "month", "instrument", "level", "code", "text", "answered",
              "satisfied", "no_answer", "n1", "n2", "n3", "n4", "n5", "index", "ci95_low",
              "ci95_high"]

    def num(x: float | None) -> Decimal | None:
        return None if x is None else Decimal(f"{x:.4f}")

    base = [report["office"]["code"], report["month"], report["instrument"]]
    rows: list[list[Any]] = [[*base, "overall", *[None] * 10, num(report["overall"]), None,
                              None]]
    for d in report["dimensions"]:
        rows.append([*base, "dimension", d["code"], d["name"], *[None] * 8, num(d["index"]),
                     None, None])
    for c in report["criteria"]:
        lo, hi = c["ci95"] or (None, None)
        rows.append([*base, "criterion", c["code"], c["text"], c["answered"], c["satisfied"],
                     c["no_answer"], *[c["counts"][k] for k in "12345"], num(c["index"]),
                     num(lo), num(hi)])
    return csv_string(header, rows)

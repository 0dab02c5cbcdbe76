"""Everything the monthly dashboard and the PDF report show, computed once, as plain data.

Built on :func:`core.services.reports.monthly_report` (the same figures as ``flask report``),
plus comparisons with the previous month and the same month last year, targets and gaps,
a 12-month trend, child offices ranked by the lower bound of their interval, the channel
split, the share of "no answer" and the expectations summary. Views and the PDF only format.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import current_app

from core import scoring
from core.extensions import db
from core.instrument import Instrument
from core.models import OVERALL, Office, Response
from core.services.common import get_instrument
from core.services.pooling import pooled_responses, pooled_tallies, within
from core.services.reports import monthly_report
from core.services.targets import targets_for
from core.timeutil import shift_month

TREND_MONTHS = 12
CHILD_SORTS = ("rank", "index", "n", "name")


def _gap(index: float | None, target: float | None) -> float | None:
    return None if index is None or target is None else index - target


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _indices(report: dict[str, Any]) -> dict[str, float | None]:
    out = {OVERALL: report["overall"]}
    out.update({d["code"]: d["index"] for d in report["dimensions"]})
    return out


def trend_series(office: Office, month: str, instrument: Instrument,
                 months: int = TREND_MONTHS) -> list[dict[str, Any]]:
    """The ``months`` months ending with ``month``: responses, overall and dimension indices
    (one pooled query for the tallies, one for the counts)."""
    first = shift_month(month, -(months - 1))
    span = [shift_month(first, k) for k in range(months)]
    by_month = pooled_tallies(office.id, span, instrument.id, by=("month",))
    responses = pooled_responses(office.id, span, by=("month",), instrument_id=instrument.id)
    structure = instrument.structure()
    series = []
    for m in span:
        scores = scoring.score(structure, by_month.get((m,), {}))
        series.append({"month": m, "responses": responses.get((m,), 0),
                       "overall": scores.overall,
                       "dimensions": {d.code: d.index for d in scores.dimensions}})
    return series


def child_ranking(office: Office, month: str, instrument: Instrument,
                  sort: str = "rank") -> list[dict[str, Any]]:
    """Direct child offices (each pooled with its own subtree) with n, overall index and a
    Wilson 95 % interval taking the number of responses as n (an approximation: the overall
    index is a mean of criterion shares). Ranked by the interval's lower bound, so a tiny
    sample never tops the table; children under MIN_SAMPLE get no rank and come last."""
    children = [c for c in office.children if c.active]
    if not children:
        return []
    ids = [c.id for c in children]
    tallies = pooled_tallies(ids, month, instrument.id, by=("office",))
    counts_by = pooled_responses(ids, month, by=("office",), instrument_id=instrument.id)
    min_sample = current_app.config["MIN_SAMPLE"]
    structure = instrument.structure()
    out = []
    for child in children:
        scores = scoring.score(structure, tallies.get((child.id,), {}))
        n = counts_by.get((child.id,), 0)
        ci = None
        if scores.overall is not None and n:
            ci = scoring.wilson_interval(round(scores.overall / 100 * n), n)
        out.append({"code": child.code, "name": child.name, "responses": n,
                    "overall": scores.overall, "ci95": list(ci) if ci else None,
                    "dimensions": {d.code: d.index for d in scores.dimensions},
                    "low_sample": n < min_sample, "rank": None})
    ranked = sorted((c for c in out if not c["low_sample"] and c["ci95"]),
                    key=lambda c: (-c["ci95"][0], c["code"]))
    for i, c in enumerate(ranked, start=1):
        c["rank"] = i
    rest = sorted((c for c in out if c["rank"] is None), key=lambda c: c["code"])
    result = ranked + rest
    if sort == "index":
        result.sort(key=lambda c: (c["overall"] is None, -(c["overall"] or 0), c["code"]))
    elif sort == "n":
        result.sort(key=lambda c: (-c["responses"], c["code"]))
    elif sort == "name":
        result.sort(key=lambda c: c["name"])
    return result


def expectations_summary(office: Office, month: str, instrument: Instrument
                         ) -> dict[str, Any]:
    """What citizens want improved most: per area, how many answered and at which level,
    ranked by the share answering the highest level ("very much")."""
    rows = db.session.scalars(
        within(sa.select(Response.expectations), Response.office_id, office.id)
        .where(Response.month == month, Response.instrument_id == instrument.id,
               Response.counted.is_(True), Response.expectations.is_not(None)))
    levels = [v for v, _t in instrument.expectation_levels]
    top = max(levels)
    counts: dict[str, dict[int, int]] = {a: dict.fromkeys(levels, 0)
                                         for a in instrument.expectation_area_codes()}
    respondents = 0
    for exp in rows:
        if not exp:
            continue
        respondents += 1
        for area, level in exp.items():
            if area in counts and level in counts[area]:
                counts[area][level] += 1
    areas = []
    for area in instrument.expectation_areas:
        c = counts[area.code]
        n = sum(c.values())
        areas.append({"code": area.code, "label": area.label, "n": n,
                      "levels": {str(k): v for k, v in c.items()},
                      "top_share": (100.0 * c[top] / n) if n else None})
    areas.sort(key=lambda a: (a["top_share"] is None, -(a["top_share"] or 0), a["code"]))
    return {"respondents": respondents, "areas": areas}


def build_dashboard(office: Office, month: str, *, instrument_id: str | None = None,
                    locale: str = "vi", report: dict[str, Any] | None = None,
                    child_sort: str = "rank") -> dict[str, Any]:
    """All figures for ``office`` (and its subtree) in ``month``.

    ``report`` may be a :func:`monthly_report` already computed for the same office and month
    (the CLI passes it), so the PDF and the dashboard share one code path.
    Raises Invalid(400) for a bad month or instrument.
    """
    if report is None:
        report = monthly_report(office, month, instrument_id, locale=locale)
    instrument = get_instrument(report["instrument"])
    year = int(month[:4])
    effective = targets_for(office, year)
    targets = {code: t.value for code, t in effective.items()}
    targets_year = next(iter(effective.values())).year if effective else None
    previous = monthly_report(office, shift_month(month, -1), instrument.id, locale=locale)
    last_year = monthly_report(office, shift_month(month, -12), instrument.id, locale=locale)
    now_i, prev_i, year_i = _indices(report), _indices(previous), _indices(last_year)
    min_sample = current_app.config["MIN_SAMPLE"]

    dim_answers: dict[str, int] = defaultdict(int)
    for c in report["criteria"]:
        dim_answers[c["dimension"]] += c["answered"]
    headline = [{"code": OVERALL, "name": None, "index": report["overall"],
                 "n": report["responses"], "low_sample": report["responses"] < min_sample}]
    for d in report["dimensions"]:
        headline.append({"code": d["code"], "name": d["name"], "index": d["index"],
                         "n": dim_answers[d["code"]], "low_sample": False})
    for h in headline:
        code = h["code"]
        h.update(previous=prev_i[code], last_year=year_i[code],
                 delta_previous=_delta(now_i[code], prev_i[code]),
                 delta_last_year=_delta(now_i[code], year_i[code]),
                 target=targets.get(code), gap=_gap(now_i[code], targets.get(code)))
    for h in headline[1:]:
        crits = [c for c in report["criteria"] if c["dimension"] == h["code"]]
        h["low_sample"] = any(c["low_sample"] for c in crits)

    criteria = []
    for c in report["criteria"]:
        total = c["answered"] + c["no_answer"]
        answered = c["answered"]
        criteria.append({
            **c,
            "target": targets.get(c["code"]),
            "gap": _gap(c["index"], targets.get(c["code"])),
            "no_answer_share": (100.0 * c["no_answer"] / total) if total else None,
            "shares": {k: (100.0 * v / answered if answered else 0.0)
                       for k, v in c["counts"].items()},
        })
    total_channels = sum(report["channels"].values())
    channels = [{"channel": ch, "responses": n,
                 "share": 100.0 * n / total_channels if total_channels else None}
                for ch, n in sorted(report["channels"].items(), key=lambda kv: -kv[1])]
    return {
        "report": report,
        "office": office,
        "parent": office.parent,
        "month": month,
        "year": year,
        "instrument": instrument,
        "min_sample": min_sample,
        "previous_month": shift_month(month, -1),
        "last_year_month": shift_month(month, -12),
        "headline": headline,
        "criteria": criteria,
        "trend": trend_series(office, month, instrument),
        "children": child_ranking(office, month, instrument, child_sort),
        "channels": channels,
        "expectations": expectations_summary(office, month, instrument),
        "targets_set": bool(targets),
        "targets_year": targets_year,
    }

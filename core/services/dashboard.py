"""Everything the monthly dashboard and the PDF report show, computed once, as plain data.

Built on :func:`core.services.reports.monthly_report` (the same figures as ``flask report``),
plus comparisons with the previous month and the same month last year, targets and gaps,
a 12-month trend, child offices ranked by the lower bound of their interval, the channel
split, the share of "no answer" and the expectations summary. Views and the PDF only format.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from flask import current_app

from core import scoring
from core.extensions import db
from core.instrument import Instrument
from core.models import OVERALL, Office, Response
from core.services.common import get_instrument
from core.services.mixing import pending_counts
from core.services.offices import descendant_ids
from core.services.pooling import pooled_responses, pooled_tallies, within
from core.services.reports import check_month, office_ref, pick_instrument, report_from_tallies
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


def trend_series(reports: dict[str, dict[str, Any]], month: str,
                 months: int = TREND_MONTHS) -> list[dict[str, Any]]:
    """The ``months`` months ending with ``month``: responses, overall and dimension indices,
    read from ``reports`` (month -> :func:`monthly_report`-shaped data of each month)."""
    first = shift_month(month, -(months - 1))
    return [{"month": r["month"], "responses": r["responses"], "overall": r["overall"],
             "dimensions": {d["code"]: d["index"] for d in r["dimensions"]}}
            for r in (reports[shift_month(first, k)] for k in range(months))]


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


def month_reports(office: Office, months: Collection[str], instrument_id: str | None,
                  current: str, locale: str = "vi") -> dict[str, dict[str, Any]]:
    """:func:`monthly_report` of ``office`` for each of ``months``, all of the instrument
    chosen for ``current`` (the requested one, else the one most answered in ``current``),
    from two pooled queries. Raises Invalid(400) for an unknown instrument."""
    responses = pooled_responses(office.id, months, by=("month", "instrument", "channel"))
    channels: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for (m, iid, channel), n in responses.items():
        channels[m][iid][channel] = n
    instrument = pick_instrument(channels[current], instrument_id)
    tallies = pooled_tallies(office.id, months, instrument.id, by=("month",))
    ref = office_ref(office)
    return {m: report_from_tallies(ref, m, instrument, channels[m][instrument.id],
                                   tallies.get((m,), {}), locale)
            for m in sorted(months)}


def build_dashboard(office: Office, month: str, *, instrument_id: str | None = None,
                    locale: str = "vi", report: dict[str, Any] | None = None,
                    child_sort: str = "rank") -> dict[str, Any]:
    """All figures for ``office`` (and its subtree) in ``month``, as plain data (dicts,
    lists, numbers, strings and the :class:`core.instrument.Instrument`; no database rows).

    Every month's report is computed once: the month itself, the previous month and the
    same month last year (for comparisons), and the 12 months of the trend.
    ``report`` may be a :func:`monthly_report` already computed for the same office and month
    (the CLI passes it), so the PDF and the dashboard share one code path; its instrument is
    then the one used.
    Raises Invalid(400) for a bad month or instrument.
    """
    check_month(month)
    previous_month, last_year_month = shift_month(month, -1), shift_month(month, -12)
    months = {shift_month(month, -k) for k in range(TREND_MONTHS)} | {last_year_month}
    reports = month_reports(office, months, report["instrument"] if report else instrument_id,
                            month, locale)
    if report is not None:
        reports[month] = report
    report = reports[month]
    instrument = get_instrument(report["instrument"])
    year = int(month[:4])
    effective = targets_for(office, year)
    targets = {code: t.value for code, t in effective.items()}
    targets_year = next(iter(effective.values())).year if effective else None
    previous, last_year = reports[previous_month], reports[last_year_month]
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
        "office": office_ref(office),
        "parent": office_ref(office.parent) if office.parent else None,
        "month": month,
        "year": year,
        "instrument": instrument,
        "min_sample": min_sample,
        "previous_month": previous_month,
        "last_year_month": last_year_month,
        "headline": headline,
        "criteria": criteria,
        "trend": trend_series(reports, month),
        "children": child_ranking(office, month, instrument, child_sort),
        "channels": channels,
        "expectations": expectations_summary(office, month, instrument),
        "targets_set": bool(targets),
        "targets_year": targets_year,
        # answers acknowledged in the subtree, not in any figure until released (mixing)
        "pending": sum(pending_counts(descendant_ids(office.id)).values()),
    }

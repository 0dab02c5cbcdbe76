"""Everything the monthly dashboard and the PDF report show, computed once, as plain data.

Built on :func:`core.services.reports.monthly_report` (the same figures as ``flask report``,
with targets and changes), plus a 12-month trend with the overall index's interval, child
offices ranked by their index with statistical ties marked (each kind of office apart), the
channel split, the share of "no answer" and the expectations summary. Views and the PDF only
format.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core import scoring
from core.extensions import db
from core.instrument import Instrument
from core.models import OFFICE_LEVELS, OVERALL, MonthlyExpectationTally, Office
from core.periods import Period, month_period
from core.services.common import get_instrument
from core.services.labels import level_label
from core.services.mixing import pending_counts
from core.services.offices import descendant_ids
from core.services.pooling import (
    pooled_cross_tallies,
    pooled_responses,
    pooled_tallies,
    within,
)
from core.services.reports import (
    check_period,
    comparison_periods,
    finish_period,
    month_figures,
    office_ref,
    period_figures,
)
from core.services.targets import targets_for
from core.timeutil import shift_month

TREND_MONTHS = 12
CHILD_SORTS = ("rank", "index", "n", "name")


def notes(item: dict[str, Any], kind: str, min_sample: int) -> list[str]:
    """Why a figure carries the mark "*", in words (empty when it carries none): it is
    incomplete (which parts have no answers), or rests on fewer than ``min_sample`` answers
    (criteria), respondents (dimensions) or responses (the overall). ``kind`` is "overall",
    "dimension" or "criterion"."""
    out = []
    if kind != "criterion" and item["index"] is not None and not item["complete"]:
        out.append(_("incomplete: %(parts)s without answers, so it is another figure; not "
                     "judged against the target nor compared with other months",
                     parts=", ".join(item["missing"])))
    if item["index"] is not None and item["low_sample"]:
        n = item["answered"] if kind == "criterion" else item["n"]
        if kind == "criterion":
            out.append(_("too few answers (%(n)s, fewer than %(min)s): not precise, not "
                         "judged against the target", n=n, min=min_sample))
        elif kind == "dimension":
            out.append(_("too few respondents (%(n)s, fewer than %(min)s): not precise, not "
                         "judged against the target", n="—" if n is None else n,
                         min=min_sample))
        else:
            out.append(_("too few responses (%(n)s, fewer than %(min)s): not precise, not "
                         "judged against the target", n=n, min=min_sample))
    return out


def _child_reason(reason: str, n: int, min_sample: int, missing: tuple[str, ...]) -> str:
    if reason == "incomplete":
        return _("not ranked: incomplete (%(parts)s without answers)", parts=", ".join(missing))
    return _("not ranked: too few responses (%(n)s, fewer than %(min)s)", n=n, min=min_sample)


def trend_series(reports: dict[str, dict[str, Any]], month: str,
                 months: int = TREND_MONTHS) -> list[dict[str, Any]]:
    """The ``months`` months ending with ``month``: responses, overall index with its
    interval, whether it is complete and meets the minimum sample, and dimension indices
    (with whether each is complete and meets the minimum sample), read from ``reports``
    (month -> :func:`monthly_report`-shaped data of each month)."""
    first = shift_month(month, -(months - 1))
    return [{"month": r["month"], "responses": r["responses"], "overall": r["overall"],
             "ci95": r["overall_ci95"], "low_sample": r["low_sample"],
             "complete": r["complete"], "missing": r["missing"],
             "dimensions": {d["code"]: d["index"] for d in r["dimensions"]},
             "dimensions_comparable": {d["code"]: d["complete"] and not d["low_sample"]
                                       for d in r["dimensions"]}}
            for r in (reports[shift_month(first, k)] for k in range(months))]


def child_ranking(office: Office, month: str | Collection[str], instrument: Instrument,
                  sort: str = "rank") -> list[dict[str, Any]]:
    """Direct child offices (each pooled with its own subtree): responses, overall index
    with its respondent-level 95 % interval, and a rank within the child's kind of office
    (departments, districts, branches and communes are ranked apart).

    Ranked: children whose overall index is complete and rests on at least MIN_SAMPLE
    responses, by the index as displayed (equal displayed values share a rank), so the order
    agrees with the numbers printed beside it. ``rank_range`` is the range of ranks each one
    could plausibly hold: from 1 + the offices significantly above it to the number not
    significantly below it (pairwise 95 % intervals of the difference); ``tied`` when that
    range holds more than one rank. The others come last, unranked, with the reason
    (``low_sample``, ``incomplete`` or ``no_answers``)."""
    children = [c for c in office.children if c.active]
    if not children:
        return []
    ids = [c.id for c in children]
    tallies = pooled_tallies(ids, month, instrument.id, by=("office",))
    cross = pooled_cross_tallies(ids, month, instrument.id, by=("office",))
    counts_by = pooled_responses(ids, month, by=("office",), instrument_id=instrument.id)
    min_sample = current_app.config["MIN_SAMPLE"]
    structure = instrument.structure()
    out = []
    estimates: dict[str, scoring.Estimate | None] = {}
    for child in children:
        n = counts_by.get((child.id,), 0)
        x = cross.get((child.id,))
        scores = scoring.score(structure, tallies.get((child.id,), {}),
                               x if x is not None and x.respondents == n else None)
        reason = ("no_answers" if scores.overall is None else
                  "incomplete" if not scores.complete else
                  "low_sample" if n < min_sample else None)
        estimates[child.code] = scores.estimate
        out.append({"code": child.code, "name": child.name, "level": child.level,
                    "responses": n, "overall": scores.overall,
                    "ci95": list(scores.estimate.ci95_percent()) if scores.estimate else None,
                    "complete": scores.complete, "missing": list(scores.missing),
                    "dimensions": {d.code: d.index for d in scores.dimensions},
                    "low_sample": n < min_sample, "reason": reason, "rank": None,
                    "rank_range": None, "tied": False,
                    "notes": [_child_reason(reason, n, min_sample, scores.missing)]
                    if reason in ("incomplete", "low_sample") else []})
    for level in OFFICE_LEVELS:
        ranked = sorted((c for c in out if c["level"] == level and c["reason"] is None),
                        key=lambda c: (-scoring.displayed(c["overall"]), c["code"]))
        for i, c in enumerate(ranked):
            same = i and scoring.displayed(c["overall"]) == scoring.displayed(
                ranked[i - 1]["overall"])
            c["rank"] = ranked[i - 1]["rank"] if same else i + 1
        group = [estimates[c["code"]] for c in ranked]
        if ranked and all(e is not None for e in group):
            for c, (best, worst) in zip(ranked, scoring.ties(group), strict=True):  # type: ignore[arg-type]
                c["rank_range"] = [best, worst]
                c["tied"] = best != worst
    order = {level: i for i, level in enumerate(OFFICE_LEVELS)}
    if sort == "index":
        key = lambda c: (c["overall"] is None, -(c["overall"] or 0), c["code"])  # noqa: E731
    elif sort == "n":
        key = lambda c: (-c["responses"], c["code"])  # noqa: E731
    elif sort == "name":
        key = lambda c: (c["name"], c["code"])  # noqa: E731
    else:
        key = lambda c: (c["rank"] is None, c["rank"] or 0, c["code"])  # noqa: E731
    return sorted(out, key=lambda c: (order.get(c["level"], len(order)), key(c)))


def child_groups(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ranked children by kind of office (each kind is ranked apart), in the order of
    :data:`core.models.OFFICE_LEVELS`: [{"level", "label", "children"}]."""
    out: list[dict[str, Any]] = []
    for ch in children:
        if not out or out[-1]["level"] != ch["level"]:
            out.append({"level": ch["level"], "label": level_label(ch["level"]),
                        "children": []})
        out[-1]["children"].append(ch)
    return out


def expectations_summary(office: Office, month: str | Collection[str], instrument: Instrument
                         ) -> dict[str, Any]:
    """What citizens want improved most: per area, how many answered and at which level,
    ranked by the share answering the highest level ("very much"), over a month or the
    months of a period. Read from the expectation tallies
    (:class:`core.models.MonthlyExpectationTally`), summed over the subtree."""
    months = [month] if isinstance(month, str) else list(month)
    t = MonthlyExpectationTally
    sums = db.session.execute(
        within(sa.select(t.area, t.level, sa.func.sum(t.responses)), t.office_id, office.id)
        .where(t.month.in_(months), t.instrument_id == instrument.id)
        .group_by(t.area, t.level)).all()
    levels = [v for v, _t in instrument.expectation_levels]
    top = max(levels)
    counts: dict[str, dict[int, int]] = {a: dict.fromkeys(levels, 0)
                                         for a in instrument.expectation_area_codes()}
    respondents = 0
    for area, level, n in sums:
        if area == "" and level == 0:
            respondents = int(n)
        elif area in counts and level in counts[area]:
            counts[area][level] += int(n)
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
    """The figures (:func:`core.services.reports.month_figures`) of ``office`` for each of
    ``months``, as report data without targets or changes. Raises Invalid(400) for an
    unknown instrument."""
    return {m: f.report for m, f in month_figures(office, months, instrument_id, current,
                                                  locale).items()}


def build_dashboard(office: Office, month: str | Period, *, instrument_id: str | None = None,
                    locale: str = "vi", report: dict[str, Any] | None = None,
                    child_sort: str = "rank", expectations: bool = True) -> dict[str, Any]:
    """All figures for ``office`` (and its subtree) over a period (``month``: a month or any
    period label of :mod:`core.periods`, or a Period), as plain data (dicts, lists, numbers,
    strings and the :class:`core.instrument.Instrument`; no database rows).

    Every period's figures are computed once, from one set of pooled queries: the period
    itself, the periods it is compared with, and the 12 months of the trend (ending with the
    period's last month); the period's report is
    :func:`core.services.reports.period_report`'s.
    ``report`` may be a report already computed for the same office and period (the CLI
    passes it), so the PDF and the dashboard share one code path; its instrument is then
    the one used. ``month`` in the result is the period's label (what links carry).
    ``expectations=False`` leaves out the expectations summary (None).
    Raises Invalid(400) for a bad period or instrument.
    """
    period = check_period(month)
    last = period.last
    trend_months = [shift_month(last, -k) for k in range(TREND_MONTHS)]
    periods: dict[str, Period] = {"current": period, **comparison_periods(period)}
    periods.update({m: month_period(m) for m in trend_months})
    figures = period_figures(office, periods,
                             report["instrument"] if report else instrument_id, "current",
                             locale)
    if report is None:
        report = finish_period(office, period, figures["current"],
                               {key: figures[key] for key in comparison_periods(period)})
    reports = {m: figures[m].report for m in trend_months}
    if period.is_month:
        reports[last] = report
    instrument = get_instrument(report["instrument"])
    year = period.year
    effective = targets_for(office, year)
    targets_year = next(iter(effective.values())).year if effective else None
    min_sample = report["min_sample"]

    headline = [{"code": OVERALL, "name": None, "index": report["overall"],
                 "ci95": report["overall_ci95"], "n": report["responses"],
                 "low_sample": report["low_sample"], "complete": report["complete"],
                 "missing": report["missing"], "target": report["target"],
                 "change": report["change"]}]
    for d in report["dimensions"]:
        headline.append({"code": d["code"], "name": d["name"], "index": d["index"],
                         "ci95": d["ci95"], "n": d["respondents"],
                         "low_sample": d["low_sample"], "complete": d["complete"],
                         "missing": d["missing"], "target": d["target"],
                         "change": d["change"]})

    for h in headline:
        h["notes"] = notes(h, "overall" if h["code"] == OVERALL else "dimension", min_sample)
    criteria = []
    for c in report["criteria"]:
        total = c["answered"] + c["no_answer"]
        answered = c["answered"]
        criteria.append({
            **c,
            "no_answer_share": (100.0 * c["no_answer"] / total) if total else None,
            "shares": {k: (100.0 * v / answered if answered else 0.0)
                       for k, v in c["counts"].items()},
            "notes": notes(c, "criterion", min_sample),
        })
    children = child_ranking(office, list(period.months), instrument, child_sort)
    total_channels = sum(report["channels"].values())
    channels = [{"channel": ch, "responses": n,
                 "share": 100.0 * n / total_channels if total_channels else None}
                for ch, n in sorted(report["channels"].items(), key=lambda kv: -kv[1])]
    compared = comparison_periods(period)
    return {
        "report": report,
        "office": office_ref(office),
        "parent": office_ref(office.parent) if office.parent else None,
        "month": period.label,
        "months": list(period.months),
        "is_month": period.is_month,
        "year": year,
        "instrument": instrument,
        "min_sample": min_sample,
        "previous_month": compared["previous"].label,
        "last_year_month": compared["year_ago"].label,
        "headline": headline,
        "criteria": criteria,
        "trend": trend_series(reports, last),
        "children": children,
        "child_groups": child_groups(children),
        "channels": channels,
        "expectations": (expectations_summary(office, list(period.months), instrument)
                         if expectations else None),
        "targets_set": bool(effective),
        "targets_year": targets_year,
        # answers acknowledged in the subtree, not in any figure until released (mixing)
        "pending": sum(pending_counts(descendant_ids(office.id)).values()),
        **standing(office, report),
    }


def standing(office: Office, report: dict[str, Any]) -> dict[str, Any]:
    """What to fix first and where the office stands (:mod:`core.services.priorities`,
    :mod:`core.services.peers`) for the report's period."""
    from core.services.peers import peer_standing
    from core.services.priorities import priorities

    months = report.get("months") or [report["month"]]
    return {"priorities": priorities(office.id, months, report),
            "peers": peer_standing(office, months, report["instrument"])}

"""SIPAS figures of a period for an office and everything below it, read from the tallies.

A period (:mod:`core.periods`: a month, quarter, half-year, year or range of months) is
reported from its months' tallies pooled (answer counts, channel counts and the cross-tally
summed), so a year costs twelve monthly rows per criterion, never a rescan of the answers.
It is compared with the period of the same kind just before it and the same period a year
earlier, and judged against the targets of its (last month's) year.

A report says, besides the indices: whether each dimension and the overall are *complete*
(a mean over fewer parts is another figure, see :mod:`core.scoring`) and which parts are
missing; each figure's sample size, interval and low-sample mark; its target with the
verdict decided on the displayed value; and its change against the previous month and the
same month a year earlier, with an interval and whether it is significant. An incomplete
figure, or one under the minimum sample, is never judged against its target, and an
incomplete figure is never compared with another period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from core import scoring
from core.errors import Invalid
from core.instrument import Instrument
from core.models import OVERALL, Office
from core.periods import Period, month_period, parse_period
from core.services import partials
from core.services.common import get_instrument, registry
from core.services.pooling import pooled_cross_tallies, pooled_responses, pooled_tallies
from core.services.report_cache import cached_report
from core.services.sheets import csv_string
from core.services.targets import EffectiveTarget, targets_for
from core.timeutil import parse_month, shift_month

#: the comparisons of a report: key -> months back (of a one-month report; a longer period
#: is compared with the period of the same kind before it and the same period a year earlier:
#: :func:`comparison_periods`)
COMPARISONS = {"previous": 1, "year_ago": 12}


def comparison_periods(period: Period) -> dict[str, Period]:
    """The periods ``period`` is compared with, by the keys of :data:`COMPARISONS`."""
    return {"previous": period.previous(), "year_ago": period.year_ago()}


def check_period(label: str | Period) -> Period:
    """The period a label names (see :mod:`core.periods`). Raises Invalid(400) otherwise."""
    if isinstance(label, Period):
        return label
    if len(label or "") == 7 and label[4] == "-" and label[5:].isdigit():  # a month
        check_month(label)
    try:
        return parse_period(label)
    except ValueError:
        raise Invalid("invalid_period", _(
            "%(period)s is not a valid period (expected YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY or "
            "YYYY-MM..YYYY-MM, e.g. 2022-07 or 2022-Q3).", period=label)) from None


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


@dataclass(frozen=True)
class MonthFigures:
    """One month's report (plain data) and the scores it was made from (for comparisons)."""

    report: dict[str, Any]
    scores: scoring.Scores


def monthly_report(office: Office, month: str, instrument_id: str | None = None,
                   locale: str = "vi", include_partial: bool = False) -> dict[str, Any]:
    """The month's figures for ``office`` and its descendants, as plain data, with targets
    and the changes against the previous month and the same month a year earlier.

    Indices are unrounded percentages (None where nothing was answered).
    ``include_partial``: with the partial responses (:mod:`core.services.partials`) in the
    figures, even when ``COUNT_PARTIAL`` is off.
    Raises Invalid(400) for a bad month or instrument.
    """
    check_month(month)
    return period_report(office, month_period(month), instrument_id, locale,
                         include_partial=include_partial)


def period_report(office: Office, period: Period | str, instrument_id: str | None = None,
                  locale: str = "vi", include_partial: bool = False) -> dict[str, Any]:
    """The figures of ``period`` (a :class:`core.periods.Period` or its label) for ``office``
    and its descendants, as plain data: the months' tallies pooled, with the targets of the
    period's year, the changes against the period of the same kind before it and the same
    period a year earlier, and the dossier volumes and sample adequacy
    (:mod:`core.services.dossiers`). Nine pooled queries whatever the period's length, or
    one when the same report was made since the figures last changed
    (:mod:`core.services.report_cache`).
    ``partial_responses`` counts the kiosk walk-aways of the period; ``include_partial``
    adds them to the figures when the tallies do not hold them (``COUNT_PARTIAL`` off).

    Raises Invalid(400) for a bad period or instrument.
    """
    period = check_period(period)

    def make() -> dict[str, Any]:
        periods = {"current": period, **comparison_periods(period)}
        figures = period_figures(office, periods, instrument_id, "current", locale,
                                 include_partial=include_partial)
        return finish_period(office, period, figures["current"],
                             {key: figures[key] for key in COMPARISONS})

    if include_partial and not partials.counting_partial():
        return make()  # adds the partial answers themselves, which the token does not follow
    return cached_report((office.id, office.code, office.name, period.label, instrument_id,
                          locale, include_partial), make)


def _sum_cross(parts: list[scoring.CrossTally]) -> scoring.CrossTally | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return scoring.CrossTally(parts[0].layout, tuple(
        sum(column) for column in zip(*(p.counts for p in parts), strict=True)))


def period_figures(office: Office, periods: Mapping[str, Period], instrument_id: str | None,
                   current: str, locale: str = "vi", include_partial: bool = False
                   ) -> dict[str, MonthFigures]:
    """The figures of ``office`` for each of ``periods`` (key -> period; without targets or
    comparisons), all of the instrument chosen for ``periods[current]`` (the requested one,
    else the one most answered then), from three pooled queries grouped by month whose rows
    are summed per period. Raises Invalid(400) for an unknown instrument."""
    months = sorted({m for p in periods.values() for m in p.months})
    responses = pooled_responses(office.id, months, by=("month", "instrument", "channel"))
    channels: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for (m, iid, channel), n in responses.items():
        channels[m][iid][channel] = n

    def period_channels(period: Period, iid: str | None = None) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(dict)
        for m in period.months:
            for i, by_channel in channels[m].items():
                if iid is None or i == iid:
                    for ch, n in by_channel.items():
                        out[i][ch] = out[i].get(ch, 0) + n
        return out

    instrument = pick_instrument(period_channels(periods[current]), instrument_id)
    tallies = pooled_tallies(office.id, months, instrument.id, by=("month",))
    cross = pooled_cross_tallies(office.id, months, instrument.id, by=("month",))
    counting = partials.counting_partial()
    if include_partial and not counting:  # the tallies hold no partial: add them per month
        for m, extra in partials.partial_figures(office.id, months, instrument.id).items():
            merged = partials.add_partial(
                tallies.get((m,), {}), channels[m][instrument.id], cross.get((m,)), extra,
                instrument.criterion_codes, instrument.id)
            tallies[(m,)], channels[m][instrument.id] = merged[0], merged[1]
            if merged[2] is not None:
                cross[(m,)] = merged[2]
    n_partial = partials.partial_counts(office.id, months)
    ref = office_ref(office)
    out = {}
    for key, period in periods.items():
        pooled: dict[str, scoring.Tally] = {}
        for m in period.months:
            for code, tally in tallies.get((m,), {}).items():
                pooled[code] = pooled[code] + tally if code in pooled else tally
        out[key] = figures_from_tallies(
            ref, period, instrument, period_channels(period, instrument.id)[instrument.id],
            pooled, locale, _sum_cross([cross[(m,)] for m in period.months if (m,) in cross]))
        out[key].report["partial_responses"] = sum(n_partial.get(m, 0) for m in period.months)
        out[key].report["partial_included"] = include_partial or counting
    return out


def month_figures(office: Office, months: Collection[str], instrument_id: str | None,
                  current: str, locale: str = "vi", include_partial: bool = False
                  ) -> dict[str, MonthFigures]:
    """The figures of ``office`` for each of ``months`` (without targets or comparisons),
    all of the instrument chosen for ``current`` (:func:`period_figures` of one-month
    periods). Raises Invalid(400) for an unknown instrument."""
    return period_figures(office, {m: month_period(m) for m in sorted(months)}, instrument_id,
                          current, locale, include_partial=include_partial)


def finish_period(office: Office, period: Period, now: MonthFigures,
                  others: Mapping[str, MonthFigures]) -> dict[str, Any]:
    """The report of ``period`` from its figures and those of the periods it is compared
    with (key of :data:`COMPARISONS` -> figures): the changes, the office's targets for the
    period's year and the dossier volumes."""
    from core.services.dossiers import add_dossiers

    add_changes(now, others)
    add_targets(now.report, targets_for(office, period.year))
    add_dossiers(now.report, office, period)
    return now.report


def finish_report(office: Office, month: str, figures: Mapping[str, MonthFigures]
                  ) -> dict[str, Any]:
    """The report of ``month`` from ``figures`` (which hold the month and the months it is
    compared with), with the office's targets for the month's year and the changes."""
    return finish_period(office, month_period(month), figures[month],
                         {key: figures[shift_month(month, -back)]
                          for key, back in COMPARISONS.items()})


def report_from_tallies(office: dict[str, str], month: str | Period, instrument: Instrument,
                        channels: dict[str, int], tallies: dict[str, scoring.Tally],
                        locale: str = "vi", cross: scoring.CrossTally | None = None
                        ) -> dict[str, Any]:
    """The figures of one month (no targets or changes) from pooled figures already read:
    ``channels`` (channel -> responses), ``tallies`` (criterion -> Tally) and ``cross`` (the
    cross-tally) of ``instrument``."""
    return figures_from_tallies(office, month, instrument, channels, tallies, locale,
                                cross).report


def _ci(estimate: scoring.Estimate | None) -> list[float] | None:
    return list(estimate.ci95_percent()) if estimate is not None else None


def figures_from_tallies(office: dict[str, str], month: str | Period, instrument: Instrument,
                         channels: dict[str, int], tallies: dict[str, scoring.Tally],
                         locale: str = "vi", cross: scoring.CrossTally | None = None
                         ) -> MonthFigures:
    """See :func:`report_from_tallies`. A cross-tally that does not count the same
    respondents as the tallies (not rebuilt since an upgrade) is not used: dimension and
    overall indices then have no interval and dimensions no number of respondents.
    ``month`` is a month or a :class:`core.periods.Period`: the report says its ``period``
    and ``months``, and its ``month`` only for a single month."""
    period = month if isinstance(month, Period) else month_period(month)
    responses = sum(channels.values())
    if cross is not None and cross.respondents != responses:
        cross = None
    scores = scoring.score(instrument.structure(), tallies, cross)
    min_sample = current_app.config["MIN_SAMPLE"]
    dims = {d.code: d for d in instrument.dimensions}

    def dimension_low(d: scoring.DimensionScore) -> bool:
        if d.respondents is not None:
            return d.respondents < min_sample
        # without the cross-tally: its best-answered criterion bounds the respondents below
        return max(c.tally.answered for c in d.criteria) < min_sample

    report = {
        "office": dict(office),
        "period": period.label,
        "months": list(period.months),
        **({"month": period.first} if period.is_month else {}),
        "instrument": instrument.id,
        "min_sample": min_sample,
        "responses": responses,
        "channels": dict(sorted(channels.items())),
        "overall": scores.overall,
        "overall_ci95": _ci(scores.estimate),
        "low_sample": responses < min_sample,
        "complete": scores.complete,
        "missing": list(scores.missing),
        "target": None,
        "change": {key: None for key in COMPARISONS},
        "dimensions": [
            {"code": d.code, "name": dims[d.code].name.get(locale), "index": d.index,
             "ci95": _ci(d.estimate), "respondents": d.respondents,
             "low_sample": dimension_low(d), "complete": d.complete,
             "missing": list(d.missing), "target": None,
             "change": {key: None for key in COMPARISONS}}
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
                "target": None,
                "change": {key: None for key in COMPARISONS},
            }
            for c in scores.criteria()
        ],
    }
    return MonthFigures(report, scores)


# --- targets ---------------------------------------------------------------------------------

def target_json(target: EffectiveTarget | None, index: float | None, *, judged: bool
                ) -> dict[str, Any] | None:
    """A report's ``target`` object: the target and, when the figure may be judged, whether
    its displayed value meets it and by how many points."""
    if target is None:
        return None
    met, gap = scoring.target_verdict(index, target.value, target.operator, judged=judged)
    return target.as_json(met, gap)


def add_targets(report: dict[str, Any], targets: Mapping[str, EffectiveTarget]) -> None:
    """Set the ``target`` of the overall, each dimension and each criterion. A figure is
    judged only when it is complete and meets the minimum sample."""
    report["target"] = target_json(targets.get(OVERALL), report["overall"],
                                   judged=report["complete"] and not report["low_sample"])
    for d in report["dimensions"]:
        d["target"] = target_json(targets.get(d["code"]), d["index"],
                                  judged=d["complete"] and not d["low_sample"])
    for c in report["criteria"]:
        c["target"] = target_json(targets.get(c["code"]), c["index"],
                                  judged=not c["low_sample"])


# --- changes ---------------------------------------------------------------------------------

def _change_json(change: scoring.Change | None, comparable: bool, significant: bool
                 ) -> dict[str, Any] | None:
    if change is None:
        return None
    return {"delta": change.delta, "low": change.low, "high": change.high,
            "significant": significant, "comparable": comparable}


def add_changes(now: MonthFigures, others: Mapping[str, MonthFigures]) -> None:
    """Set each figure's ``change`` against each of ``others`` (key -> that period's
    figures): now - then in points, with Newcombe's interval; ``comparable`` when both
    periods meet the minimum sample; ``significant`` when comparable, the 95 % interval
    excludes 0 and the change survives Benjamini-Hochberg at 5 % within its family (the
    criteria of the report; the overall and dimension indices), per comparison.
    Null where either period has no figure, and for the overall or a dimension when either
    period's figure is incomplete (a mean of other parts is another figure)."""
    report, scores = now.report, now.scores
    for key, then in others.items():
        before, before_scores = then.report, then.scores
        # the criteria: one family
        changes: list[scoring.Change | None] = []
        comparable: list[bool] = []
        for c_now, c_then, r_now, r_then in zip(scores.criteria(), before_scores.criteria(),
                                                report["criteria"], before["criteria"],
                                                strict=True):
            a, b = (scoring.proportion_estimate(c_now.tally),
                    scoring.proportion_estimate(c_then.tally))
            changes.append(scoring.compare_screened(a, b) if a and b else None)
            comparable.append(not r_now["low_sample"] and not r_then["low_sample"])
        found = scoring.significant_changes(changes, comparable)
        for c, change, ok, sig in zip(report["criteria"], changes, comparable, found,
                                      strict=True):
            c["change"][key] = _change_json(change, ok, sig)
        # the overall and the dimensions: another family
        heads = [(report, report["overall"], scores.estimate,
                  before, before["overall"], before_scores.estimate)]
        heads += [(d, d["index"], ds.estimate, bd, bd["index"], bds.estimate)
                  for d, ds, bd, bds in zip(report["dimensions"], scores.dimensions,
                                            before["dimensions"], before_scores.dimensions,
                                            strict=True)]
        head_changes: list[scoring.Change | None] = []
        head_ok: list[bool] = []
        for r_now, index_now, est_now, r_then, index_then, est_then in heads:
            change = None
            if (r_now["complete"] and r_then["complete"] and index_now is not None
                    and index_then is not None):
                if est_now is not None and est_then is not None:
                    change = scoring.compare_screened(est_now, est_then)
                else:  # no cross-tally yet: the change, without an interval, never significant
                    change = scoring.Change(index_now - index_then, math.nan, math.nan, 1.0)
            head_changes.append(change)
            head_ok.append(not r_now["low_sample"] and not r_then["low_sample"])
        found = scoring.significant_changes(head_changes, head_ok)
        for head, change, ok, sig in zip(heads, head_changes, head_ok, found, strict=True):
            out = _change_json(change, ok, sig)
            if out is not None and math.isnan(out["low"]):
                out["low"] = out["high"] = None
            head[0]["change"][key] = out


# --- CSV -------------------------------------------------------------------------------------

def _num(x: float | None, places: str = "0.0001") -> Decimal | None:
    return None if x is None else Decimal(repr(float(x))).quantize(Decimal(places))


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _target_cells(t: dict[str, Any] | None) -> list[Any]:
    if t is None:
        return [None] * 6
    return [t["operator"], _num(t["value"], "0.01"), t["year"], t["inherited_from"],
            _flag(t["met"]), _num(t["gap"], "0.01")]


def _change_cells(change: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for key in COMPARISONS:
        c = change[key]
        out += ([None] * 5 if c is None else
                [_num(c["delta"]), _num(c["low"]), _num(c["high"]), _flag(c["comparable"]),
                 _flag(c["significant"])])
    return out


def report_csv(report: dict[str, Any]) -> str:
    """The figures of a report as CSV text (UTF-8 with BOM when written): text quoted and
    spreadsheet-safe (:mod:`core.services.sheets`), numbers bare. One row for the overall,
    each dimension and each criterion, with its completeness, target and changes."""
    header = ["office", "period", "instrument", "level", "code", "text", "answered",
              "satisfied", "no_answer", "n1", "n2", "n3", "n4", "n5", "index", "ci95_low",
              "ci95_high", "respondents", "low_sample", "complete", "missing",
              "target_operator", "target", "target_year", "target_inherited_from",
              "target_met", "target_gap"]
    for key in COMPARISONS:
        header += [f"change_{key}", f"change_{key}_low", f"change_{key}_high",
                   f"change_{key}_comparable", f"change_{key}_significant"]

    base = [report["office"]["code"], report["period"], report["instrument"]]
    lo, hi = report["overall_ci95"] or (None, None)
    rows: list[list[Any]] = [[
        *base, "overall", None, None, *[None] * 8, _num(report["overall"]), _num(lo),
        _num(hi), report["responses"], _flag(report["low_sample"]), _flag(report["complete"]),
        " ".join(report["missing"]), *_target_cells(report["target"]),
        *_change_cells(report["change"])]]
    for d in report["dimensions"]:
        lo, hi = d["ci95"] or (None, None)
        rows.append([*base, "dimension", d["code"], d["name"], *[None] * 8, _num(d["index"]),
                     _num(lo), _num(hi), d["respondents"], _flag(d["low_sample"]),
                     _flag(d["complete"]), " ".join(d["missing"]), *_target_cells(d["target"]),
                     *_change_cells(d["change"])])
    for c in report["criteria"]:
        lo, hi = c["ci95"] or (None, None)
        rows.append([*base, "criterion", c["code"], c["text"], c["answered"], c["satisfied"],
                     c["no_answer"], *[c["counts"][k] for k in "12345"], _num(c["index"]),
                     _num(lo), _num(hi), c["answered"], _flag(c["low_sample"]),
                     _flag(c["index"] is not None), "", *_target_cells(c["target"]),
                     *_change_cells(c["change"])])
    return csv_string(header, rows)

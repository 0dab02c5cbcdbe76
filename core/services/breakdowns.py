"""Breakdowns of a report's overall index by a field of the answers: the channel, the
procedure (as chosen on the form or paper row, case and spacing normalised) or a demographic
question of the instrument.

**Where the figures come from.** The monthly tallies are not kept per group (a tally per
demographic option would multiply the stored rows and the intake path's writes by every
question's options). A breakdown is instead one *bounded* query over the counted responses
of the office's subtree in the period's months, grouped in SQL by (group value, packed
answers) with a count: the rows read are at most the distinct answer patterns per group, and
only the group value and the packed answers are read (never a date, comment or identifier).
The per-group tallies and cross-tallies are then counted in memory, exactly as the stored
tallies are (:class:`core.scoring.CrossLayout`), so a group's ``overall`` is the same index
the report computes. Breakdowns are asked for explicitly (``--by``, ``?by=``, the
dashboard's picker); plain reports stay on the tallies.

**Privacy.** A group with fewer responses than the minimum sample is suppressed (its
``responses``, ``overall`` and ``complete`` are null), and suppression is complementary:
while the suppressed groups together hold some responses but fewer than the minimum sample,
the smallest group shown is suppressed too, so what the report's totals minus the groups
shown reveal is either nobody or at least the minimum sample (of at least two groups): no
suppressed figure can be recovered by subtraction.
Demographic breakdowns always list every option of the question (and "not given"), so a
group's presence tells nothing; procedures with fewer responses than the minimum sample are
never named: they are pooled into one "other procedures" group first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core import scoring
from core.errors import Invalid
from core.extensions import db
from core.instrument import Instrument
from core.models import Office, Response
from core.periods import Period
from core.services.common import get_instrument
from core.services.labels import channel_label
from core.services.pooling import pooled_responses, within
from core.services.reports import check_period, pick_instrument
from core.services.tallies import cross_layout

#: the value of the group of answers without the field, and of pooled small procedures
NOT_GIVEN = None
OTHER = "*other*"


def fields(instrument: Instrument) -> list[str]:
    """The fields a report may be broken down by."""
    return ["channel", "procedure", *[q.code for q in instrument.demographics]]


def field_label(instrument: Instrument, by: str, locale: str = "vi") -> str:
    if by == "channel":
        return _("Channel")
    if by == "procedure":
        return _("Procedure")
    q = instrument.demographic(by)
    return q.label.get(locale) if q else by


def normalise_procedure(text: str | None) -> str | None:
    """A procedure as grouped: spacing collapsed, case folded (None when empty)."""
    words = " ".join((text or "").split())
    return words.casefold() or None


def _patterns(office: Office, period: Period, instrument: Instrument, by: str
              ) -> dict[Any, dict[str, int]]:
    """group value -> packed answers -> responses (counted responses of the subtree)."""
    if by == "channel":
        column: Any = Response.channel
    elif by == "procedure":
        column = Response.procedure
    else:
        column = Response.demographics[by].as_string()
    query = within(sa.select(column, Response.answers, sa.func.count()),
                   Response.office_id, office.id)
    query = (query.where(Response.month.in_(list(period.months)),
                         Response.instrument_id == instrument.id,
                         Response.counted.is_(True))
             .group_by(column, Response.answers))
    out: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for value, answers, n in db.session.execute(query):
        if by == "procedure":
            value = normalise_procedure(value)
        elif value is not None:
            value = str(value)
        out[value][answers] += int(n)
    return out


def _score(instrument: Instrument, patterns: dict[str, int]) -> scoring.Scores:
    codes = instrument.criterion_codes
    counts = [[0] * 6 for _c in codes]
    slot = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "0": 5}
    for answers, n in patterns.items():
        for i, ch in enumerate(answers):
            counts[i][slot[ch]] += n
    tallies = {code: scoring.Tally(tuple(c[:5]), c[5])  # type: ignore[arg-type]
               for code, c in zip(codes, counts, strict=True) if any(c)}
    layout = cross_layout(instrument.id)
    cross = scoring.CrossTally(layout, tuple(layout.count_weighted(patterns.items())))
    return scoring.score(instrument.structure(), tallies, cross)


def suppress(sizes: list[int], min_sample: int) -> list[bool]:
    """Which groups (by their responses) are suppressed: those under ``min_sample``; then,
    while the suppressed groups together hold some responses but fewer than ``min_sample``
    (what the total minus the groups shown would reveal), the smallest group shown as well
    (complementary suppression). Their sum is then 0 (a group of nobody exposes no one) or
    at least ``min_sample``, which takes at least two groups under the minimum."""
    hidden = [n < min_sample for n in sizes]
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    while (0 < sum(n for n, h in zip(sizes, hidden, strict=True) if h) < min_sample
           and not all(hidden)):
        hidden[next(i for i in order if not hidden[i])] = True
    return hidden


def breakdown(office: Office, period: Period | str, by: str, instrument_id: str | None = None,
              locale: str = "vi") -> dict[str, Any]:
    """The report's breakdown by ``by``: {"by", "label", "groups": [{"value", "label",
    "responses", "overall", "complete", "suppressed"}]}. Raises Invalid(400) for an unknown
    field or period."""
    period = check_period(period)
    if instrument_id is None:  # as a report chooses: the one most answered in the period
        counts: dict[str, dict[str, int]] = {}
        for (iid,), n in pooled_responses(office.id, list(period.months),
                                          by=("instrument",)).items():
            counts[iid] = {"all": n}
        instrument = pick_instrument(counts, None)
    else:
        instrument = get_instrument(instrument_id)
    if by not in fields(instrument):
        raise Invalid("invalid_breakdown", _(
            "A report can be broken down by %(fields)s, not %(by)s.",
            fields=", ".join(fields(instrument)), by=by), fields={"by": _("unknown field")})
    min_sample = current_app.config["MIN_SAMPLE"]
    patterns = _patterns(office, period, instrument, by)
    groups: list[tuple[Any, str, dict[str, int]]] = []
    not_given = _("Not given")
    if by == "channel":
        groups = [(v, channel_label(v), patterns[v]) for v in sorted(patterns, key=str)]
    elif by == "procedure":
        other: dict[str, int] = defaultdict(int)
        named = []
        for value in sorted(v for v in patterns if v is not None):
            if sum(patterns[value].values()) >= min_sample:
                named.append((value, value, patterns[value]))
            else:
                for answers, n in patterns[value].items():
                    other[answers] += n
        groups = named
        if other:
            groups.append((OTHER, _("Other procedures (each with fewer than %(n)s "
                                    "responses)", n=min_sample), other))
        if None in patterns:
            groups.append((NOT_GIVEN, not_given, patterns[None]))
    else:
        question = instrument.demographic(by)
        assert question is not None
        known = {o.code for o in question.options}
        unknown: dict[str, int] = defaultdict(int)
        for value, pats in patterns.items():
            if value is not None and value not in known:  # never expected: kept honest
                for answers, n in pats.items():
                    unknown[answers] += n
        groups = [(o.code, o.label.get(locale), patterns.get(o.code, {}))
                  for o in question.options]
        missing = dict(patterns.get(None, {}))
        for answers, n in unknown.items():
            missing[answers] = missing.get(answers, 0) + n
        groups.append((NOT_GIVEN, not_given, missing))
    sizes = [sum(p.values()) for _v, _l, p in groups]
    hidden = suppress(sizes, min_sample)
    out = []
    for (value, label, pats), n, h in zip(groups, sizes, hidden, strict=True):
        if h:
            out.append({"value": value, "label": label, "responses": None, "overall": None,
                        "complete": None, "suppressed": True})
            continue
        scores = _score(instrument, pats)
        out.append({"value": value, "label": label, "responses": n,
                    "overall": scores.overall, "complete": scores.complete,
                    "suppressed": False})
    return {"by": by, "label": field_label(instrument, by, locale), "groups": out}


def add_breakdown(report: dict[str, Any], office: Office, by: str, locale: str = "vi"
                  ) -> dict[str, Any]:
    """Add ``"breakdown"`` by ``by`` to a report of ``office`` (same period and
    instrument). Raises Invalid(400) for an unknown field."""
    report["breakdown"] = breakdown(office, report["period"], by, report["instrument"], locale)
    return report

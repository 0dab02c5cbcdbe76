"""Partial responses: what a kiosk citizen answered before walking away.

When a kiosk's idle reset fires after the citizen finished at least one dimension, the
criterion answers of the finished dimensions are sent (through the tablet's offline queue and
the one door, :mod:`core.services.intake`) as a response flagged ``partial``: never a comment,
an expectation, a demographic answer or a contact. Like every answer it is held and mixed
(:mod:`core.services.mixing`), so it is no more traceable than a whole questionnaire.

People who leave are not a random sample, and dimension V always comes last, so partial
responses stay out of the tallies (and every figure) unless ``COUNT_PARTIAL`` is on. A report
says how many there were (``partial_responses``) and, on request (``include_partial``), gives
its figures with them included: their counts are read here from ``response`` and added to
the pooled tallies in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from core import scoring
from core.extensions import db
from core.models import MonthlyPartialCount, Response
from core.services.pooling import within, within_param
from core.services.tallies import cross_layout

_SLOT = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4}


def counting_partial() -> bool:
    """Whether partial responses are in the tallies (``COUNT_PARTIAL``)."""
    return bool(current_app.config["COUNT_PARTIAL"])


@dataclass
class PartialFigures:
    """The partial responses of one month and instrument, pooled over a subtree."""

    responses: int = 0
    channels: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)  # packed answers -> how many

    def tallies(self, codes: tuple[str, ...]) -> dict[str, scoring.Tally]:
        cells = [[0] * 6 for _ in codes]
        for packed, n in self.answers.items():
            for pos, ch in enumerate(packed):
                cells[pos][_SLOT.get(ch, 5)] += n
        return {code: scoring.Tally(tuple(c[:5]), c[5])  # type: ignore[arg-type]
                for code, c in zip(codes, cells, strict=True) if any(c)}


def partial_counts(office_id: int, months: Collection[str]) -> dict[str, int]:
    """month -> released partial responses (every instrument) in the office's subtree, from
    ``monthly_partial_count`` (never the answers themselves)."""
    return {month: int(n) for month, n in db.session.connection().execute(
        _PARTIAL_COUNTS, {"office": office_id, "months": sorted(months)})}


#: :func:`partial_counts`' query (every report runs it), built once
_PARTIAL_COUNTS = (
    within_param(sa.select(MonthlyPartialCount.month, sa.func.sum(MonthlyPartialCount.responses)),
                 MonthlyPartialCount.office_id, True)
    .where(MonthlyPartialCount.month.in_(sa.bindparam("months", expanding=True)))
    .group_by(MonthlyPartialCount.month))


def partial_figures(office_id: int, months: Collection[str], instrument_id: str
                    ) -> dict[str, PartialFigures]:
    """month -> the partial responses of ``instrument_id`` in the office's subtree."""
    query = within(sa.select(Response.month, Response.channel, Response.answers, sa.func.count()),
                   Response.office_id, office_id)
    query = (query.where(Response.month.in_(sorted(months)), Response.partial.is_(True),
                         Response.counted.is_(True), Response.instrument_id == instrument_id)
             .group_by(Response.month, Response.channel, Response.answers))
    out: dict[str, PartialFigures] = {}
    for month, channel, answers, n in db.session.execute(query):
        fig = out.setdefault(month, PartialFigures())
        fig.responses += n
        fig.channels[channel] += n
        fig.answers[answers] += n
    return out


def add_partial(tallies: dict[str, scoring.Tally], channels: dict[str, int],
                cross: scoring.CrossTally | None, partial: PartialFigures,
                codes: tuple[str, ...], instrument_id: str
                ) -> tuple[dict[str, scoring.Tally], dict[str, int], scoring.CrossTally | None]:
    """The pooled figures of a month with its partial responses added (new objects)."""
    merged = dict(tallies)
    for code, t in partial.tallies(codes).items():
        merged[code] = merged[code] + t if code in merged else t
    chans = dict(channels)
    for channel, n in partial.channels.items():
        chans[channel] = chans.get(channel, 0) + n
    layout = cross_layout(instrument_id)
    extra = layout.count_weighted(partial.answers.items())
    if cross is None:
        both = scoring.CrossTally(layout, tuple(extra)) if not sum(channels.values()) else None
    else:
        both = scoring.CrossTally(layout, tuple(a + b for a, b in
                                                zip(cross.counts, extra, strict=True)))
    return merged, chans, both

"""Where a head stands: the city figure, the median of the office's peers and its rank.

Peers are the other active offices of the same level (communes with communes, districts with
districts...), each pooled with its own subtree. A peer counts only with "enough answers": a
complete overall index on at least ``MIN_SAMPLE`` responses. The median and the rank are
given only when at least ``PEER_MIN_OFFICES`` (5) peers count, and the rank only when the
office itself counts (by the displayed index, equal values sharing a rank).

Only aggregates leave this module: the city's figure, the peers' median, how many peers
counted, the office's rank among them. Never a peer's code, name or figure (the scope rules
are unchanged: a head still cannot open another office's results).
"""

from __future__ import annotations

import statistics
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from flask import current_app

from core import scoring
from core.extensions import db
from core.models import Office
from core.services.common import get_instrument
from core.services.pooling import pooled_cross_tallies, pooled_responses, pooled_tallies


def overall_by_office(ids: list[int], months: Collection[str], instrument_id: str
                      ) -> dict[int, tuple[float | None, bool]]:
    """Office id -> (overall index, enough answers) of each office's subtree."""
    instrument = get_instrument(instrument_id)
    tallies = pooled_tallies(ids, months, instrument_id, by=("office",))
    cross = pooled_cross_tallies(ids, months, instrument_id, by=("office",))
    counts = pooled_responses(ids, months, by=("office",), instrument_id=instrument_id)
    min_sample = current_app.config["MIN_SAMPLE"]
    out = {}
    for oid in ids:
        n = counts.get((oid,), 0)
        x = cross.get((oid,))
        scores = scoring.score(instrument.structure(), tallies.get((oid,), {}),
                               x if x is not None and x.respondents == n else None)
        out[oid] = (scores.overall, scores.overall is not None and scores.complete
                    and n >= min_sample)
    return out


def peer_standing(office: Office, months: Collection[str], instrument_id: str
                  ) -> dict[str, Any]:
    """{"level", "city", "city_enough", "peers_counted", "min_peers", "median", "rank",
    "of"}: aggregates only (see the module's description)."""
    min_peers = int(current_app.config["PEER_MIN_OFFICES"])
    root = db.session.scalar(sa.select(Office).where(Office.parent_id.is_(None))
                             .order_by(Office.id).limit(1))
    peer_ids = list(db.session.scalars(
        sa.select(Office.id).where(Office.level == office.level, Office.active.is_(True),
                                   Office.id != office.id).order_by(Office.id)))
    ids = sorted({office.id, *peer_ids, *([root.id] if root is not None else [])})
    figures = overall_by_office(ids, months, instrument_id)
    city, city_enough = figures.get(root.id, (None, False)) if root is not None else (None,
                                                                                       False)
    counted = [figures[i][0] for i in peer_ids if figures[i][1]]
    out: dict[str, Any] = {"level": office.level, "city": city, "city_enough": city_enough,
                           "peers_counted": len(counted), "min_peers": min_peers,
                           "median": None, "rank": None, "of": None}
    if len(counted) < min_peers:
        return out
    out["median"] = statistics.median(counted)
    own, enough = figures[office.id]
    if enough and own is not None:
        mine = scoring.displayed(own)
        out["rank"] = 1 + sum(1 for v in counted if scoring.displayed(v) > mine)
        out["of"] = len(counted) + 1
    return out

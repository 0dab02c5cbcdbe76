"""Pooling over the office tree: an office's figures are the sum of its subtree's, grouped
by month, pooled office, instrument or channel."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Response
from core.scoring import Tally
from core.services.pooling import pooled_responses, pooled_tallies, within
from core.timeutil import shift_month
from tests.admin.fixtures import make_responses


def _sum(tallies: list[dict[str, Tally]]) -> dict[str, Tally]:
    out: dict[str, Tally] = {}
    for t in tallies:
        for code, tally in t.items():
            out[code] = out.get(code, Tally()) + tally
    return out


def test_subtree_pooling_equals_the_sum_of_its_leaves(world, offices, instrument):
    m = world["month"]
    leaves = ("STP", "BD-KM", "BD-DB")
    one = {code: pooled_tallies(offices[code].id, m, instrument.id)[()] for code in leaves}
    city = pooled_tallies(offices["HN"].id, m, instrument.id)[()]
    assert city == _sum(list(one.values()))
    assert pooled_tallies(offices["BD"].id, m, instrument.id)[()] == \
        _sum([one["BD-KM"], one["BD-DB"]])
    # the seed: I.1 in the city = 30 x 5 + 5 x 2 + 1 x 4 (BD-KM), 4 x 3 (BD-DB), 12 x 4 (STP)
    assert city["I.1"] == Tally((0, 5, 4, 13, 30), 0)
    assert city["V.4"] == Tally((0, 0, 0, 0, 0), 52)
    responses = {code: pooled_responses(offices[code].id, m)[()] for code in leaves}
    assert responses == {"STP": 12, "BD-KM": 36, "BD-DB": 4}
    assert pooled_responses(offices["HN"].id, m) == {(): 52}


def test_grouping_by_pooled_office_month_and_channel(world, offices, instrument):
    m = world["month"]
    earlier = shift_month(m, -1)
    make_responses(instrument, offices["BD-DB"], earlier, 3, sat=5, channel="web")
    bd, km, db_ = offices["BD"].id, offices["BD-KM"].id, offices["BD-DB"].id
    by_office = pooled_tallies([km, db_], m, instrument.id, by=("office",))
    assert set(by_office) == {(km,), (db_,)}
    assert by_office[(db_,)]["I.1"] == Tally((0, 0, 4, 0, 0), 0)
    assert pooled_responses([bd, km], m, by=("office",)) == {(bd,): 40, (km,): 36}
    by_month = pooled_tallies(bd, [earlier, m], instrument.id, by=("month",))
    assert by_month[(earlier,)]["I.1"] == Tally((0, 0, 0, 0, 3), 0)
    assert by_month[(m,)]["I.1"] == pooled_tallies(bd, m, instrument.id)[()]["I.1"]
    assert pooled_responses(bd, [earlier, m], by=("month", "channel")) == {
        (earlier, "web"): 3, (m, "kiosk"): 31, (m, "qr"): 5, (m, "paper"): 4}
    assert pooled_responses(bd, [earlier, m], by=("instrument",)) == {(instrument.id,): 43}
    assert pooled_responses(bd, m, instrument_id="another-2030") == {}
    assert pooled_tallies(bd, "2019-01", instrument.id) == {}


def test_grouping_by_an_unknown_key_is_refused(app, offices, instrument):
    with pytest.raises(ValueError, match="channel"):
        pooled_tallies(offices["HN"].id, "2022-07", instrument.id, by=("channel",))
    with pytest.raises(ValueError, match="criterion"):
        pooled_responses(offices["HN"].id, "2022-07", by=("criterion",))


def test_within_restricts_raw_rows_to_the_subtree(world, offices):
    m = world["month"]

    def count(office_ids):
        query = within(sa.select(sa.func.count(Response.id)), Response.office_id, office_ids)
        return db.session.scalar(query.where(Response.month == m))

    assert count(offices["BD"].id) == 40 and count(offices["BD-KM"].id) == 36
    assert count(offices["HN"].id) == 52 and count(offices["STP"].id) == 12
    assert count([offices["BD"].id, offices["STP"].id]) == 52

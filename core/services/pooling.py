"""Pooling over the office tree: one office and everything below it, read through the
closure table (:class:`core.models.OfficeClosure`).

Every report reads its figures here: the monthly tallies of a set of offices' subtrees for a
set of months, summed and grouped by a chosen key (month, pooled office, instrument,
channel). Raw-response queries (comments, expectations, the anonymised download) restrict
themselves to a subtree with :func:`within`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from core import scoring
from core.extensions import db
from core.models import MonthlyChannelCount, MonthlyCrossTally, MonthlyTally, OfficeClosure
from core.services.tallies import COUNT_COLUMNS, cross_layout

#: what the pooled rows may be grouped by; "office" is the pooled office (the subtree's top)
GROUP_KEYS = ("office", "month", "instrument", "channel")


def within(query: sa.Select, office_column: Any, offices: int | Collection[int]) -> sa.Select:
    """``query`` restricted to rows whose ``office_column`` is one of ``offices`` or below
    one of them. With several offices, ``OfficeClosure.ancestor_id`` in the query tells
    which one a row is pooled under (a row under two of them appears twice)."""
    query = query.join(OfficeClosure, OfficeClosure.descendant_id == office_column)
    if isinstance(offices, int):
        return query.where(OfficeClosure.ancestor_id == offices)
    return query.where(OfficeClosure.ancestor_id.in_(list(offices)))


def _months(months: str | Collection[str]) -> list[str]:
    return [months] if isinstance(months, str) else sorted(months)


#: the pooled queries, built once per shape (kind, grouping, one office or several,
#: instrument filter) with bound parameters: building and hashing a statement cost more
#: than running it on a commune's month (:func:`_pooled`)
_SHAPES: dict[tuple, Any] = {}
_MONTHS = sa.bindparam("months", expanding=True)


def within_param(query: sa.Select, office_column: Any, one: bool) -> sa.Select:
    """:func:`within` with the offices as a bound parameter (``office`` or ``offices``)."""
    query = query.join(OfficeClosure, OfficeClosure.descendant_id == office_column)
    if one:
        return query.where(OfficeClosure.ancestor_id == sa.bindparam("office"))
    return query.where(OfficeClosure.ancestor_id.in_(sa.bindparam("offices", expanding=True)))


def _pooled(shape: tuple, build, offices: int | Collection[int],
            months: str | Collection[str], **params: Any):
    """Run the pooled query of ``shape`` (built by ``build(one)`` the first time, ``one``
    telling whether it pools one office) for ``offices`` and ``months``."""
    one = isinstance(offices, int)
    key = (*shape, one)
    query = _SHAPES.get(key)
    if query is None:
        query = _SHAPES[key] = build(one)
    params["months"] = _months(months)
    if one:
        params["office"] = offices
    else:
        params["offices"] = list(offices)  # type: ignore[arg-type]
    return db.session.connection().execute(query, params)


def _group_columns(table: Any, by: Sequence[str]) -> list[Any]:
    columns = {"office": OfficeClosure.ancestor_id, "month": table.month,
               "instrument": table.instrument_id}
    if table is MonthlyCrossTally:
        del columns["instrument"]
    if table is MonthlyChannelCount:
        columns["channel"] = MonthlyChannelCount.channel
    try:
        return [columns[key] for key in by]
    except KeyError as exc:
        raise ValueError(f"cannot group {table.__tablename__} by {exc.args[0]!r} "
                         f"(one of {', '.join(columns)})") from None


def pooled_tallies(offices: int | Collection[int], months: str | Collection[str],
                   instrument_id: str, by: Sequence[str] = ()
                   ) -> dict[tuple, dict[str, scoring.Tally]]:
    """Answer counts of one instrument, pooled over each office's subtree and the months.

    Returns group -> criterion code -> :class:`core.scoring.Tally`, where group is the tuple
    of the ``by`` keys' values (``()`` without grouping). Groups without answers are absent.
    Raises ValueError for a key that is not one of "office", "month", "instrument".
    """
    groups = _group_columns(MonthlyTally, by)

    def build(one: bool) -> sa.Select:
        sums = [sa.func.sum(getattr(MonthlyTally, c)) for c in COUNT_COLUMNS]
        query = within_param(sa.select(*groups, MonthlyTally.criterion, *sums),
                             MonthlyTally.office_id, one)
        return (query.where(MonthlyTally.month.in_(_MONTHS),
                            MonthlyTally.instrument_id == sa.bindparam("instrument"))
                .group_by(*groups, MonthlyTally.criterion))

    out: dict[tuple, dict[str, scoring.Tally]] = {}
    width = len(groups)
    for row in _pooled(("tallies", *by), build, offices, months, instrument=instrument_id):
        key, code, counts = tuple(row[:width]), row[width], row[width + 1:]
        out.setdefault(key, {})[code] = scoring.Tally(
            tuple(int(x or 0) for x in counts[:5]), int(counts[5] or 0))  # type: ignore[arg-type]
    return out


def pooled_responses(offices: int | Collection[int], months: str | Collection[str],
                     by: Sequence[str] = (), instrument_id: str | None = None
                     ) -> dict[tuple, int]:
    """Counted responses pooled over each office's subtree and the months (every instrument,
    or only ``instrument_id``). Returns group -> responses, group being the tuple of the
    ``by`` keys' values; groups without responses are absent.
    Raises ValueError for a key that is not one of :data:`GROUP_KEYS`."""
    groups = _group_columns(MonthlyChannelCount, by)

    def build(one: bool) -> sa.Select:
        query = within_param(sa.select(*groups, sa.func.sum(MonthlyChannelCount.responses)),
                             MonthlyChannelCount.office_id, one)
        query = query.where(MonthlyChannelCount.month.in_(_MONTHS))
        if instrument_id is not None:
            query = query.where(MonthlyChannelCount.instrument_id == sa.bindparam("instrument"))
        return query.group_by(*groups) if groups else query

    width = len(groups)
    params = {} if instrument_id is None else {"instrument": instrument_id}
    rows = _pooled(("responses", *by, instrument_id is not None), build, offices, months,
                   **params)
    return {tuple(row[:width]): int(row[width]) for row in rows if row[width] is not None}


def pooled_cross_tallies(offices: int | Collection[int], months: str | Collection[str],
                         instrument_id: str, by: Sequence[str] = ()
                         ) -> dict[tuple, scoring.CrossTally]:
    """Cross-tallies of one instrument (:class:`core.scoring.CrossLayout`), pooled over each
    office's subtree and the months like :func:`pooled_tallies`. The packed counts are read
    and added in Python (:meth:`core.scoring.CrossLayout.sum_packed`: one long-integer
    addition per stored row), which costs far less than summing 276 pair rows per office-month
    in SQL. Returns group -> :class:`core.scoring.CrossTally`; groups without rows are absent.
    Raises ValueError for a key that is not one of "office", "month"."""
    groups = _group_columns(MonthlyCrossTally, by)

    def build(one: bool) -> sa.Select:
        query = within_param(sa.select(*groups, MonthlyCrossTally.counts),
                             MonthlyCrossTally.office_id, one)
        return query.where(MonthlyCrossTally.month.in_(_MONTHS),
                           MonthlyCrossTally.instrument_id == sa.bindparam("instrument"))

    width = len(groups)
    packed: dict[tuple, list[bytes]] = {}
    for row in _pooled(("cross", *by), build, offices, months, instrument=instrument_id):
        packed.setdefault(tuple(row[:width]), []).append(bytes(row[width]))
    layout = cross_layout(instrument_id)
    return {key: scoring.CrossTally(layout, tuple(layout.sum_packed(blobs)))
            for key, blobs in packed.items()}

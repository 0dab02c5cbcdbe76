"""Monthly tallies: kept in the same transaction as every insert, rebuildable from raw rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.models import MonthlyChannelCount, MonthlyTally, Response
from core.services.common import registry, upsert

COUNT_COLUMNS = ("n1", "n2", "n3", "n4", "n5", "n_none")
_CHUNK = 400


@dataclass(frozen=True)
class TallyRow:
    """What one stored response adds to the tallies."""

    office_id: int
    month: str
    instrument_id: str
    channel: str
    answers: str


class TallyAccumulator:
    """Sums responses in memory, then writes them with one upsert per chunk."""

    def __init__(self) -> None:
        self.criteria: dict[tuple[int, str, str, str], list[int]] = defaultdict(lambda: [0] * 6)
        self.channels: dict[tuple[int, str, str, str], int] = defaultdict(int)

    def add(self, row: TallyRow, weight: int = 1) -> None:
        codes = registry().get(row.instrument_id).criterion_codes
        for code, ch in zip(codes, row.answers, strict=True):
            slot = 5 if ch == "0" else int(ch) - 1
            self.criteria[(row.office_id, row.month, row.instrument_id, code)][slot] += weight
        self.channels[(row.office_id, row.month, row.instrument_id, row.channel)] += weight

    def write(self, session: Session) -> None:
        """Add the sums to the stored tallies (sorted keys: a fixed lock order on PostgreSQL)."""
        crit_rows = [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "criterion": k[3],
             **dict(zip(COUNT_COLUMNS, v, strict=True))}
            for k, v in sorted(self.criteria.items())
        ]
        for start in range(0, len(crit_rows), _CHUNK):
            stmt = upsert(session, MonthlyTally).values(crit_rows[start:start + _CHUNK])
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "criterion"],
                set_={c: getattr(MonthlyTally, c) + getattr(stmt.excluded, c)
                      for c in COUNT_COLUMNS})
            session.execute(stmt)
        chan_rows = [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "channel": k[3],
             "responses": v} for k, v in sorted(self.channels.items())
        ]
        for start in range(0, len(chan_rows), _CHUNK):
            stmt = upsert(session, MonthlyChannelCount).values(chan_rows[start:start + _CHUNK])
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "channel"],
                set_={"responses": MonthlyChannelCount.responses + stmt.excluded.responses})
            session.execute(stmt)
        self.criteria.clear()
        self.channels.clear()


def add_to_tallies(session: Session, rows: Iterable[TallyRow]) -> None:
    acc = TallyAccumulator()
    for row in rows:
        acc.add(row)
    acc.write(session)


def _snapshot(session: Session) -> set[tuple]:
    crit = session.execute(sa.select(
        MonthlyTally.office_id, MonthlyTally.month, MonthlyTally.instrument_id,
        MonthlyTally.criterion, *[getattr(MonthlyTally, c) for c in COUNT_COLUMNS]))
    chan = session.execute(sa.select(
        MonthlyChannelCount.office_id, MonthlyChannelCount.month,
        MonthlyChannelCount.instrument_id, MonthlyChannelCount.channel,
        MonthlyChannelCount.responses))
    return {("c", *r) for r in crit} | {("ch", *r) for r in chan}


def rebuild_tallies(session: Session) -> int:
    """Recompute every tally from the counted responses, in one scan per instrument, and
    commit. Returns how many tally rows differed from what was stored (0 = they were right).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE response IN SHARE MODE"))
    before = _snapshot(session)
    session.execute(sa.delete(MonthlyTally))
    session.execute(sa.delete(MonthlyChannelCount))
    instrument_ids = session.scalars(sa.select(Response.instrument_id).distinct()).all()
    for iid in instrument_ids:
        codes = registry().get(iid).criterion_codes
        sums = []
        for pos in range(1, len(codes) + 1):
            digit = sa.func.substr(Response.answers, pos, 1)
            sums.extend(sa.func.sum(sa.case((digit == ch, 1), else_=0)) for ch in "123450")
        query = (sa.select(Response.office_id, Response.month, *sums)
                 .where(Response.instrument_id == iid, Response.counted.is_(True))
                 .group_by(Response.office_id, Response.month))
        rows = []
        for office_id, month, *counts in session.execute(query):
            for i, code in enumerate(codes):
                rows.append({"office_id": office_id, "month": month, "instrument_id": iid,
                             "criterion": code,
                             **dict(zip(COUNT_COLUMNS, counts[6 * i:6 * i + 6], strict=True))})
        for start in range(0, len(rows), _CHUNK * 5):
            session.execute(sa.insert(MonthlyTally), rows[start:start + _CHUNK * 5])
    chan_query = (sa.select(Response.office_id, Response.month, Response.instrument_id,
                            Response.channel, sa.func.count())
                  .where(Response.counted.is_(True))
                  .group_by(Response.office_id, Response.month, Response.instrument_id,
                            Response.channel))
    chan_rows = [{"office_id": o, "month": m, "instrument_id": i, "channel": c, "responses": n}
                 for o, m, i, c, n in session.execute(chan_query)]
    if chan_rows:
        session.execute(sa.insert(MonthlyChannelCount), chan_rows)
    after = _snapshot(session)
    session.commit()
    return len(before ^ after)

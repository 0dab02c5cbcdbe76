"""Monthly tallies: kept in the same transaction as every insert, rebuildable from raw rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.models import MonthlyChannelCount, MonthlyTally, Response
from core.services.common import registry, upsert

COUNT_COLUMNS = ("n1", "n2", "n3", "n4", "n5", "n_none")


@dataclass(frozen=True)
class TallyRow:
    """What one stored response adds to the tallies."""

    office_id: int
    month: str
    instrument_id: str
    channel: str
    answers: str


class TallyAccumulator:
    """Sums responses in memory, then writes them with one upsert per chunk.

    Counts are kept per (office, month, instrument) as one flat list of 6 slots per criterion
    (levels 1-5, then no-answer), so adding a response is one dict lookup and one pass over
    its answers.
    """

    _SLOT = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "0": 5}

    def __init__(self) -> None:
        self.cells: dict[tuple[int, str, str], list[int]] = {}
        self.channels: dict[tuple[int, str, str, str], int] = defaultdict(int)
        self._codes: dict[str, tuple[str, ...]] = {}

    def add(self, row: TallyRow, weight: int = 1) -> None:
        key = (row.office_id, row.month, row.instrument_id)
        cells = self.cells.get(key)
        if cells is None:
            if row.instrument_id not in self._codes:
                self._codes[row.instrument_id] = registry().get(row.instrument_id).criterion_codes
            cells = self.cells[key] = [0] * (6 * len(self._codes[row.instrument_id]))
        if len(row.answers) * 6 != len(cells):
            raise ValueError(f"answers of length {len(row.answers)} do not fit "
                             f"instrument {row.instrument_id}")
        slot = self._SLOT
        for pos, ch in enumerate(row.answers):
            cells[pos * 6 + slot[ch]] += weight
        self.channels[(row.office_id, row.month, row.instrument_id, row.channel)] += weight

    @property
    def criteria(self) -> dict[tuple[int, str, str, str], list[int]]:
        """(office, month, instrument, criterion) -> [n1..n5, n_none], non-empty rows only."""
        out = {}
        for (office_id, month, iid), cells in self.cells.items():
            for i, code in enumerate(self._codes[iid]):
                counts = cells[6 * i:6 * i + 6]
                if any(counts):
                    out[(office_id, month, iid, code)] = counts
        return out

    def write(self, session: Session) -> None:
        """Add the sums to the stored tallies: one compiled upsert, executed for many rows
        (sorted keys give a fixed lock order on PostgreSQL)."""
        crit_rows = [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "criterion": k[3],
             **dict(zip(COUNT_COLUMNS, v, strict=True))}
            for k, v in sorted(self.criteria.items())
        ]
        if crit_rows:
            session.connection().execute(_upsert_statement(session, "tally"), crit_rows)
        chan_rows = [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "channel": k[3],
             "responses": v} for k, v in sorted(self.channels.items())
        ]
        if chan_rows:
            session.connection().execute(_upsert_statement(session, "channel"), chan_rows)
        self.cells.clear()
        self.channels.clear()


_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert_statement(session: Session, kind: str) -> Any:
    """The tally upserts, built once per dialect (building one, ``excluded`` especially,
    costs several milliseconds: more than executing it for a single response)."""
    key = (session.get_bind().dialect.name, kind)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        if kind == "tally":
            stmt = upsert(session, MonthlyTally)
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "criterion"],
                set_={c: getattr(MonthlyTally, c) + getattr(stmt.excluded, c)
                      for c in COUNT_COLUMNS})
        else:
            stmt = upsert(session, MonthlyChannelCount)
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "channel"],
                set_={"responses": MonthlyChannelCount.responses + stmt.excluded.responses})
        _UPSERTS[key] = stmt
    return stmt


def add_to_tallies(session: Session, rows: Iterable[TallyRow]) -> None:
    rows = list(rows)
    if len(rows) == 1:  # one response (every live submission): no accumulator needed
        _add_one(session, rows[0])
        return
    acc = TallyAccumulator()
    for row in rows:
        acc.add(row)
    acc.write(session)


_ONE_HOT: dict[str, tuple[tuple[int, str, dict[str, tuple[int, ...]]], ...]] = {}


def _one_hot(instrument_id: str) -> tuple[tuple[int, str, dict[str, tuple[int, ...]]], ...]:
    """Per instrument, built once: for each criterion in code order (the lock order
    :meth:`TallyAccumulator.write` uses), its position in the packed answers and, for each
    answer character, the counts one response adds (n1..n5, n_none)."""
    plan = _ONE_HOT.get(instrument_id)
    if plan is None:
        codes = registry().get(instrument_id).criterion_codes
        counts = {ch: tuple(int(i == slot) for i in range(len(COUNT_COLUMNS)))
                  for ch, slot in TallyAccumulator._SLOT.items()}
        plan = _ONE_HOT[instrument_id] = tuple(
            (pos, code, counts) for code, pos in sorted((c, p) for p, c in enumerate(codes)))
    return plan


def _raw_upserts(dialect: str) -> tuple[str, str]:
    """The two tally upserts as driver SQL (constants only; values are parameters)."""
    mark = "?" if dialect == "sqlite" else "%s"
    keys = "office_id, month, instrument_id"
    tally = (f"INSERT INTO monthly_tally ({keys}, criterion, {', '.join(COUNT_COLUMNS)}) "  # noqa: S608
             f"VALUES ({', '.join([mark] * (4 + len(COUNT_COLUMNS)))}) "
             f"ON CONFLICT ({keys}, criterion) DO UPDATE SET "
             + ", ".join(f"{c} = monthly_tally.{c} + excluded.{c}" for c in COUNT_COLUMNS))
    channel = (f"INSERT INTO monthly_channel_count ({keys}, channel, responses) "  # noqa: S608
               f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) "
               f"ON CONFLICT ({keys}, channel) DO UPDATE SET "
               "responses = monthly_channel_count.responses + excluded.responses")
    return tally, channel


_RAW: dict[str, tuple[str, str]] = {}


def _add_one(session: Session, row: TallyRow) -> None:
    """What :class:`TallyAccumulator` writes for a single response, without summing: the
    precomputed rows go straight to the driver (SQLAlchemy's per-parameter processing of 24
    rows cost more than the database work)."""
    plan = _one_hot(row.instrument_id)
    if len(row.answers) != len(plan):
        raise ValueError(f"answers of length {len(row.answers)} do not fit "
                         f"instrument {row.instrument_id}")
    conn = session.connection()
    dialect = conn.dialect.name
    sql = _RAW.get(dialect)
    if sql is None:
        sql = _RAW[dialect] = _raw_upserts(dialect)
    key = (row.office_id, row.month, row.instrument_id)
    answers = row.answers
    conn.exec_driver_sql(sql[0], [(*key, code, *counts[answers[pos]])
                                  for pos, code, counts in plan])
    conn.exec_driver_sql(sql[1], [(*key, row.channel, 1)])


def _snapshot(session: Session) -> set[tuple]:
    crit = session.execute(sa.select(
        MonthlyTally.office_id, MonthlyTally.month, MonthlyTally.instrument_id,
        MonthlyTally.criterion, *[getattr(MonthlyTally, c) for c in COUNT_COLUMNS])).all()
    chan = session.execute(sa.select(
        MonthlyChannelCount.office_id, MonthlyChannelCount.month,
        MonthlyChannelCount.instrument_id, MonthlyChannelCount.channel,
        MonthlyChannelCount.responses)).all()
    return {("c", *r) for r in crit} | {("ch", *r) for r in chan}


def rebuild_tallies(session: Session) -> int:
    """Recompute every tally from the counted responses and commit.

    One streamed scan of ``response`` feeds a :class:`TallyAccumulator` (SQL that splits the
    packed answers per criterion was measured 10-40x slower on SQLite). Writers are held off
    meanwhile (PostgreSQL: SHARE lock; SQLite: the write lock of BEGIN IMMEDIATE).
    Returns how many tally rows differed from what was stored (0 = they were right).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE response IN SHARE MODE"))
    before = _snapshot(session)
    session.execute(sa.delete(MonthlyTally))
    session.execute(sa.delete(MonthlyChannelCount))
    acc = TallyAccumulator()
    query = (sa.select(Response.office_id, Response.month, Response.instrument_id,
                       Response.channel, Response.answers)
             .where(Response.counted.is_(True)))
    for office_id, month, iid, channel, answers in session.execute(
            query, execution_options={"yield_per": 20_000}):
        acc.add(TallyRow(office_id, month, iid, channel, answers))
    acc.write(session)
    after = _snapshot(session)
    session.commit()
    return len(before ^ after)

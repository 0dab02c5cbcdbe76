"""Monthly tallies: kept in the same transaction as every insert, rebuildable from raw rows.

Four tables, all sums over an office-month's counted answers, written together:
``monthly_tally`` (answer counts per criterion), ``monthly_channel_count`` (responses per
channel), ``monthly_cross_tally`` (pairs of criteria answered by the same respondents, for
respondent-level intervals: :class:`core.scoring.CrossLayout`) and
``monthly_expectation_tally`` (answers per expectation area and level, and respondents); with
them ``monthly_priority_tally`` (each criterion's answer against the mean of the respondent's
other answers, for "what to fix first": :mod:`core.services.priorities`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from core import scoring
from core.models import (
    MonthlyChannelCount,
    MonthlyCrossTally,
    MonthlyExpectationTally,
    MonthlyPartialCount,
    MonthlyPriorityTally,
    MonthlyTally,
    Response,
)
from core.services import priorities
from core.services.common import registry, upsert
from core.services.packed import add_packed, subtract_packed

COUNT_COLUMNS = ("n1", "n2", "n3", "n4", "n5", "n_none")
#: distinct answer strings waiting in memory for the cross-tally before they are counted
#: (bounded memory: about 80 bytes each; counting costs per office-month and batch, so a batch
#: should hold many answers of each)
_CROSS_BUFFER = 500_000
_LAYOUTS: dict[str, scoring.CrossLayout] = {}


def cross_layout(instrument_id: str) -> scoring.CrossLayout:
    """The cross-tally layout of an instrument (built once)."""
    layout = _LAYOUTS.get(instrument_id)
    if layout is None:
        layout = _LAYOUTS[instrument_id] = scoring.CrossLayout(
            registry().get(instrument_id).structure())
    return layout


@dataclass(frozen=True)
class TallyRow:
    """What one stored response adds to the tallies."""

    office_id: int
    month: str
    instrument_id: str
    channel: str
    answers: str
    #: the response's expectations (area code -> level), if it answered any
    expectations: Mapping[str, Any] | None = None


class TallyAccumulator:
    """Sums responses in memory, then writes them with one upsert per chunk.

    Adding a response only counts its answer string per (office, month, instrument); the
    answer counts (one flat list of 6 slots per criterion: levels 1-5, then no-answer), the
    cross-tally and the priority tally are made from those strings a batch at a time
    (:meth:`count_cross`), column by column at C speed.
    """

    _SLOT = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "0": 5}

    def __init__(self) -> None:
        self.cells: dict[tuple[int, str, str], list[int]] = {}
        self.channels: dict[tuple[int, str, str, str], int] = defaultdict(int)
        self._codes: dict[str, tuple[str, ...]] = {}
        #: cross-tally counts per (office, month, instrument), and answers not counted yet
        self.cross: dict[tuple[int, str, str], list[int]] = {}
        self.priority: dict[tuple[int, str, str], list[int]] = {}
        self._waiting: dict[tuple[int, str, str], dict[str, int]] = defaultdict(dict)
        self._n_waiting = 0
        #: (office, month, instrument, area, level) -> answers; area "" level 0: respondents
        self.expectations: dict[tuple[int, str, str, str, int], int] = defaultdict(int)
        self._exp_plan: dict[str, tuple[frozenset[str], frozenset[int]]] = {}

    def _criterion_codes(self, instrument_id: str) -> tuple[str, ...]:
        codes = self._codes.get(instrument_id)
        if codes is None:
            codes = self._codes[instrument_id] = registry().get(instrument_id).criterion_codes
        return codes

    def add(self, row: TallyRow, weight: int = 1) -> None:
        key = (row.office_id, row.month, row.instrument_id)
        if len(row.answers) != len(self._codes.get(row.instrument_id)
                                   or self._criterion_codes(row.instrument_id)):
            raise ValueError(f"answers of length {len(row.answers)} do not fit "
                             f"instrument {row.instrument_id}")
        self.channels[(row.office_id, row.month, row.instrument_id, row.channel)] += weight
        waiting = self._waiting[key]
        seen = waiting.get(row.answers)
        if seen is None:
            waiting[row.answers] = weight
            self._n_waiting += 1
        else:
            waiting[row.answers] = seen + weight
        if self._n_waiting >= _CROSS_BUFFER:
            self.count_cross()
        if row.expectations and isinstance(row.expectations, Mapping):
            self.add_expectations(key, row.expectations, weight)

    def add_plain(self, office_id: int, month: str, instrument_id: str, channel: str,
                  answers: Iterable[str]) -> None:
        """What :meth:`add` does for responses of one office, month, instrument and channel
        without expectations, each once (a paper import's rows)."""
        key = (office_id, month, instrument_id)
        width = len(self._criterion_codes(instrument_id))
        waiting = self._waiting[key]
        before, n = len(waiting), 0
        get = waiting.get
        for text in answers:
            if len(text) != width:
                raise ValueError(f"answers of length {len(text)} do not fit "
                                 f"instrument {instrument_id}")
            waiting[text] = get(text, 0) + 1
            n += 1
        self.channels[(office_id, month, instrument_id, channel)] += n
        self._n_waiting += len(waiting) - before
        if self._n_waiting >= _CROSS_BUFFER:
            self.count_cross()

    def add_expectations(self, key: tuple[int, str, str], expectations: Mapping[str, Any],
                         weight: int = 1) -> None:
        """Count one response's expectations: its areas and levels that the instrument
        has (others are ignored, as the dashboard always did) and the respondent."""
        plan = self._exp_plan.get(key[2])
        if plan is None:
            inst = registry().get(key[2])
            plan = self._exp_plan[key[2]] = (
                frozenset(inst.expectation_area_codes()),
                frozenset(v for v, _label in inst.expectation_levels))
        areas, levels = plan
        sums = self.expectations
        sums[(*key, "", 0)] += weight
        for area, level in expectations.items():
            try:
                if area in areas and level in levels:
                    sums[(*key, area, int(level))] += weight
            except TypeError:  # an unhashable level: not one of the instrument's
                continue

    def count_cross(self) -> dict[tuple[int, str, str], list[int]]:
        """Count the waiting answers (answer counts, cross-tally as bit sets, priority
        tally); returns the cross-tally counts so far, (office, month, instrument) ->
        counts."""
        for key, answers in self._waiting.items():
            self._count_cells(key, answers)
            counts = cross_layout(key[2]).count_weighted(answers.items())
            have = self.cross.get(key)
            self.cross[key] = counts if have is None else [
                a + b for a, b in zip(have, counts, strict=True)]
            counts = priorities.count(key[2], answers.items())
            have = self.priority.get(key)
            self.priority[key] = counts if have is None else [
                a + b for a, b in zip(have, counts, strict=True)]
        self._waiting.clear()
        self._n_waiting = 0
        return self.cross

    def _count_cells(self, key: tuple[int, str, str], answers: dict[str, int]) -> None:
        """Add answer strings (-> times given) to the answer counts of ``key``: the strings
        given the same number of times are joined and each criterion's column (every k-th
        character) counted at once. Raises ValueError for a character other than 0-5."""
        k = len(self._criterion_codes(key[2]))
        cells = self.cells.get(key)
        if cells is None:
            cells = self.cells[key] = [0] * (6 * k)
        by_times: dict[int, list[str]] = defaultdict(list)
        for text, times in answers.items():
            by_times[times].append(text)
        slots = tuple(self._SLOT.items())
        for times, texts in by_times.items():
            joined = "".join(texts)
            for pos in range(k):
                column = joined[pos::k]
                at = 6 * pos
                found = 0
                for ch, slot in slots:
                    n = column.count(ch)
                    cells[at + slot] += n * times
                    found += n
                if found != len(texts):
                    raise ValueError("answers must be digits 0-5")

    @property
    def criteria(self) -> dict[tuple[int, str, str, str], list[int]]:
        """(office, month, instrument, criterion) -> [n1..n5, n_none], non-empty rows only."""
        self.count_cross()
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
        self.count_cross()
        add_cross_tallies(session, self.cross)
        priorities.add_priority_tallies(session, self.priority)
        add_expectation_tallies(session, self.expectations)
        self.cells.clear()
        self.channels.clear()
        self.cross.clear()
        self.priority.clear()
        self.expectations.clear()


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
        elif kind == "partial":
            stmt = upsert(session, MonthlyPartialCount)
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id"],
                set_={"responses": MonthlyPartialCount.responses + stmt.excluded.responses})
        elif kind == "expectation":
            stmt = upsert(session, MonthlyExpectationTally)
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "area", "level"],
                set_={"responses": MonthlyExpectationTally.responses
                      + stmt.excluded.responses})
        else:
            stmt = upsert(session, MonthlyChannelCount)
            stmt = stmt.on_conflict_do_update(
                index_elements=["office_id", "month", "instrument_id", "channel"],
                set_={"responses": MonthlyChannelCount.responses + stmt.excluded.responses})
        _UPSERTS[key] = stmt
    return stmt


_CROSS = MonthlyCrossTally.__table__


def add_expectation_tallies(session: Session,
                            sums: Mapping[tuple[int, str, str, str, int], int]) -> None:
    """Add expectation counts ((office, month, instrument, area, level) -> answers) to the
    stored ones, in sorted key order (the lock order of every writer)."""
    rows = [{"office_id": k[0], "month": k[1], "instrument_id": k[2], "area": k[3],
             "level": k[4], "responses": v} for k, v in sorted(sums.items()) if v]
    if rows:
        session.connection().execute(_upsert_statement(session, "expectation"), rows)


def add_partial_counts(session: Session, sums: Mapping[tuple[int, str, str], int]) -> None:
    """Add released partial responses ((office, month, instrument) -> responses) to
    ``monthly_partial_count``, in sorted key order. Kept whether or not ``COUNT_PARTIAL``
    puts their answers into the tallies."""
    rows = [{"office_id": k[0], "month": k[1], "instrument_id": k[2], "responses": v}
            for k, v in sorted(sums.items()) if v]
    if rows:
        session.connection().execute(_upsert_statement(session, "partial"), rows)


def add_cross_tallies(session: Session, sums: dict[tuple[int, str, str], list[int]]) -> None:
    """Add cross-tally counts ((office, month, instrument) -> counts) to the stored ones
    (packed: read, add, write in sorted key order, :func:`core.services.packed.add_packed`)."""
    add_packed(session, _CROSS, cross_layout, sums)


def add_to_tallies(session: Session, rows: Iterable[TallyRow]) -> None:
    rows = list(rows)
    if len(rows) == 1:  # one response (every live submission): no accumulator needed
        _add_one(session, rows[0])
        row = rows[0]
        key = (row.office_id, row.month, row.instrument_id)
        add_cross_tallies(session, {key: cross_layout(row.instrument_id).count([row.answers])})
        priorities.add_priority_tallies(
            session, {key: priorities.count(row.instrument_id, [(row.answers, 1)])})
        if row.expectations:
            acc = TallyAccumulator()
            acc.add_expectations(key, row.expectations)
            add_expectation_tallies(session, acc.expectations)
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
    cross = session.execute(sa.select(
        MonthlyCrossTally.office_id, MonthlyCrossTally.month, MonthlyCrossTally.instrument_id,
        MonthlyCrossTally.counts)).all()
    pri = session.execute(sa.select(
        MonthlyPriorityTally.office_id, MonthlyPriorityTally.month,
        MonthlyPriorityTally.instrument_id, MonthlyPriorityTally.counts)).all()
    exp = session.execute(sa.select(
        MonthlyExpectationTally.office_id, MonthlyExpectationTally.month,
        MonthlyExpectationTally.instrument_id, MonthlyExpectationTally.area,
        MonthlyExpectationTally.level, MonthlyExpectationTally.responses)).all()
    part = session.execute(sa.select(
        MonthlyPartialCount.office_id, MonthlyPartialCount.month,
        MonthlyPartialCount.instrument_id, MonthlyPartialCount.responses)).all()
    return ({("c", *r) for r in crit} | {("ch", *r) for r in chan}
            | {("x", *r[:3], bytes(r[3])) for r in cross}
            | {("p", *r[:3], bytes(r[3])) for r in pri} | {("e", *r) for r in exp}
            | {("pa", *r) for r in part})


def rebuild_tallies(session: Session, progress: Callable[[int], None] | None = None) -> int:
    """Recompute every tally from the counted responses and commit.

    One streamed scan of ``response`` feeds a :class:`TallyAccumulator` (SQL that splits the
    packed answers per criterion was measured 10-40x slower on SQLite). Writers are held off
    meanwhile (PostgreSQL: SHARE lock; SQLite: the write lock of BEGIN IMMEDIATE).
    Returns how many tally rows differed from what was stored (0 = they were right).
    ``progress(n)`` is called after every ``n`` responses read (for a progress bar).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE response IN SHARE MODE"))
    before = _snapshot(session)
    session.execute(sa.delete(MonthlyTally))
    session.execute(sa.delete(MonthlyChannelCount))
    session.execute(sa.delete(MonthlyCrossTally))
    session.execute(sa.delete(MonthlyPriorityTally))
    session.execute(sa.delete(MonthlyExpectationTally))
    session.execute(sa.delete(MonthlyPartialCount))
    add_partial_counts(session, {
        (o, m, i): int(n) for o, m, i, n in session.execute(
            sa.select(Response.office_id, Response.month, Response.instrument_id,
                      sa.func.count())
            .where(Response.counted.is_(True), Response.partial.is_(True))
            .group_by(Response.office_id, Response.month, Response.instrument_id))})
    acc = TallyAccumulator()
    query = (sa.select(Response.office_id, Response.month, Response.instrument_id,
                       Response.channel, Response.answers, Response.expectations)
             .where(Response.counted.is_(True)))
    if not current_app.config["COUNT_PARTIAL"]:
        query = query.where(Response.partial.is_(False))
    read = 0
    for office_id, month, iid, channel, answers, expectations in session.execute(
            query, execution_options={"yield_per": 20_000}):
        acc.add(TallyRow(office_id, month, iid, channel, answers,
                         expectations if isinstance(expectations, dict) else None))
        read += 1
        if progress is not None and read % 1000 == 0:
            progress(1000)
    if progress is not None and read % 1000:
        progress(read % 1000)
    acc.write(session)
    after = _snapshot(session)
    session.commit()
    return len(before ^ after)


def remove_from_tallies(session: Session, rows: Iterable[TallyRow]) -> None:
    """Subtract stored responses (being deleted, e.g. an undone paper batch) from the
    tallies (criteria, channels, cross-tally, priority and expectation tallies), in the
    caller's transaction, in the writers' lock order; rows left at zero are deleted, so the
    tallies equal what ``flask tallies rebuild`` would make."""
    acc = TallyAccumulator()
    for row in rows:
        acc.add(row)
    crit, channels, cross = acc.criteria, dict(acc.channels), acc.count_cross()
    conn = session.connection()
    if crit:
        conn.execute(_upsert_statement(session, "tally"), [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "criterion": k[3],
             **{c: -n for c, n in zip(COUNT_COLUMNS, v, strict=True)}}
            for k, v in sorted(crit.items())])
    if channels:
        conn.execute(_upsert_statement(session, "channel"), [
            {"office_id": k[0], "month": k[1], "instrument_id": k[2], "channel": k[3],
             "responses": -v} for k, v in sorted(channels.items())])
    subtract_packed(session, _CROSS, cross_layout, cross)
    priorities.subtract_priority_tallies(session, acc.priority)
    add_expectation_tallies(session, {k: -v for k, v in acc.expectations.items()})
    for office_id, month, iid in sorted({k[:3] for k in crit} | {k[:3] for k in channels}):
        keys = (MonthlyTally.office_id == office_id, MonthlyTally.month == month,
                MonthlyTally.instrument_id == iid)
        session.execute(sa.delete(MonthlyTally).where(
            *keys, *(getattr(MonthlyTally, c) == 0 for c in COUNT_COLUMNS)))
        session.execute(sa.delete(MonthlyChannelCount).where(
            MonthlyChannelCount.office_id == office_id, MonthlyChannelCount.month == month,
            MonthlyChannelCount.instrument_id == iid, MonthlyChannelCount.responses == 0))
        session.execute(sa.delete(MonthlyExpectationTally).where(
            MonthlyExpectationTally.office_id == office_id,
            MonthlyExpectationTally.month == month, MonthlyExpectationTally.instrument_id == iid,
            MonthlyExpectationTally.responses == 0))

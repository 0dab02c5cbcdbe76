"""The mixing stage: answers are acknowledged as *pending* and released later, per closed
office-day, in a random order and with times no finer than the day.

Why: an answer's row must not line up with anything that names the citizen, the dossier or
the counter (a receipt's use, the kiosk that sent it, the one-stop software's record of who
was served when). Written at once, an answer would share its transaction (PostgreSQL's
``xmin``), its position (``id``, ``ctid``) and its time with those records. So:

1. every channel's :class:`~core.services.intake.Door` stores the answer with :func:`hold`,
   in the one transaction that also claims what the channel claims (the receipt's use, the
   form token, the kiosk's submission key), and the citizen is acknowledged when it commits;
   a pending row holds the answer and its Vietnam day, nothing else (with a comment, the hash
   of the citizen's follow-up code: :mod:`core.services.followup`);
2. :func:`mix` (``flask responses mix``, from cron) releases each closed office-day with at
   least ``MIX_MIN_BATCH`` answers: in one transaction (per batch of offices), it inserts them into
   ``response`` in an order drawn from a cryptographic generator, every time set to the start
   of the day, adds them to the tallies, gives each released comment that came with a
   follow-up code its handling record carrying the code's hash, and deletes the pending rows.
   Smaller days carry over to the office's next day and take its date; what remains when a
   month is over is released with the month's last day. The pending rows were the only rows
   that shared a transaction with the channel's records, and the released rows are new ones,
   written by the release.

Exactly once: acknowledging and releasing are each one transaction, and the release deletes
what it inserts. Mixers may run concurrently (a lock per office: PostgreSQL advisory lock,
SQLite's write lock) and repeatedly (a released answer is no longer pending).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid as uuidlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models import CommentHandling, PendingAnswer, Response, SubmissionKey
from core.services.common import upsert
from core.services.responses import CleanResponse
from core.services.tallies import TallyAccumulator, TallyRow, add_partial_counts
from core.services.tx import transaction
from core.timeutil import VN_TZ, utcnow

T = TypeVar("T")
#: Puts a list in a random order in place (tests inject a seeded one).
Shuffle = Callable[[list[Any]], None]
_SYSTEM_RANDOM = secrets.SystemRandom()

_PENDING = PendingAnswer.__table__
_RESPONSE = Response.__table__
_HOLD = _PENDING.insert()
_SUBMISSION_KEY = SubmissionKey.__table__
#: the claim of a submission id, per dialect (:func:`claim_submission_key`)
_CLAIMS: dict[str, sa.sql.Executable] = {}
_RELEASE = _RESPONSE.insert()
_HANDLING = CommentHandling.__table__
#: The first key of the PostgreSQL advisory lock a mixer holds per office (the second is the
#: office id): 'SMIX' as a 32-bit integer.
_LOCK_NAMESPACE = 0x534D4958


def vn_day(moment: datetime) -> date:
    """The Vietnam calendar day of an aware moment."""
    return moment.astimezone(VN_TZ).date()


def day_start(day: date) -> datetime:
    """00:00 Vietnam time of ``day``, in UTC: the only time a released answer carries."""
    return datetime.combine(day, time(0), tzinfo=VN_TZ).astimezone(UTC)


# --- acknowledging --------------------------------------------------------------------------

def hold(response: CleanResponse, office_id: int, channel: str, day: date, *,
         counted: bool = True, flags: str | None = None,
         conn: sa.Connection | None = None) -> None:
    """Store an accepted answer as pending, in the caller's transaction (no commit;
    ``conn``: the session's connection, when the caller holds it already)."""
    (conn or db.session.connection()).execute(_HOLD, {
        "office_id": office_id, "day": day, "instrument_id": response.instrument_id,
        "channel": channel, "answers": response.answers, "comment": response.comment,
        "procedure": response.procedure, "expectations": response.expectations,
        "demographics": response.demographics, "counted": counted, "flags": flags,
        "partial": response.partial,
        "followup_hash": response.followup_hash if response.comment else None})


def claim_submission_key(submission_id: str, today: date | None = None, *,
                         conn: sa.Connection | None = None) -> bool:
    """Record a client-chosen submission id (a kiosk's UUID) in the caller's transaction
    (``conn``: the session's connection, when the caller holds it already).
    True when it is new; False when it was acknowledged before (a re-sent copy), whether that
    copy is still pending or already released. Only a digest of the id is stored, kept
    ``SUBMISSION_KEY_DAYS`` days."""
    digest = hashlib.sha256(submission_id.encode("ascii")).hexdigest()
    expires = (today or vn_day(utcnow())) + timedelta(
        days=int(current_app.config["SUBMISSION_KEY_DAYS"]))
    conn = conn or db.session.connection()
    stmt = _CLAIMS.get(conn.dialect.name)
    if stmt is None:  # built once per dialect: this runs for every kiosk answer
        stmt = _CLAIMS[conn.dialect.name] = (
            upsert(db.session, _SUBMISSION_KEY)
            .values(key_hash=sa.bindparam("key_hash"), expires_on=sa.bindparam("expires_on"))
            .on_conflict_do_nothing(index_elements=["key_hash"])
            .returning(_SUBMISSION_KEY.c.key_hash))
    return conn.execute(stmt, {"key_hash": digest, "expires_on": expires}).first() is not None


def pending_counts(office_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Office id -> answers acknowledged and not released yet (offices with none are left
    out). The caller decides which offices a user may see."""
    stmt = sa.select(_PENDING.c.office_id, sa.func.count()).group_by(_PENDING.c.office_id)
    if office_ids is not None:
        ids = list(office_ids)
        if not ids:
            return {}
        stmt = stmt.where(_PENDING.c.office_id.in_(ids))
    return {office: n for office, n in db.session.execute(stmt)}


# --- releasing ------------------------------------------------------------------------------

def _last_day_of_month(day: date) -> date:
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def plan_release(items: Sequence[tuple[date, T]], last_closed: date, min_batch: int
                 ) -> list[tuple[date, list[T]]]:
    """Which pending items of one office to release, and with which date (pure).

    ``items`` are (day, item) sorted by day; days up to ``last_closed`` are closed. A closed
    day is released when it (with what earlier days of its month carried over) has at least
    ``min_batch`` items; else its items carry over to the next day and take its date. What is
    still carried when the month's last day is closed is released with that last day. Items
    of days not closed yet stay pending, as do items carried towards them.
    """
    plan: list[tuple[date, list[T]]] = []
    carry: list[T] = []
    month: tuple[int, int] | None = None
    i = 0
    while i < len(items):
        day = items[i][0]
        if (day.year, day.month) != month:
            carry, month = [], (day.year, day.month)
        group = []
        while i < len(items) and items[i][0] == day:
            group.append(items[i][1])
            i += 1
        if day > last_closed:  # not closed: it and everything after stays pending
            break
        carry.extend(group)
        month_ends = i == len(items) or (items[i][0].year, items[i][0].month) != month
        if len(carry) >= min_batch:
            plan.append((day, carry))
            carry = []
        elif month_ends and carry and _last_day_of_month(day) <= last_closed:
            plan.append((_last_day_of_month(day), carry))
            carry = []
    return plan


@dataclass
class MixReport:
    """What one run of :func:`mix` did."""

    released: int = 0  # answers moved into ``response``
    batches: int = 0  # office-days released
    pending: int = 0  # answers still pending afterwards (all offices)


_COLUMNS = ("id", "office_id", "day", "instrument_id", "channel", "answers", "comment",
            "procedure", "expectations", "demographics", "counted", "flags", "partial",
            "followup_hash")


#: Offices are released together, one transaction per batch, up to about this many answers
#: (one commit and one tally write per batch instead of per office).
RELEASE_BATCH = 10_000


def mix(*, now: datetime | None = None, include_today: bool = False,
        min_batch: int | None = None, shuffle: Shuffle | None = None) -> MixReport:
    """Release every closed office-day (see the module's description); commits once per
    batch of offices (about ``RELEASE_BATCH`` answers). ``include_today`` also treats the
    current Vietnam day as closed; ``min_batch`` overrides ``MIX_MIN_BATCH``; ``shuffle``
    (tests) replaces the cryptographic generator. Also purges expired kiosk submission keys.
    Safe to run concurrently and repeatedly."""
    today = vn_day(now or utcnow())
    last_closed = today if include_today else today - timedelta(days=1)
    minimum = max(1, int(current_app.config["MIX_MIN_BATCH"] if min_batch is None
                         else min_batch))
    shuffle = shuffle or _SYSTEM_RANDOM.shuffle
    report = MixReport()
    counts = db.session.execute(
        sa.select(_PENDING.c.office_id, sa.func.count()).where(_PENDING.c.day <= last_closed)
        .group_by(_PENDING.c.office_id).order_by(_PENDING.c.office_id)).all()
    db.session.rollback()  # end the read: each batch is released in a transaction of its own
    batch: list[int] = []
    size = 0
    for i, (office_id, n) in enumerate(counts):
        batch.append(office_id)
        size += n
        if size >= RELEASE_BATCH or i == len(counts) - 1:
            released, groups = _release(batch, last_closed, minimum, shuffle)
            report.released += released
            report.batches += groups
            batch, size = [], 0
    with transaction():
        db.session.execute(sa.delete(SubmissionKey).where(SubmissionKey.expires_on < today))
    if report.released:
        _vacuum()
    report.pending = int(db.session.scalar(sa.select(sa.func.count()).select_from(_PENDING))
                         or 0)
    db.session.rollback()
    return report


def _release(office_ids: list[int], last_closed: date, minimum: int, shuffle: Shuffle
             ) -> tuple[int, int]:
    """Release the closed days of ``office_ids`` (sorted) in one transaction: (answers
    released, office-days released)."""
    with transaction():
        conn = db.session.connection()
        if conn.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE holds the write lock
            for office_id in office_ids:  # in order: concurrent mixers cannot deadlock
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_NAMESPACE,
                                                                     office_id)))
        rows = conn.execute(
            sa.select(*(_PENDING.c[name] for name in _COLUMNS))
            .where(_PENDING.c.office_id.in_(office_ids), _PENDING.c.day <= last_closed)
            .order_by(_PENDING.c.office_id, _PENDING.c.day, _PENDING.c.id)).all()
        tallies = TallyAccumulator()
        count_partial = bool(current_app.config["COUNT_PARTIAL"])
        released_ids: list[int] = []
        partial_counts: dict[tuple[int, str, str], int] = {}
        groups = 0
        for _office, office_rows in groupby(rows, key=attrgetter("office_id")):
            plan = plan_release([(row.day, row) for row in office_rows], last_closed, minimum)
            groups += len(plan)
            for day, group in plan:
                shuffle(group)
                stamp = day_start(day)
                month = f"{day.year:04d}-{day.month:02d}"
                uuids = [str(uuidlib.uuid4()) for _r in group]
                conn.execute(_RELEASE, [
                    {"uuid": uid, "office_id": r.office_id,
                     "instrument_id": r.instrument_id, "channel": r.channel,
                     "answers": r.answers, "month": month, "submitted_at": stamp,
                     "received_at": stamp, "comment": r.comment, "procedure": r.procedure,
                     "expectations": r.expectations, "demographics": r.demographics,
                     "counted": r.counted, "flags": r.flags, "partial": r.partial}
                    for uid, r in zip(uuids, group, strict=True)])
                _attach_followups(conn, uuids, group, stamp)
                for r in group:
                    released_ids.append(r.id)
                    if r.counted and (count_partial or not r.partial):
                        tallies.add(TallyRow(r.office_id, month, r.instrument_id, r.channel,
                                             r.answers, r.expectations))
                    if r.counted and r.partial:
                        key = (r.office_id, month, r.instrument_id)
                        partial_counts[key] = partial_counts.get(key, 0) + 1
        for start in range(0, len(released_ids), 500):
            conn.execute(sa.delete(_PENDING).where(
                _PENDING.c.id.in_(released_ids[start:start + 500])))
        tallies.write(db.session)
        add_partial_counts(db.session, partial_counts)
    return len(released_ids), groups


def _attach_followups(conn: sa.Connection, uuids: list[str], group: list[Any],
                      stamp: datetime) -> None:
    """Give each released comment that came with a follow-up code its handling record,
    carrying the code's hash (its times: the day's start, like the answer's)."""
    hashes = {uid: r.followup_hash for uid, r in zip(uuids, group, strict=True)
              if r.followup_hash and r.comment}
    if not hashes:
        return
    ids = conn.execute(sa.select(_RESPONSE.c.uuid, _RESPONSE.c.id)
                       .where(_RESPONSE.c.uuid.in_(list(hashes)))).all()
    conn.execute(_HANDLING.insert(), [
        {"response_id": rid, "status": "new", "followup_hash": hashes[uid],
         "reply_public": False, "comment_public": False, "created_at": stamp,
         "updated_at": stamp} for uid, rid in ids])


def _vacuum() -> None:
    """PostgreSQL: remove the deleted pending rows from the table's pages now, rather than
    when autovacuum gets to them (a dead row is invisible to SQL but still on disk). SQLite
    overwrites deleted content itself (``PRAGMA secure_delete``, see core.db_setup)."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM pending_answer")
    except sa.exc.DBAPIError as exc:  # e.g. not the table's owner: autovacuum will do it
        current_app.logger.warning("mix: VACUUM pending_answer failed",
                                   extra={"fields": {"error": type(exc).__name__}})

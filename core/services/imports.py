"""Paper-survey import: a CSV of responses, streamed, stored all or nothing."""

from __future__ import annotations

import csv
import hashlib
import secrets
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import DomainError
from core.extensions import db
from core.instrument import Instrument
from core.models import CHANNELS, Office, Response
from core.services.intake import NothingAnswered, cells_reader, clean_response, limits
from core.services.mixing import day_start, vn_day
from core.services.offices import ImportFailed, LineError, ensure_collecting
from core.services.tallies import TallyAccumulator, TallyRow
from core.timeutil import VN_TZ, month_of, parse_timestamp, utcnow

BATCH = 5000
_SYSTEM_RANDOM = secrets.SystemRandom()
MAX_LISTED_ERRORS = 10_000


@dataclass
class ResponseImportResult:
    rows: int = 0
    stored: int = 0
    already_imported: int = 0


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_COLUMNS = ("uuid", "office_id", "instrument_id", "channel", "answers", "month", "submitted_at",
            "received_at", "comment", "counted")


def _row_uuid(digest: bytes, line: int) -> str:
    """A UUID that is the same for the same file content and line (so a file imported twice
    is stored once), cheap to make for a million rows, and that does not show the line: the
    rows of a file are stored in a random order, which a readable line number would undo."""
    return str(uuidlib.UUID(bytes=hashlib.blake2b(line.to_bytes(8, "big"), key=digest,
                                                  digest_size=16).digest(), version=4))


def _parse_time(cache: dict[str, tuple[datetime, str, datetime]], text: str
                ) -> tuple[datetime, str, datetime]:
    """Parse and remember a timestamp (paper files repeat the same dates): the moment, its
    Vietnam month and the start of its Vietnam day (the only time stored). Raises
    ValueError."""
    if len(cache) > 200_000:
        cache.clear()
    moment = parse_timestamp(text)
    cache[text] = (moment, month_of(moment), day_start(vn_day(moment)))
    return cache[text]


def earliest_accepted() -> datetime:
    """The start (Vietnam time) of ``IMPORT_EARLIEST``, the first day a paper answer may
    carry, as aware UTC."""
    day = date.fromisoformat(str(current_app.config["IMPORT_EARLIEST"]))
    return datetime.combine(day, time(0), VN_TZ).astimezone(UTC)


def _insert_raw(rows: list[dict]) -> None:
    """Bulk insert straight through the driver (bypassing per-value SQLAlchemy processing,
    which was a third of the import's CPU time); datetimes are written in the format the
    UTCDateTime column reads back."""
    conn = db.session.connection()
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = (f"INSERT INTO response ({', '.join(_COLUMNS)}) "  # noqa: S608 - constants
           f"VALUES ({', '.join([mark] * len(_COLUMNS))})")

    stamps: dict[datetime, str] = {}  # a file has few distinct times: format each once

    def stamp(value: datetime) -> object:
        if not sqlite:
            return value
        text = stamps.get(value)
        if text is None:
            text = stamps[value] = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text

    conn.exec_driver_sql(sql, [
        (r["uuid"], r["office_id"], r["instrument_id"], r["channel"], r["answers"],
         r["month"], stamp(r["submitted_at"]), stamp(r["received_at"]), r["comment"],
         1 if sqlite else True)
        for r in rows])


def import_responses(path: Path, instrument: Instrument, default_channel: str = "paper",
                     progress: Callable[[int], None] | None = None) -> ResponseImportResult:
    """Import paper responses from ``path``.

    Columns: ``office_code,submitted_at`` then one per criterion code (values 1-5 or empty =
    no answer); optional ``channel``, ``comment``, ``id`` (a UUID, once per file).
    ``submitted_at`` is ISO 8601, Vietnam time when it has no zone; a bare date is allowed;
    it must lie between ``IMPORT_EARLIEST`` (Vietnam time) and now. Only its Vietnam day is
    stored, and the rows are stored in a random order (paper answers are as untraceable as
    the other channels', see :mod:`core.services.mixing`).

    The file is read as a stream (constant memory) inside one transaction: any bad line
    rolls everything back and raises ImportFailed listing the bad lines. Each row gets a UUID
    derived from the file's content and line number (unless it has ``id``), so importing the
    same file twice stores it once.
    """
    digest = bytes.fromhex(_file_digest(path))[:32]
    limit = limits()
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    result = ResponseImportResult()
    errors: list[LineError] = []
    total_errors = 0

    def bad(error: LineError) -> None:
        nonlocal total_errors
        total_errors += 1
        if len(errors) < MAX_LISTED_ERRORS:
            errors.append(error)

    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ImportFailed([LineError(1, _("the file is empty"))]) from None
        except UnicodeDecodeError:
            raise ImportFailed([LineError(1, _("the file is not UTF-8 text"))]) from None
        meta = {"office_code", "submitted_at", "channel", "comment", "id"}
        if len(set(header)) != len(header):
            raise ImportFailed([LineError(1, _("bad header: a column appears twice"))])
        missing = [h for h in ("office_code", "submitted_at") if h not in header]
        if missing:
            raise ImportFailed([LineError(1, _("bad header: missing %(missing)s",
                                               missing=", ".join(missing)))])
        pos = {h: i for i, h in enumerate(header)}
        # every other column names a criterion: the rules say which ones the instrument has
        crit_cols = [(h, i) for h, i in pos.items() if h not in meta]
        try:
            clean_response(instrument, {h: None for h, _i in crit_cols}, limit=limit)
        except NothingAnswered:
            pass  # the header is fine: its columns are criteria
        except DomainError as exc:
            raise ImportFailed([LineError(1, msg, key, exc.code)
                                for key, msg in exc.fields.items()]) from None
        if not crit_cols:
            raise ImportFailed([LineError(1, _("the header has no criterion column"))])
        read_answers = cells_reader(dict(crit_cols))
        col_office, col_time = pos["office_code"], pos["submitted_at"]
        col_channel, col_comment, col_id = pos.get("channel"), pos.get("comment"), pos.get("id")
        width = len(header)

        acc = TallyAccumulator()
        batch: list[dict] = []
        times: dict[str, tuple[datetime, str, datetime]] = {}
        now = utcnow()
        today = day_start(vn_day(now))
        earliest = earliest_accepted()
        #: explicit ids seen so far (as integers) -> their line: an id names one response
        ids_seen: dict[int, int] = {}

        def flush() -> None:
            if not batch:
                return
            uuids = [r["uuid"] for r in batch]
            existing = set(db.session.scalars(sa.select(Response.uuid)
                                              .where(Response.uuid.in_(uuids))))
            fresh = [r for r in batch if r["uuid"] not in existing]
            result.already_imported += len(batch) - len(fresh)
            if fresh:
                _SYSTEM_RANDOM.shuffle(fresh)  # the file's order is not kept
                _insert_raw(fresh)
                for r in fresh:
                    acc.add(TallyRow(r["office_id"], r["month"], instrument.id, r["channel"],
                                     r["answers"]))
            result.stored += len(fresh)
            batch.clear()

        try:
            for row in reader:
                line = reader.line_num
                result.rows += 1
                if progress and result.rows % 100_000 == 0:
                    progress(result.rows)
                if len(row) != width:
                    if not any(cell.strip() for cell in row):
                        result.rows -= 1
                        continue
                    bad(LineError(line, _("expected %(n)s columns, found %(m)s", n=width,
                                          m=len(row))))
                    continue
                problems: list[LineError] = []
                office = offices.get(row[col_office].strip())
                if office is None:
                    problems.append(LineError(line, _("unknown office %(code)r",
                                                      code=row[col_office].strip()),
                                              "office_code"))
                else:
                    try:
                        ensure_collecting(office)
                    except DomainError as exc:
                        problems.append(LineError(line, exc.message, "office_code", exc.code))
                try:
                    submitted, month, day = times.get(row[col_time]) or _parse_time(
                        times, row[col_time])
                    if submitted > now:
                        problems.append(LineError(line, _("submitted_at %(value)r is in the "
                                                          "future", value=row[col_time]),
                                                  "submitted_at"))
                    elif submitted < earliest:
                        problems.append(LineError(
                            line, _("submitted_at %(value)r is before %(earliest)s, the "
                                    "earliest date accepted", value=row[col_time],
                                    earliest=earliest.astimezone(VN_TZ).date().isoformat()),
                            "submitted_at"))
                except (ValueError, OverflowError):
                    problems.append(LineError(line, _("submitted_at %(value)r is not an ISO "
                                                      "8601 date", value=row[col_time]),
                                              "submitted_at"))
                channel = row[col_channel].strip() if col_channel is not None else ""
                channel = channel or default_channel
                if channel not in CHANNELS:
                    problems.append(LineError(line, _("unknown channel %(value)r",
                                                      value=channel), "channel"))
                try:
                    clean = clean_response(
                        instrument, read_answers(row),
                        comment=row[col_comment] if col_comment is not None else None,
                        limit=limit)
                except DomainError as exc:
                    problems.extend(LineError(line, msg, key, exc.code)
                                    for key, msg in exc.fields.items())
                rid = row[col_id].strip() if col_id is not None else ""
                if rid:
                    try:
                        parsed = uuidlib.UUID(rid)
                    except ValueError:
                        problems.append(LineError(line, _("id %(value)r is not a UUID",
                                                          value=rid), "id"))
                    else:
                        rid = str(parsed)
                        first = ids_seen.setdefault(parsed.int, line)
                        if first != line:
                            problems.append(LineError(line, _(
                                "id %(value)s is already used on line %(first)s",
                                value=rid, first=first), "id"))
                if problems:
                    for problem in problems:
                        bad(problem)
                    continue
                if total_errors:
                    continue  # the file will be rejected: only keep looking for errors
                assert office is not None
                batch.append({
                    "uuid": rid or _row_uuid(digest, line),
                    "office_id": office.id, "instrument_id": instrument.id,
                    "channel": channel, "answers": clean.answers,
                    "month": month, "submitted_at": day,
                    "received_at": today, "comment": clean.comment, "counted": True,
                })
                if len(batch) >= BATCH:
                    flush()
            if total_errors:
                raise ImportFailed(errors, total_errors)
            if result.rows == 0:
                raise ImportFailed([LineError(2, _("the file has no data rows"))])
            flush()
            acc.write(db.session)
            db.session.commit()
        except UnicodeDecodeError:
            db.session.rollback()
            raise ImportFailed([LineError(reader.line_num + 1,
                                          _("the file is not UTF-8 text"))]) from None
        except BaseException:
            db.session.rollback()
            raise
    return result


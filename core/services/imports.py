"""Paper-survey imports: a CSV or XLSX file of responses, stored all or nothing as a batch.

Every import is a recorded batch (:class:`core.models.ImportBatch`): file name, checksum of
the normalised rows, rows, offices, month range, who and when. What keeps a stack of paper
forms from being counted twice:

* **the same rows again**: the checksum is taken over the rows as they will be stored (each
  row's office, Vietnam day, channel, answers, texts and choices), so the file's encoding,
  byte-order mark, line endings, spacing, time zones and row order do not change it. A file
  whose checksum equals an active batch's is not stored again (:attr:`BatchOutcome.duplicate_of`);
* **paper form numbers**: an optional ``form_no`` column; a number already imported (in an
  active batch) or repeated in the file is a line error. Only a keyed digest of each number
  is kept, per batch, never beside the answer typed from the form;
* **an edited copy** (a row appended, a typo fixed): without ``form_no``, a file of which at
  least :data:`OVERLAP_SHARE` and at least :data:`OVERLAP_MIN_ROWS` rows equal rows of one
  earlier batch (same office, day, instrument and answers, counted as multisets) is refused as
  a probable re-import (:class:`ProbableReimport`); smaller overlaps pass with a warning (two
  citizens may give the same answers on the same day). ``replace`` swaps an earlier batch for
  the file in one transaction; ``allow_overlap`` imports anyway.

The overlap is computed from the stored answers themselves (``response.batch_id``): nothing
else is kept per row. :func:`undo_batch` removes a batch's answers and their tallies in one
transaction. Every import, replacement and undo is audited.

Rows are stored as before: each through the one door's rules
(:func:`core.services.intake.clean_response`), in a random order, with only their Vietnam day
(see :mod:`core.services.mixing`) and a random UUID.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import sqlite3
import uuid as uuidlib
import zipfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import repeat
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import Conflict, DomainError, NotFound
from core.extensions import db
from core.instrument import NO_ANSWER, Instrument
from core.models import CHANNELS, ImportBatch, Office, PaperFormNumber, Response
from core.services import audit
from core.services.intake import cells_reader, clean_response, limits
from core.services.mixing import day_start, vn_day
from core.services.offices import ImportFailed, LineError, ensure_collecting
from core.services.tallies import TallyAccumulator, TallyRow, remove_from_tallies
from core.timeutil import VN_TZ, month_of, parse_timestamp, utcnow

MAX_LISTED_ERRORS = 10_000
#: a file is a probable re-import of an earlier batch when at least this share of its rows,
#: and at least OVERLAP_MIN_ROWS of them, equal rows of that batch
OVERLAP_SHARE = 0.5
OVERLAP_MIN_ROWS = 10
#: columns every paper file has, and the optional ones besides the instrument's questions
REQUIRED = ("office_code", "submitted_at")
OPTIONAL = ("channel", "comment", "procedure", "form_no", "id")
EXPECTATION_PREFIX = "expectations."
DEMOGRAPHIC_PREFIX = "demographics."
MAX_FORM_NO = 64


class ProbableReimport(Conflict, code="probable_reimport"):
    """Most of the file's rows equal rows of an earlier batch (``overlap``)."""

    def __init__(self, overlap: Overlap, rows: int) -> None:
        super().__init__(message=_(
            "%(n)s of the file's %(rows)s rows equal rows of batch %(batch)s (%(file)s): "
            "probably the same forms again. Use --replace %(batch)s to replace that batch, or "
            "--allow-overlap to import anyway.", n=overlap.rows, rows=rows,
            batch=overlap.batch_id, file=overlap.file_name))
        self.overlap = overlap


@dataclass(frozen=True)
class Overlap:
    """Rows of the file that equal rows of an earlier batch."""

    batch_id: int
    file_name: str
    rows: int


@dataclass
class BatchOutcome:
    """What an import did (or, for a preview, would do)."""

    file_name: str
    rows: int = 0
    stored: int = 0
    checksum: str = ""
    batch_id: int | None = None
    #: the active batch with the same normalised rows (nothing stored then)
    duplicate_of: int | None = None
    replaced: int | None = None
    offices: list[str] = field(default_factory=list)
    first_month: str | None = None
    last_month: str | None = None
    form_numbers: bool = False
    overlaps: list[Overlap] = field(default_factory=list)
    #: the overlap that makes the file a probable re-import (refused unless allowed)
    refused: Overlap | None = None
    errors: list[LineError] = field(default_factory=list)
    total_errors: int = 0


# --- reading a file ------------------------------------------------------------------------

XLSX_MAGIC = b"PK\x03\x04"


def is_xlsx(head: bytes, file_name: str = "") -> bool:
    return head.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx")


def _decode_csv(raw: IO[bytes]) -> IO[str]:
    """A text stream for a CSV file's bytes: UTF-16 when it starts with a UTF-16 byte-order
    mark (Excel's "Unicode text"), else UTF-8 with or without one."""
    head = raw.read(4)
    raw.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _dialect(first_line: str) -> str:
    """The delimiter of a CSV file from its header: a comma unless the header has none and
    has tabs or semicolons (spreadsheets in some locales)."""
    if "," not in first_line:
        for sep in ("\t", ";"):
            if sep in first_line:
                return sep
    return ","


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a CSV cell would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == 0 and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@contextmanager
def open_rows(raw: IO[bytes], file_name: str = "") -> Iterator[Iterator[tuple[int, list[str]]]]:
    """(line number, cells) of a CSV or XLSX file (the header is line 1). Raises
    ImportFailed for a file that cannot be read (not UTF-8/UTF-16 text, a broken XLSX)."""
    head = raw.read(4)
    raw.seek(0)
    if is_xlsx(head, file_name):
        from openpyxl import load_workbook

        try:
            book = load_workbook(raw, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError):
            raise ImportFailed([LineError(1, _("the file is not a readable XLSX workbook"))]
                               ) from None
        try:
            sheet = book.worksheets[0]

            def xlsx_rows() -> Iterator[tuple[int, list[str]]]:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, [_cell(v) for v in values]

            yield xlsx_rows()
        finally:
            book.close()
        return
    text = _decode_csv(raw)
    try:
        try:
            first = text.readline()
        except UnicodeDecodeError:
            raise ImportFailed([LineError(1, _("the file is not UTF-8 text"))]) from None
        reader = csv.reader(io.StringIO(first), delimiter=_dialect(first))
        rest = csv.reader(text, delimiter=_dialect(first))

        def csv_rows() -> Iterator[tuple[int, list[str]]]:
            for cells in reader:
                yield 1, cells
            try:
                for cells in rest:
                    yield rest.line_num + 1, cells
            except UnicodeDecodeError:
                raise ImportFailed([LineError(rest.line_num + 2,
                                              _("the file is not UTF-8 text"))]) from None

        yield csv_rows()
    finally:
        text.detach()


# --- keys and digests ----------------------------------------------------------------------

def _form_key() -> bytes:
    """The key of the form-number digests, derived from ``SECRET_KEY`` for this purpose."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hashlib.sha256(b"sipas paper form number\x00" + secret).digest()


def form_digest(form_no: str, key: bytes | None = None) -> str:
    """The keyed digest kept of a paper form's number (spacing and case do not matter)."""
    normal = " ".join(form_no.split()).upper().encode()
    return hashlib.blake2b(normal, key=key or _form_key(), digest_size=32).hexdigest()


_DIGEST = methodcaller("digest")
#: answer cells as usually written -> their character in the packed answers
_FAST_CELLS = {"": NO_ANSWER, "1": "1", "2": "2", "3": "3", "4": "4", "5": "5"}


def plain_row_text(office_json: str, day_json: str, channel_json: str, answers: str) -> str:
    """:meth:`_Checksum.text` of a row with answers only (no comment, procedure,
    expectations, demographics, form number or id), from the JSON of its office code, day
    and channel: what ``json.dumps`` makes of it, without building the tuple (answers are
    digits, which JSON leaves as they are)."""
    return f'[{office_json},{day_json},{channel_json},"{answers}",null,null,null,null,"",""]'


class _Checksum:
    """SHA-256 over a multiset of normalised rows: the sum of the rows' digests modulo 2^256
    (so the file's row order does not matter), with the count and the instrument."""

    def __init__(self, instrument_id: str) -> None:
        self.instrument_id = instrument_id
        self.total = 0
        self.count = 0

    @staticmethod
    def text(fields: tuple) -> str:
        """The normalised row as the text whose digest is summed."""
        return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def add(self, fields: tuple) -> None:
        self.add_texts([self.text(fields)])

    def add_texts(self, texts: list[str]) -> None:
        """Add rows given as their :meth:`text` (the digests made and summed at C speed)."""
        digests = map(_DIGEST, map(hashlib.sha256, map(str.encode, texts)))
        self.total = (self.total + sum(map(int.from_bytes, digests, repeat("big")))
                      ) % (1 << 256)
        self.count += len(texts)

    def hexdigest(self) -> str:
        return hashlib.sha256(f"{self.instrument_id}|{self.count}|{self.total:064x}".encode()
                              ).hexdigest()


# --- the import ----------------------------------------------------------------------------

#: a pending row (:func:`_run`): its id (None: a random one), office id, month, day (as the
#: driver takes it: :meth:`_Writer.day_value`), channel, answers, comment, procedure,
#: expectations and demographics
_P_ID, _P_OFFICE, _P_MONTH, _P_DAY, _P_CHANNEL, _P_ANSWERS = range(6)
#: rows written at once (each group is stored in a random order)
BATCH = 50_000
#: SQLite's page cache during an import, in KiB (the response table's indexes take random
#: keys; with the default 2 MB cache they are read back again and again)
SQLITE_CACHE_KIB = 65_536


def random_uuids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as text, like ``str(uuid.uuid4())`` but from one read of
    the system's random source."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    h = raw.hex()
    return [f"{h[i:i + 8]}-{h[i + 8:i + 12]}-{h[i + 12:i + 16]}-{h[i + 16:i + 20]}-"
            f"{h[i + 20:i + 32]}" for i in range(0, 32 * n, 32)]


_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def _shuffle(rows: list) -> None:
    """Put rows in a random order, in place: sorted by keys read in one go from the system's
    random source (64 bits each: a tie, which keeps two rows' order, has a chance of about
    n^2 / 2^65)."""
    keys = array("Q")
    keys.frombytes(os.urandom(keys.itemsize * len(rows)))
    rows[:] = [rows[i] for i in sorted(range(len(rows)), key=keys.__getitem__)]


class _Writer:
    """Inserts pending rows straight through the driver (bypassing per-value SQLAlchemy
    processing): one prepared statement per batch, executemany. On SQLite the values every
    row shares (instrument, reception day, counted, batch) are written into the statement as
    literals and the text columns left out when a batch has none, datetimes in the format
    the UTCDateTime column reads back; JSON is written as text."""

    def __init__(self, conn: sa.Connection, instrument_id: str, received_at: datetime,
                 batch_id: int) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self.instrument_id, self.received_at, self.batch_id = instrument_id, received_at, \
            batch_id

    def day_value(self, day: datetime) -> object:
        if self.sqlite:
            return day.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return day

    def _statement(self, columns: list[str], constants: dict[str, object]) -> str:
        names = columns + list(constants)
        values = [self.mark] * len(columns) + [_literal(v) for v in constants.values()]
        return (f"INSERT INTO response ({', '.join(names)}) "  # noqa: S608 - constants
                f"VALUES ({', '.join(values)})")

    def write(self, rows: list[tuple]) -> None:
        uuids = random_uuids(len(rows))
        extras = any(r[6] is not None or r[7] is not None or r[8] is not None
                     or r[9] is not None for r in rows)
        if self.sqlite and not extras:
            sql = self._statement(
                ["uuid", "office_id", "channel", "answers", "month", "submitted_at"],
                {"instrument_id": self.instrument_id,
                 "received_at": self.day_value(self.received_at), "counted": 1,
                 "batch_id": self.batch_id})
            params: list[tuple] = [(r[0] or u, r[1], r[4], r[5], r[2], r[3])
                                   for u, r in zip(uuids, rows, strict=True)]
        else:
            received, iid, batch_id = self.day_value(self.received_at), self.instrument_id, \
                self.batch_id
            counted = 1 if self.sqlite else True
            sql = self._statement(
                ["uuid", "office_id", "instrument_id", "channel", "answers", "month",
                 "submitted_at", "received_at", "comment", "procedure", "expectations",
                 "demographics", "counted", "batch_id"], {})
            params = [(r[0] or u, r[1], iid, r[4], r[5], r[2], r[3], received, r[6], r[7],
                       _json(r[8]), _json(r[9]), counted, batch_id)
                      for u, r in zip(uuids, rows, strict=True)]
        self.conn.exec_driver_sql(sql, params)


def _literal(value: object) -> str:
    """An SQL literal of a text or an integer (for SQLite statements)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no literal for {value!r}")


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


@contextmanager
def _sqlite_cache(conn: sa.Connection) -> Iterator[None]:
    """A larger page cache on an SQLite connection while the block runs (the connection's
    own setting is put back after)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{int(SQLITE_CACHE_KIB)}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):  # (a connection closed meanwhile keeps nothing)
            raw.execute(f"PRAGMA cache_size = {int(before)}")


def _parse_time(cache: dict[str, tuple[datetime, str, datetime]], text: str
                ) -> tuple[datetime, str, datetime]:
    """Parse and remember a timestamp (paper files repeat the same dates): the moment, its
    Vietnam month and the start of its Vietnam day (the only time stored). Raises
    ValueError."""
    if len(cache) > 200_000:
        cache.clear()
    moment = parse_timestamp(text.strip())
    cache[text] = (moment, month_of(moment), day_start(vn_day(moment)))
    return cache[text]


def earliest_accepted() -> datetime:
    """The start (Vietnam time) of ``IMPORT_EARLIEST``, the first day a paper answer may
    carry, as aware UTC."""
    day = date.fromisoformat(str(current_app.config["IMPORT_EARLIEST"]))
    return datetime.combine(day, time(0), VN_TZ).astimezone(UTC)


@dataclass
class _Header:
    positions: dict[str, int]
    criteria: dict[str, int]
    expectations: dict[str, int]
    demographics: dict[str, int]
    width: int


def _read_header(header: list[str], instrument: Instrument) -> _Header:
    """Check a file's header. Raises ImportFailed (line 1) for a repeated, missing or
    unknown column."""
    header = [h.strip() for h in header]
    while header and header[-1] == "":
        header.pop()
    if not header:
        raise ImportFailed([LineError(1, _("the file is empty"))])
    if len(set(header)) != len(header):
        raise ImportFailed([LineError(1, _("bad header: a column appears twice"))])
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise ImportFailed([LineError(1, _("bad header: missing %(missing)s",
                                           missing=", ".join(missing)))])
    pos = {h: i for i, h in enumerate(header)}
    areas = set(instrument.expectation_area_codes())
    questions = {q.code for q in instrument.demographics}
    criteria, expectations, demographics, unknown = {}, {}, {}, []
    for name, i in pos.items():
        if name in REQUIRED or name in OPTIONAL:
            continue
        if instrument.has_criterion(name):
            criteria[name] = i
        elif name.startswith(EXPECTATION_PREFIX) and name[len(EXPECTATION_PREFIX):] in areas:
            expectations[name[len(EXPECTATION_PREFIX):]] = i
        elif name.startswith(DEMOGRAPHIC_PREFIX) and name[len(DEMOGRAPHIC_PREFIX):] in questions:
            demographics[name[len(DEMOGRAPHIC_PREFIX):]] = i
        else:
            unknown.append(name)
    errors: list[LineError] = []
    plain = [n for n in unknown if not n.startswith((EXPECTATION_PREFIX, DEMOGRAPHIC_PREFIX))]
    if plain:  # other columns would be criteria: the one door's rule names them
        try:
            clean_response(instrument, {name: None for name in plain})
        except DomainError as exc:
            errors.extend(LineError(1, msg, k, exc.code) for k, msg in exc.fields.items()
                          if k != "answers")
    for name in unknown:
        if name.startswith(EXPECTATION_PREFIX):
            errors.append(LineError(1, _("unknown area"), name))
        elif name.startswith(DEMOGRAPHIC_PREFIX):
            errors.append(LineError(1, _("unknown question"), name))
    absent = [code for code in instrument.criterion_codes if code not in criteria]
    if absent:
        errors.append(LineError(1, _("bad header: missing the criterion column(s) %(missing)s "
                                     "(an empty cell is “no answer”)",
                                     missing=", ".join(absent))))
    if errors:
        raise ImportFailed(errors)
    # keep the instrument's order: the packed answers and the template follow it
    criteria = {code: criteria[code] for code in instrument.criterion_codes}
    return _Header(pos, criteria, expectations, demographics, len(header))


def template_header(instrument: Instrument) -> list[str]:
    """The columns of a paper file for ``instrument``, in the order of the template and the
    blank paper form: office, date, form number, every criterion, procedure, expectations,
    demographics, comment."""
    return ["office_code", "submitted_at", "form_no", *instrument.criterion_codes,
            "procedure",
            *(EXPECTATION_PREFIX + code for code in instrument.expectation_area_codes()),
            *(DEMOGRAPHIC_PREFIX + q.code for q in instrument.demographics), "comment"]


def template_csv(instrument: Instrument) -> bytes:
    """A template CSV (UTF-8 with a byte-order mark, so that spreadsheets read Vietnamese):
    the header only."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(template_header(instrument))
    return codecs.BOM_UTF8 + out.getvalue().encode()


def template_xlsx(instrument: Instrument) -> bytes:
    """The template as an XLSX workbook: the header row (bold, frozen)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "paper"
    sheet.append(template_header(instrument))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _choices(row: list[str], columns: dict[str, int], numeric: bool) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for code, i in columns.items():
        text = row[i].strip()
        if text:
            out[code] = int(text) if numeric and text.isdigit() and len(text) < 4 else text
    return out or None


def import_batch(raw: IO[bytes], file_name: str, instrument: Instrument, *, actor: str,
                 office_ids: set[int] | None = None, replace: int | None = None,
                 allow_overlap: bool = False, dry_run: bool = False,
                 default_channel: str = "paper",
                 progress: Callable[[int], None] | None = None) -> BatchOutcome:
    """Import a paper file (CSV or XLSX, see the README for its columns) as one batch.

    ``office_ids`` limits the offices the rows may answer for (None: every office; an office
    outside is an unknown office). ``replace`` is the id of an active batch the file replaces
    (in the same transaction); ``allow_overlap`` imports a probable re-import anyway;
    ``dry_run`` does everything, then rolls back (a preview: nothing is stored, line errors
    are returned in the outcome instead of raised).

    Returns the outcome; ``duplicate_of`` set means the same rows are stored already (nothing
    stored). Raises ImportFailed listing the bad lines (nothing stored), ProbableReimport,
    NotFound / Conflict for a ``replace`` batch that is unknown, out of scope or not active.
    """
    outcome = BatchOutcome(file_name=file_name[:255])
    try:
        with open_rows(raw, file_name) as rows, _sqlite_cache(db.session.connection()):
            _run(rows, outcome, instrument, actor=actor, office_ids=office_ids,
                 replace=replace, allow_overlap=allow_overlap, dry_run=dry_run,
                 default_channel=default_channel, progress=progress)
    except ImportFailed as exc:
        db.session.rollback()
        if not dry_run:
            raise
        outcome.errors, outcome.total_errors = exc.errors, exc.total
    except BaseException:
        db.session.rollback()
        raise
    return outcome


def import_path(path: Path, instrument: Instrument, **options: Any) -> BatchOutcome:
    """:func:`import_batch` of a file on disk (its name is the batch's file name)."""
    with path.open("rb") as raw:
        return import_batch(raw, path.name, instrument, **options)


def _active_batch(batch_id: int, office_ids: set[int] | None, *, lock: bool) -> ImportBatch:
    query = sa.select(ImportBatch).where(ImportBatch.id == batch_id)
    if lock:
        query = query.with_for_update()
    batch = db.session.scalar(query)
    if batch is None or not batch_in_scope(batch, office_ids):
        raise NotFound("unknown_batch", _("There is no import batch %(id)s.", id=batch_id))
    if batch.state != "active":
        raise Conflict("batch_not_active", _("Batch %(id)s is not active (it was %(state)s).",
                                             id=batch_id, state=state_label(batch.state)))
    return batch


def batch_in_scope(batch: ImportBatch, office_ids: set[int] | None) -> bool:
    """Whether every office of the batch lies in ``office_ids`` (None: every office)."""
    return office_ids is None or set(batch.office_ids or ()) <= office_ids


def state_label(state: str) -> str:
    return {"active": _("in effect"), "undone": _("undone"), "replaced": _("replaced")}[state]


def _run(rows: Iterator[tuple[int, list[str]]], outcome: BatchOutcome, instrument: Instrument,
         *, actor: str, office_ids: set[int] | None, replace: int | None, allow_overlap: bool,
         dry_run: bool, default_channel: str, progress: Callable[[int], None] | None) -> None:
    try:
        _line, header_cells = next(rows)
    except StopIteration:
        raise ImportFailed([LineError(1, _("the file is empty"))]) from None
    head = _read_header(header_cells, instrument)
    outcome.form_numbers = "form_no" in head.positions
    old = _active_batch(replace, office_ids, lock=True) if replace is not None else None
    limit = limits()
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))
               if office_ids is None or o.id in office_ids}
    errors: list[LineError] = []
    total_errors = 0

    def bad(error: LineError) -> None:
        nonlocal total_errors
        total_errors += 1
        if len(errors) < MAX_LISTED_ERRORS:
            errors.append(error)

    pos = head.positions
    read_answers = cells_reader(head.criteria)
    col_office, col_time = pos["office_code"], pos["submitted_at"]
    col_channel, col_comment, col_id = pos.get("channel"), pos.get("comment"), pos.get("id")
    col_procedure, col_form = pos.get("procedure"), pos.get("form_no")
    width = head.width
    key = _form_key() if col_form is not None else b""

    batch = ImportBatch(file_name=outcome.file_name, checksum="", instrument_id=instrument.id,
                        office_ids=[], first_month="", last_month="",
                        form_numbers=outcome.form_numbers, actor=actor[:64])
    db.session.add(batch)
    db.session.flush()
    acc = TallyAccumulator()
    pending: list[tuple] = []
    texts: list[str] = []  # of the checksum, waiting to be digested
    times: dict[str, tuple[datetime, str, datetime]] = {}
    now = utcnow()
    writer = _Writer(db.session.connection(), instrument.id, day_start(vn_day(now)), batch.id)
    earliest = earliest_accepted()
    checksum = _Checksum(instrument.id)
    used_offices: set[int] = set()
    months: set[str] = set()
    ids_seen: dict[int, int] = {}  # explicit ids (as integers) -> their line
    forms_seen: dict[str, int] = {}  # form-number digests -> their line

    def flush() -> None:
        if texts:
            checksum.add_texts(texts)
            texts.clear()
        if not pending:
            return
        _shuffle(pending)  # the file's order is not kept
        writer.write(pending)
        plain: dict[tuple[int, str, str], list[str]] = {}
        for r in pending:
            if r[8] is None:
                group = (r[_P_OFFICE], r[_P_MONTH], r[_P_CHANNEL])
                answers = plain.get(group)
                if answers is None:
                    plain[group] = [r[_P_ANSWERS]]
                else:
                    answers.append(r[_P_ANSWERS])
            else:
                acc.add(TallyRow(r[_P_OFFICE], r[_P_MONTH], instrument.id, r[_P_CHANNEL],
                                 r[_P_ANSWERS], r[8]))
        for (office_id, month, channel), answers in plain.items():
            acc.add_plain(office_id, month, instrument.id, channel, answers)
        outcome.stored += len(pending)
        pending.clear()

    # The usual row (a collecting office, a date in range and a channel each seen on a good
    # line before, answer cells "1".."5" or empty, nothing else filled) is taken from what
    # was found for the same cells then: the same values, at C speed. Any other row goes
    # through every check below.
    fast_offices: dict[str, tuple[int, str]] = {}  # cell -> (office id, JSON of the code)
    fast_times: dict[str, tuple[str, object, str]] = {}  # cell -> (month, day, JSON of it)
    fast_channels: dict[str, tuple[str, str]] = {}  # cell -> (channel, JSON of it)
    criteria_columns = list(head.criteria.values())
    pick_cells = itemgetter(*criteria_columns) if len(criteria_columns) > 1 else (
        lambda row, i=criteria_columns[0]: (row[i],))
    others = [i for i in range(width) if i not in criteria_columns
              and i not in (col_office, col_time, col_channel)]
    # any(a cell) and any(a tuple of cells) are both false when every other cell is empty
    pick_others = itemgetter(*others) if others else None
    no_answer = NO_ANSWER * len(criteria_columns)
    fast_width = -1 if col_form is not None else width  # a form number: every check

    for line, row in rows:
        if len(row) == fast_width and not (pick_others and any(pick_others(row))):
            office_fast = fast_offices.get(row[col_office])
            time_fast = fast_times.get(row[col_time])
            channel_fast = fast_channels.get(row[col_channel] if col_channel is not None
                                             else "")
            if office_fast is not None and time_fast is not None and channel_fast is not None:
                try:
                    answers = "".join(map(_FAST_CELLS.__getitem__, pick_cells(row)))
                except KeyError:
                    answers = no_answer  # an odd cell: the checks below
                if answers != no_answer:
                    outcome.rows += 1
                    if progress and outcome.rows % 100_000 == 0:
                        progress(outcome.rows)
                    used_offices.add(office_fast[0])
                    months.add(time_fast[0])
                    if total_errors:
                        continue  # the file will be rejected: only keep looking for errors
                    texts.append(plain_row_text(office_fast[1], time_fast[2], channel_fast[1],
                                                answers))
                    pending.append((None, office_fast[0], time_fast[0], time_fast[1],
                                    channel_fast[0], answers, None, None, None, None))
                    if len(pending) >= BATCH:
                        flush()
                    continue
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        outcome.rows += 1
        if progress and outcome.rows % 100_000 == 0:
            progress(outcome.rows)
        if len(row) != width:
            if len(row) > width and not any(c.strip() for c in row[width:]):
                row = row[:width]  # empty cells past the header (a spreadsheet's)
            else:
                bad(LineError(line, _("expected %(n)s columns, found %(m)s", n=width,
                                      m=len(row))))
                continue
        problems: list[LineError] = []
        code = row[col_office].strip()
        office = offices.get(code)
        if office is None:
            problems.append(LineError(line, _("unknown office %(code)r", code=code),
                                      "office_code"))
        else:
            try:
                ensure_collecting(office)
            except DomainError as exc:
                problems.append(LineError(line, exc.message, "office_code", exc.code))
            else:
                fast_offices[row[col_office]] = (
                    office.id, json.dumps(office.code, ensure_ascii=False))
        day = month = None
        try:
            submitted, month, day = times.get(row[col_time]) or _parse_time(times, row[col_time])
            if submitted > now:
                problems.append(LineError(line, _("submitted_at %(value)r is in the future",
                                                  value=row[col_time]), "submitted_at"))
            elif submitted < earliest:
                problems.append(LineError(
                    line, _("submitted_at %(value)r is before %(earliest)s, the earliest date "
                            "accepted", value=row[col_time],
                            earliest=earliest.astimezone(VN_TZ).date().isoformat()),
                    "submitted_at"))
            elif len(fast_times) < 200_000:
                fast_times[row[col_time]] = (month, writer.day_value(day),
                                             json.dumps(day.isoformat(), ensure_ascii=False))
        except (ValueError, OverflowError):
            problems.append(LineError(line, _("submitted_at %(value)r is not an ISO 8601 date",
                                              value=row[col_time]), "submitted_at"))
        channel = (row[col_channel].strip() if col_channel is not None else "") or \
            default_channel
        if channel not in CHANNELS:
            problems.append(LineError(line, _("unknown channel %(value)r", value=channel),
                                      "channel"))
        else:
            fast_channels[row[col_channel] if col_channel is not None else ""] = (
                channel, json.dumps(channel, ensure_ascii=False))
        clean = None
        try:
            clean = clean_response(
                instrument, read_answers(row),
                comment=row[col_comment] if col_comment is not None else None,
                procedure=" ".join(row[col_procedure].split()) or None
                if col_procedure is not None else None,
                expectations=_choices(row, head.expectations, numeric=True),
                demographics=_choices(row, head.demographics, numeric=False),
                limit=limit)
        except DomainError as exc:
            problems.extend(LineError(line, msg, k, exc.code) for k, msg in exc.fields.items())
        rid = row[col_id].strip() if col_id is not None else ""
        if rid:
            try:
                parsed = uuidlib.UUID(rid)
            except ValueError:
                problems.append(LineError(line, _("id %(value)r is not a UUID", value=rid),
                                          "id"))
            else:
                rid = str(parsed)
                first = ids_seen.setdefault(parsed.int, line)
                if first != line:
                    problems.append(LineError(line, _(
                        "id %(value)s is already used on line %(first)s", value=rid,
                        first=first), "id"))
        form_no = " ".join(row[col_form].split()) if col_form is not None else ""
        if col_form is not None:
            if not form_no:
                problems.append(LineError(line, _("the form number is missing"), "form_no"))
            elif len(form_no) > MAX_FORM_NO:
                problems.append(LineError(line, _("must be at most %(limit)s characters",
                                                  limit=MAX_FORM_NO), "form_no"))
            else:
                digest = form_digest(form_no, key)
                first = forms_seen.setdefault(digest, line)
                if first != line:
                    problems.append(LineError(line, _(
                        "form number %(value)s is already used on line %(first)s",
                        value=form_no, first=first), "form_no"))
        if problems:
            for problem in problems:
                bad(problem)
            continue
        assert office is not None and clean is not None and day is not None
        used_offices.add(office.id)
        months.add(month)
        if total_errors:
            continue  # the file will be rejected: only keep looking for errors
        texts.append(_Checksum.text((office.code, day.isoformat(), channel, clean.answers,
                                     clean.comment, clean.procedure, clean.expectations,
                                     clean.demographics, form_no.upper(), rid)))
        pending.append((rid or None, office.id, month, writer.day_value(day), channel,
                        clean.answers, clean.comment, clean.procedure, clean.expectations,
                        clean.demographics))
        if len(pending) >= BATCH:
            flush()
    if not total_errors and outcome.rows == 0:
        bad(LineError(2, _("the file has no data rows")))
    _serialise()
    stored_before: list[LineError] = []  # form numbers and ids stored already
    _check_stored(forms_seen, ids_seen, replace, stored_before.append)
    by_id = {o.id: o.code for o in offices.values()}
    outcome.offices = sorted(by_id[i] for i in used_offices)  # of the good rows
    if months:
        outcome.first_month, outcome.last_month = min(months), max(months)
    if total_errors:
        for error in stored_before:
            bad(error)
        errors.sort(key=lambda e: e.line)
        raise ImportFailed(errors, total_errors)
    flush()
    outcome.checksum = checksum.hexdigest()
    same = db.session.scalar(
        sa.select(ImportBatch.id).where(ImportBatch.checksum == outcome.checksum,
                                        ImportBatch.state == "active",
                                        ImportBatch.id != batch.id,
                                        ImportBatch.id != (replace or -1))
        .order_by(ImportBatch.id).limit(1))
    if same is not None:
        db.session.rollback()
        outcome.stored = 0
        outcome.duplicate_of = same
        return
    if stored_before:  # (an equal file is not an error: see above)
        raise ImportFailed(sorted(stored_before, key=lambda e: e.line)[:MAX_LISTED_ERRORS],
                           len(stored_before))
    assert outcome.first_month and outcome.last_month
    outcome.overlaps = _overlaps(batch.id, {replace} if replace else set(), used_offices,
                                 outcome.first_month, outcome.last_month)
    if not outcome.form_numbers:
        for overlap in outcome.overlaps:
            if (overlap.rows >= OVERLAP_MIN_ROWS
                    and overlap.rows >= OVERLAP_SHARE * outcome.rows):
                outcome.refused = overlap
                break
    if outcome.refused is not None and not allow_overlap:
        db.session.rollback()
        if dry_run:
            return
        raise ProbableReimport(outcome.refused, outcome.rows)
    if old is not None:
        _remove(old, actor, state="replaced", replaced_by=batch.id)
        outcome.replaced = old.id
    if forms_seen:
        db.session.execute(sa.insert(PaperFormNumber),
                           [{"digest": d, "batch_id": batch.id} for d in sorted(forms_seen)])
    batch.checksum = outcome.checksum
    batch.rows = outcome.stored
    batch.office_ids = sorted(used_offices)
    batch.first_month, batch.last_month = outcome.first_month, outcome.last_month
    batch.details = {"overlaps": {str(o.batch_id): o.rows for o in outcome.overlaps}} \
        if outcome.overlaps else None
    acc.write(db.session)
    audit.record("imports.import", actor=actor, target=f"import_batch:{batch.id}",
                 rows=outcome.stored, file_name=outcome.file_name,
                 months=[outcome.first_month, outcome.last_month],
                 replaced=outcome.replaced, overlap_allowed=bool(outcome.refused))
    outcome.batch_id = batch.id
    if dry_run:
        db.session.rollback()
        outcome.batch_id = None
        return
    db.session.commit()


#: the PostgreSQL advisory lock that serialises the end of concurrent imports: 'PAPR'
_LOCK = 0x50415052


def _serialise() -> None:
    """Hold the paper-import lock until the transaction ends, so that the checks against
    stored batches (equal file, form numbers, overlap) see every import committed before:
    two runs of the same file at once store it once. SQLite: the import already holds the
    database's write lock since its first insert."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))


def _check_stored(forms: dict[str, int], ids: dict[int, int],
                  replace: int | None, bad: Callable[[LineError], None]) -> None:
    """Line errors for form numbers already imported (in an active batch other than the one
    being replaced) and ids already stored."""
    digests = list(forms)
    for start in range(0, len(digests), 500):
        query = sa.select(PaperFormNumber.digest, PaperFormNumber.batch_id).where(
            PaperFormNumber.digest.in_(digests[start:start + 500]))
        if replace is not None:
            query = query.where(PaperFormNumber.batch_id != replace)
        for digest, batch_id in db.session.execute(query):
            bad(LineError(forms[digest], _("this form number was imported before, in batch "
                                           "%(batch)s", batch=batch_id), "form_no"))
    by_text = {str(uuidlib.UUID(int=i)): line for i, line in ids.items()}
    texts = list(by_text)
    for start in range(0, len(texts), 500):
        for stored in db.session.scalars(sa.select(Response.uuid).where(
                Response.uuid.in_(texts[start:start + 500]))):
            bad(LineError(by_text[stored], _("id %(value)s is already stored", value=stored),
                          "id"))


def _overlaps(batch_id: int, exclude: set[int], office_ids: set[int], first: str,
              last: str) -> list[Overlap]:
    """Earlier active batches sharing rows with batch ``batch_id`` (same office, day,
    instrument and answers, as multisets), most shared first."""
    r = Response.__table__
    key = (r.c.office_id, r.c.submitted_at, r.c.instrument_id, r.c.answers)
    new = (sa.select(*key, sa.func.count().label("n")).where(r.c.batch_id == batch_id)
           .group_by(*key).subquery("new"))
    old = (sa.select(r.c.batch_id, *key, sa.func.count().label("n"))
           .join(ImportBatch.__table__, ImportBatch.id == r.c.batch_id)
           .where(ImportBatch.state == "active", r.c.batch_id != batch_id,
                  r.c.office_id.in_(sorted(office_ids)), r.c.month >= first,
                  r.c.month <= last,
                  *([r.c.batch_id.not_in(sorted(exclude))] if exclude else []))
           .group_by(r.c.batch_id, *key).subquery("old"))
    shared = sa.func.sum(sa.case((new.c.n < old.c.n, new.c.n), else_=old.c.n))
    query = (sa.select(old.c.batch_id, ImportBatch.file_name, shared)
             .join(new, sa.and_(*(new.c[c.name] == old.c[c.name] for c in key)))
             .join(ImportBatch, ImportBatch.id == old.c.batch_id)
             .group_by(old.c.batch_id, ImportBatch.file_name)
             .order_by(shared.desc(), old.c.batch_id))
    return [Overlap(b, name, int(n)) for b, name, n in db.session.execute(query)]


# --- batches -------------------------------------------------------------------------------

def list_batches(office_ids: set[int] | None = None, limit: int = 500) -> list[ImportBatch]:
    """The latest batches (newest first) whose offices all lie in ``office_ids`` (None:
    every batch)."""
    batches = db.session.scalars(sa.select(ImportBatch).order_by(ImportBatch.id.desc())
                                 .limit(limit * 4 if office_ids is not None else limit))
    return [b for b in batches if batch_in_scope(b, office_ids)][:limit]


def get_batch(batch_id: int, office_ids: set[int] | None = None) -> ImportBatch:
    """Raises NotFound for an unknown batch or one outside ``office_ids``."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or not batch_in_scope(batch, office_ids):
        raise NotFound("unknown_batch", _("There is no import batch %(id)s.", id=batch_id))
    return batch


def office_codes(batch: ImportBatch) -> list[str]:
    ids = batch.office_ids or []
    if not ids:
        return []
    return sorted(db.session.scalars(sa.select(Office.code).where(Office.id.in_(ids))))


@dataclass(frozen=True)
class UndoOutcome:
    batch_id: int
    removed: int
    first_month: str
    last_month: str


def undo_batch(batch_id: int, *, actor: str, office_ids: set[int] | None = None
               ) -> UndoOutcome:
    """Remove an active batch's answers (with their comments' handling) and their tallies,
    in one transaction, audited; the batch stays listed as undone. Raises NotFound (unknown
    or out of scope) or Conflict (not active)."""
    try:
        batch = _active_batch(batch_id, office_ids, lock=True)
        removed = _remove(batch, actor, state="undone")
        audit.record("imports.undo", actor=actor, target=f"import_batch:{batch.id}",
                     rows=removed, file_name=batch.file_name,
                     months=[batch.first_month, batch.last_month])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return UndoOutcome(batch.id, removed, batch.first_month, batch.last_month)


def _remove(batch: ImportBatch, actor: str, *, state: str, replaced_by: int | None = None
            ) -> int:
    """Delete a batch's answers, subtract them from the tallies, forget its form numbers and
    mark it ``state`` (in the caller's transaction). Returns the answers removed."""
    r = Response.__table__
    rows = [TallyRow(*row) for row in db.session.execute(
        sa.select(r.c.office_id, r.c.month, r.c.instrument_id, r.c.channel, r.c.answers,
                  r.c.expectations)
        .where(r.c.batch_id == batch.id, r.c.counted.is_(True)))]
    removed = db.session.execute(sa.delete(Response).where(Response.batch_id == batch.id)
                                 .execution_options(synchronize_session=False)).rowcount
    remove_from_tallies(db.session, rows)
    db.session.execute(sa.delete(PaperFormNumber).where(PaperFormNumber.batch_id == batch.id))
    batch.state = state
    batch.ended_at = utcnow()
    batch.ended_by = actor[:64]
    batch.replaced_by = replaced_by
    if replaced_by is not None:
        audit.record("imports.replace", actor=actor, target=f"import_batch:{batch.id}",
                     rows=removed, replaced_by=replaced_by)
    return int(removed or 0)

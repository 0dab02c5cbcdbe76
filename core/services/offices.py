"""The office tree: import, lookup, descendants."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import NotAllowed, NotFound
from core.extensions import db
from core.models import OFFICE_LEVELS, OFFICE_REPORT_FIELDS, Office, OfficeClosure
from core.services.tx import transaction

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
OFFICE_COLUMNS = ("code", "name", "parent_code", "level")
#: the longest text each optional report column may hold
REPORT_FIELD_LIMITS = {"superior_name": 255, "document_symbol": 32, "place_name": 64,
                       "signer_capacity": 128, "signer_title": 128, "signer_name": 128,
                       "report_recipients": 2000}


@dataclass
class LineError:
    """One problem of an imported file: its line, the reason, and for a field's problem the
    field (column or rule key, e.g. ``answers.I.1``) and the rule's code."""

    line: int
    reason: str
    field: str | None = None
    code: str = "invalid"

    def __str__(self) -> str:
        if self.field:
            return _("line %(line)s: %(field)s: %(reason)s", line=self.line, field=self.field,
                     reason=self.reason)
        return _("line %(line)s: %(reason)s", line=self.line, reason=self.reason)


class ImportFailed(Exception):
    """A file was rejected whole; ``errors`` lists every bad line (up to a cap)."""

    def __init__(self, errors: list[LineError], total: int | None = None) -> None:
        super().__init__(f"{total or len(errors)} bad line(s)")
        self.errors = errors
        self.total = total if total is not None else len(errors)


@dataclass
class OfficeImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


def get_office(code: str) -> Office:
    """The office with this code, whatever the letter case typed (codes are unique
    case-insensitively). Raises Invalid(404) when no office has this code (a string that
    cannot be a code, e.g. one with control characters, is not even looked up)."""
    office = (db.session.scalar(sa.select(Office).where(
        sa.func.lower(Office.code) == code.lower())) if CODE_RE.match(code or "") else None)
    if office is None:
        raise NotFound("unknown_office", _("There is no office with the code %(code)s.",
                                           code=code))
    return office


def ensure_collecting(office: Any) -> None:
    """Raises NotAllowed (``office_inactive``) when the office (anything with ``active`` and
    ``name``) is not collecting answers: the one check every channel shares."""
    if not office.active:
        raise NotAllowed("office_inactive", _("%(name)s is not collecting answers at the "
                                              "moment.", name=office.name))


def descendant_ids(office_id: int) -> list[int]:
    return list(db.session.scalars(
        sa.select(OfficeClosure.descendant_id).where(OfficeClosure.ancestor_id == office_id)))


def rebuild_closure() -> None:
    """Recompute every (ancestor, descendant) pair from the parent links (in the caller's
    transaction)."""
    parents = dict(db.session.execute(sa.select(Office.id, Office.parent_id)).all())
    rows = []
    for oid in parents:
        depth, node, seen = 0, oid, set()
        while node is not None and node not in seen:
            seen.add(node)
            rows.append({"ancestor_id": node, "descendant_id": oid, "depth": depth})
            node, depth = parents.get(node), depth + 1
    db.session.execute(sa.delete(OfficeClosure))
    if rows:
        db.session.execute(sa.insert(OfficeClosure), rows)


def _check_rows(rows: Iterable[tuple[int, dict[str, str]]],
                existing: dict[str, Office]) -> tuple[list[tuple[int, dict]], list[LineError]]:
    errors: list[LineError] = []
    good: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        parent = (row.get("parent_code") or "").strip()
        level = (row.get("level") or "").strip().lower()
        problems = []
        if not CODE_RE.match(code):
            problems.append(_("code %(code)r must be 1-32 letters, digits, '.', '_' or '-'",
                              code=code))
        elif code.lower() in seen:
            problems.append(_("code %(code)s already appears on line %(line)s",
                              code=code, line=seen[code.lower()]))
        if not name or len(name) > 255:
            problems.append(_("name must be 1-255 characters"))
        if level not in OFFICE_LEVELS:
            problems.append(_("level %(level)r is not one of %(levels)s", level=level,
                              levels=", ".join(OFFICE_LEVELS)))
        if parent and parent.lower() == code.lower():
            problems.append(_("an office cannot be its own parent"))
        extras = {}
        for key in OFFICE_REPORT_FIELDS:
            if key in row:  # a column of the file: an empty cell clears the field
                value = (row.get(key) or "").strip().replace("\\n", "\n") or None
                if value and len(value) > REPORT_FIELD_LIMITS[key]:
                    problems.append(_("%(field)s must be at most %(limit)s characters",
                                      field=key, limit=REPORT_FIELD_LIMITS[key]))
                extras[key] = value
        if problems:
            errors.extend(LineError(line, p) for p in problems)
            continue
        seen[code.lower()] = line
        good.append((line, {"code": code, "name": name, "parent_code": parent or None,
                            "level": level, "extras": extras}))
    # parents must exist in the file or the database; the result must stay a tree (codes
    # compared whatever their letter case: ``existing`` is keyed by lower-case code)
    known = set(seen) | set(existing)
    parent_of = {c: (o.parent.code.lower() if o.parent else None) for c, o in existing.items()}
    for _line, row in good:
        parent_of[row["code"].lower()] = (row["parent_code"] or "").lower() or None
    for line, row in good:
        if row["parent_code"] and row["parent_code"].lower() not in known:
            errors.append(LineError(line, _("parent office %(code)s does not exist",
                                            code=row["parent_code"])))
            continue
        node, steps = parent_of.get(row["code"].lower()), 0
        while node is not None and steps <= len(parent_of):
            if node == row["code"].lower():
                errors.append(LineError(line, _("office %(code)s would be its own ancestor",
                                                code=row["code"])))
                break
            node, steps = parent_of.get(node), steps + 1
    return good, errors


def import_offices(stream: TextIO) -> OfficeImportResult:
    """Create or update offices from CSV ``code,name,parent_code,level[,active]`` and the
    optional report columns (:data:`~core.models.OFFICE_REPORT_FIELDS`; a column left out
    keeps what is stored, an empty cell clears it; ``\\n`` in ``report_recipients`` is a
    line break).

    All or nothing: raises ImportFailed listing every bad line, and stores nothing then.
    Re-importing the same file changes nothing.
    """
    reader = _reader(stream)
    with transaction():
        existing = existing_offices()
        good, actives = _read_rows(reader, existing)
        result = _apply_rows(good, actives, existing)
        db.session.flush()
        rebuild_closure()
    return result


def _reader(stream: TextIO) -> csv.DictReader:
    """A reader of an offices file with a checked header. Raises ImportFailed."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in OFFICE_COLUMNS if c not in header]
    unknown = [c for c in header
               if c not in (*OFFICE_COLUMNS, "active", *OFFICE_REPORT_FIELDS)]
    if missing or unknown:
        raise ImportFailed([LineError(1, _(
            "the header must be code,name,parent_code,level (optional: active, "
            "%(optional)s); missing: %(missing)s; unknown: %(unknown)s",
            optional=", ".join(OFFICE_REPORT_FIELDS),
            missing=", ".join(missing) or "-", unknown=", ".join(unknown) or "-"))])
    reader.fieldnames = header
    return reader


def existing_offices() -> dict[str, Office]:
    """Every office by lower-case code (codes are matched whatever their letter case)."""
    return {o.code.lower(): o for o in db.session.scalars(sa.select(Office))}


def check_offices_file(stream: TextIO) -> tuple[list[dict], list[LineError]]:
    """What :func:`import_offices` would do with a file, changing nothing: the good rows
    (each with ``line``, ``code``, ``name``, ``parent_code``, ``level`` and ``action``:
    create/update/unchanged) and every bad line. For the upload preview."""
    try:
        reader = _reader(stream)
        existing = existing_offices()
        good, actives = _read_rows(reader, existing)
    except ImportFailed as exc:
        return [], exc.errors
    except UnicodeDecodeError:
        return [], [LineError(1, _("the file is not UTF-8 text"))]
    rows = []
    for line, row in good:
        office = existing.get(row["code"].lower())
        if office is None:
            action = "create"
        elif _differs(office, row, actives[row["code"]]):
            action = "update"
        else:
            action = "unchanged"
        rows.append({"line": line, "code": row["code"], "name": row["name"],
                     "parent_code": row["parent_code"], "level": row["level"],
                     "action": action})
    return rows, []


def _differs(office: Office, row: dict, active: bool) -> bool:
    parent = office.parent.code.lower() if office.parent else None
    return (office.name, office.level, office.active) != (row["name"], row["level"], active) \
        or parent != ((row["parent_code"] or "").lower() or None) \
        or any(getattr(office, k) != v for k, v in row["extras"].items())


def _read_rows(reader: csv.DictReader, existing: dict[str, Office]
               ) -> tuple[list[tuple[int, dict]], dict[str, bool]]:
    """The checked rows and each code's active flag. Raises ImportFailed."""
    raw_rows = [(reader.line_num, row) for row in reader]
    good, errors = _check_rows(raw_rows, existing)
    actives = {}
    for line, row in raw_rows:
        flag = (row.get("active") or "").strip().lower()
        if flag and flag not in ("1", "0", "true", "false", "yes", "no"):
            errors.append(LineError(line, _("active must be 1 or 0")))
        actives[(row.get("code") or "").strip()] = flag in ("", "1", "true", "yes")
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.line))
    return good, actives


def _apply_rows(good: list[tuple[int, dict]], actives: dict[str, bool],
                existing: dict[str, Office]) -> OfficeImportResult:
    result = OfficeImportResult()
    by_code = dict(existing)  # lower-case code -> office
    for _line, row in good:
        office = by_code.get(row["code"].lower())
        extras = row["extras"]
        if office is None:
            office = Office(code=row["code"], name=row["name"], level=row["level"],
                            active=actives[row["code"]], **extras)
            db.session.add(office)
            by_code[row["code"].lower()] = office
            result.created += 1
        elif _differs(office, row, actives[row["code"]]):
            office.name, office.level = row["name"], row["level"]
            office.active = actives[row["code"]]
            for key, value in extras.items():
                setattr(office, key, value)
            result.updated += 1
        else:
            result.unchanged += 1
        result.codes.append(row["code"])
    for _line, row in good:
        by_code[row["code"].lower()].parent = (by_code[row["parent_code"].lower()]
                                               if row["parent_code"] else None)
    return result

"""Setting up the office tree: create, edit, deactivate, move, merge, list and export.

The web pages (``admin/offices_views.py``) and the commands (``flask offices ...``) call the
same functions here, so a web action and its command twin store the same rows and the same
audit events. Every function checks, then changes everything in one transaction or nothing.

History: a move or a merge is recorded in ``office_change`` with the day it took effect,
and audited. A merged office becomes inactive and is placed under the surviving office, so
the closure table pools its past tallies into the survivor's reports from then on. Reports
are computed from the tallies on today's tree (a finalised report stays as it was frozen).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Conflict, Invalid
from core.extensions import db
from core.models import OFFICE_LEVELS, OFFICE_REPORT_FIELDS, Office, OfficeChange
from core.services.audit import record
from core.services.offices import (
    CODE_RE,
    REPORT_FIELD_LIMITS,
    ImportFailed,
    LineError,
    OfficeImportResult,
    _apply_rows,
    existing_offices,
    get_office,
    rebuild_closure,
)
from core.services.tx import transaction
from core.timeutil import VN_TZ, utcnow


def vn_today() -> date:
    return utcnow().astimezone(VN_TZ).date()


EXPORT_COLUMNS = ("code", "name", "parent_code", "level", "active", *OFFICE_REPORT_FIELDS)


def office_row(office: Office) -> dict[str, str]:
    """An office as a row of the offices file (``flask offices export``)."""
    row = {"code": office.code, "name": office.name,
           "parent_code": office.parent.code if office.parent else "",
           "level": office.level, "active": "1" if office.active else "0"}
    for key in OFFICE_REPORT_FIELDS:
        row[key] = (getattr(office, key) or "").replace("\n", "\\n")
    return row


def tree(office_ids: set[int] | None = None, *, include_inactive: bool = True
         ) -> list[tuple[Office, int]]:
    """(office, depth) in tree order (parents first, children by code); only the given
    offices when ``office_ids`` is not None (the top of each visible subtree at depth 0)."""
    query = sa.select(Office)
    if office_ids is not None:
        query = query.where(Office.id.in_(office_ids or {-1}))
    if not include_inactive:
        query = query.where(Office.active.is_(True))
    offices = list(db.session.scalars(query))
    ids = {o.id for o in offices}
    by_parent: dict[int | None, list[Office]] = {}
    for o in offices:
        by_parent.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    out: list[tuple[Office, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for o in sorted(by_parent.get(parent, []), key=lambda x: x.code.lower()):
            out.append((o, depth))
            walk(o.id, depth + 1)

    walk(None, 0)
    return out


def export_csv(office_ids: set[int] | None = None) -> str:
    """The offices (in tree order) as a file ``flask offices import`` takes back unchanged."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for office, _depth in tree(office_ids):
        writer.writerow(office_row(office))
    return out.getvalue()


def _audit_import(result: OfficeImportResult, before: dict[str, dict], actor: str) -> None:
    for code in result.codes:
        office = get_office(code)
        old = before.get(code.lower())
        new = office_row(office)
        if old is None:
            record("office.create", actor=actor, office_id=office.id,
                   target=f"office:{office.code}",
                   name=office.name, level=office.level, parent=new["parent_code"] or None)
        elif old != new:
            changed = sorted(k for k in new if old.get(k) != new[k])
            record("office.update", actor=actor, office_id=office.id,
                   target=f"office:{office.code}",
                   fields=changed)
            if old["parent_code"].lower() != new["parent_code"].lower():
                _record_move(office, old["parent_code"], vn_today(), actor)


def _record_move(office: Office, old_parent_code: str, on: date, actor: str) -> None:
    old_parent = get_office(old_parent_code) if old_parent_code else None
    db.session.add(OfficeChange(kind="move", office_id=office.id,
                                old_parent_id=old_parent.id if old_parent else None,
                                new_parent_id=office.parent_id, effective_on=on,
                                actor=actor[:64], created_at=utcnow()))
    record("office.move", actor=actor, office_id=office.id, target=f"office:{office.code}",
           old_parent=old_parent_code or None,
           new_parent=office.parent.code if office.parent else None,
           effective_on=on.isoformat())


def import_rows(stream: Any, actor: str, allowed: set[int] | None = None
                ) -> OfficeImportResult:
    """:func:`core.services.offices.import_offices` (same rules, all or nothing), audited:
    one ``office.create`` / ``office.update`` event per office created or changed, and a dated
    move (``office_change`` + ``office.move``) for each office whose parent changed.

    With ``allowed`` (the office ids a head may manage), every row's office (when it exists)
    and parent must be among them: a line outside is a bad line. Raises ImportFailed.
    """
    from core.services.offices import _read_rows, _reader

    reader = _reader(stream)
    with transaction():
        existing = existing_offices()
        before = {c: office_row(o) for c, o in existing.items()}
        good, actives = _read_rows(reader, existing)
        if allowed is not None:
            _check_scope(good, existing, allowed)
        result = _apply_rows(good, actives, existing)
        db.session.flush()
        rebuild_closure()
        db.session.flush()
        _audit_import(result, before, actor)
    return result


def _check_scope(good: list[tuple[int, dict]], existing: dict[str, Office],
                 allowed: set[int]) -> None:
    """Raises ImportFailed naming each line that reaches outside ``allowed``: an existing
    office outside, or a parent outside (unless it is the office's parent already, as for
    the head's own office)."""
    errors = []
    new_codes = {row["code"].lower() for _l, row in good} - set(existing)
    for line, row in good:
        office = existing.get(row["code"].lower())
        parent = (row["parent_code"] or "").lower()
        if office is not None and office.id not in allowed:
            errors.append(LineError(line, _("office %(code)s is outside your offices",
                                            code=row["code"])))
            continue
        current = office.parent.code.lower() if office is not None and office.parent else ""
        inside = parent in new_codes or (parent in existing and existing[parent].id in allowed)
        if not inside and not (office is not None and parent == current):
            errors.append(LineError(line, _("parent office %(code)s is outside your offices",
                                            code=row["parent_code"] or "-")))
    if errors:
        raise ImportFailed(errors)


def check_scope_file(stream: Any, allowed: set[int]) -> None:
    """Raises ImportFailed naming each line of a (valid) offices file outside ``allowed``."""
    from core.services.offices import _read_rows, _reader

    existing = existing_offices()
    good, _actives = _read_rows(_reader(stream), existing)
    _check_scope(good, existing, allowed)


def descendant_ids(office_id: int) -> list[int]:
    from core.services.offices import descendant_ids as ids

    return ids(office_id)


def row_csv(values: dict[str, Any]) -> io.StringIO:
    """One office's values (a form's) as an offices file of one row, so that the web form
    and ``flask offices import`` go through the very same checks."""
    out = io.StringIO()
    columns = ("code", "name", "parent_code", "level", "active", *OFFICE_REPORT_FIELDS)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerow({k: ("" if values.get(k) is None else str(values[k]).replace("\n", "\\n"))
                     for k in columns})
    out.seek(0)
    return out


def set_active(office: Office, active: bool, actor: str) -> bool:
    """Deactivate (or reactivate) an office: it stops collecting answers; its history
    stays. Audited (``office.deactivate`` / ``office.activate``). Returns whether it
    changed."""
    if office.active == active:
        return False
    with transaction():
        office.active = active
        record("office.activate" if active else "office.deactivate", actor=actor,
               office_id=office.id, target=f"office:{office.code}")
    return True


def _check_day(on: date | None) -> date:
    on = on or vn_today()
    if on > vn_today():
        raise Invalid("invalid", _("The change cannot take effect in the future."),
                      {"effective_on": _("must be today or earlier")})
    return on


def _is_below(node: Office | None, office: Office) -> bool:
    while node is not None:
        if node.id == office.id:
            return True
        node = node.parent
    return False


def move_office(office: Office, new_parent: Office | None, actor: str,
                on: date | None = None) -> None:
    """Place ``office`` (with its subtree) under ``new_parent`` (None: a top office), from
    day ``on`` (default today, Vietnam). Dated and audited. Raises Conflict when the new
    parent is the office itself or below it, Invalid for a day in the future."""
    on = _check_day(on)
    if new_parent is not None and _is_below(new_parent, office):
        raise Conflict("invalid", _("An office cannot be placed under itself or one of its "
                                    "own offices."))
    if new_parent is not None and new_parent.id == office.parent_id or (
            new_parent is None and office.parent_id is None):
        return
    old = office.parent.code if office.parent else ""
    with transaction():
        office.parent = new_parent
        db.session.flush()
        rebuild_closure()
        _record_move(office, old, on, actor)


def merge_office(merged: Office, survivor: Office, actor: str, on: date | None = None) -> None:
    """Merge ``merged`` into ``survivor`` from day ``on``: the merged office stops collecting
    answers (inactive) and is placed under the survivor, so the survivor's reports include
    the merged office's history (its tallies) from then on; its own offices move to the
    survivor. Dated (``office_change`` kind merge) and audited (``office.merge``). Raises
    Conflict when the survivor is the merged office, below it, or inactive."""
    on = _check_day(on)
    if _is_below(survivor, merged):
        raise Conflict("invalid", _("An office cannot be merged into itself or one of its "
                                    "own offices."))
    if not survivor.active:
        raise Conflict("invalid", _("%(name)s is not active; merge into an active office.",
                                    name=survivor.name))
    with transaction():
        old_parent = merged.parent
        for child in list(merged.children):
            child.parent = survivor
            db.session.add(OfficeChange(kind="move", office_id=child.id,
                                        old_parent_id=merged.id, new_parent_id=survivor.id,
                                        effective_on=on, actor=actor[:64],
                                        created_at=utcnow()))
        merged.parent = survivor
        merged.active = False
        db.session.add(OfficeChange(kind="merge", office_id=merged.id,
                                    old_parent_id=old_parent.id if old_parent else None,
                                    new_parent_id=survivor.id, into_id=survivor.id,
                                    effective_on=on, actor=actor[:64], created_at=utcnow()))
        db.session.flush()
        rebuild_closure()
        record("office.merge", actor=actor, office_id=survivor.id,
               target=f"office:{merged.code}", into=survivor.code,
               old_parent=old_parent.code if old_parent else None,
               effective_on=on.isoformat())


def changes(office_ids: set[int] | None = None, limit: int = 200) -> list[OfficeChange]:
    """The latest moves and merges (newest first), of the given offices when not None."""
    query = sa.select(OfficeChange).order_by(OfficeChange.effective_on.desc(),
                                             OfficeChange.id.desc()).limit(limit)
    if office_ids is not None:
        query = query.where(OfficeChange.office_id.in_(office_ids or {-1}))
    return list(db.session.scalars(query))


def search(term: str, offices: list[tuple[Office, int]]) -> list[tuple[Office, int]]:
    """The offices whose name or code contains ``term`` (letter case ignored)."""
    needle = (term or "").strip().lower()
    if not needle:
        return offices
    return [(o, d) for o, d in offices if needle in o.code.lower() or needle in o.name.lower()]


__all__ = ["CODE_RE", "EXPORT_COLUMNS", "OFFICE_LEVELS", "REPORT_FIELD_LIMITS", "changes",
           "export_csv", "import_rows", "merge_office", "move_office", "office_row",
           "row_csv", "search", "set_active", "tree"]

"""Counts packed into one binary column per office x month x instrument (the cross-tally and
the priority tally): adding and subtracting them in the database.

A packed row cannot be summed by SQL, so adding is read, add, write: a key that is new is
inserted (``ON CONFLICT DO NOTHING``); otherwise its row is read ``FOR UPDATE`` (PostgreSQL;
SQLite writers hold the database's write lock) and rewritten. Keys are taken in sorted order,
after the tally upserts, the same order in every writer, so concurrent writers do not
deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.services.common import upsert

Key = tuple[int, str, str]  # office, month, instrument


class Layout(Protocol):
    def pack(self, counts: list[int]) -> bytes: ...

    def unpack(self, packed: bytes) -> list[int]: ...


def _where(table: sa.Table, key: Key) -> Any:
    return sa.and_(table.c.office_id == key[0], table.c.month == key[1],
                   table.c.instrument_id == key[2])


def add_packed(session: Session, table: sa.Table, layout_for: Callable[[str], Layout],
               sums: Mapping[Key, list[int]]) -> None:
    """Add ``sums`` (key -> counts, in the layout of the key's instrument) to ``table``."""
    conn = session.connection()
    for key in sorted(sums):
        layout = layout_for(key[2])
        inserted = conn.execute(
            upsert(session, table)
            .values(office_id=key[0], month=key[1], instrument_id=key[2],
                    counts=layout.pack(sums[key]))
            .on_conflict_do_nothing(index_elements=["office_id", "month", "instrument_id"])
            .returning(table.c.office_id)).first()
        if inserted is not None:
            continue
        where = _where(table, key)
        stored = conn.execute(sa.select(table.c.counts).where(where).with_for_update()
                              ).scalar_one()
        total = [a + b for a, b in zip(layout.unpack(stored), sums[key], strict=True)]
        conn.execute(sa.update(table).where(where).values(counts=layout.pack(total)))


def subtract_packed(session: Session, table: sa.Table, layout_for: Callable[[str], Layout],
                    sums: Mapping[Key, list[int]]) -> None:
    """Subtract ``sums`` (responses being deleted, e.g. an undone paper batch) from
    ``table``; a row left without respondents (its first count) is deleted, so the table
    equals what ``flask tallies rebuild`` makes. A key without a stored row (a table not
    rebuilt since the upgrade that added it) is left alone."""
    conn = session.connection()
    for key in sorted(sums):
        layout = layout_for(key[2])
        where = _where(table, key)
        stored = conn.execute(sa.select(table.c.counts).where(where).with_for_update()
                              ).scalar_one_or_none()
        if stored is None:
            continue
        total = [a - b for a, b in zip(layout.unpack(stored), sums[key], strict=True)]
        if total[0] <= 0 or min(total) < 0:
            conn.execute(sa.delete(table).where(where))
        else:
            conn.execute(sa.update(table).where(where).values(counts=layout.pack(total)))

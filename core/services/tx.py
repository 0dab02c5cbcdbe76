"""The one way a service ends its work: ``with transaction(): ...`` commits when the block
ends and rolls back (and re-raises) when anything in it raises.

Inside a request that only reads (GET and HEAD: :mod:`core.db_setup`), a block that writes
(a token's last use, an export's audit row) is a transaction of its own that starts as a
writer: the read transaction the request holds is ended first. On SQLite a read transaction
cannot become a writer once another connection has committed since it began ("database is
locked" at once, waiting cannot help); a fresh ``BEGIN IMMEDIATE`` waits for the write lock
instead (the busy timeout). So a read never fails because of concurrent writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from core import db_setup
from core.extensions import db


@contextmanager
def _as_writer() -> Iterator[None]:
    """In a read-only context: end the read transaction (nothing to keep: it only read) and
    let the transactions begun inside the block write. Elsewhere: nothing."""
    if not db_setup.read_only():
        yield
        return
    if db.session().in_transaction():
        db.session.commit()
    token = db_setup.set_read_only(False)
    try:
        yield
    finally:
        db_setup.reset_read_only(token)


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """Commit the session's work at the end of the block; roll back and re-raise on any
    exception (a domain error raised inside the block leaves nothing behind)."""
    with _as_writer():
        try:
            yield db.session
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise

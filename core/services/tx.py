"""The one way a service ends its work: ``with transaction(): ...`` commits when the block
ends and rolls back (and re-raises) when anything in it raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import scoped_session

from core.extensions import db


@contextmanager
def transaction() -> Iterator[scoped_session]:
    """Commit the session's work at the end of the block; roll back and re-raise on any
    exception (a domain error raised inside the block leaves nothing behind)."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise

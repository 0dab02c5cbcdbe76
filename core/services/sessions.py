"""Server-side sessions of the results area.

Signing in creates a ``user_session`` row and gives the browser a random session id (kept
in the signed session cookie by the web layer); the row stores only the id's SHA-256 digest.
A request is signed in only while its row exists, so:

- signing out deletes that row: a copy of the cookie taken earlier opens nothing, while the
  user's other browsers stay signed in;
- a password change deletes every row of the user (the browser that changed it gets a new
  one); an administrator's reset or disabling of the account deletes them all;
- a session unused for ``SESSION_IDLE_HOURS`` ends.

A database table rather than Redis: it works the same on SQLite and PostgreSQL, across
gunicorn workers, needs no extra service, and is deleted in the same transaction as the
password change that ends it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models import User, UserSession
from core.services.audit import record
from core.services.tx import transaction
from core.timeutil import utcnow

#: how often ``last_seen_at`` is written (not on every request: GETs mostly only read)
TOUCH_SECONDS = 300


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_IDLE_HOURS"]))


def start_session(user: User) -> str:
    """A new session of ``user`` (committed); returns its id, which only the browser keeps.
    Sessions idle for too long (of every user) are deleted on the way."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction() as session:
        session.execute(sa.delete(UserSession)
                        .where(UserSession.last_seen_at < now - _idle_limit()))
        session.add(UserSession(user_id=user.id, digest=_digest(session_id), created_at=now,
                                last_seen_at=now))
    return session_id


def _active_user(user_id: str) -> User | None:
    """The active user named by Flask-Login's ``"<id>:<nonce>"`` (:meth:`User.get_id`); a
    changed nonce (new password, reset, disabled) refuses it too."""
    uid, _sep, nonce = user_id.partition(":")
    if not uid.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


def session_user(user_id: str, session_id: str | None) -> User | None:
    """The user of a live session, from what the session cookie holds: ``user_id`` as
    stored by Flask-Login and the session id. None when the session was ended, is idle for
    too long or belongs to someone else."""
    user = _active_user(user_id)
    if user is None or not session_id:
        return None
    row = db.session.scalar(sa.select(UserSession)
                            .where(UserSession.digest == _digest(session_id)))
    now = utcnow()
    if row is None or row.user_id != user.id or row.last_seen_at < now - _idle_limit():
        return None
    pending = db.session.new or db.session.dirty or db.session.deleted
    if row.last_seen_at < now - timedelta(seconds=TOUCH_SECONDS) and not pending:
        row_id = row.id
        # end the reading transaction (nothing is pending), so that the write below starts
        # a transaction of its own (SQLite: no upgrade of a read snapshot to a write)
        db.session.commit()
        with transaction() as session:
            session.execute(sa.update(UserSession).where(UserSession.id == row_id)
                            .values(last_seen_at=now))
    return user


def end_session(user: User, session_id: str | None) -> None:
    """Sign out: delete this session (committed) and record it; the user's other sessions
    go on."""
    with transaction() as session:
        if session_id:
            session.execute(sa.delete(UserSession)
                            .where(UserSession.digest == _digest(session_id),
                                   UserSession.user_id == user.id))
        record("signout", actor=user.username, office_id=user.office_id)


def end_all_sessions(user: User) -> int:
    """Delete every session of ``user`` in the caller's transaction; returns how many."""
    return db.session.execute(sa.delete(UserSession)
                              .where(UserSession.user_id == user.id)).rowcount

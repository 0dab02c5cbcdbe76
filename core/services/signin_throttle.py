"""Sign-in throttling: how many attempts an address and an account may make.

Three fixed-window counters are taken before a password is checked, narrowest first, and the
attempt is refused as soon as one is over its limit (``core/config.py``):

- ``SIGNIN_LIMIT_CLIENT``: attempts from one client address, whatever the account
  (a scanner trying many names);
- ``SIGNIN_LIMIT_ACCOUNT_CLIENT``: attempts on one account from one address. An attacker's
  wrong passwords block the attacker's address for that account, not the user elsewhere;
- ``SIGNIN_LIMIT_ACCOUNT``: attempts on one account from every address together, a slower
  backstop against guessing from many addresses. An administrator can unlock the account.

Counting is one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per counter (the same
statement on SQLite and PostgreSQL), and the attempt is counted *before* the password is
checked: 15 parallel attempts against a limit of 5 get exactly 5 checks, across threads and
worker processes alike. A successful sign-in takes its attempt back, so only failures add up.

Refused attempts are summarised: one ``signin.throttled`` audit event per client and window
(the client limit's window), whose ``attempts`` detail counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from limits import parse
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import RateLimited
from core.extensions import db
from core.models import AuditEvent, SignInThrottle
from core.services.audit import record
from core.services.tx import transaction
from core.timeutil import utcnow


class TooManyAttempts(RateLimited):
    def __init__(self, retry_after: int = 60) -> None:
        super().__init__("rate_limited", _("Too many sign-in attempts. Please wait a few "
                                           "minutes and try again."),
                         retry_after=max(1, retry_after))


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int

    @classmethod
    def of(cls, setting: str) -> Limit:
        """``"5/15minute"`` -> Limit(5, 900)."""
        item = parse(current_app.config[setting])
        return cls(int(item.amount), int(item.get_expiry()))


#: (kind, limit setting), in the order the counters are taken
CHECKS = (("client", "SIGNIN_LIMIT_CLIENT"),
          ("account_client", "SIGNIN_LIMIT_ACCOUNT_CLIENT"),
          ("account", "SIGNIN_LIMIT_ACCOUNT"))


def _key(kind: str, account: str | None, client: str | None) -> str:
    return f"{kind}:{account or ''}|{client or ''}"[:160]


def _parts(kind: str, account: str, client: str) -> tuple[str | None, str | None]:
    """(account, client) a counter of ``kind`` is about."""
    return {"client": (None, client), "account_client": (account, client),
            "account": (account, None), "refused": (None, client)}[kind]


def _count(kind: str, account: str, client: str, seconds: int, now: datetime
           ) -> tuple[int, datetime, int | None]:
    """Add one to a counter in the caller's transaction, starting a new window when the
    current one is over. Returns (attempts in the window, window start, audit event id)."""
    acc, cli = _parts(kind, account, client)
    table = SignInThrottle.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(key=_key(kind, acc, cli), kind=kind, account=acc,
                                        client=cli, window_start=now, attempts=1)
    expired = table.c.window_start <= now - timedelta(seconds=seconds)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.key], set_={
        "attempts": sa.case((expired, 1), else_=table.c.attempts + 1),
        "window_start": sa.case((expired, stmt.excluded.window_start),
                                else_=table.c.window_start),
        "audit_event_id": sa.case((expired, sa.null()), else_=table.c.audit_event_id),
    }).returning(table.c.attempts, table.c.window_start, table.c.audit_event_id)
    attempts, start, event_id = db.session.execute(stmt).one()
    return attempts, start, event_id


def admit(account: str, client: str) -> None:
    """Count a sign-in attempt on ``account`` from ``client`` (committed) before its
    password is checked. Raises TooManyAttempts, after counting the refusal in the audit
    summary, when a limit is reached."""
    account, client = account[:64], client[:64]  # as long as the columns allow
    now = utcnow()
    with transaction():
        for kind, setting in CHECKS:
            limit = Limit.of(setting)
            attempts, start, _event = _count(kind, account, client, limit.seconds, now)
            if kind == "client" and attempts == 1:
                _purge(now)  # once per client and window: forget windows long over
            if attempts > limit.amount:
                _summarise_refusal(account, client, now)
                break
        else:
            return
    raise TooManyAttempts(int((start + timedelta(seconds=limit.seconds) - now).total_seconds()))


def _summarise_refusal(account: str, client: str, now: datetime) -> None:
    """One ``signin.throttled`` audit event per client and window; later refusals in the
    window update its count. The counter row is locked by the upsert until the commit, so
    the updates of one client's summary happen in order."""
    seconds = Limit.of("SIGNIN_LIMIT_CLIENT").seconds
    attempts, start, event_id = _count("refused", account, client, seconds, now)
    details = {"client": client, "attempts": attempts,
               "since": start.isoformat(timespec="seconds")}
    if event_id is None:
        event = record("signin.throttled", actor=account or "-", target=f"client:{client}",
                       **details)
        db.session.flush()
        db.session.execute(sa.update(SignInThrottle)
                           .where(SignInThrottle.key == _key("refused", None, client))
                           .values(audit_event_id=event.id))
    else:
        db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id)
                           .values(details=details))


def succeeded(account: str, client: str) -> None:
    """A correct password: the attempt counted by :func:`admit` is taken back, and this
    client's failures on this account are forgotten (committed)."""
    account, client = account[:64], client[:64]
    table = SignInThrottle.__table__
    with transaction() as session:
        session.execute(table.delete().where(
            table.c.key == _key("account_client", account, client)))
        session.execute(table.update()
                        .where(table.c.key.in_([_key("client", None, client),
                                                _key("account", account, None)]),
                               table.c.attempts > 0)
                        .values(attempts=table.c.attempts - 1))


def _purge(now: datetime) -> None:
    """Delete the counters whose window ended (those of the longest limit included)."""
    longest = max(Limit.of(setting).seconds for _kind, setting in CHECKS)
    db.session.execute(sa.delete(SignInThrottle)
                       .where(SignInThrottle.window_start < now - timedelta(seconds=longest)))


def locked_accounts() -> dict[str, datetime]:
    """Accounts that some address (or, through the backstop, every address) may not sign in
    to right now: account -> when the longest such block ends."""
    now = utcnow()
    locked: dict[str, datetime] = {}
    for kind, setting in CHECKS[1:]:
        limit = Limit.of(setting)
        rows = db.session.execute(sa.select(SignInThrottle.account, SignInThrottle.window_start)
                                  .where(SignInThrottle.kind == kind,
                                         SignInThrottle.attempts >= limit.amount,
                                         SignInThrottle.window_start
                                         > now - timedelta(seconds=limit.seconds)))
        for account, start in rows:
            until = start + timedelta(seconds=limit.seconds)
            locked[account] = max(until, locked.get(account, until))
    return locked


def unlock(account: str, *, actor: str, office_id: int | None = None) -> int:
    """Forget every failed attempt on ``account`` (from every address), committed; returns
    how many counters were cleared."""
    with transaction() as session:
        cleared = session.execute(sa.delete(SignInThrottle)
                                  .where(SignInThrottle.account == account)).rowcount
        record("user.unlock", actor=actor, office_id=office_id, target=f"user:{account}")
    return cleared

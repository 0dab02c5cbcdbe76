"""Per-connection database settings, applied to every engine by driver.

SQLite: WAL so readers never wait for the writer, foreign keys enforced, a busy timeout, and
``BEGIN IMMEDIATE`` for every transaction that may write (POST/PUT/PATCH/DELETE requests, CLI
commands), so it takes the write lock when it starts instead of failing with "database is
locked" when it upgrades from reading to writing under load. Transactions begun while
:func:`read_only_transactions` is on (the web layer turns it on for GET and HEAD requests, see
:mod:`core.http`) start a plain deferred transaction: in WAL mode they read a snapshot without
queueing behind writers. A service that must write while serving such a request (a token's
last use, an export's audit row) does it through :func:`core.services.tx.transaction`, which
ends the read transaction and begins a writer for the block.

The switch is a context variable, so it holds for the current thread (or task) only, and this
module never looks at a request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine


def _is_sqlite(dbapi_connection: Any) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA journal_mode=WAL")
    # deleted rows (released pending answers) are overwritten, not left in free pages
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


_read_only: ContextVar[bool] = ContextVar("sipas_read_only_transactions", default=False)


def set_read_only(flag: bool) -> Token[bool]:
    """Whether transactions begun from now on in this context only read (SQLite: deferred
    ``BEGIN``) or may write (``BEGIN IMMEDIATE``, the default). Returns the token to give to
    :func:`reset_read_only` when done."""
    return _read_only.set(flag)


def reset_read_only(token: Token[bool]) -> None:
    """Put the switch back as it was before the :func:`set_read_only` that returned
    ``token``."""
    _read_only.reset(token)


def read_only() -> bool:
    return _read_only.get()


@contextmanager
def read_only_transactions() -> Iterator[None]:
    """Transactions begun inside the block only read: see :func:`set_read_only`."""
    token = set_read_only(True)
    try:
        yield
    finally:
        reset_read_only(token)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """``SQLALCHEMY_ENGINE_OPTIONS`` for the configured database: hidden statement
    parameters always; for PostgreSQL also a pre-ping of each pooled connection (a server's
    connection can drop while it waits in the pool), the pool size and overflow, a pool
    wait limit, connection recycling, a connect timeout and server-side statement and
    idle-in-transaction timeouts (given as connection options, so they hold for every
    session, also behind PgBouncer in session mode). Options set explicitly in the
    configuration win."""
    # hide_parameters: an error's message (and so a logged traceback) never shows the values
    # of a statement (answers, comments, digests, credentials)
    # SQLite: no pre-ping. A connection to a file cannot drop while it waits in the pool, and
    # the ping was one more statement (and pool event) on every request's checkout
    options: dict[str, Any] = {"pool_pre_ping": False, "hide_parameters": True}
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("postgresql"):
        options.update(
            pool_pre_ping=True,
            pool_size=int(config["DB_POOL_SIZE"]),
            max_overflow=int(config["DB_MAX_OVERFLOW"]),
            pool_timeout=float(config["DB_POOL_TIMEOUT"]),
            pool_recycle=int(config["DB_POOL_RECYCLE"]),
            connect_args={
                "connect_timeout": int(config["DB_CONNECT_TIMEOUT"]),
                "options": (f"-c statement_timeout={int(config['DB_STATEMENT_TIMEOUT_MS'])} "
                            "-c idle_in_transaction_session_timeout="
                            f"{int(config['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'])}"),
                "application_name": "sipas",
            })
    options.update(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    return options

"""The figures token: one row whose value changes, by database triggers, whenever a table a
report reads changes (see :mod:`core.services.report_cache`). It holds no data of its own."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base

#: the tables a period report reads (a test checks the list against the SQL a report sends)
SOURCES = ("monthly_tally", "monthly_cross_tally", "monthly_channel_count",
           "monthly_partial_count", "target", "dossier_volume", "receipt", "receipt_use",
           "office", "office_closure")

#: what the report PDF reads besides (a test checks it too): the expectation and priority
#: tallies, and the comments' themes (the drafted assessment)
PDF_SOURCES = (*SOURCES, "monthly_expectation_tally", "monthly_priority_tally",
               "comment_handling", "response")

ALL = ("insert", "update", "delete")

#: table -> the writes that renew the token. ``response`` is never written alone: every
#: insert (the release, an import, a partial answer) adds to the tallies in the same
#: transaction, which renews the token; a trigger per inserted answer would cost SQLite a
#: fifth of an import. Its updates (exclusions, retention) and deletes (an import undone)
#: renew it themselves.
TRIGGERS: dict[str, tuple[str, ...]] = {
    **{table: ALL for table in PDF_SOURCES}, "response": ("update", "delete")}


class FiguresVersion(Base):
    """The single row (id 1) of the figures token; a random 63-bit value, never counted."""

    __tablename__ = "figures_version"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    token: Mapped[int] = mapped_column(sa.BigInteger)


_SQLITE_RENEW = "BEGIN UPDATE figures_version SET token = random() WHERE id = 1; END"


def seed_sql(dialect: str) -> str:
    """The statement that creates the token row if it is missing."""
    if dialect == "postgresql":
        return ("INSERT INTO figures_version (id, token) VALUES "
                "(1, floor(random() * 9.2e18)::bigint) ON CONFLICT (id) DO NOTHING")
    return "INSERT OR IGNORE INTO figures_version (id, token) VALUES (1, random())"


#: PostgreSQL: the token is renewed once per transaction, at its commit (the triggers on the
#: tables are deferred), so writers in different offices do not queue behind one another on
#: the token's row for the length of their transactions, only for their commits
_PG_RENEW = """CREATE OR REPLACE FUNCTION figures_version_renew() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sipas.figures_renewed', true) IS DISTINCT FROM 'on' THEN
        UPDATE figures_version SET token = floor(random() * 9.2e18)::bigint WHERE id = 1;
        PERFORM set_config('sipas.figures_renewed', 'on', true);
    END IF;
    RETURN NULL;
END $$"""


def trigger_ddl(dialect: str, triggers: dict[str, tuple[str, ...]] | None = None
                ) -> list[str]:
    """The statements that create the token row and the triggers renewing it whenever a row
    of a table of ``triggers`` (default :data:`TRIGGERS`; table -> writes) is written.
    SQLite: at once, per row (SQLite has one writer at a time). PostgreSQL: a constraint
    trigger per row, deferred to the commit, renewing the token once per transaction, and
    one on TRUNCATE. Idempotent."""
    out = [seed_sql(dialect)]
    if dialect == "postgresql":
        out.append(_PG_RENEW)
    for table, ops in (TRIGGERS if triggers is None else triggers).items():
        if dialect == "postgresql":
            events = " OR ".join(op.upper() for op in ops)
            out += [f"DROP TRIGGER IF EXISTS figures_version_{table} ON {table}",
                    f"CREATE CONSTRAINT TRIGGER figures_version_{table} AFTER {events} ON "
                    f"{table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                    "figures_version_renew()",
                    f"DROP TRIGGER IF EXISTS figures_version_{table}_truncate ON {table}",
                    f"CREATE TRIGGER figures_version_{table}_truncate AFTER TRUNCATE ON "
                    f"{table} FOR EACH STATEMENT EXECUTE FUNCTION figures_version_renew()"]
            continue
        for op in ALL:
            name = f"figures_version_{table}_{op}"
            out.append(f"DROP TRIGGER IF EXISTS {name}")
            if op in ops:
                out.append(f"CREATE TRIGGER {name} AFTER {op.upper()} ON {table} "
                           f"{_SQLITE_RENEW}")
    return out


def drop_ddl(dialect: str, tables: Iterable[str]) -> list[str]:
    """The statements that drop what :func:`trigger_ddl` made (not the table)."""
    out = []
    for table in tables:
        if dialect == "postgresql":
            out += [f"DROP TRIGGER IF EXISTS figures_version_{table} ON {table}",
                    f"DROP TRIGGER IF EXISTS figures_version_{table}_truncate ON {table}"]
        else:
            out += [f"DROP TRIGGER IF EXISTS figures_version_{table}_{op}" for op in ALL]
    if dialect == "postgresql":
        out.append("DROP FUNCTION IF EXISTS figures_version_renew()")
    return out


@sa.event.listens_for(Base.metadata, "after_create")
def _install(_metadata: sa.MetaData, connection: Connection, **_kw: object) -> None:
    """``create_all`` also makes the token row and the triggers (migrations do it in
    their own step)."""
    if connection.dialect.name in ("sqlite", "postgresql"):
        for statement in trigger_ddl(connection.dialect.name):
            connection.exec_driver_sql(statement)

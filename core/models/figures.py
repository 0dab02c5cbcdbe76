"""The figures token: one row whose value changes, by database triggers, whenever a table a
report reads changes (see :mod:`core.services.report_cache`). It holds no data of its own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base

#: the tables a period report reads (a test checks the list against the SQL a report sends)
SOURCES = ("monthly_tally", "monthly_cross_tally", "monthly_channel_count",
           "monthly_partial_count", "target", "dossier_volume", "receipt", "receipt_use",
           "office", "office_closure")


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


def trigger_ddl(dialect: str, tables: tuple[str, ...] = SOURCES) -> list[str]:
    """The statements that create the token row and the triggers renewing it whenever a row
    of ``tables`` is inserted, updated or deleted (PostgreSQL: once per statement, also on
    TRUNCATE; SQLite: once per row). Idempotent."""
    out = [seed_sql(dialect)]
    if dialect == "postgresql":
        out.append("CREATE OR REPLACE FUNCTION figures_version_renew() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN UPDATE figures_version SET token = "
                   "floor(random() * 9.2e18)::bigint WHERE id = 1; RETURN NULL; END $$")
        for table in tables:
            out += [f"DROP TRIGGER IF EXISTS figures_version_{table} ON {table}",
                    f"CREATE TRIGGER figures_version_{table} AFTER INSERT OR UPDATE OR DELETE "
                    f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                    "figures_version_renew()"]  # noqa: S608 - our own table names
        return out
    for table in tables:
        for op in ("insert", "update", "delete"):
            name = f"figures_version_{table}_{op}"
            out += [f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} AFTER {op.upper()} ON {table} {_SQLITE_RENEW}"]
    return out


@sa.event.listens_for(Base.metadata, "after_create")
def _install(_metadata: sa.MetaData, connection: Connection, **_kw: object) -> None:
    """``create_all`` also makes the token row and the triggers (migrations do it in
    their own step)."""
    if connection.dialect.name in ("sqlite", "postgresql"):
        for statement in trigger_ddl(connection.dialect.name):
            connection.exec_driver_sql(statement)

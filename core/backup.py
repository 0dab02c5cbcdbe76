"""``flask backup DEST``: a consistent copy of the database while the app keeps running.

SQLite: SQLite's online backup API copies the database page by page from a read
transaction, so the copy is one consistent snapshot even while app processes write (in WAL
mode writers are not blocked). The copy is written next to DEST, checked with
``PRAGMA quick_check``, switched to a self-contained rollback journal, then renamed into
place, so DEST is never a half-written file.

PostgreSQL: the command prints the ``pg_dump`` / ``pg_restore`` commands to use (see
docs/deploy.md) and exits with status 2, because it did not make a backup itself.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from sqlalchemy.engine import make_url

from core.cli_support import fail
from core.extensions import db


class BackupError(RuntimeError):
    """The backup could not be made; nothing was written at the destination."""


def sqlite_backup(source: Path, dest: Path, pages_per_step: int = 1024) -> int:
    """Copy the SQLite database ``source`` to ``dest`` with the online backup API.

    Returns the size of the copy in bytes. Raises BackupError when the source does not
    exist or the copy fails its integrity check; DEST is left untouched then."""
    if not source.exists():
        raise BackupError(_("the database file %(path)s does not exist", path=source))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out, pages=pages_per_step)
            check = out.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(_("the copy failed its integrity check: %(result)s",
                                    result=check))
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            out.commit()
        finally:
            out.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    os.replace(tmp, dest)
    return dest.stat().st_size


def postgres_commands(uri: str, dest: str) -> list[str]:
    """The pg_dump command that makes the backup and the pg_restore that brings it back
    (the password never appears: give it through PGPASSWORD or ~/.pgpass)."""
    url = make_url(uri).set(drivername="postgresql", password=None)
    conn = url.render_as_string(hide_password=False)
    return [
        f"pg_dump --format=custom --no-owner --no-privileges --file={dest} '{conn}'",
        f"pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction "
        f"--dbname='{conn}' {dest}",
    ]


@click.command("backup")
@with_appcontext
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
def backup_command(dest: Path, force: bool) -> None:
    """Back up the database to DEST (SQLite: online, consistent while the app runs;
    PostgreSQL: prints the pg_dump command to use)."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    url = make_url(uri)
    if url.get_backend_name() == "postgresql":
        dump, restore = postgres_commands(uri, str(dest))
        click.echo(_("PostgreSQL is backed up with its own tools (see docs/deploy.md). "
                     "Back up with:"))
        click.echo(f"  {dump}")
        click.echo(_("Restore with:"))
        click.echo(f"  {restore}")
        click.echo(_("No backup was made by this command."))
        sys.exit(2)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        fail(_("cannot back up the database %(url)s.", url=repr(url)))
    if dest.exists() and not force:
        fail(_("%(file)s exists; use --force to replace it.", file=dest))
    db.session.remove()  # hold no transaction of ours during the copy
    try:
        size = sqlite_backup(Path(url.database), dest)
    except (BackupError, sqlite3.Error) as exc:
        fail(_("backup failed: %(error)s", error=exc))
    click.echo(_("Backup written to %(file)s (%(size)s bytes).", file=dest, size=size))

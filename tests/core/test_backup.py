"""``flask backup``: a consistent SQLite copy while the app runs that restores to identical
reports; for PostgreSQL the printed pg_dump/pg_restore commands, exercised for real."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import create_app
from core.extensions import db
from core.models import Response
from core.services.demo import load_demo
from core.services.offices import get_office
from core.services.reports import monthly_report
from core.timeutil import month_of, shift_month, utcnow

OFFICES = ("HN", "CN1", "CN1-BD", "SXD")


def _reports() -> dict:
    this = month_of(utcnow())
    months = (shift_month(this, -1), this)
    return {(code, m): monthly_report(get_office(code), m) for code in OFFICES for m in months}


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Response))


def test_sqlite_backup_restores_identical_reports(app, backend, runner, instrument, tmp_path):
    if backend != "sqlite":
        pytest.skip("SQLite backup (PostgreSQL: see the pg_dump test)")
    assert load_demo(instrument, months=2, seed=7) > 0
    before, n = _reports(), _count()
    db.session.remove()

    dest = tmp_path / "backups" / "sipas-backup.sqlite3"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu" in result.output or "Backup written" in result.output
    # one self-contained file: no -wal/-shm beside it is needed
    check = sqlite3.connect(dest)
    assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    check.close()

    restored = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{dest}",
                           "SECRET_KEY": "test-secret"})
    with restored.app_context():
        assert _count() == n
        assert _reports() == before
        db.engine.dispose()

    again = runner.invoke(args=["backup", str(dest)])
    assert again.exit_code == 1 and "--force" in again.output
    assert dest.exists()
    assert runner.invoke(args=["backup", "--force", str(dest)]).exit_code == 0


def test_sqlite_backup_is_consistent_while_a_writer_is_busy(app, backend, runner, offices,
                                                            tmp_path):
    """A transaction that has not committed when the backup runs is not in the copy; the
    backup does not wait for it nor break it."""
    if backend != "sqlite":
        pytest.skip("SQLite only")
    db.session.remove()
    source = Path(db.engine.url.database)
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE office SET name = 'đang sửa' WHERE code = 'HN'")
    dest = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    writer.execute("COMMIT")
    writer.close()
    copy = sqlite3.connect(dest)
    assert copy.execute("SELECT name FROM office WHERE code = 'HN'").fetchone()[0] \
        == "Thành phố Hà Nội"
    assert copy.execute("SELECT count(*) FROM office").fetchone()[0] == 5
    copy.close()


def test_sqlite_backup_of_a_missing_database_fails_cleanly(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/none.sqlite3",
                      "SECRET_KEY": "test-secret"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.sqlite3")])
    assert result.exit_code == 1
    assert "none.sqlite3" in result.output
    assert not (tmp_path / "b.sqlite3").exists()


def test_postgresql_backup_prints_pg_dump_and_the_dump_restores_identical_reports(
        app, backend, runner, instrument, tmp_path):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    result = runner.invoke(args=["backup", str(tmp_path / "sipas.dump")])
    assert result.exit_code == 2
    lines = {line.split()[0]: line.strip() for line in result.output.splitlines()
             if line.startswith("  pg_")}
    lines = {"backup": lines["pg_dump"], "restore": lines["pg_restore"]}
    assert lines["backup"].startswith("pg_dump --format=custom")
    assert "+psycopg" not in lines["backup"]
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("pg_dump/pg_restore not installed")

    load_demo(instrument, months=2, seed=11)
    before, n = _reports(), _count()
    db.session.remove()
    db.engine.dispose()
    subprocess.run(lines["backup"], shell=True, check=True, timeout=120)
    # wipe the data, then restore the dump over it
    db.session.execute(sa.text("DELETE FROM response"))
    db.session.commit()
    assert _count() == 0
    db.session.remove()
    db.engine.dispose()
    subprocess.run(lines["restore"], shell=True, check=True, timeout=120,
                   capture_output=True)
    assert _count() == n
    assert _reports() == before

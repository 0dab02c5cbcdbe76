"""Migrations are history: they build the same schema as the models (no drift) on SQLite and
PostgreSQL, go down and up again, run in the order of their date-named files, and a merged
migration is never edited (migrations/merged.sha256)."""

import json
import os
import re
import shutil
import uuid
from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from core import REPO_ROOT, create_app
from core.extensions import db
from tools import migrations_manifest

MIGRATIONS = REPO_ROOT / "migrations"
# what migrations/alembic.ini's file_template writes: creation date and time (UTC), revision id
# (random hex for new migrations, '0001'... for the first four), slug of the message
FILE_NAME = re.compile(
    r"(?P<when>\d{4}_\d{2}_\d{2}_\d{4})_(?P<revision>[0-9a-z]+)_(?P<slug>\w*)\.py")


def _fresh_database(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migr.sqlite3'}", None
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"sipas_migr_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(base).set(database=name)

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


@pytest.fixture
def migrated_app(backend, tmp_path):
    """An app on an empty database of its own (nothing created by the models)."""
    uri, drop = _fresh_database(backend, tmp_path)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if drop:
            drop()


def _schema_diff() -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def _one_head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    assert len(heads) == 1, (
        f"migrations have {len(heads)} heads {heads}: two branches each added a migration. "
        "Point the down_revision of the migration that is not merged yet at the other head, "
        "and rename its file to today's date so that it sorts last.")
    return heads[0]


def _chain(script: ScriptDirectory) -> list:
    """The revisions from base to head, following down_revision from the single head."""
    head = _one_head(script)
    chain = []
    rev = script.get_revision(head)
    while rev is not None:
        assert not isinstance(rev.down_revision, (tuple, list)), (
            f"{rev.revision} merges {rev.down_revision}: keep the history linear; instead of "
            "`flask db merge`, point the unmerged migration's down_revision at the current "
            "head and give its file today's date")
        chain.append(rev)
        rev = script.get_revision(rev.down_revision) if rev.down_revision else None
    return chain[::-1]


def test_upgrade_downgrade_base_and_upgrade_again_through_the_cli(migrated_app):
    """`flask db upgrade`, `flask db downgrade base`, `flask db upgrade`: same schema as the
    models each time up, nothing but alembic_version left when down."""
    runner = migrated_app.test_cli_runner()
    for step in (["upgrade"], ["downgrade", "base"], ["upgrade"]):
        result = runner.invoke(args=["db", *step])
        assert result.exit_code == 0, (step, result.output)
        if step == ["upgrade"]:
            assert _schema_diff() == [], (step, _schema_diff())
            assert {"office", "response", "monthly_tally", "office_closure"} <= _tables()
        else:
            assert _tables() <= {"alembic_version"}, _tables()


def test_every_migration_downgrades_and_upgrades_again(migrated_app):
    """Step by step: up to each revision, down one step, up again (a downgrade that leaves a
    table, index or type behind makes the second upgrade fail)."""
    for rev in _chain(_script()):
        upgrade(revision=rev.revision)
        downgrade(revision=rev.down_revision or "base")
        upgrade(revision=rev.revision)
    assert _schema_diff() == []


def test_migrations_have_exactly_one_head():
    _one_head(_script())


def test_files_sorted_by_name_are_the_order_in_which_migrations_run():
    script = _script()
    chain = [os.path.basename(rev.path) for rev in _chain(script)]
    files = [p.name for p in migrations_manifest.migration_files(MIGRATIONS)]
    assert files == chain, (
        "the migration files sorted by name must be the order in which they run "
        f"(base to head):\n  files: {files}\n  chain: {chain}\n"
        "A migration written on a branch that runs after migrations merged meanwhile must be "
        "renamed to a later date (keep its revision id); never rename a merged one.")


def test_every_migration_file_is_named_by_date_then_revision():
    for rev in _script().walk_revisions():
        name = os.path.basename(rev.path)
        match = FILE_NAME.fullmatch(name)
        hint = (f"{name}: migration files are named YYYY_MM_DD_HHMM_<revision>_<slug>.py "
                "(creation time in UTC); `flask db migrate` does it (file_template in "
                "migrations/alembic.ini)")
        assert match, hint
        datetime.strptime(match["when"], "%Y_%m_%d_%H%M")  # a real date, or ValueError
        assert match["revision"] == rev.revision, hint


def test_merged_migrations_are_never_edited():
    changed, unrecorded = migrations_manifest.problems(MIGRATIONS)
    assert not changed and not unrecorded, "\n".join(changed + unrecorded)


def test_manifest_write_adds_new_files_and_never_rewrites_a_recorded_one(tmp_path):
    shutil.copytree(MIGRATIONS / "versions", tmp_path / "versions",
                    ignore=shutil.ignore_patterns("__pycache__"))
    merged = migrations_manifest.migration_files(tmp_path)
    assert migrations_manifest.record_new(tmp_path) == [p.name for p in merged]
    new = tmp_path / "versions" / "2099_01_01_0000_abcdef012345_later.py"
    new.write_text('revision = "abcdef012345"\n')

    _, unrecorded = migrations_manifest.problems(tmp_path)
    assert len(unrecorded) == 1 and new.name in unrecorded[0] and "--write" in unrecorded[0]
    assert migrations_manifest.record_new(tmp_path) == [new.name]
    assert migrations_manifest.problems(tmp_path) == ([], [])

    merged[0].write_text(merged[0].read_text() + "# edited\n")
    changed, _ = migrations_manifest.problems(tmp_path)
    assert len(changed) == 1 and merged[0].name in changed[0] and "never edited" in changed[0]
    with pytest.raises(ValueError, match="never edited"):
        migrations_manifest.record_new(tmp_path)
    assert migrations_manifest.problems(tmp_path)[0] == changed  # the digest was kept


def test_the_mixing_stage_migration_scrubs_what_could_trace_an_answer(migrated_app):
    """Rows stored before the mixing stage: exact times become the Vietnam day, the procedure
    copied from a receipt and the kiosk's burst state (a digest of its last answers) go."""
    upgrade(revision="0004")
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO office (id, code, name, level, active, created_at) "
                             "VALUES (1, 'X', 'X', 'department', true, :t)"),
                     {"t": datetime(2026, 1, 1)})
        response = sa.table("response", *(sa.column(c) for c in (
            "uuid", "office_id", "instrument_id", "channel", "answers", "month",
            "submitted_at", "received_at", "started_at", "procedure", "counted")))
        stamp = datetime(2026, 11, 29, 16, 59, 30, 123456)  # 23:59:30 in Hà Nội (UTC+7)
        conn.execute(response.insert(), [
            {"uuid": str(uuid.uuid4()), "office_id": 1, "instrument_id": "hanoi-2022",
             "channel": channel, "answers": "5" * 24, "month": "2026-11",
             "submitted_at": stamp, "received_at": stamp, "started_at": stamp,
             "procedure": "Chứng thực", "counted": True} for channel in ("qr", "paper")])
        conn.execute(sa.text(
            "INSERT INTO kiosk (office_id, name, idle_seconds, created_at, last_seen_at, "
            "burst_digest, burst_count) VALUES (1, 'Quầy 1', 60, :t, :t, :d, 3)"),
            {"t": stamp, "d": "a" * 64})
    db.engine.dispose()
    upgrade()
    db.session.remove()
    rows = db.session.execute(sa.text(
        "SELECT channel, submitted_at, received_at, procedure FROM response ORDER BY channel"
    )).all()
    day = datetime(2026, 11, 28, 17, 0)  # 00:00 of 29 November in Hà Nội, in UTC
    assert [(r[0], r[3]) for r in rows] == [("paper", "Chứng thực"), ("qr", None)]
    for _channel, submitted, received, _proc in rows:
        for value in (submitted, received):
            value = datetime.fromisoformat(str(value)).replace(tzinfo=None) \
                if not isinstance(value, datetime) else value.replace(tzinfo=None)
            assert value == day
    inspector = sa.inspect(db.session.connection())
    columns = {c["name"] for c in inspector.get_columns("kiosk")}
    assert not {"burst_digest", "burst_count", "burst_started_at"} & columns
    assert "started_at" not in {c["name"] for c in inspector.get_columns("response")}
    assert db.session.execute(sa.text("SELECT last_seen_at FROM kiosk")).scalar() is None


def test_stored_json_nulls_become_sql_null(migrated_app):
    """Attack (issue 13 §4): ``None`` was stored as the JSON text 'null' (58,329 of 83k rows
    in a test), so ``expectations IS NULL`` found nothing and the "has expectations" filter
    filtered nothing. The migration turns every stored JSON null into SQL NULL, in every
    JSON column, and keeps real values."""
    upgrade(revision="d41b7e2c9a55")
    stamp = datetime(2026, 11, 1)
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO office (id, code, name, level, active, created_at) "
                             "VALUES (1, 'X', 'X', 'department', true, :t)"), {"t": stamp})
        for i, (exp, demo) in enumerate((("null", "null"), ('{"digital": 3}', "null"))):
            conn.execute(sa.text(
                "INSERT INTO response (uuid, office_id, instrument_id, channel, answers, month, "
                "submitted_at, received_at, expectations, demographics, counted) VALUES "
                "(:u, 1, 'hanoi-2022', 'paper', :a, '2026-11', :t, :t, :e, :d, true)"),
                {"u": str(uuid.UUID(int=i)), "a": "5" * 24, "t": stamp, "e": exp, "d": demo})
            conn.execute(sa.text(
                "INSERT INTO pending_answer (office_id, day, instrument_id, channel, answers, "
                "expectations, demographics, counted) VALUES "
                "(1, :day, 'hanoi-2022', 'kiosk', :a, :e, :d, true)"),
                {"day": stamp.date(), "a": "5" * 24, "e": exp, "d": demo})
        conn.execute(sa.text("INSERT INTO audit_event (at, actor, action, details) "
                             "VALUES (:t, 'cli', 'x', 'null')"), {"t": stamp})

    def nulls(table: str, column: str) -> int:
        return db.session.scalar(sa.text(
            f"SELECT count(*) FROM {table} WHERE {column} IS NULL"))  # noqa: S608

    assert nulls("response", "expectations") == 0  # what the filter saw before
    db.session.remove()
    db.engine.dispose()
    upgrade()
    db.session.remove()
    for table in ("response", "pending_answer"):
        assert nulls(table, "expectations") == 1 and nulls(table, "demographics") == 2
    assert nulls("audit_event", "details") == 1
    kept = db.session.scalar(sa.text(
        "SELECT expectations FROM response WHERE expectations IS NOT NULL"))
    assert (json.loads(kept) if isinstance(kept, str) else kept) == {"digital": 3}

"""Migrations build the same schema as the models (no drift), on SQLite and PostgreSQL."""

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from core import create_app
from core.extensions import db


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


def test_upgrade_from_empty_matches_models_and_downgrades(backend, tmp_path):
    uri, drop = _fresh_database(backend, tmp_path)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], diff
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"office", "response", "monthly_tally", "office_closure"} <= tables
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
            db.engine.dispose()
    finally:
        if drop:
            drop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_migration_files_form_one_linear_history(backend):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core import REPO_ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1

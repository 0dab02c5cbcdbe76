"""Fixtures of the deployment tests: a SQLite database file with the schema, for gunicorn
servers started from the tests (tools/servers.py)."""

from __future__ import annotations

import pytest

from core import create_app
from core.extensions import db


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url

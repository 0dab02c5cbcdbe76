"""Shared fixtures: a fresh app and database per test, on SQLite always and on PostgreSQL
too when TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/sipas_test)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from core import create_app
from core.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

SMALL_TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
STP,Sở Tư pháp,HN,department
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
BD-DB,UBND phường Điện Biên,BD,commune
"""


def _pg_uri() -> str:
    assert PG_URL
    return PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) \
        if PG_URL.startswith("postgresql://") else PG_URL


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """Create the schema once per session on the PostgreSQL test database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _pg_uri()})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()
    yield _pg_uri()


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_app(backend: str, tmp_path, request: pytest.FixtureRequest
             ) -> Iterator[Callable[..., Flask]]:
    """Build an app on a fresh database; extra config may be passed."""
    apps: list[Flask] = []

    def factory(**config: Any) -> Flask:
        if backend == "postgresql":
            uri = request.getfixturevalue("pg_schema")
        else:
            uri = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        base = {"SQLALCHEMY_DATABASE_URI": uri, "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost"}
        base.update(config)
        app = create_app(base)
        with app.app_context():
            if backend == "sqlite":
                db.create_all()
            else:
                _truncate_all()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            if backend == "postgresql":
                _truncate_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def offices(app: Flask) -> dict[str, Any]:
    """A small office tree: HN > (STP, BD > (BD-KM, BD-DB))."""
    from core.models import Office
    from core.services.offices import import_offices

    import_offices(io.StringIO(SMALL_TREE))
    return {o.code: o for o in db.session.scalars(sa.select(Office))}


@pytest.fixture
def instrument(app: Flask):
    from core.services.common import get_instrument

    return get_instrument("hanoi-2022")

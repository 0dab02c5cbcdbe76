"""Shared fixtures: a fresh app and database per test, on SQLite always and on PostgreSQL
too when TEST_DATABASE_URL is set (e.g. postgresql://postgres@127.0.0.1:5432/sipas_test).

Under pytest-xdist (``-n 2``) each worker tests on a PostgreSQL database of its own,
``<database>_gw0``, ``<database>_gw1``, created when missing and dropped at the end only if this
run created it; the Redis test database and the PostgreSQL server itself are shared, and
``tests/service_locks.py`` keeps the tests that must have them alone apart.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from core import create_app
from core.extensions import db
from core.models.figures import seed_sql
from tests.helpers import needs_redis
from tests.service_locks import NoLock, WorkerLock, worker_locks
from tools.sample_data import SMALL_TREE

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1"... under pytest-xdist


def _worker_url(url: str | None) -> str | None:
    """The PostgreSQL URL this process tests on: TEST_DATABASE_URL, with the xdist worker's
    name appended to the database name under pytest-xdist."""
    if not url or not XDIST_WORKER:
        return url
    parsed = sa.engine.make_url(url)
    return parsed.set(database=f"{parsed.database}_{XDIST_WORKER}").render_as_string(
        hide_password=False)


PG_URL = _worker_url(os.environ.get("TEST_DATABASE_URL"))
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])



def _pg_uri() -> str:
    assert PG_URL
    return PG_URL.replace("postgresql://", "postgresql+psycopg://", 1) \
        if PG_URL.startswith("postgresql://") else PG_URL


@contextmanager
def _worker_database() -> Iterator[Callable[[], None]]:
    """Under pytest-xdist: create this worker's database if it is missing (through the
    ``postgres`` maintenance database). Gives a function that drops it again if it was
    created here (and does nothing otherwise)."""
    if not XDIST_WORKER:
        yield lambda: None
        return
    url = sa.engine.make_url(_pg_uri())
    name = url.database
    assert name and name.endswith(f"_{XDIST_WORKER}"), name
    maintenance = url.set(database="postgres")

    def run(sql: str, **params: str) -> object:
        engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(sa.text(sql), params)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    created = not run("SELECT 1 FROM pg_database WHERE datname = :name", name=name)
    if created:
        run(f'CREATE DATABASE "{name}"')

    def drop_if_created() -> None:
        if created:
            run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    yield drop_if_created


@pytest.fixture(scope="session")
def service_locks(tmp_path_factory: pytest.TempPathFactory
                  ) -> tuple[WorkerLock | NoLock, WorkerLock | NoLock]:
    """(redis, postgresql) locks shared by the xdist workers of this run."""
    # under xdist each worker's basetemp is <the run's basetemp>/popen-gwN
    return worker_locks(tmp_path_factory.getbasetemp().parent if XDIST_WORKER else None)


@pytest.fixture(scope="session")
def pg_schema(service_locks: tuple[WorkerLock | NoLock, WorkerLock | NoLock]) -> Iterator[str]:
    """Create the schema once per session on the PostgreSQL test database."""
    pg_lock = service_locks[1]
    with pg_lock.hold(), _worker_database() as drop_at_end:
        app = create_app({"SQLALCHEMY_DATABASE_URI": _pg_uri()})
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.remove()
            db.engine.dispose()
    yield _pg_uri()
    with pg_lock.hold():
        drop_at_end()


def _uses_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return ((callspec is not None and callspec.params.get("backend") == "postgresql")
            or "pg_schema" in getattr(item, "fixturenames", ())
            or item.get_closest_marker("postgres_only") is not None)


@pytest.fixture(autouse=True)
def _shared_services(request: pytest.FixtureRequest,
                     service_locks: tuple[WorkerLock | NoLock, WorkerLock | NoLock]
                     ) -> Iterator[None]:
    """Under xdist: a test on the Redis test database has it alone, a test marked
    ``exclusive_postgresql`` has the PostgreSQL server alone (see tests/service_locks.py)."""
    redis_lock, pg_lock = service_locks
    item = request.node
    with ExitStack() as held:
        if any(mark == needs_redis.mark for mark in item.iter_markers("skipif")):
            held.enter_context(redis_lock.hold(exclusive=True))
        if item.get_closest_marker("exclusive_postgresql"):
            held.enter_context(pg_lock.hold(exclusive=True))
        elif _uses_postgresql(item):
            held.enter_context(pg_lock.hold())
        yield


def _truncate_all() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.execute(sa.text(seed_sql("postgresql")))  # the figures token's row
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
                "SECRET_KEY": "test-secret", "SERVER_NAME": "localhost",
                "PAPER_UPLOAD_DIR": str(tmp_path / "paper-uploads")}
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

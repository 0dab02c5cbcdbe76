"""Operators' endpoints (/healthz, /readyz, /metrics), PostgreSQL engine options, and the
retryable 503 when the database cannot be reached."""

from __future__ import annotations

import json
import socket

import pytest
import sqlalchemy as sa
from flask import jsonify

from core import create_app, metrics
from core.db_setup import engine_options
from core.extensions import db
from core.models import Office
from tests.helpers import REDIS_TEST_URL, metric_sample, needs_redis


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"] == {"database": "ok"}


@needs_redis
def test_readyz_checks_redis_when_rate_limits_live_there(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=REDIS_TEST_URL)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}/0")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"] == {"database": "ok", "redis": "unavailable"}
    assert resp.headers["Retry-After"]


# --- the database is down --------------------------------------------------------------------

UNREACHABLE = {
    "postgresql": lambda tmp: f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/sipas",
    "sqlite": lambda tmp: f"sqlite:///{tmp}/no-such-folder/db.sqlite3",
}


@pytest.fixture(params=sorted(UNREACHABLE))
def down_app(request, tmp_path):
    """An app whose database cannot be reached (PostgreSQL: a closed port; SQLite: a file
    that cannot be opened), with a page and an API route that query it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": UNREACHABLE[request.param](tmp_path),
                      "SECRET_KEY": "test-secret", "DB_CONNECT_TIMEOUT": 2})

    def count():
        return jsonify(n=db.session.scalar(sa.select(sa.func.count()).select_from(Office)))

    app.add_url_rule("/api/v1/_count", "api_count", count)
    app.add_url_rule("/_count", "page_count", count)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_database_down_gives_a_retryable_503_json_under_api(down_app, capsys):
    resp = down_app.test_client().get("/api/v1/_count")
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "database_unavailable"
    assert int(resp.headers["Retry-After"]) > 0
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    [warning] = [json.loads(line) for line in out.out.splitlines()
                 if line.startswith("{") and "database unavailable" in line]
    assert warning["level"] == "warning" and warning["request_id"]


def test_database_down_gives_a_friendly_vietnamese_page(down_app):
    resp = down_app.test_client().get("/_count")
    assert resp.status_code == 503
    html = resp.get_data(as_text=True)
    assert "Dịch vụ tạm thời gián đoạn" in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert resp.headers["Retry-After"]


def test_readyz_is_503_json_when_the_database_is_down(down_app):
    resp = down_app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["database"] == "unavailable"
    assert down_app.test_client().get("/healthz").status_code == 200  # still alive


def test_app_recovers_when_the_database_comes_back(make_app, tmp_path):
    """After an outage the same process serves again: the pool pre-pings and the failed
    session was rolled back."""
    app = make_app()
    good_uri = app.config["SQLALCHEMY_DATABASE_URI"]

    @app.get("/api/v1/_count")
    def count():
        return jsonify(n=db.session.scalar(sa.select(sa.func.count()).select_from(Office)))

    client = app.test_client()
    assert client.get("/api/v1/_count").status_code == 200
    with app.app_context():
        db.engine.dispose()
        bad = sa.create_engine(UNREACHABLE["postgresql"](tmp_path))
        db._app_engines[app][None] = bad  # the database "goes away"
    assert client.get("/api/v1/_count").status_code == 503
    with app.app_context():
        bad.dispose()
        db._app_engines[app][None] = sa.create_engine(good_uri)  # and comes back
    resp = client.get("/api/v1/_count")
    assert resp.status_code == 200 and resp.get_json() == {"n": 0}


# --- engine options --------------------------------------------------------------------------

def test_postgresql_engine_options_from_config():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u@db.example/sipas",
                      "SECRET_KEY": "x", "DB_POOL_SIZE": 3, "DB_STATEMENT_TIMEOUT_MS": 1234})
    opts = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert opts["pool_pre_ping"] is True
    assert opts["pool_size"] == 3 and opts["max_overflow"] == 10
    assert "statement_timeout=1234" in opts["connect_args"]["options"]
    assert opts["connect_args"]["connect_timeout"] == 5


def test_sqlite_engine_options_are_minimal(tmp_path):
    # no pre-ping: a connection to a file does not drop while it waits in the pool
    assert engine_options({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x"}) == {
        "pool_pre_ping": False, "hide_parameters": True}


def test_configured_engine_options_win(tmp_path):
    assert engine_options({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x",
                           "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}
                          )["pool_pre_ping"] is True


def test_statement_timeout_is_in_force_on_postgresql(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    assert db.session.scalar(sa.text("SHOW statement_timeout")) == "30s"
    with pytest.raises(sa.exc.OperationalError):
        db.session.execute(sa.text("SET LOCAL statement_timeout = 50; SELECT pg_sleep(2)"))
    db.session.rollback()


# --- metrics -----------------------------------------------------------------------------------

def test_metrics_are_off_by_default(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_when_enabled_from_loopback(make_app):
    app = make_app(METRICS_ENABLED=True)
    client = app.test_client()
    before = metric_sample(client.get("/metrics").get_data(as_text=True),
                     "sipas_submissions_total", channel="kiosk", status="stored")
    metrics.count_submission("kiosk", "stored")
    metrics.count_replay("kiosk", "duplicate", 2)
    client.get("/healthz")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    text = resp.get_data(as_text=True)
    assert metric_sample(text, "sipas_submissions_total", channel="kiosk", status="stored") \
        == before + 1
    assert metric_sample(text, "sipas_replays_total", channel="kiosk", outcome="duplicate") >= 2
    assert metric_sample(text, "sipas_http_request_duration_seconds_count",
                   endpoint="ops.healthz", method="GET", status="200") >= 1


@pytest.mark.parametrize("remote, headers, config, status", [
    ("203.0.113.5", {}, {}, 404),                                       # the internet
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, {}, 404),         # via an untrusted proxy
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, {"PROXY_FIX": 1}, 404),  # real client
    ("10.1.2.3", {}, {"METRICS_ALLOWED": ["10.0.0.0/8"]}, 200),          # the Prometheus host
    ("::1", {}, {}, 200),
])
def test_metrics_only_for_allowed_clients(make_app, remote, headers, config, status):
    app = make_app(METRICS_ENABLED=True, **config)
    resp = app.test_client().get("/metrics", headers=headers,
                                 environ_base={"REMOTE_ADDR": remote})
    assert resp.status_code == status


def test_redis_down_during_a_rate_limited_request_is_a_retryable_503(make_app):
    from core.ratelimit import limiter

    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}/0")

    @app.post("/api/v1/_limited")
    def limited():
        return jsonify(allowed=limiter().hit("test", "k", "3/minute"))

    resp = app.test_client().post("/api/v1/_limited")
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "store_unavailable"
    assert resp.headers["Retry-After"]


def test_exhausted_connection_pool_is_a_retryable_503(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0,
                                              "pool_timeout": 0.2})

    @app.get("/api/v1/_count")
    def count():
        return jsonify(n=db.session.scalar(sa.select(sa.func.count()).select_from(Office)))

    client = app.test_client()
    with app.app_context():
        held = db.engine.connect()  # the only connection, busy elsewhere
        try:
            resp = client.get("/api/v1/_count")
        finally:
            held.close()
    assert resp.status_code == 503
    assert resp.get_json()["error"] == "database_unavailable"
    assert client.get("/api/v1/_count").status_code == 200  # free again

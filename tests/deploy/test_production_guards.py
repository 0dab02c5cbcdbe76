"""Real gunicorn servers in production mode: sign-in throttling holds across workers on
PostgreSQL, and a server whose workers would each count rate limits alone does not start."""

from __future__ import annotations

import re
import threading
import urllib.parse

import pytest

from core import create_app
from core.extensions import db
from tests.conftest import PG_URL
from tests.helpers import REDIS_TEST_URL, needs_redis
from tools.servers import TEST_SECRET, GunicornServer, plain_database_url

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WRONG = "wrong-password-xx"


def _refused(server: GunicornServer) -> str:
    """Start ``server`` expecting it to stop at start-up; returns its log."""
    try:
        with pytest.raises(RuntimeError) as failure:
            server.start(timeout=30)
    finally:
        server.close()
    return str(failure.value)


def test_several_workers_counting_limits_in_memory_refuse_to_start(sqlite_url):
    """Attack: with memory:// each of 3 workers counted sign-in failures and kiosk answers
    alone (11 wrong passwords before the first 429)."""
    log = _refused(GunicornServer(sqlite_url, workers=3))
    assert "SIPAS_RATELIMIT_STORAGE_URI" in log and "SIPAS_SINGLE_PROCESS=1" in log


def test_single_process_mode_refuses_more_than_one_worker(sqlite_url):
    log = _refused(GunicornServer(sqlite_url, workers=3, env={"SIPAS_SINGLE_PROCESS": "1"}))
    assert "3 gunicorn workers" in log and "WEB_CONCURRENCY=1" in log


def test_single_process_mode_with_one_worker_serves(sqlite_url):
    assert _refused(GunicornServer(sqlite_url, workers=1, env={"SIPAS_SINGLE_PROCESS": ""}))
    with GunicornServer(sqlite_url, workers=1, env={"SIPAS_SINGLE_PROCESS": "1"}) as server:
        assert server.request("GET", "/readyz")[0] == 200


def _sign_in_attempt(server: GunicornServer, barrier: threading.Barrier) -> int:
    status, headers, body = server.request("GET", "/admin/login")
    assert status == 200
    cookie = headers["set-cookie"].split(";", 1)[0]
    token = _CSRF.search(body.decode()).group(1)
    form = urllib.parse.urlencode({"username": "bd", "password": WRONG, "csrf_token": token})
    barrier.wait()
    return server.request("POST", "/admin/login", form.encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})[0]


@needs_redis
@pytest.mark.postgres_only
@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_parallel_wrong_passwords_across_workers_are_checked_at_most_the_limit(pg_schema):
    """Attack: 15 wrong passwords at the same moment through 3 workers x 4 threads on
    PostgreSQL (once 8 checks against a limit of 5)."""
    import redis

    from tools.loadgen import seed

    url = plain_database_url(pg_schema)
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    seed(url, kiosks=0, receipts=0)
    app = create_app({"SQLALCHEMY_DATABASE_URI": pg_schema, "SECRET_KEY": TEST_SECRET})
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, "Ba-Dinh-square-2", actor="t", must_change=False)
        db.session.remove()
        db.engine.dispose()
    statuses: list[int] = []
    try:
        with GunicornServer(url, redis_url=REDIS_TEST_URL, workers=3, threads=4) as server:
            barrier = threading.Barrier(15)

            def run() -> None:
                statuses.append(_sign_in_attempt(server, barrier))

            threads = [threading.Thread(target=run) for _ in range(15)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        seed(url, kiosks=0, receipts=0)
        redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    assert sorted(statuses) == [401] * 5 + [429] * 10

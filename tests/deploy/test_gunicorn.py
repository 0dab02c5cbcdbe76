"""Real gunicorn processes (tools/servers.py): two instances on one PostgreSQL and one
Redis, metrics summed across workers, and a production start-up refused without a secret."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.helpers import REDIS_TEST_URL, needs_redis
from tools.servers import GunicornServer, plain_database_url, running

PG_URL = os.environ.get("TEST_DATABASE_URL")


@needs_redis
@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_two_gunicorn_instances_share_postgresql_and_redis(pg_schema):
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    key = uuid.uuid4().hex
    a, b = (GunicornServer(plain_database_url(pg_schema), redis_url=REDIS_TEST_URL,
                           app="tools.probe_app:app") for _ in range(2))
    with running(a, b):
        assert a.port != b.port
        for server in (a, b):
            status, body = server.get_json("/readyz")
            assert status == 200, server.log_tail()
            assert body["checks"] == {"database": "ok", "redis": "ok"}
        # the limit is 3 per minute per key, counted in Redis: hits on either server add up
        statuses = [s.request("POST", f"/_probe/hit/{key}")[0] for s in (a, b, a, b, a)]
        assert statuses == [200, 200, 200, 429, 429]
        assert b.request("POST", f"/_probe/hit/{key}-other")[0] == 200


@needs_redis
def test_gunicorn_workers_sum_metrics_and_a_killed_worker_is_replaced(sqlite_url):
    """One 2-worker server (starting one costs seconds): metrics from both workers add up,
    including those of a worker killed with SIGKILL; its replacement serves. (Two workers in
    production share their rate limits in Redis: memory:// refuses to start.)"""
    with GunicornServer(sqlite_url, workers=2, redis_url=REDIS_TEST_URL,
                        env={"SIPAS_METRICS_ENABLED": "true"}) as server:
        assert len(server.worker_pids()) == 2
        for _ in range(10):
            assert server.request("GET", "/readyz")[0] == 200
        victim = server.kill_worker()
        for _ in range(5):  # the other worker keeps serving meanwhile
            assert server.request("GET", "/readyz")[0] == 200
        pids = server.wait_for_workers(gone=victim)
        assert len(pids) == 2 and victim not in pids
        for _ in range(5):
            assert server.request("GET", "/readyz")[0] == 200

        status, headers, body = server.request("GET", "/metrics")
        assert status == 200
        total = sum(float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines()
                    if line.startswith("sipas_http_request_duration_seconds_count{")
                    and 'endpoint="ops.readyz"' in line)
        assert total == 20
        # the outside world, through a proxy that is not trusted, gets nothing
        status, _h, _b = server.request("GET", "/metrics",
                                        headers={"X-Forwarded-For": "203.0.113.7"})
        assert status == 404
        # neither gunicorn nor the app trusts X-Forwarded-Proto by default: no HSTS on HTTP
        _s, headers, _b = server.request("GET", "/healthz",
                                         headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in headers


def test_gunicorn_refuses_to_start_in_production_without_a_secret(sqlite_url):
    server = GunicornServer(sqlite_url, env={"SECRET_KEY": ""})
    try:
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            server.start(timeout=20)
    finally:
        server.close()


def test_gunicorn_access_log_when_turned_on_shows_no_token_referrer_or_address(sqlite_url):
    """An operator may turn gunicorn's own access log on (--access-logfile): its lines go
    through gunicorn.conf.py's RedactingLogger."""
    secret = "RcPt-" + uuid.uuid4().hex
    with GunicornServer(sqlite_url, workers=1,
                        env={"GUNICORN_CMD_ARGS": "--access-logfile -"}) as server:
        headers = {"Referer": f"https://sipas.example/s/{secret}", "Cookie": f"c={secret}",
                   "User-Agent": f"phone {secret}", "X-Forwarded-For": "203.113.45.67"}
        for path in (f"/s/{secret}", f"/s/{secret}/x", f"/lang/en?next=/s/{secret}",
                     f"/kiosk/activate/{secret}", f"/api/v1/receipts/{secret}/qr.png",
                     f"/?next={secret}"):
            server.request("GET", path, headers=headers)
        log = server.log_path.read_text(errors="replace")
    lines = [line for line in log.splitlines() if '"GET ' in line]
    assert len(lines) >= 6, log[-2000:]  # the access log was on
    assert secret not in log and "203.113" not in log and "127.0.0.1 -" not in log
    assert any('"GET /s/<redacted> HTTP/1.1"' in line for line in lines)
    assert any('"GET /lang/en HTTP/1.1"' in line for line in lines)

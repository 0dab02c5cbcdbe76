"""Workers forked from a master that built the app (gunicorn.conf.py, GUNICORN_PRELOAD,
issue 20): recycled workers serve at once, each with a database pool of its own."""

from __future__ import annotations

from tests.helpers import REDIS_TEST_URL, needs_redis
from tools.servers import GunicornServer


@needs_redis
def test_recycled_preloaded_workers_serve_with_their_own_database_connections(sqlite_url):
    with GunicornServer(sqlite_url, workers=2, redis_url=REDIS_TEST_URL,
                        env={"GUNICORN_MAX_REQUESTS": "4"}) as server:
        first = set(server.worker_pids())
        statuses = [server.request("GET", "/readyz")[0] for _ in range(30)]
        assert statuses == [200] * 30  # a database round trip each, across recycling
        pids = set(server.wait_for_workers())
        assert first - pids  # at least one worker was recycled (after 4 or 5 requests)
        log = server.log_tail()
        assert "Traceback" not in log, log


def test_without_preload_workers_build_the_app_themselves(sqlite_url):
    with GunicornServer(sqlite_url, workers=1, env={"GUNICORN_PRELOAD": "0"}) as server:
        assert server.request("GET", "/readyz")[0] == 200

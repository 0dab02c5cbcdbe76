"""The embedded default (SQLite) under concurrent use, through a real gunicorn server: reads
never fail because of writes.

A GET that also writes (the personal token's ``last_used_at`` on the report API, the audit
row of an export) used to read inside a deferred SQLite transaction and then try to turn it
into a write transaction. Once another connection had committed since the read began,
SQLite refused at once ("database is locked", SQLITE_BUSY_SNAPSHOT: waiting cannot help), and
the reader got a 503 (before the fix, about 230 of 270 reads in this test). Here 4 readers
(report API and CSV export, alternately) run against kiosk writers and throttled sign-ins for
4 seconds; every request must succeed.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from collections import Counter

import pytest

from core.extensions import db
from core.services import accounts
from core.timeutil import last_complete_month
from tests.helpers import REDIS_TEST_URL, needs_redis
from tools.loadgen import http_request, kiosk_body, post_kiosk, seed, seed_app
from tools.servers import GunicornServer

READERS = 4
KIOSK_WRITERS = 3
SECONDS = 4.0
PASSWORD = "a-long-password-for-tests"  # noqa: S105 - tests only
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _cookie(headers: dict[str, str]) -> str:
    return headers.get("set-cookie", "").split(";", 1)[0]


def _login_page(port: int) -> tuple[str, str]:
    """(session cookie, CSRF token) of a fresh sign-in page."""
    status, headers, body = http_request(port, "GET", "/admin/login")
    assert status == 200
    match = _CSRF.search(body.decode("utf-8"))
    assert match is not None
    return _cookie(headers), match.group(1)


def _sign_in(port: int, cookie: str, csrf: str, username: str, password: str
             ) -> tuple[int, dict[str, str]]:
    body = urllib.parse.urlencode({"csrf_token": csrf, "username": username,
                                   "password": password}).encode()
    status, headers, _body = http_request(
        port, "POST", "/admin/login", body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    return status, headers


@pytest.fixture
def served(tmp_path):
    """A SQLite database with offices, kiosks, an administrator and their API token."""
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    app = seed_app(url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    seeded = seed(url, kiosks=KIOSK_WRITERS, receipts=0)
    with app.app_context():
        user, _password = accounts.create_user("reader", "admin", None, PASSWORD,
                                               actor="test", must_change=False)
        token = accounts.create_token(user, "load test", actor="test").secret
        db.session.remove()
        db.engine.dispose()
    return url, seeded.credentials, token


@needs_redis
def test_reads_never_fail_because_of_concurrent_writes(served):
    url, credentials, api_token = served
    month = last_complete_month()
    # no per-kiosk limit: every kiosk post writes; one failed sign-in per account and worker
    # before the throttle: from then on every attempt writes a "throttled" audit row
    with GunicornServer(url, workers=2, threads=4, redis_url=REDIS_TEST_URL,
                        env={"SIPAS_KIOSK_MIN_SECONDS_BETWEEN": "0",
                             "SIPAS_SIGNIN_LIMIT_ACCOUNT": "1/15minute"}) as server:
        port = server.port
        cookie, csrf = _login_page(port)
        status, headers = _sign_in(port, cookie, csrf, "reader", PASSWORD)
        assert status == 302, server.log_tail()
        session_cookie = _cookie(headers)

        seen: dict[str, Counter] = {kind: Counter()
                                    for kind in ("report", "export", "kiosk", "signin")}
        lock = threading.Lock()
        stop_at = time.monotonic() + SECONDS

        def note(kind: str, send) -> None:
            try:
                status: int | str = send()[0]
            except (OSError, http.client.HTTPException) as exc:  # a dropped connection
                status = type(exc).__name__
            with lock:
                seen[kind][status] += 1

        def reader(n: int) -> None:
            report = ("report", f"/api/v1/offices/BD-KM/reports/{month}",
                      {"Authorization": f"Bearer {api_token}"})
            export = ("export", f"/admin/exports/BD-KM/{month}/criteria.csv",
                      {"Cookie": session_cookie})
            i = n
            while time.monotonic() < stop_at:
                kind, path, headers = (report, export)[i % 2]
                note(kind, lambda: http_request(port, "GET", path, headers=headers))
                i += 1

        def kiosk(n: int) -> None:
            while time.monotonic() < stop_at:
                note("kiosk", lambda: post_kiosk(port, credentials[n], kiosk_body()))

        def signin() -> None:
            # a wrong password again and again: refused, then throttled; each attempt writes
            # an audit row
            cookie, csrf = _login_page(port)
            while time.monotonic() < stop_at:
                note("signin", lambda: _sign_in(port, cookie, csrf, "reader", "wrong password"))

        threads = [*(threading.Thread(target=reader, args=(n,)) for n in range(READERS)),
                   *(threading.Thread(target=kiosk, args=(n,)) for n in range(KIOSK_WRITERS)),
                   threading.Thread(target=signin)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log = server.log_tail(400)

    for kind in ("report", "export"):
        assert seen[kind] and set(seen[kind]) == {200}, (seen, log)
    assert seen["kiosk"] and set(seen["kiosk"]) == {201}, seen
    assert seen["signin"][429] > 0 and set(seen["signin"]) <= {401, 429}, seen

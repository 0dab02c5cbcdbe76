"""Sign-in throttling: counted and checked atomically, per account and client with a slower
per-account backstop, unlockable by administrators, summarised in the audit log."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from tests.admin.fixtures import FAST, PASSWORDS, login

ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.20"
WRONG = "wrong-password-xx"


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def signin_app(make_app):
    """bd (head of nothing in particular: an admin) and the limits under test."""
    def build(**limits):
        app = make_app(PASSWORD_HASH_METHOD=FAST, **limits)
        with app.app_context():
            from core.services.accounts import create_user

            create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
            create_user("city", "admin", None, PASSWORDS["city"], actor="t", must_change=False)
        return app
    return build


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def test_an_attacker_cannot_lock_the_user_out_from_other_addresses(signin_app):
    """Attack: wrong passwords for bd from one address, then bd signs in from the office."""
    app = signin_app()
    attacker = _client(app, ATTACKER)
    statuses = [login(attacker, "bd", WRONG).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    assert login(attacker, "bd").status_code == 429  # the attacker's address stays blocked
    assert login(_client(app, OFFICE), "bd").status_code == 302
    # bd's own failures and successes from the office do not add up to a lock either
    office = _client(app, OFFICE)
    for _ in range(3):
        assert login(office, "bd", WRONG).status_code == 401
        assert login(office, "bd").status_code == 302


def test_the_account_backstop_locks_everywhere_and_an_administrator_unlocks(signin_app):
    """Attack from many addresses: the slower per-account limit holds, then an
    administrator unlocks the account from the users page."""
    app = signin_app(SIGNIN_LIMIT_ACCOUNT="8/hour")
    for i in range(4):
        bot = _client(app, f"192.0.2.{i + 1}")
        for _ in range(2):
            assert login(bot, "bd", WRONG).status_code == 401
    office = _client(app, OFFICE)
    assert login(office, "bd").status_code == 429
    admin = _client(app, "198.51.100.1")
    login(admin, "city")
    bd_id = _user_id(app, "bd")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f"/admin/users/{bd_id}/unlock" in page
    assert admin.post(f"/admin/users/{bd_id}/unlock").status_code == 302
    assert login(office, "bd").status_code == 302
    assert [e.target for e in _audit(app, "user.unlock")] == ["user:bd"]


def test_flask_users_unlock(signin_app):
    app = signin_app()
    attacker = _client(app, ATTACKER)
    for _ in range(5):
        login(attacker, "bd", WRONG)
    assert login(attacker, "bd").status_code == 429
    result = app.test_cli_runner().invoke(args=["users", "unlock", "bd"])
    assert result.exit_code == 0, result.output
    assert login(attacker, "bd").status_code == 302


def _user_id(app, username: str) -> int:
    with app.app_context():
        from core.services.accounts import get_user

        return get_user(username).id


def test_a_scanner_leaves_one_audit_row_per_client_and_window(signin_app, monkeypatch):
    """Attack: a scanner keeps trying after it is throttled (once 1,720 audit rows)."""
    app = signin_app(SIGNIN_LIMIT_CLIENT="10/15minute")
    scanner = _client(app, ATTACKER)
    for i in range(10):
        assert login(scanner, f"user{i}", WRONG).status_code == 401
    for i in range(40):
        assert login(scanner, f"admin{i}", WRONG).status_code == 429
    assert login(_client(app, OFFICE), "bd").status_code == 302
    throttled = _audit(app, "signin.throttled")
    assert len(throttled) == 1
    assert throttled[0].details["client"] == ATTACKER
    assert throttled[0].details["attempts"] == 40
    assert len(_audit(app, "signin.failed")) == 10

    # the next window (15 minutes later) starts a new summary row
    from core.services import signin_throttle

    later = signin_throttle.utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(signin_throttle, "utcnow", lambda: later)
    for i in range(12):
        login(scanner, f"x{i}", WRONG)
    throttled = _audit(app, "signin.throttled")
    assert [e.details["attempts"] for e in throttled] == [40, 2]


def test_parallel_wrong_passwords_are_checked_at_most_the_limit(make_app):
    """Attack: 15 wrong passwords at once (once 8 checks against a limit of 5). Threads of
    one process here; tests/deploy/test_signin_race.py does it across gunicorn workers."""
    app = make_app(PASSWORD_HASH_METHOD="scrypt:16384:8:1")
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    barrier = threading.Barrier(15)
    outcomes: list[str] = []

    def attempt() -> None:
        from core.errors import RateLimited, Unauthenticated
        from core.services.accounts import authenticate

        with app.app_context():
            barrier.wait()
            try:
                authenticate("bd", WRONG, ATTACKER)
            except RateLimited:
                outcomes.append("throttled")
            except Unauthenticated:
                outcomes.append("checked")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["checked"] * 5 + ["throttled"] * 10


def test_a_forged_long_client_address_is_counted_not_a_crash(signin_app):
    """Attack: behind a proxy trusted too far, the client names its own address."""
    app = signin_app(PROXY_FIX=1)
    client = app.test_client()
    forged = {"X-Forwarded-For": "x" * 500}
    statuses = [client.post("/admin/login", headers=forged,
                            data={"username": "bd", "password": WRONG}).status_code
                for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert client.post("/admin/login", headers=forged,
                       data={"username": "bd", "password": PASSWORDS["bd"]}).status_code == 429

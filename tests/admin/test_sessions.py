"""Server-side sessions of the results area: signing out ends that session on the server,
other devices stay signed in, and the session cookie is Secure on every HTTPS request."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from core.extensions import db
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import FAST, PASSWORDS, login

world = admin_fixtures.world


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, world):
    """Attack: keep the session cookie, let the user sign out, replay the cookie."""
    login(client, "bd")
    export = f"/admin/exports/BD/{world['month']}/responses.csv"
    assert client.get("/admin/?office=BD").status_code == 200
    stolen = _session_cookie(client)
    assert client.post("/admin/logout").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="localhost")
    dashboard = thief.get("/admin/?office=BD")
    assert dashboard.status_code == 302 and "/admin/login" in dashboard.location
    download = thief.get(export)
    assert download.status_code == 302 and "/admin/login" in download.location
    assert b"I.1" not in download.data


def test_signing_out_on_one_device_leaves_the_others_signed_in(app, client, world):
    from core.models import UserSession

    phone = app.test_client()
    login(client, "bd")
    login(phone, "bd")
    bd = world["users"]["bd"]
    sessions = sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.user_id == bd.id)
    assert db.session.scalar(sessions) == 2
    client.post("/admin/logout")
    assert db.session.scalar(sessions) == 1
    assert phone.get("/admin/?office=BD").status_code == 200
    assert client.get("/admin/").status_code == 302


def test_the_session_row_holds_no_usable_secret(app, client, world):
    """The database keeps a digest of the session id: the cookie's id is not in it."""
    from core.models import UserSession

    login(client, "bd")
    stored = db.session.scalars(sa.select(UserSession.digest)).all()
    assert len(stored) == 1
    with app.test_request_context():
        from flask import current_app

        data = current_app.session_interface.get_signing_serializer(current_app).loads(
            _session_cookie(client))
    assert data["sid"] and data["sid"] not in stored[0]


def test_a_password_change_ends_every_session_of_the_user(app, client, world):
    phone = app.test_client()
    login(client, "bd")
    login(phone, "bd")
    new = "a-brand-new-pass-9"
    r = client.post("/admin/password", data={"current": PASSWORDS["bd"], "new": new,
                                             "confirm": new})
    assert r.status_code == 302
    assert client.get("/admin/?office=BD").status_code == 200  # this one carries on
    assert phone.get("/admin/?office=BD").status_code == 302


def _signed_in_cookie(app, **request) -> str:
    client = app.test_client()
    r = client.post("/admin/login", data={"username": "bd", "password": PASSWORDS["bd"]},
                    **request)
    assert r.status_code == 302, r.status_code
    return r.headers["Set-Cookie"]


def test_the_session_cookie_is_secure_behind_the_documented_proxy(make_app):
    """Attack: a sign-in over HTTPS (terminated by nginx) must not set a cookie that the
    browser would send again over plain HTTP."""
    app = make_app(PASSWORD_HASH_METHOD=FAST, PROXY_FIX=1)
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    https = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}}
    cookie = _signed_in_cookie(app, **https)
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # plain HTTP through the same proxy: no Secure flag (the browser would drop the cookie)
    assert "Secure" not in _signed_in_cookie(app, headers={"X-Forwarded-Proto": "http"})


def test_the_session_cookie_is_secure_on_direct_https_only(make_app):
    app = make_app(PASSWORD_HASH_METHOD=FAST)
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    assert "; Secure" in _signed_in_cookie(app, base_url="https://localhost")
    # without PROXY_FIX the proxy's header is not trusted
    assert "Secure" not in _signed_in_cookie(app, headers={"X-Forwarded-Proto": "https"})


def test_an_idle_session_ends_and_an_active_one_is_kept_alive(app, client, world,
                                                             monkeypatch):
    from core.models import UserSession
    from core.services import sessions

    login(client, "bd")
    start = sessions.utcnow()
    # ten minutes later the session is used: its last use is written down
    monkeypatch.setattr(sessions, "utcnow", lambda: start + timedelta(minutes=10))
    assert client.get("/admin/?office=BD").status_code == 200
    seen = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert seen == start + timedelta(minutes=10)
    # within SESSION_IDLE_HOURS of that it still works; past it, it has ended
    idle = timedelta(hours=app.config["SESSION_IDLE_HOURS"])
    monkeypatch.setattr(sessions, "utcnow", lambda: seen + idle - timedelta(minutes=1))
    assert client.get("/admin/?office=BD").status_code == 200
    later = db.session.scalar(sa.select(UserSession.last_seen_at))
    monkeypatch.setattr(sessions, "utcnow", lambda: later + idle + timedelta(minutes=1))
    assert client.get("/admin/?office=BD").status_code == 302

"""Sign-in, sign-out, password change, throttling, cookies and CSRF of the results area."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import FAST, PASSWORDS, login

world = admin_fixtures.world


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_anonymous_is_sent_to_sign_in(client, world):
    r = client.get("/admin/?office=BD")
    assert r.status_code == 302 and "/admin/login?next=" in r.location
    assert client.post("/admin/comments/1").status_code == 401


def test_sign_in_in_vietnamese_then_sign_out(client, world):
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Đăng nhập" in page and 'lang="vi"' in page
    r = login(client, "bd")
    assert r.status_code == 302 and r.location.endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    r = client.post("/admin/logout")
    assert r.status_code == 302
    assert client.get("/admin/").status_code == 302
    assert _actions()[-2:] == ["signin", "signout"]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, world):
    a = login(client, "bd", "wrong-password-xx")
    b = login(client, "nobody", "wrong-password-xx")
    assert a.status_code == b.status_code == 401
    msg = "Tên đăng nhập hoặc mật khẩu không đúng."
    assert msg in a.get_data(as_text=True) and msg in b.get_data(as_text=True)
    assert _actions().count("signin.failed") == 2


def test_throttling_per_account(make_app):
    app = make_app(PASSWORD_HASH_METHOD=FAST, SIGNIN_LIMIT_ACCOUNT="3/15minute",
                   SIGNIN_LIMIT_CLIENT="100/15minute")
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    client = app.test_client()
    for _ in range(3):
        assert login(client, "bd", "wrong-password-xx").status_code == 401
    r = login(client, "bd")  # the right password no longer helps for a while
    assert r.status_code == 429
    assert "Quá nhiều lần đăng nhập" in r.get_data(as_text=True)
    # another account from another client is not affected
    other = app.test_client()
    assert login(other, "bd2", "whatever-pass").status_code == 401


def test_throttling_per_client(make_app):
    app = make_app(PASSWORD_HASH_METHOD=FAST, SIGNIN_LIMIT_ACCOUNT="100/15minute",
                   SIGNIN_LIMIT_CLIENT="4/15minute")
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    client = app.test_client()
    for i in range(4):
        assert login(client, f"user{i}", "wrong-password-xx").status_code == 401
    assert login(client, "bd").status_code == 429
    with app.app_context():
        assert "signin.throttled" in _actions()


def test_session_cookie_flags(make_app):
    app = make_app(PASSWORD_HASH_METHOD=FAST)
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    r = login(app.test_client(), "bd")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = make_app(PREFERRED_URL_SCHEME="https")
    assert https.config["SESSION_COOKIE_SECURE"] is True


def test_forced_change_of_temporary_password_ends_other_sessions(client, app, world):
    from core.services.accounts import reset_password

    temp = reset_password(world["users"]["bd"], actor="test")
    other = app.test_client()
    assert login(other, "bd", temp).status_code == 302
    r = login(client, "bd", temp)
    assert r.location.endswith("/admin/password")
    assert client.get("/admin/").location.endswith("/admin/password")
    assert "mật khẩu tạm thời" in client.get("/admin/password").get_data(as_text=True)
    bad = client.post("/admin/password", data={"current": temp, "new": "short",
                                               "confirm": "short"})
    assert bad.status_code == 400
    r = client.post("/admin/password", data={"current": temp, "new": "a-brand-new-pass-9",
                                             "confirm": "a-brand-new-pass-9"})
    assert r.status_code == 302 and r.location.endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    # the other browser signed in with the old password is signed out
    assert other.get("/admin/").status_code == 302
    assert login(other, "bd", "a-brand-new-pass-9").location.endswith("/admin/")


def test_disabled_user_cannot_sign_in_and_loses_session(client, app, world):
    from core.services.accounts import set_active

    login(client, "kmview")
    assert client.get("/admin/").status_code == 200
    set_active(world["users"]["kmview"], False, actor="test")
    assert client.get("/admin/").status_code == 302
    assert login(app.test_client(), "kmview").status_code == 401


def test_csrf_is_required_on_every_form(make_app):
    app = make_app(PASSWORD_HASH_METHOD=FAST, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from core.services.accounts import create_user

        create_user("bd", "admin", None, PASSWORDS["bd"], actor="t", must_change=False)
    client = app.test_client()
    r = login(client, "bd")
    assert r.status_code == 400  # no token: refused before the password is even checked
    page = client.get("/admin/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/admin/login", data={"username": "bd", "password": PASSWORDS["bd"],
                                          "csrf_token": token})
    assert r.status_code == 302
    for path in ("/admin/logout", "/admin/tokens", "/admin/users", "/admin/targets",
                 "/admin/comments/1", "/admin/tokens/1/revoke", "/admin/users/1/disable"):
        assert client.post(path, data={}).status_code == 400, path


def test_admin_pages_are_not_cached(client, world):
    login(client, "bd")
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"


def test_csrf_tokens_rendered_in_pages_are_accepted(make_app):
    """Each form carries a token that its own handler accepts (comment forms are prefixed)."""
    import re

    from tests.admin.fixtures import make_responses

    app = make_app(WTF_CSRF_ENABLED=True, PASSWORD_HASH_METHOD=FAST)
    with app.app_context():
        import io

        from core.models import Office
        from core.services.accounts import create_user
        from core.services.common import get_instrument
        from core.services.offices import import_offices
        from core.timeutil import last_complete_month
        from tests.conftest import SMALL_TREE

        import_offices(io.StringIO(SMALL_TREE))
        office = db.session.scalar(sa.select(Office).where(Office.code == "BD-KM"))
        month = last_complete_month()
        rid = make_responses(get_instrument("hanoi-2022"), office, month, 1,
                             comment="Cần thêm ghế chờ.")[0]
        create_user("bd", "head", "BD", PASSWORDS["bd"], actor="t", must_change=False)
    client = app.test_client()

    def token(page: str, name: str = "csrf_token") -> str:
        return re.search(rf'name="{re.escape(name)}" type="hidden" value="([^"]+)"',
                         page).group(1)

    page = client.get("/admin/login").get_data(as_text=True)
    client.post("/admin/login", data={"username": "bd", "password": PASSWORDS["bd"],
                                      "csrf_token": token(page)})
    page = client.get(f"/admin/comments?office=BD&month={month}").get_data(as_text=True)
    r = client.post(f"/admin/comments/{rid}", data={
        f"c{rid}-csrf_token": token(page, f"c{rid}-csrf_token"),
        f"c{rid}-status": "in_progress"})
    assert r.status_code == 302
    page = client.get("/admin/tokens").get_data(as_text=True)
    r = client.post("/admin/tokens", data={"csrf_token": token(page), "label": "x"})
    assert r.status_code == 200 and "sipas_" in r.get_data(as_text=True)
    page = client.get("/admin/").get_data(as_text=True)
    signout = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/admin/logout", data={"csrf_token": signout}).status_code == 302

"""Sign-in plumbing of the results area: Flask-Login wiring and the per-request guard."""

from __future__ import annotations

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from core.extensions import login_manager
from core.models import User
from core.redirects import safe_next
from core.services import sessions

#: endpoints of the admin blueprint reachable without signing in
PUBLIC_ENDPOINTS = {"admin.login", "admin.static"}
#: endpoints reachable while a temporary password must still be changed
PASSWORD_ENDPOINTS = {"admin.password", "admin.logout", "admin.static"}
#: key of the server-side session id in the (signed) session cookie
SESSION_ID_KEY = "sid"


def _load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user only while the cookie's server-side session lives."""
    return sessions.session_user(user_id, session.get(SESSION_ID_KEY))


def sign_in(u: User) -> None:
    """Start a server-side session for ``u`` in a fresh session cookie."""
    session.clear()
    session[SESSION_ID_KEY] = sessions.start_session(u)
    login_user(u)


def sign_out(u: User) -> None:
    """End this browser's server-side session (the user's other sessions go on)."""
    sessions.end_session(u, session.get(SESSION_ID_KEY))
    logout_user()
    session.clear()


def init_login(app: Flask) -> None:
    """Flask-Login for ``app``: users loaded through their server-side session (and bound to
    the password nonce, "strong" protection); the session cookie is Secure on every HTTPS
    request (core/http.py)."""
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    # Derived settings (the defaults are in core/config.py): secure cookies always when the
    # app is configured for HTTPS; the remember-me cookie follows the session cookie
    cfg = app.config
    https = cfg["PREFERRED_URL_SCHEME"] == "https"
    cfg["SESSION_COOKIE_SECURE"] = bool(cfg["SESSION_COOKIE_SECURE"]) or https
    cfg["REMEMBER_COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"]
    cfg["REMEMBER_COOKIE_SAMESITE"] = cfg["SESSION_COOKIE_SAMESITE"]

    @app.before_request
    def _load_user_afresh() -> None:
        # Flask-Login caches the user on ``g``; when an app context outlives a request (tests,
        # CLI-driven requests) a stale user must never carry over to the next request.
        g.pop("_login_user", None)


def user() -> User:
    """The signed-in user (the guard guarantees there is one)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def guard():
    """Before every admin request: sign-in required, temporary password changed first."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.method != "GET":
            abort(401)
        return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
    if current_user.must_change_password and endpoint not in PASSWORD_ENDPOINTS:
        return redirect(url_for("admin.password"))
    return None


def next_target(default: str | None = None) -> str:
    """Where to go after this request: its ``next`` parameter when it is a page of the
    results area (:func:`core.redirects.safe_next`), else ``default`` (the dashboard).
    Views call it before doing any work."""
    return safe_next(request.args.get("next"), default or url_for("admin.index"),
                     within="/admin")


def referrer_target(default: str) -> str:
    """The page this request came from (its ``Referer``) when that is a page of the results
    area on this site, checked like a ``next`` parameter; else ``default``."""
    referrer, here = request.referrer or "", request.host_url
    path = "/" + referrer[len(here):] if referrer.startswith(here) else None
    return safe_next(path, default, within="/admin")


def no_store(response):
    """Results and account pages must not be kept in shared caches."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response

"""What every HTTP request goes through, whatever area answers it.

- GET and HEAD requests run their database transactions read-only (the switch of
  :mod:`core.db_setup`: on SQLite a deferred ``BEGIN``), reset when the request ends;
- a request id: the client's ``X-Request-ID`` when it is a sane token, else a fresh one;
  echoed in the response and in every log line written while the request runs;
- one structured JSON access-log line per request (request id, method, path, endpoint,
  status, duration; never answers, comments, query strings, nor route arguments that are
  secrets such as receipt tokens), written through :mod:`core.logs`;
- security headers on every response (a strict Content-Security-Policy: scripts and styles
  only from 'self'; HSTS only when the request came over HTTPS);
- the real client address and scheme from a reverse proxy, only when ``PROXY_FIX`` says how
  many proxies to trust (0, the default, trusts none);
- the session cookie is ``Secure`` on every HTTPS request (direct, or through the trusted
  proxy), without a setting;
- hostile-input guards for ``/api/``: bodies over ``MAX_CONTENT_LENGTH`` are refused before
  they are read, and JSON bodies must be valid UTF-8 and at most ``JSON_MAX_DEPTH`` deep;
- a database (or Redis, the shared rate-limit store) that cannot be reached gives a
  retryable 503 with ``Retry-After``, never a 500.
"""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Response
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from core import db_setup, metrics
from core.extensions import db
from core.http_errors import error_response
from core.logs import access_log, loggable_path

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
READ_ONLY_METHODS = ("GET", "HEAD")


# --- request lifecycle ---------------------------------------------------------------------

def _start_request() -> Response | None:
    # GET and HEAD only read: their SQLite transactions need not take the write lock
    g.read_only_token = db_setup.set_read_only(request.method in READ_ONLY_METHODS)
    g.request_started = time.perf_counter()
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex
    return _guard_body()


def _end_request(_exc: BaseException | None) -> None:
    """Reset the read-only switch, so that the next request served by this thread starts
    from the default (transactions that may write)."""
    token = g.pop("read_only_token", None)
    if token is not None:
        db_setup.reset_read_only(token)


def _finish_request(response: Response) -> Response:
    _security_headers(response)
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or ""
    started = g.get("request_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.endpoint or "unmatched"
    metrics.observe_request(endpoint, request.method, response.status_code, duration)
    access_log.info("request", extra={"fields": {
        "method": request.method, "path": loggable_path(), "endpoint": endpoint,
        "status": response.status_code, "duration_ms": round(duration * 1000, 2),
        "bytes": response.calculate_content_length()}})
    return response


def _security_headers(response: Response) -> None:
    """The security headers a view did not set itself, added in one pass over the
    response's headers (``Headers.setdefault`` scanned them, and built a lookup error, once
    per header)."""
    cfg = current_app.config
    defaults = [("Content-Security-Policy", cfg["CONTENT_SECURITY_POLICY"]),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", cfg["REFERRER_POLICY"]),
                ("X-Frame-Options", "DENY"),
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
    if cfg["HSTS_MAX_AGE"] and request.is_secure:
        defaults.append(("Strict-Transport-Security",
                         f"max-age={int(cfg['HSTS_MAX_AGE'])}; includeSubDomains"))
    headers = response.headers
    present = {key.lower() for key, _value in headers}
    for key, value in defaults:
        if key.lower() not in present:
            headers.add(key, value)


# --- the session cookie --------------------------------------------------------------------

class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie ``Secure`` whenever the request came
    over HTTPS (``request.is_secure``, which follows ``X-Forwarded-Proto`` behind the proxy
    that ``PROXY_FIX`` trusts), or always when ``SESSION_COOKIE_SECURE`` is set."""

    def get_cookie_secure(self, app: Flask) -> bool:  # type: ignore[override]
        return bool(super().get_cookie_secure(app)
                    or (has_request_context() and request.is_secure))

    # Requests without a session cookie (every API call) skip the signing serializer and
    # the cookie settings, and without any cookie the parsing of the Cookie header: same
    # results as Flask's, less work per request.
    def open_session(self, app: Flask, request):  # type: ignore[override]
        if app.secret_key and (not request.environ.get("HTTP_COOKIE")
                               or not request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:  # type: ignore[override]
        if not session and not session.modified:  # empty, untouched: no cookie to set
            if session.accessed:
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:  # the usual case, without parsing and re-serialising a header set
                    response.headers["Vary"] = "Cookie"
            return
        super().save_session(app, session, response)


# --- credentials ---------------------------------------------------------------------------

def bearer_token() -> str | None:
    """The credential of the request's ``Authorization: Bearer <credential>`` header (the
    scheme in any case, surrounding spaces stripped), or None when there is no such header,
    another scheme or an empty credential. Services check the credential itself."""
    scheme, _sep, credential = request.headers.get("Authorization", "").partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and credential else None


# --- hostile input -------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"[^"]*"')
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit`` (or its brackets
    do not pair up); brackets inside strings do not count. Works in C-speed passes (count,
    replace, a regex, translate), at most ``limit`` of them, without recursion, so a
    hostile 2 MB body costs milliseconds."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    # escaped backslashes, then escaped quotes, so that every '"' left delimits a string
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _JSON_STRING.sub(b"", text).translate(_SQUARE, _NOT_A_BRACKET)
    for _ in range(limit):  # each pass removes the innermost level
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if shorter == brackets:
            return True  # brackets that do not pair up
        brackets = shorter
    return bool(brackets)


def _guard_body() -> Response | None:
    """Refuse oversized bodies before reading them; under /api/, check JSON bodies
    (UTF-8, nesting depth, syntax) once, so no view sees a hostile one."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    length = req.content_length
    if limit and length is not None and length > limit:
        raise RequestEntityTooLarge()
    if not req.path.startswith("/api/") or req.url_rule is None:
        return None
    if req.method not in ("POST", "PUT", "PATCH") or not req.is_json:
        return None
    data = req.get_data(cache=True)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, "invalid_encoding", "The request body is not valid UTF-8.")
    if json_depth_exceeds(data, int(current_app.config["JSON_MAX_DEPTH"])):
        return error_response(400, "too_deep", "The JSON body is nested too deeply.")
    if data.strip():
        req.get_json()  # raises BadRequest (answered as 400 JSON) when invalid; cached
    return None


# --- database outages ----------------------------------------------------------------------

RETRYABLE_DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                       sa_exc.DisconnectionError)


def _database_unavailable(exc: Exception):
    """The database is down, restarting, unreachable, or the pool is exhausted: roll back,
    log one line (no stack trace), and answer a retryable 503."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        db.session.remove()
    metrics.DB_UNAVAILABLE.inc()
    orig = getattr(exc, "orig", None) or exc
    # the driver's first line only: SQLAlchemy's full text would carry the statement's
    # parameters, i.e. possibly answers or comments
    detail = (str(orig).splitlines() or [""])[0][:200]
    current_app.logger.warning("database unavailable", extra={"fields": {
        "error": type(orig).__name__, "detail": detail, "path": request.path}})
    retry = str(int(current_app.config["DB_RETRY_AFTER"]))
    return error_response(503, "database_unavailable", headers={"Retry-After": retry})


def _remove_session_safely(_exc: BaseException | None) -> None:
    """End the app context's database session before Flask-SQLAlchemy's own teardown does.
    When the database went away meanwhile (e.g. PostgreSQL restarting), the closing ROLLBACK
    fails: the answer is already built (and any commit already done), so the broken
    connection is invalidated and the answer stands, instead of a 500 raised after the
    fact."""
    try:
        db.session.remove()
    except sa_exc.SQLAlchemyError as err:
        current_app.logger.warning("database connection lost at the end of a request",
                                   extra={"fields": {"error": type(err).__name__}})
        try:
            db.session.registry().invalidate()
        except sa_exc.SQLAlchemyError:
            pass
        db.session.registry.clear()


def init_session_teardown(app: Flask) -> None:
    """Call after ``db.init_app(app)``: app-context teardowns run in reverse order of
    registration, so this one runs before Flask-SQLAlchemy's."""
    app.teardown_appcontext(_remove_session_safely)


def _shared_store_unavailable(exc: Exception):
    """Redis (the shared rate-limit store) cannot be reached: a retryable 503, not a 500."""
    current_app.logger.warning("shared store unavailable", extra={"fields": {
        "error": type(exc).__name__, "path": request.path}})
    retry = str(int(current_app.config["DB_RETRY_AFTER"]))
    return error_response(503, "store_unavailable", headers={"Retry-After": retry})


def init_app(app: Flask) -> None:
    n = int(app.config["PROXY_FIX"] or 0)
    if n > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    app.session_interface = SessionInterface()
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    for error in RETRYABLE_DB_ERRORS:
        app.register_error_handler(error, _database_unavailable)
    app.register_error_handler(redis_exc.ConnectionError, _shared_store_unavailable)
    app.register_error_handler(redis_exc.TimeoutError, _shared_store_unavailable)

"""Error pages in one place: friendly HTML for people, JSON for programs under ``/api/``.

The only place where a domain error (:mod:`core.errors`) becomes an HTTP status: see
:data:`STATUS`. An area may render its own page for some codes (the survey's citizen pages)
through :func:`status_of` and :func:`error_response`, never with a status of its own.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from core import errors
from core.errors import DomainError, RateLimited
from core.extensions import db
from core.logs import loggable_path

#: Domain error class -> HTTP status (the most specific class wins).
STATUS: dict[type[DomainError], int] = {
    errors.Invalid: 400, errors.Unauthenticated: 401, errors.NotAllowed: 403,
    errors.NotFound: 404, errors.Conflict: 409, errors.Gone: 410, errors.TooLarge: 413,
    errors.UnsupportedFormat: 415, errors.RateLimited: 429,
}

MESSAGES: dict[int, tuple[str, Any, Any]] = {
    400: ("bad_request", _l("Bad request"), _l("The request could not be understood.")),
    401: ("unauthorized", _l("Sign-in required"),
          _l("You need to sign in or present a valid credential.")),
    403: ("forbidden", _l("Access denied"), _l("You do not have access to this page.")),
    404: ("not_found", _l("Page not found"),
          _l("The page you asked for does not exist or has been moved.")),
    405: ("method_not_allowed", _l("Not allowed"), _l("This action is not allowed here.")),
    409: ("conflict", _l("Already done"), _l("This has already been done.")),
    410: ("gone", _l("No longer available"), _l("This link has expired.")),
    413: ("too_large", _l("Too much data"), _l("The data sent is too large.")),
    415: ("unsupported_media_type", _l("Wrong format"),
          _l("The data is not in a format we accept.")),
    429: ("rate_limited", _l("Too many requests"), _l("Please wait a moment and try again.")),
    500: ("server_error", _l("Something went wrong"),
          _l("An unexpected error happened. Please try again later.")),
    503: ("unavailable", _l("Service temporarily unavailable"),
          _l("The service is busy or under maintenance. Please try again shortly.")),
}


def status_of(exc: DomainError) -> int:
    """The HTTP status of a domain error."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def headers_of(exc: DomainError) -> dict[str, str]:
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    return {}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str | None = None, message: str | None = None,
                   fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    default_code, title, default_message = MESSAGES.get(status, MESSAGES[500])
    message = message or str(default_message)
    if wants_json():
        body: dict[str, Any] = {"error": code or default_code, "message": message}
        if fields:
            body["fields"] = fields
        resp = jsonify(body)
    else:
        resp = render_template("errors/error.html", status=status, title=str(title),
                               message=message, fields=fields or {}, code=code or default_code)
    return resp, status, headers or {}


def domain_error_response(exc: DomainError):
    return error_response(status_of(exc), exc.code, exc.message, exc.fields, headers_of(exc))


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        headers = dict(exc.get_headers()) if status in (401, 405, 429, 503) else {}
        headers.pop("Content-Type", None)
        custom = exc.description if getattr(exc, "sipas_message", False) else None
        return error_response(status, message=custom, headers=headers)

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        # the database refused a value the application let through (e.g. a NUL character
        # PostgreSQL cannot store): the request's data is at fault, not the server
        db.session.rollback()
        app.logger.warning("database refused a value on %s %s: %s", request.method,
                           loggable_path(), type(exc.orig).__name__)
        return error_response(400, "invalid_data", str(MESSAGES[400][2]))

    @app.errorhandler(Exception)
    def _server_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, loggable_path())
        return error_response(500)

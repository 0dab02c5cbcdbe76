"""The reporting API for programs: ``GET /api/v1/offices/<code>/reports/<YYYY-MM>`` with a
personal token (``Authorization: Bearer sipas_...``), scoped like the dashboard."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from core.errors import Unauthenticated
from core.extensions import csrf
from core.http import bearer_token
from core.i18n import locale_code
from core.services import accounts, scope
from core.services.reports import monthly_report

api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def _token_user():
    secret = bearer_token()
    user = accounts.user_for_token(secret) if secret else None
    if user is None:
        exc = Unauthenticated("unauthorized", _("A valid personal API token is required "
                                         "(Authorization: Bearer ...)."))
        raise exc
    return user


@api_bp.get("/offices/<code>/reports/<month>")
def office_report(code: str, month: str):
    user = _token_user()
    scope.require(user, "read")
    office = scope.office_in_scope(user, code)
    data = monthly_report(office, month, request.args.get("instrument") or None,
                          locale=locale_code(),
                          include_partial=request.args.get("partial") in ("1", "true"))
    resp = jsonify(data)
    resp.headers["Cache-Control"] = "no-store"
    return resp

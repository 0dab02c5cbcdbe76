"""The reporting API for programs: ``GET /api/v1/offices/<code>/reports/<period>`` with a
personal token (``Authorization: Bearer sipas_...``), scoped like the dashboard; and
``PUT /api/v1/offices/<code>/dossiers/<YYYY-MM>`` with the office's API key (its one-stop
software reports the month's dossier volume)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from core.errors import DomainError, Invalid, NotAllowed, Unauthenticated
from core.extensions import csrf
from core.http import bearer_token
from core.http_errors import error_response, status_of
from core.i18n import locale_code
from core.services import accounts, scope
from core.services.breakdowns import add_breakdown
from core.services.dossiers import set_dossiers
from core.services.offices import get_office
from core.services.receipts import authenticate_key
from core.services.reports import period_report

api_bp = Blueprint("admin_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sipas"'}


def _token_user():
    secret = bearer_token()
    user = accounts.user_for_token(secret) if secret else None
    if user is None:
        exc = Unauthenticated("unauthorized", _("A valid personal API token is required "
                                         "(Authorization: Bearer ...)."))
        raise exc
    return user


@api_bp.get("/offices/<code>/reports/<period>")
def office_report(code: str, period: str):
    user = _token_user()
    scope.require(user, "read")
    office = scope.office_in_scope(user, code)
    data = period_report(office, period, request.args.get("instrument") or None,
                         locale=locale_code(),
                         include_partial=request.args.get("partial") in ("1", "true"))
    by = request.args.get("by")
    if by:
        add_breakdown(data, office, by, locale=locale_code())
    resp = jsonify(data)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@api_bp.put("/offices/<code>/dossiers/<month>")
def office_dossiers(code: str, month: str):
    """Set the dossiers an office handled in a month (its own, not its subtree's), with
    that office's API key; see admin/openapi.json."""
    try:
        key = authenticate_key(bearer_token())
    except DomainError as exc:
        return error_response(status_of(exc), exc.code, exc.message, headers=CHALLENGE)
    office = get_office(code)
    if key.office_id != office.id:
        raise NotAllowed("wrong_office", _("This API key belongs to another office."))
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"dossiers"}:
        raise Invalid("invalid", _("Some fields are not valid."),
                      fields={"body": _('must be a JSON object {"dossiers": N}')})
    n = set_dossiers(office, month, body["dossiers"], actor=f"apikey:{key.prefix}")
    resp = jsonify({"office_code": office.code, "month": month, "dossiers": n})
    resp.headers["Cache-Control"] = "no-store"
    return resp

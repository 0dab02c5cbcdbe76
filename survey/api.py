"""The receipts API for one-stop software: mint a dossier's link, fetch its QR images."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _

from core.errors import DomainError, Invalid
from core.extensions import csrf
from core.http import bearer_token
from core.http_errors import error_response, status_of
from core.services.offices import get_office
from core.services.qrcodes import qr_png, qr_svg
from core.services.receipts import authenticate_key, find_receipt, mint_receipt
from survey.urls import qr_caption, receipt_links

bp = Blueprint("receipts_api", __name__, url_prefix="/api/v1")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sipas"'}


@bp.post("/receipts")
@csrf.exempt
def mint():
    """Create (201) or return (200) the link of a dossier; see survey/openapi.json."""
    try:
        key = authenticate_key(bearer_token())
    except DomainError as exc:
        return error_response(status_of(exc), exc.code, exc.message, headers=CHALLENGE)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("invalid", _("Some fields are not valid."),
                       fields={"body": _("must be a JSON object")})
    code = body.get("office_code")
    office = key.office if code in (None, "") else get_office(str(code))
    minted = mint_receipt(office, body.get("dossier_code"), body.get("procedure"), api_key=key)
    payload = {"office_code": office.code, "token": minted.token,
               "expires_at": minted.receipt.expires_at.isoformat().replace("+00:00", "Z"),
               **receipt_links(minted.token)}
    return jsonify(payload), 201 if minted.created else 200


def _box_size() -> int:
    try:
        return min(max(int(request.args.get("box", 6)), 2), 20)
    except ValueError:
        return 6


def _image(body: bytes, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    # the image carries a one-time link: never in shared caches
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@bp.get("/receipts/<token>/qr.png", endpoint="qr_png")
def qr_png_view(token: str):
    find_receipt(token)  # the printed link itself, whichever key of the ring signed it
    url = receipt_links(token)["url"]
    level = current_app.config["QR_ERROR_CORRECTION"]
    return _image(qr_png(url, qr_caption(_("Scan to rate the service")), level, _box_size()),
                  "image/png")


@bp.get("/receipts/<token>/qr.svg", endpoint="qr_svg")
def qr_svg_view(token: str):
    find_receipt(token)  # the printed link itself, whichever key of the ring signed it
    url = receipt_links(token)["url"]
    level = current_app.config["QR_ERROR_CORRECTION"]
    return _image(qr_svg(url, qr_caption(_("Scan to rate the service")), level),
                  "image/svg+xml")


"""The kiosk JSON API under ``/api/v1``: submissions and heartbeats, authenticated by the
kiosk's device credential (``Authorization: Bearer …``), CSRF-exempt (no cookies involved).

Documented in ``kiosk/openapi.json``, served as part of ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from core.errors import (
    Invalid,
    TooLarge,
    Unauthenticated,
    UnsupportedFormat,
)
from core.extensions import csrf
from core.http import bearer_token
from core.services import intake
from core.services import kiosks as kiosk_service

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _json_body(authenticate=kiosk_service.authenticate):
    """The request's JSON object. Raises DomainError 401/413/415/400 (in that order)."""
    kiosk = authenticate(bearer_token())
    if kiosk is None:
        raise Unauthenticated("unauthorized", _("A valid kiosk credential is required "
                                         "(Authorization: Bearer …)."))
    g.kiosk = kiosk
    limit = current_app.config["KIOSK_MAX_BODY"]
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge("too_large", _("The request body is larger than %(n)s bytes.", n=limit))
    if request.mimetype != "application/json":
        raise UnsupportedFormat("unsupported_media_type",
                       _("Send the body as JSON (Content-Type: application/json)."))
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid("invalid_json", _("The body is not valid JSON."))
    return kiosk, body


@bp.after_request
def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _answers_ahead() -> tuple[intake.RawSubmission, intake.Checked] | None:
    """A JSON body's submission and the outcome of its rules, worked out before the
    credential is looked up: that lookup begins the request's write transaction (SQLite:
    the write lock), held from then on for the writes only. The errors keep their order
    (401, 413, 415, the body's own): :func:`intake.submit` raises a rule's error in its
    place. None when the body is not a JSON value within the kiosk's limit (those errors
    come after the credential's)."""
    length = request.content_length
    if (request.mimetype != "application/json" or length is None
            or length > current_app.config["KIOSK_MAX_BODY"]):
        return None
    body = request.get_json(silent=True)  # parsed once, by core.http's guard; cached
    if body is None:
        return None
    raw = intake.raw_from_json(body)
    return raw, intake.check_ahead(raw, require_id=kiosk_service.KioskDoor.require_id)


@bp.post("/responses")
def post_response():
    ahead = _answers_ahead()
    kiosk, body = _json_body(kiosk_service.authenticate_device)
    door = kiosk_service.KioskDoor(kiosk)
    if ahead is None:
        stored = intake.submit(door, intake.raw_from_json(body))
    else:
        stored = intake.submit(door, ahead[0], checked=ahead[1])
    return jsonify({"id": stored.uuid, "created": stored.created,
                    "flags": list(stored.flags)}), 201 if stored.created else 200


@bp.post("/kiosk/heartbeat")
def post_heartbeat():
    kiosk, body = _json_body()
    if not isinstance(body, dict):
        raise Invalid("invalid", _("The body must be a JSON object."))
    return jsonify(kiosk_service.heartbeat(kiosk, body.get("pending"), body.get("rejected"),
                                           body.get("offline_shell"), body.get("app_version")))

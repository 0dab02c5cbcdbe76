"""The questionnaire on a citizen's own phone, reached through the QR code on a receipt
(``/s/<token>``, one response per dossier) or the office's generic poster link
(``/o/<office_code>``). Server-rendered, no JavaScript needed.

CSRF: these two views are exempt from the global before-request check and the form checks
its own CSRF token instead, so that a citizen whose page stayed open too long gets the form
back with their answers and a fresh token, not an error page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import metrics
from core.api import fragment_recorder
from core.errors import Conflict, DomainError, RateLimited
from core.extensions import csrf
from core.http_errors import error_response, status_of, wants_json
from core.i18n import locale_code
from core.questionnaire import QuestionnaireForm, questionnaire_form
from core.ratelimit import limiter
from core.services.common import get_instrument
from core.services.receipts import (
    FormTokenExpired,
    check_form_token,
    generic_office,
    issue_form_token,
    store_generic,
    use_receipt,
    verify_token,
)
from core.services.responses import ValidationFailed, clean_response
from survey.api import bp as api_bp
from survey.cli import register_commands

bp = Blueprint("survey", __name__, template_folder="templates", static_folder="static",
               static_url_path="/survey/static")
bp.register_blueprint(api_bp)
bp.record_once(fragment_recorder(Path(__file__).parent / "openapi.json"))
bp.record_once(lambda state: register_commands(state.app))

#: Name of the honeypot field: hidden from people, filled in by naive bots.
HONEYPOT = "website"


#: Titles of the survey's failure pages, by error code (the message says the rest).
ERROR_TITLES = {
    "unknown_token": _l("This link is not valid"),
    "expired": _l("This link has expired"),
    "already_answered": _l("Already rated"),
    "form_used": _l("Already sent"),
    "key_revoked": _l("The survey is not available"),
    "office_inactive": _l("The survey is not available"),
    "unknown_office": _l("This link is not valid"),
    "rate_limited": _l("Please try again later"),
    "bad_form_token": _l("Please reload the page"),
}


@bp.errorhandler(DomainError)
def _survey_error(exc: DomainError):
    """Failure pages written for citizens (the API under this blueprint keeps JSON)."""
    if wants_json() or exc.code not in ERROR_TITLES:
        return error_response(status_of(exc), exc.code, exc.message, exc.fields)
    return render_template("survey/error.html", title=str(ERROR_TITLES[exc.code]),
                           message=exc.message, code=exc.code), status_of(exc)


PRIVATE_PAGES = {"survey.receipt_survey", "survey.generic", "survey.thanks"}


@bp.after_request
def _private_headers(response):
    """Survey pages carry a one-time link and a citizen's answers: never cached, and the
    link never leaks to another site through the Referer header."""
    if request.endpoint in PRIVATE_PAGES:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/survey/")
def index():
    return render_template("survey/index.html")


@bp.get("/survey/thanks")
def thanks():
    return render_template("survey/thanks.html")


def _form() -> QuestionnaireForm:
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    formdata = request.form if request.method == "POST" else None
    return questionnaire_form(instrument, locale_code(), formdata=formdata)


def _clean(form: QuestionnaireForm) -> tuple[Any, str | None]:
    """(clean response, None) or (None, problem) for answers the form accepted."""
    try:
        return clean_response(form.instrument, **form.to_payload()), None
    except ValidationFailed as exc:
        return None, exc.fields.get("answers") or exc.message


def _render(form: QuestionnaireForm, office: Any, *, problem: str | None = None,
            stale: bool = False, form_token: str | None = None, status: int = 200):
    csrf_only = set(form.errors) == {"csrf_token"}
    return render_template("survey/form.html", form=form, office=office, problem=problem,
                           stale=stale or csrf_only, form_token=form_token,
                           honeypot=HONEYPOT), status


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt
def receipt_survey(token: str):
    """The survey of one receipt; every failure is an error page with its status."""
    try:
        receipt = verify_token(token)
    except DomainError as exc:
        if request.method == "POST":
            outcome = "duplicate" if isinstance(exc, Conflict) else "rejected"
            metrics.count_submission("qr", outcome)
        raise
    form = _form()
    if request.method == "POST" and form.validate():
        clean, problem = _clean(form)
        if clean is not None:
            try:
                response_id = use_receipt(token, clean)
            except DomainError as exc:
                outcome = "duplicate" if isinstance(exc, Conflict) else "rejected"
                metrics.count_submission("qr", outcome)
                raise
            metrics.count_submission("qr", "stored")
            current_app.logger.info("qr response %s stored", response_id)
            return redirect(url_for(".thanks"))
        return _render(form, receipt.office, problem=problem)
    return _render(form, receipt.office)


@bp.route("/o/<office_code>", methods=["GET", "POST"])
@csrf.exempt
def generic(office_code: str):
    """The office's generic link, for citizens without a receipt (channel ``generic``)."""
    office = generic_office(office_code)
    form = _form()
    if request.method == "GET":
        return _render(form, office, form_token=issue_form_token(office))
    if request.form.get(HONEYPOT):
        current_app.logger.info("generic link of %s: honeypot filled, answer dropped",
                                office.code)
        return redirect(url_for(".thanks"))
    form_token = request.form.get("ft", "")
    try:
        check_form_token(office, form_token)
    except FormTokenExpired:
        return _render(form, office, stale=True, form_token=issue_form_token(office))
    if not form.validate():
        return _render(form, office, form_token=form_token)
    clean, problem = _clean(form)
    if clean is None:
        return _render(form, office, problem=problem, form_token=form_token)
    client = request.remote_addr or "unknown"
    if not limiter().hit("survey.generic", f"{office.id}:{client}",
                         current_app.config["GENERIC_RATE_LIMIT"]):
        metrics.count_submission("generic", "rate_limited")
        raise RateLimited("rate_limited", _("Many answers were sent from this device recently. "
                                         "Please try again later."))
    try:
        response_id = store_generic(office, form_token, clean)
    except DomainError as exc:
        outcome = "duplicate" if isinstance(exc, Conflict) else "rejected"
        metrics.count_submission("generic", outcome)
        raise
    metrics.count_submission("generic", "stored")
    current_app.logger.info("generic response %s stored", response_id)
    return redirect(url_for(".thanks"))

"""The questionnaire on a citizen's own phone, reached through the QR code on a receipt
(``/s/<token>``, one response per dossier) or the office's generic poster link
(``/o/<office_code>``). Server-rendered, no JavaScript needed: one dimension per step
(:mod:`survey.steps`, the answers of other steps carried in a signed form field), or the
whole questionnaire on one page (``?all=1``; a post without a step number).

CSRF: these two views are exempt from the global before-request check and the form checks
its own CSRF token instead, so that a citizen whose page stayed open too long gets the form
back with their answers and a fresh token, not an error page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import DomainError, Invalid
from core.extensions import csrf
from core.http_errors import domain_error_response, headers_of, status_of, wants_json
from core.i18n import locale_code
from core.questionnaire import QuestionnaireForm, questionnaire_form
from core.services import followup, intake
from core.services.common import get_instrument
from core.services.intake import ValidationFailed
from core.services.receipts import (
    FormExpired,
    GenericDoor,
    ReceiptDoor,
    generic_office,
    issue_form_token,
    verify_token,
)
from survey import steps as stepping

bp = Blueprint("survey", __name__, template_folder="templates", static_folder="static",
               static_url_path="/survey/static")

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
    """Failure pages written for citizens (JSON for anything under ``/api/``)."""
    if wants_json() or exc.code not in ERROR_TITLES:
        return domain_error_response(exc)
    return render_template("survey/error.html", title=str(ERROR_TITLES[exc.code]),
                           message=exc.message, code=exc.code), status_of(exc), headers_of(exc)


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
    # the follow-up code made when the answer was sent: shown once, on this no-store page
    code = session.pop(followup.SESSION_KEY, None)
    return render_template("survey/thanks.html",
                           followup_code=followup.grouped(code) if code else None,
                           followup_raw=code)


def _form() -> QuestionnaireForm:
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    formdata = request.form if request.method == "POST" else None
    return questionnaire_form(instrument, locale_code(), formdata=formdata)


def _render(form: QuestionnaireForm, office: Any, *, problem: ValidationFailed | None = None,
            stale: bool = False, form_token: str | None = None, status: int = 200):
    return render_template("survey/form.html", form=form, office=office, problem=problem,
                           stale=stale, form_token=form_token, honeypot=HONEYPOT), status


def _submit(form: QuestionnaireForm, door: Any, data: Any = None) -> ValidationFailed | None:
    """Send the posted answers (or ``data``) through the one door: None when stored, else
    the rule the answers broke (shown beside the questions). Other refusals raise (error
    pages). A comment kept with the answer gets a follow-up code, shown once on the thank-you
    page (:mod:`core.services.followup`)."""
    posted = request.form if data is None else data
    raw = intake.raw_from_form(form.instrument, form.submitted(posted))
    code = followup.offer(raw)
    try:
        intake.submit(door, raw)
    except ValidationFailed as problem:
        form.show(problem)
        return problem
    if code:
        session[followup.SESSION_KEY] = code
    return None


# --- one dimension per step -------------------------------------------------------------------

def _stepped() -> bool:
    return request.method == "GET" and request.args.get("all") != "1" or "step" in request.form


def _render_step(office: Any, number: int, answers: dict[str, str], *,
                 problem: ValidationFailed | None = None, stale: bool = False,
                 form_token: str | None = None, status: int = 200,
                 form: QuestionnaireForm | None = None):
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    steps = stepping.steps_of(instrument)
    step = steps[number - 1]
    if form is None:
        form = questionnaire_form(instrument, locale_code(), formdata=stepping.formdata(answers)
                                  if answers else None)
    carry = stepping.dump({k: v for k, v in answers.items() if k not in step.fields})
    return render_template("survey/steps.html", form=form, office=office, step=step,
                           steps=steps, carry=carry, problem=problem, stale=stale,
                           form_token=form_token, honeypot=HONEYPOT), status


def _step_post(office: Any, make_door: Any, form_token: str | None = None):
    """A post of one step: back, next (the step's criteria each need a choice) or send (every
    step complete, then the one door). Returns a response, or None when stored."""
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    steps = stepping.steps_of(instrument)
    try:
        number = min(max(int(request.form.get("step", "1")), 1), len(steps))
    except ValueError:
        number = 1
    step = steps[number - 1]
    carried = stepping.load(request.form.get("carry", ""))
    if carried is None:
        raise Invalid("bad_form_token", _("The form could not be checked. Please reload the "
                                          "page and answer again."))
    answers = stepping.merge(carried, request.form, step)
    data = stepping.formdata(answers, request.form.get("csrf_token"))
    form = questionnaire_form(instrument, locale_code(), formdata=data)
    if not form.validate():  # an expired CSRF token: answers kept, this step again
        return _render_step(office, number, answers, stale=True, form_token=form_token,
                            form=form)
    nav = request.form.get("nav", "next")
    if nav == "back":
        return _render_step(office, max(1, number - 1), answers, form_token=form_token)
    targets = [step] if nav == "next" and number < len(steps) else steps
    for target in targets:
        lacking = stepping.missing(answers, target)
        if lacking:
            form = questionnaire_form(instrument, locale_code(), formdata=data)
            for name in lacking:
                form[name].errors = [_("Please choose a rating, or “No answer”.")]
            problem = ValidationFailed({f"answers.{n[2:].replace('_', '.')}": "" for n in lacking},
                                       _("Some questions are not answered yet. Please choose a "
                                         "rating, or “No answer”, for each question."))
            return _render_step(office, target.number, answers, problem=problem,
                                form_token=form_token, status=400, form=form)
    if nav == "next" and number < len(steps):
        return _render_step(office, number + 1, answers, form_token=form_token)
    problem = _submit(form, make_door(), data)
    if problem is None:
        return None
    first = next((stepping.step_of_field(steps, form.field_for(key)) for key in problem.fields
                  if stepping.step_of_field(steps, form.field_for(key))), None)
    return _render_step(office, (first or step).number, answers, problem=problem,
                        form_token=form_token, status=400, form=form)


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt
def receipt_survey(token: str):
    """The survey of one receipt; every failure is an error page with its status."""
    if _stepped():
        if request.method == "GET":
            return _render_step(verify_token(token).office, 1, {})
        door = ReceiptDoor(token)
        office = verify_token(token).office
        done = _step_post(office, lambda: door)
        return redirect(url_for(".thanks")) if done is None else done
    form = _form()
    if request.method == "POST" and form.validate():  # the form checks its CSRF token
        door = ReceiptDoor(token)
        problem = _submit(form, door)
        if problem is None:
            return redirect(url_for(".thanks"))
        return _render(form, door.receipt.office, problem=problem, status=400)
    receipt = verify_token(token)
    # a POST here is one whose CSRF token expired: the answers are kept, sent once more
    return _render(form, receipt.office, stale=request.method == "POST")


@bp.route("/o/<office_code>", methods=["GET", "POST"])
@csrf.exempt
def generic(office_code: str):
    """The office's generic link, for citizens without a receipt (channel ``generic``)."""
    if request.method == "GET" and _stepped():
        office = generic_office(office_code)
        return _render_step(office, 1, {}, form_token=issue_form_token(office))
    form = _form()
    if request.method == "GET":
        office = generic_office(office_code)
        return _render(form, office, form_token=issue_form_token(office))
    if request.form.get(HONEYPOT):
        current_app.logger.info("generic link: honeypot filled, answer dropped")
        return redirect(url_for(".thanks"))
    form_token = request.form.get("ft", "")
    if _stepped():
        office = generic_office(office_code)
        try:
            done = _step_post(office, lambda: GenericDoor(office_code, form_token,
                                                          request.remote_addr or "unknown"),
                              form_token=form_token)
        except FormExpired:
            fresh = issue_form_token(office)
            last = stepping.steps_of(form.instrument)[-1]
            kept = stepping.merge(stepping.load(request.form.get("carry", "")) or {},
                                  request.form, last)
            return _render_step(office, last.number, kept, stale=True, form_token=fresh)
        return redirect(url_for(".thanks")) if done is None else done
    if not form.validate():  # an expired CSRF token: answers kept, sent once more
        return _render(form, generic_office(office_code), stale=True, form_token=form_token)
    door = GenericDoor(office_code, form_token, request.remote_addr or "unknown")
    try:
        problem = _submit(form, door)
    except FormExpired:
        office = generic_office(office_code)
        return _render(form, office, stale=True, form_token=issue_form_token(office))
    if problem is None:
        return redirect(url_for(".thanks"))
    return _render(form, door.office, problem=problem, form_token=form_token, status=400)

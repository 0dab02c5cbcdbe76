"""The public pages (Vietnamese first, no sign-in, no JavaScript).

* ``/phan-hoi/``: a form to type a follow-up code; ``/phan-hoi/<token>``: what became of the
  comment the code was given for (status, and the office's reply once the head published
  it), never the comment's text. The code is the route argument ``token``, so the access log
  writes the route's pattern (``LOG_REDACTED_ROUTE_ARGS``), gunicorn's and nginx's logs
  ``/phan-hoi/<redacted>`` (``SECRET_PATH_PREFIXES``). Rate-limited per client address
  (``FOLLOWUP_RATE_LIMIT``); never cached, never sent as a Referer.
* ``/ket-qua/``: the offices with public results; ``/ket-qua/<office_code>``: the months
  published, ``/ket-qua/<office_code>/csv`` the same figures as CSV,
  ``/ket-qua/<office_code>/phan-hoi`` the board of published replies. Cached by browsers
  and proxies (``Cache-Control: public, max-age=PUBLIC_CACHE_SECONDS``) and in the process.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from core.errors import DomainError, RateLimited
from core.http_errors import headers_of, status_of
from core.i18n import locale_code
from core.ratelimit import limiter
from core.services import followup as followup_service
from core.services import public as public_service

bp = Blueprint("public", __name__, template_folder="templates", static_folder="static",
               static_url_path="/public/static")

#: pages that name a follow-up code: never cached, never in a Referer
PRIVATE_PAGES = {"public.followup", "public.followup_form"}


@bp.errorhandler(DomainError)
def _public_error(exc: DomainError):
    status = status_of(exc)
    resp = Response(render_template("public/error.html", message=exc.message, status=status),
                    status, headers=headers_of(exc))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.after_request
def _headers(resp):
    if request.endpoint in PRIVATE_PAGES:
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Referrer-Policy"] = "no-referrer"
    elif resp.status_code == 200 and "Cache-Control" not in resp.headers:
        resp.headers["Cache-Control"] = (
            f"public, max-age={int(current_app.config['PUBLIC_CACHE_SECONDS'])}")
        resp.vary.add("Cookie")  # the language cookie chooses the page's language
    return resp


# --- follow-up codes -------------------------------------------------------------------------

@bp.get("/phan-hoi/")
def followup_form():
    """Type a code (``?ma=``): a valid one leads to its page; the query string is never
    logged."""
    typed = request.args.get("ma")
    problem = None
    if typed is not None:
        code = followup_service.normalize(typed)
        if code is not None:
            return redirect(url_for(".followup", token=code), 303)
        problem = followup_service.invalid_code()
    return render_template("public/followup_form.html", problem=problem,
                           typed=typed or ""), 400 if problem else 200


# The route argument is called ``token`` so that the access log writes the route pattern,
# never the code (LOG_REDACTED_ROUTE_ARGS).
@bp.get("/phan-hoi/<token>")
def followup(token: str):
    limit = current_app.config["FOLLOWUP_RATE_LIMIT"]
    if not limiter().hit("followup", request.remote_addr or "unknown", limit):
        raise RateLimited("rate_limited", _("Too many codes were looked up from this "
                                            "connection. Please try again later."),
                          retry_after=limiter().window_seconds(limit))
    found = followup_service.lookup(token)
    return render_template("public/followup.html", found=found,
                           status_text=_status_text(found.status))


def _status_text(status: str) -> str:
    return {
        "new": _("Received: the office has not started handling it yet."),
        "in_progress": _("Being handled by the office."),
        "answered": _("Answered by the office."),
        "not_actionable": _("Closed: the office could not act on it."),
    }[status]


# --- public results --------------------------------------------------------------------------

@bp.get("/ket-qua/")
def results_index():
    return render_template("public/results_index.html",
                           offices=public_service.public_offices())


@bp.get("/ket-qua/<office_code>")
def results(office_code: str):
    office = public_service.public_office(office_code)
    months = public_service.office_results(office, locale_code())
    return render_template("public/results.html", office=office, months=months,
                           min_sample=current_app.config["MIN_SAMPLE"])


@bp.get("/ket-qua/<office_code>/csv")
def results_csv(office_code: str):
    office = public_service.public_office(office_code)
    months = public_service.office_results(office, locale_code())
    body = public_service.results_csv(office, months)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="ket-qua-{office.code}.csv"'})


@bp.get("/ket-qua/<office_code>/phan-hoi")
def board(office_code: str):
    office = public_service.public_office(office_code)
    return render_template("public/board.html", office=office,
                           items=public_service.board(office))


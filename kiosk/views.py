"""Kiosk mode: the questionnaire on one-stop desk tablets.

The tablet is bound to a kiosk once, through a one-time activation link; the device
credential then lives in a long-lived HttpOnly cookie scoped to ``/kiosk``. The kiosk page
is one HTML document holding the whole questionnaire as a plain server-rendered form
(it works without JavaScript) that ``static/kiosk/kiosk.js`` turns into one screen per
dimension, submitted through ``POST /api/v1/responses`` with an offline queue.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid as uuidlib
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from core import privacy
from core.errors import Invalid, RateLimited
from core.extensions import csrf
from core.i18n import locale_code
from core.questionnaire import field_name, questionnaire_form
from core.services import followup, intake
from core.services import kiosks as kiosk_service
from core.services.common import get_instrument
from kiosk.audio import audio_files, send_audio

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static")

COOKIE = "sipas_kiosk"
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600


class ActivateForm(FlaskForm):
    """Only the CSRF token: activating binds this browser to the kiosk."""


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _device():
    return kiosk_service.authenticate(request.cookies.get(COOKIE))


def _not_activated():
    return _no_store(make_response(render_template("kiosk/not_activated.html"), 403))


def _render_kiosk(kiosk, form, *, status: int = 200, notice: str | None = None,
                  problem: Invalid | None = None, submission_id: str | None = None):
    cfg = current_app.config
    instrument = form.instrument
    steps = len(instrument.dimensions) + 1
    audio = {code: url_for("kiosk.audio", instrument_id=instrument.id, locale=form.locale,
                           name=name)
             for code, name in audio_files(instrument.id, form.locale).items()}
    resp = make_response(render_template(
        "kiosk/kiosk.html", kiosk=kiosk, form=form, instrument=instrument, audio=audio,
        locale=form.locale, steps=steps, notice=notice, problem=problem,
        submission_id=submission_id or str(uuidlib.uuid4()),
        credential=request.cookies.get(COOKIE),
        criteria=[(c.code, field_name(c.code)) for c in instrument.criteria],
        thanks_seconds=cfg["KIOSK_THANKS_SECONDS"], app_version=app_version(),
        followup_seconds=cfg["KIOSK_FOLLOWUP_SECONDS"], followup_base=followup_url(""),
        heartbeat_seconds=cfg["KIOSK_HEARTBEAT_SECONDS"],
        retry_seconds=cfg["KIOSK_RETRY_SECONDS"],
        nojs_reset=cfg["KIOSK_NOJS_RESET_SECONDS"],
        **privacy.full_notice(cfg, current_app.instance_path, instrument, form.locale)), status)
    return _no_store(resp)


def _paused():
    """The screen of a paused tablet: a 200, so that the offline shell keeps it like the
    questionnaire (a paused tablet that goes offline keeps showing it). It asks the server
    again every heartbeat period and shows the questionnaire once the tablet is resumed."""
    return _no_store(make_response(render_template(
        "kiosk/paused.html", recheck_seconds=current_app.config["KIOSK_HEARTBEAT_SECONDS"])))


@bp.get("/")
def index():
    kiosk = _device()
    if kiosk is None:
        return _not_activated()
    if kiosk.paused_at is not None:
        return _paused()
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    return _render_kiosk(kiosk, questionnaire_form(instrument, locale_code()))


@bp.post("/")
@csrf.exempt  # the form checks its own token so that an expired one can be recovered from
def submit():
    """The no-JavaScript path: the whole questionnaire posted as one form, through the
    same door as the API. A paused tablet's form is still accepted (a page rendered before
    the pause loses nothing); the thank-you page then leads back to the paused screen."""
    kiosk = _device()
    if kiosk is None:
        return _not_activated()
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    form = questionnaire_form(instrument, locale_code(), formdata=request.form)
    submission_id = request.form.get("submission_id", "")
    try:
        submission_id = str(uuidlib.UUID(submission_id))
    except ValueError:
        submission_id = str(uuidlib.uuid4())
    if not form.validate():  # the form checks only its CSRF token
        # The page stayed open longer than the token lives: keep every answer, give a fresh
        # token and ask once more to send. No error is shown to the citizen.
        return _render_kiosk(kiosk, form, submission_id=submission_id,
                             notice=_("Your answers are kept. Please press “Send” once more "
                                      "to finish."))
    raw = intake.raw_from_form(instrument, request.form, submission_id=submission_id)
    code = followup.offer(raw)
    try:
        stored = intake.submit(kiosk_service.KioskDoor(kiosk), raw)
    except RateLimited:
        return _render_kiosk(kiosk, form, status=429, submission_id=submission_id,
                             notice=_("Please wait a few seconds, then press “Send” again."))
    except Invalid as problem:
        form.show(problem)
        return _render_kiosk(kiosk, form, status=400, submission_id=submission_id,
                             problem=problem)
    if code and stored.created:
        session[followup.SESSION_KEY] = code
    return redirect(url_for("kiosk.thanks"), 303)


#: What the offline shell keeps besides the page and the script: (endpoint, filename).
SHELL_ASSETS = (("static", "css/app.css"), ("kiosk.static", "kiosk/kiosk.css"),
                ("kiosk.static", "kiosk/speaker.svg"), ("kiosk.static", "kiosk/followup.js"),
                ("kiosk.static", "kiosk/paused.js"),
                *(("kiosk.static", f"kiosk/faces/f{n}.svg") for n in range(1, 6)))


_COMMENT_BLOCK = re.compile(r"^[ \t]*/\*.*?\*/[ \t]*\n", re.M | re.S)
_COMMENT_LINE = re.compile(r"^[ \t]*//.*\n", re.M)
_INDENT = re.compile(r"^[ \t]+", re.M)


@functools.lru_cache(maxsize=4)
def _compact_script(path: str, mtime: float) -> bytes:
    """kiosk.js without its comment lines and indentation (a third smaller once gzipped: the
    start screen's budget). Only whole comment lines are removed, never code."""
    text = Path(path).read_text(encoding="utf-8")
    text = _INDENT.sub("", _COMMENT_LINE.sub("", _COMMENT_BLOCK.sub("", text)))
    return text.encode("utf-8")


def _script_bytes() -> bytes:
    path = Path(bp.static_folder) / "kiosk" / "kiosk.js"
    return _compact_script(str(path), path.stat().st_mtime)


@bp.get("/kiosk.js")
def script():
    """The kiosk's script (static/kiosk/kiosk.js, compacted); revalidated by its ETag."""
    resp = make_response(_script_bytes())
    resp.mimetype = "text/javascript"
    resp.headers["Cache-Control"] = "no-cache"
    resp.set_etag(hashlib.sha256(resp.get_data()).hexdigest()[:32])
    return resp.make_conditional(request)


def app_version() -> str:
    """The version of the kiosk app a tablet runs: a digest of the files the offline shell
    keeps (a new version: a new cache). Tablets report it in their heartbeat; the tablets page
    marks those on another version (a tablet still on an old shell)."""
    return _shell_version()


def _shell_version() -> str:
    """A digest of the files the offline shell keeps (a new version: a new cache)."""
    digest = hashlib.sha256(current_app.config["DEFAULT_INSTRUMENT"].encode())
    digest.update(_script_bytes())
    for endpoint, filename in SHELL_ASSETS:
        folder = current_app.static_folder if endpoint == "static" else bp.static_folder
        digest.update((Path(folder) / filename).read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker():
    """The offline shell's service worker. Served here, not under /kiosk/static/, so that
    its scope is the kiosk page; not cached by the browser, so a new version is seen at the
    next load."""
    instrument_id = current_app.config["DEFAULT_INSTRUMENT"]
    audio = [url_for("kiosk.audio", instrument_id=instrument_id, locale=locale, name=name)
             for locale in current_app.config["LANGUAGES"]
             for name in audio_files(instrument_id, locale).values()]
    body = render_template(
        "kiosk/sw.js", cache=f"sipas-kiosk-{_shell_version()}", shell=url_for("kiosk.index"),
        assets=[url_for("kiosk.script"),
                *(url_for(endpoint, filename=name) for endpoint, name in SHELL_ASSETS), *audio])
    resp = make_response(body)
    resp.mimetype = "text/javascript"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/audio/<instrument_id>/<locale>/<name>")
def audio(instrument_id: str, locale: str, name: str):
    """A recorded question or the levels, for the read-aloud button (kiosk/audio.py)."""
    return send_audio(instrument_id, locale, name)


@bp.get("/thanks")
def thanks():
    if _device() is None:
        return _not_activated()
    code = session.pop(followup.SESSION_KEY, None)
    return _no_store(make_response(render_template(
        "kiosk/thanks.html", followup_code=followup.grouped(code) if code else None,
        followup_qr=_followup_qr(code) if code else None)))


def _followup_qr(code: str) -> str:
    """The SVG of a QR code of the code's public page (made here: the code never leaves this
    response)."""
    from markupsafe import Markup, escape

    from core.services.qrcodes import dark_runs, qr_matrix

    matrix = qr_matrix.__wrapped__(followup_url(code), "M")  # not cached: the code is kept nowhere
    n = len(matrix)
    path = "".join(f"M{x} {y}h{length}v1h{-length}z" for y, x, length in dark_runs(matrix))
    label = escape(_("QR code of your follow-up code"))
    # numbers and the escaped label only
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" '  # noqa: S704
                  f'width="{n * 6}" height="{n * 6}" role="img" aria-label="{label}" '
                  f'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
                  f'<path d="{path}" fill="#000"/></svg>')


def followup_url(code: str) -> str:
    """``<public base>/phan-hoi/<code>`` (the base alone for an empty code)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    path = url_for("public.followup_form")
    return ((base.rstrip("/") + path) if base
            else url_for("public.followup_form", _external=True)) + code


# The route argument is called ``token`` so that the access log writes the route pattern,
# never the one-time code (LOG_REDACTED_ROUTE_ARGS).
@bp.get("/activate/<token>")
def activate(token: str):
    """Confirmation page for a one-time activation link (a GET changes nothing, so link
    previews cannot use up the code)."""
    kiosk = kiosk_service.kiosk_for_activation(token)
    return _no_store(make_response(render_template(
        "kiosk/activate.html", kiosk=kiosk, form=ActivateForm())))


@bp.post("/activate/<token>")
def activate_post(token: str):
    form = ActivateForm()
    if not form.validate():
        raise Invalid("csrf", _("The page has expired. Please open the activation link "
                                 "again."))
    _info, credential = kiosk_service.activate_kiosk(token)
    resp = redirect(url_for("kiosk.index"), 303)
    resp.set_cookie(COOKIE, credential, max_age=COOKIE_MAX_AGE, path="/kiosk",
                    httponly=True, samesite="Strict", secure=request.is_secure)
    return resp

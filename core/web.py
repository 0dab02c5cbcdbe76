"""Public pages shared by every area: the home page, the language switch and the notice on
personal data."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from core import privacy
from core.i18n import LOCALE_COOKIE, locale_code
from core.questionnaire import time_estimate
from core.redirects import safe_next
from core.services.common import get_instrument

bp = Blueprint("web", __name__)


@bp.app_context_processor
def _privacy_facts() -> dict:
    """Every template may state the notice's facts (the survey pages' short notice does)."""
    return {"privacy_facts": privacy.notice_facts(current_app.config),
            "time_estimate": time_estimate}


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/favicon.ico")
def favicon():
    """The icon browsers ask for on every page (nginx serves it from disk in production;
    without it each page view logged a 404)."""
    return current_app.send_static_file("favicon.ico")


@bp.get("/quyen-rieng-tu")
def privacy_notice():
    """The full notice on personal data (Law 91/2025/QH15), linked from every survey page."""
    locale = locale_code()
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    return render_template("privacy.html", **privacy.full_notice(
        current_app.config, current_app.instance_path, instrument, locale))


@bp.get("/lang/<code>")
def set_language(code: str):
    resp = redirect(safe_next(request.args.get("next"), url_for("web.index")))
    if code in current_app.config["LANGUAGES"]:
        resp.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True)
    return resp

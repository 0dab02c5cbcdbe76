"""Public pages shared by every area: the home page and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from core.i18n import LOCALE_COOKIE
from core.redirects import safe_next

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/lang/<code>")
def set_language(code: str):
    resp = redirect(safe_next(request.args.get("next"), url_for("web.index")))
    if code in current_app.config["LANGUAGES"]:
        resp.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True)
    return resp

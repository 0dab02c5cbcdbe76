"""Kiosk mode: the questionnaire on one-stop desk tablets."""

from flask import Blueprint, render_template

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static")


@bp.get("/")
def index():
    return render_template("kiosk/index.html")

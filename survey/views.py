"""The questionnaire on a citizen's own phone, reached through the QR code on a receipt."""

from flask import Blueprint, render_template

bp = Blueprint("survey", __name__, template_folder="templates", static_folder="static",
               static_url_path="/survey/static")


@bp.get("/survey/")
def index():
    return render_template("survey/index.html")

"""Monthly results for office heads and city administrators."""

from flask import Blueprint, render_template

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static")


@bp.get("/")
def index():
    return render_template("admin/index.html")

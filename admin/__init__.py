"""The results area: dashboards, comments, exports and accounts for office heads and city
administrators, the reporting API, and ``flask users`` / ``tokens`` / ``targets``."""

from pathlib import Path

from flask import Flask

from admin import (  # noqa: F401 - routes on the admin blueprint
    alerts_views,
    cli,
    comment_views,
    offices_views,
    paper,
    public_views,
    report_views,
    review_views,
    setup_views,
)
from admin.alerts_cli import alerts_cli
from admin.api import api_bp
from admin.auth import init_login
from admin.views import bp
from core.api import register_openapi_fragment

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Set up sign-in, then register the results pages, the reporting API (documented in
    ``openapi.json``) and the results area's commands."""
    init_login(app)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    for command in (*cli.COMMANDS, alerts_cli):
        app.cli.add_command(command)
    register_openapi_fragment(app, Path(__file__).parent / "openapi.json")

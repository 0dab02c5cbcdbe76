"""The results area: dashboards, comments, exports and accounts for office heads and city
administrators, the reporting API, and ``flask users`` / ``tokens`` / ``targets``."""

from pathlib import Path

from flask import Flask

from admin import cli, public_views  # noqa: F401  (public_views: routes on admin.bp)
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
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    register_openapi_fragment(app, Path(__file__).parent / "openapi.json")

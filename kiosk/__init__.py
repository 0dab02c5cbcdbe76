"""Kiosk mode: the questionnaire on one-stop desk tablets, their JSON API and
``flask kiosks``."""

from pathlib import Path

from flask import Flask

from core.api import register_openapi_fragment
from kiosk import api
from kiosk.cli import kiosks_cli
from kiosk.views import app_version, bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the kiosk pages, the kiosk JSON API (documented in ``openapi.json``) and
    ``flask kiosks``."""
    app.register_blueprint(bp)
    app.register_blueprint(api.bp)
    # the tablets page (admin) compares what tablets report with the current version
    app.extensions["sipas_kiosk_app_version"] = app_version
    app.cli.add_command(kiosks_cli)
    register_openapi_fragment(app, Path(__file__).parent / "openapi.json")

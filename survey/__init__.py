"""The questionnaire on citizens' phones (receipt QR codes and office posters), the receipts
API for one-stop software, and ``flask apikeys`` / ``flask receipts``."""

from pathlib import Path

from flask import Flask

from core.api import register_openapi_fragment
from survey import api, cli
from survey.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the survey pages, the receipts API (documented in ``openapi.json``) and the
    survey's commands."""
    app.register_blueprint(bp)
    app.register_blueprint(api.bp)
    for command in cli.COMMANDS:
        app.cli.add_command(command)
    register_openapi_fragment(app, Path(__file__).parent / "openapi.json")

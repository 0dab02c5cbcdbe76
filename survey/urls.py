"""Public addresses of survey pages and QR images (honours ``PUBLIC_BASE_URL``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """Absolute URL of ``endpoint``: on ``PUBLIC_BASE_URL`` when configured (what citizens'
    phones reach), else on the current request's host. Needs a request context."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return str(base).rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def receipt_links(token: str) -> dict[str, str]:
    return {
        "url": public_url("survey.receipt_survey", token=token),
        "qr_png_url": public_url("survey.receipts_api.qr_png", token=token),
        "qr_svg_url": public_url("survey.receipts_api.qr_svg", token=token),
    }


def qr_caption(locale_text: str) -> str:
    """'<text> · host' : the short line printed under a QR code."""
    base = current_app.config.get("PUBLIC_BASE_URL") or url_for("web.index", _external=True)
    host = str(base).split("://", 1)[-1].strip("/")
    return f"{locale_text} · {host}"

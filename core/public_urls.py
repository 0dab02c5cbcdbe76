"""Public addresses of survey pages and QR images (honours ``PUBLIC_BASE_URL``); used by the
survey area and the admin area's setup pages (endpoint names only: core imports no area)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for


def public_base() -> str:
    """``PUBLIC_BASE_URL`` when configured (what citizens' phones reach), else the current
    request's scheme and host. Needs a request context."""
    return str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def public_url(endpoint: str, **values: Any) -> str:
    return public_base() + url_for(endpoint, **values)


def receipt_links(token: str) -> dict[str, str]:
    return {
        "url": public_url("survey.receipt_survey", token=token),
        "qr_png_url": public_url("receipts_api.qr_png", token=token),
        "qr_svg_url": public_url("receipts_api.qr_svg", token=token),
    }


def qr_caption(text: str) -> str:
    """'<text> · host': the short line printed under a QR code."""
    return f"{text} · {public_base().split('://', 1)[-1]}"

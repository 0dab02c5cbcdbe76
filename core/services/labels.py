"""Words for codes that several outputs show (dashboard, PDF, spreadsheets)."""

from __future__ import annotations

from flask_babel import gettext as _


def level_label(level: str) -> str:
    """The heading of a kind of office in a ranking (each kind is ranked apart)."""
    return {"city": _("City"), "department": _("Departments and equivalent bodies"),
            "district": _("Districts and towns"), "branch": _("Public-service centre branches"),
            "commune": _("Communes, wards and townships")}.get(level, level)


def channel_label(channel: str) -> str:
    """How an answer reached us, in words."""
    return {"kiosk": _("Desk tablet"), "qr": _("QR code on the receipt"),
            "generic": _("General link or poster"), "paper": _("Paper form"),
            "web": _("Website")}.get(channel, channel)

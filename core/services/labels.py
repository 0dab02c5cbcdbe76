"""Words for codes that several outputs show (dashboard, PDF, spreadsheets)."""

from __future__ import annotations

from flask_babel import gettext as _


def level_label(level: str) -> str:
    """The heading of a kind of office in a ranking (each kind is ranked apart)."""
    return {"city": _("City"), "department": _("Departments and equivalent bodies"),
            "district": _("Districts and towns"), "branch": _("Public-service centre branches"),
            "commune": _("Communes, wards and townships")}.get(level, level)


def channel_label(channel: str) -> str:
    """How a response reached us, in words (exports, PDF)."""
    return {"kiosk": _("Desk tablet"), "qr": _("QR code on the receipt"),
            "generic": _("General link or poster"), "paper": _("Paper form"),
            "web": _("Website")}.get(channel, channel)


def audit_action_label(action: str) -> str:
    """An audit event's action in words (the code stays available to filter on)."""
    return {
        "signin": _("Signed in"), "signout": _("Signed out"),
        "signin.failed": _("Failed sign-in"),
        "signin.throttled": _("Sign-in blocked (too many attempts)"),
        "user.create": _("User created"), "user.delete": _("User deleted"),
        "user.disable": _("User disabled"), "user.unlock": _("User unlocked"),
        "user.password": _("Password changed"), "user.reset_password": _("Password reset"),
        "token.create": _("API token created"), "token.revoke": _("API token revoked"),
        "apikey.create": _("Office API key created"),
        "apikey.revoke": _("Office API key revoked"),
        "target.set": _("Target set"), "target.delete": _("Target deleted"),
        "kiosk.add": _("Desk tablet added"), "kiosk.activate": _("Desk tablet activated"),
        "kiosk.revoke": _("Desk tablet revoked"), "export": _("Download"),
        "comment.handle": _("Comment handled"), "comment.withdraw": _("Comment withdrawn"),
        "contact_request.handle": _("Contact request handled"),
        "retention.apply": _("Old data deleted (retention)"),
        "report.text_saved": _("Report text saved"), "report.finalise": _("Report finalised"),
        "report.download_final": _("Finalised report downloaded"),
        "imports.import": _("Paper forms imported"),
        "imports.replace": _("Paper import replaced"), "imports.undo": _("Paper import undone"),
        "dossiers.import": _("Dossier volumes imported"),
        "dossiers.set": _("Dossier volume set"),
        "held.release": _("Held-back answers counted"),
        "held.discard": _("Held-back answers discarded"),
        "alerts.subscribe": _("E-mail alerts chosen"),
        "office.create": _("Office created"), "office.update": _("Office changed"),
        "office.move": _("Office moved"), "office.merge": _("Office merged"),
        "office.activate": _("Office reactivated"),
        "office.deactivate": _("Office deactivated"),
        "office.hours": _("Opening hours set"),
        "office.public_results": _("Public results switched"),
        "kiosk.update": _("Desk tablet changed"),
        "kiosk.pause": _("Desk tablet paused"), "kiosk.resume": _("Desk tablet resumed"),
        "apikey.label": _("Office API key labelled"),
        "apikey.withdraw_links": _("Printed survey links withdrawn"),
        "comment.publish": _("Reply published"),
    }.get(action, action)


def audit_details_text(details: dict | None) -> str:
    """An audit event's details in words: 'Thông tin đăng nhập đúng: không; Vai trò: ...'."""
    if not details:
        return ""
    names = {"credential": _("Correct password"), "role": _("Role"), "client": _("Address"),
             "status": _("Status"), "previous": _("Previous status"), "user": _("User"),
             "name": _("Name"), "value": _("Value"), "operator": _("Operator"),
             "themes": _("Themes"), "has_note": _("With a note"), "has_reply": _("With a reply"),
             "idle_seconds": _("Idle seconds"), "comments": _("Comments"),
             "contact_requests": _("Contact requests"), "audit_events": _("Audit events"),
             "kind": _("Kind"), "format": _("Format"), "month": _("Month"), "rows": _("Rows"),
             "version": _("Version"), "sha256": "SHA-256"}
    parts = []
    for key, value in sorted(details.items()):
        if isinstance(value, bool):
            value = _("yes") if value else _("no")
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif key == "channel":
            value = channel_label(str(value))
        parts.append(f"{names.get(key, key)}: {value}")
    return "; ".join(parts)

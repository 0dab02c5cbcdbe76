"""The setup pages' rows of the permission matrix (tests/admin/test_permissions.py):
offices, tablets (pause and resume included), QR material and API keys, for every role.

Users (see tests/admin/fixtures.py): ``city`` (administrator), ``bd`` (head of BD, which
contains BD-KM and BD-DB), ``stp`` (head of STP), ``kmview`` (viewer of BD-KM). Run first in
the matrix, so every change here is harmless to the rows after it (no-op edits, forms left
unconfirmed, a new tablet, a new key).
"""

from __future__ import annotations

from typing import Any


def add_cases(w: dict[str, Any], add) -> None:
    """Add (endpoint, method, url, city, bd, stp, kmview) rows via ``add``."""
    from core.services.receipts import create_api_key

    km_key, _secret = create_api_key("BD-KM", "một cửa", actor="test")
    stp_key, _secret = create_api_key("STP", None, actor="test")
    w["km_key"], w["stp_key"] = km_key.prefix, stp_key.prefix
    kk, sk = w["km_kiosk"], w["stp_kiosk"]
    # offices: everyone reads (within scope); heads manage their subtree; viewers read only
    add("admin.offices_page", "GET", "/admin/offices", 200, 200, 200, 200)
    add("admin.offices_page", "GET", "/admin/offices?q=kim", 200, 200, 200, 200)
    add("admin.offices_export", "GET", "/admin/offices/export.csv", 200, 200, 200, 200)
    add("admin.office_new", "GET", "/admin/offices/new", 200, 200, 200, 403)
    add("admin.office_new", "GET", "/admin/offices/new?parent=BD", 200, 200, 404, 403)
    add("admin.office_new", "POST", "/admin/offices/new#BD-NEW", 302, 302, 400, 403)
    add("admin.office_edit", "GET", "/admin/offices/bd-km/edit", 200, 200, 404, 403)
    add("admin.office_edit", "POST", "/admin/offices/BD-KM/edit", 302, 302, 404, 403)
    add("admin.office_edit", "GET", "/admin/offices/STP/edit", 200, 404, 200, 404)
    add("admin.office_hours", "GET", "/admin/offices/BD-KM/hours", 200, 200, 404, 403)
    add("admin.office_hours", "POST", "/admin/offices/BD-KM/hours", 302, 302, 404, 403)
    add("admin.office_active", "POST", "/admin/offices/BD/activate", 302, 403, 404, 404)
    add("admin.office_active", "POST", "/admin/offices/BD-DB/activate", 302, 302, 404, 404)
    add("admin.office_move", "POST", "/admin/offices/BD-DB/move", 302, 302, 404, 404)
    add("admin.office_merge", "POST", "/admin/offices/BD-DB/merge", 302, 302, 404, 404)
    add("admin.offices_import", "GET", "/admin/offices/import", 200, 200, 200, 403)
    add("admin.offices_import", "POST", "/admin/offices/import", 400, 400, 400, 403)
    # tablets
    add("admin.kiosk_new", "GET", "/admin/kiosks/new?office=BD-KM", 200, 200, 404, 403)
    add("admin.kiosk_new", "POST", "/admin/kiosks/new", 200, 200, 400, 403)
    add("admin.kiosk_edit", "GET", f"/admin/kiosks/{kk}/edit", 200, 200, 404, 403)
    add("admin.kiosk_edit", "POST", f"/admin/kiosks/{kk}/edit", 302, 302, 404, 403)
    add("admin.kiosk_edit", "GET", f"/admin/kiosks/{sk}/edit", 200, 404, 200, 404)
    # each tablet paused then resumed: the rows after these see it as it was
    for op in ("pause", "resume"):
        add("admin.kiosk_pause", "POST", f"/admin/kiosks/{kk}/{op}", 302, 302, 404, 403)
        add("admin.kiosk_pause", "POST", f"/admin/kiosks/{sk}/{op}", 302, 404, 302, 404)
    add("admin.kiosk_revoke_confirm", "GET", f"/admin/kiosks/{kk}/revoke/confirm",
        200, 200, 404, 403)
    add("admin.kiosk_revoke_confirm", "POST", f"/admin/kiosks/{sk}/revoke/confirm",
        400, 404, 400, 404)
    # QR material and API keys
    add("admin.qr_page", "GET", "/admin/qr?office=BD-KM", 200, 200, 404, 200)
    add("admin.qr_poster", "GET", "/admin/qr/BD-KM/poster.pdf?size=A5", 200, 200, 404, 200)
    add("admin.qr_poster", "GET", "/admin/qr/STP/poster.pdf?size=A4", 200, 404, 200, 404)
    add("admin.qr_generic", "GET", "/admin/qr/BD-KM/generic.png", 200, 200, 404, 200)
    add("admin.qr_generic", "GET", "/admin/qr/bd-km/generic.svg", 200, 200, 404, 200)
    add("admin.qr_slips", "POST", "/admin/qr/BD-KM/slips.pdf", 200, 200, 404, 403)
    add("admin.apikey_create", "POST", "/admin/apikeys", 200, 200, 404, 403)
    add("admin.apikey_label", "POST", f"/admin/apikeys/{km_key.prefix}/label",
        302, 302, 404, 403)
    add("admin.apikey_label", "POST", f"/admin/apikeys/{stp_key.prefix}/label",
        302, 404, 302, 404)
    add("admin.apikey_revoke", "GET", f"/admin/apikeys/{km_key.prefix}/revoke",
        200, 200, 404, 403)
    add("admin.apikey_revoke", "POST", f"/admin/apikeys/{stp_key.prefix}/revoke",
        400, 404, 400, 404)


def form_data(endpoint: str, method: str, url: str, w: dict[str, Any]) -> dict | None:
    """The form a row posts (None: the matrix's default)."""
    if method != "POST":
        return None
    if endpoint == "admin.office_new":
        return {"code": "BD-NEW", "name": "UBND phường Mới", "level": "commune",
                "parent_code": "BD"}
    if endpoint == "admin.office_edit":
        return {"name": "UBND phường Kim Mã", "level": "commune", "parent_code": "BD"}
    if endpoint == "admin.office_hours":
        return {"opening_hours": "07:30-11:30,13:30-17:00", "opening_days": "12345"}
    if endpoint == "admin.office_move":
        return {"mv-parent_code": "BD"}
    if endpoint == "admin.kiosk_new":
        return {"office": "BD-KM", "name": "Quầy 9", "idle_seconds": "60"}
    if endpoint == "admin.kiosk_edit":
        return {"name": "Quầy 1", "idle_seconds": "90"}
    if endpoint == "admin.qr_slips":
        return {"codes": "HS-2026-0001\nHS-2026-0002"}
    if endpoint == "admin.apikey_create":
        return {"office": "BD-KM", "label": "phần mềm một cửa"}
    if endpoint == "admin.apikey_label":
        from core.services.receipts import find_api_key

        row = find_api_key(url.split("/")[3])
        return {f"l{row.id}-label": "nhãn mới"}
    return None

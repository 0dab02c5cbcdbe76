"""The users page and the audit log: administrators create accounts, reset passwords
(shown once, in the page) and disable accounts, never their own."""

from __future__ import annotations

import re

from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_admin_creates_user_and_reads_audit_log(client, world):
    login(client, "city")
    page = client.post("/admin/users", data={"username": "Le.Thi.B", "role": "viewer",
                                             "office": "STP"}).get_data(as_text=True)
    assert "Đã tạo tài khoản le.thi.b" in page
    bad = client.post("/admin/users", data={"username": "le.thi.b", "role": "viewer",
                                            "office": "STP"})
    assert bad.status_code == 400 and "đã có người dùng" in bad.get_data(as_text=True)
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "user.create" in audit and "signin" in audit


def test_admin_resets_a_password_shown_once_in_the_page(client, world):
    login(client, "city")
    bd = world["users"]["bd"]
    page = client.post(f"/admin/users/{bd.id}/reset").get_data(as_text=True)
    temp = re.search(r"<code>([^<]+)</code>", page).group(1)
    other = client.application.test_client()
    assert login(other, "bd", temp).location.endswith("/admin/password")
    assert client.post(f"/admin/users/{world['users']['city'].id}/disable").status_code == 409
    assert client.post(f"/admin/users/{bd.id}/disable").status_code == 302
    assert login(client.application.test_client(), "bd", temp).status_code == 401

"""The tablets page: a head lists, pauses, resumes and revokes the kiosks of their scope,
audited."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_head_lists_and_revokes_kiosks_of_the_scope_with_audit(client, world):
    from core.services.kiosks import list_kiosks

    login(client, "bd")
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "Quầy 1" in page and "Quầy 2" not in page
    confirm = {"confirm": "y"}  # revoking is only ever done after the confirmation
    assert client.post(f"/admin/kiosks/{world['stp_kiosk']}/revoke/confirm",
                       data=confirm).status_code == 404
    assert client.post(f"/admin/kiosks/{world['km_kiosk']}/revoke/confirm").status_code == 400
    assert {k.id: k.status for k in list_kiosks()}[world["km_kiosk"]] == "pending"
    r = client.post(f"/admin/kiosks/{world['km_kiosk']}/revoke/confirm", data=confirm)
    assert r.status_code == 302
    states = {k.id: k.status for k in list_kiosks()}
    assert states == {world["km_kiosk"]: "revoked", world["stp_kiosk"]: "pending"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kiosk.revoke"))
    assert event.actor == "bd" and event.target == f"kiosk:{world['km_kiosk']}"
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "đã thu hồi" in page


def test_the_page_shows_what_each_tablet_reported(client, world):
    from core.models import Kiosk

    kiosk = db.session.get(Kiosk, world["km_kiosk"])
    kiosk.pending_reported, kiosk.rejected_reported = 3, 7
    db.session.commit()
    login(client, "bd")
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "Phiếu bị máy chủ từ chối" in page
    row = page[page.index(f'data-kiosk="{world["km_kiosk"]}"'):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">3</td><td class="num">7</td>' in row


def test_head_pauses_and_resumes_a_tablet_from_its_settings(client, world):
    from core.models import Kiosk

    km = world["km_kiosk"]
    db.session.get(Kiosk, km).credential_hash = "0" * 64  # activated
    db.session.commit()
    login(client, "bd")
    edit = client.get(f"/admin/kiosks/{km}/edit").get_data(as_text=True)
    assert "Tạm ngừng máy này" in edit and f'action="/admin/kiosks/{km}/pause"' in edit
    r = client.post(f"/admin/kiosks/{km}/pause")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/kiosks?office=BD-KM")
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "Đã tạm ngừng máy tính bảng" in page  # the flash message
    row = page[page.index(f'data-kiosk="{km}"'):]
    row = row[:row.index("</tr>")]
    assert "tạm ngừng (" in row and 'data-connection="paused"' in row
    edit = client.get(f"/admin/kiosks/{km}/edit").get_data(as_text=True)
    assert "Cho máy hoạt động lại" in edit and "Tạm ngừng máy này" not in edit
    assert client.post(f"/admin/kiosks/{km}/resume").status_code == 302
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "đã nhận đánh giá trở lại" in page
    row = page[page.index(f'data-kiosk="{km}"'):]
    assert 'data-connection="offline"' in row[:row.index("</tr>")]
    # a revoked tablet is neither paused nor resumed: the page says why
    client.post(f"/admin/kiosks/{km}/revoke/confirm", data={"confirm": "y"})
    r = client.post(f"/admin/kiosks/{km}/pause", follow_redirects=True)
    assert r.status_code == 200 and "đã bị thu hồi" in r.get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.like("kiosk.%")).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["kiosk.pause", "kiosk.resume", "kiosk.revoke"]

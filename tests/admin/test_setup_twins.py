"""Each setup action from the browser equals its command twin: the same rows and the same
audit events (only the actor differs: the user name, or "cli").

Each test does an action once on the web and once with the command, on two offices (or
tablets, keys) prepared alike, and compares what both stored.
"""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, Kiosk, Office, OfficeApiKey, OfficeChange
from core.services import office_admin
from core.services.offices import get_office
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _two(action: str) -> tuple[AuditEvent, AuditEvent]:
    """The last two events of ``action``: (web's, command's)."""
    events = _events(action)
    assert len(events) >= 2, [e.action for e in events]
    return events[-2], events[-1]


def _row(code: str) -> dict:
    db.session.expire_all()
    row = office_admin.office_row(get_office(code))
    del row["code"]
    return row


def _change(code: str) -> tuple:
    c = db.session.scalars(sa.select(OfficeChange).where(
        OfficeChange.office_id == get_office(code).id).order_by(OfficeChange.id.desc())).first()
    assert c is not None

    def code_of(oid):
        return db.session.get(Office, oid).code if oid else None

    return (c.kind, code_of(c.old_parent_id), code_of(c.new_parent_id), code_of(c.into_id),
            c.effective_on.isoformat())


def _cli(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_create_an_office(app, client, runner, world, tmp_path):
    login(client, "bd")
    resp = client.post("/admin/offices/new", data={
        "code": "BD-W", "name": "UBND phường Giảng Võ", "level": "commune",
        "parent_code": "BD", "signer_name": "Nguyễn Văn A"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    path = tmp_path / "o.csv"
    path.write_text("code,name,parent_code,level,active,signer_name\n"
                    "BD-C,UBND phường Giảng Võ,bd,commune,1,Nguyễn Văn A\n", encoding="utf-8")
    _cli(runner, "offices", "import", str(path))
    assert _row("BD-W") == _row("BD-C")
    web, cli = _two("office.create")
    assert (web.actor, cli.actor) == ("bd", "cli")
    assert web.details == cli.details == {"name": "UBND phường Giảng Võ", "level": "commune",
                                          "parent": "BD"}
    assert (web.target, cli.target) == ("office:BD-W", "office:BD-C")


def test_edit_an_office_report_fields(client, runner, world, tmp_path):
    login(client, "city")
    form = {"name": "UBND phường Kim Mã", "level": "commune", "parent_code": "BD",
            "place_name": "Hà Nội", "report_recipients": "Sở Nội vụ\nLưu: VT"}
    assert client.post("/admin/offices/bd-km/edit", data=form).status_code == 302
    path = tmp_path / "o.csv"
    path.write_text("code,name,parent_code,level,place_name,report_recipients\n"
                    "BD-DB,UBND phường Kim Mã,BD,commune,Hà Nội,Sở Nội vụ\\nLưu: VT\n",
                    encoding="utf-8")
    _cli(runner, "offices", "import", str(path))
    assert _row("BD-KM") == _row("BD-DB")
    assert get_office("BD-KM").report_recipients == "Sở Nội vụ\nLưu: VT"
    web, cli = _two("office.update")
    assert web.details == {"fields": ["place_name", "report_recipients"]}
    assert cli.details == {"fields": ["name", "place_name", "report_recipients"]}  # renamed too


def test_move_an_office_is_dated_and_audited(client, runner, world):
    login(client, "city")
    assert client.post("/admin/offices/BD-KM/move", data={
        "mv-parent_code": "STP", "mv-effective_on": "2025-07-01"}).status_code == 302
    _cli(runner, "offices", "move", "bd-db", "STP", "--on", "2025-07-01")
    assert _change("BD-KM") == _change("BD-DB") == ("move", "BD", "STP", None, "2025-07-01")
    web, cli = _two("office.move")
    assert web.details == cli.details == {"old_parent": "BD", "new_parent": "STP",
                                          "effective_on": "2025-07-01"}
    assert _row("BD-KM")["parent_code"] == "STP"


def test_merge_an_office(client, runner, world, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("code,name,parent_code,level\nBD-X,UBND phường X,BD,commune\n",
                    encoding="utf-8")
    _cli(runner, "offices", "import", str(path))
    login(client, "bd")
    assert client.post("/admin/offices/BD-DB/merge", data={
        "mg-into_code": "BD-KM", "mg-effective_on": "2025-07-01", "mg-confirm": "y"}
    ).status_code == 302
    _cli(runner, "offices", "merge", "BD-X", "bd-km", "--on", "2025-07-01")
    assert _change("BD-DB") == _change("BD-X") == ("merge", "BD", "BD-KM", "BD-KM",
                                                   "2025-07-01")
    assert _row("BD-DB")["active"] == _row("BD-X")["active"] == "0"
    web, cli = _two("office.merge")
    assert web.details == cli.details == {"into": "BD-KM", "old_parent": "BD",
                                          "effective_on": "2025-07-01"}


def test_deactivate_and_opening_hours(client, runner, world):
    login(client, "bd")
    assert client.post("/admin/offices/BD-KM/deactivate").status_code == 302
    _cli(runner, "offices", "deactivate", "BD-DB")
    web, cli = _two("office.deactivate")
    assert (web.details, web.actor, cli.actor) == (cli.details, "bd", "cli")
    assert not get_office("BD-KM").active and not get_office("BD-DB").active
    assert client.post("/admin/offices/STP/hours", data={
        "opening_hours": "07:30-11:30, 13:30-17:00", "opening_days": "123456"}
    ).status_code == 404  # outside bd's offices
    assert client.post("/admin/offices/BD-KM/hours", data={
        "opening_hours": "07:30-11:30, 13:30-17:00", "opening_days": "123456"}
    ).status_code == 302
    _cli(runner, "offices", "hours", "BD-DB", "07:30-11:30,13:30-17:00", "--days", "123456")
    web, cli = _two("office.hours")
    assert web.details == cli.details == {"hours": "07:30-11:30,13:30-17:00",
                                          "days": "123456"}


def test_register_a_tablet(app, client, runner, world):
    login(client, "bd")
    page = client.post("/admin/kiosks/new", data={"office": "BD-KM", "name": "Quầy 5",
                                                  "idle_seconds": "45"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html
    link = re.search(r"<code>(http://[^<]+/kiosk/activate/[^<]+)</code>", html).group(1)
    _cli(runner, "kiosks", "add", "bd-km", "Quầy 5", "--idle-seconds", "45")
    web, cli = _two("kiosk.add")
    assert web.details == cli.details == {"name": "Quầy 5", "idle_seconds": 45,
                                          "credential": False}
    kiosks = list(db.session.scalars(sa.select(Kiosk).where(Kiosk.name == "Quầy 5")))
    assert [(k.office_id, k.idle_seconds, k.status) for k in kiosks] == [
        (get_office("BD-KM").id, 45, "pending")] * 2
    # the link on the screen activates the tablet, once
    path = link.split("localhost", 1)[1]
    assert app.test_client().get(path).status_code == 200


def test_rename_idle_and_revoke_a_tablet(client, runner, world):
    km, stp = world["km_kiosk"], world["stp_kiosk"]
    login(client, "city")
    assert client.post(f"/admin/kiosks/{km}/edit", data={"name": "Quầy 7",
                                                         "idle_seconds": "120"}
                       ).status_code == 302
    _cli(runner, "kiosks", "rename", str(stp), "Quầy 7")
    _cli(runner, "kiosks", "idle", str(stp), "120")
    events = _events("kiosk.update")
    assert events[0].details == {"name": "Quầy 7", "idle_seconds": 120}
    assert [e.details for e in events[1:]] == [{"name": "Quầy 7"}, {"idle_seconds": 120}]
    # revoking needs the box ticked
    assert client.post(f"/admin/kiosks/{km}/revoke/confirm", data={}).status_code == 400
    assert db.session.get(Kiosk, km).revoked_at is None
    assert client.post(f"/admin/kiosks/{km}/revoke/confirm", data={"confirm": "y"}
                       ).status_code == 302
    _cli(runner, "kiosks", "revoke", str(stp))
    web, cli = _two("kiosk.revoke")
    assert web.details == cli.details and (web.actor, cli.actor) == ("city", "cli")
    db.session.expire_all()
    assert db.session.get(Kiosk, km).revoked_at and db.session.get(Kiosk, stp).revoked_at


def test_pause_and_resume_a_tablet(client, runner, world):
    km, stp = world["km_kiosk"], world["stp_kiosk"]
    login(client, "city")
    assert client.post(f"/admin/kiosks/{km}/pause").status_code == 302
    _cli(runner, "kiosks", "pause", str(stp))
    web, cli = _two("kiosk.pause")
    assert web.details == cli.details and (web.actor, cli.actor) == ("city", "cli")
    assert (web.target, cli.target) == (f"kiosk:{km}", f"kiosk:{stp}")
    db.session.expire_all()
    assert db.session.get(Kiosk, km).status == db.session.get(Kiosk, stp).status == "paused"
    assert client.post(f"/admin/kiosks/{km}/resume").status_code == 302
    _cli(runner, "kiosks", "pause", str(stp), "--resume")
    web, cli = _two("kiosk.resume")
    assert web.details == cli.details and (web.actor, cli.actor) == ("city", "cli")
    db.session.expire_all()
    assert db.session.get(Kiosk, km).paused_at is db.session.get(Kiosk, stp).paused_at is None
    assert [e.target for e in _events("kiosk.pause") + _events("kiosk.resume")] == [
        f"kiosk:{km}", f"kiosk:{stp}", f"kiosk:{km}", f"kiosk:{stp}"]


def test_api_keys(app, client, runner, world):
    login(client, "bd")
    page = client.post("/admin/apikeys", data={"office": "BD-KM", "label": "Một cửa"})
    key = re.search(r"<code class=\"token\" data-key>(sipas_[^<]+)</code>",
                    page.get_data(as_text=True)).group(1)
    out = _cli(runner, "apikeys", "create", "BD-KM", "--label", "Một cửa")
    cli_key = out.strip().splitlines()[-1]
    web, cli = _two("apikey.create")
    assert web.details == cli.details == {"label": "Một cửa"}
    rows = {r.prefix: r for r in db.session.scalars(sa.select(OfficeApiKey))}
    web_row, cli_row = rows[key[:14]], rows[cli_key[:14]]
    assert (web_row.office_id, web_row.label) == (cli_row.office_id, cli_row.label)
    # a key mints links; revoking it stops minting but keeps printed links working
    minted = client.post("/api/v1/receipts", json={"office_code": "BD-KM",
                                                   "dossier_code": "HS-2026-000123"},
                         headers={"Authorization": f"Bearer {key}"})
    assert minted.status_code in (200, 201), minted.get_json()
    token = minted.get_json()["token"]
    assert client.post(f"/admin/apikeys/{web_row.prefix}/label",
                       data={f"l{web_row.id}-label": "Phần mềm"}).status_code == 302
    _cli(runner, "apikeys", "label", cli_row.prefix, "Phần mềm")
    web, cli = _two("apikey.label")
    assert web.details == cli.details == {"label": "Phần mềm"}
    assert client.post(f"/admin/apikeys/{web_row.prefix}/revoke",
                       data={"confirm": "y"}).status_code == 302
    again = client.post("/api/v1/receipts", json={"office_code": "BD-KM",
                                                  "dossier_code": "HS-2026-000124"},
                        headers={"Authorization": f"Bearer {key}"})
    assert again.status_code == 401
    assert app.test_client().get(f"/s/{token}").status_code == 200  # still answerable
    assert _events("apikey.withdraw_links") == []
    # withdrawing the links as well (a second, explicit choice)
    assert client.post(f"/admin/apikeys/{web_row.prefix}/revoke",
                       data={"confirm": "y", "withdraw_links": "y"}).status_code == 302
    assert app.test_client().get(f"/s/{token}").status_code == 403
    _cli(runner, "apikeys", "revoke", cli_row.prefix, "--withdraw-links")
    for action in ("apikey.revoke", "apikey.withdraw_links"):
        web, cli = _two(action)
        assert web.details == cli.details and (web.actor, cli.actor) == ("bd", "cli")


def test_upload_preview_lists_every_bad_line_then_stores(client, world):
    login(client, "bd")
    bad = ("code,name,parent_code,level\n"
           "BD-N1,Phường Một,BD,commune\n"
           "bad code,Phường Hai,BD,commune\n"
           "BD-N3,,BD,ward\n"
           "STP-X,Phòng X,STP,department\n")
    resp = client.post("/admin/offices/import", data={
        "file": (io.BytesIO(bad.encode()), "o.csv")}, content_type="multipart/form-data")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "dòng 3" in html and "dòng 4" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)
                             .where(Office.code == "BD-N1")) == 0
    # within the head's offices only: the STP line is refused even when the file is valid
    outside = "code,name,parent_code,level\nSTP-X,Phòng X,STP,department\n"
    resp = client.post("/admin/offices/import", data={
        "file": (io.BytesIO(outside.encode()), "o.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "dòng 2" in resp.get_data(as_text=True)
    good = ("code,name,parent_code,level\nBD-N1,Phường Một,bd,commune\n"
            "bd-km,UBND phường Kim Mã,BD,commune\n")
    preview = client.post("/admin/offices/import", data={
        "file": (io.BytesIO(good.encode()), "o.csv")}, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-action="create"' in html
    assert 'data-action="unchanged"' in html  # bd-km is BD-KM: letter case does not matter
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)
                             .where(Office.code == "BD-N1")) == 0  # nothing stored yet
    stored = client.post("/admin/offices/import", data={"c-content": good})
    assert stored.status_code == 302
    assert get_office("bd-n1").parent.code == "BD"
    assert [e.target for e in _events("office.create")] == ["office:BD-N1"]


def test_tree_search_and_export_round_trip(client, runner, world, tmp_path):
    login(client, "bd")
    page = client.get("/admin/offices").get_data(as_text=True)
    assert 'data-office="BD-KM"' in page and 'data-office="STP"' not in page
    found = client.get("/admin/offices?q=kim").get_data(as_text=True)
    assert 'data-office="BD-KM"' in found and 'data-office="BD-DB"' not in found
    assert 'data-office="BD-KM"' in client.get("/admin/offices?q=bd-k").get_data(as_text=True)
    exported = client.get("/admin/offices/export.csv").get_data(as_text=True)
    assert exported.lstrip("\ufeff").splitlines()[0].startswith("code,name,parent_code,level")
    assert "STP" not in exported
    everything = _cli(runner, "offices", "export")
    assert everything.count("\n") == 6
    path = tmp_path / "all.csv"
    path.write_text(everything, encoding="utf-8")
    before = len(_events("office.create")) + len(_events("office.update"))
    _cli(runner, "offices", "import", str(path))  # the export read back changes nothing
    assert len(_events("office.create")) + len(_events("office.update")) == before
    tree = _cli(runner, "offices", "list", "--tree")
    assert tree.splitlines()[0].startswith("HN ") and "    BD-KM" in tree

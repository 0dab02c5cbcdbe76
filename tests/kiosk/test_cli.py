"""``flask kiosks add|list|pause|revoke``."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent


def test_add_prints_an_activation_link_that_works(app, runner, offices):
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 3", "--idle-seconds", "90"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:5000/kiosk/activate/")
    assert "Quầy 3" in result.output and "90" in result.output
    code = link.rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/kiosk/activate/{code}").status_code == 200


def test_add_with_qr_prints_a_qr_code(runner, offices):
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 4", "--qr"])
    assert result.exit_code == 0, result.output
    assert "█" in result.output or "▀" in result.output
    assert result.output.strip().splitlines()[-1].startswith("http://127.0.0.1:5000/kiosk/")


def test_add_with_credential_prints_it_alone_on_the_last_line(app, runner, offices):
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 1", "--credential"])
    assert result.exit_code == 0, result.output
    credential = result.output.rstrip("\n").splitlines()[-1]
    assert credential.startswith("sk_") and " " not in credential and len(credential) > 40
    r = app.test_client().post("/api/v1/responses", json={
        "id": "8a0c7a52-5f7e-4f0e-9c41-3d1c1f9b2a11", "instrument": "hanoi-2022",
        "answers": {"I.1": 5}}, headers={"Authorization": f"Bearer {credential}"})
    assert r.status_code == 201


def test_add_errors_exit_non_zero(runner, offices):
    result = runner.invoke(args=["kiosks", "add", "NOPE", "Quầy 1"])
    assert result.exit_code == 1 and "NOPE" in result.output
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 1", "--idle-seconds", "1"])
    assert result.exit_code == 2
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "x" * 81])
    assert result.exit_code == 1 and "name" in result.output


def test_list_and_revoke(runner, offices):
    empty = runner.invoke(args=["kiosks", "list"]).output.strip()
    assert empty == "Chưa đăng ký máy tính bảng nào."
    runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 1", "--credential"])
    runner.invoke(args=["kiosks", "add", "STP", "Quầy 2"])
    out = runner.invoke(args=["kiosks", "list"]).output.splitlines()
    assert out[0].split("\t") == ["id", "office", "counter", "status", "last_seen", "pending",
                                  "rejected", "online"]
    assert out[1].split("\t")[:4] == ["1", "BD-KM", "Quầy 1", "active"]
    assert out[2].split("\t")[:4] == ["2", "STP", "Quầy 2", "pending"]
    only = runner.invoke(args=["kiosks", "list", "--office", "BD"]).output.splitlines()
    assert len(only) == 2 and "BD-KM" in only[1]

    result = runner.invoke(args=["kiosks", "revoke", "1"])
    assert result.exit_code == 0 and "Đã thu hồi máy tính bảng số 1" in result.output
    assert "revoked" in runner.invoke(args=["kiosks", "list"]).output.splitlines()[1]
    result = runner.invoke(args=["kiosks", "revoke", "42"])
    assert result.exit_code == 1
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["kiosk.add", "kiosk.add", "kiosk.revoke"]
    assert set(db.session.scalars(sa.select(AuditEvent.actor))) == {"cli"}


def test_pause_and_resume(runner, offices):
    runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 1", "--credential"])
    result = runner.invoke(args=["kiosks", "pause", "1"])
    assert result.exit_code == 0, result.output
    assert "Đã tạm ngừng máy tính bảng số 1 (BD-KM / Quầy 1)" in result.output
    assert runner.invoke(args=["kiosks", "list"]).output.splitlines()[1].split("\t")[3] \
        == "paused"
    assert runner.invoke(args=["kiosks", "pause", "1"]).exit_code == 0  # already: no event
    result = runner.invoke(args=["kiosks", "pause", "1", "--resume"])
    assert result.exit_code == 0 and "đã nhận đánh giá trở lại" in result.output
    assert runner.invoke(args=["kiosks", "list"]).output.splitlines()[1].split("\t")[3] \
        == "active"
    result = runner.invoke(args=["kiosks", "pause", "42"])
    assert result.exit_code == 1 and "42" in result.output
    runner.invoke(args=["kiosks", "revoke", "1"])
    result = runner.invoke(args=["kiosks", "pause", "1", "--resume"])
    assert result.exit_code == 1 and "thu hồi" in result.output
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["kiosk.add", "kiosk.pause", "kiosk.resume", "kiosk.revoke"]

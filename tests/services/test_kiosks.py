"""core/services/kiosks.py: pausing and resuming a tablet (reversible, audited, idempotent),
apart from revoking it (final); a paused tablet is never counted as offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.errors import Conflict, NotFound
from core.extensions import db
from core.models import AuditEvent, Kiosk
from core.services import kiosks as kiosk_service


def _actions() -> list[tuple[str, str, str]]:
    return [tuple(row) for row in db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)
        .where(AuditEvent.action.like("kiosk.%")).order_by(AuditEvent.id))]


def test_pause_and_resume_are_audited_once_each(offices):
    new = kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 1", with_credential=True)
    kid = new.kiosk.id
    assert new.kiosk.status == "active" and new.kiosk.paused_at is None
    paused = kiosk_service.pause_kiosk(kid, paused=True, actor="bd")
    assert paused.status == "paused" and paused.paused_at is not None
    again = kiosk_service.pause_kiosk(kid, paused=True, actor="bd")  # nothing changes
    assert again.paused_at == paused.paused_at
    resumed = kiosk_service.pause_kiosk(kid, paused=False, actor="city")
    assert resumed.status == "active" and resumed.paused_at is None
    assert kiosk_service.pause_kiosk(kid, paused=False, actor="city").status == "active"
    target = f"kiosk:{kid}"
    assert _actions() == [("kiosk.add", "system", target), ("kiosk.pause", "bd", target),
                          ("kiosk.resume", "city", target)]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kiosk.pause"))
    assert event.office_id == offices["BD-KM"].id
    db.session.expire_all()
    assert db.session.get(Kiosk, kid).paused_at is None  # committed


def test_a_tablet_not_yet_activated_can_be_paused_and_stays_so_once_activated(offices):
    new = kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 1")
    assert kiosk_service.pause_kiosk(new.kiosk.id, paused=True, actor="t").status == "paused"
    info, credential = kiosk_service.activate_kiosk(new.activation_code)
    assert info.status == "paused" and kiosk_service.authenticate(credential) is not None
    assert kiosk_service.pause_kiosk(new.kiosk.id, paused=False, actor="t").status == "active"


def test_a_revoked_tablet_cannot_be_paused_or_resumed_and_an_unknown_one_is_not_found(
        offices):
    new = kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 1", with_credential=True)
    kiosk_service.pause_kiosk(new.kiosk.id, paused=True, actor="t")
    assert kiosk_service.revoke_kiosk(new.kiosk.id, actor="t").status == "revoked"
    for paused in (True, False):
        with pytest.raises(Conflict) as exc:
            kiosk_service.pause_kiosk(new.kiosk.id, paused=paused, actor="t")
        assert exc.value.code == "kiosk_revoked"
    with pytest.raises(NotFound):
        kiosk_service.pause_kiosk(999, paused=True, actor="t")
    assert [a for a, _who, _what in _actions()] == ["kiosk.add", "kiosk.pause", "kiosk.revoke"]


def test_a_paused_tablet_keeps_its_credential(offices):
    """Its queued answers are still accepted: both ways of authenticating take it."""
    new = kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 1", with_credential=True)
    kiosk_service.pause_kiosk(new.kiosk.id, paused=True, actor="t")
    assert kiosk_service.authenticate(new.credential).id == new.kiosk.id
    assert kiosk_service.authenticate_device(new.credential).id == new.kiosk.id


def test_the_heartbeat_says_whether_the_tablet_is_paused(offices):
    new = kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 1", with_credential=True)
    assert kiosk_service.heartbeat(kiosk_service.authenticate(new.credential), 0)[
        "paused"] is False
    kiosk_service.pause_kiosk(new.kiosk.id, paused=True, actor="t")
    assert kiosk_service.heartbeat(kiosk_service.authenticate(new.credential), 0)[
        "paused"] is True


def test_a_paused_tablet_is_neither_online_nor_offline_while_the_office_is_open(offices):
    office = offices["BD-KM"]
    kiosk_service.set_opening_hours(office, "07:30-11:30", "12345", actor="t")
    silent = kiosk_service.add_kiosk(office, "Quầy 1", with_credential=True).kiosk.id
    beating = kiosk_service.add_kiosk(office, "Quầy 2", with_credential=True).kiosk.id
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 in Hà Nội: open
    for kid, seen in ((silent, now - timedelta(hours=2)), (beating, now)):
        db.session.get(Kiosk, kid).last_seen_at = seen
    db.session.commit()
    assert [k.id for k in kiosk_service.offline_while_open([office.id], now)] == [silent]
    for kid in (silent, beating):
        kiosk_service.pause_kiosk(kid, paused=True, actor="t")
    assert kiosk_service.offline_while_open([office.id], now) == []
    assert not any(kiosk_service.is_online(k, now)
                   for k in kiosk_service.list_kiosks([office.id]))
    kiosk_service.pause_kiosk(silent, paused=False, actor="t")
    assert [k.id for k in kiosk_service.offline_while_open([office.id], now)] == [silent]

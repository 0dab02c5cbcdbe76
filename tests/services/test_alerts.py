"""E-mail alerts through a real SMTP server in-process (aiosmtpd): Vietnamese subject and
body with a link to the exact page, digests only for released office-days, nothing sent
twice, nothing sent without MAIL_URL."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AlertSent, Kiosk
from core.services import alerts
from core.services.intake import clean_response
from core.services.mixing import hold, vn_day


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def inbox(app):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (the controller checks it can connect)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = _Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}?from=sipas@example.vn"
    app.config["PUBLIC_BASE_URL"] = "https://sipas.example.vn"
    yield box
    controller.stop()


def _answers(instrument, office, day, n, sat, comment=None):
    for _i in range(n):
        hold(clean_response(instrument, {c.code: sat for c in instrument.criteria},
                            comment=comment), office.id, "qr", day)
    db.session.commit()


def test_digest_waits_for_the_released_day_and_is_sent_once(app, world, instrument, inbox,
                                                           runner):
    from tests.helpers import release_all

    km, bd = world["offices"]["BD-KM"], world["offices"]["BD"]
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
    yesterday = vn_day(now) - timedelta(days=1)
    alerts.save_subscription(world["users"]["bd"], bd, "truong@example.vn", {"digest"})
    sub = alerts.subscriptions_of(world["users"]["bd"])[bd.id]
    sub.created_at = now - timedelta(days=1)
    db.session.commit()
    _answers(instrument, km, yesterday, 4, 5)
    _answers(instrument, km, yesterday, 2, 1, comment="Chờ quá lâu.")
    assert alerts.send_due(now).sent == 0  # pending: not released, no digest
    assert inbox.messages == []
    release_all(now=now)
    report = alerts.send_due(now)
    assert (report.sent, report.skipped) == (1, 0)
    msg = inbox.messages[0]
    assert msg["To"] == "truong@example.vn"
    assert msg["Subject"] == f"SIPAS: câu trả lời ngày {yesterday:%d/%m/%Y} tại {bd.name}"
    body = msg.get_content()
    assert "Số câu trả lời: 6" in body and "thấp" in body and "Số ý kiến: 2" in body
    assert (f"https://sipas.example.vn/admin/comments?office=BD&month="
            f"{yesterday:%Y-%m}") in body
    assert "Chờ quá lâu" not in body  # counts only, never the comments with their scores
    assert alerts.send_due(now).sent == 0  # nothing twice
    assert len(inbox.messages) == 1
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 0 and "sent 0" in result.output


def test_offline_tablet_held_answers_and_report_alerts(app, world, instrument, inbox):
    from tests.helpers import release_all

    stp = world["offices"]["STP"]
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 in Hà Nội
    alerts.save_subscription(world["users"]["stp"], stp, "stp@example.vn",
                             {"offline", "held", "report"})
    kiosk = db.session.get(Kiosk, world["stp_kiosk"])
    kiosk.last_seen_at = now - timedelta(hours=2)
    hold(clean_response(instrument, {c.code: 3 for c in instrument.criteria}), stp.id, "kiosk",
         vn_day(now) - timedelta(days=20), counted=False, flags="burst")
    _answers(instrument, stp, vn_day(now) - timedelta(days=10), 5, 4)
    db.session.commit()
    release_all(now=now)
    assert alerts.send_due(now).sent == 3
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert any("Quầy 2" in s for s in subjects)
    assert any("chờ xem xét" in s for s in subjects)
    assert any("tháng 11/2026" in s or "11/2026" in s for s in subjects)
    links = " ".join(m.get_content() for m in inbox.messages)
    assert "https://sipas.example.vn/admin/held?office=STP" in links
    assert "https://sipas.example.vn/admin/kiosks?office=STP" in links
    assert alerts.send_due(now).sent == 0
    night = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 22:00: closed, and a new day
    assert [a.kind for a in alerts.due(night) if a.kind == "offline"] == []


def test_a_paused_tablet_is_never_an_offline_alert(app, world):
    from core.services.kiosks import pause_kiosk

    app.config["PUBLIC_BASE_URL"] = "https://sipas.example.vn"
    stp = world["offices"]["STP"]
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 in Hà Nội
    alerts.save_subscription(world["users"]["stp"], stp, "stp@example.vn", {"offline"})
    db.session.get(Kiosk, world["stp_kiosk"]).last_seen_at = now - timedelta(hours=2)
    db.session.commit()
    assert [a.kind for a in alerts.due(now)] == ["offline"]
    pause_kiosk(world["stp_kiosk"], paused=True, actor="stp")
    assert alerts.due(now) == []
    pause_kiosk(world["stp_kiosk"], paused=False, actor="stp")
    assert [a.kind for a in alerts.due(now)] == ["offline"]


def test_an_office_with_its_own_hours_is_alerted_only_within_them(app, world):
    """The offline alert follows the hours set for the office (the same rule as the
    dashboard's flag), not the configured default."""
    from core.services.kiosks import set_opening_hours

    stp = world["offices"]["STP"]
    alerts.save_subscription(world["users"]["stp"], stp, "stp@example.vn", {"offline"})
    wednesday_7 = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 07:00 in Hà Nội
    db.session.get(Kiosk, world["stp_kiosk"]).last_seen_at = wednesday_7 - timedelta(hours=2)
    db.session.commit()
    assert alerts.due(wednesday_7) == []  # before the default hours (07:30)
    set_opening_hours(stp, "06:30-11:00", "12345", actor="stp")
    assert [a.kind for a in alerts.due(wednesday_7)] == ["offline"]
    afternoon = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 15:00: open by default, not here
    assert alerts.due(afternoon) == []


def test_nothing_is_sent_without_mail_url(app, world, runner):
    app.config["MAIL_URL"] = None
    alerts.save_subscription(world["users"]["bd"], world["offices"]["BD"], "a@example.vn",
                             {"held", "digest"})
    assert alerts.send_due() is None
    result = runner.invoke(args=["alerts", "send"])
    assert result.exit_code == 0 and "nothing sent" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertSent)) == 0

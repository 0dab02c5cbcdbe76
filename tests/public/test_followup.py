"""Follow-up codes end to end: made on the kiosk (only the hash sent) or by the server for the
phone's form, carried by the pending answer, attached to the comment's handling record only by
the release; ``/phan-hoi/<code>`` shows the status and the published reply, never the comment,
404 for unknown codes, rate-limited per client, and the code never reaches a log line."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, CommentHandling, PendingAnswer, Response
from core.services import followup
from core.services import kiosks as kiosk_service
from core.services.accounts import create_user
from tests.admin.fixtures import FAST
from tests.helpers import release_all
from tests.kiosk.helpers import API, Client, auth, body

COMMENT = "Quầy số 2 đông quá, xin thêm người vào buổi sáng."
REPLY = "Từ tháng sau văn phòng bố trí thêm một cán bộ vào buổi sáng."


@pytest.fixture
def kapp(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, FOLLOWUP_RATE_LIMIT="5/hour")
    with app.app_context():
        yield app


@pytest.fixture
def kiosk(kapp, offices):
    return kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 3", with_credential=True)


@pytest.fixture
def kclient(kapp):
    return Client(kapp)


def test_the_code_has_fifty_bits_without_look_alikes_and_reads_back_as_typed():
    assert len(followup.ALPHABET) == 32 and not set("ILOU") & set(followup.ALPHABET)
    code = followup.new_code()
    assert len(code) == 10 and set(code) <= set(followup.ALPHABET)
    assert followup.grouped("7KQ2MXR4TD") == "7KQ2M-XR4TD"
    assert followup.normalize(" 7kq2m-xr4td ") == "7KQ2MXR4TD"
    assert followup.normalize("OIL2M XR4TD") == "0112MXR4TD"  # look-alikes read as meant
    assert followup.normalize("7KQ2MXR4T") is None and followup.normalize("7KQ2MXR4TU") is None
    assert len({followup.new_code() for _ in range(200)}) == 200


def test_kiosk_code_reaches_the_comment_only_through_the_release(kclient, kiosk, offices):
    code = "7KQ2MXR4TD"
    digest = followup.code_hash(code)
    r = kclient.post(API, json=body(comment=COMMENT, followup_hash=digest), headers=auth(kiosk))
    assert r.status_code == 201
    pending = db.session.scalar(sa.select(PendingAnswer))
    assert pending.followup_hash == digest and code not in repr(vars(pending))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentHandling)) == 0
    assert kclient.get(f"/phan-hoi/{code}").status_code == 404  # not released yet
    release_all()
    response = db.session.scalar(sa.select(Response))
    handling = db.session.get(CommentHandling, response.id)
    assert handling.followup_hash == digest and handling.status == "new"
    assert not handling.reply_public and handling.public_reply is None
    # its times are the day's start, like the answer's: nothing finer
    assert handling.created_at == response.submitted_at == handling.updated_at
    page = kclient.get("/phan-hoi/7kq2m-xr4td")  # as typed: case and hyphen do not matter
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "chưa bắt đầu xử lý" in html and "data-no-reply" in html
    assert COMMENT not in html and "Quầy số 2" not in html


def test_no_code_without_a_comment_or_with_a_contact_request(kclient, kiosk):
    digest = followup.code_hash("ABCDEFGHJK")
    assert kclient.post(API, json=body(followup_hash=digest), headers=auth(kiosk)
                        ).status_code == 201
    assert kclient.post(API, json=body(comment=COMMENT, consent=True, contact="0912345678",
                                       followup_hash=digest), headers=auth(kiosk)
                        ).status_code == 201
    assert db.session.scalars(sa.select(PendingAnswer.followup_hash)).all() == [None, None]
    bad = kclient.post(API, json=body(comment=COMMENT, followup_hash="ABCDEFGHJK"),
                       headers=auth(kiosk))
    assert bad.status_code == 400 and "followup_hash" in bad.get_json()["fields"]


def test_published_reply_is_shown_never_the_comment(kapp, kclient, kiosk):
    code = followup.new_code()
    kclient.post(API, json=body(comment=COMMENT, followup_hash=followup.code_hash(code)),
                 headers=auth(kiosk))
    release_all()
    rid, month = db.session.execute(sa.select(Response.id, Response.month)).one()
    kapp.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("bd", "head", "BD", "Ba-Dinh-square-2", actor="test", must_change=False)
    db.session.commit()
    kclient.post("/admin/login", data={"username": "bd", "password": "Ba-Dinh-square-2"})
    assert kclient.post(f"/admin/comments/{rid}", data={
        f"c{rid}-status": "answered", f"c{rid}-public_reply": REPLY}).status_code == 302
    html = kclient.get(f"/phan-hoi/{code}").get_data(as_text=True)
    assert "Đã được văn phòng trả lời" in html and REPLY not in html  # not published yet
    comments = kclient.get(f"/admin/comments?office=BD&month={month}").get_data(as_text=True)
    assert f'data-publish="{rid}"' in comments and code not in comments
    r = kclient.post(f"/admin/comments/{rid}/publish", data={"reply_public": "y"})
    assert r.status_code == 302
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "comment.publish"))
    assert event.details["reply_public"] is True and REPLY not in str(event.details)
    html = kclient.get(f"/phan-hoi/{code}").get_data(as_text=True)
    assert REPLY in html and COMMENT not in html
    board = kclient.get("/ket-qua/BD-KM/phan-hoi").get_data(as_text=True)
    assert REPLY in board and COMMENT not in board
    kclient.post(f"/admin/comments/{rid}/publish", data={"reply_public": "y",
                                                         "comment_public": "y"})
    board = kclient.get("/ket-qua/BD-KM/phan-hoi").get_data(as_text=True)
    assert COMMENT in board and REPLY in board
    assert not re.search(r"\b\d{1,2}:\d{2}\b", board)  # no time of day, no day either
    assert "data-board-item" in board and "/20" in board  # the month: "tháng 11/2026"
    assert COMMENT not in kclient.get(f"/phan-hoi/{code}").get_data(as_text=True)


def test_unknown_and_malformed_codes_are_404_and_lookups_are_rate_limited(kclient):
    for path in ("/phan-hoi/ABCDEFGHJK", "/phan-hoi/short", "/phan-hoi/ABCDEFGHJU"):
        r = kclient.get(path)
        assert r.status_code == 404 and "Không có góp ý nào với mã này" in r.get_data(
            as_text=True)
    for _ in range(2):
        assert kclient.get("/phan-hoi/ABCDEFGHJK").status_code == 404
    limited = kclient.get("/phan-hoi/ABCDEFGHJK")  # the 6th of 5 per hour
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_the_form_leads_to_the_code_page(kclient):
    assert kclient.get("/phan-hoi/").status_code == 200
    r = kclient.get("/phan-hoi/?ma=7kq2m xr4td")
    assert r.status_code == 303 and r.headers["Location"].endswith("/phan-hoi/7KQ2MXR4TD")
    bad = kclient.get("/phan-hoi/?ma=12")
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.get_data(as_text=True)


def test_phone_form_gets_a_server_made_code_shown_once(client, offices, instrument):
    from tests.survey.test_phone_survey import answers, form_token_from

    ft = form_token_from(client.get("/o/BD-KM").get_data(as_text=True))
    done = client.post("/o/BD-KM", data=answers(instrument) | {"ft": ft, "comment": COMMENT})
    assert done.status_code == 302
    thanks = client.get(done.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert thanks.headers["Cache-Control"] == "no-store"
    shown = re.search(r"data-followup-code[^>]*>([0-9A-Z]{5}-[0-9A-Z]{5})<", html).group(1)
    code = followup.normalize(shown)
    assert db.session.scalar(sa.select(PendingAnswer.followup_hash)) == followup.code_hash(code)
    again = client.get(done.headers["Location"]).get_data(as_text=True)
    assert shown not in again  # shown once: the session forgets it
    release_all()
    assert client.get(f"/phan-hoi/{code}").status_code == 200


def test_kiosk_form_without_javascript_shows_the_code_and_its_qr(make_app):
    from core.services.offices import get_office
    from tests.kiosk.test_pages import _device_client, answers_form, csrf_token, setup_offices

    app = make_app(WTF_CSRF_ENABLED=True, KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        setup_offices()
        kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = _device_client(app, kiosk.credential)
        token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
        done = client.post("/kiosk/", data=answers_form(token, "4", comment=COMMENT))
        assert done.status_code == 303
        html = client.get("/kiosk/thanks").get_data(as_text=True)
        shown = re.search(r"data-followup-code[^>]*>([0-9A-Z]{5}-[0-9A-Z]{5})<", html).group(1)
        assert "<svg" in html and "Mã QR của mã theo dõi" in html
        db.session.remove()
        assert db.session.scalar(sa.select(PendingAnswer.followup_hash)) == followup.code_hash(
            followup.normalize(shown))
        assert shown not in client.get("/kiosk/thanks").get_data(as_text=True)


def test_the_code_never_reaches_a_log_line(kapp, kclient, kiosk, capsys):
    code = followup.new_code()
    kclient.post(API, json=body(comment=COMMENT, followup_hash=followup.code_hash(code)),
                 headers=auth(kiosk))
    release_all()
    capsys.readouterr()
    kclient.get(f"/phan-hoi/{code}")
    kclient.get(f"/phan-hoi/{code}/x")
    kclient.get(f"/phan-hoi/?ma={code}")
    out = capsys.readouterr()
    logged = out.out + out.err
    assert "/phan-hoi/<token>" in logged and code not in logged
    assert followup.code_hash(code) not in logged

"""Kiosk pages through the Flask test client: one-time activation, the device cookie, the
no-JavaScript form (with real CSRF), recovery from an expired CSRF token, revocation."""

from __future__ import annotations

import io
import re
import time
import uuid

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from core.errors import NotFound
from core.extensions import db
from core.models import Kiosk, PendingAnswer, Response
from core.questionnaire import field_name
from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from tests.conftest import SMALL_TREE
from tests.helpers import CODES, release_all

COOKIE = "sipas_kiosk"


def setup_offices():
    import_offices(io.StringIO(SMALL_TREE))
    db.session.commit()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def stored() -> int:
    """Answers acknowledged (pending or released)."""
    db.session.remove()
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for model in (PendingAnswer, Response))


@pytest.fixture
def csrf_app(make_app):
    """CSRF on (as in production), no rate limit."""
    app = make_app(WTF_CSRF_ENABLED=True, KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        setup_offices()
        yield app


def answers_form(token: str, score: str = "4", **extra) -> MultiDict:
    data = MultiDict({field_name(c): score for c in CODES})
    data["csrf_token"] = token
    data["submission_id"] = str(uuid.uuid4())
    for key, value in extra.items():
        data[key] = value
    return data


def test_activation_link_works_once_and_sets_the_device_cookie(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 3")
    assert new.activation_code and new.credential is None
    assert new.kiosk.status == "pending"
    client = csrf_app.test_client()
    url = f"/kiosk/activate/{new.activation_code}"

    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Kích hoạt máy tính bảng này" in html and "Quầy 3" in html
    assert client.get(url).status_code == 200  # a GET (e.g. a link preview) uses nothing up

    r = client.post(url, data={"csrf_token": csrf_token(html)})
    assert r.status_code == 303 and r.headers["Location"].endswith("/kiosk/")
    cookie = client.get_cookie(COOKIE, path="/kiosk")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    db.session.remove()
    kiosk = db.session.get(Kiosk, new.kiosk.id)
    assert kiosk.status == "active" and kiosk.activation_hash is None
    assert kiosk.credential_hash != cookie.value  # only a digest is stored

    start = client.get("/kiosk/")
    assert start.status_code == 200
    text = start.get_data(as_text=True)
    assert "Đánh giá sự hài lòng" in text and "UBND phường Kim Mã · Quầy 3" in text
    assert start.headers["Cache-Control"] == "no-store"

    other = csrf_app.test_client()
    again = other.get(url)
    assert again.status_code == 410
    assert "đã được sử dụng hoặc đã hết hạn" in again.get_data(as_text=True)
    assert other.post(url, data={"csrf_token": csrf_token(html)}).status_code in (400, 410)
    assert other.get("/kiosk/").status_code == 403


def test_unknown_and_expired_activation_codes(make_app):
    app = make_app(KIOSK_ACTIVATION_DAYS=0)
    with app.app_context():
        setup_offices()
        new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1")
        client = app.test_client()
        assert client.get(f"/kiosk/activate/{new.activation_code}").status_code == 410
        assert client.get("/kiosk/activate/nonsense").status_code == 410


def test_not_activated_tablet_sees_a_friendly_page(csrf_app):
    r = csrf_app.test_client().get("/kiosk/")
    assert r.status_code == 403
    html = r.get_data(as_text=True)
    assert "Máy tính bảng này chưa được kích hoạt" in html and 'lang="vi"' in html


def _device_client(app, credential):
    client = app.test_client()
    client.set_cookie(COOKIE, credential, path="/kiosk")
    return client


def test_start_page_has_the_instrument_wording_and_no_inline_script_or_style(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    html = _device_client(csrf_app, new.credential).get("/kiosk/").get_data(as_text=True)
    assert "Trụ sở cơ quan tiếp nhận hồ sơ, trả kết quả có biển hiệu" in html
    assert "Không trả lời / Không áp dụng" in html and "Rất không hài lòng" in html
    assert "Tiếp cận dịch vụ" in html and "Bắt đầu đánh giá" in html
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    # demographics are not asked at the kiosk
    assert "d_age" not in html


def test_no_js_form_stores_a_kiosk_response(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    client = _device_client(csrf_app, new.credential)
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    data = answers_form(token, "5", comment="Tốt", e_digital="3")
    data[field_name("V.4")] = "0"
    r = client.post("/kiosk/", data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith("/kiosk/thanks")
    thanks = client.get("/kiosk/thanks").get_data(as_text=True)
    assert "Xin cảm ơn Ông/Bà!" in thanks and 'href="/kiosk/"' in thanks
    # a double submit of the same page is stored once
    assert client.post("/kiosk/", data=data).status_code == 303
    assert stored() == 1
    release_all()
    row = db.session.scalar(sa.select(Response))
    assert row.channel == "kiosk" and row.answers == "5" * 23 + "0"
    assert row.comment == "Tốt" and row.expectations == {"digital": 3}
    assert row.uuid != data["submission_id"]  # the form's id is not kept on the answer


def test_no_js_form_missing_answers_are_shown_and_nothing_stored(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    client = _device_client(csrf_app, new.credential)
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    data = answers_form(token)
    del data[field_name("III.2")]
    r = client.post("/kiosk/", data=data)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Còn câu hỏi chưa được trả lời" in html and 'id="err-c_III_2"' in html
    assert f'value="{data["submission_id"]}"' in html
    # every "no answer": nothing to store, said politely
    data = answers_form(token, "0")
    r = client.post("/kiosk/", data=data)
    assert r.status_code == 400 and "ít nhất một câu hỏi" in r.get_data(as_text=True)
    assert stored() == 0


def test_expired_csrf_token_is_recovered_without_an_error(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=1, KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        setup_offices()
        new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    # requests outside the test's app context, as in production (each gets its own ``g``)
    client = _device_client(app, new.credential)
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    time.sleep(2.1)  # the page stayed open longer than the token lives
    data = answers_form(token, "4", comment="Giữ nguyên")
    r = client.post("/kiosk/", data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "vẫn được giữ nguyên" in html and "field-error" not in html
    assert html.count("checked") == len(CODES) and "Giữ nguyên" in html
    fresh = csrf_token(html)
    assert fresh != token
    data["csrf_token"] = fresh
    r = client.post("/kiosk/", data=data)
    assert r.status_code == 303
    with app.app_context():
        assert stored() == 1


def test_revoked_tablet_stops_at_once(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    client = _device_client(csrf_app, new.credential)
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    kiosk_service.revoke_kiosk(new.kiosk.id, actor="tester")
    assert client.get("/kiosk/").status_code == 403
    assert client.post("/kiosk/", data=answers_form(token)).status_code == 403
    assert stored() == 0


def test_paused_tablet_shows_the_paused_screen_until_resumed(csrf_app):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    client = _device_client(csrf_app, new.credential)
    token = csrf_token(client.get("/kiosk/").get_data(as_text=True))
    kiosk_service.pause_kiosk(new.kiosk.id, paused=True, actor="tester")
    r = client.get("/kiosk/")
    html = r.get_data(as_text=True)
    # a 200 (the offline shell keeps it), never stored by the browser itself
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "Máy tạm ngừng khảo sát" in html and "Xin cảm ơn Ông/Bà" in html
    assert "phiếu hẹn" in html and 'lang="vi"' in html
    # it comes back by itself: paused.js asks every heartbeat period (without JavaScript,
    # the page refreshes)
    assert 'data-recheck-seconds="60"' in html and "/kiosk/static/kiosk/paused.js" in html
    assert re.search(r'<noscript><meta http-equiv="refresh" content="60"></noscript>', html)
    assert "Bắt đầu đánh giá" not in html and "kiosk.js" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    # a form rendered before the pause is still accepted: nothing a citizen gave is lost
    r = client.post("/kiosk/", data=answers_form(token))
    assert r.status_code == 303 and stored() == 1
    kiosk_service.pause_kiosk(new.kiosk.id, paused=False, actor="tester")
    html = client.get("/kiosk/").get_data(as_text=True)
    assert "Bắt đầu đánh giá" in html and "Máy tạm ngừng khảo sát" not in html


def test_list_and_revoke_service_api(csrf_app):
    a = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    b = kiosk_service.add_kiosk(get_office("STP"), "Quầy 1", idle_seconds=90)
    assert [k.id for k in kiosk_service.list_kiosks()] == [a.kiosk.id, b.kiosk.id]  # BD-KM < STP
    only = kiosk_service.list_kiosks([get_office("BD-KM").id])
    assert [(k.office_code, k.name, k.status) for k in only] == [("BD-KM", "Quầy 2", "active")]
    assert kiosk_service.list_kiosks([]) == []
    info = kiosk_service.list_kiosks([get_office("STP").id])[0]
    assert info.status == "pending" and info.idle_seconds == 90 and info.last_seen_at is None
    assert not hasattr(info, "credential_hash") and not hasattr(info, "burst_digest")
    revoked = kiosk_service.revoke_kiosk(b.kiosk.id, "admin:lan")
    again = kiosk_service.revoke_kiosk(b.kiosk.id, "admin:lan")
    assert revoked.status == again.status == "revoked" and revoked.revoked_at == again.revoked_at
    with pytest.raises(NotFound):
        kiosk_service.revoke_kiosk(999, "admin:lan")
    with pytest.raises(Exception) as exc:
        kiosk_service.add_kiosk(get_office("BD-KM"), "  ", idle_seconds=1)
    assert set(exc.value.fields) == {"name", "idle_seconds"}


def test_activation_qr_svg_is_self_contained():
    svg = kiosk_service.activation_qr_svg("http://sipas.local/kiosk/activate/abc")
    assert svg.startswith("<svg") and "<path" in svg and "http" not in svg.split("xmlns")[0]


def test_activation_code_and_credential_never_reach_the_logs(csrf_app, capsys):
    new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 5")
    client = csrf_app.test_client()
    capsys.readouterr()
    html = client.get(f"/kiosk/activate/{new.activation_code}").get_data(as_text=True)
    client.post(f"/kiosk/activate/{new.activation_code}", data={"csrf_token": csrf_token(html)})
    credential = client.get_cookie(COOKIE, path="/kiosk").value
    client.get("/kiosk/")
    out = capsys.readouterr().out
    assert "/kiosk/activate/<token>" in out
    assert new.activation_code not in out and credential not in out

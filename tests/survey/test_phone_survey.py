"""The phone survey (/s/<token>) and the office's generic link (/o/<code>), end to end
through the Flask test client, without JavaScript."""

from __future__ import annotations

import io
import re
import time

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner

from core.errors import Conflict
from core.extensions import db
from core.models import GenericFormUse, PendingAnswer, Receipt, ReceiptUse, Response
from core.questionnaire import field_name
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from tests.conftest import SMALL_TREE
from tests.helpers import release_all

CODE = "000.00.20.H26-220101-0001"
ANSWERED = "Hồ sơ này đã được đánh giá. Cảm ơn Ông/Bà."


def answers(instrument, score: str = "4", skip: tuple[str, ...] = ()) -> dict[str, str]:
    data = {field_name(c.code): score for c in instrument.criteria if c.code not in skip}
    data[field_name("V.4")] = "0"  # "no answer"
    return data


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def form_token_from(html: str) -> str:
    match = re.search(r'name="ft" value="([^"]+)"', html)
    assert match
    return match.group(1)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def answered() -> int:
    """Answers acknowledged: pending, or released into ``response``."""
    return count(PendingAnswer) + count(Response)


@pytest.fixture
def token(offices) -> str:
    return mint_receipt(offices["BD-KM"], CODE, procedure="Chứng thực bản sao").token


def test_no_js_form_end_to_end_with_csrf(make_app, instrument):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        token = mint_receipt(get_office("BD-KM"), CODE, procedure="Chứng thực bản sao").token
        client = app.test_client()

        page = client.get(f"/s/{token}?all=1")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'lang="vi"' in html and "UBND phường Kim Mã" in html
        assert "<script" not in html and "style=" not in html
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
        for c in instrument.criteria:
            assert f'name="{field_name(c.code)}"' in html
        csrf = csrf_from(html)

        # without the CSRF token nothing is stored and the answers come back
        data = answers(instrument)
        page = client.post(f"/s/{token}", data=data)
        assert page.status_code == 200 and answered() == 0
        assert "Trang đã mở quá lâu" in page.get_data(as_text=True)

        # a missing answer: the message next to the question, every other answer kept
        data = answers(instrument, skip=("III.2",)) | {"csrf_token": csrf,
                                                        "comment": "Cán bộ rất nhiệt tình"}
        page = client.post(f"/s/{token}", data=data)
        assert page.status_code == 400 and answered() == 0
        html = page.get_data(as_text=True)
        block = html[html.index('id="q-c_III_2"'):]
        block = block[:block.index("</fieldset>")]
        assert "Vui lòng chọn một mức" in block or "Không trả lời" in block
        assert 'class="field-error"' in block
        assert html.count("checked") == len(instrument.criteria) - 1
        assert "Cán bộ rất nhiệt tình" in html
        assert 'href="#q-c_III_2"' in html  # the summary links to the problem

        # every criterion "no answer": refused with a clear message
        none = {field_name(c.code): "0" for c in instrument.criteria} | {"csrf_token": csrf}
        page = client.post(f"/s/{token}", data=none)
        assert page.status_code == 400 and answered() == 0
        html = page.get_data(as_text=True)
        assert 'data-error="empty"' in html and 'data-field="answers"' in html

        data[field_name("III.2")] = "5"
        done = client.post(f"/s/{token}", data=data)
        assert done.status_code == 302 and done.headers["Location"].endswith("/survey/thanks")
        thanks = client.get(done.headers["Location"])
        assert "Xin cảm ơn Ông/Bà!" in thanks.get_data(as_text=True)

        assert answered() == 1 and count(Response) == 0  # pending until its day is released
        release_all()
        stored = db.session.scalar(sa.select(Response))
        assert stored.channel == "qr" and stored.office_id == get_office("BD-KM").id
        assert stored.answers[instrument.criterion_codes.index("III.2")] == "5"
        assert stored.answers[-1] == "0" and stored.comment == "Cán bộ rất nhiệt tình"
        assert stored.procedure is None  # nothing of the receipt is copied into the answer
        # the day is kept, never the second
        local = stored.submitted_at.astimezone(__import__("zoneinfo").ZoneInfo(
            "Asia/Ho_Chi_Minh"))
        assert (local.hour, local.minute, local.second) == (0, 0, 0)

        # replayed: GET and POST both say it was already answered
        again = client.get(f"/s/{token}")
        assert again.status_code == 409 and ANSWERED in again.get_data(as_text=True)
        replay = client.post(f"/s/{token}", data=data)
        assert replay.status_code == 409 and answered() == 1


def test_a_response_cannot_be_traced_to_its_receipt(client, token, instrument):
    assert client.post(f"/s/{token}", data=answers(instrument)).status_code == 302
    response_columns = set(Response.__table__.columns.keys())
    assert not any("receipt" in c or "dossier" in c or "token" in c for c in response_columns)
    assert set(ReceiptUse.__table__.columns.keys()) == {"receipt_id"}
    assert count(ReceiptUse) == 1 and count(Receipt) == 1


def test_api_and_phone_flow_counts_in_the_tallies(client, token, instrument):
    from core.models import MonthlyChannelCount

    client.post(f"/s/{token}", data=answers(instrument, "5"))
    assert count(MonthlyChannelCount) == 0  # counted once released
    release_all()
    row = db.session.scalar(sa.select(MonthlyChannelCount))
    assert (row.channel, row.responses) == ("qr", 1)


def test_used_receipt_refuses_in_the_database_even_without_the_check(app, token, instrument,
                                                                     monkeypatch):
    """The guarantee is the receipt_use primary key, not the check before the insert."""
    from core.services import intake, receipts

    intake.submit(receipts.ReceiptDoor(token), intake.RawSubmission({"I.1": 4}))
    monkeypatch.setattr(receipts, "is_used", lambda receipt: False)  # as a racing request sees
    with app.test_request_context("/"), pytest.raises(Conflict) as err:
        intake.submit(receipts.ReceiptDoor(token), intake.RawSubmission({"I.1": 2}))
    assert err.value.code == "already_answered"
    assert answered() == 1


def test_english_page_follows_the_locale(client, token):
    html = client.get(f"/s/{token}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html and "How satisfied are you" in html


# -- the generic office link --------------------------------------------------------------

def test_generic_link_stores_with_its_own_channel_and_burns_the_form_token(client, offices,
                                                                          instrument):
    page = client.get("/o/BD-KM")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="website"' in html and "captcha" not in html.lower()
    ft = form_token_from(html)
    data = answers(instrument) | {"ft": ft}
    done = client.post("/o/BD-KM", data=data)
    assert done.status_code == 302
    release_all()
    stored = db.session.scalar(sa.select(Response))
    assert stored.channel == "generic" and count(GenericFormUse) == 1
    replay = client.post("/o/BD-KM", data=data)
    assert replay.status_code == 409 and answered() == 1
    assert "Biểu mẫu này đã được gửi" in replay.get_data(as_text=True)


def test_generic_link_rejects_forged_or_foreign_form_tokens(client, offices, instrument):
    ft_other = form_token_from(client.get("/o/BD-DB").get_data(as_text=True))
    for bad in ("", "forged", ft_other, ft_other[:-2] + "xx"):
        resp = client.post("/o/BD-KM", data=answers(instrument) | {"ft": bad})
        assert resp.status_code == 400, bad
    assert answered() == 0


def test_generic_link_honeypot_drops_the_answer_quietly(client, offices, instrument):
    ft = form_token_from(client.get("/o/BD-KM").get_data(as_text=True))
    resp = client.post("/o/BD-KM", data=answers(instrument) | {"ft": ft,
                                                               "website": "http://spam"})
    assert resp.status_code == 302 and answered() == 0


def test_generic_link_expired_form_token_keeps_the_answers(client, offices, instrument,
                                                            monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 86400)
    ft = form_token_from(client.get("/o/BD-KM").get_data(as_text=True))
    monkeypatch.undo()
    page = client.post("/o/BD-KM", data=answers(instrument, "2") | {"ft": ft})
    assert page.status_code == 200 and answered() == 0
    html = page.get_data(as_text=True)
    assert "Trang đã mở quá lâu" in html
    new_ft = form_token_from(html)
    assert new_ft != ft and html.count("checked") == len(instrument.criteria)
    assert client.post("/o/BD-KM", data=answers(instrument) | {"ft": new_ft}).status_code == 302


def test_generic_link_is_limited_per_client(make_app, instrument):
    app = make_app(GENERIC_RATE_LIMIT="2/hour")
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        client = app.test_client()
        replies = []
        for _ in range(3):
            ft = form_token_from(client.get("/o/BD-KM").get_data(as_text=True))
            replies.append(client.post("/o/BD-KM", data=answers(instrument) | {"ft": ft}))
        assert [r.status_code for r in replies] == [302, 302, 429]
        assert replies[-1].headers["Retry-After"] == "3600"
        other = app.test_client()
        ft = form_token_from(other.get("/o/BD-KM").get_data(as_text=True))
        resp = other.post("/o/BD-KM", data=answers(instrument) | {"ft": ft},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert resp.status_code == 302
        assert answered() == 3


def test_generic_link_of_unknown_or_inactive_office(client, offices):
    assert client.get("/o/NOPE").status_code == 404
    offices["BD-DB"].active = False
    db.session.commit()
    page = client.get("/o/BD-DB")
    assert page.status_code == 403
    assert "hiện không tiếp nhận đánh giá" in page.get_data(as_text=True)


def test_used_form_tokens_are_purged_after_expiry(client, offices, instrument, runner):
    ft = form_token_from(client.get("/o/BD-KM").get_data(as_text=True))
    client.post("/o/BD-KM", data=answers(instrument) | {"ft": ft})
    assert "Đã xóa 0 mã biểu mẫu" in runner.invoke(args=["receipts", "purge-form-tokens"]).output
    row = db.session.scalar(sa.select(GenericFormUse))
    row.expires_on = row.expires_on.replace(year=2020)
    db.session.commit()
    assert "Đã xóa 1 mã biểu mẫu" in runner.invoke(args=["receipts", "purge-form-tokens"]).output

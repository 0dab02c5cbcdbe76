"""Personal data in comments and contact requests, through the real channels (README,
"Comments, contact and retention").

* Every channel masks a comment before it is stored: the kiosk API, the kiosk's
  no-JavaScript form, the receipt (QR) form, the generic link, and paper rows through
  ``flask responses import``. The corpus is tests/fixtures/comment_masking.json.
* A citizen who ticks the consent box and gives a phone number or e-mail address has the
  comment and the contact stored as a contact request, apart from the answer, which keeps no
  comment; nothing in the request points at the answer (no id, no time finer than the day,
  no channel), also on PostgreSQL after the release (no shared ``xmin``).
* No consent, no contact: a contact without the box ticked, or the box without a contact,
  is refused on every channel, and the box is never ticked in advance.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import ContactRequest, PendingAnswer, Response
from core.questionnaire import field_name
from core.services import kiosks as kiosk_service
from core.services.mixing import vn_day
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from core.timeutil import VN_TZ, utcnow
from tests.conftest import SMALL_TREE
from tests.helpers import CODES, release_all

CORPUS = json.loads((Path(__file__).resolve().parents[1] / "fixtures/comment_masking.json")
                    .read_text(encoding="utf-8"))["cases"]


def corpus_comments(limit: int = 1900) -> list[tuple[str, str]]:
    """The whole corpus as a few comments under the length limit: (sent, stored)."""
    chunks: list[tuple[str, str]] = []
    sent: list[str] = []
    stored: list[str] = []
    for case in CORPUS:
        if sum(map(len, sent)) + len(sent) + len(case["text"]) > limit:
            chunks.append(("\n".join(sent), "\n".join(stored)))
            sent, stored = [], []
        sent.append(case["text"])
        stored.append(case["masked"])
    chunks.append(("\n".join(sent), "\n".join(stored)))
    return chunks


def form_data(**extra: str) -> dict[str, str]:
    return {**{field_name(c): "4" for c in CODES}, **extra}


@pytest.fixture
def channel_app(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, KIOSK_BURST_COUNT=10 ** 6,
                   GENERIC_RATE_LIMIT="1000/hour")
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        db.session.commit()
        yield app


class Channels:
    """Send one submission (form fields, or their JSON equivalent) through a channel;
    returns the HTTP status."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self.kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1",
                                             with_credential=True)
        self.receipts = iter(range(10 ** 6))

    def kiosk_api(self, comment=None, consent=None, contact=None, id=None):
        body = {"id": id or str(uuid.uuid4()), "instrument": "hanoi-2022",
                "answers": {c: 4 for c in CODES}, "comment": comment}
        if consent is not None:
            body["consent"] = consent
        if contact is not None:
            body["contact"] = contact
        return self.client.post("/api/v1/responses", json=body, headers={
            "Authorization": f"Bearer {self.kiosk.credential}"}).status_code

    def _form(self, comment, consent, contact) -> dict[str, str]:
        extra = {}
        if comment is not None:
            extra["comment"] = comment
        if consent:
            extra["consent"] = "y"
        if contact is not None:
            extra["contact"] = contact
        return form_data(**extra)

    def kiosk_form(self, comment=None, consent=None, contact=None):
        self.client.set_cookie("sipas_kiosk", self.kiosk.credential, path="/kiosk")
        data = self._form(comment, consent, contact) | {"submission_id": str(uuid.uuid4())}
        return self.client.post("/kiosk/", data=data).status_code

    def receipt_form(self, comment=None, consent=None, contact=None):
        token = mint_receipt(get_office("BD-DB"),
                             f"000.00.20.H26-261130-{next(self.receipts):04d}").token
        db.session.remove()
        return self.client.post(f"/s/{token}",
                                data=self._form(comment, consent, contact)).status_code

    def generic_link(self, comment=None, consent=None, contact=None):
        page = self.client.get("/o/STP").get_data(as_text=True)
        ft = re.search(r'name="ft" value="([^"]+)"', page).group(1)
        return self.client.post("/o/STP", data=self._form(comment, consent, contact)
                                | {"ft": ft}).status_code


ONLINE = ("kiosk_api", "kiosk_form", "receipt_form", "generic_link")
STORED = {"kiosk_api": (201,), "kiosk_form": (303,), "receipt_form": (302,),
          "generic_link": (302,)}


def _stored_comments() -> list[str]:
    db.session.remove()
    return [c for c in db.session.scalars(sa.select(PendingAnswer.comment)) if c]


@pytest.mark.parametrize("channel", ONLINE)
def test_every_channel_masks_comments_before_storing_them(channel_app, channel):
    """Attack: read the stored comments for the phone numbers, ID numbers, e-mail addresses
    and dossier codes citizens wrote. Before, comments were stored as written."""
    send = getattr(Channels(channel_app), channel)
    chunks = corpus_comments()
    for sent, _stored in chunks:
        assert send(comment=sent) in STORED[channel]
    stored = _stored_comments()
    assert Counter(stored) == Counter(s for _sent, s in chunks)
    dump = "\n".join(stored)
    for secret in ("0912345678", "001090001234", "nguyenvana@gmail.com",
                   "000.00.20.H26-220101-0001"):
        assert secret not in dump
    for kept in ("50.000 đồng", "12/11/2026", "8h30", "Quầy số 3", "60%", "192/KH-UBND"):
        assert kept in dump
    release_all()
    assert Counter(c for c in db.session.scalars(sa.select(Response.comment)) if c) == \
        Counter(s for _sent, s in chunks)


def _paper_file(tmp_path: Path, comments: list[str]) -> Path:
    path = tmp_path / "paper.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["office_code", "submitted_at", "comment", *CODES])
        for i, comment in enumerate(comments):
            writer.writerow(["STP", f"2026-10-{1 + i % 28:02d}", comment, *["4"] * len(CODES)])
    return path


def test_paper_rows_are_masked_by_the_import_command(channel_app, tmp_path):
    chunks = corpus_comments()
    path = _paper_file(tmp_path, [sent for sent, _stored in chunks])
    result = channel_app.test_cli_runner().invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output
    stored = [c for c in db.session.scalars(sa.select(Response.comment)) if c]
    assert Counter(stored) == Counter(s for _sent, s in chunks)
    assert "0912345678" not in "".join(stored)


def test_a_city_may_turn_masking_off(make_app, tmp_path):
    """MASK_COMMENTS = False (the city's decision): comments are stored as written, on the
    kiosk API and on paper alike."""
    app = make_app(MASK_COMMENTS=False, KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        db.session.commit()
        text = "Gọi 0912345678 hoặc email an@x.vn"
        assert Channels(app).kiosk_api(comment=text) == 201
        assert _stored_comments() == [text]
        path = _paper_file(tmp_path, [text])
        assert app.test_cli_runner().invoke(
            args=["responses", "import", str(path)]).exit_code == 0
        assert db.session.scalar(sa.select(Response.comment)) == text


# --- contact requests -----------------------------------------------------------------------

CONTACT_COMMENT = "Hồ sơ 000.00.20.H26-220101-0001 trễ hẹn, gọi 0987 654 321 cũng được."
MASKED_COMMENT = "Hồ sơ [đã ẩn] trễ hẹn, gọi [đã ẩn] cũng được."


@pytest.mark.parametrize("channel", ONLINE)
def test_a_request_to_be_contacted_is_stored_apart_from_the_answer(channel_app, channel,
                                                                    backend):
    """Attack: tie a named person's contact to their scores. Before, the contact was not
    taken at all and the comment stayed on the answer (and a contact written into the
    comment was stored with the scores)."""
    send = getattr(Channels(channel_app), channel)
    assert send(comment=CONTACT_COMMENT, consent=True,
                contact="+84 912.345.678") in STORED[channel]
    assert send(comment="Không có gì thêm.") in STORED[channel]  # an anonymous one
    db.session.remove()
    [req] = db.session.scalars(sa.select(ContactRequest)).all()
    office = {"kiosk_api": "BD-KM", "kiosk_form": "BD-KM", "receipt_form": "BD-DB",
              "generic_link": "STP"}[channel]
    assert (req.office_id, req.day, req.comment, req.contact_kind, req.contact,
            req.status) == (get_office(office).id, vn_day(utcnow()), MASKED_COMMENT, "phone",
                            "0912345678", "new")
    # the answer that came with it has no comment; the anonymous one keeps its own
    assert sorted(map(str, db.session.scalars(sa.select(PendingAnswer.comment)))) == [
        "Không có gì thêm.", "None"]
    # nothing in the request points at an answer: no id, no time, no channel or device
    columns = set(ContactRequest.__table__.columns.keys())
    assert columns == {"id", "office_id", "day", "comment", "contact_kind", "contact",
                       "status", "internal_note", "updated_at", "updated_by", "closed_at"}
    assert (req.updated_at, req.updated_by, req.closed_at) == (None, None, None)
    release_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAnswer)) == 0
    assert sorted(map(str, db.session.scalars(sa.select(Response.comment)))) == [
        "Không có gì thêm.", "None"]
    dump = json.dumps([list(map(str, r)) for r in db.session.execute(
        sa.select(Response.__table__)).all()], ensure_ascii=False)
    assert "0912345678" not in dump and "trễ hẹn" not in dump
    if backend == "postgresql":
        # the request was written with the pending answer; the release wrote the answer
        # anew and deleted (and vacuumed) the pending row
        released = {r[0] for r in db.session.execute(sa.text(
            "SELECT xmin::text FROM response"))}
        requests = {r[0] for r in db.session.execute(sa.text(
            "SELECT xmin::text FROM contact_request"))}
        assert requests and not released & requests


def test_a_kiosk_replay_stores_one_request_and_a_refusal_none(channel_app):
    channels = Channels(channel_app)
    sid = str(uuid.uuid4())
    for _ in range(2):
        assert channels.kiosk_api(comment="Xin gọi lại", consent=True, contact="an@x.vn",
                                  id=sid) in (200, 201)
    token = mint_receipt(get_office("BD-DB"), "000.00.20.H26-261130-0999").token
    db.session.remove()
    data = form_data(comment="Lần hai", consent="y", contact="0912345678")
    assert channels.client.post(f"/s/{token}", data=data).status_code == 302
    assert channels.client.post(f"/s/{token}", data=data).status_code == 409  # used
    db.session.remove()
    assert sorted(db.session.scalars(sa.select(ContactRequest.contact))) == [
        "0912345678", "an@x.vn"]


BAD = {
    # (consent, contact) -> the field named
    "contact_without_consent": (None, "0912 345 678", "consent"),
    "consent_without_contact": (True, None, "contact"),
    "consent_with_blank_contact": (True, "   ", "contact"),
    "not_a_contact": (True, "gọi tôi nhé", "contact"),
    "short_number": (True, "0912", "contact"),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("channel", ONLINE)
def test_no_contact_without_consent_and_no_consent_without_contact(channel_app, channel,
                                                                   case):
    """Attack: a contact stored without the citizen's consent (or a ticked box with nothing
    to reach). Before, the kiosk API ignored the fields and stored the answer."""
    consent, contact, field = BAD[case]
    channels = Channels(channel_app)
    if channel == "kiosk_api":
        resp = channels.client.post("/api/v1/responses", json={
            "id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {c: 4 for c in CODES}, "comment": "x", "consent": consent,
            "contact": contact}, headers={"Authorization": f"Bearer {channels.kiosk.credential}"})
        assert resp.status_code == 400 and set(resp.get_json()["fields"]) == {field}
    else:
        data = channels._form("x", consent, contact)
        if channel == "kiosk_form":
            channels.client.set_cookie("sipas_kiosk", channels.kiosk.credential, path="/kiosk")
            resp = channels.client.post("/kiosk/", data=data | {
                "submission_id": str(uuid.uuid4())})
        elif channel == "receipt_form":
            token = mint_receipt(get_office("BD-DB"), "000.00.20.H26-261130-0001").token
            db.session.remove()
            resp = channels.client.post(f"/s/{token}", data=data)
        else:
            page = channels.client.get("/o/STP").get_data(as_text=True)
            ft = re.search(r'name="ft" value="([^"]+)"', page).group(1)
            resp = channels.client.post("/o/STP", data=data | {"ft": ft})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400
        assert set(re.findall(r'data-field="([^"]+)"', html)) == {field}
        assert f'id="q-{field}"' in html  # the summary's link has somewhere to go
        if contact and contact.strip():
            assert f'value="{contact}"' in html  # what the citizen typed is kept
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAnswer)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactRequest)) == 0


def test_the_consent_box_is_never_ticked_in_advance(channel_app):
    channels = Channels(channel_app)
    token = mint_receipt(get_office("BD-DB"), "000.00.20.H26-261130-0002").token
    db.session.remove()
    channels.client.set_cookie("sipas_kiosk", channels.kiosk.credential, path="/kiosk")
    for url in (f"/s/{token}?all=1", "/o/STP?all=1", "/kiosk/"):
        html = channels.client.get(url).get_data(as_text=True)
        box = re.search(r'<input[^>]*name="consent"[^>]*>', html)
        assert box, url
        assert 'type="checkbox"' in box.group() and "checked" not in box.group(), url
        contact = re.search(r'<input[^>]*name="contact"[^>]*>', html).group()
        assert 'autocomplete="off"' in contact, url


def test_the_contact_request_text_is_nfc_and_masked_like_every_comment(channel_app):
    channels = Channels(channel_app)
    decomposed = unicodedata.normalize("NFD", "Gọi số 0912345678 giúp")
    assert channels.kiosk_api(comment=decomposed, consent=True, contact="an@x.vn") == 201
    db.session.remove()
    assert db.session.scalar(sa.select(ContactRequest.comment)) == "Gọi số [đã ẩn] giúp"


def test_no_log_line_carries_a_contact_or_a_comment(make_app, capsys):
    """A log line is a database too: contact requests sent (and refused) through the kiosk
    API and the phone form, read, handled and withdrawn on the comments page, withdrawn by
    the command line; no contact and no comment text in the captured output."""
    from core.services.accounts import create_user

    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        create_user("city", "admin", None, "Hoan-Kiem-lake-1", actor="test", must_change=False)
        db.session.commit()
        capsys.readouterr()
        channels = Channels(app)
        secrets = ["0912345678", "0912 345 678", "an.nguyen@example.vn", "Bí mật riêng",
                   "0987654321", "0987 654 321"]
        assert channels.kiosk_api(comment="Bí mật riêng 0987 654 321", consent=True,
                                  contact="0912 345 678") == 201
        assert channels.kiosk_api(comment="Bí mật riêng", consent=True,
                                  contact="0987 654 321x") == 400
        assert channels.receipt_form(comment="Bí mật riêng", consent=True,
                                     contact="an.nguyen@example.vn") == 302
        assert channels.receipt_form(comment="Bí mật riêng", consent=None,
                                     contact="an.nguyen@example.vn") == 400
        client = channels.client
        assert client.post("/admin/login", data={"username": "city",
                                                 "password": "Hoan-Kiem-lake-1"}
                           ).status_code == 302
        month = utcnow().astimezone(VN_TZ).strftime("%Y-%m")
        page = client.get(f"/admin/comments?office=HN&month={month}").get_data(as_text=True)
        assert "0912345678" in page and "an.nguyen@example.vn" in page
        ids = list(db.session.scalars(sa.select(ContactRequest.id).order_by(ContactRequest.id)))
        assert client.post(f"/admin/requests/{ids[0]}", data={
            f"r{ids[0]}-status": "answered", f"r{ids[0]}-internal_note": "Bí mật riêng"}
        ).status_code == 302
        assert client.post(f"/admin/requests/{ids[0]}/withdraw").status_code == 302
        result = app.test_cli_runner().invoke(
            args=["comments", "withdraw", "--contact", "an.nguyen@example.vn"])
        assert result.exit_code == 0
        db.session.remove()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ContactRequest)) == 0
    out = capsys.readouterr()
    logged = out.out + out.err
    assert logged.count('"logger": "sipas.access"') >= 8  # the flows were logged
    assert [s for s in secrets if s in logged] == []

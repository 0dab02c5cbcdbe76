"""Optional questions stay optional (Law 91/2025/QH15: a citizen may refuse), through the
Flask test client: the comment, the improvement wishes and the questions about the citizen
say "không bắt buộc", no answer is pre-selected on any survey form, skipping them never
blocks sending, and a citizen who refuses the questions about them is not asked them again
in that run and nothing about them is stored."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import PendingAnswer
from core.questionnaire import REFUSE_DEMOGRAPHICS, field_name
from core.services import kiosks as kiosk_service
from core.services.common import get_instrument
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from tests.conftest import SMALL_TREE


@pytest.fixture
def instrument(surveys):
    return get_instrument("hanoi-2022")


@pytest.fixture
def surveys(make_app):
    """A client holding a kiosk's device cookie (no per-kiosk rate limit), and a function
    giving a fresh receipt link."""
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 3", with_credential=True)
        client = app.test_client()
        client.set_cookie("sipas_kiosk", kiosk.credential, path="/kiosk")

        def receipt() -> str:
            return "/s/" + mint_receipt(get_office("BD-KM"), str(uuid.uuid4())).token

        yield client, receipt, kiosk


def criteria(instrument, score: str = "4", skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {field_name(c.code): score for c in instrument.criteria if c.code not in skip}


def ft(page: str) -> dict[str, str]:
    """The generic link's one-time form token, when the page has one."""
    match = re.search(r'name="ft" value="([^"]+)"', page)
    return {"ft": match.group(1)} if match else {}


def pending() -> list[PendingAnswer]:
    db.session.remove()
    return list(db.session.scalars(sa.select(PendingAnswer).order_by(PendingAnswer.id)))


def test_no_answer_is_preselected_on_any_survey_form(surveys):
    client, receipt, _kiosk = surveys
    for url in ("/kiosk/", receipt(), "/o/BD-KM"):
        for lang in ("vi", "en"):
            page = client.get(f"{url}?lang={lang}").get_data(as_text=True)
            assert 'type="radio"' in page, url
            assert "checked" not in page, (url, lang)  # no radio, no "I do not want" box


def test_optional_questions_say_they_are_optional(surveys, instrument):
    client, receipt, _kiosk = surveys
    for url in (receipt(), "/o/BD-KM"):  # the whole questionnaire on one page
        page = client.get(url + "?all=1").get_data(as_text=True)
        assert "Ý kiến góp ý của Ông/Bà (không bắt buộc)" in page
        assert "Ý kiến khác (không bắt buộc)" in page
        assert "Thông tin về Ông/Bà (không bắt buộc)" in page
        assert "Các câu hỏi này không bắt buộc" in page
        assert "Tôi không muốn trả lời các câu hỏi này" in page
        for q in instrument.demographics:
            assert f'name="d_{q.code}"' in page
        en = client.get(url + "?all=1&lang=en").get_data(as_text=True)
        assert "About you (optional)" in en and "I do not want to answer these questions" in en
    kiosk = client.get("/kiosk/").get_data(as_text=True)
    assert "Ý kiến góp ý của Ông/Bà (không bắt buộc)" in kiosk
    assert "Ý kiến khác (không bắt buộc)" in kiosk
    assert 'name="d_' not in kiosk  # the tablet does not ask the questions about the citizen


def test_skipping_every_optional_question_never_blocks_sending(surveys, instrument):
    client, receipt, kiosk = surveys
    only_ratings = criteria(instrument)
    assert client.post(receipt(), data=only_ratings).status_code == 302
    page = client.get("/o/BD-KM").get_data(as_text=True)
    assert client.post("/o/BD-KM", data=only_ratings | ft(page)).status_code == 302
    sent = client.post("/kiosk/", data=only_ratings | {"submission_id": str(uuid.uuid4())})
    assert sent.status_code == 303
    api = client.post("/api/v1/responses",
                      headers={"Authorization": f"Bearer {kiosk.credential}"},
                      json={"id": str(uuid.uuid4()), "instrument": instrument.id,
                            "answers": {c.code: 4 for c in instrument.criteria}})
    assert api.status_code == 201
    stored = pending()
    assert [(p.channel, p.comment, p.expectations, p.demographics) for p in stored] == [
        ("qr", None, None, None), ("generic", None, None, None),
        ("kiosk", None, None, None), ("kiosk", None, None, None)]


def test_answers_about_the_citizen_are_kept_when_given(surveys, instrument):
    """The control case of the next test: without refusing, what is chosen is stored."""
    client, receipt, _kiosk = surveys
    sent = client.post(receipt(), data=criteria(instrument) | {"d_age": "60+"})
    assert sent.status_code == 302
    assert pending()[0].demographics == {"age": "60+"}


@pytest.mark.parametrize("channel", ["receipt", "generic"])
def test_refusing_the_questions_about_the_citizen_drops_them_for_the_rest_of_the_run(
        surveys, instrument, channel):
    client, receipt, _kiosk = surveys
    url = receipt() if channel == "receipt" else "/o/BD-KM"
    first = client.get(url).get_data(as_text=True)
    # the citizen picked an age, then chose "I do not want to answer", and left one rating
    # out: the page comes back for that rating, without the questions about them
    data = criteria(instrument, skip=("II.2",)) | ft(first) | {
        "d_age": "60+", "d_gender": "female", REFUSE_DEMOGRAPHICS: "y"}
    again = client.post(url, data=data)
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert 'href="#q-c_II_2"' in page  # the missing rating is what is asked
    assert 'name="d_' not in page  # the questions about the citizen are not asked again
    assert "Ông/Bà đã chọn không trả lời các câu hỏi về bản thân" in page
    assert f'name="{REFUSE_DEMOGRAPHICS}" value="y"' in page  # the refusal is carried on
    assert "60+" not in page and pending() == []

    # sent again from that page (the refusal and, from an old copy, an answer about them)
    data = criteria(instrument) | ft(page) | {REFUSE_DEMOGRAPHICS: "y", "d_age": "60+"}
    assert client.post(url, data=data).status_code == 302
    [stored] = pending()
    assert stored.demographics is None and stored.answers == "4" * len(instrument.criteria)


def test_a_refusal_with_unknown_answers_about_the_citizen_is_not_an_error(surveys,
                                                                         instrument):
    """Refused answers are not judged at all: even a value the rules would refuse cannot
    block a citizen who said they do not want to answer."""
    client, receipt, _kiosk = surveys
    url = receipt()
    refused = client.post(url, data=criteria(instrument) | {
        "d_age": "not-an-option", REFUSE_DEMOGRAPHICS: "y"})
    assert refused.status_code == 302
    assert pending()[0].demographics is None

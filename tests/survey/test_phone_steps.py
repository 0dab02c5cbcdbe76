"""The phone survey one dimension per step, through the Flask test client (no JavaScript):
progress, earlier answers carried in a signed field (no server-side state), a missing answer
kept on its step, back and forth, a forged carry refused, and the one door at the end."""

from __future__ import annotations

import html as htmllib
import io
import re

import pytest

from core.questionnaire import field_name
from core.services.common import get_instrument
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from tests.conftest import SMALL_TREE
from tests.kiosk.helpers import Client
from tests.survey.test_phone_survey import ANSWERED, CODE, answered, csrf_from, form_token_from


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return htmllib.unescape(match.group(1))


def step_data(instrument, html: str, dim: int, score: str = "4", **extra) -> dict[str, str]:
    data = {field_name(c.code): score for c in instrument.dimensions[dim - 1].criteria}
    data.update(step=hidden(html, "step"), carry=hidden(html, "carry"),
                csrf_token=csrf_from(html), nav="next")
    data.update(extra)
    return data


@pytest.fixture
def csrf_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        yield app


@pytest.fixture
def instrument(csrf_app):
    """(Not the shared fixture: that one builds another app, which on PostgreSQL empties the
    tables this one filled.)"""
    return get_instrument("hanoi-2022")


def test_steps_carry_answers_and_send_once(csrf_app, instrument):
    token = mint_receipt(get_office("BD-KM"), CODE).token
    client = Client(csrf_app)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Phần 1/6" in page and "<script" not in page
    names = [field_name(c.code) for c in instrument.criteria]
    assert [n for n in names if f'name="{n}"' in page] == names[:4]  # dimension I only
    assert "khoảng 3 đến 4 phút" in page

    # a missing answer: the same step again, the message beside it, the others kept
    data = step_data(instrument, page, 1)
    del data[field_name("I.3")]
    resp = client.post(f"/s/{token}", data=data)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Phần 1/6" in page and page.count("checked") == 3
    block = page[page.index('id="q-c_I_3"'):]
    assert 'class="field-error"' in block[:block.index("</fieldset>")]

    page = client.post(f"/s/{token}", data=step_data(instrument, page, 1, "5")).get_data(
        as_text=True)
    assert "Phần 2/6" in page and f'name="{field_name("II.1")}"' in page
    assert f'name="{field_name("I.1")}"' not in page  # carried, not shown
    # back: dimension I comes back with its answers
    back = client.post(f"/s/{token}", data=step_data(instrument, page, 2, "3", nav="back"))
    page_back = back.get_data(as_text=True)
    assert "Phần 1/6" in page_back and page_back.count("checked") == 4
    # forward again: II kept its answers through the back step
    page = client.post(f"/s/{token}", data=step_data(instrument, page_back, 1, "5")).get_data(
        as_text=True)
    assert "Phần 2/6" in page and page.count("checked") == 5
    for dim in range(2, 6):
        page = client.post(f"/s/{token}", data=step_data(instrument, page, dim, "4")).get_data(
            as_text=True)
    assert "Phần 6/6" in page and "Gửi đánh giá" in page and 'name="comment"' in page

    # a carried answer changed on the way is refused (the signature)
    forged = {"step": "6", "carry": hidden(page, "carry")[:-3] + "abc", "nav": "send",
              "csrf_token": csrf_from(page)}
    resp = client.post(f"/s/{token}", data=forged)
    assert resp.status_code == 400 and answered() == 0

    done = client.post(f"/s/{token}", data={"step": "6", "carry": hidden(page, "carry"),
                                            "csrf_token": csrf_from(page), "nav": "send",
                                            "comment": "Nhanh gọn"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/survey/thanks")
    assert answered() == 1
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import PendingAnswer

    row = db.session.scalar(sa.select(PendingAnswer))
    assert row.answers == "5555" + "4" * 20 and row.comment == "Nhanh gọn"
    # answered, expired and forged-link pages are unchanged
    again = client.get(f"/s/{token}")
    assert again.status_code == 409 and ANSWERED in again.get_data(as_text=True)
    assert client.get("/s/not-a-token").status_code == 404


def test_send_with_an_earlier_step_incomplete_goes_back_to_it(csrf_app, instrument):
    token = mint_receipt(get_office("BD-KM"), CODE).token
    client = Client(csrf_app)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    # a hand-made post jumping to the end: the first incomplete step is shown
    resp = client.post(f"/s/{token}", data={"step": "6", "carry": "", "nav": "send",
                                            "csrf_token": csrf_from(page)})
    assert resp.status_code == 400 and "Phần 1/6" in resp.get_data(as_text=True)
    assert answered() == 0


def test_generic_link_steps_keep_the_form_token(csrf_app, instrument):
    client = Client(csrf_app)
    page = client.get("/o/BD-KM").get_data(as_text=True)
    ft = form_token_from(page)
    for dim in range(1, 6):
        page = client.post("/o/BD-KM", data=step_data(instrument, page, dim, "3", ft=ft)
                           ).get_data(as_text=True)
        assert form_token_from(page) == ft
    done = client.post("/o/BD-KM", data={"step": "6", "carry": hidden(page, "carry"), "ft": ft,
                                         "csrf_token": csrf_from(page), "nav": "send"})
    assert done.status_code == 302 and answered() == 1

"""The one door: the rules every response must pass, the same on every channel.

The parametrised test at the end sends the same bad inputs through every entry point (the
kiosk API, the kiosk's no-JavaScript form, the receipt form, the generic link and a paper
row) and asserts the same domain error code and field key from each, with nothing stored.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core.errors import NotAllowed
from core.extensions import db
from core.models import MonthlyTally, Response
from core.questionnaire import field_name
from core.services import intake
from core.services import kiosks as kiosk_service
from core.services.imports import import_path
from core.services.intake import NothingAnswered, ValidationFailed, clean_response
from core.services.offices import ImportFailed, get_office, import_offices
from core.services.receipts import ReceiptDoor, mint_receipt
from tests.conftest import SMALL_TREE
from tests.helpers import CODES


@pytest.mark.parametrize("answers, field", [
    ({"VI.1": 3}, "answers.VI.1"),
    ({"I.1": 6}, "answers.I.1"),
    ({"I.1": 0}, "answers.I.1"),
    ({"I.1": "5"}, "answers.I.1"),
    ({"I.1": True}, "answers.I.1"),
    ({"I.1": 4.5}, "answers.I.1"),
    ({"I.1": None, "I.2": None}, "answers"),
    ({}, "answers"),
    (["I.1", 5], "answers"),
])
def test_invalid_answers_are_rejected_with_the_field_named(app, instrument, answers, field):
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, answers)
    assert field in err.value.fields
    nothing_answered = isinstance(answers, dict) and all(v is None for v in answers.values())
    assert err.value.code == ("empty" if nothing_answered else "invalid")


def test_optional_parts_are_validated(app, instrument):
    ok = clean_response(instrument, {"I.1": 4}, comment="  Tốt  ", procedure="Chứng thực",
                        expectations={"digital": 3, "attitude": None},
                        demographics={"age": "60+", "gender": ""})
    assert ok.comment == "Tốt" and ok.expectations == {"digital": 3}
    assert ok.demographics == {"age": "60+"}
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, {"I.1": 4}, comment="x" * 2001,
                       expectations={"weather": 3, "digital": 9}, demographics={"age": "99"})
    assert set(err.value.fields) == {"comment", "expectations.weather", "expectations.digital",
                                     "demographics.age"}


def test_text_rules_are_one_function_for_every_text_field(app):
    limit = intake.limits()
    assert intake.clean_text("  Tốt lắm\nCảm ơn  ", limit.comment) == ("Tốt lắm\nCảm ơn", None)
    assert intake.clean_text("   ", limit.comment) == (None, None)
    for bad in ("a\x00b", "\ud800", "a\ufffdb", "a\x1bb", 5, ["x"]):
        text, problem = intake.clean_text(bad, limit.comment)
        assert text is None and problem, bad
    assert intake.clean_text("x" * limit.comment, limit.comment)[1] is None
    assert intake.clean_text("x" * (limit.comment + 1), limit.comment)[1]


def test_the_comment_limit_comes_from_the_configuration(make_app, instrument):
    app = make_app(COMMENT_MAX_LENGTH=10)
    with app.app_context():
        assert intake.limits().comment == 10
        with pytest.raises(ValidationFailed) as err:
            clean_response(instrument, {"I.1": 4}, comment="x" * 11)
        assert set(err.value.fields) == {"comment"}


def test_expectation_levels_of_the_wrong_type_are_a_field_error(app, instrument):
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, {"I.1": 4}, expectations={"information": [3]})
    assert set(err.value.fields) == {"expectations.information"}


def test_a_form_needs_a_choice_for_every_criterion_other_channels_do_not(app, instrument):
    with pytest.raises(ValidationFailed) as err:
        clean_response(instrument, {"I.1": 4}, every_criterion=True)
    assert set(err.value.fields) == {f"answers.{c}" for c in CODES if c != "I.1"}
    assert clean_response(instrument, {"I.1": 4}).answers == "4" + "0" * 23


def test_nothing_answered_is_one_error_whatever_else_is_filled_in(app, instrument):
    with pytest.raises(NothingAnswered) as err:
        clean_response(instrument, {c: None for c in CODES}, comment="Rất tốt",
                       expectations={"digital": 3})
    assert err.value.code == "empty" and set(err.value.fields) == {"answers"}


@dataclass
class Outcome:
    """What a channel answered: the domain error code and field keys, or stored."""

    code: str | None
    fields: set[str]


def test_an_office_that_stopped_collecting_is_refused_by_the_door(app, offices, instrument):
    token = mint_receipt(offices["BD-KM"], "000.00.20.H26-261128-0009").token
    offices["BD-KM"].active = False
    db.session.commit()
    with pytest.raises(NotAllowed) as err:
        intake.submit(ReceiptDoor(token), intake.RawSubmission({"I.1": 4}))
    assert err.value.code == "office_inactive"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


# --- the same inputs through every entry point ----------------------------------------------

#: case -> (what to change in a valid submission, expected code, expected field key)
CASES = {
    "nul": ({"comment": "Cán bộ\x00 tốt"}, "invalid", "comment"),
    "all_no_answer": ({"answers": {c: None for c in CODES}}, "empty", "answers"),
    "score_6": ({"answers": {"I.1": 6}}, "invalid", "answers.I.1"),
    "long_comment": ({"comment": "x" * 2001}, "invalid", "comment"),
    "unknown_criterion": ({"answers": {"IX.9": 3}}, "invalid", "answers.IX.9"),
    "lone_surrogate": ({"comment": "\ud800"}, "invalid", "comment"),
}
#: a lone surrogate cannot be in a UTF-8 file: a paper file with one is refused as not UTF-8
NOT_APPLICABLE = {("paper", "lone_surrogate")}


def _answers(change: dict) -> dict:
    answers = {c: 4 for c in CODES}
    answers.update(change.get("answers", {}))
    return answers


def _from_page(resp) -> Outcome:
    html = resp.get_data(as_text=True)
    code = re.search(r'data-error="([^"]+)"', html)
    return Outcome(code and code.group(1), set(re.findall(r'data-field="([^"]+)"', html)))


def _form_body(change: dict, extra: dict[str, str]) -> bytes:
    """A urlencoded form body, built by hand so that a lone surrogate goes out as the bytes
    a browser would send for it (invalid UTF-8)."""
    pairs = [(field_name(code), "0" if v is None else str(v))
             for code, v in _answers(change).items()]
    pairs += list(extra.items())

    def enc(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    body = "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)
    if "comment" in change:
        body += "&comment=" + enc(change["comment"])
    return body.encode("ascii")


FORM = "application/x-www-form-urlencoded"


def via_kiosk_api(app, change) -> Outcome:
    kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
    body = {"id": str(uuid.uuid4()), "instrument": "hanoi-2022", "answers": _answers(change)}
    if "comment" in change:
        body["comment"] = change["comment"]
    db.session.remove()
    raw = json.dumps(body, ensure_ascii=True)  # "\ud800" travels as the JSON escape
    resp = app.test_client().post("/api/v1/responses", data=raw, content_type="application/json",
                                  headers={"Authorization": f"Bearer {kiosk.credential}"})
    assert resp.status_code == 400, resp.get_json()
    data = resp.get_json()
    return Outcome(data["error"], set(data.get("fields", {})))


def via_kiosk_form(app, change) -> Outcome:
    kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
    db.session.remove()
    client = app.test_client()
    client.set_cookie("sipas_kiosk", kiosk.credential, path="/kiosk")
    resp = client.post("/kiosk/", data=_form_body(change, {"submission_id": str(uuid.uuid4())}),
                       content_type=FORM)
    assert resp.status_code == 400
    return _from_page(resp)


def via_receipt_form(app, change) -> Outcome:
    token = mint_receipt(get_office("BD-DB"), "000.00.20.H26-261128-0001").token
    db.session.remove()
    resp = app.test_client().post(f"/s/{token}", data=_form_body(change, {}), content_type=FORM)
    assert resp.status_code == 400
    return _from_page(resp)


def via_generic_link(app, change) -> Outcome:
    client = app.test_client()
    page = client.get("/o/STP").get_data(as_text=True)
    ft = re.search(r'name="ft" value="([^"]+)"', page).group(1)
    resp = client.post("/o/STP", data=_form_body(change, {"ft": ft}), content_type=FORM)
    assert resp.status_code == 400
    return _from_page(resp)


def via_paper(app, change, tmp_path) -> Outcome:
    answers = _answers(change)
    header = ["office_code", "submitted_at", "comment", *answers]
    cells = ["" if v is None else str(v) for v in answers.values()]
    row = ["STP", "2022-07-05", change.get("comment", ""), *cells]
    path = tmp_path / "paper.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        import csv

        csv.writer(f).writerows([header, row])
    from core.services.common import get_instrument

    with pytest.raises(ImportFailed) as err:
        import_path(path, get_instrument("hanoi-2022"), actor="test")
    codes = {e.code for e in err.value.errors}
    assert len(codes) == 1, err.value.errors
    return Outcome(codes.pop(), {e.field for e in err.value.errors})


CHANNELS = {"kiosk_api": via_kiosk_api, "kiosk_form": via_kiosk_form,
            "receipt_form": via_receipt_form, "generic_link": via_generic_link,
            "paper": via_paper}


@pytest.mark.parametrize("channel", list(CHANNELS))
@pytest.mark.parametrize("case", list(CASES))
def test_the_same_input_gets_the_same_error_from_every_channel(make_app, tmp_path, case,
                                                               channel):
    if (channel, case) in NOT_APPLICABLE:
        pytest.skip("a lone surrogate cannot be written in a UTF-8 file")
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    change, code, key = CASES[case]
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        db.session.commit()
        via = CHANNELS[channel]
        outcome = via(app, change, tmp_path) if channel == "paper" else via(app, change)
        db.session.remove()
        assert outcome == Outcome(code, {key}), (case, channel)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyTally)) == 0

"""Every JSON field of every write endpoint, replaced by arbitrary JSON (Hypothesis): never a
5xx, and a refusal is a 400 naming the field. Lone surrogates, NUL, huge numbers, NaN, nested
lists and objects where text or numbers are expected, timestamps at the ends of the
calendar.

Complements the schema-driven fuzzer (tests/security/test_api_fuzz.py), which generates what
the OpenAPI document describes; this one starts from a valid body and breaks one field at a
time, including with values (lone surrogates) that schema-driven generation does not make.

Derandomized with a modest example count, so CI explores the same examples every run;
SIPAS_FUZZ_RANDOM=1 explores new ones on a developer's machine."""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from core.services.receipts import create_api_key
from tests.helpers import CODES
from tools.sample_data import SMALL_TREE

MAX_EXAMPLES = 50  # per endpoint
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                derandomize=os.environ.get("SIPAS_FUZZ_RANDOM") != "1",
                suppress_health_check=list(HealthCheck))

TRICKY_TEXT = ["\ud800", "\udfff", "a\ud83db", "a\x00b", "\x00", "\u0000\ud800", "\x1b[31m",
               "\ufffd", "", " ", "NaN", "null", "hanoi-2022", "BD-KM", "HN\x00", "x" * 3000,
               "9999-12-31T23:00:00-14:00", "0001-01-01T00:02:01+01:01", "0001-01-01",
               "2026-13-40T25:61:61", "I.1", "information", "\u0301" * 50, "😀" * 10]
text = st.one_of(st.sampled_from(TRICKY_TEXT),
                 st.text(st.characters(exclude_categories=()), max_size=40),
                 st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=5))
scalars = st.one_of(st.none(), st.booleans(),
                    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                    st.floats(allow_nan=True, allow_infinity=True), text)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)), max_leaves=8)


def mapping_of(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects keyed by known codes (and other text), any values."""
    return st.dictionaries(st.one_of(st.sampled_from(keys), text), json_values, max_size=5)


DELETE = object()  # the field is left out of the body


@pytest.fixture
def targets(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, KIOSK_BURST_COUNT=10 ** 6)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        _row, key = create_api_key("BD-KM")
    return app, {"Authorization": f"Bearer {kiosk.credential}"}, {"Authorization": f"Bearer {key}"}


def post(client, path: str, body: Any, headers: dict[str, str]):
    data = json.dumps(body, ensure_ascii=True, allow_nan=True)  # "\ud800" travels escaped
    return client.post(path, data=data, content_type="application/json", headers=headers)


def check(resp, field: str) -> None:
    """No 5xx; a 400 is JSON and, when it names fields, names the broken one."""
    assert resp.status_code < 500, (field, resp.status_code, resp.get_data(as_text=True)[:500])
    if resp.status_code == 400:
        data = resp.get_json()
        assert data and data["error"], resp.get_data(as_text=True)
        named = set(data.get("fields") or {})
        if named and field != "body":
            assert any(k == field or k.startswith(field + ".") for k in named), (field, data)


def run_field_fuzz(client, path: str, headers: dict[str, str], valid: Callable[[], dict],
                   fields: dict[str, st.SearchStrategy[Any]]) -> None:
    pairs = st.one_of(*[st.tuples(st.just(name), st.one_of(strategy, st.just(DELETE)))
                        for name, strategy in fields.items()],
                      st.tuples(st.just("body"), json_values))

    @given(pair=pairs)
    @FUZZ
    def fuzz(pair: tuple[str, Any]) -> None:
        name, value = pair
        if name == "body":
            body: Any = value
        else:
            body = valid()
            if value is DELETE:
                body.pop(name, None)
            else:
                body[name] = value
        check(post(client, path, body, headers), name)

    fuzz()


def valid_response() -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {c: 4 for c in CODES}, "comment": "Tốt",
            "consent": True, "contact": "0912 345 678",
            "expectations": {"digital": 3}, "demographics": None,
            "started_at": "2026-11-28T09:00:00+07:00",
            "submitted_at": "2026-11-28T09:05:00+07:00"}


def test_kiosk_submission_fields(targets):
    app, kiosk, _key = targets
    client = app.test_client()
    # the cases the issue reported as 500s (now refused by the intake's rules)
    for field, value in (("comment", "\ud800"), ("expectations", {"information": [3]})):
        resp = post(client, "/api/v1/responses", valid_response() | {field: value}, kiosk)
        assert resp.status_code == 400, resp.get_json()
        assert {k.split(".")[0] for k in resp.get_json()["fields"]} == {field}
    areas = ["information", "digital", "attitude", "time", "cost", "procedure"]
    run_field_fuzz(client, "/api/v1/responses", kiosk, valid_response, {
        "id": st.one_of(json_values, st.uuids().map(str)),
        "instrument": json_values,
        "answers": st.one_of(json_values, mapping_of(CODES)),
        "comment": json_values,
        "consent": json_values,
        "contact": st.one_of(json_values, st.sampled_from(
            ["+84 912 345 678", "an@x.vn", "0912", "an@", "0912345678\x00"])),
        "expectations": st.one_of(json_values, mapping_of(areas)),
        "demographics": st.one_of(json_values, mapping_of(["age", "sex", "education"])),
        "started_at": json_values,
        "submitted_at": json_values,
    })


def test_receipt_request_fields(targets):
    app, _kiosk, key = targets
    client = app.test_client()
    resp = post(client, "/api/v1/receipts", {"dossier_code": "000.00.20.H26-9",
                                             "procedure": "\ud800"}, key)
    assert resp.status_code == 400 and set(resp.get_json()["fields"]) == {"procedure"}
    counter = iter(range(10 ** 9))
    run_field_fuzz(client, "/api/v1/receipts", key,
                   lambda: {"dossier_code": f"000.00.20.H26-{next(counter)}",
                            "office_code": "BD-KM", "procedure": "Cấp giấy phép"},
                   {"dossier_code": json_values, "office_code": json_values,
                    "procedure": json_values})


def test_kiosk_heartbeat_fields(targets):
    app, kiosk, _key = targets
    run_field_fuzz(app.test_client(), "/api/v1/kiosk/heartbeat", kiosk,
                   lambda: {"pending": 0, "rejected": 0},
                   {"pending": json_values, "rejected": json_values})


@example(value="\ud800")
@given(value=json_values)
@FUZZ
def test_json_values_encode(value):
    """The generator makes JSON a client can send (guards the strategies above)."""
    json.dumps(value, ensure_ascii=True, allow_nan=True)

"""POST /api/v1/responses and the kiosk heartbeat through the Flask test client: every status
code, idempotent replay, revocation, per-kiosk rate limit, the client clock window, burst
flagging, and that a rejected request stores nothing. Replies are validated against the
published OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, MonthlyChannelCount, MonthlyTally, Office, Response
from core.services import kiosks as kiosk_service
from core.services.mixing import day_start, vn_day
from core.services.offices import get_office
from tests.helpers import release_all
from tests.kiosk.helpers import API, Client, auth, body, count, load_offices


@pytest.fixture
def kapp(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        yield app


@pytest.fixture
def kiosk(kapp, offices):
    return kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 3", with_credential=True)


@pytest.fixture
def kclient(kapp):
    return Client(kapp)


def as_json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable: true`` becomes a ``null`` type."""
    if isinstance(node, dict):
        out = {k: as_json_schema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in node:
            out["type"] = [node["type"], "null"]
        return out
    if isinstance(node, list):
        return [as_json_schema(v) for v in node]
    return node


class OpenAPI:
    """Validate real replies (and the requests we send) against /api/v1/openapi.json."""

    def __init__(self, client):
        resp = client.get("/api/v1/openapi.json")
        assert resp.status_code == 200
        self.doc = as_json_schema(resp.get_json())

    def check(self, path: str, resp, method: str = "post") -> None:
        op = self.doc["paths"][path][method]
        assert str(resp.status_code) in op["responses"], resp.status_code
        schema = op["responses"][str(resp.status_code)]["content"]["application/json"]["schema"]
        full = {**schema, "components": self.doc["components"]}
        jsonschema.validate(resp.get_json(), full)

    def check_request(self, path: str, payload) -> None:
        schema = self.doc["paths"][path]["post"]["requestBody"]["content"][
            "application/json"]["schema"]
        jsonschema.validate(payload, {**schema, "components": self.doc["components"]})


@pytest.fixture
def spec(kclient):
    return OpenAPI(kclient)


def test_201_stores_once_and_200_replay_changes_nothing(kclient, kiosk, spec):
    payload = body(comment="  Cán bộ nhiệt tình  ", expectations={"digital": 3},
                   started_at="2026-11-28T08:00:00+07:00")
    spec.check_request(API, payload)
    r1 = kclient.post(API, json=payload, headers=auth(kiosk))
    assert r1.status_code == 201, r1.get_json()
    assert r1.get_json() == {"id": payload["id"], "created": True, "flags": []}
    spec.check(API, r1)
    tallies_before = db.session.execute(sa.select(MonthlyTally.criterion, MonthlyTally.n5)
                                        ).all()

    changed = dict(payload, answers={"I.1": 1})
    r2 = kclient.post(API, json=changed, headers=auth(kiosk))
    assert r2.status_code == 200 and r2.get_json()["created"] is False
    spec.check(API, r2)
    assert count() == 1 and count(Response) == 0  # acknowledged, pending until released
    release_all()
    # a copy re-sent after the release is still recognised
    r3 = kclient.post(API, json=payload, headers=auth(kiosk))
    assert r3.status_code == 200 and r3.get_json() == {"id": payload["id"], "created": False,
                                                         "flags": []}
    assert count() == 1
    row = db.session.scalar(sa.select(Response))
    # the submission id stays with the tablet: the released answer has an id of its own
    assert row.uuid != payload["id"] and row.channel == "kiosk" and row.counted
    assert row.answers[0] == "5" and row.comment == "Cán bộ nhiệt tình"
    assert row.expectations == {"digital": 3}
    assert row.office_id == kiosk.kiosk.office_id
    assert tallies_before == []  # nothing was counted before the release
    assert db.session.scalar(sa.select(MonthlyChannelCount.responses)) == 1


@pytest.mark.parametrize("payload, field", [
    (body(answers={"IX.9": 3}), "answers.IX.9"),            # unknown criterion
    (body(answers={"I.1": 6}), "answers.I.1"),              # outside 1-5
    (body(answers={"I.1": 0}), "answers.I.1"),
    (body(answers={"I.1": "5"}), "answers.I.1"),            # wrong type
    (body(answers={"I.1": True}), "answers.I.1"),
    (body(answers={"I.1": 4.5}), "answers.I.1"),
    (body(answers=[5, 4]), "answers"),                      # not an object
    ({k: v for k, v in body().items() if k != "answers"}, "answers"),  # missing
    (body(answers={"I.1": None, "I.2": None}), "answers"),  # nothing answered
    (body(instrument="hanoi-2099"), "instrument"),          # instrument mismatch
    (body(instrument=None), "instrument"),
    (body(id="not-a-uuid"), "id"),
    (body(id=None), "id"),
    (body(submitted_at="yesterday"), "submitted_at"),
    (body(submitted_at=12345), "submitted_at"),
    (body(comment=["x"]), "comment"),
    (body(comment="x" * 2001), "comment"),
    (body(expectations={"digital": 9}), "expectations.digital"),
    (body(demographics={"age": "200+"}), "demographics.age"),
])
def test_400_names_the_field_and_stores_nothing(kclient, kiosk, spec, payload, field):
    r = kclient.post(API, json=payload, headers=auth(kiosk))
    assert r.status_code == 400, r.get_json()
    data = r.get_json()
    nothing_answered = payload.get("answers") == {"I.1": None, "I.2": None}
    assert data["error"] == ("empty" if nothing_answered else "invalid"), data
    assert field in data["fields"], data
    spec.check(API, r)
    assert count() == 0 and count(MonthlyTally) == 0


def test_400_for_a_json_array_and_for_broken_json(kclient, kiosk, spec):
    r = kclient.post(API, json=[1, 2], headers=auth(kiosk))
    assert r.status_code == 400 and "body" in r.get_json()["fields"]
    spec.check(API, r)
    r = kclient.post(API, data="{not json", headers={**auth(kiosk),
                                                     "Content-Type": "application/json"})
    # refused by the app-wide body guard (core/http.py) or, without it, by the kiosk API
    assert r.status_code == 400 and r.get_json()["error"] in ("bad_request", "invalid_json")
    spec.check(API, r)
    deep = '{"id": "x", "answers": ' + "[" * 40 + "]" * 40 + "}"
    r = kclient.post(API, data=deep, headers={**auth(kiosk), "Content-Type": "application/json"})
    assert r.status_code == 400
    spec.check(API, r)
    assert count() == 0


def test_error_messages_are_vietnamese_by_default(kclient, kiosk):
    r = kclient.post(API, json=body(answers={"I.1": 9}), headers=auth(kiosk))
    assert "từ 1 đến 5" in r.get_json()["fields"]["answers.I.1"]


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer "}, {"Authorization": "Bearer sk_wrong"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
])
def test_401_without_a_valid_credential(kclient, kiosk, spec, headers):
    r = kclient.post(API, json=body(), headers=headers)
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"
    spec.check(API, r)
    assert count() == 0


def test_revoked_kiosk_is_refused_at_once(kclient, kiosk, spec):
    assert kclient.post(API, json=body(), headers=auth(kiosk)).status_code == 201
    info = kiosk_service.revoke_kiosk(kiosk.kiosk.id, actor="tester")
    assert info.status == "revoked"
    r = kclient.post(API, json=body(), headers=auth(kiosk))
    assert r.status_code == 401
    spec.check(API, r)
    r = kclient.post("/api/v1/kiosk/heartbeat", json={"pending": 0}, headers=auth(kiosk))
    assert r.status_code == 401
    assert count() == 1
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["kiosk.add", "kiosk.revoke"]


def test_a_paused_kiosk_still_delivers_its_queued_answers(kclient, kiosk, spec):
    """Pausing stops new citizens at the tablet, never what it already holds: the API
    keeps accepting its submissions, stored and counted like any other."""
    info = kiosk_service.pause_kiosk(kiosk.kiosk.id, paused=True, actor="tester")
    assert info.status == "paused"
    queued = body(answers={"I.1": 5, "I.2": 5})
    r = kclient.post(API, json=queued, headers=auth(kiosk))
    assert r.status_code == 201 and r.get_json()["created"] is True
    spec.check(API, r)
    assert kclient.post(API, json=queued, headers=auth(kiosk)).status_code == 200  # re-sent
    release_all()
    row = db.session.scalar(sa.select(Response))
    assert (row.channel, row.counted) == ("kiosk", True)
    assert db.session.scalar(sa.select(MonthlyChannelCount.responses)) == 1


def test_heartbeat_says_paused_until_resumed(kclient, kiosk, spec):
    path = "/api/v1/kiosk/heartbeat"
    r = kclient.post(path, json={"pending": 0}, headers=auth(kiosk))
    assert r.status_code == 200 and r.get_json()["paused"] is False
    kiosk_service.pause_kiosk(kiosk.kiosk.id, paused=True, actor="tester")
    r = kclient.post(path, json={"pending": 2}, headers=auth(kiosk))
    assert r.status_code == 200 and r.get_json()["paused"] is True
    spec.check(path, r)
    info = kiosk_service.list_kiosks([kiosk.kiosk.office_id])[0]
    assert info.pending_reported == 2 and info.last_seen_at is not None  # still recorded
    kiosk_service.pause_kiosk(kiosk.kiosk.id, paused=False, actor="tester")
    r = kclient.post(path, json={"pending": 0}, headers=auth(kiosk))
    assert r.get_json()["paused"] is False
    spec.check(path, r)


def test_413_for_a_body_over_the_limit(kclient, kiosk, spec):
    payload = body(comment="a" * 40_000)
    r = kclient.post(API, json=payload, headers=auth(kiosk))
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"
    spec.check(API, r)
    assert count() == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
def test_415_when_not_json(kclient, kiosk, spec, content_type):
    headers = auth(kiosk)
    if content_type:
        headers["Content-Type"] = content_type
    r = kclient.post(API, data='{"id": "x"}', headers=headers)
    assert r.status_code == 415 and r.get_json()["error"] == "unsupported_media_type"
    spec.check(API, r)
    assert count() == 0


def test_403_when_the_office_stopped_collecting(kclient, kiosk, offices, spec):
    db.session.execute(sa.update(Office).where(Office.code == "BD-KM").values(active=False))
    db.session.commit()
    r = kclient.post(API, json=body(), headers=auth(kiosk))
    assert r.status_code == 403
    spec.check(API, r)
    assert count() == 0


def test_429_per_kiosk_not_per_ip(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=60)
    with app.app_context():
        load_offices()
        a = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        b = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
        client = Client(app)
        spec = OpenAPI(client)
        first = body()
        assert client.post(API, json=first, headers=auth(a)).status_code == 201
        r = client.post(API, json=body(), headers=auth(a))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        spec.check(API, r)
        # the same IP, another kiosk: not limited
        assert client.post(API, json=body(), headers=auth(b)).status_code == 201
        # an idempotent replay is not limited either (an offline queue re-sending)
        assert client.post(API, json=first, headers=auth(a)).status_code == 200
        assert count() == 2


def test_submitted_at_window(kclient, kiosk):
    now = datetime.now(UTC)
    inside = (now - timedelta(days=2)).isoformat()
    r = kclient.post(API, json=body(submitted_at=inside), headers=auth(kiosk))
    assert r.status_code == 201 and r.get_json()["flags"] == []
    for stamp in [(now + timedelta(days=1)).isoformat(),          # future
                  (now - timedelta(days=30)).isoformat()]:        # too old
        r = kclient.post(API, json=body(submitted_at=stamp), headers=auth(kiosk))
        assert r.status_code == 201 and r.get_json()["flags"] == ["clock"]
    release_all()
    rows = db.session.scalars(sa.select(Response)).all()
    # only the day is kept: the client's day inside the window, else the server's day
    by_flags = sorted((row.flags or "", row.submitted_at) for row in rows)
    assert by_flags == [("", day_start(vn_day(now - timedelta(days=2)))),
                        ("clock", day_start(vn_day(now))), ("clock", day_start(vn_day(now)))]
    assert all(row.counted and row.received_at == row.submitted_at for row in rows)
    # a naive client time is Vietnam time, and a few seconds ahead is tolerated
    r = kclient.post(API, json=body(submitted_at=(now + timedelta(seconds=30)).isoformat(),
                                    answers={"I.1": 3}), headers=auth(kiosk))
    assert r.get_json()["flags"] == []
    assert count() == 4


def test_burst_of_identical_patterns_is_held_back(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, KIOSK_BURST_COUNT=3)
    with app.app_context():
        load_offices()
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        other = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
        client = Client(app)
        same = {"I.1": 5, "I.2": 5}
        flags = [client.post(API, json=body(answers=same), headers=auth(k)).get_json()["flags"]
                 for _ in range(4)]
        assert flags == [[], [], ["burst"], ["burst"]]
        # another kiosk has its own run; a different pattern ends the run
        assert client.post(API, json=body(answers=same), headers=auth(other)
                           ).get_json()["flags"] == []
        assert client.post(API, json=body(answers={"I.1": 4}), headers=auth(k)
                           ).get_json()["flags"] == []
        assert client.post(API, json=body(answers=same), headers=auth(k)
                           ).get_json()["flags"] == []
        release_all()
        rows = db.session.scalars(sa.select(Response)).all()
        assert sorted(r.counted for r in rows) == [False, False, True, True, True, True, True]
        # held-back responses stay out of the tallies until reviewed
        assert db.session.scalar(sa.select(MonthlyChannelCount.responses)) == 5
        assert db.session.scalar(sa.select(MonthlyTally.n5).where(
            MonthlyTally.criterion == "I.1")) == 4


def test_heartbeat_records_last_seen_pending_and_rejected(kclient, kiosk, spec):
    path = "/api/v1/kiosk/heartbeat"
    r = kclient.post(path, json={"pending": 3, "rejected": 2}, headers=auth(kiosk))
    assert r.status_code == 200
    spec.check(path, r)
    assert r.get_json()["idle_seconds"] == 60
    info = kiosk_service.list_kiosks([kiosk.kiosk.office_id])[0]
    assert info.pending_reported == 3 and info.last_seen_at is not None
    assert info.rejected_reported == 2
    r = kclient.post(path, json={"pending": 1}, headers=auth(kiosk))  # rejected: kept
    info = kiosk_service.list_kiosks([kiosk.kiosk.office_id])[0]
    assert (info.pending_reported, info.rejected_reported) == (1, 2)
    r = kclient.post(path, json={"pending": -1, "rejected": True}, headers=auth(kiosk))
    assert r.status_code == 400 and set(r.get_json()["fields"]) == {"pending", "rejected"}
    spec.check(path, r)
    r = kclient.post(path, data="x", headers={**auth(kiosk), "Content-Type": "text/plain"})
    assert r.status_code == 415
    spec.check(path, r)
    r = kclient.post(path, json={}, headers={})
    assert r.status_code == 401
    spec.check(path, r)


def test_openapi_document_lists_the_kiosk_operations(kclient, spec):
    doc = spec.doc
    op = doc["paths"]["/api/v1/responses"]["post"]
    assert set(op["responses"]) >= {"200", "201", "400", "401", "413", "415", "429"}
    assert op["security"] == [{"bearer": []}]
    jsonschema.Draft7Validator.check_schema(doc["components"]["schemas"]["ResponseSubmission"])


@pytest.mark.parametrize("case", ["bad credential", "office stopped"])
def test_a_bad_body_keeps_the_errors_order(kclient, kiosk, offices, spec, case):
    """The answers are checked before the credential is looked up (outside the write
    transaction), yet a wrong credential is still a 401 and an office that stopped
    collecting a 403 whatever the body holds; a valid credential then gets the 400."""
    bad = body(answers={"I.1": 9})
    headers = auth(kiosk)
    if case == "bad credential":
        headers = auth("sk_wrong")
        expected = 401
    else:
        db.session.execute(sa.update(Office).where(Office.code == "BD-KM").values(active=False))
        db.session.commit()
        expected = 403
    r = kclient.post(API, json=bad, headers=headers)
    assert r.status_code == expected
    spec.check(API, r)
    if case == "bad credential":
        r = kclient.post(API, json=bad, headers=auth(kiosk))
        assert r.status_code == 400 and "answers.I.1" in r.get_json()["fields"]
    assert count() == 0


def test_the_answers_are_checked_before_the_write_transaction_begins(kclient, kiosk,
                                                                     monkeypatch):
    """SQLite: the credential's lookup begins the request's write transaction (BEGIN
    IMMEDIATE, the write lock); the rules run before it, so the lock is held for the
    writes only."""
    from core.services import intake

    events = []
    check, lookup = intake.check_submission, kiosk_service.authenticate_device
    monkeypatch.setattr(intake, "check_submission",
                        lambda *a, **k: events.append("check") or check(*a, **k))
    monkeypatch.setattr(kiosk_service, "authenticate_device",
                        lambda *a, **k: events.append("lookup") or lookup(*a, **k))
    assert kclient.post(API, json=body(), headers=auth(kiosk)).status_code == 201
    assert events == ["check", "lookup"]
    events.clear()
    r = kclient.post(API, json=body(answers={"I.1": 0}), headers=auth(kiosk))
    assert r.status_code == 400 and events == ["check", "lookup"]  # checked once
    assert count() == 1

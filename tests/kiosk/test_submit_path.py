"""The kiosk submission hot path (Core statements, insert-first replay detection, per-request
credential lookup): the guarantees it must keep, through the Flask test client."""

from __future__ import annotations

import random
import uuid

import sqlalchemy as sa

from core.extensions import db
from core.models import Kiosk, MonthlyChannelCount, MonthlyTally
from core.services import kiosks as kiosk_service
from core.services.offices import get_office
from core.services.tallies import rebuild_tallies
from tests.helpers import release_all
from tests.kiosk.helpers import API, Client, auth, body, count, load_offices

CODES = ["I.1", "I.2", "I.3", "I.4", "II.1", "II.2", "II.3", "II.4", "II.5", "III.1",
         "III.2", "III.3", "III.4", "III.5", "III.6", "III.7", "IV.1", "IV.2", "IV.3",
         "IV.4", "V.1", "V.2", "V.3", "V.4"]


def kiosk_state(kiosk_id: int) -> tuple:
    db.session.remove()
    k = db.session.get(Kiosk, kiosk_id)
    return (k.last_seen_at, k.pending_reported, k.name, k.revoked_at)


def tallies() -> list[tuple]:
    db.session.remove()
    return [(t.criterion, t.n1, t.n2, t.n3, t.n4, t.n5, t.n_none)
            for t in db.session.scalars(sa.select(MonthlyTally).order_by(MonthlyTally.criterion))]


def test_tallies_stay_exact_after_many_submissions_and_replays(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        load_offices()
        kiosks = [kiosk_service.add_kiosk(get_office("BD-KM"), f"Quầy {i}",
                                          with_credential=True) for i in (1, 2)]
        client = Client(app)
        rng = random.Random(7)
        sent = []
        for i in range(80):
            answers = {c: rng.choice([1, 2, 3, 4, 5, None]) for c in CODES}
            answers["I.1"] = rng.randint(1, 5)
            payload = body(answers=answers)
            r = client.post(API, json=payload, headers=auth(kiosks[i % 2]))
            assert r.status_code == 201, r.get_json()
            sent.append(payload)
        for payload in sent[::7]:  # replays from an offline queue: 200, nothing changes
            r = client.post(API, json=payload, headers=auth(kiosks[0]))
            assert r.status_code == 200 and r.get_json()["created"] is False
        assert count() == 80
        release_all()
        expected = {c: [0] * 6 for c in CODES}
        for payload in sent:
            for c in CODES:
                v = payload["answers"].get(c)
                expected[c][(v - 1) if v else 5] += 1
        assert {row[0]: list(row[1:]) for row in tallies()} == expected
        assert db.session.scalar(sa.select(MonthlyChannelCount.responses)) == 80
        assert rebuild_tallies(db.session) == 0  # the incremental tallies were exact


def test_replay_stores_nothing_and_leaves_the_kiosk_row_alone(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        load_offices()
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = Client(app)
        first = body()
        assert client.post(API, json=first, headers=auth(k)).status_code == 201
        before = (kiosk_state(k.kiosk.id), tallies(), count())
        # the same id with other answers, from the same or another kiosk
        other = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 2", with_credential=True)
        for cred in (k, other):
            r = client.post(API, json=dict(first, answers={"I.1": 1, "V.4": 2}),
                            headers=auth(cred))
            assert r.status_code == 200
            assert r.get_json() == {"id": first["id"], "created": False, "flags": []}
        assert (kiosk_state(k.kiosk.id), tallies(), count()) == before
        assert kiosk_state(other.kiosk.id)[0] is None  # a replay is not a submission


def test_rate_limited_submission_is_rolled_back_entirely(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=60)
    with app.app_context():
        load_offices()
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = Client(app)
        first = body()
        assert client.post(API, json=first, headers=auth(k)).status_code == 201
        before = (kiosk_state(k.kiosk.id), tallies(), count())
        late = body(answers={"I.1": 1})
        r = client.post(API, json=late, headers=auth(k))
        assert r.status_code == 429
        assert (kiosk_state(k.kiosk.id), tallies(), count()) == before
        # a replay of the stored one is still answered at once
        assert client.post(API, json=first, headers=auth(k)).status_code == 200


def test_revocation_by_another_process_takes_effect_on_the_next_request(make_app):
    """No credential cache: a kiosk revoked directly in the database (e.g. by another
    worker or the CLI) is refused by the very next request of this worker."""
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        load_offices()
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = Client(app)
        for _ in range(3):
            assert client.post(API, json=body(), headers=auth(k)).status_code == 201
        with db.engine.begin() as conn:
            conn.execute(sa.update(Kiosk.__table__).where(Kiosk.__table__.c.id == k.kiosk.id)
                         .values(revoked_at=sa.func.current_timestamp()))
        r = client.post(API, json=body(), headers=auth(k))
        assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"
        assert count() == 3


def test_wrong_or_overlong_credentials_are_refused(make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        load_offices()
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = Client(app)
        for cred in (k.credential + "x", k.credential[:-1], "sk_" + "a" * 300,
                     str(uuid.uuid4())):
            assert client.post(API, json=body(), headers=auth(cred)).status_code == 401
        assert kiosk_service.authenticate_device(None) is None
        assert kiosk_service.authenticate_device(k.credential).id == k.kiosk.id
        assert count() == 0

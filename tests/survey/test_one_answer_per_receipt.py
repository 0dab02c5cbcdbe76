"""Exactly one response per receipt under real parallel requests: two submissions of the same
token race against a live server on PostgreSQL; one is stored, the other gets 409."""

from __future__ import annotations

import http.client
import io
import json
import threading
import urllib.parse

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from core.extensions import db
from core.models import ReceiptUse, Response
from core.questionnaire import field_name
from core.services.offices import get_office, import_offices
from core.services.receipts import create_api_key, mint_receipt
from tests.conftest import PG_URL, SMALL_TREE
from tests.helpers import release_all

ROUNDS = 8
RACERS = 4


@pytest.mark.postgres_only
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_parallel_submissions_of_one_token_store_one_response(make_app, backend, instrument):
    if backend != "postgresql":
        pytest.skip("the race is tested on PostgreSQL")
    app = make_app(SERVER_NAME=None,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": RACERS + 2, "max_overflow": 4})
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        office = get_office("BD-KM")
        tokens = [mint_receipt(office, f"000.00.20.H26-220101-{i:04d}").token
                  for i in range(ROUNDS)]
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    form = {field_name(c.code): "4" for c in instrument.criteria}
    body = urllib.parse.urlencode(form)
    try:
        for token in tokens:
            barrier = threading.Barrier(RACERS)
            statuses: list[int] = []
            lock = threading.Lock()

            def submit(token: str = token, barrier: threading.Barrier = barrier) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
                conn.connect()
                barrier.wait()
                conn.request("POST", f"/s/{token}", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded"})
                status = conn.getresponse().status
                conn.close()
                with lock:
                    statuses.append(status)

            racers = [threading.Thread(target=submit) for _ in range(RACERS)]
            for t in racers:
                t.start()
            for t in racers:
                t.join(timeout=60)
            assert sorted(statuses) == [302] + [409] * (RACERS - 1), statuses
    finally:
        server.shutdown()
        thread.join(timeout=5)

    with app.app_context():
        release_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == ROUNDS
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceiptUse)) == ROUNDS
        db.session.remove()


@pytest.mark.postgres_only
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL")
def test_parallel_mints_of_one_dossier_give_one_link(make_app, backend):
    if backend != "postgresql":
        pytest.skip("the race is tested on PostgreSQL")
    app = make_app(SERVER_NAME=None,
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": RACERS + 2, "max_overflow": 4})
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        key = create_api_key("BD-KM")[1]
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    results: list[tuple[int, str]] = []
    lock = threading.Lock()
    try:
        for round_no in range(ROUNDS):
            barrier = threading.Barrier(RACERS)
            body = json.dumps({"dossier_code": f"H26-221128-{round_no:04d}"})

            def mint(barrier: threading.Barrier = barrier, body: str = body) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
                conn.connect()
                barrier.wait()
                conn.request("POST", "/api/v1/receipts", body=body, headers={
                    "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                resp = conn.getresponse()
                token = json.loads(resp.read())["token"]
                conn.close()
                with lock:
                    results.append((resp.status, token))

            racers = [threading.Thread(target=mint) for _ in range(RACERS)]
            for t in racers:
                t.start()
            for t in racers:
                t.join(timeout=60)
            this_round = results[-RACERS:]
            assert sorted(s for s, _t in this_round) == [200] * (RACERS - 1) + [201]
            assert len({t for _s, t in this_round}) == 1
    finally:
        server.shutdown()
        thread.join(timeout=5)

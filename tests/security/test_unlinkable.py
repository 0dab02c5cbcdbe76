"""Answers nobody can trace, attacked as an insider would (README, "Privacy"): with read access
to every table and system column, the server's keys and the logs, after the office-day has
been released by ``flask responses mix``, no answer lines up with a receipt, a dossier, a
kiosk or a time finer than its Vietnam day.

The answers arrive through the real channels (the phone form of a printed receipt, the kiosk
API); the release runs through the real command, with the cryptographic shuffle replaced by
a seeded one so that the order can be checked against a known permutation.
"""

from __future__ import annotations

import io
import json
import random
import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Kiosk, PendingAnswer, Receipt, Response
from core.questionnaire import field_name
from core.services import kiosks as kiosk_service
from core.services import mixing
from core.services.mixing import day_start, vn_day
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from core.timeutil import utcnow
from tests.conftest import SMALL_TREE
from tests.helpers import CODES

N = 20
PROCEDURE = "Chứng thực bản sao từ bản chính"


class SeededShuffle:
    """Stands in for the cryptographic generator: a known permutation, recorded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.results: list[list[str]] = []

    def shuffle(self, group: list) -> None:
        self.rng.shuffle(group)
        self.results.append([row.answers for row in group])


def pattern(i: int) -> dict[str, int]:
    """A distinct answer pattern per i (so each released row can be recognised)."""
    answers = {c: 3 for c in CODES}
    answers.update({"I.1": 1 + i % 5, "I.2": 1 + i // 5 % 5, "I.3": 1 + i // 25})
    return answers


def packed(answers: dict[str, int]) -> str:
    return "".join(str(answers[c]) for c in CODES)


@pytest.fixture
def day_of_answers(make_app, monkeypatch):
    """20 receipts answered on the phone and 20 kiosk submissions (two counters), one office,
    one day, interleaved; then ``flask responses mix --include-today``."""
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        office = get_office("BD-KM")
        tokens = [mint_receipt(office, f"000.00.20.H26-261130-{i:04d}", PROCEDURE).token
                  for i in range(N)]
        kiosks = [kiosk_service.add_kiosk(office, f"Quầy {k}", with_credential=True)
                  for k in (1, 2)]
        db.session.remove()
        kiosk_rows_before = _kiosk_rows()
        client = app.test_client()
        arrival, submission_ids = [], []
        for i in range(N):
            qr = pattern(2 * i)
            form = {field_name(c): str(v) for c, v in qr.items()}
            assert client.post(f"/s/{tokens[i]}", data=form).status_code == 302
            arrival.append(packed(qr))
            kiosk_answers = pattern(2 * i + 1)
            sid = str(uuid.uuid4())
            r = client.post("/api/v1/responses", json={
                "id": sid, "instrument": "hanoi-2022", "answers": kiosk_answers,
                "submitted_at": utcnow().isoformat(), "started_at": utcnow().isoformat()},
                headers={"Authorization": f"Bearer {kiosks[i % 2].credential}"})
            assert r.status_code == 201, r.get_json()
            arrival.append(packed(kiosk_answers))
            submission_ids.append(sid)
        kiosk_rows_after = _kiosk_rows()
        shuffle = SeededShuffle(2026)
        monkeypatch.setattr(mixing, "_SYSTEM_RANDOM", shuffle)
        result = app.test_cli_runner().invoke(args=["responses", "mix", "--include-today"])
        assert result.exit_code == 0, result.output
        assert "40" in result.output
        yield {"app": app, "arrival": arrival, "shuffle": shuffle, "ids": submission_ids,
               "kiosks": (kiosk_rows_before, kiosk_rows_after)}


def _kiosk_rows() -> list[tuple]:
    db.session.remove()
    table = Kiosk.__table__
    rows = db.session.execute(sa.select(table).order_by(table.c.id)).all()
    db.session.remove()
    return [tuple(r) for r in rows]


def test_released_answers_are_in_the_generators_order_not_the_arrival_order(day_of_answers):
    arrival, shuffle = day_of_answers["arrival"], day_of_answers["shuffle"]
    assert len(shuffle.results) == 1  # one office-day, one release
    released = shuffle.results[0]
    assert released != arrival and sorted(released) == sorted(arrival)
    by_id = list(db.session.scalars(sa.select(Response.answers).order_by(Response.id)))
    assert by_id == released
    # the physical order too (PostgreSQL's ctid; SQLite's rowid is the id)
    order = "ctid" if db.engine.dialect.name == "postgresql" else "rowid"
    physical = [r[0] for r in db.session.execute(
        sa.text(f"SELECT answers FROM response ORDER BY {order}"))]  # noqa: S608 - constant
    assert physical == released
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingAnswer)) == 0


def test_every_time_of_the_days_answers_is_the_same_start_of_day(day_of_answers):
    start = day_start(vn_day(utcnow()))
    times = db.session.execute(sa.select(Response.submitted_at, Response.received_at)).all()
    assert len(times) == 2 * N
    assert {t for row in times for t in row} == {start}
    assert "started_at" not in Response.__table__.columns


def test_nothing_of_the_receipt_or_the_kiosk_is_copied_into_an_answer(day_of_answers):
    rows = db.session.execute(sa.select(Response.procedure, Response.uuid, Response.flags,
                                        Response.channel)).all()
    assert {r.procedure for r in rows} == {None}  # the receipt's procedure is not copied
    # the tablets' submission ids are kept only as digests, in a table of their own
    stored_uuids = {r.uuid for r in rows}
    assert not stored_uuids & set(day_of_answers["ids"])
    dump = json.dumps([list(map(str, r)) for r in db.session.execute(sa.select(
        Response.__table__)).all()])
    assert not any(sid in dump for sid in day_of_answers["ids"])
    assert PROCEDURE not in dump
    assert sorted(r.channel for r in rows) == ["kiosk"] * N + ["qr"] * N


def test_answers_never_change_the_kiosk_row(day_of_answers):
    before, after = day_of_answers["kiosks"]
    assert before == after  # no last_seen_at, no burst state: nothing per answer
    columns = set(Kiosk.__table__.columns.keys())
    assert not any("burst" in c for c in columns)


def test_released_answers_share_no_transaction_with_receipts_or_kiosks(day_of_answers,
                                                                        backend):
    """The attack of the issue: on PostgreSQL a row's ``xmin`` names the transaction that
    wrote it; an answer written with its receipt's use (or its kiosk's update) shared it."""
    if backend != "postgresql":
        pytest.skip("xmin is PostgreSQL's")

    def xmins(table: str) -> set[str]:
        return {r[0] for r in db.session.execute(
            sa.text(f"SELECT xmin::text FROM {table}"))}  # noqa: S608 - constant names

    released = xmins("response")
    assert len(released) == 1  # the release wrote them all, in one transaction
    for table in ("receipt_use", "receipt", "kiosk", "submission_key", "generic_form_use",
                  "audit_event", "office_api_key"):
        assert not released & xmins(table), table
    # and the receipt-use rows, each written when its citizen answered, pair with nothing
    assert not xmins("receipt_use") & (released | xmins("monthly_tally"))


def test_recomputing_dossier_hashes_with_the_server_key_names_no_answer(day_of_answers):
    """An insider with the key can name every answered dossier (that is the receipt's
    purpose); nothing joins a dossier to an answer: no shared column, transaction, order
    or time."""
    receipts = db.session.execute(sa.select(Receipt.id, Receipt.dossier_hash)).all()
    assert len(receipts) == N
    response_columns = set(Response.__table__.columns.keys())
    assert not {"receipt_id", "dossier_hash", "token_id", "kiosk_id"} & response_columns
    # the order of the receipts' uses does not survive in the answers' order
    by_id = list(db.session.scalars(sa.select(Response.answers).where(
        Response.channel == "qr").order_by(Response.id)))
    answered_in_order = [a for a in day_of_answers["arrival"][0::2]]
    assert by_id != answered_in_order


# --- the pending stage itself ---------------------------------------------------------------

def test_a_pending_answer_holds_the_day_only_and_a_kiosk_replay_is_recognised_after_release(
        make_app):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = app.test_client()
        body = {"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
                "answers": {"I.1": 4},
                "submitted_at": (utcnow() - timedelta(hours=3)).isoformat()}
        auth = {"Authorization": f"Bearer {k.credential}"}
        assert client.post("/api/v1/responses", json=body, headers=auth).status_code == 201
        columns = set(PendingAnswer.__table__.columns.keys())
        assert not {c for c in columns if c.endswith("_at")}  # no time, only the day
        assert "uuid" not in columns and "kiosk_id" not in columns
        assert app.test_cli_runner().invoke(
            args=["responses", "mix", "--include-today", "--min-batch", "1"]).exit_code == 0
        again = client.post("/api/v1/responses", json=body, headers=auth)
        assert again.status_code == 200 and again.get_json()["created"] is False
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 1


def test_the_kiosk_status_and_the_dashboard_show_pending_answers_never_per_tablet(make_app):
    from tests.admin.fixtures import PASSWORDS, login

    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        from core.services.accounts import create_user

        create_user("city", "admin", None, PASSWORDS["city"], actor="test", must_change=False)
        k = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        client = app.test_client()
        for i in range(3):
            assert client.post("/api/v1/responses", json={
                "id": str(uuid.uuid4()), "instrument": "hanoi-2022", "answers": pattern(i)},
                headers={"Authorization": f"Bearer {k.credential}"}).status_code == 201
        signed = login(client, "city", PASSWORDS["city"])
        assert signed.status_code == 302, signed.get_data(as_text=True)[-800:]
        page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
        assert 'data-pending="3"' in page and "đang chờ" in page
        assert not re.search(r'data-kiosk="\d+"[^<]*<td[^>]*>[^<]*data-pending', page)
        month = utcnow().astimezone(mixing.VN_TZ).strftime("%Y-%m")
        dash = client.get(f"/admin/?office=BD&month={month}").get_data(as_text=True)
        assert 'data-pending="3"' in dash
        app.test_cli_runner().invoke(args=["responses", "mix"])
        # today is not closed: still pending
        assert 'data-pending="3"' in client.get("/admin/kiosks?office=BD").get_data(
            as_text=True)
        app.test_cli_runner().invoke(
            args=["responses", "mix", "--include-today", "--min-batch", "3"])
        assert 'data-pending="0"' in client.get("/admin/kiosks?office=BD").get_data(
            as_text=True)


def test_the_cli_reports_what_it_released_and_refuses_a_bad_minimum(app, offices, instrument):
    from core.services.intake import clean_response
    from core.services.mixing import hold

    for i in range(6):
        hold(clean_response(instrument, pattern(i)), offices["STP"].id, "generic",
             vn_day(utcnow()) - timedelta(days=1))
    db.session.commit()
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["responses", "mix", "--min-batch", "0"])
    assert bad.exit_code != 0
    out = runner.invoke(args=["responses", "mix"])
    assert out.exit_code == 0
    assert "Đã đưa 6 phiếu vào số liệu trong 1 đợt" in out.output and "còn 0 phiếu" in out.output

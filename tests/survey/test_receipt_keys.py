"""Receipt keys are not SECRET_KEY: rotating SECRET_KEY, or the receipt key ring itself,
keeps every printed receipt working and every answered dossier answered.

The attack: an operator rotates ``SECRET_KEY`` (a leak, a routine change) and restarts. Before
the ring, every printed QR code then led to "link not valid", and minting an answered dossier
again made a fresh link that could be answered a second time (its code hashed to something
new)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from core import create_app
from core.extensions import db
from core.models import PendingAnswer, Receipt, Response
from core.questionnaire import field_name
from core.receipt_keys import receipt_keys
from core.services.offices import import_offices
from core.services.receipts import create_api_key, dossier_hash
from tools.sample_data import SMALL_TREE

OLD_SECRET = "the-secret-key-before-rotation-0123"  # noqa: S105 - tests only
NEW_SECRET = "the-secret-key-after-rotation-45678"  # noqa: S105 - tests only
ANSWERED = "000.00.20.H26-220101-0001"
PRINTED = "000.00.20.H26-220101-0002"
NEW = "000.00.20.H26-220101-0003"


def entry(key_id: str, secret: bytes) -> str:
    return f"{key_id}:{base64.b64encode(secret).decode()}"


K1 = entry("k1", b"receipt-key-one-0123456789abcdef")
K2 = entry("k2", b"receipt-key-two-0123456789abcdef")
LEGACY = entry("legacy", OLD_SECRET.encode())


@contextmanager
def served(app: Flask, **config) -> Iterator[Flask]:
    """The same database served again with another configuration (a restart)."""
    other = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "WTF_CSRF_ENABLED": False, "SERVER_NAME": "localhost", **config})
    try:
        with other.app_context():
            yield other
            db.session.remove()
    finally:
        with other.app_context():
            db.engine.dispose()


def mint(app: Flask, key: str, code: str):
    return app.test_client().post("/api/v1/receipts", json={"dossier_code": code},
                                  headers={"Authorization": f"Bearer {key}"})


def answer(app: Flask, token: str, instrument) -> int:
    form = {field_name(c.code): "4" for c in instrument.criteria}
    return app.test_client().post(f"/s/{token}", data=form).status_code


def responses() -> int:
    """Answers acknowledged (pending, or released by the mixing stage)."""
    return sum(db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for model in (PendingAnswer, Response))


@pytest.mark.parametrize("before, after", [
    # an existing deployment: links were signed with SECRET_KEY-derived material; it sets a
    # ring of a new key and the legacy entry, and rotates SECRET_KEY
    ({}, {"RECEIPT_KEYS": f"{K1},{LEGACY}"}),
    # a deployment with a ring rotates both SECRET_KEY and the receipt keys
    ({"RECEIPT_KEYS": K1}, {"RECEIPT_KEYS": f"{K2},{K1}"}),
], ids=["legacy-migration", "ring-rotation"])
def test_rotating_keys_keeps_printed_receipts_and_answered_dossiers(make_app, instrument,
                                                                    before, after):
    app = make_app(SECRET_KEY=OLD_SECRET, **before)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        key = create_api_key("BD-KM", "one-stop software")[1]
        answered, printed = (mint(app, key, code).get_json() for code in (ANSWERED, PRINTED))
        assert answer(app, answered["token"], instrument) == 302
        qr_before = app.test_client().get(printed["qr_svg_url"]).data
        db.session.remove()

    with served(app, SECRET_KEY=NEW_SECRET, **after) as rotated:
        client = rotated.test_client()
        # the printed link still opens its form; the answered one still says "answered"
        assert client.get(f"/s/{printed['token']}").status_code == 200
        assert client.get(f"/s/{answered['token']}").status_code == 409
        assert answer(rotated, answered["token"], instrument) == 409
        # minting either dossier again gives back the link that was printed, answered or not
        for first in (answered, printed):
            again = mint(rotated, key, ANSWERED if first is answered else PRINTED)
            assert again.status_code == 200 and again.get_json() == first
        assert client.get(f"/s/{answered['token']}").status_code == 409
        assert answer(rotated, answered["token"], instrument) == 409
        # its QR image still carries the printed link
        assert client.get(printed["qr_svg_url"]).data == qr_before
        # the printed receipt is answered once, and only once
        assert answer(rotated, printed["token"], instrument) == 302
        assert answer(rotated, printed["token"], instrument) == 409
        assert responses() == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 2

        # a new dossier is signed and hashed under the newest key
        fresh = mint(rotated, key, NEW)
        assert fresh.status_code == 201
        newest = receipt_keys(rotated.config)[0]
        assert newest.id == after["RECEIPT_KEYS"].split(":", 1)[0]
        assert db.session.scalar(sa.select(Receipt.dossier_hash).where(
            Receipt.token_id == fresh.get_json()["token"].split(".")[0])) == dossier_hash(
                NEW, newest)
        fresh_token = fresh.get_json()["token"]
        assert client.get(f"/s/{fresh_token}").status_code == 200

    # the old configuration (without the newest key) does not know the new link
    with served(app, SECRET_KEY=OLD_SECRET, **before) as old:
        assert old.test_client().get(f"/s/{fresh_token}").status_code == 404


def test_dropping_a_key_retires_the_links_it_signed(make_app, instrument):
    """The ring is what keeps old links alive: a key left out of it kills its links (and
    forgets the dossiers it hashed), so keys are dropped only when compromised."""
    app = make_app(RECEIPT_KEYS=K1)
    with app.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        key = create_api_key("BD-KM")[1]
        printed = mint(app, key, PRINTED).get_json()
        db.session.remove()

    with served(app, SECRET_KEY="test-secret", RECEIPT_KEYS=K2) as dropped:
        assert dropped.test_client().get(f"/s/{printed['token']}").status_code == 404
        again = mint(dropped, key, PRINTED)
        assert again.status_code == 201 and again.get_json()["token"] != printed["token"]

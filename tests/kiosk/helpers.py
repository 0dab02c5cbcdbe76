"""Helpers of the kiosk tests: the API path, a test client that ends the test's own
transaction first, credentials, a submission body, row counts and the small office tree."""

from __future__ import annotations

import io
import uuid

import sqlalchemy as sa

from core.extensions import db
from core.models import PendingAnswer, Response
from core.services.offices import import_offices
from tests.conftest import SMALL_TREE

API = "/api/v1/responses"


class Client:
    """The test client, ending the test's own database transaction before each request (on
    SQLite an open transaction of the test would hold the write lock)."""

    def __init__(self, app):
        self.client = app.test_client()

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            db.session.remove()
            return method(*args, **kwargs)

        return call


def auth(kiosk_or_credential) -> dict[str, str]:
    cred = getattr(kiosk_or_credential, "credential", kiosk_or_credential)
    return {"Authorization": f"Bearer {cred}"}


def body(**over):
    data = {"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {"I.1": 5, "I.2": 4, "III.7": 2, "V.4": None}}
    data.update(over)
    return data


def count(model=None) -> int:
    """Rows of ``model``; without one, the answers acknowledged so far (pending or
    released)."""
    db.session.remove()
    if model is None:
        return count(PendingAnswer) + count(Response)
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def load_offices():
    import_offices(io.StringIO(SMALL_TREE))

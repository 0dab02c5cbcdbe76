"""The kiosk's offline shell on the server side: the service worker's script and the
heartbeat's offline_shell report."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Kiosk
from core.services import kiosks as kiosk_service
from tests.kiosk.helpers import Client, auth

HEARTBEAT = "/api/v1/kiosk/heartbeat"


@pytest.fixture
def kiosk(app, offices):
    return kiosk_service.add_kiosk(offices["BD-KM"], "Quầy 3", with_credential=True)


def test_service_worker_is_served_for_the_kiosk_scope(app, kiosk):
    resp = Client(app).get("/kiosk/sw.js")
    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Cache-Control"] == "no-cache"
    text = resp.get_data(as_text=True)
    assert 'var SHELL = "/kiosk/";' in text
    for path in ("/kiosk/kiosk.js", "/kiosk/static/kiosk/kiosk.css",
                 "/static/css/app.css", "/kiosk/static/kiosk/faces/f5.svg"):
        assert f'"{path}"' in text
    assert 'var CACHE = "sipas-kiosk-' in text


def test_the_kiosk_page_registers_it(app, kiosk):
    client = Client(app)
    client.set_cookie("sipas_kiosk", kiosk.credential, path="/kiosk")
    page = client.get("/kiosk/").get_data(as_text=True)
    assert 'data-sw="/kiosk/sw.js"' in page and 'data-sw-scope="/kiosk/"' in page


def test_heartbeat_records_whether_the_offline_shell_is_active(app, kiosk):
    client = Client(app)
    assert client.post(HEARTBEAT, json={"pending": 0}, headers=auth(kiosk)).status_code == 200
    assert db.session.get(Kiosk, kiosk.kiosk.id).offline_shell_reported is None
    assert client.post(HEARTBEAT, json={"pending": 0, "offline_shell": True},
                       headers=auth(kiosk)).status_code == 200
    db.session.remove()
    assert kiosk_service.list_kiosks()[0].offline_shell_reported is True
    bad = client.post(HEARTBEAT, json={"offline_shell": "yes"}, headers=auth(kiosk))
    assert bad.status_code == 400 and "offline_shell" in bad.get_json()["fields"]
    db.session.remove()
    assert kiosk_service.list_kiosks()[0].offline_shell_reported is True


def test_the_script_is_served_compacted_and_revalidated(app, kiosk):
    client = Client(app)
    resp = client.get("/kiosk/kiosk.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    text = resp.get_data(as_text=True)
    assert "/* SIPAS kiosk" not in text and "\n  " not in text  # comments and indentation
    assert "function collectPartial()" in text and "sipasContactOk" in text
    again = client.get("/kiosk/kiosk.js", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304

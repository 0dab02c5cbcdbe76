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


def test_the_tablet_reports_its_app_version_and_an_old_one_is_marked(app, kiosk):
    from core.services.accounts import create_user
    from kiosk.views import app_version

    client = Client(app)
    client.set_cookie("sipas_kiosk", kiosk.credential, path="/kiosk")
    page = client.get("/kiosk/").get_data(as_text=True)
    current = app_version()
    assert f'data-app-version="{current}"' in page
    assert client.post(HEARTBEAT, json={"pending": 0, "app_version": current},
                       headers=auth(kiosk)).status_code == 200
    db.session.remove()
    assert kiosk_service.list_kiosks()[0].app_version_reported == current
    for bad_value in ("v1.0", 7, "0" * 33, ""):
        bad = client.post(HEARTBEAT, json={"app_version": bad_value}, headers=auth(kiosk))
        assert bad.status_code == 400 and "app_version" in bad.get_json()["fields"]
    # the tablets page marks a tablet that still runs another version
    create_user("it-admin", "admin", "HN", "correct horse battery 1", actor="test",
                must_change=False)
    admin = app.test_client()
    admin.post("/admin/login", data={"username": "it-admin",
                                     "password": "correct horse battery 1"})
    listing = admin.get("/admin/kiosks?office=HN").get_data(as_text=True)
    assert f'data-app-version="{current}"' in listing and "data-stale-version" not in listing
    assert client.post(HEARTBEAT, json={"app_version": "0123abcd"},
                       headers=auth(kiosk)).status_code == 200
    listing = admin.get("/admin/kiosks?office=HN").get_data(as_text=True)
    assert 'data-app-version="0123abcd"' in listing and "data-stale-version" in listing

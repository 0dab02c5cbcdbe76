"""Submissions and replays are counted in /metrics by channel and outcome (kiosk API, the
no-JavaScript kiosk form, the QR receipt form and the generic office link)."""

from __future__ import annotations

import io
import re
import uuid

import pytest

from core.extensions import db
from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from core.services.receipts import mint_receipt
from tests.conftest import SMALL_TREE
from tests.helpers import CODES
from tests.helpers import metric_sample as _sample

API = "/api/v1/responses"


@pytest.fixture
def mapp(make_app):
    return make_app(METRICS_ENABLED=True, KIOSK_MIN_SECONDS_BETWEEN=60, SERVER_NAME=None)


def scrape(client) -> str:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def counts(text: str) -> dict[tuple[str, str], float]:
    keys = [("kiosk", s) for s in ("stored", "duplicate", "invalid", "rate_limited")]
    keys += [("qr", "stored"), ("qr", "duplicate"), ("generic", "stored")]
    found = {k: _sample(text, "sipas_submissions_total", channel=k[0], status=k[1])
             for k in keys}
    found[("replay", "kiosk")] = _sample(text, "sipas_replays_total", channel="kiosk",
                                         outcome="duplicate")
    return found


def test_submissions_and_replays_are_counted_in_metrics(mapp):
    client = mapp.test_client()
    before = counts(scrape(client))
    with mapp.app_context():
        import_offices(io.StringIO(SMALL_TREE))
        kiosk = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 1", with_credential=True)
        token = mint_receipt(get_office("BD-DB"), "000.00.20.H26-261128-0001").token
        db.session.remove()
    auth = {"Authorization": f"Bearer {kiosk.credential}"}
    body = {"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {c: 4 for c in CODES}}
    assert client.post(API, json=body, headers=auth).status_code == 201
    assert client.post(API, json=body, headers=auth).status_code == 200  # replay
    assert client.post(API, json=body | {"id": "nope"}, headers=auth).status_code == 400
    assert client.post(API, json=body | {"id": str(uuid.uuid4())},
                       headers=auth).status_code == 429

    form = {"c_" + c.replace(".", "_"): "5" for c in CODES}
    assert client.post(f"/s/{token}", data=form).status_code == 302
    assert client.post(f"/s/{token}", data=form).status_code == 409
    page = client.get("/o/BD-DB").get_data(as_text=True)
    ft = re.search(r'name="ft" value="([^"]+)"', page).group(1)
    assert client.post("/o/BD-DB", data=form | {"ft": ft}).status_code == 302

    after = counts(scrape(client))
    delta = {k: after[k] - before[k] for k in after}
    assert delta == {("kiosk", "stored"): 1, ("kiosk", "duplicate"): 1,
                     ("kiosk", "invalid"): 1, ("kiosk", "rate_limited"): 1,
                     ("qr", "stored"): 1, ("qr", "duplicate"): 1, ("generic", "stored"): 1,
                     ("replay", "kiosk"): 1}

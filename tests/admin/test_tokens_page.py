"""The personal API tokens page: a new token is shown once, listed by prefix, revocable."""

from __future__ import annotations

import re

from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_tokens_page_shows_once_and_revokes(client, world):
    login(client, "stp")
    page = client.post("/admin/tokens", data={"label": "Hệ thống báo cáo"}
                       ).get_data(as_text=True)
    token = re.search(r'<code class="token">(sipas_[^<]+)</code>', page).group(1)
    m = world["month"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/offices/STP/reports/{m}", headers=auth).status_code == 200
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert token not in listing and token[:12] in listing
    tid = re.search(r"/admin/tokens/(\d+)/revoke", listing).group(1)
    assert client.post(f"/admin/tokens/{tid}/revoke").status_code == 302
    assert client.get(f"/api/v1/offices/STP/reports/{m}", headers=auth).status_code == 401

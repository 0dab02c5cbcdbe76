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


def _token_for(runner, username: str) -> str:
    result = runner.invoke(args=["tokens", "create", username, "--label", "báo cáo"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _report(client, token: str, code: str, month: str) -> int:
    return client.get(f"/api/v1/offices/{code}/reports/{month}",
                      headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_password_reset_by_an_administrator_revokes_the_users_tokens(client, runner, world):
    """Attack: the account was compromised; the administrator resets its password, but the
    token the intruder made still read every report."""
    token = _token_for(runner, "bd")
    m = world["month"]
    assert _report(client, token, "BD", m) == 200
    login(client, "city")
    assert client.post(f"/admin/users/{world['users']['bd'].id}/reset").status_code == 200
    assert _report(client, token, "BD", m) == 401


def test_disabling_a_user_revokes_their_tokens_for_good(client, runner, world):
    """Attack: a token made before the account was disabled works again once the account
    is enabled (e.g. for its new owner)."""
    token = _token_for(runner, "bd")
    m = world["month"]
    login(client, "city")
    bd = world["users"]["bd"].id
    assert client.post(f"/admin/users/{bd}/disable").status_code == 302
    assert client.post(f"/admin/users/{bd}/enable").status_code == 302
    assert _report(client, token, "BD", m) == 401


def test_administrators_list_and_revoke_every_token(client, runner, world):
    bd_token = _token_for(runner, "bd")
    stp_token = _token_for(runner, "stp")
    m = world["month"]
    login(client, "city")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert bd_token[:12] in page and stp_token[:12] in page
    assert bd_token not in page and stp_token not in page
    from core.services.accounts import tokens_of

    bd_id = tokens_of(world["users"]["bd"])[0].id
    assert f"/admin/tokens/{bd_id}/revoke" in page
    assert client.post(f"/admin/tokens/{bd_id}/revoke").status_code == 302
    assert _report(client, bd_token, "BD", m) == 401
    assert _report(client, stp_token, "STP", m) == 200


def test_others_tokens_stay_hidden_from_heads(client, runner, world):
    bd_token = _token_for(runner, "bd")
    login(client, "stp")
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert bd_token[:12] not in page
    from core.services.accounts import tokens_of

    bd_id = tokens_of(world["users"]["bd"])[0].id
    assert client.post(f"/admin/tokens/{bd_id}/revoke").status_code == 404


def test_flask_tokens_list_and_revoke(client, runner, world):
    bd_token = _token_for(runner, "bd")
    _token_for(runner, "stp")
    listing = runner.invoke(args=["tokens", "list"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.strip().splitlines()
    assert lines[0].split("\t") == ["id", "user", "prefix", "label", "created", "last_used",
                                    "state"]
    assert len(lines) == 3 and bd_token not in listing.output
    assert lines[1].split("\t")[:4] == ["1", "bd", bd_token[:12], "báo cáo"]
    assert lines[1].split("\t")[-1] == "active"
    only_bd = runner.invoke(args=["tokens", "list", "--user", "bd"]).output.strip()
    assert only_bd.splitlines() == lines[:2]
    assert runner.invoke(args=["tokens", "revoke", "1"]).exit_code == 0
    assert _report(client, bd_token, "BD", world["month"]) == 401
    assert runner.invoke(args=["tokens", "list"]).output.splitlines()[1].endswith("\trevoked")

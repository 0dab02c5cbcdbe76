"""The results area's commands: ``flask users``, ``flask tokens`` and ``flask targets``."""

from __future__ import annotations

import sqlalchemy as sa

from core.extensions import db
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world


def test_targets_import_loads_the_city_plan(runner, offices):
    from core.services.targets import own_targets

    result = runner.invoke(args=["targets", "import"])
    assert result.exit_code == 0, result.output
    assert "Đã nạp 30 chỉ tiêu cho HN." in result.output
    assert len(own_targets(offices["HN"], 2022)) == 30


def test_targets_file_errors_store_nothing(app, runner, tmp_path, offices):
    bad = tmp_path / "t.csv"
    bad.write_text("year,code,target\n2022,I.1,91\n2022,IX.9,90\n2022,I.2,140\n",
                   encoding="utf-8")
    result = runner.invoke(args=["targets", "import", str(bad)])
    assert result.exit_code == 1
    assert "IX.9" in result.output
    from core.models import Target

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)) == 0


def test_cli_users_and_tokens(app, runner, world, client):
    app.config["PASSWORD_HASH_METHOD"] = admin_fixtures.FAST
    r = runner.invoke(args=["users", "create", "nguyen.van.a", "--role", "head", "--office",
                            "BD-DB", "--password-stdin"], input="Mot-mat-khau-dai-1\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["users", "create", "x", "--role", "head", "--password-stdin"],
                      input="Mot-mat-khau-dai-1\n")
    assert r.exit_code == 1 and "cơ quan" in r.output
    listing = runner.invoke(args=["users", "list"]).output
    assert "nguyen.van.a\thead\tBD-DB\tactive" in listing
    r = runner.invoke(args=["tokens", "create", "nguyen.van.a"])
    assert r.exit_code == 0
    token = r.output.strip().splitlines()[-1]
    assert token.startswith("sipas_") and " " not in token
    m = world["month"]
    url = f"/api/v1/offices/BD-DB/reports/{m}"
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=auth).status_code == 200
    assert client.get(f"/api/v1/offices/BD/reports/{m}", headers=auth).status_code == 404
    # the token is stored hashed only
    from core.models import ApiToken

    stored = db.session.scalars(sa.select(ApiToken.digest)).all()
    assert token not in stored
    # first sign-in with the CLI password forces a change
    assert login(client, "nguyen.van.a", "Mot-mat-khau-dai-1").location.endswith(
        "/admin/password")
    assert runner.invoke(args=["users", "disable", "nguyen.van.a"]).exit_code == 0
    assert client.get(url, headers=auth).status_code == 401
    assert "nguyen.van.a\thead\tBD-DB\tdisabled" in runner.invoke(args=["users", "list"]).output

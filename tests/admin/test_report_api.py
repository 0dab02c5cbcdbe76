"""The reporting API: ``GET /api/v1/offices/<code>/reports/<month>`` answers what
``flask report`` says, in the shape its OpenAPI document promises, errors included."""

from __future__ import annotations

from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import report_json

world = admin_fixtures.world


def _openapi_to_jsonschema(node, schemas):
    """Inline $refs and turn OpenAPI 3.0 ``nullable`` into JSON Schema types."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(x, schemas) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _openapi_to_jsonschema(schemas[node["$ref"].rsplit("/", 1)[1]], schemas)
    out = {k: _openapi_to_jsonschema(v, schemas) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def test_api_report_matches_cli_and_openapi(app, client, runner, world):
    import jsonschema

    from core.services.accounts import create_token

    m = world["month"]
    token = create_token(world["users"]["bd"], "city system", actor="test").secret
    r = client.get(f"/api/v1/offices/BD/reports/{m}",
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.get_json() == report_json(runner, "BD", m)
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/offices/{code}/reports/{period}"]["get"]
    schemas = doc["components"]["schemas"]
    ok = _openapi_to_jsonschema(op["responses"]["200"]["content"]["application/json"]["schema"],
                                schemas)
    jsonschema.validate(r.get_json(), ok)
    err_schema = _openapi_to_jsonschema(schemas["Error"], schemas)
    for url, headers, status in (
            (f"/api/v1/offices/STP/reports/{m}", {"Authorization": f"Bearer {token}"}, 404),
            ("/api/v1/offices/BD/reports/2022-13", {"Authorization": f"Bearer {token}"}, 400),
            (f"/api/v1/offices/BD/reports/{m}", {"Authorization": "Bearer sipas_nope"}, 401),
            (f"/api/v1/offices/BD/reports/{m}", {}, 401)):
        resp = client.get(url, headers=headers)
        assert resp.status_code == status
        assert str(status) in op["responses"]
        jsonschema.validate(resp.get_json(), err_schema)


def test_api_report_of_an_incomplete_month_matches_cli_and_openapi(app, client, runner, world,
                                                                  tmp_path):
    """The new report shape (target object, complete/missing, change) through the API: the
    seed's 2021 shares with V blank, then with V, validated against the OpenAPI document."""
    import jsonschema

    from core.services.accounts import create_token
    from tests.admin.fixtures import load_seed_2021

    load_seed_2021(runner, tmp_path, with_v=False)
    load_seed_2021(runner, tmp_path, with_v=True, day="2022-08-15")
    token = create_token(world["users"]["city"], "city system", actor="test").secret
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    ok = _openapi_to_jsonschema(schemas["Report"], schemas)
    for month in ("2022-07", "2022-08"):
        r = client.get(f"/api/v1/offices/HN/reports/{month}",
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        data = r.get_json()
        assert data == report_json(runner, "HN", month)
        jsonschema.validate(data, ok)
    assert data["complete"] is True and data["target"]["met"] is False
    july = report_json(runner, "HN", "2022-07")
    assert july["complete"] is False and july["missing"] == ["V"]
    assert july["target"]["met"] is None and july["target"]["operator"] == ">"

"""Receipt links: minting through the API and the CLI, API keys, token verification."""

from __future__ import annotations

import re

import jsonschema
import pytest
import sqlalchemy as sa
from itsdangerous import Signer

from core.extensions import db
from core.models import AuditEvent, OfficeApiKey, Receipt
from core.receipt_keys import receipt_keys
from core.services.receipts import TOKEN_SALT, create_api_key, mint_receipt, verify_token

CODE = "000.00.20.H26-220101-0001"


@pytest.fixture
def key(offices) -> str:
    return create_api_key("BD-KM", "one-stop software")[1]


def mint(client, key: str, **body):
    body.setdefault("dossier_code", CODE)
    return client.post("/api/v1/receipts", json=body, headers={"Authorization": f"Bearer {key}"})


def openapi_validator(client, schema_name: str):
    doc = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    return jsonschema.Draft7Validator(schema)


def test_minting_is_idempotent_and_matches_the_openapi_document(client, key):
    first = mint(client, key, procedure="Cấp giấy phép xây dựng")
    assert first.status_code == 201
    body = first.get_json()
    openapi_validator(client, "Receipt").validate(body)
    assert body["office_code"] == "BD-KM"
    assert body["url"] == f"http://localhost/s/{body['token']}"
    assert body["qr_png_url"].endswith(f"/api/v1/receipts/{body['token']}/qr.png")
    again = mint(client, key, dossier_code="  " + CODE.lower() + " ")
    assert again.status_code == 200
    assert again.get_json() == body  # a reprinted receipt carries the same link
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1
    other = mint(client, key, dossier_code=CODE.replace("0001", "0002"))
    assert other.status_code == 201 and other.get_json()["token"] != body["token"]


def test_dossier_code_is_stored_only_as_a_keyed_hash(client, key, app):
    mint(client, key)
    rows = db.session.execute(sa.select(Receipt.__table__)).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    assert CODE not in stored and CODE.lower() not in stored
    assert "220101" not in stored
    # the hash depends on a server key: another key gives another hash
    from core.receipt_keys import ReceiptKey
    from core.services.receipts import dossier_hash
    assert dossier_hash(CODE) != dossier_hash(CODE, ReceiptKey("other", b"another key"))


def test_invalid_requests_get_json_errors_that_match_the_openapi_document(client, key):
    error = openapi_validator(client, "Error")
    for bad in ("", "abc", "x" * 80, "ABCD-EFGH", "000 00 20", 12345, None):
        resp = mint(client, key, dossier_code=bad)
        assert resp.status_code == 400, bad
        error.validate(resp.get_json())
        assert "dossier_code" in resp.get_json()["fields"]
    resp = client.post("/api/v1/receipts", data="not json",
                       headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 400 and resp.get_json()["fields"] == {
        "body": "phải là một đối tượng JSON"}
    resp = mint(client, key, procedure="x" * 300)
    assert resp.status_code == 400 and "procedure" in resp.get_json()["fields"]


def test_missing_unknown_and_revoked_keys_get_401(client, key, runner):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {key}"}):
        resp = client.post("/api/v1/receipts", json={"dossier_code": CODE}, headers=headers)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert resp.get_json()["error"] == "unauthorized"
    assert mint(client, key).status_code == 201
    prefix = db.session.scalar(sa.select(OfficeApiKey.prefix))
    result = runner.invoke(args=["apikeys", "revoke", prefix])
    assert result.exit_code == 0, result.output
    resp = mint(client, key)
    assert resp.status_code == 401 and resp.get_json()["error"] == "key_revoked"
    openapi_validator(client, "Error").validate(resp.get_json())


def test_the_key_service_takes_the_bare_key_and_raises_domain_errors(app, key):
    from core.errors import Unauthenticated
    from core.services.receipts import authenticate_key, revoke_api_key

    assert authenticate_key(key).office.code == "BD-KM"
    for bad, code in ((None, "unauthorized"), ("", "unauthorized"),
                      (f"Bearer {key}", "unauthorized"), ("sipas_nope", "unauthorized")):
        with pytest.raises(Unauthenticated) as err:
            authenticate_key(bad)
        assert err.value.code == code
    revoke_api_key(authenticate_key(key).prefix)
    with pytest.raises(Unauthenticated) as err:
        authenticate_key(key)
    assert err.value.code == "key_revoked"


def test_a_key_cannot_mint_for_another_office(client, key, offices):
    resp = mint(client, key, office_code="BD-DB")
    assert resp.status_code == 403 and resp.get_json()["error"] == "wrong_office"
    assert mint(client, key, office_code="BD-KM").status_code == 201
    assert mint(client, key, office_code="NOPE").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1


def test_inactive_office_cannot_mint(client, key, offices):
    offices["BD-KM"].active = False
    db.session.commit()
    resp = mint(client, key)
    assert resp.status_code == 403 and resp.get_json()["error"] == "office_inactive"


def test_token_verification(app, client, key, offices):
    token = mint(client, key).get_json()["token"]
    assert verify_token(token).office.code == "BD-KM"
    token_id, _sep, sig = token.partition(".")
    altered_id = ("A" if token_id[0] != "A" else "B") + token_id[1:]
    # a middle character (the last one of base64 may carry only padding bits)
    altered_sig = sig[:5] + ("A" if sig[5] != "A" else "B") + sig[6:]
    forged_sig = Signer("not the secret", salt=TOKEN_SALT).sign(token_id).decode()
    unknown = Signer(receipt_keys(app.config)[0].secret, salt=TOKEN_SALT).sign(
        "neverminted").decode()
    for bad in (f"{altered_id}.{sig}", f"{token_id}.{altered_sig}", forged_sig, unknown,
                token_id, "", "...", token + "x"):
        page = client.get(f"/s/{bad}") if bad else None
        if page is not None:
            assert page.status_code == 404, bad
            assert "Đường liên kết khảo sát này không hợp lệ" in page.get_data(as_text=True)


def test_expiry_is_configurable_and_expired_links_get_410(make_app):
    app = make_app(RECEIPT_VALIDITY_DAYS=2)
    with app.app_context():
        import io

        from core.services.offices import get_office, import_offices
        from tests.conftest import SMALL_TREE

        import_offices(io.StringIO(SMALL_TREE))
        minted = mint_receipt(get_office("BD-KM"), CODE)
        receipt = minted.receipt
        assert (receipt.expires_at - receipt.created_at).days == 2
        client = app.test_client()
        assert client.get(f"/s/{minted.token}").status_code == 200
        stored = db.session.get(Receipt, receipt.id)
        stored.expires_at = stored.created_at
        db.session.commit()
        page = client.get(f"/s/{minted.token}")
        assert page.status_code == 410
        html = page.get_data(as_text=True)
        assert "Đường liên kết khảo sát này đã hết hạn" in html and 'lang="vi"' in html


def test_links_of_a_withdrawn_key_and_of_an_inactive_office_fail(client, key, offices, runner):
    token = mint(client, key).get_json()["token"]
    offices["BD-KM"].active = False
    db.session.commit()
    page = client.get(f"/s/{token}")
    assert page.status_code == 403 and "không tiếp nhận đánh giá" in page.get_data(as_text=True)
    offices["BD-KM"].active = True
    db.session.commit()
    prefix = db.session.scalar(sa.select(OfficeApiKey.prefix))
    # revoking the key stops minting; links already printed keep working
    revoked = runner.invoke(args=["apikeys", "revoke", prefix])
    assert revoked.exit_code == 0 and "vẫn dùng được" in revoked.output
    assert client.get(f"/s/{token}").status_code == 200
    assert mint(client, key).status_code == 401
    # ... unless the administrator also withdraws them
    runner.invoke(args=["apikeys", "revoke", prefix, "--withdraw-links"])
    page = client.get(f"/s/{token}")
    assert page.status_code == 403
    assert "Cơ quan đã thu hồi đường liên kết" in page.get_data(as_text=True)


def test_qr_image_urls(client, key):
    body = mint(client, key).get_json()
    png = client.get(body["qr_png_url"])
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG") and "private" in png.headers["Cache-Control"]
    svg = client.get(body["qr_svg_url"])
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert "Quét mã để đánh giá" in svg.get_data(as_text=True)
    assert client.get(body["qr_png_url"].replace(body["token"], body["token"] + "x")
                      ).status_code == 404


def test_cli_api_keys_and_minting(runner, offices, client, tmp_path):
    result = runner.invoke(args=["apikeys", "create", "BD-KM", "--label", "iGate"])
    assert result.exit_code == 0, result.output
    new_key = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"sipas_[A-Za-z0-9_-]{40,}", new_key)
    stored = db.session.scalar(sa.select(OfficeApiKey))
    assert new_key not in (stored.key_hash, stored.prefix) and new_key.startswith(stored.prefix)
    assert mint(client, new_key).status_code == 201

    listing = runner.invoke(args=["apikeys", "list"])
    assert stored.prefix in listing.output and "active" in listing.output
    assert "iGate" in listing.output and new_key not in listing.output
    assert runner.invoke(args=["apikeys", "create", "NOPE"]).exit_code == 1

    out = tmp_path / "qr.png"
    first = runner.invoke(args=["receipts", "mint", "BD-KM", CODE.replace("1", "7"),
                                "-o", str(out), "--base-url", "https://sipas.example.vn"])
    assert first.exit_code == 0, first.output
    url = first.stdout.strip().splitlines()[-1]
    assert url.startswith("https://sipas.example.vn/s/")
    assert out.read_bytes().startswith(b"\x89PNG")
    again = runner.invoke(args=["receipts", "mint", "BD-KM", CODE.replace("1", "7"),
                                "--base-url", "https://sipas.example.vn"])
    assert again.stdout.strip().splitlines()[-1] == url
    bad = runner.invoke(args=["receipts", "mint", "BD-KM", "??"])
    assert bad.exit_code == 1

    revoke = runner.invoke(args=["apikeys", "revoke", stored.prefix])
    assert revoke.exit_code == 0
    assert "revoked" in runner.invoke(args=["apikeys", "list", "BD-KM"]).output
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"apikey.create", "apikey.revoke"} <= actions

"""What every request goes through: security headers, request ids, JSON access logs, proxy
trust, and refusal of hostile bodies (oversized, invalid UTF-8, deeply nested JSON)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from flask import jsonify, request

from core import ConfigError, create_app
from core.config import DEV_SECRET_KEY
from core.http import json_depth_exceeds

REPO = Path(__file__).resolve().parents[2]
RING = "k1:" + base64.b64encode(b"receipt-key-for-tests-0123456789").decode()


def _add_echo(app):
    """A JSON route under /api/ (the areas' real ones land later) and a form page route."""

    def echo():
        return jsonify(received=request.get_json())

    app.add_url_rule("/api/v1/_echo", "echo", echo, methods=["POST"])
    return app


@pytest.fixture
def echo_app(make_app):
    app = _add_echo(make_app())
    with app.app_context():
        yield app


def _access_lines(out: str) -> list[dict]:
    lines = []
    for line in out.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "sipas.access":
                lines.append(entry)
    return lines


# --- security headers ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/does-not-exist", "/api/v1/openapi.json", "/healthz",
                                  "/kiosk/", "/admin/"])
def test_every_response_has_strict_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP


def test_hsts_only_over_https(client):
    resp = client.get("/", base_url="https://localhost")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_forwarded_proto_is_trusted_only_when_proxy_fix_is_configured(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusting = make_app()
    assert "Strict-Transport-Security" not in untrusting.test_client().get(
        "/", headers=forwarded).headers

    trusting = make_app(PROXY_FIX=1)
    seen = {}

    @trusting.get("/_whoami")
    def whoami():
        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    resp = trusting.test_client().get("/_whoami", headers=forwarded)
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert seen == {"addr": "203.0.113.9", "secure": True}


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP forbids inline code: every template in the repository must do without it."""
    offenders = []
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    inline_handler = re.compile(r"\son[a-z]+\s*=", re.I)
    inline_style = re.compile(r"<style\b|\sstyle\s*=", re.I)
    templates = [p for p in REPO.rglob("templates/**/*.html")
                 if ".venv" not in p.parts and "node_modules" not in p.parts]
    assert templates
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for pattern in (inline_script, inline_handler, inline_style):
            for match in pattern.finditer(text):
                offenders.append(f"{path.relative_to(REPO)}: {match.group(0)}")
    assert offenders == []


# --- request id and logs -------------------------------------------------------------------

def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-ID": "kiosk-42.abc"})
    assert given.headers["X-Request-ID"] == "kiosk-42.abc"
    fresh = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["X-Request-ID"])
    hostile = client.get("/healthz", headers={"X-Request-ID": "a b\"c<script>" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["X-Request-ID"])


def test_access_log_is_json_with_request_id_and_never_the_body(echo_app, capsys):
    capsys.readouterr()
    secret_comment = "Cán bộ Nguyễn Văn A rất tệ"
    resp = echo_app.test_client().post(
        "/api/v1/_echo?token=abc123", json={"comment": secret_comment},
        headers={"X-Request-ID": "req-1"})
    assert resp.status_code == 200
    out = capsys.readouterr().out
    [entry] = [e for e in _access_lines(out) if e["request_id"] == "req-1"]
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/v1/_echo"
    assert entry["endpoint"] == "echo"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert secret_comment not in out and "Nguy" not in out
    assert "abc123" not in out  # query strings may carry tokens: not logged


def test_secret_route_arguments_are_not_logged(make_app, capsys):
    app = make_app()
    app.add_url_rule("/s/<token>", "receipt", lambda token: "ok")
    capsys.readouterr()
    app.test_client().get("/s/RcPt-s3cr3t-value", headers={"X-Request-ID": "req-2"})
    out = capsys.readouterr().out
    [entry] = [e for e in _access_lines(out) if e["request_id"] == "req-2"]
    assert entry["path"] == "/s/<token>"
    assert "s3cr3t" not in out


# --- hostile input -------------------------------------------------------------------------

def test_oversized_api_body_is_413_json_before_it_is_read(echo_app):
    client = echo_app.test_client()
    big = b"[" + b"1," * (1024 * 1024 + 10) + b"1]"
    resp = client.post("/api/v1/_echo", data=big, content_type="application/json")
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "too_large"
    # even on a route that would never read the body
    resp = client.get("/api/v1/openapi.json", data=big)
    assert resp.status_code == 413 and resp.is_json


def test_oversized_form_body_gets_a_friendly_page(client):
    resp = client.post("/", data=b"x" * (3 * 1024 * 1024),
                       content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 413
    assert "Dữ liệu quá lớn" in resp.get_data(as_text=True)


def test_invalid_utf8_json_is_400_json(echo_app):
    resp = echo_app.test_client().post("/api/v1/_echo", data=b'{"comment": "\xff\xfe\xc3"}',
                                       content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "invalid_encoding"


@pytest.mark.parametrize("depth", [33, 1000, 200_000])
def test_deeply_nested_json_is_400_json(echo_app, depth):
    body = "[" * depth + "]" * depth
    resp = echo_app.test_client().post("/api/v1/_echo", data=body,
                                       content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "too_deep"


def test_json_within_limits_still_works(echo_app):
    nested = {"a": [[[[{"b": "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\"[[[[[["}]]]]}
    resp = echo_app.test_client().post("/api/v1/_echo", json=nested)
    assert resp.status_code == 200
    assert resp.get_json()["received"] == nested


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"[1,]", b"NaN-ish",
                                  b'{"a": 1' + b"9" * 5000 + b"}"])
def test_malformed_json_is_400_json(echo_app, body):
    resp = echo_app.test_client().post("/api/v1/_echo", data=body,
                                       content_type="application/json")
    assert resp.status_code == 400
    assert resp.is_json and resp.get_json()["error"] == "bad_request"


def test_json_depth_scanner():
    assert not json_depth_exceeds(b'{"a": [1, {"b": 2}]}', 3)
    assert json_depth_exceeds(b'{"a": [1, {"b": 2}]}', 2)
    assert not json_depth_exceeds(b'["[[[[[[[[", "\\"[[[[["]', 1)
    assert not json_depth_exceeds(b'["\\\\", "[[[["]', 1)
    assert json_depth_exceeds(b"[" * 100, 32)  # unbalanced


def test_json_depth_scanner_agrees_with_the_real_depth():
    import random

    def depth(o):
        if isinstance(o, dict | list):
            return 1 + max((depth(v) for v in (o.values() if isinstance(o, dict) else o)),
                           default=0)
        return 0

    rng = random.Random(6)

    def gen(d):
        if d == 0 or rng.random() < 0.2:
            return rng.choice(["x", '"]\\', "[{", 1, '\\"]', None])
        if rng.random() < 0.5:
            return [gen(d - 1) for _ in range(rng.randint(0, 3))]
        return {f"k{i}]": gen(d - 1) for i in range(rng.randint(0, 3))}

    for _ in range(600):
        obj = gen(rng.randint(0, 10))
        data, real = json.dumps(obj).encode(), depth(obj)
        for limit in range(11):
            assert json_depth_exceeds(data, limit) == (real > limit), (data, limit)


# --- secrets -------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, "", DEV_SECRET_KEY, "short-secret"])
def test_production_refuses_to_start_without_a_real_secret(secret, monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"ENV": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    if secret is not None:
        config["SECRET_KEY"] = secret
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(("keys", "message"), [
    (None, "SIPAS_RECEIPT_KEYS is not set"),
    ("", "SIPAS_RECEIPT_KEYS is not set"),
    ("k1", "entry 1 must be <id>:<base64 secret>"),
    (f"k1:{_b64(b'x' * 32)},bad id:{_b64(b'y' * 32)}", "entry 2 must be"),
    ("k1:not*base64!", "the secret of key 'k1' is not base64"),
    ("k1:", "the secret of key 'k1' is empty"),
    (f"k1:{_b64(b'x' * 32)},k1:{_b64(b'y' * 32)}", "key id 'k1' appears twice"),
    (f"k2:{_b64(b'x' * 32)},k1:{_b64(b'short')}", "key 'k1' is too short"),
])
def test_production_refuses_to_start_without_sound_receipt_keys(keys, message, tmp_path):
    """Receipt links need keys of their own in production; a malformed ring is refused
    before anything is served, and the message never shows a secret."""
    config = {"ENV": "production", "SECRET_KEY": "a" * 40, "SINGLE_PROCESS": True,
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    if keys is not None:
        config["RECEIPT_KEYS"] = keys
    with pytest.raises(ConfigError, match=message) as err:
        create_app(config)
    assert _b64(b"x" * 32) not in str(err.value) and "x" * 32 not in str(err.value)


def test_receipt_keys_outside_production_and_the_retired_hash_key(tmp_path):
    """Development and tests derive one key from SECRET_KEY when the ring is not set (the
    material links were signed with before the ring); a malformed ring is refused
    everywhere, and so is the retired RECEIPT_HASH_KEY (silently ignoring it would make
    every dossier hashed under it look new)."""
    from core.receipt_keys import receipt_keys

    base = {"ENV": "development", "SECRET_KEY": "dev-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    ring = receipt_keys(create_app(base).config)
    assert [(k.id, k.secret) for k in ring] == [("legacy", b"dev-secret")]
    with pytest.raises(ConfigError, match="not base64"):
        create_app({**base, "RECEIPT_KEYS": "k1:???"})
    with pytest.raises(ConfigError, match="RECEIPT_HASH_KEY is no longer read"):
        create_app({**base, "RECEIPT_HASH_KEY": "old"})
    app = create_app({**base, "ENV": "production", "SECRET_KEY": "a" * 40,
                      "SINGLE_PROCESS": True,
                      "RECEIPT_KEYS": f" k2:{_b64(b'n' * 32)} , legacy:{_b64(b'a' * 40)}"})
    assert [k.id for k in receipt_keys(app.config)] == ["k2", "legacy"]


def test_production_secret_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIPAS_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a" * 40)
    monkeypatch.setenv("SIPAS_SINGLE_PROCESS", "1")
    monkeypatch.setenv("SIPAS_RECEIPT_KEYS", RING)
    app = create_app()
    assert app.config["ENV"] == "production" and not app.testing


# --- credentials ---------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("Bearer", None), ("Bearer ", None), ("Bearer    ", None),
    ("Basic dXNlcjpwYXNz", None), ("Bearer\tabc", None),
    ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc ", "abc"),
])
def test_bearer_token_is_read_from_the_authorization_header_only(app, header, expected):
    from core.http import bearer_token

    headers = {} if header is None else {"Authorization": header}
    with app.test_request_context("/", headers=headers):
        assert bearer_token() == expected

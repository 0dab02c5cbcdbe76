"""A log line is a database too: driving the kiosk, receipt, generic-link and admin flows, no
line of the application's log (access lines included) or of gunicorn's access log carries a
token, credential, key, password, kiosk submission id, response id or kiosk id."""

from __future__ import annotations

import io
import re
import uuid

import sqlalchemy as sa

from core.extensions import db
from core.logs import SECRET_PATH_PREFIXES, redact_path
from core.models import Response
from core.questionnaire import field_name
from core.services import kiosks as kiosk_service
from core.services.accounts import create_user
from core.services.offices import get_office, import_offices
from core.services.receipts import create_api_key
from tests.conftest import SMALL_TREE
from tests.helpers import CODES, release_all

PASSWORD = "Hoan-Kiem-lake-1"  # noqa: S105 - a test account's


def form_token(html: str) -> str:
    match = re.search(r'name="ft" value="([^"]+)"', html)
    assert match
    return match.group(1)


def drive_every_flow(app, client) -> list[str]:
    """Kiosk activation, answers and heartbeat; a receipt minted, opened, answered, its QR
    image; the generic link; an administrator's sign-in, dashboard and export; the release.
    Returns every secret or identifier the logs must not show."""
    import_offices(io.StringIO(SMALL_TREE))
    office = get_office("BD-KM")
    secrets: list[str] = [PASSWORD]
    # a tablet activated through its one-time link
    new = kiosk_service.add_kiosk(office, "Quầy 7")
    secrets.append(new.activation_code)
    client.get(f"/kiosk/activate/{new.activation_code}")
    client.post(f"/kiosk/activate/{new.activation_code}", data={})
    credential = client.get_cookie("sipas_kiosk", path="/kiosk").value
    secrets.append(credential)
    auth = {"Authorization": f"Bearer {credential}"}
    for i in range(3):
        sid = str(uuid.uuid4())
        secrets.append(sid)
        answers = {c: 1 + (i + n) % 5 for n, c in enumerate(CODES)}
        r = client.post("/api/v1/responses", json={"id": sid, "instrument": "hanoi-2022",
                                                   "answers": answers}, headers=auth)
        assert r.status_code == 201, r.get_json()
    assert client.post("/api/v1/kiosk/heartbeat", json={"pending": 0},
                       headers=auth).status_code == 200
    # a receipt minted by the one-stop software, answered on a phone
    _row, key = create_api_key("BD-KM", "test")
    secrets.append(key)
    minted = client.post("/api/v1/receipts", json={"dossier_code": "000.00.20.H26-261130-0042",
                                                   "procedure": "Cấp bản sao"},
                         headers={"Authorization": f"Bearer {key}"})
    assert minted.status_code == 201
    token = minted.get_json()["token"]
    secrets.extend([token, token.split(".")[0], "000.00.20.H26-261130-0042"])
    assert client.get(f"/s/{token}").status_code == 200
    client.get(f"/lang/en?next=/s/{token}")
    client.get(f"/lang/vi?next=/s/{token}")
    client.get(f"/s/{token}/more")  # matches no route: still redacted
    client.get(f"/api/v1/receipts/{token}/qr.svg")
    form = {field_name(c): "4" for c in CODES}
    assert client.post(f"/s/{token}", data=form).status_code == 302
    # the office's generic link
    ft = form_token(client.get("/o/BD-KM").get_data(as_text=True))
    secrets.append(ft)
    assert client.post("/o/BD-KM", data=form | {"ft": ft}).status_code == 302
    # an administrator
    create_user("city", "admin", None, PASSWORD, actor="test", must_change=False)
    assert client.post("/admin/login", data={"username": "city", "password": PASSWORD}
                       ).status_code == 302
    client.get("/admin/")
    release_all()
    month = db.session.scalar(sa.select(Response.month))
    assert client.get(f"/admin/exports/BD-KM/{month}/responses.csv").status_code == 200
    secrets.extend(db.session.scalars(sa.select(Response.uuid)))
    secrets.extend(str(i) for i in db.session.scalars(sa.select(Response.id)) if i > 99)
    db.session.remove()
    return secrets


def test_no_application_log_line_carries_a_secret_or_an_identifier(make_app, capsys):
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0)
    with app.app_context():
        client = app.test_client()
        capsys.readouterr()
        secrets = drive_every_flow(app, client)
        kiosk_ids = [k.id for k in kiosk_service.list_kiosks()]
    out = capsys.readouterr()
    logged = out.out + out.err
    assert logged.count('"logger": "sipas.access"') >= 15  # the flows were logged
    leaked = [s for s in secrets if s and s in logged]
    assert leaked == []
    for kid in kiosk_ids:
        assert not re.search(rf"kiosk\W{{0,3}}(id\W{{0,3}})?{kid}\b", logged, re.I)
    assert not re.search(r"receipt\W{0,3}\d", logged, re.I)  # no receipt id either
    assert "/s/<token>" in logged and "/kiosk/activate/<token>" in logged
    assert "next=" not in logged


def test_every_secret_route_is_covered_by_the_prefixes_other_logs_use(app):
    """gunicorn's and nginx's access logs see only the path: SECRET_PATH_PREFIXES must cover
    every route whose argument is a secret."""
    secret = set(app.config["LOG_REDACTED_ROUTE_ARGS"])
    for rule in app.url_map.iter_rules():
        if secret & rule.arguments:
            example = re.sub(r"<[^>]+>", "S3CR3T", rule.rule)
            assert "S3CR3T" not in redact_path(example), rule.rule
    assert redact_path("/s/abc.def?x=1") == "/s/<redacted>"
    assert redact_path("/lang/en?next=/s/abc") == "/lang/en"
    assert redact_path("/admin/") == "/admin/"


def test_the_sample_nginx_log_format_redacts_the_same_paths():
    """deploy/nginx.conf: the access log uses the private format, whose path map (applied
    here with Python's regular expressions, which agree with PCRE on these) hides what
    follows every secret prefix, and whose address map keeps only the network."""
    from core import REPO_ROOT

    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    assert "access_log /var/log/nginx/sipas.access.log sipas_private;" in conf
    assert not re.search(r"^\s*access_log\s+(?!off|/var/log/nginx/sipas.access.log sipas_private)",
                         conf, re.M)
    fmt = conf[conf.index("log_format sipas_private"):]
    fmt = fmt[:fmt.index(";")]
    for leak in ("$request ", "$request_uri", "$args", "$http_referer", "$http_user_agent",
                 "$remote_addr", "$http_cookie", "$query_string"):
        assert leak not in fmt + " ", leak
    block = conf[conf.index("map $uri $sipas_log_path {"):]
    block = block[:block.index("}")]
    rules = re.findall(r'^\s*~(\S+)\s+"([^"]+)";', block, re.M)
    assert {r[0].rstrip(".").lstrip("^") for r in rules} == set(SECRET_PATH_PREFIXES)

    def mapped(uri: str) -> str:
        for pattern, value in rules:
            if re.search(pattern, uri):
                return value
        return uri

    assert mapped("/s/AbC.dEf") == "/s/<redacted>"
    assert mapped("/kiosk/activate/xyz") == "/kiosk/activate/<redacted>"
    assert mapped("/api/v1/receipts/AbC.dEf/qr.png") == "/api/v1/receipts/<redacted>"
    assert mapped("/api/v1/receipts") == "/api/v1/receipts"  # minting: no secret in the path
    assert mapped("/admin/") == "/admin/"
    addr = conf[conf.index("map $remote_addr $sipas_log_addr {"):]
    addr = addr[:addr.index("}")]
    v4 = re.search(r"~(\^\(\?P<net>\\d\+.*?\$)\s", addr).group(1)
    assert re.sub(v4, r"\g<net>.0", "203.113.45.67") == "203.113.45.0"

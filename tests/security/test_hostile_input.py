"""Hostile input (issue 6): script payloads in office names and comments are escaped where they
appear, export cells cannot start a spreadsheet formula, SQL-injection strings in every
parameter are harmless, and a slow body does not tie a gunicorn worker up forever.

Oversized bodies, invalid UTF-8 and deep JSON are in tests/core/test_http.py and
tests/kiosk/test_api.py; this file adds them on the real routes (kiosk API, receipts API).
"""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import time
import uuid

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Office, PendingAnswer, Response
from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from core.services.receipts import create_api_key, mint_receipt
from core.services.reports import monthly_report, report_csv
from tests.helpers import CODES, release_all
from tools.servers import GunicornServer

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "</title><script>alert(document.cookie)</script>",
]
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1",
            '=HYPERLINK("http://evil.example","x")']
SQLI = [
    "' OR '1'='1",
    "1; DROP TABLE response; --",
    "x' UNION SELECT credential_hash FROM kiosk --",
    "%27%20OR%201%3D1--",
    "\\'; TRUNCATE office; --",
]
EVIL_NAME = XSS[0] + XSS[1]

TREE = f"""code,name,parent_code,level
HN,Thành phố Hà Nội,,city
EV,"{EVIL_NAME.replace('"', '""')}",HN,district
"""


@pytest.fixture
def evil(make_app):
    """An office whose name is a script payload, a kiosk and a receipt there."""
    app = make_app(KIOSK_MIN_SECONDS_BETWEEN=0, WTF_CSRF_ENABLED=True)
    with app.app_context():
        result = import_offices(io.StringIO(TREE))
        assert getattr(result, "errors", None) in (None, [], {}), result
        office = get_office("EV")
        assert office.name == EVIL_NAME
        kiosk = kiosk_service.add_kiosk(office, XSS[2], with_credential=True)
        token = mint_receipt(office, "000.00.20.H26-261128-0001").token
        _row, api_key = create_api_key("EV")
        yield app, kiosk.credential, token, api_key


def assert_escaped(html: str) -> None:
    for payload in XSS[:3] + XSS[4:]:
        assert payload not in html, payload
    for raw in ("<script>alert", "<img src=x", "<svg/onload"):
        assert raw not in html, raw
    # only external scripts (the CSP forbids inline ones)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_office_name_payload_is_escaped_on_every_page_that_shows_it(evil):
    app, credential, token, _key = evil
    client = app.test_client()
    pages = [client.get(f"/s/{token}"), client.get("/o/EV")]
    client.set_cookie("sipas_kiosk", credential)
    pages.append(client.get("/kiosk/"))
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
        assert_escaped(html)


def test_comment_payload_is_stored_verbatim_and_never_rendered_raw(evil):
    app, credential, token, _key = evil
    client = app.test_client()
    comment = " ".join(XSS)
    body = {"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {c: 4 for c in CODES}, "comment": comment}
    resp = client.post("/api/v1/responses", json=body,
                       headers={"Authorization": f"Bearer {credential}"})
    assert resp.status_code == 201
    with app.app_context():
        release_all()
        assert db.session.scalar(sa.select(Response.comment)) == comment
    # a page re-rendered with the comment (the phone form after a missing answer) escapes it
    page = client.get(f"/s/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = {"c_" + c.replace(".", "_"): "4" for c in CODES[:-1]}
    resp = client.post(f"/s/{token}", data=form | {"csrf_token": csrf, "comment": comment})
    assert resp.status_code == 400  # one answer missing: the form comes back
    html = resp.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_escaped(html)


# --- formula injection --------------------------------------------------------------------

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def assert_no_formula_cells(rows) -> None:
    for row in rows:
        for cell in row:
            if isinstance(cell, str) and cell:
                # a number such as -0.5 is data, not a formula
                try:
                    float(cell)
                    continue
                except ValueError:
                    pass
                assert not cell.startswith(DANGEROUS_START), repr(cell)


def test_report_csv_cells_cannot_start_a_formula(app):
    tree = "code,name,parent_code,level\nHN,Hà Nội,,city\n" + "".join(
        f'F{i},"{f.replace(chr(34), chr(34) * 2)}",HN,district\n'
        for i, f in enumerate(FORMULAS))
    import_offices(io.StringIO(tree))
    for i in range(len(FORMULAS)):
        report = monthly_report(get_office(f"F{i}"), "2026-11")
        assert_no_formula_cells(csv.reader(io.StringIO(report_csv(report))))


# --- SQL injection strings ----------------------------------------------------------------

def _counts() -> tuple[int, int]:
    """Offices, and answers acknowledged (pending or released)."""
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Office)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Response))
            + db.session.scalar(sa.select(sa.func.count()).select_from(PendingAnswer)))


@pytest.mark.parametrize("payload", SQLI)
def test_sql_injection_strings_in_every_parameter_are_harmless(evil, payload):
    app, credential, token, api_key = evil
    client = app.test_client()
    with app.app_context():
        before = _counts()
    quoted = payload.replace("/", "%2F").replace("#", "%23").replace("?", "%3F")
    kiosk_auth = {"Authorization": f"Bearer {credential}"}
    key_auth = {"Authorization": f"Bearer {api_key}"}
    answers = {c: 4 for c in CODES}
    statuses = [
        client.get(f"/s/{quoted}").status_code,
        client.get(f"/o/{quoted}").status_code,
        client.get(f"/api/v1/receipts/{quoted}/qr.png").status_code,
        client.get(f"/api/v1/receipts/{token}/qr.png", query_string={"box": payload}).status_code,
        client.get(f"/api/v1/receipts/{quoted}/qr.svg").status_code,
        client.get("/kiosk/activate/" + quoted).status_code,
        client.get("/survey/", query_string={"lang": payload, "q": payload}).status_code,
        client.post("/api/v1/responses", headers={"Authorization": f"Bearer {payload}"},
                    json={"id": str(uuid.uuid4())}).status_code,
        client.post("/api/v1/responses", headers=kiosk_auth, json={
            "id": payload, "instrument": "hanoi-2022", "answers": answers}).status_code,
        client.post("/api/v1/responses", headers=kiosk_auth, json={
            "id": str(uuid.uuid4()), "instrument": payload, "answers": answers}).status_code,
        client.post("/api/v1/responses", headers=kiosk_auth, json={
            "id": str(uuid.uuid4()), "instrument": "hanoi-2022",
            "answers": {payload: 4}}).status_code,
        client.post("/api/v1/responses", headers=kiosk_auth, json={
            "id": str(uuid.uuid4()), "instrument": "hanoi-2022", "answers": answers,
            "demographics": {payload: payload}, "expectations": {payload: 1},
            "submitted_at": payload}).status_code,
        client.post("/api/v1/receipts", headers=key_auth,
                    json={"dossier_code": payload}).status_code,
        client.post("/api/v1/receipts", headers=key_auth,
                    json={"dossier_code": "000.00.20.H26-1", "office_code": payload}).status_code,
        client.post("/api/v1/receipts", headers=key_auth,
                    json={"dossier_code": "000.00.20.H26-2", "procedure": payload}).status_code,
        client.post("/api/v1/receipts", headers={"Authorization": f"Bearer {payload}"},
                    json={"dossier_code": "000.00.20.H26-3"}).status_code,
    ]
    assert all(s < 500 for s in statuses), statuses
    assert statuses[0] == 404 and statuses[1] == 404 and statuses[2] == 404
    assert statuses[7] == 401 and statuses[15] == 401
    assert all(s == 400 for s in statuses[8:12]), statuses
    assert statuses[14] in (200, 201)  # a procedure is free text: stored as given
    # a comment is free text too: stored verbatim, nothing else happens
    resp = client.post("/api/v1/responses", headers=kiosk_auth, json={
        "id": str(uuid.uuid4()), "instrument": "hanoi-2022", "answers": answers,
        "comment": payload})
    assert resp.status_code == 201
    with app.app_context():
        assert _counts() == (before[0], before[1] + 1)
        assert db.session.scalar(sa.select(PendingAnswer.comment)) == payload


def test_nul_and_lone_surrogates_in_free_text_are_a_400_naming_the_field_not_a_500(evil):
    """PostgreSQL text cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8
    (found by the fuzzer: 500s). Both are refused by the one text rule of the intake, on
    the kiosk API and on the receipts API alike; nothing is stored."""
    app, credential, _token, api_key = evil
    client = app.test_client()
    for bad in ("a\u0000b", "\ud800"):
        body = json.dumps({"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
                           "answers": {c: 4 for c in CODES}, "comment": bad})
        resp = client.post("/api/v1/responses", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {credential}"})
        assert resp.status_code == 400 and set(resp.get_json()["fields"]) == {"comment"}
        body = json.dumps({"dossier_code": "000.00.20.H26-9", "procedure": bad})
        resp = client.post("/api/v1/receipts", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {api_key}"})
        assert resp.status_code == 400 and set(resp.get_json()["fields"]) == {"procedure"}
    db.session.rollback()  # the fixture's app context (and session) is still pushed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0


def test_a_timestamp_before_year_one_in_utc_is_a_400_not_a_500(evil):
    """Found by the fuzzer: 0001-01-01T00:02:01+01:01 overflowed when converted to UTC."""
    app, credential, _token, _key = evil
    resp = app.test_client().post(
        "/api/v1/responses", headers={"Authorization": f"Bearer {credential}"},
        json={"id": str(uuid.uuid4()), "instrument": "hanoi-2022",
              "answers": {c: 4 for c in CODES}, "submitted_at": "0001-01-01T00:02:01+01:01",
              "started_at": "0001-01-01T00:00:00+05:00"})
    assert resp.status_code == 400
    assert set(resp.get_json()["fields"]) == {"submitted_at", "started_at"}


# --- bodies on the real routes ------------------------------------------------------------

def test_hostile_bodies_on_the_real_api_routes_are_refused_cleanly(evil):
    app, credential, _token, api_key = evil
    client = app.test_client()
    for path, auth in (("/api/v1/responses", credential), ("/api/v1/receipts", api_key),
                       ("/api/v1/kiosk/heartbeat", credential)):
        headers = {"Authorization": f"Bearer {auth}", "Content-Type": "application/json"}
        big = client.post(path, data=b'{"x":"' + b"a" * (3 * 1024 * 1024) + b'"}',
                          headers=headers)
        bad = client.post(path, data=b'{"comment": "\xff\xfe"}', headers=headers)
        deep = client.post(path, data=b"[" * 5000 + b"]" * 5000, headers=headers)
        for resp in (big, bad, deep):
            assert resp.status_code in (400, 413), (path, resp.status_code)
            assert resp.is_json and resp.get_json()["error"]
        assert big.status_code == 413
    with app.app_context():
        assert _counts()[1] == 0


# --- slowloris ----------------------------------------------------------------------------

def test_a_slow_body_is_cut_off_and_the_server_keeps_serving(tmp_path):
    """Gunicorn's sync worker has no read timeout of its own: a client that trickles its body
    holds the worker until the arbiter's worker timeout kills it (nginx in front buffers
    bodies, docs/deploy.md). Bounded: GUNICORN_TIMEOUT=3 here."""
    url = f"sqlite:///{tmp_path / 'slow.sqlite3'}"
    from core import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    with GunicornServer(url, workers=1, env={"GUNICORN_TIMEOUT": "3"}) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(b"POST /api/v1/responses HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 25:
            try:
                sock.sendall(b" ")
                sock.settimeout(1)
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
        sock.close()
        assert closed, "the slow client was never cut off"
        assert time.monotonic() - started < 25
        server.wait_for_workers()
        assert server.request("GET", "/healthz")[0] == 200
        assert json.loads(server.request("GET", "/readyz")[2])["status"] == "ready"


# --- the results area: pages, PDF, XLSX, CSV -------------------------------------------------

EVIL_COMMENTS = [*XSS, *FORMULAS, "-2+3", "@cmd|' /C calc'!A0"]


def test_results_area_escapes_and_neutralises_everywhere(app, offices, instrument):
    import shutil
    import subprocess

    from openpyxl import load_workbook

    from core.services.accounts import create_user
    from core.timeutil import last_complete_month
    from tests.admin.fixtures import FAST, PASSWORDS, login, make_responses

    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("city", "admin", None, PASSWORDS["city"], actor="test", must_change=False)
    month = last_complete_month()
    office = offices["BD-KM"]
    office.name = "=cmd|' /C calc'!A0 " + EVIL_NAME
    db.session.commit()
    for text in EVIL_COMMENTS:
        make_responses(instrument, office, month, 1, comment=text)
    make_responses(instrument, office, month, 10)
    client = app.test_client()
    assert login(client, "city").status_code in (302, 303)

    for path in (f"/admin/?office=BD-KM&month={month}",
                 f"/admin/comments?office=BD-KM&month={month}",
                 f"/admin/?office=BD&month={month}"):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert_escaped(html)
    comments_html = client.get(f"/admin/comments?office=BD-KM&month={month}").get_data(
        as_text=True)
    assert "&lt;svg/onload=alert(1)&gt;" in comments_html

    # spreadsheets: no cell is a formula, none starts like one
    for kind in ("criteria", "responses"):
        raw = client.get(f"/admin/exports/BD-KM/{month}/{kind}.csv")
        assert raw.status_code == 200
        text = raw.data.decode("utf-8-sig")
        assert_no_formula_cells(csv.reader(io.StringIO(text)))
        book = client.get(f"/admin/exports/BD-KM/{month}/{kind}.xlsx")
        assert book.status_code == 200
        wb = load_workbook(io.BytesIO(book.data))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (cell.coordinate, cell.value)
            assert_no_formula_cells(ws.iter_rows(values_only=True))
        wb.close()
    responses_csv = client.get(f"/admin/exports/BD-KM/{month}/responses.csv").data.decode(
        "utf-8-sig")
    assert "'=HYPERLINK" in responses_csv and "<script>alert(1)</script>" in responses_csv

    # the PDF renders the payload as text (reportlab markup would otherwise swallow or choke
    # on it)
    pdf = client.get(f"/admin/exports/BD-KM/{month}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True,
                             check=True).stdout.decode("utf-8")
        assert "<script>alert(1)</script>" in out.replace("\n", "")


def test_csv_downloads_stay_safe_when_excel_splits_on_semicolons(app, offices, instrument,
                                                                runner):
    """Excel in a Vietnamese locale splits a .csv file on ';'. A comment ``ok;=1+2;x`` was
    written unquoted in the middle of a line and opened as a formula cell ``=1+2``. Every CSV
    the app writes (the two downloads, ``flask report --format csv``) is checked split on
    ',' and on ';'."""
    from core.services.accounts import create_user
    from core.timeutil import last_complete_month
    from tests.admin.fixtures import FAST, PASSWORDS, login, make_responses
    from tests.helpers import assert_csv_safe

    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("city", "admin", None, PASSWORDS["city"], actor="test", must_change=False)
    month = last_complete_month()
    office = offices["BD-KM"]
    office.name = "Kim Mã;=cmd|' /C calc'!A0;@SUM(A1)"
    db.session.commit()
    for text in ("ok;=1+2;x", "Tốt\n=1+2", 'a;"@SUM(A1)"', "x,-1+1", *FORMULAS):
        make_responses(instrument, office, month, 1, comment=text)
    client = app.test_client()
    assert login(client, "city").status_code in (302, 303)
    texts = []
    for kind in ("criteria", "responses"):
        raw = client.get(f"/admin/exports/BD-KM/{month}/{kind}.csv")
        assert raw.status_code == 200
        texts.append(raw.data.decode("utf-8-sig"))
    out = runner.invoke(args=["report", "BD-KM", month, "--format", "csv"])
    assert out.exit_code == 0, out.output
    texts.append(out.output)
    for text in texts:
        assert_csv_safe(text)
    assert "\"ok;'=1+2;x\"" in texts[1] and "Kim Mã;'=cmd" in texts[0]
    # read with the file's own separator, the comment is the citizen's text (apostrophe added)
    comments = [row[-1] for row in csv.reader(io.StringIO(texts[1], newline=""))][1:]
    assert "ok;'=1+2;x" in comments and "Tốt\n'=1+2" in comments

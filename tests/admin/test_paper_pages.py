"""Paper forms in the browser (``/admin/paper``): the permission matrix of every route, the
blank questionnaire PDF, the templates, upload -> preview -> confirm as a batch (the twin of
``flask responses import``), and undo (the twin of ``flask imports undo``)."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, ImportBatch, Response
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login
from tests.helpers import CODES, paper_row

world = admin_fixtures.world
HEADER = ["office_code", "submitted_at", *CODES]
ANON = "anonymous"
ROLES = ("city", "bd", "stp", "kmview", ANON)
#: the routes of admin/paper.py (tests/admin/test_permissions.py checks they are covered here)
PAPER_ENDPOINTS = {"admin.paper", "admin.paper_form", "admin.paper_template",
                   "admin.paper_preview", "admin.paper_import", "admin.paper_cancel",
                   "admin.paper_undo"}


def csv_bytes(rows, header=HEADER) -> bytes:
    return ("\r\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\r\n").encode()


def upload(client, data: bytes, name: str = "giay.csv"):
    return client.post("/admin/paper/preview",
                        data={"file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def token_of(page: str) -> str:
    import re

    return re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)


def count(model=Response, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def rows_for(office: str, n: int, month: str, seed: int = 1) -> list[list[str]]:
    import random

    rnd = random.Random(seed)
    return [paper_row(office, f"{month}-{rnd.randint(1, 28):02d}",
                      [str(rnd.randint(1, 5)) for _ in CODES]) for _ in range(n)]


# --- the permission matrix --------------------------------------------------------------------

def _batches(app, world) -> dict[str, int]:
    """A batch of BD-KM rows and one of STP rows, imported from the command line."""
    from core.services.common import get_instrument
    from core.services.imports import import_batch

    m = world["month"]
    ids = {}
    for code in ("BD-KM", "STP"):
        outcome = import_batch(io.BytesIO(csv_bytes(rows_for(code, 3, m, seed=len(code)))),
                               f"{code}.csv", get_instrument("hanoi-2022"), actor="cli")
        ids[code] = outcome.batch_id
    return ids


def _cases(batches: dict[str, int]) -> list[tuple[str, str, str, dict[str, int]]]:
    cases = []

    def add(endpoint, method, url, city, bd, stp, kmview, anon=None):
        anon = anon if anon is not None else (302 if method == "GET" else 401)
        cases.append((endpoint, method, url, {"city": city, "bd": bd, "stp": stp,
                                              "kmview": kmview, ANON: anon}))

    add("admin.paper", "GET", "/admin/paper", 200, 200, 200, 200)
    add("admin.paper_form", "GET", "/admin/paper/form.pdf", 200, 200, 200, 200)
    add("admin.paper_form", "GET", "/admin/paper/form.pdf?office=BD-KM", 200, 200, 404, 200)
    add("admin.paper_form", "GET", "/admin/paper/form.pdf?office=STP", 200, 404, 200, 404)
    add("admin.paper_template", "GET", "/admin/paper/template.csv", 200, 200, 200, 200)
    add("admin.paper_template", "GET", "/admin/paper/template.xlsx", 200, 200, 200, 200)
    add("admin.paper_preview", "POST", "/admin/paper/preview", 400, 400, 400, 403)
    add("admin.paper_import", "POST", "/admin/paper/import", 400, 400, 400, 403)
    add("admin.paper_cancel", "POST", "/admin/paper/cancel", 400, 400, 400, 403)
    add("admin.paper_undo", "POST", f"/admin/paper/batches/{batches['BD-KM']}/undo",
        302, 302, 404, 403)
    add("admin.paper_undo", "POST", f"/admin/paper/batches/{batches['STP']}/undo",
        302, 404, 302, 403)
    return cases


def test_every_paper_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()
                 if r.rule.startswith("/admin/paper")}
    assert endpoints == PAPER_ENDPOINTS
    assert {c[0] for c in _cases({"BD-KM": 1, "STP": 2})} == PAPER_ENDPOINTS


@pytest.mark.parametrize("who", ROLES)
def test_paper_permission_matrix(app, world, who):
    batches = _batches(app, world)
    client = app.test_client()
    if who != ANON:
        assert login(client, who).status_code == 302
    failures = []
    for _endpoint, method, url, expected in _cases(batches):
        resp = client.open(url, method=method)
        if resp.status_code != expected[who]:
            failures.append(f"{method} {url}: {resp.status_code} != {expected[who]}")
    assert failures == []


def test_batches_outside_the_scope_are_not_listed(app, world):
    batches = _batches(app, world)
    client = app.test_client()
    login(client, "bd")
    page = client.get("/admin/paper").get_data(as_text=True)
    assert f'data-batch="{batches["BD-KM"]}"' in page
    assert f'data-batch="{batches["STP"]}"' not in page and "STP.csv" not in page
    login(client, "kmview")
    page = client.get("/admin/paper").get_data(as_text=True)
    assert f'data-batch="{batches["BD-KM"]}"' in page
    assert "/undo" not in page and 'type="file"' not in page  # read-only


# --- downloads --------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_blank_questionnaire_is_a_real_pdf_from_the_instrument(app, world, instrument,
                                                                    tmp_path):
    client = app.test_client()
    login(client, "bd")
    resp = client.get("/admin/paper/form.pdf?office=BD-KM")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(resp.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.split())
    assert "Mã cơ quan" in flat and "BD-KM" in flat and "Số phiếu" in flat
    for criterion in instrument.criteria:  # every criterion, its code and official wording
        assert criterion.code in flat
        assert " ".join(criterion.text.vi.split())[:30] in flat, criterion.code
    for column in ("office_code", "submitted_at", "form_no", "procedure",
                   "expectations.digital", "demographics.age", "comment"):
        assert column in flat, column
    assert "Không trả lời" in flat and "Rất hài lòng" in flat
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts and " yes " in fonts  # embedded


def test_the_templates_are_the_import_columns(app, world, instrument):
    from openpyxl import load_workbook

    from core.services.imports import template_header

    client = app.test_client()
    login(client, "kmview")
    csv = client.get("/admin/paper/template.csv")
    assert csv.data.decode("utf-8-sig").strip() == ",".join(template_header(instrument))
    xlsx = client.get("/admin/paper/template.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert [c.value for c in book.active[1]] == template_header(instrument)


# --- upload, preview, confirm, undo ------------------------------------------------------------

def test_upload_preview_confirm_is_the_command_twin(app, world, runner, tmp_path):
    m = world["month"]
    data = csv_bytes(rows_for("BD-KM", 12, m))
    client = app.test_client()
    login(client, "bd")
    before = count()
    resp = upload(client, data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'data-rows>12<' in page and "data-offices>BD-KM<" in page and m in page
    assert count() == before and count(ImportBatch) == 0  # a preview stores nothing
    assert count(AuditEvent, AuditEvent.action == "imports.import") == 0
    resp = client.post("/admin/paper/import", data={"token": token_of(page)})
    assert resp.status_code == 302
    batch = db.session.scalar(sa.select(ImportBatch))
    assert (batch.actor, batch.rows, batch.file_name) == ("bd", 12, "giay.csv")
    assert count() == before + 12
    assert "Đợt nhập" in client.get("/admin/paper").get_data(as_text=True)
    web_event = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.action == "imports.import"))
    # the command recognises the same rows (same checksum) ...
    path = tmp_path / "giay.csv"
    path.write_bytes(data)
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0 and result.output.splitlines()[-1] == str(batch.id)
    # ... and its audit event is the web's, the actor aside
    assert web_event.actor == "bd" and web_event.target == f"import_batch:{batch.id}"
    assert set(web_event.details) == {"rows", "file_name", "months", "replaced",
                                      "overlap_allowed"}
    # the token was used once: confirming again is refused, nothing doubles
    again = client.post("/admin/paper/import", data={"token": token_of(page)})
    assert again.status_code == 410 and count() == before + 12

    # undo in the browser: the batch's responses go, audited with the user's name
    resp = client.post(f"/admin/paper/batches/{batch.id}/undo")
    assert resp.status_code == 302 and count() == before
    db.session.refresh(batch)
    assert batch.state == "undone" and batch.ended_by == "bd"
    undo = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "imports.undo"))
    assert undo.actor == "bd" and undo.details["rows"] == 12


def test_the_preview_lists_every_bad_line_and_out_of_scope_offices(app, world):
    m = world["month"]
    rows = [paper_row("BD-KM", f"{m}-03", "4"), paper_row("STP", f"{m}-03", "4"),
            paper_row("BD-DB", f"{m}-03", ["7"] + ["4"] * 23), paper_row("BD-DB", "x", "4")]
    client = app.test_client()
    login(client, "bd")
    page = upload(client, csv_bytes(rows)).get_data(as_text=True)
    assert "Phát hiện 3 lỗi" in page
    assert "data-offices>BD-KM<" in page  # of the good rows (STP is not theirs)
    assert "dòng 3: office_code: không có cơ quan mã &#39;STP&#39;" in page
    assert 'data-line="4"' in page and "answers.I.1" in page
    assert 'data-line="5"' in page and "submitted_at" in page
    assert 'data-line="2"' not in page
    assert "paper-confirm" not in page  # nothing to confirm
    assert count(ImportBatch) == 0


def test_an_edited_copy_is_refused_until_replaced_or_allowed(app, world):
    m = world["month"]
    rows = rows_for("BD-KM", 20, m)
    client = app.test_client()
    login(client, "city")
    page = upload(client, csv_bytes(rows), "a.csv").get_data(as_text=True)
    client.post("/admin/paper/import", data={"token": token_of(page)})
    first = db.session.scalar(sa.select(ImportBatch.id))
    page = upload(client, csv_bytes(rows + rows_for("BD-KM", 1, m, seed=9)),
                  "a2.csv").get_data(as_text=True)
    assert f'data-refused="{first}"' in page and f'data-overlap="{first}"' in page
    token = token_of(page)
    refused = client.post("/admin/paper/import", data={"token": token})
    assert refused.status_code == 400 and count(ImportBatch) == 1
    resp = client.post("/admin/paper/import", data={"token": token, "replace": str(first)})
    assert resp.status_code == 302
    states = dict(db.session.execute(sa.select(ImportBatch.id, ImportBatch.state)).all())
    assert states[first] == "replaced" and list(states.values()).count("active") == 1
    assert count(Response, Response.batch_id.is_not(None)) == 21


def test_an_xlsx_upload_and_a_cancel(app, world):
    from openpyxl import Workbook

    m = world["month"]
    book = Workbook()
    book.active.append(HEADER)
    for r in rows_for("BD-DB", 3, m):
        book.active.append([r[0], r[1], *(int(v) for v in r[2:])])
    out = io.BytesIO()
    book.save(out)
    client = app.test_client()
    login(client, "bd")
    page = upload(client, out.getvalue(), "giay.xlsx").get_data(as_text=True)
    assert "data-rows>3<" in page and "data-offices>BD-DB<" in page
    resp = client.post("/admin/paper/cancel", data={"token": token_of(page)})
    assert resp.status_code == 302 and count(ImportBatch) == 0
    assert client.post("/admin/paper/import",
                       data={"token": token_of(page)}).status_code == 410
    # another user's upload is not theirs to confirm
    page = upload(client, out.getvalue(), "giay.xlsx").get_data(as_text=True)
    other = app.test_client()
    login(other, "city")
    assert other.post("/admin/paper/import", data={"token": token_of(page)}).status_code == 410
    # a file that is not CSV or XLSX is a form error
    resp = upload(client, b"%PDF-1.4", "form.pdf")
    assert resp.status_code == 400 and "CSV hoặc XLSX" in resp.get_data(as_text=True)


def test_the_batch_keeps_the_file_name_without_folders(app, world):
    client = app.test_client()
    login(client, "bd")
    page = upload(client, csv_bytes(rows_for("BD-KM", 2, world["month"])),
                  "/home/nhap/giay\x07.csv").get_data(as_text=True)
    assert "Xem trước tệp giay.csv" in page, page[page.index("<h1"):page.index("<h1") + 200]
    client.post("/admin/paper/import", data={"token": token_of(page)})
    assert db.session.scalar(sa.select(ImportBatch.file_name)) == "giay.csv"

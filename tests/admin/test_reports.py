"""Dashboard figures, targets, comments, exports, the reporting API and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core.extensions import db
from core.i18n import fmt_percent
from core.models import AuditEvent, CommentHandling
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import indices_by_code, login

world = admin_fixtures.world


def _report(runner, code: str, month: str) -> dict:
    result = runner.invoke(args=["report", code, month])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_dashboard_numbers_equal_flask_report(app, client, runner, world):
    m = world["month"]
    login(client, "bd")
    for code in ("BD", "BD-KM"):
        report = _report(runner, code, m)
        html = client.get(f"/admin/?office={code}&month={m}").get_data(as_text=True)
        shown = indices_by_code(html)
        with app.test_request_context("/"):
            assert shown["overall"] == fmt_percent(report["overall"], "vi")
            for d in report["dimensions"]:
                assert shown[d["code"]] == fmt_percent(d["index"], "vi"), d["code"]
            for c in report["criteria"]:
                assert shown[c["code"]].startswith(fmt_percent(c["index"], "vi")), c["code"]
        assert f"{report['responses']} phiếu được tính" in html


def test_dashboard_defaults_to_own_office_and_last_complete_month(client, world):
    login(client, "bd")
    html = client.get("/admin/").get_data(as_text=True)
    y, mo = world["month"].split("-")
    assert f"UBND quận Ba Đình, tháng {int(mo)}/{y}" in html
    # BD = BD-KM (31 of 36 satisfied on I.1) + BD-DB (0 of 4): 31 / 40 = 77,50 %
    assert re.search(r'data-code="I.1".*?data-index>77,50\u00a0%', html, re.S)


def test_dashboard_marks_low_samples_ranks_children_and_shows_extras(client, world):
    login(client, "bd")
    m = world["month"]
    html = client.get(f"/admin/?office=BD&month={m}").get_data(as_text=True)
    # children: BD-KM (36 responses) is ranked 1; BD-DB (4) is not ranked and marked
    rows = re.findall(r'<tr data-code="(BD-[A-Z]+)"( class="is-low-sample")?>\s*'
                      r'<td class="num">([^<]+)</td>', html)
    assert rows == [("BD-KM", "", "1"), ("BD-DB", ' class="is-low-sample"', "—")]
    # channel split, expectations summary, trend text alternative, stacked bars as SVG
    assert "Máy tính bảng tại quầy" in html and "Phiếu giấy" in html
    assert "Ứng dụng công nghệ thông tin, chuyển đổi số" in html
    assert "Diễn biến dưới dạng bảng" in html and "<polyline" in html
    assert 'class="lvl lvl5"' in html
    assert "style=" not in html and "<script" not in html
    assert "Nhà vệ sinh cần sạch sẽ hơn." in html  # open comments of the month
    assert not re.search(r"\b\d{1,2}:\d{2}\b", html)  # never a time of day
    # no-answer share of V.4 (never answered) is 100 %
    assert re.search(r'data-code="V.4".*?100,00\u00a0%', html, re.S)
    # a viewer of BD-KM with fewer than MIN_SAMPLE answers on a criterion sees the mark
    html_db = client.get(f"/admin/?office=BD-DB&month={m}").get_data(as_text=True)
    assert html_db.count('class="is-low-sample"') == 24  # 4 answers each; V.4 none at all


def test_targets_import_inheritance_and_gap(app, client, runner, world, offices):
    from core.services.targets import set_target, targets_for

    result = runner.invoke(args=["targets", "import"])
    assert result.exit_code == 0, result.output
    assert "30 targets loaded for HN" in result.output
    set_target(offices["BD"], 2022, "I.1", 95.0, actor="test")
    db.session.commit()
    km = targets_for(offices["BD-KM"], 2022)
    assert km["I.1"].value == 95.0 and km["I.1"].office_code == "BD" and km["I.1"].inherited
    assert km["overall"].value == 88.0 and km["V.4"].value == 81.0
    assert targets_for(offices["STP"], 2022)["I.1"].value == 91.0
    # a later year without targets carries the latest earlier year over
    later = targets_for(offices["STP"], 2025)
    assert later["I"].value == 91.0 and later["I"].year == 2022
    assert targets_for(offices["STP"], 2021) == {}
    login(client, "bd")
    html = client.get(f"/admin/?office=BD-KM&month={world['month']}").get_data(as_text=True)
    # I.1 at 31/36 = 86,11 % against 95 % -> gap -8,89 points
    assert re.search(r'data-code="I.1".*?86,11\u00a0%.*?95,00\u00a0%.*?-8,89', html, re.S)


def test_targets_file_errors_store_nothing(app, runner, tmp_path, offices):
    bad = tmp_path / "t.csv"
    bad.write_text("year,code,target\n2022,I.1,91\n2022,IX.9,90\n2022,I.2,140\n",
                   encoding="utf-8")
    result = runner.invoke(args=["targets", "import", str(bad)])
    assert result.exit_code == 1
    assert "IX.9" in result.output
    from core.models import Target

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)) == 0


def test_admin_edits_targets_in_the_browser_form(client, world, offices):
    from core.services.targets import own_targets

    login(client, "city")
    r = client.post("/admin/targets?office=BD&year=2023", data={"t_I.1": "92,5", "t_II": ""})
    assert r.status_code == 302
    assert own_targets(offices["BD"], 2023) == {"I.1": 92.5}
    r = client.post("/admin/targets?office=BD&year=2023", data={"t_I.1": "abc"})
    assert r.status_code == 400
    assert own_targets(offices["BD"], 2023) == {"I.1": 92.5}
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "target.set"))


def test_comment_workflow_is_audited_and_never_shows_time(client, world):
    login(client, "bd")
    m, rid = world["month"], world["km_comment"]
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh cần sạch sẽ hơn." in page and "Mới" in page
    assert not re.search(r"\b\d{1,2}:\d{2}\b", page)  # no time of day anywhere
    r = client.post(f"/admin/comments/{rid}", data={
        f"c{rid}-status": "answered", f"c{rid}-internal_note": "Đã giao bộ phận hành chính",
        f"c{rid}-public_reply": "Cảm ơn Ông/Bà, chúng tôi đã bố trí vệ sinh hai lần mỗi ngày."})
    assert r.status_code == 302
    handling = db.session.get(CommentHandling, rid)
    assert handling.status == "answered" and handling.closed_at is not None
    page = client.get(f"/admin/comments?office=BD&month={m}&status=answered"
                      ).get_data(as_text=True)
    assert "Đã giao bộ phận hành chính" in page and "đã xử lý sau" in page
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "comment.handle"))
    assert event.details["status"] == "answered"
    assert "Nhà vệ sinh" not in json.dumps(event.details, ensure_ascii=False)
    bad = client.post(f"/admin/comments/{rid}", data={f"c{rid}-status": "lost"})
    assert bad.status_code == 400


def test_viewer_sees_comments_without_forms(client, world):
    login(client, "kmview")
    page = client.get(f"/admin/comments?office=BD-KM&month={world['month']}"
                      ).get_data(as_text=True)
    assert "Nhà vệ sinh" in page and "comment-form" not in page


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_pdf_report_has_vietnamese_header_and_dashboard_numbers(client, runner, world,
                                                                tmp_path):
    login(client, "bd")
    m = world["month"]
    r = client.get(f"/admin/exports/BD/{m}/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(r.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for needle in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập – Tự do – Hạnh phúc",
                   "THÀNH PHỐ HÀ NỘI", "UBND QUẬN BA ĐÌNH", "BÁO CÁO", "Hà Nội, ngày",
                   "Tiếp nhận, xử lý ý kiến góp ý", "UBND phường Kim Mã", "THỦ TRƯỞNG CƠ QUAN",
                   "Nơi nhận:", "Diễn biến 12 tháng"):
        assert needle in text, needle
    report = _report(runner, "BD", m)
    assert fmt_percent(report["overall"], "vi").replace("\u00a0", " ") in text.replace(
        "\u00a0", " ")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    font_rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert font_rows and all("DejaVuSans" in row[0] for row in font_rows)
    assert all(row[-5] == "yes" for row in font_rows)  # every font embedded
    # the CLI writes the same report
    out = tmp_path / "cli.pdf"
    result = runner.invoke(args=["report", "BD", m, "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    cli_text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                              text=True, check=True).stdout
    assert cli_text == text


def test_xlsx_and_csv_of_the_criterion_table(client, runner, world):
    login(client, "bd")
    m = world["month"]
    report = _report(runner, "BD-KM", m)
    wb = load_workbook(io.BytesIO(client.get(f"/admin/exports/BD-KM/{m}/criteria.xlsx").data))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Mã cơ quan", "Cơ quan", "Tháng")
    assert len(rows) == 1 + 1 + 5 + 24
    by_code = {r[4]: r for r in rows[7:]}
    for c in report["criteria"]:
        assert by_code[c["code"]][6] == (round(c["index"], 2) if c["index"] is not None
                                         else None)
        assert by_code[c["code"]][9] == c["answered"]
    raw = client.get(f"/admin/exports/BD-KM/{m}/criteria.csv").data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][0] == "Mã cơ quan" and len(table) == 31
    assert table[7][4] == "I.1" and table[7][5].startswith("Trụ sở cơ quan")


def test_raw_responses_are_anonymised_and_formula_safe(client, world):
    login(client, "city")
    m = world["month"]
    raw = client.get(f"/admin/exports/STP/{m}/responses.csv").data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, rows = table[0], table[1:]
    assert len(rows) == 12
    assert "Ngày" in header and not any("uuid" in h.lower() or "kiosk" in h.lower()
                                         for h in header)
    date_col = header.index("Ngày")
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[date_col]) for r in rows)
    assert rows[0][-1] == "'=HYPERLINK(\"http://evil\")"
    wb = load_workbook(io.BytesIO(client.get(f"/admin/exports/STP/{m}/responses.xlsx").data))
    xrows = list(wb.active.iter_rows(values_only=True))
    assert len(xrows) == 13
    assert xrows[1][-1] == "'=HYPERLINK(\"http://evil\")"
    assert all(not isinstance(v, str) or not v.startswith(("=", "+", "-", "@"))
               for row in xrows for v in row)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export")) == 2


def test_neutralise():
    from core.services.exports import neutralise

    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("Tốt") == "Tốt" and neutralise(5) == 5 and neutralise(None) is None


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
    assert r.get_json() == _report(runner, "BD", m)
    doc = client.get("/api/v1/openapi.json").get_json()
    op = doc["paths"]["/api/v1/offices/{code}/reports/{month}"]["get"]
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


def test_admin_creates_user_and_reads_audit_log(client, world):
    login(client, "city")
    page = client.post("/admin/users", data={"username": "Le.Thi.B", "role": "viewer",
                                             "office": "STP"}).get_data(as_text=True)
    assert "Đã tạo tài khoản le.thi.b" in page
    bad = client.post("/admin/users", data={"username": "le.thi.b", "role": "viewer",
                                            "office": "STP"})
    assert bad.status_code == 400 and "đã có người dùng" in bad.get_data(as_text=True)
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "user.create" in audit and "signin" in audit


def test_empty_month_renders_everywhere(client, world):
    login(client, "city")
    for url in ("/admin/?office=HN&month=2019-01", "/admin/comments?office=HN&month=2019-01",
                "/admin/exports/HN/2019-01/report.pdf", "/admin/exports/HN/2019-01/criteria.xlsx",
                "/admin/exports/HN/2019-01/responses.csv"):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/?office=HN&month=2019-13").status_code == 400
    assert client.get("/admin/?office=NOPE").status_code == 404


def test_trend_chart_geometry(app, instrument):
    from admin.charts import trend_chart, y_range

    assert y_range([]) == (50.0, 100.0)
    assert y_range([87.2, 91.0]) == (85.0, 100.0)
    series = [{"month": f"2022-{k:02d}", "responses": 5, "overall": None if k == 3 else 80.0 + k,
               "dimensions": {d.code: 85.0 for d in instrument.dimensions}}
              for k in range(1, 13)]
    chart = trend_chart(series, instrument)
    overall = chart["lines"][0]
    assert len(overall["segments"]) == 2  # the month without data breaks the line
    assert len(chart["months"]) == 12 and chart["ticks"][-1]["value"] == 100


def test_admin_resets_a_password_shown_once_in_the_page(client, world):
    login(client, "city")
    bd = world["users"]["bd"]
    page = client.post(f"/admin/users/{bd.id}/reset").get_data(as_text=True)
    temp = re.search(r"<code>([^<]+)</code>", page).group(1)
    other = client.application.test_client()
    assert login(other, "bd", temp).location.endswith("/admin/password")
    assert client.post(f"/admin/users/{world['users']['city'].id}/disable").status_code == 409
    assert client.post(f"/admin/users/{bd.id}/disable").status_code == 302
    assert login(client.application.test_client(), "bd", temp).status_code == 401


def test_streaming_xlsx_writer_reads_back(tmp_path):
    from core.services.xlsx_stream import column_letter, write_xlsx

    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    data = write_xlsx("Phiếu", ["Mã", "Ý kiến", "Số"],
                      [["HN", "Rất tốt & <nhanh>", 5], ["BD", None, 2.5],
                       ["X", " khoảng trắng \x0b", True]])
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Phiếu"]
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows == [("Mã", "Ý kiến", "Số"), ("HN", "Rất tốt & <nhanh>", 5), ("BD", None, 2.5),
                    ("X", " khoảng trắng ", True)]
    assert wb.active["A1"].font.b and wb.active.freeze_panes == "A2"


def test_head_lists_and_revokes_kiosks_of_the_scope_with_audit(client, world):
    from core.services.kiosks import list_kiosks

    login(client, "bd")
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "Quầy 1" in page and "Quầy 2" not in page
    assert client.post(f"/admin/kiosks/{world['stp_kiosk']}/revoke").status_code == 404
    r = client.post(f"/admin/kiosks/{world['km_kiosk']}/revoke?office=BD")
    assert r.status_code == 302
    states = {k.id: k.status for k in list_kiosks()}
    assert states == {world["km_kiosk"]: "revoked", world["stp_kiosk"]: "pending"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "kiosk.revoke"))
    assert event.actor == "bd" and event.target == f"kiosk:{world['km_kiosk']}"
    page = client.get("/admin/kiosks?office=BD").get_data(as_text=True)
    assert "đã thu hồi" in page

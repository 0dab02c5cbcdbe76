"""`flask report` errors and formats; `flask demo-data`; `flask tallies rebuild`."""

import csv
import io
import json

import sqlalchemy as sa

from core.extensions import db
from core.models import Office, Response


def test_unknown_office_and_bad_month_are_errors_not_empty_reports(app, runner, offices):
    unknown = runner.invoke(args=["report", "NOPE", "2022-07"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    bad = runner.invoke(args=["report", "HN", "2022-13"])
    assert bad.exit_code == 1 and "2022-13 không phải tháng hợp lệ" in bad.output
    inst = runner.invoke(args=["report", "HN", "2022-07", "--instrument", "x"])
    assert inst.exit_code == 1


def test_empty_month_reports_nulls_with_the_full_structure(app, runner, offices):
    data = json.loads(runner.invoke(args=["report", "HN", "2022-07"]).output)
    assert data["responses"] == 0 and data["overall"] is None
    assert len(data["criteria"]) == 24 and len(data["dimensions"]) == 5
    assert data["criteria"][0] == {
        "code": "I.1", "dimension": "I",
        "text": "Trụ sở cơ quan tiếp nhận hồ sơ, trả kết quả có biển hiệu, hướng dẫn rõ ràng, "
                "dễ thấy",
        "answered": 0, "satisfied": 0, "no_answer": 0,
        "counts": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "index": None, "ci95": None, "low_sample": True}


def test_demo_data_then_reports_in_every_format(app, runner, tmp_path):
    first = runner.invoke(args=["demo-data", "--if-empty", "--months", "3"])
    assert first.exit_code == 0 and "Đã nạp dữ liệu mẫu" in first.output
    assert "admin / demo-sipas-2026" in first.output  # a newcomer can sign in at once
    client = app.test_client()
    signed_in = client.post("/admin/login", data={"username": "admin",
                                                  "password": "demo-sipas-2026"})
    assert signed_in.status_code == 302
    dashboard = client.get("/admin/", follow_redirects=True)
    assert dashboard.status_code == 200
    assert "Thành phố Hà Nội" in dashboard.get_data(as_text=True)
    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert "không nạp dữ liệu mẫu" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 16
    month = db.session.scalar(sa.select(sa.func.max(Response.month)))

    data = json.loads(runner.invoke(args=["report", "HN", month]).output)
    assert data["responses"] > 0 and 50 < data["overall"] < 100
    for c in data["criteria"]:
        assert c["answered"] == sum(c["counts"].values())
        lo, hi = c["ci95"]
        assert lo <= c["index"] <= hi

    out = tmp_path / "r.csv"
    assert runner.invoke(args=["report", "HN", month, "--format", "csv", "-o", str(out)]
                         ).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    overall = next(r for r in rows if r["level"] == "overall")
    assert abs(float(overall["index"]) - data["overall"]) < 1e-3
    assert any("Tiếp cận dịch vụ" == r["text"] for r in rows)

    english = json.loads(runner.invoke(args=["report", "HN", month, "--lang", "en"]).output)
    assert english["dimensions"][0]["name"] == "Access to the service"

    rebuilt = runner.invoke(args=["tallies", "rebuild"])
    assert rebuilt.exit_code == 0 and "0 dòng khác" in rebuilt.output


def test_every_command_has_help(app, runner):
    for args in (["offices", "import"], ["responses", "import"], ["report"], ["tallies",
                 "rebuild"], ["demo-data"]):
        result = runner.invoke(args=[*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, args

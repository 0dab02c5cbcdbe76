"""`flask report` errors and formats; `flask demo-data`; `flask tallies rebuild`."""

import csv
import io
import json

import sqlalchemy as sa

from core.extensions import db
from core.models import Office, Response, Target


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
    assert data["complete"] is False and data["missing"] == ["I", "II", "III", "IV", "V"]
    assert data["target"] is None and data["change"] == {"previous": None, "year_ago": None}
    assert len(data["criteria"]) == 24 and len(data["dimensions"]) == 5
    assert data["criteria"][0] == {
        "code": "I.1", "dimension": "I",
        "text": "Trụ sở cơ quan tiếp nhận hồ sơ, trả kết quả có biển hiệu, hướng dẫn rõ ràng, "
                "dễ thấy",
        "answered": 0, "satisfied": 0, "no_answer": 0,
        "counts": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
        "index": None, "ci95": None, "low_sample": True, "target": None,
        "change": {"previous": None, "year_ago": None}}
    assert data["dimensions"][0] == {
        "code": "I", "name": "Tiếp cận dịch vụ", "index": None, "ci95": None,
        "respondents": None, "low_sample": True, "complete": False,
        "missing": ["I.1", "I.2", "I.3", "I.4"], "target": None,
        "change": {"previous": None, "year_ago": None}}


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


def test_every_area_reports_a_failure_the_same_translated_way(app, runner, offices):
    """One failure helper for every command: a translated line on stderr, exit status 1."""
    for args in (["report", "NOPE", "2022-07"], ["kiosks", "revoke", "999"],
                 ["apikeys", "revoke", "sipas_nope"], ["users", "disable", "nobody"],
                 ["tokens", "revoke", "999"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, args
        assert result.output.startswith("Lỗi: "), (args, result.output)
        assert "Error" not in result.output, args


def test_a_rejected_targets_file_lists_its_problems_and_stores_nothing(app, runner, offices,
                                                                      tmp_path):
    bad = tmp_path / "targets.csv"
    bad.write_text("year,code,target\n2022,overall,abc\n2022,NOPE,90\n", encoding="utf-8")
    result = runner.invoke(args=["targets", "import", str(bad), "--office", "HN"])
    assert result.exit_code == 1
    assert result.output.rstrip().splitlines()[-1] == ("Lỗi: Phát hiện 2 lỗi; không có gì "
                                                        "được lưu.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Target)) == 0


def test_a_pdf_report_needs_an_output_file(app, runner, offices):
    result = runner.invoke(args=["report", "HN", "2022-07", "--format", "pdf"])
    assert result.exit_code == 1 and "-o FILE" in result.output


def test_the_seeds_2021_shares_with_v_blank_are_reported_incomplete_without_verdict(
        app, runner, offices, tmp_path):
    """Attack (issue 13 §1, §2): with dimension V unanswered the city showed
    'Chỉ số chung 88,95 %' and a green '+0,95' against the 88,00 target; with V the figure is
    87,11 % and misses it. Now the JSON says the overall is incomplete (V missing) and gives
    no verdict; the dimensions I-IV are complete and judged against the plan's strict
    targets; criteria against their plain ("at least") ones."""
    from tests.admin.fixtures import load_seed_2021

    load_seed_2021(runner, tmp_path, with_v=False)
    data = json.loads(runner.invoke(args=["report", "HN", "2022-07"]).output)
    assert data["responses"] == 10_000 and round(data["overall"], 2) == 88.95
    assert data["complete"] is False and data["missing"] == ["V"]
    assert data["target"] == {"value": 88.0, "operator": ">", "year": 2022,
                              "inherited_from": None, "met": None, "gap": None}
    assert data["change"] == {"previous": None, "year_ago": None}
    dims = {d["code"]: d for d in data["dimensions"]}
    assert dims["I"]["complete"] and dims["I"]["respondents"] == 10_000
    assert dims["I"]["target"] == {"value": 91.0, "operator": ">", "year": 2022,
                                   "inherited_from": None, "met": False, "gap": -1.72}
    assert dims["V"]["index"] is None and dims["V"]["respondents"] == 0
    assert dims["V"]["missing"] == ["V.1", "V.2", "V.3", "V.4"]
    assert dims["V"]["target"]["met"] is None and dims["V"]["target"]["gap"] is None
    i1 = data["criteria"][0]
    assert i1["target"] == {"value": 91.0, "operator": ">=", "year": 2022,
                            "inherited_from": None, "met": False, "gap": -1.77}
    lo, hi = data["overall_ci95"]
    assert lo < data["overall"] < hi
    # a district below the city inherits the city's targets, and says so
    bd = json.loads(runner.invoke(args=["report", "BD", "2022-07"]).output)
    assert bd["target"]["inherited_from"] == "HN" and bd["target"]["met"] is None
    # the same shares with V answered: 87,11 %, complete, judged: misses "> 88,00" by 0,89
    from tests.admin.fixtures import load_seed_2021 as load

    load(runner, tmp_path, with_v=True, day="2022-08-15")
    full = json.loads(runner.invoke(args=["report", "HN", "2022-08"]).output)
    assert round(full["overall"], 2) == 87.11 and full["complete"] and full["missing"] == []
    assert full["target"]["met"] is False and full["target"]["gap"] == -0.89
    # July was incomplete: August's overall is not compared with it; dimension I is
    assert full["change"]["previous"] is None
    dim_i = full["dimensions"][0]["change"]["previous"]
    assert dim_i["delta"] == 0 and dim_i["comparable"] and not dim_i["significant"]
    csv_rows = list(csv.DictReader(io.StringIO(
        runner.invoke(args=["report", "HN", "2022-07", "--format", "csv"]).output)))
    overall = csv_rows[0]
    assert (overall["level"], overall["complete"], overall["missing"]) == ("overall", "no", "V")
    assert overall["target_operator"] == ">" and overall["target_met"] == ""

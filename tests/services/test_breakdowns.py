"""Breakdowns (issue 14 §4): the overall index by channel, procedure or a demographic
question, with small groups suppressed and complementary suppression, so that no hidden
figure can be worked out from the report's totals and the groups shown."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from core.extensions import db
from core.services.breakdowns import breakdown, normalise_procedure, suppress
from core.services.reports import period_report
from core.timeutil import month_bounds_utc


def answer(instrument, office, month, n, *, sat=4, channel="kiosk", procedure=None,
           demographics=None):
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from tests.helpers import release_all

    start, _end = month_bounds_utc(month)
    for _i in range(n):
        clean = clean_response(instrument, {c.code: sat for c in instrument.criteria},
                               procedure=procedure, demographics=demographics)
        hold(clean, office.id, channel, vn_day(start + timedelta(days=2, hours=3)))
    db.session.commit()
    release_all()


def _hidden_recoverable(groups, total, min_sample) -> bool:
    """Whether what the total minus the groups shown reveals (the hidden groups together)
    is some people but fewer than the minimum sample."""
    rest = total - sum(g["responses"] for g in groups if not g["suppressed"])
    return 0 < rest < min_sample


@pytest.mark.parametrize(("sizes", "hidden"), [
    ([100, 200, 300], [False, False, False]),
    ([5, 200, 300], [True, True, False]),          # one small group: the next smallest too
    ([5, 3, 300, 400], [True, True, True, False]),  # two small, but only 8 together
    ([20, 15, 300], [True, True, False]),           # 35 together: enough
    ([0, 100, 200], [True, False, False]),          # a group of nobody exposes no one
    ([0, 0, 3, 100, 200], [True, True, True, True, False]),
    ([5, 10], [True, True]),
    ([5], [True]),
    ([], []),
])
def test_complementary_suppression(sizes, hidden):
    assert suppress(sizes, 30) == hidden


def test_procedures_are_normalised():
    assert normalise_procedure("  Cấp  Giấy phép\txây dựng ") == "cấp giấy phép xây dựng"
    assert normalise_procedure("   ") is None and normalise_procedure(None) is None


@pytest.fixture
def mixed(app, offices, instrument):
    """BD-KM, 2022-07: kiosk 40 (sat 5), qr 35 (sat 2), paper 3 (sat 4); procedures in three
    spellings of one procedure (40), another (35), a rare one (3); gender male 40, female 35,
    not given 3; age 25-34 for 70, 60+ for 5, not given 3."""
    km = offices["BD-KM"]
    answer(instrument, km, "2022-07", 35, sat=5, procedure="Cấp giấy phép xây dựng",
           demographics={"gender": "male", "age": "25-34"})
    answer(instrument, km, "2022-07", 5, sat=5, procedure="cấp  GIẤY phép xây dựng ",
           demographics={"gender": "male", "age": "60+"})
    answer(instrument, km, "2022-07", 35, sat=2, channel="qr", procedure="Chứng thực bản sao",
           demographics={"gender": "female", "age": "25-34"})
    answer(instrument, km, "2022-07", 3, sat=4, channel="paper", procedure="Đăng ký nhận con nuôi")
    return offices


def test_by_channel_matches_the_report(mixed, instrument):
    km = mixed["BD-KM"]
    report = period_report(km, "2022-07")
    table = breakdown(km, "2022-07", "channel", instrument.id, "vi")
    groups = {g["value"]: g for g in table["groups"]}
    assert set(groups) == set(report["channels"]) == {"kiosk", "qr", "paper"}
    assert groups["kiosk"]["responses"] == 40 and groups["kiosk"]["overall"] == pytest.approx(100)
    # paper (3) is under the minimum sample; qr (35), the smallest other, is hidden with it
    assert groups["paper"]["suppressed"] and groups["qr"]["suppressed"]
    assert groups["qr"]["overall"] is None and groups["qr"]["responses"] is None
    assert not _hidden_recoverable(table["groups"], report["responses"], 30)
    # with every channel large enough, the groups pool back to the report's index
    only_kiosk = breakdown(km, "2022-07", "channel", instrument.id)
    assert only_kiosk["label"] == "Kênh"  # Channel, in Vietnamese


def test_by_procedure_normalises_and_never_names_a_rare_one(mixed, instrument):
    km = mixed["BD-KM"]
    table = breakdown(km, "2022-Q3", "procedure", instrument.id, "vi")
    groups = {g["value"]: g for g in table["groups"]}
    assert groups["cấp giấy phép xây dựng"]["responses"] == 40
    assert "đăng ký nhận con nuôi" not in json.dumps(table, ensure_ascii=False)
    assert groups["*other*"]["suppressed"] is True
    assert groups["chứng thực bản sao"]["suppressed"] is True  # complementary
    assert not _hidden_recoverable(table["groups"], 78, 30)


def test_by_a_demographic_question_lists_every_option(mixed, instrument):
    km = mixed["BD-KM"]
    gender = breakdown(km, "2022-07", "gender", instrument.id, "vi")
    values = [g["value"] for g in gender["groups"]]
    assert values == [o.code for o in instrument.demographic("gender").options] + [None]
    groups = {g["value"]: g for g in gender["groups"]}
    assert groups["male"]["responses"] == 40 and groups["male"]["overall"] == pytest.approx(100)
    # 3 did not say: hidden, and female (35) with them, or 78 - 40 - 35 would tell the 3
    assert groups[None]["suppressed"] and groups[None]["label"] == "Không trả lời"
    assert groups["female"]["suppressed"]
    assert not _hidden_recoverable(gender["groups"], 78, 30)
    # age: 70 aged 25-34, 5 over 60, 3 not said, no one in the other options. Showing the 70
    # would leave 8 people (78 - 70) whose figures follow by subtraction: all hidden
    from flask_babel import force_locale

    with force_locale("en"):
        age = breakdown(km, "2022-07", "age", instrument.id, "en")
    assert all(g["suppressed"] for g in age["groups"])
    assert [g["label"] for g in age["groups"]][-1] == "Not given"
    for g in age["groups"]:
        if g["suppressed"]:
            assert g["responses"] is None and g["overall"] is None and g["complete"] is None


def test_a_small_office_shows_no_group_at_all(app, offices, instrument):
    answer(instrument, offices["STP"], "2022-07", 12, demographics={"gender": "female"})
    table = breakdown(offices["STP"], "2022-07", "gender", instrument.id)
    assert all(g["suppressed"] for g in table["groups"])


def test_cli_by_and_its_errors(runner, mixed):
    out = runner.invoke(args=["report", "BD", "2022-Q3", "--by", "gender"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["breakdown"]["by"] == "gender"
    assert {"value", "label", "responses", "overall", "complete", "suppressed"} == set(
        data["breakdown"]["groups"][0])
    plain = json.loads(runner.invoke(args=["report", "BD", "2022-Q3"]).output)
    assert "breakdown" not in plain
    bad = runner.invoke(args=["report", "BD", "2022-Q3", "--by", "income"])
    assert bad.exit_code == 1 and "income" in bad.output
    csv_by = runner.invoke(args=["report", "BD", "2022-Q3", "--by", "age", "--format", "csv"])
    assert csv_by.exit_code == 1


def test_dashboard_and_xlsx(app, client, mixed):
    from core.services.accounts import create_user
    from tests.admin.fixtures import FAST, login

    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("city", "admin", None, "Hoan-Kiem-lake-1", actor="test", must_change=False)
    login(client, "city")
    html = client.get("/admin/?office=BD-KM&period=2022-07&by=gender").get_data(as_text=True)
    assert 'data-by="gender"' in html and "data-suppressed" in html
    assert 'data-value="male"' in html and "ẩn (quá ít phiếu)" in html
    r = client.get("/admin/exports/BD-KM/2022-Q3/breakdown.xlsx?by=gender")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("Mã cơ quan", "Cơ quan", "Kỳ báo cáo", "Phân tổ theo", "Nhóm")
    by_group = {row[4]: row for row in rows[1:]}
    assert by_group["Nam"][2:6] == ("2022-Q3", "Giới tính", "Nam", 40)
    assert by_group["Nam"][6] == 100.0 and by_group["Nam"][8] == "không"
    assert by_group["Nữ"][5] is None and by_group["Nữ"][6] is None and by_group["Nữ"][8] == "có"
    assert client.get("/admin/exports/BD-KM/2022-Q3/breakdown.csv?by=nope").status_code == 400

"""The monthly dashboard page: the same figures as ``flask report``, the office and month it
opens on, low samples, the ranking of offices below, targets and gaps, empty months."""

from __future__ import annotations

import re

from core.extensions import db
from core.i18n import fmt_percent
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import indices_by_code, login, report_json

world = admin_fixtures.world


def test_dashboard_numbers_equal_flask_report(app, client, runner, world):
    m = world["month"]
    login(client, "bd")
    for code in ("BD", "BD-KM"):
        report = report_json(runner, code, m)
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
    # children: V.4 is never answered, so neither BD-DB (4) nor BD-KM (36) is ranked:
    # both are marked, with the reason
    rows = re.findall(r'<tr data-code="(BD-[A-Z]+)"( class="is-low-sample")?>\s*'
                      r'<td class="num" data-rank>([^<]+)</td>', html)
    assert rows == [("BD-DB", ' class="is-low-sample"', "—"),
                    ("BD-KM", ' class="is-low-sample"', "—")]
    assert "không xếp hạng: chưa đầy đủ (V không có câu trả lời)" in html
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


def test_dashboard_shows_inherited_targets_and_the_gap(client, world, offices, instrument):
    from core.services.targets import DEFAULT_FILE, import_targets, set_target

    with DEFAULT_FILE.open(encoding="utf-8-sig", newline="") as stream:
        import_targets(stream, offices["HN"], instrument, actor="test")
    set_target(offices["BD"], 2022, "I.1", 95.0, actor="test")
    db.session.commit()
    login(client, "bd")
    html = client.get(f"/admin/?office=BD-KM&month={world['month']}").get_data(as_text=True)
    # I.1 at 31/36 = 86,11 % against 95 % -> gap -8,89 points
    assert re.search(r'data-code="I.1".*?86,11\u00a0%.*?95,00\u00a0%.*?-8,89', html, re.S)


def test_empty_month_renders_everywhere(client, world):
    login(client, "city")
    for url in ("/admin/?office=HN&month=2019-01", "/admin/comments?office=HN&month=2019-01",
                "/admin/exports/HN/2019-01/report.pdf", "/admin/exports/HN/2019-01/criteria.xlsx",
                "/admin/exports/HN/2019-01/responses.csv"):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/?office=HN&month=2019-13").status_code == 400
    assert client.get("/admin/?office=NOPE").status_code == 404

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


def _card(html: str, code: str) -> str:
    match = re.search(rf'<li class="card[^"]*" data-code="{re.escape(code)}".*?</li>', html, re.S)
    assert match, code
    return match.group(0)


def _row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-code="{re.escape(code)}".*?</tr>', html, re.S)
    assert match, code
    return match.group(0)


def test_an_incomplete_overall_is_marked_and_never_judged(client, runner, world, tmp_path):
    """Attack (issue 13 §1): with V unanswered the city showed 'Chỉ số chung 88,95 %' and a
    green '+0,95' against the 88,00 target."""
    from tests.admin.fixtures import load_seed_2021

    load_seed_2021(runner, tmp_path, with_v=False)
    login(client, "city")
    html = client.get("/admin/?office=HN&month=2022-07").get_data(as_text=True)
    overall = _card(html, "overall")
    assert 'data-complete="false"' in overall
    assert re.search(r'data-index>88,95\u00a0%<abbr class="low-sample" title="chưa đầy đủ: V '
                     r'không có câu trả lời', overall)
    assert "* chưa đầy đủ: V không có câu trả lời" in overall  # the reason, visible
    assert "&gt;\u00a088,00\u00a0%" in overall and "Chỉ tiêu 2022" in overall
    assert re.search(r'<dd class="num" data-gap>—</dd>', overall)
    assert "gap-pos" not in overall and "+0,95" not in overall
    dim_i = _card(html, "I")
    assert re.search(r"data-n>10\.000<", dim_i)  # respondents, not 40 000 answers
    assert re.search(r'class="num gap-neg" data-gap data-met="false">-1,72 \(không đạt\)', dim_i)
    dim_v = _card(html, "V")
    assert re.search(r"data-index>—<", dim_v) and re.search(r"data-n>0<", dim_v)
    i1 = _row(html, "I.1")
    assert "≥\u00a091,00\u00a0%" in i1 and "-1,77 (không đạt)" in i1


def test_a_dimension_exactly_at_a_strict_target_misses_it_by_0_00(client, world, offices,
                                                                   instrument):
    """Attack (§2): a dimension exactly at target showed as met; a value displayed as the
    target showed a red '-0,00'."""
    from core.services.targets import set_target
    from tests.admin.fixtures import make_answers

    make_answers(instrument, offices["BD-KM"], "2022-07", 50, 44)  # 88,00 % everywhere
    set_target(offices["HN"], 2022, "I", 88.0, actor="test", operator=">")
    set_target(offices["HN"], 2022, "I.1", 88.0, actor="test", operator=">=")
    db.session.commit()
    login(client, "city")
    html = client.get("/admin/?office=BD-KM&month=2022-07").get_data(as_text=True)
    assert re.search(r'data-gap data-met="false">0,00 \(không đạt\)', _card(html, "I"))
    assert re.search(r'data-gap data-met="true">0,00 \(đạt\)', _row(html, "I.1"))
    assert "-0,00" not in html


def test_changes_are_greyed_unless_significant_and_small_months_not_comparable(
        client, world, offices, instrument):
    from tests.admin.fixtures import make_answers

    km, bd_db = offices["BD-KM"], offices["BD-DB"]
    make_answers(instrument, km, "2022-06", 60, 40)
    make_answers(instrument, km, "2022-07", 60, {**{c: 40 for c in instrument.criterion_codes},
                                                 "I.1": 55, "I.2": 50})
    make_answers(instrument, bd_db, "2022-06", 5, 0)
    make_answers(instrument, bd_db, "2022-07", 60, 60)
    login(client, "city")
    html = client.get("/admin/?office=BD-KM&month=2022-07").get_data(as_text=True)
    assert re.search(r'data-change="previous"><span class="change-sig"[^>]*>\+25,00<',
                     _row(html, "I.1"))
    assert re.search(r'data-change="previous"><span class="change-ns"[^>]*>\+16,67<',
                     _row(html, "I.2"))
    html = client.get("/admin/?office=BD-DB&month=2022-07").get_data(as_text=True)
    overall = _card(html, "overall")
    assert re.search(r'data-change="previous"><span class="change-nc">không so sánh được<',
                     overall)
    assert "+100,00" not in overall
    # the trend: June (5 responses) is a hollow point and 'not comparable' in the table
    assert 'class="trend-hollow"' in html
    assert re.search(r'data-month="2022-06">.*?không so sánh được: quá ít phiếu', html, re.S)

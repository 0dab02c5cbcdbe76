"""Monthly reports: an office's figures pooled over its subtree, as plain data and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from core.errors import Invalid
from core.services.reports import check_month, monthly_report, report_csv


def test_monthly_report_pools_the_subtree(world, offices):
    report = monthly_report(offices["BD"], world["month"])
    assert report["office"] == {"code": "BD", "name": "UBND quận Ba Đình"}
    assert report["instrument"] == "hanoi-2022"
    assert report["responses"] == 40
    assert report["channels"] == {"kiosk": 31, "paper": 4, "qr": 5}
    by_code = {c["code"]: c for c in report["criteria"]}
    # BD = BD-KM (31 of 36 satisfied on I.1) + BD-DB (0 of 4): 31 / 40 = 77,50 %
    assert by_code["I.1"]["satisfied"] == 31 and by_code["I.1"]["answered"] == 40
    assert by_code["I.1"]["index"] == pytest.approx(77.5)
    assert by_code["I.1"]["counts"] == {"1": 0, "2": 5, "3": 4, "4": 1, "5": 30}
    assert by_code["V.4"]["index"] is None and by_code["V.4"]["no_answer"] == 40
    assert [d["code"] for d in report["dimensions"]] == ["I", "II", "III", "IV", "V"]
    assert report["overall"] == pytest.approx(
        sum(d["index"] for d in report["dimensions"]) / 5)
    empty = monthly_report(offices["BD"], "2019-01")
    assert empty["responses"] == 0 and empty["overall"] is None


def test_report_names_follow_the_locale(world, offices):
    vi = monthly_report(offices["STP"], world["month"])
    en = monthly_report(offices["STP"], world["month"], locale="en")
    assert vi["criteria"][0]["text"].startswith("Trụ sở cơ quan")
    assert en["criteria"][0]["text"] != vi["criteria"][0]["text"]
    assert [c["index"] for c in en["criteria"]] == [c["index"] for c in vi["criteria"]]


def test_bad_month_or_instrument_is_refused(app, offices):
    assert check_month("2022-07") == "2022-07"
    for bad in ("2022-13", "22-07", "", "2022-7"):
        with pytest.raises(Invalid) as exc:
            check_month(bad)
        assert exc.value.code == "invalid_month"
    with pytest.raises(Invalid) as exc:
        monthly_report(offices["HN"], "2022-07", "no-such-instrument")
    assert exc.value.code == "unknown_instrument"


def test_report_csv_lists_overall_dimensions_and_criteria(world, offices):
    report = monthly_report(offices["BD-KM"], world["month"])
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0][:5] == ["office", "month", "instrument", "level", "code"]
    assert [r[3] for r in rows[1:]] == ["overall"] + ["dimension"] * 5 + ["criterion"] * 24
    i1 = next(r for r in rows if r[4] == "I.1")
    assert i1[6:9] == ["36", "31", "0"] and i1[14] == f"{31 / 36 * 100:.4f}"

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
    assert rows[0][:5] == ["office", "period", "instrument", "level", "code"]
    assert [r[3] for r in rows[1:]] == ["overall"] + ["dimension"] * 5 + ["criterion"] * 24
    i1 = next(r for r in rows if r[4] == "I.1")
    assert i1[6:9] == ["36", "31", "0"] and i1[14] == f"{31 / 36 * 100:.4f}"


def test_criterion_changes_use_newcombe_and_benjamini_hochberg(app, offices, instrument):
    """Attack (issue 13 §3): a month-on-month change was a bare difference, as if every
    change were real. Now: I.1 (40/60 -> 55/60) is significant; I.2 (40/60 -> 50/60) has a
    95 % interval that excludes 0 on its own but does not survive Benjamini-Hochberg across
    the 24 criteria; unchanged criteria are not; none is compared with a year without data."""
    from tests.admin.fixtures import make_answers

    km = offices["BD-KM"]
    make_answers(instrument, km, "2022-06", 60, 40)
    make_answers(instrument, km, "2022-07", 60, {**{c: 40 for c in instrument.criterion_codes},
                                                 "I.1": 55, "I.2": 50})
    report = monthly_report(km, "2022-07")
    crit = {c["code"]: c["change"] for c in report["criteria"]}
    i1, i2, i3 = crit["I.1"]["previous"], crit["I.2"]["previous"], crit["I.3"]["previous"]
    assert i1["delta"] == pytest.approx(25.0) and i1["significant"] and i1["comparable"]
    assert 0 < i1["low"] < i1["delta"] < i1["high"]
    assert i2["low"] > 0 and i2["significant"] is False
    assert i3["delta"] == 0 and i3["significant"] is False
    assert crit["I.1"]["year_ago"] is None
    # the overall and dimensions are complete both months: compared with intervals
    assert report["complete"] and report["change"]["previous"]["comparable"]
    dim_i = report["dimensions"][0]["change"]["previous"]
    assert dim_i["low"] < dim_i["delta"] < dim_i["high"]


def test_a_month_under_the_minimum_sample_is_not_comparable(app, offices, instrument):
    """Attack (§3): a previous month of 5 responses made a -30 (here +100) point 'change'.
    Both periods must meet the minimum sample to be comparable, and only then significant."""
    from tests.admin.fixtures import make_answers

    db_office = offices["BD-DB"]
    make_answers(instrument, db_office, "2022-06", 5, 0)
    make_answers(instrument, db_office, "2022-07", 60, 60)
    report = monthly_report(db_office, "2022-07")
    change = report["change"]["previous"]
    assert change["delta"] == pytest.approx(100.0)
    assert change["comparable"] is False and change["significant"] is False
    i1 = report["criteria"][0]["change"]["previous"]
    assert i1["comparable"] is False and i1["significant"] is False


def test_an_incomplete_figure_is_never_compared_nor_judged(app, offices, instrument):
    """Attack (§1): the month-on-month change compared a 4-dimension mean with a
    5-dimension one; the same inside a dimension."""
    from core.services.targets import set_target
    from tests.admin.fixtures import make_answers

    km = offices["BD-KM"]
    make_answers(instrument, km, "2022-06", 60, 50)
    make_answers(instrument, km, "2022-07", 60, 55, blank=("V.1", "V.2", "V.3", "V.4", "II.3"))
    set_target(offices["HN"], 2022, "overall", 50.0, actor="test", operator=">")
    set_target(offices["HN"], 2022, "II", 50.0, actor="test", operator=">")
    set_target(offices["HN"], 2022, "I", 50.0, actor="test", operator=">")
    report = monthly_report(km, "2022-07")
    assert report["complete"] is False and report["missing"] == ["II", "V"]
    assert report["change"] == {"previous": None, "year_ago": None}
    assert report["target"]["met"] is None and report["target"]["gap"] is None
    dims = {d["code"]: d for d in report["dimensions"]}
    assert dims["II"]["missing"] == ["II.3"] and dims["II"]["index"] is not None
    assert dims["II"]["change"]["previous"] is None and dims["II"]["target"]["met"] is None
    assert dims["I"]["change"]["previous"] is not None and dims["I"]["target"]["met"] is True


def test_targets_are_judged_on_the_displayed_value(app, offices, instrument):
    """Attack (§2): a dimension exactly at its strict target showed as met, and 87.99975 was
    '88,00 %' against '88,00 %' with a red '-0,00'. 44 of 50 = 88,00 % on every criterion
    of I: the criterion meets '≥ 88,00', the dimension misses '> 88,00' by 0,00."""
    from core.services.reports import add_targets, figures_from_tallies
    from core.services.targets import EffectiveTarget, set_target
    from tests.admin.fixtures import make_answers

    make_answers(instrument, offices["BD-KM"], "2022-07", 50, 44)
    set_target(offices["HN"], 2022, "I", 88.0, actor="test", operator=">")
    set_target(offices["HN"], 2022, "I.1", 88.0, actor="test", operator=">=")
    report = monthly_report(offices["BD-KM"], "2022-07")
    assert report["dimensions"][0]["target"]["met"] is False
    assert report["dimensions"][0]["target"]["gap"] == 0.0
    assert report["criteria"][0]["target"]["met"] is True
    # a figure whose displayed value is 88,00 although it is below 88 (87.999925)
    from core.scoring import Tally

    tallies = {c: Tally((120_001, 0, 0, 879_999, 0)) for c in ("I.1", "I.2", "I.3")}
    tallies["I.4"] = Tally((120_000, 0, 0, 880_000, 0))
    figures = figures_from_tallies({"code": "X", "name": "X"}, "2022-07", instrument,
                                   {"paper": 1_000_000}, tallies)
    add_targets(figures.report, {"I": EffectiveTarget(88.0, "HN", True, 2022, ">")})
    dim_i = figures.report["dimensions"][0]
    assert dim_i["index"] == pytest.approx(87.999925, abs=1e-9)
    assert dim_i["target"]["met"] is False
    assert dim_i["target"]["gap"] == 0.0 and str(dim_i["target"]["gap"]) == "0.0"

"""Reporting periods: labels a person types, the months they cover, what they are compared with."""

import pytest

from core.periods import MAX_RANGE_MONTHS, month_period, parse_period


@pytest.mark.parametrize("label, kind, first, last, n, canonical", [
    ("2026-03", "month", "2026-03", "2026-03", 1, "2026-03"),
    ("2026-q1", "quarter", "2026-01", "2026-03", 3, "2026-Q1"),
    (" 2026-Q4 ", "quarter", "2026-10", "2026-12", 3, "2026-Q4"),
    ("2026-H2", "half", "2026-07", "2026-12", 6, "2026-H2"),
    ("2025", "year", "2025-01", "2025-12", 12, "2025"),
    ("2025-11..2026-02", "range", "2025-11", "2026-02", 4, "2025-11..2026-02"),
    ("2026-05..2026-05", "month", "2026-05", "2026-05", 1, "2026-05"),
])
def test_labels_name_their_months(label, kind, first, last, n, canonical):
    p = parse_period(label)
    assert (p.kind, p.first, p.last, len(p.months), p.label) == (kind, first, last, n, canonical)
    assert list(p.months) == sorted(p.months)


@pytest.mark.parametrize("label", ["", "2026-13", "2026-Q5", "2026-H3", "26", "2026-Q0",
                                   "2026-03..2026-01", "1999", "2026/03", "2026-03..",
                                   f"2000-01..{2000 + MAX_RANGE_MONTHS // 12}-01"])
def test_bad_labels_are_refused(label):
    with pytest.raises(ValueError):
        parse_period(label)


def test_comparisons_are_the_same_kind_before_and_a_year_earlier():
    q = parse_period("2026-Q1")
    assert q.previous().label == "2025-Q4"
    assert q.previous().months == ("2025-10", "2025-11", "2025-12")
    assert q.year_ago().label == "2025-Q1"
    assert parse_period("2026").previous().label == "2025"
    assert parse_period("2026-H1").previous().label == "2025-H2"
    assert month_period("2026-01").previous().label == "2025-12"
    r = parse_period("2026-02..2026-04")
    assert r.previous().label == "2025-11..2026-01"
    assert r.year_ago().label == "2025-02..2025-04"
    assert parse_period("2026-Q3").year == 2026

"""Months are Vietnam calendar months (UTC+7), not UTC."""

from datetime import UTC, datetime

import pytest

from core.timeutil import month_bounds_utc, month_of, parse_month, parse_timestamp, shift_month


def test_late_evening_utc_on_the_last_day_is_next_month_in_vietnam():
    assert month_of(datetime(2022, 7, 31, 16, 59, tzinfo=UTC)) == "2022-07"
    assert month_of(datetime(2022, 7, 31, 17, 0, tzinfo=UTC)) == "2022-08"
    assert month_of(datetime(2022, 12, 31, 18, 0, tzinfo=UTC)) == "2023-01"


def test_month_bounds_are_vietnam_midnights():
    start, end = month_bounds_utc("2022-07")
    assert start == datetime(2022, 6, 30, 17, 0, tzinfo=UTC)
    assert end == datetime(2022, 7, 31, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2022-13", "2022-00", "2022-7", "22-07", "", "abcd-ef",
                                  "2022-07-01"])
def test_bad_months_are_rejected(text):
    with pytest.raises(ValueError):
        parse_month(text)


def test_shift_month_crosses_years():
    assert shift_month("2022-01", -1) == "2021-12"
    assert shift_month("2022-12", 1) == "2023-01"
    assert shift_month("2022-07", -12) == "2021-07"


def test_timestamps_without_zone_are_vietnam_time():
    assert parse_timestamp("2022-07-01T06:30:00") == datetime(2022, 6, 30, 23, 30, tzinfo=UTC)
    assert parse_timestamp("2022-07-01T06:30:00Z") == datetime(2022, 7, 1, 6, 30, tzinfo=UTC)
    assert parse_timestamp("2022-07-01T06:30:00+07:00") == datetime(2022, 6, 30, 23, 30,
                                                                     tzinfo=UTC)
    assert month_of(parse_timestamp("2022-07-01")) == "2022-07"
    with pytest.raises(ValueError):
        parse_timestamp("01/07/2022")

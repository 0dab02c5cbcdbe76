"""Reporting periods: a month, a quarter, a half-year, a year or a range of months.

SIPAS is published yearly and heads review quarters; every period is a list of Vietnam
calendar months, and a period's figures are the months' tallies pooled (so a year costs
twelve monthly rows per criterion, never a rescan of the answers). Pure Python.

Labels, as a person types them (case-insensitive, surrounding spaces ignored):

=====================  ==============================================
``2026-03``            one month
``2026-Q1``            January–March (``Q1``..``Q4``)
``2026-H2``            July–December (``H1``, ``H2``)
``2026``               the calendar year
``2026-01..2026-06``   an inclusive range of months (at most 120)
=====================  ==============================================

The period compared with a period is the one of the same kind just before it
(:meth:`Period.previous`) and the same period a year earlier (:meth:`Period.year_ago`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from core.timeutil import parse_month, shift_month

PeriodKind = Literal["month", "quarter", "half", "year", "range"]

#: the longest range a person may ask for, in months
MAX_RANGE_MONTHS = 120

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2})\.\.(\d{4}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """A reporting period: its canonical label, its kind and its months (oldest first)."""

    label: str
    kind: PeriodKind
    months: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.months[0]

    @property
    def last(self) -> str:
        return self.months[-1]

    @property
    def year(self) -> int:
        """The year of the period's last month (whose targets judge it)."""
        return int(self.last[:4])

    @property
    def is_month(self) -> bool:
        return self.kind == "month"

    def shifted(self, months: int) -> Period:
        """The period of the same kind and length ``months`` months later (earlier if < 0)."""
        first, last = shift_month(self.first, months), shift_month(self.last, months)
        return span(first, last, self.kind)

    def previous(self) -> Period:
        """The period of the same kind and length just before this one."""
        return self.shifted(-len(self.months))

    def year_ago(self) -> Period:
        """The same period one year earlier."""
        return self.shifted(-12)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.label


def span(first: str, last: str, kind: PeriodKind = "range") -> Period:
    """The period of the months ``first``..``last`` (inclusive), labelled canonically."""
    months = [first]
    while months[-1] != last:
        months.append(shift_month(months[-1], 1))
    return Period(_label(kind, first, last), kind, tuple(months))


def _label(kind: PeriodKind, first: str, last: str) -> str:
    year = first[:4]
    if kind == "month":
        return first
    if kind == "quarter":
        return f"{year}-Q{(int(first[5:7]) - 1) // 3 + 1}"
    if kind == "half":
        return f"{year}-H{(int(first[5:7]) - 1) // 6 + 1}"
    if kind == "year":
        return year
    return f"{first}..{last}"


def parse_period(text: str) -> Period:
    """The period a label names. Raises ValueError for anything else (a bad month, a
    quarter 5, a range that runs backwards or spans more than :data:`MAX_RANGE_MONTHS`)."""
    raw = (text or "").strip().upper()
    if m := _QUARTER.match(raw):
        year, q = m.group(1), int(m.group(2))
        first = parse_month(f"{year}-{3 * q - 2:02d}")
        return span(first, shift_month(first, 2), "quarter")
    if m := _HALF.match(raw):
        year, h = m.group(1), int(m.group(2))
        first = parse_month(f"{year}-{6 * h - 5:02d}")
        return span(first, shift_month(first, 5), "half")
    if m := _YEAR.match(raw):
        first = parse_month(f"{m.group(1)}-01")
        return span(first, f"{m.group(1)}-12", "year")
    if m := _RANGE.match(raw):
        first, last = parse_month(m.group(1)), parse_month(m.group(2))
        if last < first:
            raise ValueError(f"'{text}': the range ends before it starts")
        n = (int(last[:4]) * 12 + int(last[5:7])) - (int(first[:4]) * 12 + int(first[5:7])) + 1
        if n > MAX_RANGE_MONTHS:
            raise ValueError(f"'{text}': a range may span at most {MAX_RANGE_MONTHS} months")
        if first == last:
            return span(first, last, "month")
        return span(first, last, "range")
    month = parse_month(raw)
    return Period(month, "month", (month,))


def month_period(month: str) -> Period:
    """The one-month period of ``month`` ('YYYY-MM'). Raises ValueError for a bad month."""
    return Period(parse_month(month), "month", (month,))

"""The periods the dashboard's picker suggests (a person may type any other label)."""

from __future__ import annotations

from core.periods import parse_period
from core.timeutil import shift_month


def period_choices(last_month: str) -> list[str]:
    """Labels ending at or before ``last_month``: the last 12 months, the last 4 quarters,
    the last 2 half-years and the last 2 years, newest first within each kind."""
    months = [shift_month(last_month, -k) for k in range(12)]
    year, month = int(last_month[:4]), int(last_month[5:7])
    quarters, halves, years = [], [], []
    for k in range(8):
        y, q = divmod(year * 4 + (month - 1) // 3 - k, 4)
        label = f"{y}-Q{q + 1}"
        if parse_period(label).last <= last_month and len(quarters) < 4:
            quarters.append(label)
    for k in range(4):
        y, h = divmod(year * 2 + (month - 1) // 6 - k, 2)
        label = f"{y}-H{h + 1}"
        if parse_period(label).last <= last_month and len(halves) < 2:
            halves.append(label)
    for y in (year, year - 1, year - 2):
        if f"{y}-12" <= last_month and len(years) < 2:
            years.append(str(y))
    return [*months, *quarters, *halves, *years]

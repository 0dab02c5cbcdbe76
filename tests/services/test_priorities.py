"""What to fix first: the priority cross-tally and the Spearman importance, on synthetic
answers with a planted driver; kept by the mixing stage and by ``flask tallies rebuild``."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import MonthlyPriorityTally
from core.services import priorities
from core.services.reports import monthly_report
from core.services.tallies import rebuild_tallies
from core.timeutil import last_complete_month, month_bounds_utc

DRIVER = "III.2"


def synthetic(codes: tuple[str, ...], n: int, seed: int = 7) -> list[str]:
    """Answers where one criterion (DRIVER) drives the others: every other criterion is
    half the driver plus noise; the driver itself is answered low more often."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        d = rng.choices([1, 2, 3, 4, 5], weights=[2, 3, 3, 2, 1])[0]
        row = []
        for code in codes:
            if code == DRIVER:
                v = d
            elif rng.random() < 0.05:
                v = 0  # no answer
            else:
                v = min(5, max(1, round(3.6 + 0.6 * (d - 3) + rng.gauss(0, 1.0))))
            row.append(str(v))
        rows.append("".join(row))
    return rows


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def brute_spearman(rows: list[str], pos: int) -> float:
    """Spearman on the raw rows (answer vs binned mean of the other answers)."""
    xs, ys = [], []
    for row in rows:
        given = [(i, int(ch)) for i, ch in enumerate(row) if ch != "0"]
        if row[pos] == "0" or len(given) < 2:
            continue
        others = [v for i, v in given if i != pos]
        xs.append(int(row[pos]))
        ys.append(round(4 * (sum(others) / len(others) - 1) + 1e-9) / 4)
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    return cov / (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5


def test_spearman_from_the_cross_tally_equals_the_raw_computation(app, instrument):
    layout = priorities.layout_for(instrument.id)
    rows = synthetic(instrument.criterion_codes, 300)
    counts = layout.count_weighted(priorities.counter_of(rows))
    assert counts[0] == 300
    for pos in (0, 5, instrument.criterion_codes.index(DRIVER), 23):
        rho, _n = priorities.spearman(layout.table(counts, pos))
        assert abs(rho - brute_spearman(rows, pos)) < 1e-9
    # sums of parts: two halves counted apart add up to the whole
    a = layout.count_weighted(priorities.counter_of(rows[:100]))
    b = layout.count_weighted(priorities.counter_of(rows[100:]))
    assert [x + y for x, y in zip(a, b, strict=True)] == counts


def _store(instrument, office, month: str, rows: list[str]) -> None:
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from tests.helpers import release_all

    start, _end = month_bounds_utc(month)
    for row in rows:
        answers = {c: (int(v) or None) for c, v in zip(instrument.criterion_codes, row,
                                                        strict=True)}
        hold(clean_response(instrument, answers), office.id, "kiosk",
             vn_day(start + timedelta(days=4, hours=3)))
    db.session.commit()
    release_all()


def test_the_planted_driver_is_found_and_comes_first(app, offices, instrument):
    month = last_complete_month()
    rows = synthetic(instrument.criterion_codes, 240)
    _store(instrument, offices["BD-KM"], month, rows)
    report = monthly_report(offices["BD"], month)
    result = priorities.priorities(offices["BD"].id, [month], report)
    assert result["shown"] and result["respondents"] == 240
    by_importance = max(result["criteria"], key=lambda c: c["importance"])
    assert by_importance["code"] == DRIVER
    assert result["top"][0]["code"] == DRIVER
    assert len(result["top"]) == 3
    assert next(c for c in result["criteria"] if c["code"] == DRIVER)["quadrant"] == "fix"
    # the stored tally is what a rebuild from the raw rows gives
    stored = db.session.scalars(sa.select(MonthlyPriorityTally.counts)).all()
    assert rebuild_tallies(db.session) == 0
    assert db.session.scalars(sa.select(MonthlyPriorityTally.counts)).all() == stored


def test_suppressed_below_the_minimum_respondents(app, offices, instrument):
    month = last_complete_month()
    _store(instrument, offices["BD-KM"], month, synthetic(instrument.criterion_codes, 99))
    report = monthly_report(offices["BD"], month)
    result = priorities.priorities(offices["BD"].id, [month], report)
    assert result["respondents"] == 99
    assert not result["shown"] and result["criteria"] == [] and result["top"] == []


def test_subtracting_what_was_added_leaves_what_a_rebuild_makes(app, offices, instrument):
    from core.services.tallies import TallyAccumulator, TallyRow

    month = last_complete_month()
    rows = synthetic(instrument.criterion_codes, 120)
    key = (offices["BD-KM"].id, month, instrument.id)

    def acc_of(answers):
        acc = TallyAccumulator()
        for a in answers:
            acc.add(TallyRow(key[0], month, instrument.id, "paper", a))
        acc.count_cross()
        return acc.priority

    priorities.add_priority_tallies(db.session, acc_of(rows))
    priorities.subtract_priority_tallies(db.session, acc_of(rows[100:]))
    stored = db.session.scalar(sa.select(MonthlyPriorityTally.counts))
    layout = priorities.layout_for(instrument.id)
    assert layout.unpack(stored) == acc_of(rows[:100])[key]
    priorities.subtract_priority_tallies(db.session, acc_of(rows[:100]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyPriorityTally)) == 0


def test_packed_tallies_add_up_as_their_counts_do_on_both_paths():
    layout = priorities.PriorityLayout([f"c{i}" for i in range(24)])
    rng = random.Random(9)
    answers = ["".join(rng.choice("0123455") for _ in range(24)) for _ in range(300)]
    parts = [layout.count_weighted((a, rng.randint(1, 4)) for a in answers[k::7])
             for k in range(7)]
    expected = [sum(column) for column in zip(*parts, strict=True)]
    assert layout.sum_packed([layout.pack(p) for p in parts]) == expected  # long integers
    # respondents near 2**32 in all: added count by count, no lane overflows into the next
    big = [p[:] for p in parts[:2]]
    for p in big:
        p[0] = 2 ** 31 + 5
    assert layout.sum_packed([layout.pack(p) for p in big]) == [
        a + b for a, b in zip(*big, strict=True)]
    with pytest.raises(ValueError):
        layout.sum_packed([layout.pack(parts[0])[:-4]])

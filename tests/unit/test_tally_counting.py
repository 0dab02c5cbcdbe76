"""The tallies' counting at C speed (answer strings joined, counted column by column) gives
exactly what the plain per-answer loops it replaced gave: answer counts, the cross-tally and
the priority tally, with weights (repeated, zero, negative) and odd strings. Pure."""

from __future__ import annotations

import random

import pytest

from core.scoring import CrossLayout
from core.services.priorities import BINS, LEVELS, PriorityLayout
from core.services.tallies import TallyAccumulator

CODES = [f"c{i}" for i in range(24)]
STRUCTURE = {"A": CODES[:4], "B": CODES[4:9], "C": CODES[9:16], "D": CODES[16:20],
             "E": CODES[20:]}


def reference_cross(layout: CrossLayout, answers) -> list[int]:
    """The cross-tally as it was counted row by row."""
    total = [0] * layout.width
    for row, times in answers:
        if times <= 0:
            continue
        answered = [ch != "0" for ch in row]
        satisfied = [ch in "45" for ch in row]
        total[0] += times
        for i, members in enumerate(layout.members, start=1):
            total[i] += times * any(answered[j] for j in members)
        at = 1 + len(layout.members)
        for a, b in layout.pairs:
            total[at] += times * (answered[a] and answered[b])
            total[at + 1] += times * (satisfied[a] and answered[b])
            total[at + 2] += times * (answered[a] and satisfied[b])
            total[at + 3] += times * (satisfied[a] and satisfied[b])
            at += 4
    return total


def reference_priority(layout: PriorityLayout, answers) -> list[int]:
    """The priority tally as it was counted answer by answer."""
    total = [0] * layout.width
    for row, times in answers:
        given = [(i, int(ch)) for i, ch in enumerate(row) if ch != "0"]
        if not given:
            continue
        total[0] += times
        if len(given) < 2:
            continue
        s = sum(v for _i, v in given)
        others = len(given) - 1
        for i, v in given:
            rest = s - v
            b = (8 * (rest - others) + others) // (2 * others)  # round(4 (mean - 1)) half up
            assert 0 <= b < BINS and 1 <= v <= LEVELS
            total[layout.offset(i, v, b)] += times
    return total


def _answers(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        blank = rng.choice([0.0, 0.2, 0.9, 1.0])
        out.append("".join("0" if rng.random() < blank else rng.choice("12345")
                           for _c in CODES))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_cross_and_priority_counts_equal_the_row_by_row_counts(seed):
    rng = random.Random(seed)
    rows = _answers(rng, rng.choice([1, 7, 300, 2000]))
    weighted = [(row, rng.choice([1, 1, 1, 2, 5, 40, 0, -3])) for row in rows]
    cross, priority = CrossLayout(STRUCTURE), PriorityLayout(CODES)
    positive = [(r, t) for r, t in weighted if t > 0]
    assert cross.count_weighted(weighted) == reference_cross(cross, weighted)
    # the priority tally always counted every weight (undoing passes negative ones)
    assert priority.count_weighted(weighted) == reference_priority(priority, weighted)
    assert priority.count_weighted(positive) == reference_priority(priority, positive)


def test_priority_tables_cover_every_answer_count_and_sum():
    layout = PriorityLayout(CODES[:3])
    rows = [a + b + c for a in "012345" for b in "012345" for c in "012345"]
    weighted = [(r, 1) for r in rows]
    assert layout.count_weighted(weighted) == reference_priority(layout, weighted)


@pytest.mark.parametrize("bad", ["0" * 22 + "56", "5 " + "0" * 22, "12a" + "3" * 21,
                                 "5" * 23 + "/"])
def test_strings_that_are_not_answers_are_refused(bad):
    with pytest.raises(ValueError):
        PriorityLayout(CODES).count_weighted([(bad, 1)])
    with pytest.raises(ValueError):
        CrossLayout(STRUCTURE).count_weighted([(bad, 1)])
    with pytest.raises(ValueError):
        PriorityLayout(CODES).count_weighted([("5" * 23, 1)])


def test_accumulator_answer_counts_equal_a_recount(instrument):
    from core.services.tallies import TallyRow

    rng = random.Random(4)
    iid, codes = instrument.id, instrument.criterion_codes
    k = len(codes)
    rows = ["".join(rng.choice("0012345") for _ in range(k)) for _ in range(500)]
    rows += rows[:50]  # repeated strings
    acc, plain = TallyAccumulator(), TallyAccumulator()
    for i, row in enumerate(rows):
        acc.add(TallyRow(1 + i % 3, "2025-03", iid, "paper", row))
    for office in (1, 2, 3):
        plain.add_plain(office, "2025-03", iid, "paper", rows[office - 1::3])
    expected: dict = {}
    for i, row in enumerate(rows):
        for pos, ch in enumerate(row):
            counts = expected.setdefault((1 + i % 3, "2025-03", iid, codes[pos]), [0] * 6)
            counts["123450".index(ch)] += 1
    expected = {key: v for key, v in expected.items() if any(v)}
    assert acc.criteria == expected
    assert plain.criteria == expected
    assert acc.count_cross() == plain.count_cross()
    assert acc.priority == plain.priority
    assert dict(acc.channels) == dict(plain.channels)
    with pytest.raises(ValueError):
        plain.add_plain(1, "2025-03", iid, "paper", ["1" * (k + 1)])
    bad = TallyAccumulator()
    bad.add(TallyRow(1, "2025-03", iid, "paper", "7" * k))
    with pytest.raises(ValueError):
        bad.count_cross()


@pytest.mark.parametrize("bad", ["5 " + "3" * 22, "12a" + "3" * 21, "5" * 23 + "/"])
def test_a_bad_string_among_many_is_refused(bad):
    rows = [(row, 1) for row in _answers(random.Random(2), 600)] + [(bad, 1)]
    with pytest.raises(ValueError):
        PriorityLayout(CODES).count_weighted(rows)

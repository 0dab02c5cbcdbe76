"""The p-value's bisection uses an inlined copy of Newcombe's square-and-add (issue 20): it
must decide exactly as :func:`core.scoring._square_and_add` does, at every z."""

from __future__ import annotations

import random
import statistics

import pytest

from core import scoring


def test_inlined_test_decides_as_square_and_add():
    rng = random.Random(20)
    for _ in range(3000):
        now = scoring.Estimate(rng.choice([rng.random(), 0.0, 1.0]),
                               rng.choice([1.0, 2.0, rng.uniform(1, 5000)]))
        before = scoring.Estimate(rng.choice([rng.random(), 0.0, 1.0]), rng.uniform(1, 5000))
        excludes = scoring._excludes_zero_at(now, before)
        for z in (0.0, 0.3, 1.959963984540054, 4.2, 40.0, rng.uniform(0, 40)):
            lo, hi = scoring._square_and_add(now, before, z)
            assert excludes(z) == (lo > 0 or hi < 0)


def test_p_value_still_inverts_the_interval():
    a, b = scoring.Estimate(0.8, 400.0), scoring.Estimate(0.7, 380.0)
    change = scoring.compare(a, b)
    assert change.low > 0 and change.p_value < 0.05
    same = scoring.compare(a, scoring.Estimate(0.79, 400.0))
    assert same.low < 0 < same.high and same.p_value > 0.05


def _bisected_p(now: scoring.Estimate, before: scoring.Estimate) -> float:
    """The p-value as it was found before (sixty halvings of [0, 40])."""
    excludes = scoring._excludes_zero_at(now, before)
    low, high = 0.0, 40.0
    if excludes(high):
        return 0.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if excludes(mid) else (low, mid)
    return scoring._normal_two_sided((low + high) / 2)


def test_the_p_value_search_agrees_with_sixty_halvings_in_fewer_steps():
    rng = random.Random(21)
    calls, used = [], []
    real = scoring._margin_at

    def counting(now, before):
        margin = real(now, before)

        def counted(z):
            calls[-1] += 1
            return margin(z)
        return counted

    scoring._margin_at = counting
    try:
        for _ in range(3000):
            now = scoring.Estimate(rng.choice([rng.random(), 0.0, 1.0, 0.999]),
                                   rng.choice([1.0, 2.0, rng.uniform(1, 5000)]))
            before = scoring.Estimate(rng.choice([rng.random(), 0.0, 1.0]),
                                      rng.uniform(1, 5000))
            calls.append(0)
            got = scoring.compare(now, before).p_value
            used.append(calls[-1])
            assert got == pytest.approx(_bisected_p(now, before), rel=1e-7, abs=1e-12)
    finally:
        scoring._margin_at = real
    searched = [c for c in used if c > 1]
    # the halvings it replaces took 61 evaluations every time
    assert searched and max(searched) <= 30 and statistics.median(searched) <= 12


def test_screened_changes_make_the_same_discoveries():
    """Skipping the p-value search where the 95 % interval contains 0 changes no verdict of
    Benjamini-Hochberg at 5 % (families of 24 criteria, some with real changes)."""
    rng = random.Random(22)
    discoveries = 0
    for _ in range(300):
        pairs = []
        for _ in range(24):
            p = rng.uniform(0.5, 0.95)
            shift = rng.choice([0.0, 0.0, 0.0, rng.uniform(-0.2, 0.2)])
            now = scoring.Estimate(min(1.0, max(0.0, p + shift)), rng.uniform(20, 800))
            pairs.append((now, scoring.Estimate(p, rng.uniform(20, 800))))
        full = [scoring.compare(a, b) for a, b in pairs]
        screened = [scoring.compare_screened(a, b) for a, b in pairs]
        for f, s in zip(full, screened, strict=True):
            assert (f.delta, f.low, f.high) == (s.delta, s.low, s.high)
            assert s.p_value == (f.p_value if f.excludes_zero else 1.0)
        comparable = [rng.random() < 0.9 for _ in pairs]
        verdicts = scoring.significant_changes(full, comparable)
        assert scoring.significant_changes(screened, comparable) == verdicts
        discoveries += sum(verdicts)
    assert discoveries > 100  # the families did hold changes to find

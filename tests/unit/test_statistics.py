"""The statistics of core/scoring.py: completeness, the displayed value and targets, Newcombe's
interval and Benjamini-Hochberg, the cross-tally and the respondent-level variance, rank
ranges. Pure: no app, no database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from core.scoring import (
    CrossLayout,
    CrossTally,
    Estimate,
    Tally,
    benjamini_hochberg,
    compare,
    displayed,
    index_estimate,
    score,
    significant_changes,
    target_verdict,
    ties,
)
from tests.unit.test_scoring import CRITERIA_2021

STRUCTURE = {dim: [f"{dim}.{i}" for i in range(1, len(v) + 1)]
             for dim, v in CRITERIA_2021.items()}


def seed_2021_tallies(with_v: bool = True) -> dict[str, Tally]:
    """Criterion tallies whose shares are the plan's 2021 figures (10 000 answers each)."""
    out = {}
    for dim, values in CRITERIA_2021.items():
        for i, v in enumerate(values, 1):
            sat = round(v * 100)
            out[f"{dim}.{i}"] = (Tally((10_000 - sat, 0, 0, sat, 0)) if with_v or dim != "V"
                                 else Tally(no_answer=10_000))
    return out


# --- 1. completeness -------------------------------------------------------------------------

def test_the_seed_with_dimension_v_blank_is_88_95_and_incomplete():
    """Attack (issue 13 §1): with V unanswered the city showed 88,95 % as if complete; with V
    the figure is 87,11 %."""
    blank = score(STRUCTURE, seed_2021_tallies(with_v=False))
    assert displayed(blank.overall) == Decimal("88.95")
    assert blank.complete is False and blank.missing == ("V",)
    v = blank.dimensions[-1]
    assert v.index is None and not v.complete and v.missing == ("V.1", "V.2", "V.3", "V.4")
    full = score(STRUCTURE, seed_2021_tallies())
    assert displayed(full.overall) == Decimal("87.11")
    assert full.complete and full.missing == ()


def test_a_criterion_without_answers_makes_its_dimension_and_the_overall_incomplete():
    tallies = seed_2021_tallies()
    tallies["I.2"] = Tally(no_answer=50)
    result = score(STRUCTURE, tallies)
    dim_i = result.dimensions[0]
    assert dim_i.missing == ("I.2",) and not dim_i.complete and dim_i.index is not None
    assert result.missing == ("I",) and not result.complete


# --- 2. the displayed value and targets ------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [
    (87.99975, "88.00"), (87.125, "87.13"), (87.124999, "87.12"), (89.2775, "89.28"),
    (87.108, "87.11"), (-0.001, "0.00"), (-0.005, "-0.01"), (100.0, "100.00")])
def test_displayed_rounds_half_up_to_two_decimals_and_never_shows_minus_zero(value, shown):
    assert str(displayed(value)) == shown


def test_targets_are_judged_on_the_displayed_value_with_the_plans_operator():
    """Attack (§2): 87.99975 showed '88,00 %' against '88,00 %' with a red '-0,00', and a
    dimension exactly at a strict target showed as met."""
    assert target_verdict(87.99975, 88.0, ">", judged=True) == (False, 0.0)
    assert target_verdict(87.99975, 88.0, ">=", judged=True) == (True, 0.0)
    assert target_verdict(91.0, 91.0, ">", judged=True) == (False, 0.0)
    assert target_verdict(91.005, 91.0, ">", judged=True) == (True, 0.01)
    assert target_verdict(87.11, 88.0, ">", judged=True) == (False, -0.89)
    met, gap = target_verdict(87.99975, 88.0, ">", judged=True)
    assert str(gap) == "0.0" and not str(gap).startswith("-")
    # no verdict on an incomplete figure, one under the minimum sample, or no figure
    assert target_verdict(88.95, 88.0, ">", judged=False) == (None, None)
    assert target_verdict(None, 88.0, ">", judged=True) == (None, None)
    with pytest.raises(ValueError):
        target_verdict(90.0, 88.0, "=>", judged=True)


# --- 3. changes ------------------------------------------------------------------------------

@pytest.mark.parametrize(("counts", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10
    ((56, 70, 48, 80), 5.24, 33.39), ((9, 10, 3, 10), 17.05, 80.90),
    ((6, 7, 2, 7), 5.82, 80.62), ((5, 56, 0, 29), -3.81, 19.26)])
def test_newcombe_hybrid_score_interval_matches_the_published_examples(counts, low, high):
    s1, n1, s2, n2 = counts
    change = compare(Estimate(s1 / n1, n1), Estimate(s2 / n2, n2))
    assert change.delta == pytest.approx(100 * (s1 / n1 - s2 / n2))
    assert (round(change.low, 2), round(change.high, 2)) == (low, high)


def test_the_p_value_inverts_the_interval():
    for s1 in range(40, 60):
        change = compare(Estimate(s1 / 60, 60), Estimate(40 / 60, 60))
        assert (change.p_value < 0.05) == change.excludes_zero, s1
    assert compare(Estimate(0.5, 60), Estimate(0.5, 60)).p_value == 1.0


def test_benjamini_hochberg_on_the_papers_example():
    # Benjamini & Hochberg (1995), section 4: 15 p-values, 4 discoveries at 5 %
    p = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
         0.4262, 0.5719, 0.6528, 0.7590, 1.000]
    assert benjamini_hochberg(p) == [True] * 4 + [False] * 11
    assert benjamini_hochberg([]) == []


def test_significance_needs_comparable_periods_and_survives_the_correction():
    """Among 24 criteria, one change whose own 95 % interval excludes 0 (p = 0.036) is not a
    discovery; p = 0.0009 is; a change where a period is under the minimum sample never is."""
    same = compare(Estimate(40 / 60, 60), Estimate(40 / 60, 60))
    borderline = compare(Estimate(50 / 60, 60), Estimate(40 / 60, 60))
    strong = compare(Estimate(55 / 60, 60), Estimate(40 / 60, 60))
    assert borderline.excludes_zero and borderline.p_value == pytest.approx(0.0357, abs=1e-3)
    assert significant_changes([borderline] + [same] * 23, [True] * 24)[0] is False
    assert significant_changes([strong] + [same] * 23, [True] * 24)[0] is True
    assert significant_changes([strong, None], [False, True]) == [False, False]


# --- cross-tally and the respondent-level variance -------------------------------------------

def _random_answers(rng: random.Random, n: int, layout: CrossLayout) -> list[str]:
    rows = []
    for _ in range(n):
        mood = rng.random()
        rows.append("".join("0" if rng.random() < 0.2 else
                            rng.choice("45" if rng.random() < mood else "123")
                            for _c in layout.codes))
    return rows


def test_cross_tally_counts_pairs_and_dimensions_like_a_brute_force_count():
    layout = CrossLayout(STRUCTURE)
    rows = _random_answers(random.Random(3), 300, layout)
    counts = layout.count(rows)
    assert counts[0] == 300
    for d, members in zip(layout.dimensions, layout.members, strict=True):
        assert CrossTally(layout, tuple(counts)).dimension_respondents(d) == sum(
            any(r[j] != "0" for j in members) for r in rows)
    for a, b in [(0, 1), (3, 20), (19, 23), (5, 6)]:
        both = [r for r in rows if r[a] != "0" and r[b] != "0"]
        assert layout.pair_counts(counts, a, b) == (
            len(both), sum(r[a] in "45" for r in both), sum(r[b] in "45" for r in both),
            sum(r[a] in "45" and r[b] in "45" for r in both))
        n, sat_a, sat_b, sat_both = layout.pair_counts(counts, a, b)
        assert layout.pair_counts(counts, b, a) == (n, sat_b, sat_a, sat_both)


def test_cross_tally_sums_its_parts_and_ignores_the_order_of_answers():
    layout = CrossLayout(STRUCTURE)
    rows = _random_answers(random.Random(4), 500, layout)
    whole = layout.count(rows)
    shuffled = rows[:]
    random.Random(5).shuffle(shuffled)
    assert layout.count(shuffled) == whole
    parts = [layout.pack(layout.count(rows[i:i + 70])) for i in range(0, 500, 70)]
    assert layout.sum_packed(parts) == whole
    assert layout.unpack(layout.pack(whole)) == whole
    with pytest.raises(ValueError):
        layout.count(["12"])
    with pytest.raises(ValueError):
        layout.pack([1] * (layout.width - 1))


def test_repeated_answers_count_as_many_respondents():
    layout = CrossLayout(STRUCTURE)
    rows = _random_answers(random.Random(8), 2, layout)
    weighted = layout.count_weighted([(rows[0], 100_000), (rows[1], 3)])
    assert weighted == [100_000 * a + 3 * b for a, b in zip(layout.count(rows[:1]),
                                                            layout.count(rows[1:]), strict=True)]
    assert layout.count(rows * 5) == [5 * x for x in layout.count(rows)]


def test_packed_cross_tallies_use_narrow_lanes_and_add_up_across_widths():
    layout = CrossLayout({"I": ["I.1", "I.2"]})
    small = [3, 3, 2, 1, 1, 1]  # respondents, of dimension I, then the pair's four counts
    medium = [300, 290, 200, 150, 140, 100]
    large = [70_000, 69_000, 60_000, 50_000, 40_000, 30_000]
    assert layout.width == 6
    assert [len(layout.pack(c)) for c in (small, medium, large)] == [7, 13, 25]
    blobs = [layout.pack(c) for c in (small, medium, large)]
    assert layout.sum_packed(blobs) == [a + b + c for a, b, c in zip(small, medium, large,
                                                                     strict=True)]
    # past 2**32 respondents in all, counts are added one by one (no lane overflows)
    huge = [4_000_000_000, 1, 1, 1, 1, 1]
    assert layout.sum_packed([layout.pack(huge)] * 3) == [3 * x for x in huge]
    for bad in (b"", b"\x03" + bytes(6), b"\x01" + bytes(5)):
        with pytest.raises(ValueError):
            layout.unpack(bad)


def test_the_cross_tally_variance_equals_the_per_respondent_linearised_variance():
    """sum_jk c_j c_k C_jk from the cross-tally is exactly m/(m-1) sum_i u_i^2 computed
    respondent by respondent."""
    layout = CrossLayout(STRUCTURE)
    rows = _random_answers(random.Random(6), 400, layout)
    tallies = {}
    for j, code in enumerate(layout.codes):
        col = [r[j] for r in rows]
        tallies[code] = Tally(tuple(col.count(str(k)) for k in range(1, 6)), col.count("0"))
    cross = CrossTally(layout, tuple(layout.count(rows)))
    weights = {code: 1 / 5 / len(codes) for codes in STRUCTURE.values() for code in codes}
    est = index_estimate(weights, tallies, cross, len(rows))
    shares = {c: t.satisfied / t.answered for c, t in tallies.items()}
    value = sum(w * shares[c] for c, w in weights.items())
    u = [sum(w / tallies[c].answered * (r[layout.position[c]] in "45") - w / tallies[c].answered
             * shares[c] if r[layout.position[c]] != "0" else 0.0 for c, w in weights.items())
         for r in rows]
    variance = len(rows) / (len(rows) - 1) * sum(x * x for x in u)
    assert est.value == pytest.approx(value, rel=1e-12)
    assert est.n_eff == pytest.approx(value * (1 - value) / variance, rel=1e-9)


def test_without_spread_the_effective_size_is_the_respondents():
    layout = CrossLayout({"I": ["I.1", "I.2"]})
    rows = ["55"] * 40
    tallies = {"I.1": Tally((0, 0, 0, 0, 40)), "I.2": Tally((0, 0, 0, 0, 40))}
    result = score({"I": ["I.1", "I.2"]}, tallies, CrossTally(layout, tuple(layout.count(rows))))
    assert result.estimate.value == 1.0 and result.estimate.n_eff == 40
    lo, hi = result.estimate.ci95_percent()
    assert hi == 100.0 and 90 < lo < 100


# --- ranking ---------------------------------------------------------------------------------

def test_rank_ranges_mark_statistical_ties():
    apart = [Estimate(0.95, 2000), Estimate(0.80, 2000), Estimate(0.60, 2000)]
    assert ties(apart) == [(1, 1), (2, 2), (3, 3)]
    close = [Estimate(0.7882, 85), Estimate(0.7819, 582), Estimate(0.7648, 570),
             Estimate(0.50, 600)]
    assert ties(close) == [(1, 3), (1, 3), (1, 3), (4, 4)]

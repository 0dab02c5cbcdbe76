"""Coverage of the respondent-level intervals of dimension and overall indices on simulated
correlated answers (issue 13 §3): seeded, so the same every run; no clock.

Each simulated respondent has a latent satisfaction (normal, sd 1.5 on the logit scale) shared
by their 24 answers, so one respondent's answers go together, as at a real desk; half the
respondents skip dimension V altogether (no feedback sent) and 3 % of the other answers are
"no answer". The true index is computed from the model (numerical integration). Over 600
samples of 200 respondents, the 95 % intervals must contain it about 95 % of the time.

The attack: an interval that treats the answers as independent (Wilson with n = answers)
covers the truth only about half the time on the same samples.
"""

from __future__ import annotations

import math
import random

from core.scoring import CrossLayout, CrossTally, Tally, score, wilson_interval

STRUCTURE = {"I": ["I.1", "I.2", "I.3", "I.4"], "II": [f"II.{i}" for i in range(1, 6)],
             "III": [f"III.{i}" for i in range(1, 8)], "IV": [f"IV.{i}" for i in range(1, 5)],
             "V": [f"V.{i}" for i in range(1, 5)]}
RUNS, RESPONDENTS, SIGMA = 600, 200, 1.5


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _model() -> tuple[dict[str, float], dict[str, float], float]:
    """Criterion intercepts, true dimension indices and the true overall index (shares)."""
    rng = random.Random(5)
    layout = CrossLayout(STRUCTURE)
    mu = {c: (1.2 if not c.startswith("V") else 0.4) + rng.uniform(-0.4, 0.4)
          for c in layout.codes}
    grid = [-6 + 12 * k / 4000 for k in range(4001)]
    weight = [math.exp(-g * g / 2) for g in grid]
    total = sum(weight)
    share = {c: sum(w * _logistic(mu[c] + SIGMA * g) for g, w in zip(grid, weight, strict=True))
             / total for c in layout.codes}
    dims = {d: sum(share[c] for c in codes) / len(codes) for d, codes in STRUCTURE.items()}
    return mu, dims, sum(dims.values()) / len(dims)


def _sample(rng: random.Random, mu: dict[str, float], codes: tuple[str, ...]) -> list[str]:
    rows = []
    for _ in range(RESPONDENTS):
        latent = rng.gauss(0, SIGMA)
        skips_v = rng.random() < 0.5
        rows.append("".join(
            "0" if (skips_v and code.startswith("V")) or rng.random() < 0.03
            else ("5" if rng.random() < _logistic(mu[code] + latent) else "2")
            for code in codes))
    return rows


def test_respondent_level_intervals_cover_about_95_percent_on_correlated_answers():
    layout = CrossLayout(STRUCTURE)
    mu, true_dims, true_overall = _model()
    rng = random.Random(1)
    covered = dict.fromkeys(["overall", *STRUCTURE], 0)
    independent = 0
    for _run in range(RUNS):
        rows = _sample(rng, mu, layout.codes)
        columns = list(zip(*rows, strict=True))
        tallies = {code: Tally((0, col.count("2"), 0, 0, col.count("5")), col.count("0"))
                   for code, col in zip(layout.codes, columns, strict=True)}
        result = score(STRUCTURE, tallies, CrossTally(layout, tuple(layout.count(rows))))
        lo, hi = result.estimate.ci95_percent()
        covered["overall"] += lo <= 100 * true_overall <= hi
        for dim in result.dimensions:
            lo, hi = dim.estimate.ci95_percent()
            covered[dim.code] += lo <= 100 * true_dims[dim.code] <= hi
        answers = sum(t.answered for t in tallies.values())
        lo, hi = wilson_interval(round(result.overall / 100 * answers), answers)
        independent += lo <= 100 * true_overall <= hi
    rates = {k: v / RUNS for k, v in covered.items()}
    assert all(0.93 <= r <= 0.97 for r in rates.values()), rates
    assert independent / RUNS < 0.75, independent / RUNS

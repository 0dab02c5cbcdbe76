"""The SIPAS arithmetic, against the seed's published 2021 figures and edge cases."""

import ast
from pathlib import Path

import pytest

from core import scoring
from core.scoring import Tally, criterion_index, mean_of_present, score, wilson_interval

# 2021 criterion figures published in plan 192/KH-UBND (SIPAS.md §2)
CRITERIA_2021 = {
    "I": [89.23, 89.41, 89.29, 89.18],
    "II": [89.12, 89.06, 89.00, 88.77, 88.08],
    "III": [89.12, 88.77, 88.66, 88.43, 88.49, 88.26, 87.85],
    "IV": [88.95, 89.23, 89.47, 89.18],
    "V": [82.15, 78.92, 78.92, 78.92],
}
DIMENSIONS_2021 = {"I": 89.28, "II": 88.81, "III": 88.51, "IV": 89.21, "V": 79.73}


@pytest.mark.parametrize("dim", list(CRITERIA_2021))
def test_dimension_means_reproduce_published_figures(dim):
    assert round(mean_of_present(CRITERIA_2021[dim]), 2) == DIMENSIONS_2021[dim]


def test_overall_reproduces_published_87_11():
    overall = mean_of_present(DIMENSIONS_2021.values())
    assert overall == pytest.approx(87.108)
    assert round(overall, 2) == 87.11


def test_overall_from_criteria_via_score():
    # Build tallies whose indices are exactly the published percentages (n = 10 000).
    tallies, structure = {}, {}
    for dim, values in CRITERIA_2021.items():
        codes = []
        for i, v in enumerate(values, 1):
            code = f"{dim}.{i}"
            sat = round(v * 100)
            tallies[code] = Tally((10_000 - sat, 0, 0, sat, 0))
            codes.append(code)
        structure[dim] = codes
    result = score(structure, tallies)
    dims = {d.code: d.index for d in result.dimensions}
    assert round(dims["I"], 4) == 89.2775
    assert round(result.overall, 2) == 87.11


def test_criterion_index_counts_four_and_five_as_satisfied():
    assert criterion_index(Tally((1, 1, 1, 1, 1), no_answer=7)) == pytest.approx(40.0)
    assert criterion_index(Tally((0, 0, 0, 0, 3))) == 100.0
    assert criterion_index(Tally((2, 0, 0, 0, 0))) == 0.0


def test_no_answers_gives_none_everywhere():
    result = score({"I": ["I.1", "I.2"], "II": ["II.1"]}, {})
    assert result.overall is None
    assert all(d.index is None for d in result.dimensions)
    assert all(c.index is None and c.ci95 is None for c in result.criteria())


def test_all_no_answer_is_none_not_zero():
    result = score({"V": ["V.1"]}, {"V.1": Tally((0, 0, 0, 0, 0), no_answer=12)})
    crit = next(result.criteria())
    assert crit.index is None and crit.tally.no_answer == 12
    assert result.overall is None


def test_dimension_ignores_unanswered_criteria_and_overall_ignores_empty_dimensions():
    tallies = {"I.1": Tally((0, 0, 0, 1, 0)), "I.2": Tally((1, 0, 0, 0, 0)),
               "II.1": Tally(no_answer=3)}
    result = score({"I": ["I.1", "I.2", "I.3"], "II": ["II.1"]}, tallies)
    dims = {d.code: d.index for d in result.dimensions}
    assert dims == {"I": 50.0, "II": None}
    assert result.overall == 50.0


def test_one_answer():
    result = score({"I": ["I.1"]}, {"I.1": Tally((0, 0, 0, 0, 1))})
    crit = next(result.criteria())
    assert crit.index == 100.0
    lo, hi = crit.ci95
    assert hi == pytest.approx(100.0) and 0 < lo < 30  # one answer says little
    assert result.overall == 100.0


def test_wilson_interval_known_values():
    # p = 0.5, n = 100: Wilson 95 % = [40.38, 59.62]
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(40.383, abs=1e-3) and hi == pytest.approx(59.617, abs=1e-3)
    assert wilson_interval(0, 0) is None
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(27.75, abs=0.01)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_interval_narrows_with_more_answers():
    small = wilson_interval(9, 10)
    large = wilson_interval(900, 1000)
    assert (small[1] - small[0]) > 3 * (large[1] - large[0])


def test_tallies_add_up():
    assert Tally((1, 2, 3, 4, 5), 6) + Tally((1, 1, 1, 1, 1), 1) == Tally((2, 3, 4, 5, 6), 7)


@pytest.mark.parametrize("module", ["scoring.py", "instrument.py", "timeutil.py"])
def test_pure_modules_import_neither_flask_nor_sqlalchemy(module):
    tree = ast.parse((Path(scoring.__file__).parent / module).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "sqlalchemy", "flask_sqlalchemy", "core"}

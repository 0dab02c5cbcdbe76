"""SIPAS arithmetic. Pure Python: no Flask, no SQLAlchemy (a test enforces it).

- criterion index = 100 x answers of 4-5 / answers of 1-5;
- dimension index = unweighted mean of its criteria that have an index;
- overall index   = unweighted mean of the dimensions that have an index;
- a Wilson 95 % score interval per criterion;
- ``None`` wherever nothing was answered.
Indices are unrounded percentages; rounding is for display only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Tally:
    """Answer counts for one criterion: ``counts[k-1]`` answers of level k, plus no-answers."""

    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    no_answer: int = 0

    @property
    def answered(self) -> int:
        return sum(self.counts)

    @property
    def satisfied(self) -> int:
        return self.counts[3] + self.counts[4]

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            tuple(a + b for a, b in zip(self.counts, other.counts, strict=True)),  # type: ignore[arg-type]
            self.no_answer + other.no_answer,
        )


@dataclass(frozen=True)
class CriterionScore:
    code: str
    tally: Tally
    index: float | None
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class DimensionScore:
    code: str
    index: float | None
    criteria: tuple[CriterionScore, ...]


@dataclass(frozen=True)
class Scores:
    overall: float | None
    dimensions: tuple[DimensionScore, ...]

    def criteria(self) -> Iterable[CriterionScore]:
        for dim in self.dimensions:
            yield from dim.criteria


def criterion_index(tally: Tally) -> float | None:
    """Share of answers of 4 or 5 among answers of 1-5, in percent; None if none answered."""
    if tally.answered == 0:
        return None
    return 100.0 * tally.satisfied / tally.answered


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, in percent; None when ``n`` is 0.

    Raises ValueError when ``successes`` is outside 0..n.
    """
    if n == 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half) * 100.0, min(1.0, centre + half) * 100.0)


def mean_of_present(values: Iterable[float | None]) -> float | None:
    """Unweighted mean of the values that are not None; None if there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def score(structure: Mapping[str, Sequence[str]], tallies: Mapping[str, Tally]) -> Scores:
    """Score one questionnaire: ``structure`` maps dimension -> criterion codes in order;
    ``tallies`` maps criterion code -> :class:`Tally` (missing codes count as unanswered)."""
    dims = []
    for dcode, codes in structure.items():
        crits = []
        for code in codes:
            t = tallies.get(code, Tally())
            crits.append(CriterionScore(code, t, criterion_index(t),
                                        wilson_interval(t.satisfied, t.answered)))
        dims.append(DimensionScore(dcode, mean_of_present(c.index for c in crits), tuple(crits)))
    return Scores(mean_of_present(d.index for d in dims), tuple(dims))

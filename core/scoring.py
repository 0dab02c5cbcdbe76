"""SIPAS arithmetic and the statistics a report needs. Pure Python: no Flask, no SQLAlchemy
(a test enforces it).

- criterion index = 100 x answers of 4-5 / answers of 1-5;
- dimension index = unweighted mean of its criteria that have an index;
- overall index   = unweighted mean of the dimensions that have an index;
- a figure is *complete* only when every part it averages has answers: a dimension when each
  of its criteria has, the overall when every dimension is complete (the mean of four
  dimensions is not the same figure as the mean of five);
- a Wilson 95 % score interval per criterion (one answer per respondent);
- for dimension and overall indices, a respondent-level interval: a linearised (Taylor)
  variance computed from a cross-tally of criterion pairs (one respondent answers many
  criteria, so their answers are not independent), turned into a Wilson interval with the
  effective sample size (:func:`index_estimate`);
- changes between two periods: Newcombe's hybrid score interval for the difference of two
  proportions (its square-and-add form for indices), with a p-value from inverting it and
  Benjamini-Hochberg across a family of comparisons;
- targets judged on the value as displayed (two decimals, :func:`displayed`).

``None`` wherever nothing was answered. Indices are unrounded percentages; rounding is for
display only.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

Z95 = 1.959963984540054
CENT = Decimal("0.01")
#: target operators as the plan writes them: "> 88,00" (strict) and a plain value (at least)
OPERATORS = (">", ">=")


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


# --- estimates and intervals -----------------------------------------------------------------

def wilson_bounds(p: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``p`` (0..1) observed on ``n`` > 0 (possibly an
    effective, non-integer sample size), as proportions."""
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(max(0.0, p * (1 - p) / n + z2 / (4 * n * n))) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, in percent; None when ``n`` is 0.

    Raises ValueError when ``successes`` is outside 0..n.
    """
    if n == 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    lo, hi = wilson_bounds(successes / n, n, z)
    return lo * 100.0, hi * 100.0


@dataclass(frozen=True)
class Estimate:
    """A share (0..1) with the sample size its uncertainty corresponds to: the number of
    answers for a criterion, the effective sample size for an index (see
    :func:`index_estimate`). Its intervals are Wilson score intervals on that size."""

    value: float
    n_eff: float

    def bounds(self, z: float = Z95) -> tuple[float, float]:
        return wilson_bounds(self.value, self.n_eff, z)

    def ci95_percent(self) -> tuple[float, float]:
        lo, hi = self.bounds()
        return lo * 100.0, hi * 100.0


def proportion_estimate(tally: Tally) -> Estimate | None:
    """A criterion's share satisfied with its answers as the sample size."""
    if tally.answered == 0:
        return None
    return Estimate(tally.satisfied / tally.answered, float(tally.answered))


# --- the cross-tally: pairs of criteria answered by the same respondents ---------------------

#: bytes per count when packed cross-tallies are added (little-endian, unsigned); a stored one
#: uses the narrowest of 1, 2 or 4 bytes that holds its counts (its first byte says which)
LANE = 4
_LANE_MAX = (1 << (8 * LANE)) - 1
_ARRAY_CODES = {size: next(code for code in "BHILQ" if array(code).itemsize == size)
                for size in (1, 2, 4)}
#: rows counted per batch of bit sets (bounded memory; any size gives the same counts)
_CHUNK = 1 << 15
_ANSWERED = str.maketrans("012345", "011111")
_SATISFIED = str.maketrans("012345", "000011")


class CrossLayout:
    """Where each count of a cross-tally sits, for one questionnaire ``structure``
    (dimension -> criterion codes, in the order of the packed answers).

    Counts, in order: respondents; for each dimension, the respondents who answered at least
    one of its criteria; then for each pair of criteria (a, b), a before b: the respondents
    who answered both, of them those satisfied on a, those satisfied on b, and those
    satisfied on both. Sums over respondents only: they do not depend on the order in which
    answers were counted, and every count of a group of offices or months is the sum of its
    parts'.
    """

    def __init__(self, structure: Mapping[str, Sequence[str]]) -> None:
        self.dimensions = tuple(structure)
        self.codes = tuple(code for codes in structure.values() for code in codes)
        self.position = {code: i for i, code in enumerate(self.codes)}
        self.members = tuple(tuple(self.position[c] for c in structure[d])
                             for d in self.dimensions)
        k = len(self.codes)
        self.pairs = tuple((a, b) for a in range(k) for b in range(a + 1, k))
        self._pair_offset = {pair: 1 + len(self.dimensions) + 4 * i
                             for i, pair in enumerate(self.pairs)}
        self.width = 1 + len(self.dimensions) + 4 * len(self.pairs)

    def count(self, answers: Iterable[str]) -> list[int]:
        """The counts of packed answer strings ('0' = no answer, '1'..'5')."""
        return self.count_weighted(Counter(answers).items())

    def count_weighted(self, answers: Iterable[tuple[str, int]]) -> list[int]:
        """The counts of (packed answer string, how many times it was given) pairs (a
        string given zero or fewer times adds nothing). Raises ValueError for a string that
        does not fit the layout."""
        total = [0] * self.width
        k = len(self.codes)
        by_times: dict[int, list[str]] = {}  # the counts are linear: each weight once
        for row, times in answers:
            if len(row) != k:
                raise ValueError(f"answers of length {len(row)} do not fit the layout")
            if times > 0:
                rows = by_times.get(times)
                if rows is None:
                    by_times[times] = [row]
                else:
                    rows.append(row)
        for times, rows in by_times.items():
            for start in range(0, len(rows), _CHUNK):
                self._add_chunk(total, rows[start:start + _CHUNK], times)
        return total

    def _add_chunk(self, total: list[int], rows: list[str], times: int) -> None:
        # one bit per row: answered[j] and satisfied[j] as integers (C-speed AND / popcount);
        # column j of the rows is every k-th character of the rows joined
        k = len(self.codes)
        joined = "".join(rows)
        answered_text, satisfied_text = joined.translate(_ANSWERED), joined.translate(_SATISFIED)
        answered = [int(answered_text[j::k], 2) for j in range(k)]
        satisfied = [int(satisfied_text[j::k], 2) for j in range(k)]
        total[0] += len(rows) * times
        for i, members in enumerate(self.members, start=1):
            any_answer = 0
            for j in members:
                any_answer |= answered[j]
            total[i] += any_answer.bit_count() * times
        at = 1 + len(self.members)
        for a, b in self.pairs:
            aa, ab, sa, sb = answered[a], answered[b], satisfied[a], satisfied[b]
            total[at] += (aa & ab).bit_count() * times
            total[at + 1] += (sa & ab).bit_count() * times
            total[at + 2] += (aa & sb).bit_count() * times
            total[at + 3] += (sa & sb).bit_count() * times
            at += 4

    def pack(self, counts: Sequence[int]) -> bytes:
        """Counts as bytes: one byte giving the width of each count (1, 2 or 4 bytes, the
        narrowest that holds the largest, which is the respondents), then the counts,
        little-endian. Raises ValueError for a count that does not fit 4 bytes or a list of
        the wrong length."""
        if len(counts) != self.width:
            raise ValueError("counts do not fit the layout")
        top = max(counts)
        if min(counts) < 0 or top > _LANE_MAX:
            raise ValueError("a count does not fit a lane")
        width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
        values = array(_ARRAY_CODES[width], counts)
        if sys.byteorder == "big":
            values.byteswap()
        return bytes([width]) + values.tobytes()

    def _lanes(self, packed: bytes) -> bytes:
        """The counts of a packed cross-tally as 4-byte little-endian lanes (widened by
        strided slice assignment, at C speed)."""
        width = packed[0] if packed else 0
        if width not in _ARRAY_CODES or len(packed) != 1 + width * self.width:
            raise ValueError("packed counts do not fit the layout")
        if width == LANE:
            return packed[1:]
        lanes = bytearray(LANE * self.width)
        for i in range(width):
            lanes[i::LANE] = packed[1 + i::width]
        return bytes(lanes)

    def unpack(self, packed: bytes) -> list[int]:
        """Raises ValueError for bytes that are not a packed cross-tally of this layout."""
        return self._from_lanes(self._lanes(packed))

    def _from_lanes(self, lanes: bytes) -> list[int]:
        values = array(_ARRAY_CODES[LANE])
        values.frombytes(lanes)
        if sys.byteorder == "big":
            values.byteswap()
        return values.tolist()

    def sum_packed(self, packed: Iterable[bytes]) -> list[int]:
        """The sum of packed cross-tallies. Every count is at most its tally's first count
        (respondents), so while the respondents add up to less than a lane's maximum the
        counts are added as (very long) integers of 4-byte lanes, lane by lane at C speed;
        past it, count by count."""
        lanes = [self._lanes(b) for b in packed]
        if sum(int.from_bytes(x[:LANE], "little") for x in lanes) <= _LANE_MAX:
            total = sum(int.from_bytes(x, "little") for x in lanes)
            return self._from_lanes(total.to_bytes(LANE * self.width, "little"))
        out = [0] * self.width
        for x in lanes:
            out = [a + b for a, b in zip(out, self._from_lanes(x), strict=True)]
        return out

    def pair_counts(self, counts: Sequence[int], a: int, b: int) -> tuple[int, int, int, int]:
        """(both answered, satisfied on a, satisfied on b, satisfied on both) for the
        criteria at positions ``a`` and ``b`` (either order: the counts are swapped)."""
        if a > b:
            both, sat_b, sat_a, sat_both = self.pair_counts(counts, b, a)
            return both, sat_a, sat_b, sat_both
        at = self._pair_offset[(a, b)]
        return counts[at], counts[at + 1], counts[at + 2], counts[at + 3]


@dataclass(frozen=True)
class CrossTally:
    """Counts of :class:`CrossLayout` for one office (or group of offices) and period."""

    layout: CrossLayout
    counts: tuple[int, ...]

    @property
    def respondents(self) -> int:
        return self.counts[0]

    def dimension_respondents(self, dimension: str) -> int:
        return self.counts[1 + self.layout.dimensions.index(dimension)]


def index_estimate(weights: Mapping[str, float], tallies: Mapping[str, Tally],
                   cross: CrossTally, respondents: int) -> Estimate | None:
    """A respondent-level estimate of the index sum(w_j * p_j) (criterion shares p_j = s_j /
    n_j; the weights of the criteria that have answers, summing to 1).

    Linearisation (Taylor): p_j - P_j ~ sum_i a_ij (y_ij - p_j) / n_j over respondents i
    (a_ij = answered j, y_ij = satisfied on j), so the index is, to first order, a total of
    one score per respondent, u_i = sum_j w_j a_ij (y_ij - p_j) / n_j, whose values sum to 0.
    Its variance is estimated by m / (m - 1) * sum_i u_i**2 (m = ``respondents`` who answered
    any of the criteria), which expands into sum_jk c_j c_k C_jk with c_j = w_j / n_j,
    C_jj = n_j p_j (1 - p_j) and, for j != k, C_jk = S11 - p_k Sj - p_j Sk + p_j p_k N over
    the respondents who answered both (N of them; Sj, Sk satisfied on j, on k; S11 on both):
    exactly the cross-tally's counts. No assumption that one respondent's answers are
    independent.

    The interval is Wilson's with the effective sample size p (1 - p) / variance (the
    number of independent answers that would be as informative; bounded by the answers
    counted), which keeps it inside 0-100 % and behaves near 100 %. Without spread (every
    answer satisfied, or one respondent) the effective size is the number of respondents.
    Returns None when no weighted criterion has answers.
    """
    terms = [(cross.layout.position[code], w, tallies[code]) for code, w in weights.items()
             if w and tallies.get(code) is not None and tallies[code].answered]
    if not terms:
        return None
    shares = {pos: t.satisfied / t.answered for pos, _w, t in terms}
    value = sum(w * shares[pos] for pos, w, _t in terms)
    value = min(1.0, max(0.0, value))
    c = {pos: w / t.answered for pos, w, t in terms}
    total = 0.0
    for pos, _w, t in terms:
        p = shares[pos]
        total += c[pos] * c[pos] * t.answered * p * (1 - p)
    for i, (a, _wa, _ta) in enumerate(terms):
        for b, _wb, _tb in terms[i + 1:]:
            both, sat_a, sat_b, sat_both = cross.layout.pair_counts(cross.counts, a, b)
            if not both:
                continue
            pa, pb = shares[a], shares[b]
            cov = sat_both - pb * sat_a - pa * sat_b + pa * pb * both
            total += 2 * c[a] * c[b] * cov
    answers = sum(t.answered for _p, _w, t in terms)
    m = respondents
    if m >= 2 and total > 0 and 0 < value < 1:
        variance = m / (m - 1) * total
        n_eff = min(float(answers), value * (1 - value) / variance)
    else:
        n_eff = float(max(1, m))
    return Estimate(value, n_eff)


# --- scores of one questionnaire -------------------------------------------------------------

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
    #: criteria without any answer (their absence makes the mean another figure)
    missing: tuple[str, ...] = ()
    #: respondent-level estimate (needs a cross-tally)
    estimate: Estimate | None = None
    #: respondents who answered at least one of the dimension's criteria (needs a cross-tally)
    respondents: int | None = None

    @property
    def complete(self) -> bool:
        return self.index is not None and not self.missing


@dataclass(frozen=True)
class Scores:
    overall: float | None
    dimensions: tuple[DimensionScore, ...]
    estimate: Estimate | None = field(default=None)

    @property
    def missing(self) -> tuple[str, ...]:
        """Dimensions that are not complete (without answers, or with a criterion without)."""
        return tuple(d.code for d in self.dimensions if not d.complete)

    @property
    def complete(self) -> bool:
        return self.overall is not None and not self.missing

    def criteria(self) -> Iterable[CriterionScore]:
        for dim in self.dimensions:
            yield from dim.criteria


def criterion_index(tally: Tally) -> float | None:
    """Share of answers of 4 or 5 among answers of 1-5, in percent; None if none answered."""
    if tally.answered == 0:
        return None
    return 100.0 * tally.satisfied / tally.answered


def mean_of_present(values: Iterable[float | None]) -> float | None:
    """Unweighted mean of the values that are not None; None if there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def score(structure: Mapping[str, Sequence[str]], tallies: Mapping[str, Tally],
          cross: CrossTally | None = None) -> Scores:
    """Score one questionnaire: ``structure`` maps dimension -> criterion codes in order;
    ``tallies`` maps criterion code -> :class:`Tally` (missing codes count as unanswered).
    With the period's ``cross`` tally, dimension and overall indices also get a
    respondent-level :class:`Estimate` and dimensions their number of respondents."""
    dims = []
    weights_overall: dict[str, float] = {}
    dim_weights: list[dict[str, float]] = []
    for dcode, codes in structure.items():
        crits = []
        for code in codes:
            t = tallies.get(code, Tally())
            crits.append(CriterionScore(code, t, criterion_index(t),
                                        wilson_interval(t.satisfied, t.answered)))
        present = [c.code for c in crits if c.index is not None]
        dim_weights.append({code: 1 / len(present) for code in present})
        dims.append(DimensionScore(dcode, mean_of_present(c.index for c in crits),
                                   tuple(crits),
                                   tuple(c.code for c in crits if c.index is None)))
    overall = mean_of_present(d.index for d in dims)
    if cross is None:
        return Scores(overall, tuple(dims))
    with_estimates = []
    present_dims = [w for w in dim_weights if w]
    for d, w in zip(dims, dim_weights, strict=True):
        n = cross.dimension_respondents(d.code)
        est = index_estimate(w, tallies, cross, n) if w else None
        with_estimates.append(DimensionScore(d.code, d.index, d.criteria, d.missing, est, n))
        for code, wj in w.items():
            weights_overall[code] = wj / len(present_dims)
    est = (index_estimate(weights_overall, tallies, cross, cross.respondents)
           if weights_overall else None)
    return Scores(overall, tuple(with_estimates), est)


# --- what is displayed, and targets ----------------------------------------------------------

def displayed(value: float) -> Decimal:
    """The value as a reader sees it: two decimals, rounded half up from its shortest decimal
    form (87.125 -> 87.13, 87.99975 -> 88.00, as a spreadsheet shows them); never -0.00."""
    shown = Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)
    return shown if shown else CENT * 0


def target_verdict(index: float | None, value: float, operator: str, *, judged: bool
                   ) -> tuple[bool | None, float | None]:
    """(met, gap in points) of ``index`` against a target ``operator value``, decided on the
    displayed value: "> 88.00" is not met by 88.00 (nor by 87.99975, displayed 88.00), ">="
    is. (None, None) when there is nothing to judge, or ``judged`` is False (an incomplete
    figure, one under the minimum sample). Raises ValueError for an unknown operator."""
    if operator not in OPERATORS:
        raise ValueError(f"unknown target operator {operator!r}")
    if index is None or not judged:
        return None, None
    gap = displayed(index) - Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)
    met = gap > 0 if operator == ">" else gap >= 0
    return met, float(gap)


# --- changes between periods -----------------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """now - before, in percentage points, with a 95 % interval and the p-value of the
    interval's test (the largest level at which the interval still excludes 0)."""

    delta: float
    low: float
    high: float
    p_value: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _square_and_add(now: Estimate, before: Estimate, z: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) of now - before when both bounds are
    Wilson's: each side's distance to its own bound, combined as for independent samples."""
    l1, u1 = now.bounds(z)
    l2, u2 = before.bounds(z)
    d = now.value - before.value
    return (d - math.sqrt((now.value - l1) ** 2 + (u2 - before.value) ** 2),
            d + math.sqrt((u1 - now.value) ** 2 + (before.value - l2) ** 2))


def _margin_at(now: Estimate, before: Estimate):
    """``z -> how far _square_and_add(now, before, z) is from containing 0``: its lower
    bound when now > before, minus its upper bound otherwise; positive exactly when the
    interval at ``z`` excludes 0, and falling as ``z`` grows (each bound moves monotonically
    with z). The same arithmetic as :func:`_square_and_add`, inlined (the p-value's search
    calls it several times per change)."""
    p1, n1, p2, n2 = now.value, now.n_eff, before.value, before.n_eff
    a1, a2 = p1 * (1 - p1) / n1, p2 * (1 - p2) / n2
    h1, h2, q1, q2 = 2 * n1, 2 * n2, 4 * n1 * n1, 4 * n2 * n2
    d = p1 - p2
    sqrt = math.sqrt

    def margin(z: float) -> float:
        z2 = z * z
        den = 1 + z2 / n1
        centre = (p1 + z2 / h1) / den
        half = z * sqrt(max(0.0, a1 + z2 / q1)) / den
        l1, u1 = max(0.0, centre - half), min(1.0, centre + half)
        den = 1 + z2 / n2
        centre = (p2 + z2 / h2) / den
        half = z * sqrt(max(0.0, a2 + z2 / q2)) / den
        l2, u2 = max(0.0, centre - half), min(1.0, centre + half)
        if d > 0:
            return d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        return -(d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))

    return margin


def _excludes_zero_at(now: Estimate, before: Estimate):
    """``z -> whether _square_and_add(now, before, z) excludes 0``."""
    margin = _margin_at(now, before)
    return lambda z: margin(z) > 0


def _last_excluding_z(margin, low: float, high: float, f_low: float, f_high: float) -> float:
    """The z where a falling ``margin`` crosses 0 between ``low`` (margin > 0) and ``high``
    (margin <= 0), to about 1e-10: Chandrupatla's method (inverse quadratic interpolation
    where the last three points allow it, else halving the bracket; never slower than
    bisection by more than a few steps). About ten evaluations where a bisection to the same
    precision takes over forty."""
    a, fa, b, fb = high, f_high, low, f_low
    c, fc = a, fa
    t = 0.5
    while True:
        xt = a + t * (b - a)
        ft = margin(xt)
        if (ft > 0) == (fa > 0):
            c, fc = a, fa
        else:
            c, fc, b, fb = b, fb, a, fa
        a, fa = xt, ft
        xm, fm = (a, fa) if abs(fa) < abs(fb) else (b, fb)
        tol = 4e-16 * abs(xm) + 1e-10
        tlim = tol / abs(b - c)
        if fm == 0 or tlim > 0.5:
            return xm
        xi, phi = (a - b) / (c - b), (fa - fb) / (fc - fb)
        if phi * phi < xi and (1 - phi) ** 2 < 1 - xi:
            t = (fa / (fb - fa) * fc / (fb - fc)
                 + (c - a) / (b - a) * fa / (fc - fa) * fb / (fc - fb))
        else:
            t = 0.5
        t = min(1 - tlim, max(tlim, t))


def _normal_two_sided(z: float) -> float:
    return math.erfc(z / math.sqrt(2))


def compare(now: Estimate, before: Estimate, *, p_value: bool = True) -> Change:
    """The change now - before: Newcombe's hybrid score interval for the difference of two
    independent proportions (two periods have different respondents), in points. With
    criterion estimates (answers as n) it is exactly Newcombe's; with index estimates it is
    the same square-and-add on their respondent-level Wilson intervals. The p-value inverts
    the interval: the z at which it starts to contain 0, found by :func:`_last_excluding_z`
    (each bound moves monotonically with z); ``p_value=False`` skips it (NaN) when only the
    interval is needed."""
    lo, hi = _square_and_add(now, before, Z95)
    d = now.value - before.value
    if not p_value:
        p = math.nan
    elif d == 0:
        p = 1.0
    else:
        margin = _margin_at(now, before)
        at_high = margin(40.0)
        if at_high > 0:
            p = 0.0
        else:
            p = _normal_two_sided(_last_excluding_z(margin, 0.0, 40.0, abs(d), at_high))
    return Change(d * 100.0, lo * 100.0, hi * 100.0, p)


def compare_screened(now: Estimate, before: Estimate) -> Change:
    """:func:`compare` for a family tested with :func:`significant_changes` (q at most 5 %):
    the p-value is searched only when the 95 % interval excludes 0, i.e. when p < 0.05;
    otherwise it is reported as 1.0. A test with p >= 0.05 is never a discovery at q <= 0.05
    (its threshold k q / m is at most q) and still ranks after every test with p < 0.05,
    so the discoveries are the same (but for a p-value of exactly 0.05); most changes
    between two months contain 0, and their search was most of a report's arithmetic."""
    change = compare(now, before, p_value=False)
    if change.excludes_zero:
        return compare(now, before)
    return Change(change.delta, change.low, change.high, 1.0)


def benjamini_hochberg(p_values: Sequence[float], q: float = 0.05) -> list[bool]:
    """Which of a family of tests are discoveries at false discovery rate ``q``
    (Benjamini & Hochberg 1995): the k smallest p-values, k the largest rank with
    p_(k) <= k q / m."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    k = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rank * q / m:
            k = rank
    out = [False] * m
    for i in order[:k]:
        out[i] = True
    return out


def significant_changes(changes: Sequence[Change | None], comparable: Sequence[bool],
                        q: float = 0.05) -> list[bool]:
    """Which changes are significant: comparable (both periods meet the minimum sample),
    the 95 % interval excludes 0, and the test survives Benjamini-Hochberg at ``q`` among the
    comparable changes of the family."""
    family = [i for i, (c, ok) in enumerate(zip(changes, comparable, strict=True))
              if c is not None and ok]
    found = benjamini_hochberg([changes[i].p_value for i in family], q)  # type: ignore[union-attr]
    out = [False] * len(changes)
    for i, discovered in zip(family, found, strict=True):
        out[i] = discovered and changes[i].excludes_zero  # type: ignore[union-attr]
    return out


def ties(estimates: Sequence[Estimate]) -> list[tuple[int, int]]:
    """For estimates sorted from the highest value down, each one's range of plausible ranks
    (1-based): from 1 + the number significantly above it to the number not significantly
    below it (pairwise Newcombe intervals at 95 %). A range wider than one rank is a
    statistical tie."""
    n = len(estimates)
    above = [0] * n
    not_below = [n] * n
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            c = compare(estimates[j], estimates[i], p_value=False)  # j - i
            if c.low > 0:
                above[i] += 1
            elif c.high < 0:
                not_below[i] -= 1
    return [(1 + above[i], not_below[i]) for i in range(n)]


"""What to fix first: each criterion placed by performance (its index) and importance.

Importance is the Spearman rank correlation, over respondents, between the answer to the
criterion and the mean of the same respondent's OTHER criteria (the instrument has no
separate overall question, and including the criterion itself in the mean would inflate the
correlation). A criterion that moves with everything else a respondent feels is one whose
improvement is likely to lift overall satisfaction.

It is computed from a per office-month cross-tally (``monthly_priority_tally``, kept with the
other tallies at release time, by paper imports and by ``flask tallies rebuild``): for each
criterion, respondents by their answer (1-5) and by the mean of their other answers rounded
to a quarter point (17 bins, 1.00-5.00). Tallies of offices and months add up, so a quarter
or a year is a sum of monthly rows, never a rescan of answers. Ties are given mid-ranks, so
the coefficient is exact for the binned means.

Shown only when the period has at least ``PRIORITY_MIN_RESPONDENTS`` (100) respondents; a
criterion is placed only when at least ``MIN_SAMPLE`` respondents answered it and another
criterion. The three criteria to improve first are those with the largest gap between
importance and performance in standard units (z(importance) - z(index)), ties by code.
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import MonthlyPriorityTally
from core.services.common import registry
from core.services.packed import add_packed, subtract_packed

LEVELS = 5
#: the mean of the other answers, rounded to a quarter point: 1.00, 1.25, ... 5.00
BINS = 17
#: the first character of the (answer, bin) codes of :meth:`PriorityLayout.count_weighted`
_CODE0 = 0x100
_CODES = tuple(chr(_CODE0 + i) for i in range(LEVELS * BINS))
_BLANK = chr(_CODE0 - 1)  # "0": no answer
_TABLE = MonthlyPriorityTally.__table__


class PriorityLayout:
    """Counts, in order: respondents (at least one answer); then for each criterion, for
    each answer 1-5, for each bin of the mean of the other answers, the respondents."""

    def __init__(self, codes: Iterable[str]) -> None:
        self.codes = tuple(codes)
        self.width = 1 + len(self.codes) * LEVELS * BINS

    def offset(self, criterion: int, level: int, b: int) -> int:
        return 1 + (criterion * LEVELS + level - 1) * BINS + b

    def count_weighted(self, answers: Iterable[tuple[str, int]]) -> list[int]:
        """The counts of (packed answer string, how many times it was given) pairs.
        Raises ValueError for a string that does not fit the layout.

        Each string is translated, by a table chosen by how many criteria it answers and the
        sum of its answers, into one character per criterion naming the (answer, bin of the
        mean of the others) it adds to; the characters of each criterion are then counted
        for all strings given the same number of times at once (C speed, no loop over a
        string's answers in Python)."""
        total = [0] * self.width
        k = len(self.codes)
        tables = self._tables(k)
        zero = 48 * k
        by_times: dict[int, list[str]] = {}
        for row, times in answers:
            if len(row) != k:
                raise ValueError(f"answers of length {len(row)} do not fit the layout")
            answered = k - row.count("0")
            if not answered:
                continue
            total[0] += times
            if answered == 1:
                continue  # no other answer: no mean of the others
            try:
                table = tables[answered][sum(row.encode()) - zero]
            except IndexError:
                raise ValueError("answers must be digits 0-5") from None
            rows = by_times.get(times)
            if rows is None:
                by_times[times] = [row.translate(table)]
            else:
                rows.append(row.translate(table))
        for times, rows in by_times.items():
            joined = "".join(rows)
            for i in range(k):
                column = joined[i::k]
                base = 1 + i * LEVELS * BINS
                if len(rows) < 256:  # a few strings: count the characters there are
                    found = Counter(column).items()
                else:  # many: count each possible character (each a fast search)
                    found = [(ch, n) for ch in _CODES if (n := column.count(ch))]
                    found.append((_BLANK, column.count(_BLANK)))
                counted = 0
                for ch, n in found:
                    code = ord(ch) - _CODE0
                    if 0 <= code < LEVELS * BINS:
                        total[base + code] += n * times
                    elif ch != _BLANK:
                        raise ValueError("answers must be digits 0-5")
                    counted += n
                if counted != len(rows):
                    raise ValueError("answers must be digits 0-5")
        return total

    _TABLES: dict[int, list[list[dict[int, str]]]] = {}

    @classmethod
    def _tables(cls, k: int) -> list[list[dict[int, str]]]:
        """tables[answered][sum]: the translation of a string answering ``answered``
        criteria with answers summing to ``sum``: "0" to _CODE0 - 1, an answer v to the
        character of (v, the bin of the mean of the other answers), _CODE0 + (v - 1) *
        BINS + bin; other characters are left as they are (and refused)."""
        table = cls._TABLES.get(k)
        if table is None:
            bins = cls._bins(k)
            table = [[] for _ in range(min(k, 1) + 1)]
            for answered in range(2, k + 1):
                lookup = bins[answered - 1]
                table.append([
                    {48: _BLANK, **{48 + v: chr(_CODE0 + (v - 1) * BINS + lookup[s - v])
                                 for v in range(1, LEVELS + 1) if 0 <= s - v < len(lookup)}}
                    for s in range(LEVELS * answered + 1)])
            cls._TABLES[k] = table
        return table

    _BINS: dict[int, list[list[int]]] = {}

    @classmethod
    def _bins(cls, k: int) -> list[list[int]]:
        """bins[others][rest]: round(4 (rest / others - 1)) half up, for sums of ``others``
        answers 1-5."""
        table = cls._BINS.get(k)
        if table is None:
            table = cls._BINS[k] = [
                [(8 * (rest - others) + others) // (2 * others) if others else 0
                 for rest in range(5 * max(others, 1) + 1)] for others in range(k)]
        return table

    def pack(self, counts: list[int]) -> bytes:
        return struct.pack(f"<{self.width}I", *counts)

    def unpack(self, blob: bytes) -> list[int]:
        return list(struct.unpack(f"<{self.width}I", blob))

    def sum_packed(self, blobs: list[bytes]) -> list[int]:
        """The sum of packed tallies. No count exceeds its tally's first (the respondents),
        so while the respondents add up to less than 2**32 the tallies are added as long
        integers of 4-byte lanes (no carry crosses a lane), at C speed; past it, count by
        count. Raises ValueError for bytes that are not a tally of this layout."""
        size = 4 * self.width
        if any(len(b) != size for b in blobs):
            raise ValueError("a priority tally does not fit the layout")
        if sum(int.from_bytes(b[:4], "little") for b in blobs) < 2 ** 32:
            total = sum(int.from_bytes(b, "little") for b in blobs)
            return self.unpack(total.to_bytes(size, "little"))
        return [sum(column) for column in zip(*map(self.unpack, blobs), strict=True)]

    def table(self, counts: list[int], criterion: int) -> list[list[int]]:
        """The 5 x 17 table of one criterion (answer level -> bin -> respondents)."""
        start = self.offset(criterion, 1, 0)
        return [counts[start + r * BINS:start + (r + 1) * BINS] for r in range(LEVELS)]


_LAYOUTS: dict[str, PriorityLayout] = {}


def layout_for(instrument_id: str) -> PriorityLayout:
    found = _LAYOUTS.get(instrument_id)
    if found is None:
        found = _LAYOUTS[instrument_id] = PriorityLayout(
            registry().get(instrument_id).criterion_codes)
    return found


def count(instrument_id: str, answers: Iterable[tuple[str, int]]) -> list[int]:
    return layout_for(instrument_id).count_weighted(answers)


def add_priority_tallies(session: Session, sums: dict[tuple[int, str, str], list[int]]
                         ) -> None:
    """Add counts ((office, month, instrument) -> counts) to the stored ones
    (:func:`core.services.packed.add_packed`)."""
    add_packed(session, _TABLE, layout_for, sums)


def pooled_counts(office_id: int, months: Collection[str], instrument_id: str
                  ) -> list[int] | None:
    """The priority tally of an office's subtree over ``months`` (None when there is none)."""
    from core.services.pooling import within

    layout = layout_for(instrument_id)
    query = within(sa.select(_TABLE.c.counts), _TABLE.c.office_id, office_id).where(
        _TABLE.c.month.in_(sorted(months)), _TABLE.c.instrument_id == instrument_id)
    blobs = [bytes(blob) for (blob,) in db.session.execute(query)]
    return layout.sum_packed(blobs) if blobs else None


# --- statistics (pure) -----------------------------------------------------------------------

def _midranks(marginal: list[int]) -> list[float]:
    out, before = [], 0
    for m in marginal:
        out.append(before + (m + 1) / 2)
        before += m
    return out


def spearman(table: list[list[int]]) -> tuple[float | None, int]:
    """Spearman's rho of a contingency table (rows and columns ordered), mid-ranks for
    ties: (rho, respondents). None when either variable is constant or the table empty."""
    n = sum(map(sum, table))
    if n < 2:
        return None, n
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    rx, ry = _midranks(rows), _midranks(cols)
    mean = (n + 1) / 2
    vx = sum(m * (r - mean) ** 2 for m, r in zip(rows, rx, strict=True))
    vy = sum(m * (r - mean) ** 2 for m, r in zip(cols, ry, strict=True))
    if vx == 0 or vy == 0:
        return None, n
    cov = sum(table[a][b] * (rx[a] - mean) * (ry[b] - mean)
              for a in range(len(rows)) for b in range(len(cols)) if table[a][b])
    return cov / math.sqrt(vx * vy), n


def _z(values: list[float]) -> list[float]:
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [0.0 if sd == 0 else (v - mean) / sd for v in values]


def place(counts: list[int] | None, layout: PriorityLayout, criteria: list[dict[str, Any]],
          *, min_respondents: int, min_sample: int) -> dict[str, Any]:
    """The priorities (pure): {"shown", "respondents", "min_respondents", "criteria":
    [{code, text, index, importance, n, quadrant}], "top": [three criteria]}.
    ``criteria`` are the report's (code, text, index)."""
    respondents = counts[0] if counts else 0
    out: dict[str, Any] = {"shown": False, "respondents": respondents,
                           "min_respondents": min_respondents, "criteria": [], "top": []}
    if counts is None or respondents < min_respondents:
        return out
    placed = []
    for i, c in enumerate(criteria):
        rho, n = spearman(layout.table(counts, i))
        if rho is None or n < min_sample or c["index"] is None:
            continue
        placed.append({"code": c["code"], "text": c["text"], "index": c["index"],
                       "importance": rho, "n": n})
    if len(placed) < 3:
        return out
    imp = [p["importance"] for p in placed]
    perf = [p["index"] for p in placed]
    mid_imp, mid_perf = sorted(imp)[len(imp) // 2], sorted(perf)[len(perf) // 2]
    for p, zi, zp in zip(placed, _z(imp), _z(perf), strict=True):
        p["gap"] = zi - zp
        p["quadrant"] = ("fix" if p["importance"] >= mid_imp and p["index"] < mid_perf
                         else "keep" if p["importance"] >= mid_imp
                         else "watch" if p["index"] < mid_perf else "secondary")
    out["criteria"] = placed
    out["top"] = sorted(placed, key=lambda p: (-p["gap"], p["code"]))[:3]
    out["shown"] = True
    return out


def priorities(office_id: int, months: Collection[str], report: dict[str, Any]
               ) -> dict[str, Any]:
    """The priorities of an office's subtree for ``months`` and its report's criteria."""
    counts = pooled_counts(office_id, months, report["instrument"])
    return place(counts, layout_for(report["instrument"]), report["criteria"],
                 min_respondents=int(current_app.config["PRIORITY_MIN_RESPONDENTS"]),
                 min_sample=int(report["min_sample"]))


def counter_of(answers: Iterable[str]) -> list[tuple[str, int]]:
    return list(Counter(answers).items())


def subtract_priority_tallies(session: Session, sums: dict[tuple[int, str, str], list[int]]
                              ) -> None:
    """Subtract counts of stored responses being deleted (e.g. an undone paper batch):
    :func:`core.services.packed.subtract_packed`. Called by
    :func:`core.services.tallies.remove_from_tallies` with the accumulator's ``priority``
    after ``count_cross()``."""
    subtract_packed(session, _TABLE, layout_for, sums)

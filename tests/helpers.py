"""Small helpers shared by test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CODES = ["I.1", "I.2", "I.3", "I.4", "II.1", "II.2", "II.3", "II.4", "II.5", "III.1", "III.2",
         "III.3", "III.4", "III.5", "III.6", "III.7", "IV.1", "IV.2", "IV.3", "IV.4", "V.1",
         "V.2", "V.3", "V.4"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def paper_row(office: str, when: str, score: str | list[str]) -> list[str]:
    scores = score if isinstance(score, list) else [score] * len(CODES)
    return [office, when, *scores]


REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=1).ping())
    except redis.RedisError:
        if os.environ.get("CI"):
            raise
        return False


needs_redis = pytest.mark.skipif(not redis_available(), reason="no Redis at " + REDIS_TEST_URL)


def metric_sample(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = ",".join(sorted(line[len(name) + 1:line.index("}")].split(",")))
            if got == want:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def release_all(**options):
    """Release every pending answer now, whatever its day and however few (what
    ``flask responses mix --include-today --min-batch 1`` does). Returns the MixReport."""
    from core.services.mixing import mix

    return mix(include_today=True, min_batch=1, **options)
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_cells_as_excel_may_read_them(text: str) -> list[str]:
    """Every cell of a CSV text as a spreadsheet may split it: on ``,`` (the file's
    separator) and on ``;`` (Excel's list separator in a Vietnamese locale), each with the
    quoting rules of Python's csv reader, and naively (ignoring quotes) on either."""
    import csv
    import io
    import re

    cells: list[str] = []
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells.extend(row)
    cells.extend(re.split(r"[,;\r\n]", text))
    return cells


def assert_csv_safe(text: str) -> None:
    """No cell, however the CSV text is split, starts a formula (a number such as -0.5 is
    data); leading spaces and double quotes are skipped as a lenient reader would."""
    for cell in csv_cells_as_excel_may_read_them(text):
        start = cell.lstrip(' "')
        if start.startswith(FORMULA_CHARS) and not _is_number(start.rstrip('"')):
            raise AssertionError(f"formula cell {cell!r}")


#: the 2021 criterion shares of Hanoi's plan 192/KH-UBND (SIPAS.md section 2), in CODES order
SEED_2021 = [89.23, 89.41, 89.29, 89.18, 89.12, 89.06, 89.00, 88.77, 88.08, 89.12, 88.77,
             88.66, 88.43, 88.49, 88.26, 87.85, 88.95, 89.23, 89.47, 89.18, 82.15, 78.92,
             78.92, 78.92]


def seed_2021_csv(path: Path, office: str, day: str, *, with_v: bool = True) -> Path:
    """A paper file of 10 000 responses whose criterion shares are the seed's 2021 figures
    (share x 100 answers 'satisfied' of 10 000); with ``with_v`` False, dimension V is left
    blank on every response."""
    rows = []
    for i in range(10_000):
        cells = ["5" if i < round(share * 100) else "2" for share in SEED_2021]
        if not with_v:
            cells[20:] = [""] * 4
        rows.append(paper_row(office, day, cells))
    return write_csv(path, ["office_code", "submitted_at", *CODES], rows)

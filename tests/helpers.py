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

"""Prometheus metrics: request latency, submissions, replays, database outages.

Other areas count what they do through :func:`count_submission` and :func:`count_replay`
(never by creating metrics of their own with free-form labels: every label value set here
must come from a small, fixed vocabulary, or the time series multiply without bound).

Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable folder before the app
is imported (``gunicorn.conf.py`` does it): each worker then writes its samples there and
``/metrics`` adds them up across the workers. The endpoint itself is served by
:mod:`core.ops` and is not public by default.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

# Buckets in seconds: a kiosk submission should take tens of milliseconds, a city report
# may take a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_LATENCY = Histogram(
    "sipas_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status code.",
    ["endpoint", "method", "status"], buckets=LATENCY_BUCKETS)

SUBMISSIONS = Counter(
    "sipas_submissions_total",
    "Survey responses received, by channel (kiosk, qr, generic, paper, web) and outcome "
    "(e.g. stored, duplicate, invalid, rate_limited, rejected).",
    ["channel", "status"])

REPLAYS = Counter(
    "sipas_replays_total",
    "Responses delivered late from a device's offline queue, by channel and outcome "
    "(stored, duplicate, rejected).",
    ["channel", "outcome"])

DB_UNAVAILABLE = Counter(
    "sipas_database_unavailable_total",
    "Requests answered 503 because the database could not be reached.")


def count_submission(channel: str, status: str) -> None:
    """Count one submission. ``channel`` and ``status`` must come from fixed vocabularies."""
    SUBMISSIONS.labels(channel=channel, status=status).inc()


def count_replay(channel: str, outcome: str, n: int = 1) -> None:
    """Count ``n`` responses replayed from an offline queue with the given outcome."""
    REPLAYS.labels(channel=channel, outcome=outcome).inc(n)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(endpoint=endpoint, method=method, status=str(status)).observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus text format, summed over every gunicorn worker in
    multi-process mode. Returns ``(body, content_type)``."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

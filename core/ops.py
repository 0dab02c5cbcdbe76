"""Endpoints for the operators' tools, not for people.

- ``GET /healthz``: the process is alive and answers (touches nothing else); for a liveness
  probe or the proxy's health check.
- ``GET /readyz``: the database answers, and Redis too when the rate limits live there;
  503 JSON otherwise, so a load balancer stops sending traffic to this process.
- ``GET /metrics``: Prometheus metrics, only when ``METRICS_ENABLED`` and only to client
  addresses in ``METRICS_ALLOWED`` (loopback by default); anyone else gets a plain 404.
"""

from __future__ import annotations

import ipaddress
import time

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import exc as sa_exc

from core import metrics
from core.extensions import db
from core.ratelimit import limiter

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
        return "ok"
    except sa_exc.SQLAlchemyError as exc:
        try:
            db.session.rollback()
        except sa_exc.SQLAlchemyError:
            db.session.remove()
        current_app.logger.warning("readiness: database unreachable",
                                   extra={"fields": {"error": type(exc).__name__}})
        return "unavailable"


def _check_redis() -> str | None:
    uri: str = current_app.config["RATELIMIT_STORAGE_URI"]
    if not uri.startswith(("redis://", "rediss://", "redis+")):
        return None
    try:
        ok = bool(limiter().storage.check())
    except Exception as exc:  # noqa: BLE001 - any client error means "not ready"
        current_app.logger.warning("readiness: redis unreachable",
                                   extra={"fields": {"error": type(exc).__name__}})
        ok = False
    return "ok" if ok else "unavailable"


@bp.get("/readyz")
def readyz():
    started = time.perf_counter()
    checks = {"database": _check_database()}
    redis_state = _check_redis()
    if redis_state is not None:
        checks["redis"] = redis_state
    ready = all(v == "ok" for v in checks.values())
    body = jsonify(status="ready" if ready else "unavailable", checks=checks,
                   duration_ms=round((time.perf_counter() - started) * 1000, 2))
    if ready:
        return body
    return body, 503, {"Retry-After": str(int(current_app.config["DB_RETRY_AFTER"]))}


def _client_allowed() -> bool:
    cfg = current_app.config
    # Through a proxy that is not trusted (PROXY_FIX=0) every client looks like the proxy's
    # own loopback address: refuse rather than expose the metrics to the internet.
    if not int(cfg["PROXY_FIX"] or 0) and request.headers.get("X-Forwarded-For"):
        return False
    try:
        addr = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(net, strict=False)
               for net in cfg["METRICS_ALLOWED"])


@bp.get("/metrics")
def prometheus_metrics():
    if not current_app.config["METRICS_ENABLED"] or not _client_allowed():
        abort(404)
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)

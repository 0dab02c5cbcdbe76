"""Gunicorn settings for SIPAS: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Everything that differs between machines comes from the environment (see docs/deploy.md):

GUNICORN_BIND        address to listen on (default 127.0.0.1:8000; nginx proxies to it)
WEB_CONCURRENCY      worker processes (default 2 x CPU cores + 1)
GUNICORN_THREADS     threads per worker (default 1 = sync workers; >1 = gthread)
GUNICORN_TIMEOUT     seconds a worker may stay silent before it is killed (default 30)
GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (default: none)
GUNICORN_MAX_REQUESTS  recycle a worker after this many requests (default 2000, 0 = never)
GUNICORN_PRELOAD     1 (default): the master builds the app once and workers are forked from
                     it (a new or recycled worker then starts in milliseconds of CPU instead
                     of half a second); 0: each worker imports and builds the app itself.
                     Preloaded, a HUP re-reads these settings but not the code: deploy new
                     code with a restart (docs/deploy.md)
FORWARDED_ALLOW_IPS  proxies gunicorn itself trusts for X-Forwarded-Proto (default none:
                     the app's PROXY_FIX setting is the one place that trusts a proxy)
PROMETHEUS_MULTIPROC_DIR  folder for the workers' metric files (default: a fresh temporary
                     folder, emptied at start and removed at exit)

At start the app learns the worker count (SIPAS_SERVER_WORKERS, set in on_starting below):
production with rate limits in memory (no Redis) refuses to start with more than one worker.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

from gunicorn import glogging

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# Sync workers are safe behind nginx, which buffers slow clients (slowloris) before a request
# reaches a worker. gunicorn's preload_app stays off because it loads the app before
# on_starting has told it the worker count; on_starting below preloads it instead
# (GUNICORN_PRELOAD), and post_fork gives each worker a database pool of its own.
preload_app = False
PRELOAD = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# The heartbeat file on tmpfs: a worker blocked on a slow disk is not killed for it.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
# Request-line and header limits (gunicorn's defaults, stated): oversized heads get a 400.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# The app writes one JSON access line per request itself; gunicorn logs its own events.
# Should an operator turn gunicorn's access log on too (--access-logfile), its lines go
# through RedactingLogger below: no secret path segment, query string, referrer, client
# address or cookie.
accesslog = None
access_log_format = '%(t)s "%(r)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "sipas"
# gunicorn's runtime control socket has one default path per user, so several instances on
# one machine would fight over it: off unless GUNICORN_CONTROL_SOCKET names a path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True



class RedactingLogger(glogging.Logger):
    """gunicorn's logger, with the access-log atoms that could carry a receipt token, an
    activation code, a ``next=`` link or a person's address redacted (see core.logs)."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201 - gunicorn's
        from core.logs import redact_path

        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(str(atoms.get("U", "")))
        atoms.update({"U": path, "q": "", "f": "-", "a": "-", "h": "-", "{raw_uri}e": "-",
                      "r": f"{atoms.get('m', '-')} {path} {atoms.get('H', '-')}"})
        for key in [k for k in atoms if k.endswith(("}i", "}e"))]:
            atoms[key] = "-"
        return atoms


logger_class = RedactingLogger

_own_metrics_dir = False
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sipas-metrics-")
    _own_metrics_dir = True


def on_starting(server) -> None:
    """Tell the app how many workers serve it (it refuses to count rate limits in memory
    with more than one: core/__init__.py), and start with an empty metrics folder: files of
    a previous run would add old counts."""
    os.environ["SIPAS_SERVER_WORKERS"] = str(server.cfg.workers)
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for item in folder.glob("*.db"):
        item.unlink()
    if PRELOAD:
        # what preload_app does, after the worker count is known: workers fork with the app
        # built (gunicorn's wsgi() keeps the loaded app); a start-up refusal stops the master
        _drop_database_pool(server.app.wsgi(), close=True)


def post_fork(server, worker) -> None:
    """A worker never uses a database connection of the master (none is left open by
    on_starting; this also covers one opened meanwhile)."""
    if PRELOAD:
        _drop_database_pool(server.app.wsgi(), close=False)


def _drop_database_pool(app, close: bool) -> None:
    from core.extensions import db

    if "sqlalchemy" not in getattr(app, "extensions", {}):  # another app (a benchmark's)
        return
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=close)


def child_exit(server, worker) -> None:
    """A worker died or was recycled: let its live gauges go (counters are kept)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
